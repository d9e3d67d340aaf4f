//! Served groups (服务对象) as a structured list: the codes of the groups a
//! national item serves, and a matter's own list where it differs from its
//! item's. Both are JSON lists of codes from the domain's catalogue of
//! groups; NULL means none listed (an item) or "as its item" (a matter).

use sea_orm_migration::{prelude::*, schema::*};

use crate::builders::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let item_groups = json_binary_null(NationalItem::ServedGroups);
        add_columns(manager, NationalItem::Table, [item_groups]).await?;
        let matter_groups = json_binary_null(ServiceMatter::ServedGroups);
        add_columns(manager, ServiceMatter::Table, [matter_groups]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(manager, ServiceMatter::Table, [ServiceMatter::ServedGroups]).await?;
        drop_columns(manager, NationalItem::Table, [NationalItem::ServedGroups]).await
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
