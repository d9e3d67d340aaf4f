//! On PostgreSQL, `text_gram.gram` is compared byte by byte (`COLLATE
//! "C"`). Every insert into the primary key (kind, gram, key) compares
//! grams, and under the database's locale each comparison is a `strcoll`:
//! most of the time of a bulk load's grams. Grams are only ever looked up
//! by equality, which a deterministic locale decides byte by byte too, so
//! no search finds anything else. The key keeps the database's collation:
//! searches compare it with the searched table's code, whose index only
//! serves that collation. SQLite compares text byte by byte already.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        collate_gram(manager, "\"C\"").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        collate_gram(manager, "\"default\"").await
    }
}

/// Gives `text_gram.gram` the collation `collation`, on PostgreSQL only.
async fn collate_gram(manager: &SchemaManager<'_>, collation: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    manager
        .get_connection()
        .execute_unprepared(&format!(
            "ALTER TABLE text_gram ALTER COLUMN gram TYPE text COLLATE {collation}"
        ))
        .await?;
    Ok(())
}
