//! Pieces of schema that many migrations build alike.
//!
//! Migrations are history: a database migrated last year must match one
//! migrated today, so what a helper here builds must never change. A new
//! need gets a new helper.

use sea_orm_migration::{prelude::*, schema::*};

/// Parts of a table definition that several tables declare alike.
pub(crate) trait TableParts {
    /// The columns every owned row carries: who may change it, its revision,
    /// whether it is illustrative rather than official, and when it was made
    /// and changed.
    fn owned_columns(&mut self) -> &mut Self;

    /// Makes `columns`, in this order, the primary key.
    fn primary_key_of<C: IntoIndexColumn>(
        &mut self,
        columns: impl IntoIterator<Item = C>,
    ) -> &mut Self;

    /// A foreign key from `column` of the table being created to `to`, with
    /// the database's default actions (NO ACTION).
    fn references(
        &mut self,
        column: impl IntoIden,
        to: (impl IntoIden, impl IntoIden),
    ) -> &mut Self;

    /// A foreign key from `column` of the table being created to `to` that
    /// forbids deleting or re-keying the row it points at (RESTRICT).
    fn references_restrict(
        &mut self,
        column: impl IntoIden,
        to: (impl IntoIden, impl IntoIden),
    ) -> &mut Self;
}

impl TableParts for TableCreateStatement {
    fn owned_columns(&mut self) -> &mut Self {
        self.col(string_len(Owned::Origin, 6))
            .col(integer(Owned::Revision).default(1))
            .col(boolean(Owned::Illustrative).default(false))
            .col(timestamp_with_time_zone(Owned::CreatedAt))
            .col(timestamp_with_time_zone(Owned::UpdatedAt))
    }

    fn primary_key_of<C: IntoIndexColumn>(
        &mut self,
        columns: impl IntoIterator<Item = C>,
    ) -> &mut Self {
        let mut key = Index::create();
        for column in columns {
            key.col(column);
        }
        self.primary_key(&mut key)
    }

    fn references(
        &mut self,
        column: impl IntoIden,
        to: (impl IntoIden, impl IntoIden),
    ) -> &mut Self {
        self.foreign_key(ForeignKey::create().from_col(column).to(to.0, to.1))
    }

    fn references_restrict(
        &mut self,
        column: impl IntoIden,
        to: (impl IntoIden, impl IntoIden),
    ) -> &mut Self {
        self.foreign_key(
            ForeignKey::create()
                .from_col(column)
                .to(to.0, to.1)
                .on_delete(ForeignKeyAction::Restrict)
                .on_update(ForeignKeyAction::Restrict),
        )
    }
}

/// An index named `name` on `columns` of `table`, in this order.
pub(crate) fn index<C: IntoIndexColumn>(
    name: &str,
    table: impl IntoIden,
    columns: impl IntoIterator<Item = C>,
) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(column);
    }
    index
}

/// Drops the index `name` of `table`.
pub(crate) async fn drop_index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
) -> Result<(), DbErr> {
    manager
        .drop_index(Index::drop().name(name).table(table).to_owned())
        .await
}

/// Drops `tables`, in this order.
pub(crate) async fn drop_tables(
    manager: &SchemaManager<'_>,
    tables: impl IntoIterator<Item = impl IntoIden>,
) -> Result<(), DbErr> {
    for table in tables {
        manager
            .drop_table(Table::drop().table(table).to_owned())
            .await?;
    }
    Ok(())
}

/// Adds `columns` to `table`, one statement each: SQLite alters one column
/// per ALTER TABLE.
pub(crate) async fn add_columns(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    columns: impl IntoIterator<Item = impl IntoColumnDef>,
) -> Result<(), DbErr> {
    alter_each(manager, table, columns, |alter, column| {
        alter.add_column(column)
    })
    .await
}

/// Drops `columns` from `table`, one statement each, as [`add_columns`]
/// added them.
pub(crate) async fn drop_columns(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    columns: impl IntoIterator<Item = impl IntoIden>,
) -> Result<(), DbErr> {
    alter_each(manager, table, columns, |alter, column| {
        alter.drop_column(column)
    })
    .await
}

/// Alters `table` once for each of `items`, as `change` says.
async fn alter_each<T>(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    items: impl IntoIterator<Item = T>,
    change: impl Fn(&mut TableAlterStatement, T) -> &mut TableAlterStatement,
) -> Result<(), DbErr> {
    let table = table.into_iden();
    for item in items {
        let mut alter = Table::alter();
        change(alter.table(table.clone()), item);
        manager.alter_table(alter).await?;
    }
    Ok(())
}

#[derive(DeriveIden)]
enum Owned {
    Origin,
    Revision,
    Illustrative,
    CreatedAt,
    UpdatedAt,
}
