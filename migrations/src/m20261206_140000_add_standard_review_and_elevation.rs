//! A standard's review date and the standard an elevation produced.
//!
//! `standard.review_on` is when a standard is due for review: five years
//! after it comes into force unless set, backfilled here from
//! `effective_on`. `standard.elevated_from` names the local standard that an
//! accepted elevation raised it from. An elevation proposal gains `number`
//! (its place among its standard's proposals; with the standard's code it
//! names the proposal alike on every node, where `id` is only this node's),
//! `elevated_code` (the standard its acceptance created) and `keep_local`
//! (whether the local standard stays in force beside it).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::builders::{add_columns, drop_columns, drop_index, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

const KEY: &str = "ux_elevation_proposal_standard_number";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            Standard::Table,
            [
                ColumnDef::new(Standard::ReviewOn).date().null().to_owned(),
                ColumnDef::new(Standard::ElevatedFrom)
                    .string()
                    .null()
                    .to_owned(),
            ],
        )
        .await?;
        add_columns(
            manager,
            ElevationProposal::Table,
            [
                ColumnDef::new(ElevationProposal::Number)
                    .integer()
                    .not_null()
                    .default(1)
                    .to_owned(),
                ColumnDef::new(ElevationProposal::ElevatedCode)
                    .string()
                    .null()
                    .to_owned(),
                ColumnDef::new(ElevationProposal::KeepLocal)
                    .boolean()
                    .not_null()
                    .default(false)
                    .to_owned(),
            ],
        )
        .await?;
        let db = manager.get_connection();
        // Five years on, as the domain's `default_review_on` counts them: a
        // 29 February comes due on 28 February (PostgreSQL's interval does
        // that; SQLite's modifier would roll over to 1 March).
        let review = match db.get_database_backend() {
            DbBackend::Postgres => {
                "UPDATE standard SET review_on = (effective_on + INTERVAL '5 years')::date \
                 WHERE effective_on IS NOT NULL"
            }
            _ => {
                "UPDATE standard SET review_on = CASE \
                 WHEN strftime('%m-%d', effective_on) = '02-29' \
                 THEN date(effective_on, '-1 day', '+5 years') \
                 ELSE date(effective_on, '+5 years') END \
                 WHERE effective_on IS NOT NULL"
            }
        };
        db.execute_unprepared(review).await?;
        db.execute_unprepared(
            "UPDATE elevation_proposal SET number = (SELECT COUNT(*) FROM elevation_proposal e \
             WHERE e.standard_code = elevation_proposal.standard_code \
             AND e.id <= elevation_proposal.id)",
        )
        .await?;
        manager
            .create_index(
                index(
                    KEY,
                    ElevationProposal::Table,
                    [ElevationProposal::StandardCode, ElevationProposal::Number],
                )
                .unique()
                .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_index(manager, KEY, ElevationProposal::Table).await?;
        drop_columns(
            manager,
            ElevationProposal::Table,
            [
                ElevationProposal::KeepLocal,
                ElevationProposal::ElevatedCode,
                ElevationProposal::Number,
            ],
        )
        .await?;
        drop_columns(
            manager,
            Standard::Table,
            [Standard::ElevatedFrom, Standard::ReviewOn],
        )
        .await
    }
}

#[derive(DeriveIden)]
enum Standard {
    Table,
    ReviewOn,
    ElevatedFrom,
}

#[derive(DeriveIden)]
enum ElevationProposal {
    Table,
    StandardCode,
    Number,
    ElevatedCode,
    KeepLocal,
}
