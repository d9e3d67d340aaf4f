//! Sync conflicts: a version of a row that a peer wrote and that lost to
//! the version the row's origin holds. The losing version is kept here,
//! beside the winner it lost to, until an administrator settles it; a
//! settled conflict stays as a tombstone so that a relay bringing the same
//! verdict again does not raise it again.

use sea_orm_migration::{prelude::*, schema::*};

use crate::builders::{TableParts, drop_index, drop_tables, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

const ECHO_INDEX: &str = "change_log_kind_row_key_revision";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sync_conflict = Table::create()
            .table(SyncConflict::Table)
            .col(string_len(SyncConflict::Kind, 32))
            .col(string_len(SyncConflict::RowKey, 128))
            .col(integer(SyncConflict::LoserRevision))
            .col(string_len(SyncConflict::LoserHash, 64))
            .col(string_len(SyncConflict::Origin, 6))
            .col(json_binary_null(SyncConflict::LoserRecord))
            .col(integer(SyncConflict::WinnerRevision))
            .col(string_len(SyncConflict::WinnerHash, 64))
            .col(json_binary_null(SyncConflict::WinnerRecord))
            .col(timestamp_with_time_zone(SyncConflict::DetectedAt))
            .col(string_len_null(SyncConflict::Resolution, 16))
            .col(text_null(SyncConflict::ResolvedBy))
            .col(timestamp_with_time_zone_null(SyncConflict::ResolvedAt))
            .primary_key_of([
                SyncConflict::Kind,
                SyncConflict::RowKey,
                SyncConflict::LoserRevision,
                SyncConflict::LoserHash,
            ])
            .to_owned();
        manager.create_table(sync_conflict).await?;
        // Echo checks look up this node's own logged versions of a row.
        manager
            .create_index(index(
                ECHO_INDEX,
                ChangeLog::Table,
                [ChangeLog::Kind, ChangeLog::RowKey, ChangeLog::Revision],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_index(manager, ECHO_INDEX, ChangeLog::Table).await?;
        drop_tables(manager, [SyncConflict::Table]).await
    }
}

#[derive(DeriveIden)]
enum SyncConflict {
    Table,
    Kind,
    RowKey,
    LoserRevision,
    LoserHash,
    Origin,
    LoserRecord,
    WinnerRevision,
    WinnerHash,
    WinnerRecord,
    DetectedAt,
    Resolution,
    ResolvedBy,
    ResolvedAt,
}

#[derive(DeriveIden)]
enum ChangeLog {
    Table,
    Kind,
    RowKey,
    Revision,
}
