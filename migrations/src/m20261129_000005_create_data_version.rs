//! The data version: one counter that every write transaction raises just
//! before it commits, so a reader can tell with one primary-key lookup
//! whether anything changed since it last looked (the response cache does).

use sea_orm_migration::{prelude::*, schema::*};

use crate::builders::drop_tables;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let data_version = Table::create()
            .table(DataVersion::Table)
            .col(integer(DataVersion::Id).primary_key())
            .col(big_integer(DataVersion::Version))
            .to_owned();
        manager.create_table(data_version).await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(DataVersion::Table)
                    .columns([DataVersion::Id, DataVersion::Version])
                    .values_panic([1.into(), 0.into()])
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, [DataVersion::Table]).await
    }
}

#[derive(DeriveIden)]
enum DataVersion {
    Table,
    Id,
    Version,
}
