//! The table of zones' collaborative standards is named for what it holds,
//! as the API, the change log (`COLLABORATIVE_STANDARD`) and the code call
//! it: `collaborative_target` becomes `collaborative_standard`, and its zone
//! index with it. The rows, their keys and the adoptions that refer to
//! them are untouched: both backends carry the foreign keys over to the new
//! name. PostgreSQL keeps the old names of the table's own constraints
//! (`collaborative_target_pkey` and its foreign keys); nothing refers to
//! them by name.

use sea_orm_migration::prelude::*;

use crate::builders::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rename(manager, Named::Target, Named::Standard).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rename(manager, Named::Standard, Named::Target).await
    }
}

/// The table's two names.
#[derive(Clone, Copy)]
enum Named {
    Target,
    Standard,
}

impl Named {
    fn table(self) -> Alias {
        Alias::new(match self {
            Named::Target => "collaborative_target",
            Named::Standard => "collaborative_standard",
        })
    }

    fn zone_index(self) -> &'static str {
        match self {
            Named::Target => "ix_collaborative_target_zone",
            Named::Standard => "ix_collaborative_standard_zone",
        }
    }
}

/// Renames the table `from` to `to`, and its zone index: SQLite cannot
/// rename an index, so the index is made again under the new name.
async fn rename(manager: &SchemaManager<'_>, from: Named, to: Named) -> Result<(), DbErr> {
    manager
        .drop_index(
            Index::drop()
                .name(from.zone_index())
                .table(from.table())
                .to_owned(),
        )
        .await?;
    manager
        .rename_table(Table::rename().table(from.table(), to.table()).to_owned())
        .await?;
    manager
        .create_index(index(
            to.zone_index(),
            to.table(),
            [Alias::new("zone_code")],
        ))
        .await
}
