//! Baseline exemptions: a NATIONAL_ADMIN's dated, reasoned leave for one
//! region to publish one matter's guide below its national item's baseline.
//! Keyed by region, matter and first day, so that every node names an
//! exemption alike; a revoked one stays, marked, so that the revocation
//! replicates.

use sea_orm_migration::{prelude::*, schema::*};

use crate::builders::{TableParts, drop_tables};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let baseline_exemption = Table::create()
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
            .primary_key_of([
                BaselineExemption::RegionCode,
                BaselineExemption::MatterCode,
                BaselineExemption::ValidFrom,
            ])
            .to_owned();
        manager.create_table(baseline_exemption).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, [BaselineExemption::Table]).await
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
