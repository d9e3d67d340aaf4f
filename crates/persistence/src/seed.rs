//! Seed data: the reference facts (real), and an illustrative data set on top
//! so that a new node has something to explore. Every illustrative row is
//! flagged `illustrative`, so nobody mistakes it for official text.
//!
//! Seeding only inserts rows that are absent: it is idempotent, and it never
//! overwrites what an administrator or an import has changed since.

mod illustrative;
mod reference;
mod workflows;

use chrono::{DateTime, TimeZone, Utc};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait, TransactionTrait};

use crate::StoreError;
use crate::entity::region;

/// Whose a seeded row is, whether it is illustrative, and when it was
/// written.
#[derive(Clone, Copy)]
struct Seeding<'a> {
    origin: &'a str,
    illustrative: bool,
    at: DateTime<Utc>,
}

/// A seeded row as it is first written: the row's own columns, then the
/// provenance `Seeding` gives it, at revision 1.
macro_rules! first_revision {
    ($($entity:ident)::+ { $($column:ident: $value:expr),+ $(,)? }, $seeding:expr $(,)?) => {{
        let seeding: $crate::seed::Seeding<'_> = $seeding;
        $($entity)::+ {
            $($column: $value,)+
            origin: ::sea_orm::Set(seeding.origin.to_owned()),
            revision: ::sea_orm::Set(1),
            illustrative: ::sea_orm::Set(seeding.illustrative),
            created_at: ::sea_orm::Set(seeding.at),
            updated_at: ::sea_orm::Set(seeding.at),
        }
    }};
}
use first_revision;

/// The time every seeded row is stamped with. Seed data is the same on
/// every node, so its rows must be the same to the byte too: replicas are
/// compared by checksum, and a version's content hash covers its times.
pub fn seeded_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

/// What a seeding run inserted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SeedReport {
    pub reference_rows: u64,
    pub illustrative_rows: u64,
}

/// Loads the reference facts and the illustrative data set, inserting only
/// what is missing, in one transaction.
pub async fn seed(db: &DatabaseConnection) -> Result<SeedReport, StoreError> {
    let now = seeded_at();
    let txn = db.begin().await?;
    let reference_rows = reference::load(&txn, now).await?;
    let illustrative_rows = illustrative::load(&txn, now).await?;
    crate::version::commit(txn).await?;
    Ok(SeedReport {
        reference_rows,
        illustrative_rows,
    })
}

/// Loads the reference facts only (regions, zones, categories, the national
/// standard's editions and items, real standard codes), as the benchmark's
/// data set starts from them.
pub async fn seed_reference(db: &DatabaseConnection) -> Result<u64, StoreError> {
    let txn = db.begin().await?;
    let rows = reference::load(&txn, seeded_at()).await?;
    crate::version::commit(txn).await?;
    Ok(rows)
}

/// Seeds a database that has no regions yet, which is how a first start is
/// recognised. Returns `None` when the database was already seeded.
pub async fn seed_if_empty(db: &DatabaseConnection) -> Result<Option<SeedReport>, StoreError> {
    if region::Entity::find().count(db).await? > 0 {
        return Ok(None);
    }
    seed(db).await.map(Some)
}

/// The codes of rows about to be seeded, for [`crate::search::reindex`]:
/// a row that was already there is cut again from its stored text, which
/// changes nothing.
pub(crate) fn codes<A>(
    rows: &[A],
    code: impl Fn(&A) -> &sea_orm::ActiveValue<String>,
) -> Vec<String> {
    rows.iter()
        .filter_map(|row| code(row).try_as_ref().cloned())
        .collect()
}

/// Inserts rows unless a row with the same primary key exists, returning how
/// many were inserted. Batches stay well under SQLite's bound-parameter limit.
pub(crate) async fn insert_missing<A, C>(conn: &C, rows: Vec<A>) -> Result<u64, StoreError>
where
    A: sea_orm::ActiveModelTrait + Send,
    C: sea_orm::ConnectionTrait,
{
    use sea_orm::{Iterable, PrimaryKeyToColumn, sea_query::OnConflict};
    let mut inserted = 0;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<A> = rows.by_ref().take(500).collect();
        let keys = <A::Entity as EntityTrait>::PrimaryKey::iter().map(|key| key.into_column());
        inserted += <A::Entity as EntityTrait>::insert_many(batch)
            .on_conflict(OnConflict::columns(keys).do_nothing().to_owned())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(inserted)
}
