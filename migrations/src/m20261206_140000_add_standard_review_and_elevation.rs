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

#[derive(DeriveMigrationName)]
pub struct Migration;

const KEY: &str = "ux_elevation_proposal_standard_number";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        for column in [
            ColumnDef::new(Standard::ReviewOn).date().null().to_owned(),
            ColumnDef::new(Standard::ElevatedFrom)
                .string()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Standard::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for column in [
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
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ElevationProposal::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
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
                Index::create()
                    .name(KEY)
                    .table(ElevationProposal::Table)
                    .col(ElevationProposal::StandardCode)
                    .col(ElevationProposal::Number)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(KEY)
                    .table(ElevationProposal::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            ElevationProposal::KeepLocal,
            ElevationProposal::ElevatedCode,
            ElevationProposal::Number,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ElevationProposal::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for column in [Standard::ElevatedFrom, Standard::ReviewOn] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Standard::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
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
