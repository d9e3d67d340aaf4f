//! This node's change log: appending a row as it now stands, the
//! entries a sync page relays, and the lock that makes log order commit
//! order.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use concord_domain::RowKind;
use concord_domain::{GuideStatus, StandardStatus};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};
use serde_json::{Value, json};

use crate::StoreError;
use crate::entity::{
    adoption, baseline_exemption, change_log, collaborative_standard, elevation_proposal,
    evaluation, national_item, operating_procedure, service_guide, service_matter, standard,
    standard_matter,
};

use super::apply::Applied;
use super::replicated::{KEYS_PER_STATEMENT, MAX_PARAMS, Replicated};
use super::{IncomingChange, corrupt, key, split_key, to_json};

pub(super) async fn links<C: ConnectionTrait>(
    conn: &C,
    column: standard_matter::Column,
    code: &str,
    other: fn(standard_matter::Model) -> String,
) -> Result<Vec<String>, StoreError> {
    Ok(standard_matter::Entity::find()
        .filter(column.eq(code))
        .order_by_asc(standard_matter::Column::StandardCode)
        .order_by_asc(standard_matter::Column::MatterCode)
        .all(conn)
        .await?
        .into_iter()
        .map(other)
        .collect())
}

/// Appends the row `parts` of `kind`, as it now is, to the change log.
/// Rows that are not published (draft guides and procedures, draft
/// standards) go out as a retraction: their key and revision without content.
pub async fn log_current<C: ConnectionTrait>(
    conn: &C,
    kind: RowKind,
    parts: &[&str],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let (origin, revision, record) = current_record(conn, kind, parts).await?;
    lock_log(conn).await?;
    change_log::ActiveModel {
        seq: sea_orm::NotSet,
        kind: sea_orm::Set(kind.as_str().to_owned()),
        row_key: sea_orm::Set(key(parts)),
        origin: sea_orm::Set(origin),
        revision: sea_orm::Set(revision),
        record: sea_orm::Set(record),
        committed_at: sea_orm::Set(now),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// On PostgreSQL, takes the lock that makes log order commit order:
/// sequence numbers are handed out before commit, and holding this lock
/// until commit means a reader that has seen change n has seen every
/// change before it.
pub(super) async fn lock_log<C: ConnectionTrait>(conn: &C) -> Result<(), StoreError> {
    if conn.get_database_backend() == DbBackend::Postgres {
        conn.execute_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(7262737)",
        ))
        .await?;
    }
    Ok(())
}

/// The row `parts` of `kind` as the log records it: its origin, its
/// revision and its record, or no record while it is not published.
pub(crate) async fn current_record<C: ConnectionTrait>(
    conn: &C,
    kind: RowKind,
    parts: &[&str],
) -> Result<(String, i32, Option<Value>), StoreError> {
    match kind {
        RowKind::Matter => {
            let row: service_matter::Model = written(conn, parts).await?;
            let standards = links(conn, standard_matter::Column::MatterCode, &row.code, |l| {
                l.standard_code
            })
            .await?;
            let record = json!({ "row": to_json(&row)?, "standards": standards });
            Ok(logged(&row, Some(record)))
        }
        RowKind::Standard => {
            let row: standard::Model = written(conn, parts).await?;
            // A zone's proposed collaborative standard is public while a
            // draft: its members decide on it in the open.
            let proposal = collaborative_standard::Entity::find_by_id(row.code.clone())
                .one(conn)
                .await?
                .is_some();
            let published = proposal || row.status != StandardStatus::Draft;
            let matters = links(
                conn,
                standard_matter::Column::StandardCode,
                &row.code,
                |l| l.matter_code,
            )
            .await?;
            let record = published
                .then(|| Ok::<_, StoreError>(json!({ "row": to_json(&row)?, "matters": matters })))
                .transpose()?;
            Ok(logged(&row, record))
        }
        RowKind::Guide => {
            let row: service_guide::Model = written(conn, parts).await?;
            let published = row.status == GuideStatus::Published;
            row_while(&row, published)
        }
        RowKind::Procedure => {
            let row: operating_procedure::Model = written(conn, parts).await?;
            // A draft procedure goes out as a retraction, as a draft guide does.
            let published = row.status == GuideStatus::Published;
            row_while(&row, published)
        }
        RowKind::NationalItem => row_while(
            &written::<national_item::Model, _>(conn, parts).await?,
            true,
        ),
        RowKind::Evaluation => {
            row_while(&written::<evaluation::Model, _>(conn, parts).await?, true)
        }
        RowKind::CollaborativeStandard => row_while(
            &written::<collaborative_standard::Model, _>(conn, parts).await?,
            true,
        ),
        RowKind::Adoption => row_while(&written::<adoption::Model, _>(conn, parts).await?, true),
        RowKind::Exemption => row_while(
            &written::<baseline_exemption::Model, _>(conn, parts).await?,
            true,
        ),
        RowKind::Elevation => {
            let row: elevation_proposal::Model = written(conn, parts).await?;
            // A draft standard stays on its node, and its proposals with it.
            let published = standard::Entity::find_by_id(row.standard_code.clone())
                .one(conn)
                .await?
                .is_some_and(|standard| standard.status != StandardStatus::Draft);
            row_while(&row, published)
        }
    }
}

/// The row of `M` that `parts` key, which the transaction logging it has
/// just written.
async fn written<M: Replicated, C: ConnectionTrait>(
    conn: &C,
    parts: &[&str],
) -> Result<M, StoreError> {
    M::Entity::find()
        .filter(M::is_key(&M::parse_key(parts)?))
        .one(conn)
        .await?
        .ok_or_else(|| {
            corrupt(format!(
                "{} {} vanished within its transaction",
                M::KIND.as_str(),
                key(parts)
            ))
        })
}

/// `row`'s origin and revision, with `record`.
fn logged<M: Replicated>(row: &M, record: Option<Value>) -> (String, i32, Option<Value>) {
    (row.origin().to_owned(), row.revision(), record)
}

/// `row` as the log records a row that is only the row: the row itself
/// while `published`, else a retraction.
fn row_while<M: Replicated>(
    row: &M,
    published: bool,
) -> Result<(String, i32, Option<Value>), StoreError> {
    let record = published
        .then(|| to_json(row).map(|r| json!({ "row": r })))
        .transpose()?;
    Ok(logged(row, record))
}

/// The newest revision this node's log holds of each of these keys of `kind`.
pub(crate) async fn last_logged<C: ConnectionTrait>(
    conn: &C,
    kind: RowKind,
    keys: &[String],
) -> Result<HashMap<String, i32>, StoreError> {
    let mut last = HashMap::new();
    for chunk in keys.chunks(KEYS_PER_STATEMENT * 4) {
        let found: Vec<(String, Option<i32>)> = change_log::Entity::find()
            .select_only()
            .column(change_log::Column::RowKey)
            .column_as(change_log::Column::Revision.max(), "last")
            .filter(change_log::Column::Kind.eq(kind.as_str()))
            .filter(change_log::Column::RowKey.is_in(chunk.iter().map(String::as_str)))
            .group_by(change_log::Column::RowKey)
            .into_tuple()
            .all(conn)
            .await?;
        last.extend(
            found
                .into_iter()
                .filter_map(|(key, revision)| Some((key, revision?))),
        );
    }
    Ok(last)
}

/// A record as this node logs it: the row, and the links it has here.
#[derive(serde::Serialize)]
pub(super) struct Logged<'a, M> {
    pub(super) row: &'a M,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) standards: Option<BTreeSet<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) matters: Option<BTreeSet<&'a str>>,
}

/// A change log entry of a page: its position, its kind and key, and the
/// record as JSON text (or none: a retraction).
pub(crate) struct Entry<'a> {
    pub(crate) at: usize,
    pub(crate) kind: &'a str,
    pub(crate) key: &'a str,
    pub(crate) origin: String,
    pub(crate) revision: i32,
    pub(crate) record: Option<String>,
}

/// The log entries of one kind's applied changes, each recording the row
/// as that change left it: `record` is what the kind logs of a row, and
/// `published` withholds the rows that are not published (a retraction).
pub(super) fn relay<'a, 'b, M: Replicated>(
    page: &'a [IncomingChange],
    applied: &'b [Applied<M>],
    log: &mut Vec<Entry<'a>>,
    record: impl Fn(&'b Applied<M>, &'b M) -> Logged<'b, M>,
    published: impl Fn(&'b Applied<M>, &'b M) -> bool,
) -> Result<(), StoreError> {
    for change in applied {
        let incoming = &page[change.at];
        let entry = match &change.row {
            Some(row) => Entry {
                at: change.at,
                kind: &incoming.kind,
                key: &incoming.key,
                origin: row.origin().to_owned(),
                revision: row.revision(),
                record: published(change, row)
                    .then(|| serde_json::to_string(&record(change, row)).map_err(corrupt))
                    .transpose()?,
            },
            // The local copy is gone; relay the retraction as it came.
            None => Entry {
                at: change.at,
                kind: &incoming.kind,
                key: &incoming.key,
                origin: split_key(RowKind::Guide, &incoming.key)?[0].to_owned(),
                revision: incoming.revision,
                record: None,
            },
        };
        log.push(entry);
    }
    Ok(())
}

/// The record of kinds that log the row alone.
pub(super) fn row_only<'a, M: Replicated>(_: &'a Applied<M>, row: &'a M) -> Logged<'a, M> {
    Logged {
        row,
        standards: None,
        matters: None,
    }
}

pub(super) fn always<M: Replicated>(_: &Applied<M>, _: &M) -> bool {
    true
}

/// Appends `entries` to the log in page order. The records go in as JSON
/// text: binding them as JSON values would copy every record twice over
/// on the way to the driver.
pub(crate) async fn append<C: ConnectionTrait>(
    conn: &C,
    mut entries: Vec<Entry<'_>>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let backend = conn.get_database_backend();
    if entries.is_empty() {
        return Ok(());
    }
    lock_log(conn).await?;
    entries.sort_by_key(|entry| entry.at);
    let mut entries = entries.into_iter().peekable();
    while entries.peek().is_some() {
        let mut insert = Query::insert();
        insert.into_table(change_log::Entity).columns([
            change_log::Column::Kind,
            change_log::Column::RowKey,
            change_log::Column::Origin,
            change_log::Column::Revision,
            change_log::Column::Record,
            change_log::Column::CommittedAt,
        ]);
        for entry in entries.by_ref().take(MAX_PARAMS / 6) {
            let record = Expr::val(entry.record);
            insert.values_panic([
                Expr::val(entry.kind),
                Expr::val(entry.key),
                Expr::val(entry.origin.as_str()),
                Expr::val(entry.revision),
                if backend == DbBackend::Postgres {
                    record.cast_as("jsonb")
                } else {
                    record
                },
                Expr::val(now),
            ]);
        }
        conn.execute(&insert).await?;
    }
    Ok(())
}
