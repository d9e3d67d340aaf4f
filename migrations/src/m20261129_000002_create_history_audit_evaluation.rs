//! Revision history of standards and guides, the audit log, and evaluations.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RowRevision::Table)
                    .col(string_len(RowRevision::Kind, 32))
                    .col(string_len(RowRevision::RowKey, 128))
                    .col(integer(RowRevision::Revision))
                    .col(json_binary(RowRevision::Snapshot))
                    .col(string_null(RowRevision::ChangedBy))
                    .col(timestamp_with_time_zone(RowRevision::ChangedAt))
                    .primary_key(
                        Index::create()
                            .col(RowRevision::Kind)
                            .col(RowRevision::RowKey)
                            .col(RowRevision::Revision),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditEntry::Table)
                    .col(big_pk_auto(AuditEntry::Id))
                    .col(timestamp_with_time_zone(AuditEntry::At))
                    .col(string(AuditEntry::Subject))
                    .col(string_len(AuditEntry::Role, 32))
                    .col(string_len_null(AuditEntry::ActorRegion, 6))
                    .col(string_len_null(AuditEntry::ActorZone, 8))
                    .col(string_len(AuditEntry::Action, 48))
                    .col(string_len(AuditEntry::TargetKind, 32))
                    .col(string_len(AuditEntry::TargetKey, 128))
                    .col(string_len(AuditEntry::TargetRegion, 6))
                    .col(json_binary_null(AuditEntry::Before))
                    .col(json_binary_null(AuditEntry::After))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("ix_audit_entry_target_region", "target_region"),
            ("ix_audit_entry_target_key", "target_key"),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AuditEntry::Table)
                        .col(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Evaluation::Table)
                    .col(string_len(Evaluation::RegionCode, 6))
                    .col(string_len(Evaluation::MatterCode, 40))
                    .col(string_len(Evaluation::Period, 16))
                    .col(double(Evaluation::Satisfaction))
                    .col(big_integer(Evaluation::CasesHandled))
                    .col(double(Evaluation::AverageDays))
                    .col(string_len(Evaluation::Origin, 6))
                    .col(integer(Evaluation::Revision).default(1))
                    .col(boolean(Evaluation::Illustrative).default(false))
                    .col(timestamp_with_time_zone(Evaluation::CreatedAt))
                    .col(timestamp_with_time_zone(Evaluation::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(Evaluation::RegionCode)
                            .col(Evaluation::MatterCode)
                            .col(Evaluation::Period),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Evaluation::Table, Evaluation::RegionCode)
                            .to(Region::Table, Region::Code),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Evaluation::Table, Evaluation::MatterCode)
                            .to(ServiceMatter::Table, ServiceMatter::Code),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_evaluation_matter_period")
                    .table(Evaluation::Table)
                    .col(Evaluation::MatterCode)
                    .col(Evaluation::Period)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Evaluation::Table.into_iden(),
            AuditEntry::Table.into_iden(),
            RowRevision::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum RowRevision {
    Table,
    Kind,
    RowKey,
    Revision,
    Snapshot,
    ChangedBy,
    ChangedAt,
}

#[derive(DeriveIden)]
enum AuditEntry {
    Table,
    Id,
    At,
    Subject,
    Role,
    ActorRegion,
    ActorZone,
    Action,
    TargetKind,
    TargetKey,
    TargetRegion,
    Before,
    After,
}

#[derive(DeriveIden)]
enum Evaluation {
    Table,
    RegionCode,
    MatterCode,
    Period,
    Satisfaction,
    CasesHandled,
    AverageDays,
    Origin,
    Revision,
    Illustrative,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Region {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum ServiceMatter {
    Table,
    Code,
}
