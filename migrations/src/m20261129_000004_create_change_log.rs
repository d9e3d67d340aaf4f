//! The change log that the sync feed serves, and each peer's sync checkpoint.

use sea_orm_migration::{prelude::*, schema::*};

use crate::builders::drop_tables;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let change_log = Table::create()
            .table(ChangeLog::Table)
            .col(big_pk_auto(ChangeLog::Seq))
            .col(string_len(ChangeLog::Kind, 32))
            .col(string_len(ChangeLog::RowKey, 128))
            .col(string_len(ChangeLog::Origin, 6))
            .col(integer(ChangeLog::Revision))
            .col(json_binary_null(ChangeLog::Record))
            .col(timestamp_with_time_zone(ChangeLog::CommittedAt))
            .to_owned();
        manager.create_table(change_log).await?;
        let sync_peer = Table::create()
            .table(SyncPeer::Table)
            .col(string(SyncPeer::Peer).primary_key())
            .col(string_null(SyncPeer::Cursor))
            .col(big_integer(SyncPeer::Applied).default(0))
            .col(big_integer_null(SyncPeer::Lag))
            .col(timestamp_with_time_zone_null(SyncPeer::LastSuccess))
            .col(text_null(SyncPeer::LastError))
            .col(timestamp_with_time_zone(SyncPeer::UpdatedAt))
            .to_owned();
        manager.create_table(sync_peer).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [SyncPeer::Table.into_iden(), ChangeLog::Table.into_iden()],
        )
        .await
    }
}

#[derive(DeriveIden)]
enum ChangeLog {
    Table,
    Seq,
    Kind,
    RowKey,
    Origin,
    Revision,
    Record,
    CommittedAt,
}

#[derive(DeriveIden)]
enum SyncPeer {
    Table,
    Peer,
    Cursor,
    Applied,
    Lag,
    LastSuccess,
    LastError,
    UpdatedAt,
}
