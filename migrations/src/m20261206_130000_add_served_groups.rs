//! Served groups (服务对象) as a structured list: the codes of the groups a
//! national item serves, and a matter's own list where it differs from its
//! item's. Both are JSON lists of codes from the domain's catalogue of
//! groups; NULL means none listed (an item) or "as its item" (a matter).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(NationalItem::Table)
                    .add_column(json_binary_null(NationalItem::ServedGroups))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ServiceMatter::Table)
                    .add_column(json_binary_null(ServiceMatter::ServedGroups))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ServiceMatter::Table)
                    .drop_column(ServiceMatter::ServedGroups)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(NationalItem::Table)
                    .drop_column(NationalItem::ServedGroups)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum NationalItem {
    Table,
    ServedGroups,
}

#[derive(DeriveIden)]
enum ServiceMatter {
    Table,
    ServedGroups,
}
