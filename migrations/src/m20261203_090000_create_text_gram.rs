//! The text search index: per searchable row (a standard, a service matter),
//! every distinct character and every distinct pair of adjacent characters
//! of its lower-cased searchable columns. A search looks its term's grams up
//! by the primary key (kind, gram, key), a range scan, instead of reading
//! every title.
//!
//! The table starts empty; the persistence crate fills it for rows already
//! stored when it opens a database whose index is empty, because only it
//! knows which columns are searched and how their grams are cut.

use sea_orm_migration::{prelude::*, schema::*};

use crate::builders::{TableParts, drop_tables, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let table = Table::create()
            .table(TextGram::Table)
            .col(string_len(TextGram::Kind, 16))
            .col(text(TextGram::Gram))
            .col(string(TextGram::Key))
            .primary_key_of([TextGram::Kind, TextGram::Gram, TextGram::Key])
            .to_owned();
        let mut create = backend.build(&table);
        if backend == sea_orm::DbBackend::Sqlite {
            // Clustered by the primary key: a gram's keys are one range of
            // the table itself, and no second copy of every row is kept.
            create.sql.push_str(" WITHOUT ROWID");
        }
        manager.get_connection().execute_raw(create).await?;
        // Re-indexing a row deletes its grams by key.
        manager
            .create_index(index(
                "ix_text_gram_key",
                TextGram::Table,
                [TextGram::Kind, TextGram::Key],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, [TextGram::Table]).await
    }
}

#[derive(DeriveIden)]
enum TextGram {
    Table,
    Kind,
    Gram,
    Key,
}
