//! Baseline exemptions: a NATIONAL_ADMIN's dated, reasoned leave for one
//! region to publish one matter's guide below its national item's baseline.
//! Keyed by region, matter and first day, so that every node names an
//! exemption alike; a revoked one stays, marked, so that the revocation
//! replicates.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BaselineExemption::Table)
                    .col(string_len(BaselineExemption::RegionCode, 6))
                    .col(string_len(BaselineExemption::MatterCode, 40))
                    .col(date(BaselineExemption::ValidFrom))
                    .col(date(BaselineExemption::ValidUntil))
                    .col(text(BaselineExemption::Rationale))
                    .col(text(BaselineExemption::GrantedBy))
                    .col(text_null(BaselineExemption::RevokedBy))
                    .col(timestamp_with_time_zone_null(BaselineExemption::RevokedAt))
                    .col(string_len(BaselineExemption::Origin, 6))
                    .col(integer(BaselineExemption::Revision))
                    .col(timestamp_with_time_zone(BaselineExemption::CreatedAt))
                    .col(timestamp_with_time_zone(BaselineExemption::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(BaselineExemption::RegionCode)
                            .col(BaselineExemption::MatterCode)
                            .col(BaselineExemption::ValidFrom),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BaselineExemption::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum BaselineExemption {
    Table,
    RegionCode,
    MatterCode,
    ValidFrom,
    ValidUntil,
    Rationale,
    GrantedBy,
    RevokedBy,
    RevokedAt,
    Origin,
    Revision,
    CreatedAt,
    UpdatedAt,
}
