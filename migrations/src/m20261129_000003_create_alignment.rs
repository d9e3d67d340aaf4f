//! Baselines on national items, zones' collaborative standards with their
//! members' adoptions, and elevation proposals.

use sea_orm_migration::{prelude::*, schema::*};

use crate::builders::{TableParts, add_columns, drop_columns, drop_tables, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            NationalItem::Table,
            [
                integer_null(NationalItem::MaxTimeLimitDays),
                big_integer_null(NationalItem::MaxFeeFen),
                json_binary_null(NationalItem::RequiredChannels),
            ],
        )
        .await?;

        let collaborative_target = Table::create()
            .table(CollaborativeTarget::Table)
            .col(string_len(CollaborativeTarget::StandardCode, 64).primary_key())
            .col(string_len(CollaborativeTarget::ZoneCode, 8))
            .col(string_len(CollaborativeTarget::Status, 16))
            .col(integer_null(CollaborativeTarget::MaxTimeLimitDays))
            .col(json_binary_null(CollaborativeTarget::Materials))
            .col(json_binary_null(CollaborativeTarget::RequiredChannels))
            .owned_columns()
            .references(
                CollaborativeTarget::StandardCode,
                (Standard::Table, Standard::Code),
            )
            .references(CollaborativeTarget::ZoneCode, (Zone::Table, Zone::Code))
            .to_owned();
        manager.create_table(collaborative_target).await?;
        manager
            .create_index(index(
                "ix_collaborative_target_zone",
                CollaborativeTarget::Table,
                [CollaborativeTarget::ZoneCode],
            ))
            .await?;

        let adoption = Table::create()
            .table(Adoption::Table)
            .col(string_len(Adoption::StandardCode, 64))
            .col(string_len(Adoption::RegionCode, 6))
            .col(string_len(Adoption::Decision, 16))
            .col(text_null(Adoption::Reason))
            .col(string_null(Adoption::DecidedBy))
            .col(timestamp_with_time_zone_null(Adoption::DecidedAt))
            .owned_columns()
            .primary_key_of([Adoption::StandardCode, Adoption::RegionCode])
            .references(
                Adoption::StandardCode,
                (
                    CollaborativeTarget::Table,
                    CollaborativeTarget::StandardCode,
                ),
            )
            .references(Adoption::RegionCode, (Region::Table, Region::Code))
            .to_owned();
        manager.create_table(adoption).await?;

        let elevation_proposal = Table::create()
            .table(ElevationProposal::Table)
            .col(big_pk_auto(ElevationProposal::Id))
            .col(string_len(ElevationProposal::StandardCode, 64))
            .col(string_len(ElevationProposal::TargetLevel, 16))
            .col(text(ElevationProposal::Rationale))
            .col(string_len(ElevationProposal::Status, 16))
            .col(string(ElevationProposal::ProposedBy))
            .col(string_null(ElevationProposal::DecidedBy))
            .col(timestamp_with_time_zone_null(ElevationProposal::DecidedAt))
            .owned_columns()
            .references(
                ElevationProposal::StandardCode,
                (Standard::Table, Standard::Code),
            )
            .to_owned();
        manager.create_table(elevation_proposal).await?;
        manager
            .create_index(index(
                "ix_elevation_proposal_standard",
                ElevationProposal::Table,
                [ElevationProposal::StandardCode],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [
                ElevationProposal::Table.into_iden(),
                Adoption::Table.into_iden(),
                CollaborativeTarget::Table.into_iden(),
            ],
        )
        .await?;
        drop_columns(
            manager,
            NationalItem::Table,
            [
                NationalItem::RequiredChannels,
                NationalItem::MaxFeeFen,
                NationalItem::MaxTimeLimitDays,
            ],
        )
        .await
    }
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
