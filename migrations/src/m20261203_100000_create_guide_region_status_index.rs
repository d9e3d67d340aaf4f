//! An index of guides by region, status and matter. A region's page counts
//! and lists its published guides; through the primary key alone that count
//! visited each of the region's 500 guide rows (0.9 ms on SQLite at bench
//! scale 1), where this index answers it by itself (0.03 ms), and it gives
//! the page its order too.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "ix_service_guide_region_status";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NAME)
                    .table(ServiceGuide::Table)
                    .col(ServiceGuide::RegionCode)
                    .col(ServiceGuide::Status)
                    .col(ServiceGuide::MatterCode)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(NAME)
                    .table(ServiceGuide::Table)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ServiceGuide {
    Table,
    RegionCode,
    Status,
    MatterCode,
}
