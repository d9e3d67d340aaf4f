//! Operating procedures get a life cycle like guides: DRAFT or PUBLISHED.
//! Every procedure saved before this was public, so the existing ones are
//! PUBLISHED.

use sea_orm_migration::{prelude::*, schema::*};

use crate::builders::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let status = string_len(OperatingProcedure::Status, 16)
            .default("PUBLISHED")
            .to_owned();
        add_columns(manager, OperatingProcedure::Table, [status]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(
            manager,
            OperatingProcedure::Table,
            [OperatingProcedure::Status],
        )
        .await
    }
}

#[derive(DeriveIden)]
enum OperatingProcedure {
    Table,
    Status,
}
