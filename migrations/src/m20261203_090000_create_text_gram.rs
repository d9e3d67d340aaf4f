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
            .primary_key(
                Index::create()
                    .col(TextGram::Kind)
                    .col(TextGram::Gram)
                    .col(TextGram::Key),
            )
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
            .create_index(
                Index::create()
                    .name("ix_text_gram_key")
                    .table(TextGram::Table)
                    .col(TextGram::Kind)
                    .col(TextGram::Key)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TextGram::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum TextGram {
    Table,
    Kind,
    Gram,
    Key,
}
