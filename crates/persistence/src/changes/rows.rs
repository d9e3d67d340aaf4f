//! Writing what a page applies: the rows, the versions they replace kept
//! in history, and the search grams of the codes written.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use concord_domain::RowKind;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IdenStatic, IntoActiveModel, Iterable,
    PrimaryKeyToColumn, QueryFilter, QueryOrder,
};
use serde_json::Value;

use crate::StoreError;
use crate::entity::{row_revision, standard, standard_matter};

use super::apply::Applied;
use super::replicated::{KEYS_PER_STATEMENT, MAX_PARAMS, Replicated};

/// Who the history credits with a revision a sync page applied.
pub(super) const SYNCED_BY: &str = "concord sync";

/// The versions one history-keeping kind's applied changes leave: the
/// stored version of each key they change (a version the page itself made
/// is kept as it is made), and the version each change with a row makes; a
/// retraction (a guide gone back to a draft on its node) makes none.
/// `snapshot` reads a row's content: of an applied change, or (`None`) as
/// stored.
pub(super) fn versions<M: Replicated>(
    kind: RowKind,
    applied: &[Applied<M>],
    stored: &HashMap<M::Key, M>,
    (credit, now): (&str, DateTime<Utc>),
    out: &mut Vec<row_revision::Model>,
    snapshot: impl Fn(Option<&Applied<M>>, &M) -> Value,
) {
    let version = |row: &M, content: Value, changed_by: Option<&str>| row_revision::Model {
        kind: kind.as_str().to_owned(),
        row_key: row.log_key(),
        revision: row.revision(),
        snapshot: content,
        changed_by: changed_by.map(str::to_owned),
        changed_at: now,
    };
    // Keys the page has changed already: their version before is kept.
    let mut seen = HashSet::new();
    for change in applied {
        if seen.insert(&change.key)
            && let Some(before) = stored.get(&change.key)
        {
            out.push(version(before, snapshot(None, before), None));
        }
        if let Some(row) = &change.row {
            out.push(version(row, snapshot(Some(change), row), Some(credit)));
        }
    }
}

/// Inserts kept versions, leaving any version kept already as it is: as
/// many a statement as stay under the bind limit. The snapshots go in as
/// JSON text, as the log's records do: bound as JSON values, 250 versions
/// a statement, the 53,000 versions of a scale-1 import took PostgreSQL
/// 5.5 s, against 1.4 s for as many log entries written this way.
pub(crate) async fn keep<C: ConnectionTrait>(
    conn: &C,
    versions: Vec<row_revision::Model>,
) -> Result<(), StoreError> {
    let backend = conn.get_database_backend();
    let mut versions = versions.into_iter().peekable();
    while versions.peek().is_some() {
        let mut insert = Query::insert();
        insert
            .into_table(row_revision::Entity)
            .columns([
                row_revision::Column::Kind,
                row_revision::Column::RowKey,
                row_revision::Column::Revision,
                row_revision::Column::Snapshot,
                row_revision::Column::ChangedBy,
                row_revision::Column::ChangedAt,
            ])
            .on_conflict(
                OnConflict::columns([
                    row_revision::Column::Kind,
                    row_revision::Column::RowKey,
                    row_revision::Column::Revision,
                ])
                .do_nothing()
                .to_owned(),
            );
        for version in versions.by_ref().take(MAX_PARAMS / 6) {
            let snapshot = Expr::val(version.snapshot.to_string());
            insert.values_panic([
                Expr::val(version.kind),
                Expr::val(version.row_key),
                Expr::val(version.revision),
                if backend == DbBackend::Postgres {
                    snapshot.cast_as("jsonb")
                } else {
                    snapshot
                },
                Expr::val(version.changed_by),
                Expr::val(version.changed_at),
            ]);
        }
        conn.execute(&insert).await?;
    }
    Ok(())
}

/// The matters each of these stored standards links to, in code order.
pub(super) async fn stored_matter_links<C: ConnectionTrait>(
    conn: &C,
    standards: &HashMap<(String,), standard::Model>,
) -> Result<HashMap<String, Vec<String>>, StoreError> {
    let codes: Vec<&str> = standards.values().map(|row| row.code.as_str()).collect();
    let mut linked: HashMap<String, Vec<String>> = HashMap::new();
    for chunk in codes.chunks(KEYS_PER_STATEMENT * 4) {
        let links = standard_matter::Entity::find()
            .filter(standard_matter::Column::StandardCode.is_in(chunk.iter().copied()))
            .order_by_asc(standard_matter::Column::MatterCode)
            .all(conn)
            .await?;
        for link in links {
            linked
                .entry(link.standard_code)
                .or_default()
                .push(link.matter_code);
        }
    }
    Ok(linked)
}

/// Writes what a kind's applied changes leave: for each key, the last one.
pub(super) async fn write<M, C>(conn: &C, applied: Vec<Applied<M>>) -> Result<(), StoreError>
where
    M: Replicated + IntoActiveModel<<M::Entity as EntityTrait>::ActiveModel>,
    C: ConnectionTrait,
{
    let mut done = HashSet::with_capacity(applied.len());
    let mut rows = Vec::with_capacity(applied.len());
    let mut gone = Vec::new();
    for change in applied.into_iter().rev() {
        if done.insert(change.key.clone()) {
            match change.row {
                Some(row) => rows.push(row),
                None => gone.push(change.key),
            }
        }
    }
    rows.reverse();
    for chunk in gone.chunks(KEYS_PER_STATEMENT) {
        M::Entity::delete_many()
            .filter(M::are_keys(chunk))
            .exec(conn)
            .await?;
    }
    upsert::<M::Entity, C>(conn, rows).await
}

/// Inserts `rows`, or over a stored row with the same key, every column of
/// it: as many rows a statement as stay under the bind limit.
pub(crate) async fn upsert<E, C>(conn: &C, rows: Vec<E::Model>) -> Result<(), StoreError>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel>,
    C: ConnectionTrait,
{
    let keys: Vec<_> = E::PrimaryKey::iter().map(|key| key.into_column()).collect();
    let rest: Vec<_> = E::Column::iter()
        .filter(|column| !keys.iter().any(|key| key.as_str() == column.as_str()))
        .collect();
    let per_statement = MAX_PARAMS / E::Column::iter().count().max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk = rows
            .by_ref()
            .take(per_statement)
            .map(IntoActiveModel::into_active_model);
        E::insert_many(chunk)
            .on_conflict(
                OnConflict::columns(keys.iter().copied())
                    .update_columns(rest.iter().copied())
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// The distinct codes that a kind's applied changes write.
pub(super) fn written_keys<M: Replicated<Key = (String,)>>(applied: &[Applied<M>]) -> Vec<String> {
    let keys: BTreeSet<&str> = applied.iter().map(|change| change.key.0.as_str()).collect();
    keys.into_iter().map(str::to_owned).collect()
}
