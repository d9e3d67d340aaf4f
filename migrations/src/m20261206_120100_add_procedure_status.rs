//! Operating procedures get a life cycle like guides: DRAFT or PUBLISHED.
//! Every procedure saved before this was public, so the existing ones are
//! PUBLISHED.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(OperatingProcedure::Table)
                    .add_column(string_len(OperatingProcedure::Status, 16).default("PUBLISHED"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(OperatingProcedure::Table)
                    .drop_column(OperatingProcedure::Status)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum OperatingProcedure {
    Table,
    Status,
}
