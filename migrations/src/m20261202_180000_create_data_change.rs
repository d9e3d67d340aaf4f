//! What each commit touched. Every write transaction adds one row beside the
//! raised data version, naming the kinds of rows it changed and the regions
//! they belong to, so that another process can evict only the cached answers
//! that read something the commit changed. Old rows are pruned as new ones
//! arrive; a reader that finds a gap treats it as "everything changed".

use sea_orm_migration::{prelude::*, schema::*};

use crate::builders::drop_tables;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let data_change = Table::create()
            .table(DataChange::Table)
            .col(big_integer(DataChange::Version).primary_key())
            .col(text(DataChange::Touched))
            .to_owned();
        manager.create_table(data_change).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, [DataChange::Table]).await
    }
}

#[derive(DeriveIden)]
enum DataChange {
    Table,
    Version,
    Touched,
}
