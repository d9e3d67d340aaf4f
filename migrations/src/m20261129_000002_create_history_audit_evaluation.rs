//! Revision history of standards and guides, the audit log, and evaluations.

use sea_orm_migration::{prelude::*, schema::*};

use crate::builders::{TableParts, drop_tables, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let row_revision = Table::create()
            .table(RowRevision::Table)
            .col(string_len(RowRevision::Kind, 32))
            .col(string_len(RowRevision::RowKey, 128))
            .col(integer(RowRevision::Revision))
            .col(json_binary(RowRevision::Snapshot))
            .col(string_null(RowRevision::ChangedBy))
            .col(timestamp_with_time_zone(RowRevision::ChangedAt))
            .primary_key_of([
                RowRevision::Kind,
                RowRevision::RowKey,
                RowRevision::Revision,
            ])
            .to_owned();
        manager.create_table(row_revision).await?;
        let audit_entry = Table::create()
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
            .to_owned();
        manager.create_table(audit_entry).await?;
        for (name, column) in [
            ("ix_audit_entry_target_region", AuditEntry::TargetRegion),
            ("ix_audit_entry_target_key", AuditEntry::TargetKey),
        ] {
            manager
                .create_index(index(name, AuditEntry::Table, [column]))
                .await?;
        }
        let evaluation = Table::create()
            .table(Evaluation::Table)
            .col(string_len(Evaluation::RegionCode, 6))
            .col(string_len(Evaluation::MatterCode, 40))
            .col(string_len(Evaluation::Period, 16))
            .col(double(Evaluation::Satisfaction))
            .col(big_integer(Evaluation::CasesHandled))
            .col(double(Evaluation::AverageDays))
            .owned_columns()
            .primary_key_of([
                Evaluation::RegionCode,
                Evaluation::MatterCode,
                Evaluation::Period,
            ])
            .references(Evaluation::RegionCode, (Region::Table, Region::Code))
            .references(
                Evaluation::MatterCode,
                (ServiceMatter::Table, ServiceMatter::Code),
            )
            .to_owned();
        manager.create_table(evaluation).await?;
        manager
            .create_index(index(
                "ix_evaluation_matter_period",
                Evaluation::Table,
                [Evaluation::MatterCode, Evaluation::Period],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [
                Evaluation::Table.into_iden(),
                AuditEntry::Table.into_iden(),
                RowRevision::Table.into_iden(),
            ],
        )
        .await
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
