//! Baselines on national items, zones' collaborative standards with their
//! members' adoptions, and elevation proposals.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn owned(table: &mut TableCreateStatement) -> &mut TableCreateStatement {
    table
        .col(string_len(Owned::Origin, 6))
        .col(integer(Owned::Revision).default(1))
        .col(boolean(Owned::Illustrative).default(false))
        .col(timestamp_with_time_zone(Owned::CreatedAt))
        .col(timestamp_with_time_zone(Owned::UpdatedAt))
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for column in [
            integer_null(NationalItem::MaxTimeLimitDays),
            big_integer_null(NationalItem::MaxFeeFen),
            json_binary_null(NationalItem::RequiredChannels),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(NationalItem::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                owned(
                    Table::create()
                        .table(CollaborativeTarget::Table)
                        .col(string_len(CollaborativeTarget::StandardCode, 64).primary_key())
                        .col(string_len(CollaborativeTarget::ZoneCode, 8))
                        .col(string_len(CollaborativeTarget::Status, 16))
                        .col(integer_null(CollaborativeTarget::MaxTimeLimitDays))
                        .col(json_binary_null(CollaborativeTarget::Materials))
                        .col(json_binary_null(CollaborativeTarget::RequiredChannels))
                        .foreign_key(
                            ForeignKey::create()
                                .from(
                                    CollaborativeTarget::Table,
                                    CollaborativeTarget::StandardCode,
                                )
                                .to(Standard::Table, Standard::Code),
                        )
                        .foreign_key(
                            ForeignKey::create()
                                .from(CollaborativeTarget::Table, CollaborativeTarget::ZoneCode)
                                .to(Zone::Table, Zone::Code),
                        ),
                )
                .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_collaborative_target_zone")
                    .table(CollaborativeTarget::Table)
                    .col(CollaborativeTarget::ZoneCode)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                owned(
                    Table::create()
                        .table(Adoption::Table)
                        .col(string_len(Adoption::StandardCode, 64))
                        .col(string_len(Adoption::RegionCode, 6))
                        .col(string_len(Adoption::Decision, 16))
                        .col(text_null(Adoption::Reason))
                        .col(string_null(Adoption::DecidedBy))
                        .col(timestamp_with_time_zone_null(Adoption::DecidedAt))
                        .primary_key(
                            Index::create()
                                .col(Adoption::StandardCode)
                                .col(Adoption::RegionCode),
                        )
                        .foreign_key(
                            ForeignKey::create()
                                .from(Adoption::Table, Adoption::StandardCode)
                                .to(
                                    CollaborativeTarget::Table,
                                    CollaborativeTarget::StandardCode,
                                ),
                        )
                        .foreign_key(
                            ForeignKey::create()
                                .from(Adoption::Table, Adoption::RegionCode)
                                .to(Region::Table, Region::Code),
                        ),
                )
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                owned(
                    Table::create()
                        .table(ElevationProposal::Table)
                        .col(big_pk_auto(ElevationProposal::Id))
                        .col(string_len(ElevationProposal::StandardCode, 64))
                        .col(string_len(ElevationProposal::TargetLevel, 16))
                        .col(text(ElevationProposal::Rationale))
                        .col(string_len(ElevationProposal::Status, 16))
                        .col(string(ElevationProposal::ProposedBy))
                        .col(string_null(ElevationProposal::DecidedBy))
                        .col(timestamp_with_time_zone_null(ElevationProposal::DecidedAt))
                        .foreign_key(
                            ForeignKey::create()
                                .from(ElevationProposal::Table, ElevationProposal::StandardCode)
                                .to(Standard::Table, Standard::Code),
                        ),
                )
                .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_elevation_proposal_standard")
                    .table(ElevationProposal::Table)
                    .col(ElevationProposal::StandardCode)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ElevationProposal::Table.into_iden(),
            Adoption::Table.into_iden(),
            CollaborativeTarget::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for column in [
            NationalItem::RequiredChannels,
            NationalItem::MaxFeeFen,
            NationalItem::MaxTimeLimitDays,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(NationalItem::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Owned {
    Origin,
    Revision,
    Illustrative,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum NationalItem {
    Table,
    MaxTimeLimitDays,
    MaxFeeFen,
    RequiredChannels,
}

#[derive(DeriveIden)]
enum CollaborativeTarget {
    Table,
    StandardCode,
    ZoneCode,
    Status,
    MaxTimeLimitDays,
    Materials,
    RequiredChannels,
}

#[derive(DeriveIden)]
enum Adoption {
    Table,
    StandardCode,
    RegionCode,
    Decision,
    Reason,
    DecidedBy,
    DecidedAt,
}

#[derive(DeriveIden)]
enum ElevationProposal {
    Table,
    Id,
    StandardCode,
    TargetLevel,
    Rationale,
    Status,
    ProposedBy,
    DecidedBy,
    DecidedAt,
}

#[derive(DeriveIden)]
enum Standard {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum Zone {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum Region {
    Table,
    Code,
}
