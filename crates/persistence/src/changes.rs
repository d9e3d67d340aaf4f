//! The change log: every committed change of a replicable row, appended in
//! the transaction that made it, so that the log and the data can never
//! disagree. Peers read it in order ([`feed`]) and [`apply`] what is newer
//! than their own copy.

use chrono::{DateTime, Utc};
use concord_domain::{GuideStatus, StandardStatus};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, Statement,
};
use serde_json::{Value, json};

use crate::StoreError;
use crate::entity::{
    adoption, change_log, collaborative_target, evaluation, national_item, operating_procedure,
    service_guide, service_matter, standard, standard_matter,
};
use crate::queries::{Page, PageRequest};

/// A kind of replicable row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replica {
    Matter,
    Standard,
    Guide,
    Procedure,
    NationalItem,
    Evaluation,
    CollaborativeStandard,
    Adoption,
}

impl Replica {
    pub fn as_str(self) -> &'static str {
        match self {
            Replica::Matter => "MATTER",
            Replica::Standard => "STANDARD",
            Replica::Guide => "GUIDE",
            Replica::Procedure => "PROCEDURE",
            Replica::NationalItem => "NATIONAL_ITEM",
            Replica::Evaluation => "EVALUATION",
            Replica::CollaborativeStandard => "COLLABORATIVE_STANDARD",
            Replica::Adoption => "ADOPTION",
        }
    }

    /// The kind named `text`, as the log writes it.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Replica::Matter,
            Replica::Standard,
            Replica::Guide,
            Replica::Procedure,
            Replica::NationalItem,
            Replica::Evaluation,
            Replica::CollaborativeStandard,
            Replica::Adoption,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }
}

/// The key of a row in the log: its primary key parts joined by `/`.
fn key(parts: &[&str]) -> String {
    parts.join("/")
}

/// The primary key parts of a logged key. Standard codes contain `/`
/// themselves (`GB/T 33531-2017`), so each kind says how its key splits.
pub fn split_key(kind: Replica, key: &str) -> Vec<&str> {
    match kind {
        Replica::Matter | Replica::Standard | Replica::CollaborativeStandard => vec![key],
        Replica::Adoption => match key.rsplit_once('/') {
            Some((code, region)) => vec![code, region],
            None => vec![key],
        },
        Replica::Guide | Replica::Procedure | Replica::NationalItem | Replica::Evaluation => {
            key.split('/').collect()
        }
    }
}

fn corrupt(message: impl ToString) -> StoreError {
    StoreError::Corrupt(message.to_string())
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Value, StoreError> {
    serde_json::to_value(value).map_err(corrupt)
}

async fn links<C: ConnectionTrait>(
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
/// Rows that are not published (draft guides, draft standards) go out as a
/// retraction: their key and revision without content.
pub async fn log_current<C: ConnectionTrait>(
    conn: &C,
    kind: Replica,
    parts: &[&str],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let missing = || {
        corrupt(format!(
            "{} {} vanished within its transaction",
            kind.as_str(),
            key(parts)
        ))
    };
    let part = |i: usize| parts.get(i).copied().unwrap_or_default().to_owned();
    let (origin, revision, record) = match kind {
        Replica::Matter => {
            let row = service_matter::Entity::find_by_id(part(0))
                .one(conn)
                .await?
                .ok_or_else(missing)?;
            let standards = links(conn, standard_matter::Column::MatterCode, &row.code, |l| {
                l.standard_code
            })
            .await?;
            (
                row.origin.clone(),
                row.revision,
                Some(json!({ "row": to_json(&row)?, "standards": standards })),
            )
        }
        Replica::Standard => {
            let row = standard::Entity::find_by_id(part(0))
                .one(conn)
                .await?
                .ok_or_else(missing)?;
            // A zone's proposed collaborative standard is public while a
            // draft: its members decide on it in the open.
            let proposal = collaborative_target::Entity::find_by_id(row.code.clone())
                .one(conn)
                .await?
                .is_some();
            let published = proposal || row.status != StandardStatus::Draft.as_str();
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
            (row.origin.clone(), row.revision, record)
        }
        Replica::Guide => {
            let row = service_guide::Entity::find_by_id((part(0), part(1)))
                .one(conn)
                .await?
                .ok_or_else(missing)?;
            let published = row.status == GuideStatus::Published.as_str();
            let record = published
                .then(|| to_json(&row).map(|r| json!({ "row": r })))
                .transpose()?;
            (row.origin.clone(), row.revision, record)
        }
        Replica::Procedure => {
            let row = operating_procedure::Entity::find_by_id((part(0), part(1)))
                .one(conn)
                .await?
                .ok_or_else(missing)?;
            (
                row.origin.clone(),
                row.revision,
                Some(json!({ "row": to_json(&row)? })),
            )
        }
        Replica::NationalItem => {
            let edition: i32 = part(0).parse().map_err(corrupt)?;
            let number: i32 = part(1).parse().map_err(corrupt)?;
            let row = national_item::Entity::find_by_id((edition, number))
                .one(conn)
                .await?
                .ok_or_else(missing)?;
            (
                row.origin.clone(),
                row.revision,
                Some(json!({ "row": to_json(&row)? })),
            )
        }
        Replica::Evaluation => {
            let row = evaluation::Entity::find_by_id((part(0), part(1), part(2)))
                .one(conn)
                .await?
                .ok_or_else(missing)?;
            (
                row.origin.clone(),
                row.revision,
                Some(json!({ "row": to_json(&row)? })),
            )
        }
        Replica::CollaborativeStandard => {
            let row = collaborative_target::Entity::find_by_id(part(0))
                .one(conn)
                .await?
                .ok_or_else(missing)?;
            (
                row.origin.clone(),
                row.revision,
                Some(json!({ "row": to_json(&row)? })),
            )
        }
        Replica::Adoption => {
            let row = adoption::Entity::find_by_id((part(0), part(1)))
                .one(conn)
                .await?
                .ok_or_else(missing)?;
            (
                row.origin.clone(),
                row.revision,
                Some(json!({ "row": to_json(&row)? })),
            )
        }
    };
    if conn.get_database_backend() == DbBackend::Postgres {
        // Sequence numbers are handed out before commit; holding this lock
        // until commit makes log order commit order, so a reader that has
        // seen change n has seen every change before it.
        conn.execute_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(7262737)",
        ))
        .await?;
    }
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

/// The log after `after`, in order.
pub async fn feed<C: ConnectionTrait>(
    conn: &C,
    request: PageRequest<i64>,
) -> Result<Page<change_log::Model>, StoreError> {
    let remaining =
        change_log::Entity::find().filter(change_log::Column::Seq.gt(request.after.unwrap_or(0)));
    let total = sea_orm::PaginatorTrait::count(remaining.clone(), conn).await?;
    let mut items = sea_orm::QuerySelect::limit(
        remaining.order_by_asc(change_log::Column::Seq),
        request.first + 1,
    )
    .all(conn)
    .await?;
    let has_next = items.len() as u64 > request.first;
    items.truncate(request.first as usize);
    Ok(Page {
        items,
        has_next,
        total,
    })
}

/// A change as a peer serves it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct IncomingChange {
    pub kind: String,
    pub key: String,
    pub revision: i32,
    pub record: Option<Value>,
}

fn row<T: serde::de::DeserializeOwned>(record: &Value) -> Result<T, StoreError> {
    serde_json::from_value(record["row"].clone())
        .map_err(|e| corrupt(format!("a peer sent a row this node cannot read: {e}")))
}

fn list(record: &Value, field: &str) -> Vec<String> {
    record[field]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Inserts `incoming` when absent, or replaces the stored row when
/// `incoming` is a newer revision. Returns whether anything changed.
async fn upsert_newer<C, A, M>(
    conn: &C,
    stored: Option<M>,
    incoming: M,
    revision: fn(&M) -> i32,
) -> Result<bool, StoreError>
where
    C: ConnectionTrait,
    A: ActiveModelTrait + sea_orm::ActiveModelBehavior + Send,
    M: IntoActiveModel<A>,
{
    match stored {
        None => {
            <A::Entity as EntityTrait>::insert(incoming.into_active_model())
                .exec_without_returning(conn)
                .await?;
            Ok(true)
        }
        Some(stored) if revision(&stored) < revision(&incoming) => {
            incoming
                .into_active_model()
                .reset_all()
                .update_without_returning(conn)
                .await?;
            Ok(true)
        }
        Some(_) => Ok(false),
    }
}

/// Makes one side's links exactly `wanted`, ignoring codes unknown here.
async fn set_links<C: ConnectionTrait>(
    conn: &C,
    standard_side: bool,
    code: &str,
    wanted: &[String],
) -> Result<(), StoreError> {
    let (own, other) = if standard_side {
        (
            standard_matter::Column::StandardCode,
            standard_matter::Column::MatterCode,
        )
    } else {
        (
            standard_matter::Column::MatterCode,
            standard_matter::Column::StandardCode,
        )
    };
    standard_matter::Entity::delete_many()
        .filter(own.eq(code))
        .filter(other.is_not_in(wanted.iter().cloned()))
        .exec(conn)
        .await?;
    for linked in wanted {
        let exists_here = if standard_side {
            service_matter::Entity::find_by_id(linked.as_str())
                .one(conn)
                .await?
                .is_some()
        } else {
            standard::Entity::find_by_id(linked.as_str())
                .one(conn)
                .await?
                .is_some()
        };
        let (standard_code, matter_code) = if standard_side {
            (code, linked.as_str())
        } else {
            (linked.as_str(), code)
        };
        let present =
            standard_matter::Entity::find_by_id((standard_code.to_owned(), matter_code.to_owned()))
                .one(conn)
                .await?
                .is_some();
        if exists_here && !present {
            standard_matter::Entity::insert(standard_matter::ActiveModel {
                standard_code: sea_orm::Set(standard_code.to_owned()),
                matter_code: sea_orm::Set(matter_code.to_owned()),
            })
            .exec_without_returning(conn)
            .await?;
        }
    }
    Ok(())
}

/// Applies a peer's change when it is newer than this node's copy, and logs
/// it here too so that this node can relay it. Returns whether it applied.
pub async fn apply<C: ConnectionTrait>(
    conn: &C,
    change: &IncomingChange,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let Some(kind) = Replica::parse(&change.kind) else {
        return Err(corrupt(format!(
            "a peer sent a change of unknown kind {}",
            change.kind
        )));
    };
    let parts = split_key(kind, &change.key);
    let applied = match (&change.record, kind) {
        (None, Replica::Guide) => {
            let id = (
                parts.first().copied().unwrap_or_default().to_owned(),
                parts.get(1).copied().unwrap_or_default().to_owned(),
            );
            match service_guide::Entity::find_by_id(id.clone())
                .one(conn)
                .await?
            {
                Some(stored) if stored.revision < change.revision => {
                    service_guide::Entity::delete_by_id(id).exec(conn).await?;
                    true
                }
                _ => false,
            }
        }
        // A standard is only retracted while a draft; a replica never had it.
        (None, _) => false,
        (Some(record), Replica::Matter) => {
            let incoming: service_matter::Model = row(record)?;
            let stored = service_matter::Entity::find_by_id(incoming.code.clone())
                .one(conn)
                .await?;
            let code = incoming.code.clone();
            let applied = upsert_newer(conn, stored, incoming, |m| m.revision).await?;
            if applied {
                set_links(conn, false, &code, &list(record, "standards")).await?;
            }
            applied
        }
        (Some(record), Replica::Standard) => {
            let incoming: standard::Model = row(record)?;
            let stored = standard::Entity::find_by_id(incoming.code.clone())
                .one(conn)
                .await?;
            let code = incoming.code.clone();
            let applied = upsert_newer(conn, stored, incoming, |m| m.revision).await?;
            if applied {
                set_links(conn, true, &code, &list(record, "matters")).await?;
            }
            applied
        }
        (Some(record), Replica::Guide) => {
            let incoming: service_guide::Model = row(record)?;
            let stored = service_guide::Entity::find_by_id((
                incoming.region_code.clone(),
                incoming.matter_code.clone(),
            ))
            .one(conn)
            .await?;
            upsert_newer(conn, stored, incoming, |m| m.revision).await?
        }
        (Some(record), Replica::Procedure) => {
            let incoming: operating_procedure::Model = row(record)?;
            let stored = operating_procedure::Entity::find_by_id((
                incoming.region_code.clone(),
                incoming.matter_code.clone(),
            ))
            .one(conn)
            .await?;
            upsert_newer(conn, stored, incoming, |m| m.revision).await?
        }
        (Some(record), Replica::NationalItem) => {
            let incoming: national_item::Model = row(record)?;
            let stored = national_item::Entity::find_by_id((incoming.edition, incoming.number))
                .one(conn)
                .await?;
            upsert_newer(conn, stored, incoming, |m| m.revision).await?
        }
        (Some(record), Replica::Evaluation) => {
            let incoming: evaluation::Model = row(record)?;
            let stored = evaluation::Entity::find_by_id((
                incoming.region_code.clone(),
                incoming.matter_code.clone(),
                incoming.period.clone(),
            ))
            .one(conn)
            .await?;
            upsert_newer(conn, stored, incoming, |m| m.revision).await?
        }
        (Some(record), Replica::CollaborativeStandard) => {
            let incoming: collaborative_target::Model = row(record)?;
            let stored = collaborative_target::Entity::find_by_id(incoming.standard_code.clone())
                .one(conn)
                .await?;
            upsert_newer(conn, stored, incoming, |m| m.revision).await?
        }
        (Some(record), Replica::Adoption) => {
            let incoming: adoption::Model = row(record)?;
            let stored = adoption::Entity::find_by_id((
                incoming.standard_code.clone(),
                incoming.region_code.clone(),
            ))
            .one(conn)
            .await?;
            upsert_newer(conn, stored, incoming, |m| m.revision).await?
        }
    };
    if applied {
        match kind {
            Replica::Guide if change.record.is_none() => {
                // The local copy is gone; relay the retraction as it came.
                change_log::ActiveModel {
                    seq: sea_orm::NotSet,
                    kind: sea_orm::Set(kind.as_str().to_owned()),
                    row_key: sea_orm::Set(change.key.clone()),
                    origin: sea_orm::Set(parts.first().copied().unwrap_or_default().to_owned()),
                    revision: sea_orm::Set(change.revision),
                    record: sea_orm::Set(None),
                    committed_at: sea_orm::Set(now),
                }
                .insert(conn)
                .await?;
            }
            _ => log_current(conn, kind, &parts, now).await?,
        }
    }
    Ok(applied)
}
