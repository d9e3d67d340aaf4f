//! The replicated kinds of row as [`apply_page`](super::apply_page) sees
//! them (the [`Replicated`] trait and its impls), and the content hashes
//! that name a row's versions alike on every node.

use std::hash::Hash;

use chrono::{DateTime, Utc};
use concord_domain::RowKind;
use sea_orm::{ColumnTrait, Condition, DbBackend, EntityName, EntityTrait, IdenStatic, Statement};
use serde_json::Value;

use crate::StoreError;
use crate::entity::{
    adoption, baseline_exemption, collaborative_standard, elevation_proposal, evaluation,
    national_item, operating_procedure, service_guide, service_matter, standard,
};

use super::{corrupt, key};

/// A record as peers send it: the row, and for matters and standards the
/// codes linked to it. A link list that is not a list of codes makes the
/// whole record unreadable rather than silently unlinked.
#[derive(serde::Deserialize)]
pub(super) struct Incoming<M> {
    pub(super) row: M,
    #[serde(default)]
    pub(super) standards: Vec<String>,
    #[serde(default)]
    pub(super) matters: Vec<String>,
}

/// Bound parameters per statement: SQLite allows 32,766 (since 3.32),
/// PostgreSQL 65,535.
pub(crate) const MAX_PARAMS: usize = 30_000;
/// Keys per lookup or delete. Each key is one `OR`ed term, and SQLite
/// refuses an expression nested deeper than 1000.
pub(crate) const KEYS_PER_STATEMENT: usize = 250;

/// A kind of replicated row, as [`apply_page`](super::apply_page) needs it.
pub(super) trait Replicated:
    Clone + serde::Serialize + serde::de::DeserializeOwned + sea_orm::FromQueryResult + Send + Sync
{
    type Entity: EntityTrait<Model = Self>;
    type Key: Clone + Eq + Hash + Send + Sync;
    const KIND: RowKind;
    fn key(&self) -> Self::Key;
    /// The key as the log writes it.
    fn log_key(&self) -> String;
    fn revision(&self) -> i32;
    fn origin(&self) -> &str;
    /// Matches the row with primary key `key`.
    fn is_key(key: &Self::Key) -> Condition;
    /// Matches the rows with any of these primary keys.
    fn are_keys(keys: &[Self::Key]) -> Condition;
    /// On PostgreSQL, for a key of several columns, the statement that
    /// reads the stored rows with these keys one key at a time; `None`
    /// where [`are_keys`](Self::are_keys) serves.
    fn stored_by_keys(keys: &[Self::Key], backend: DbBackend) -> Option<Statement>;
    /// The key whose parts the log's key joins.
    fn parse_key(parts: &[&str]) -> Result<Self::Key, StoreError>;
    fn timestamps(&mut self) -> Vec<&mut DateTime<Utc>>;
    /// Makes the row revision `revision`, changed at `now`.
    fn touch(&mut self, revision: i32, now: DateTime<Utc>);
}

/// The condition matching any of `$keys`, primary keys of `$entity`.
macro_rules! any_key {
    // One column: an `IN` list, which both backends look up in the primary
    // key. As `OR`ed equalities, PostgreSQL, planning without statistics
    // (a node filling its tables by sync), scanned the table instead and
    // tested every row against each key: 200 ms for 250 standards.
    ($entity:ident, $keys:ident, ($field:ident => $column:ident)) => {
        Condition::all().add(
            $entity::Column::$column.is_in($keys.iter().map(|($field,)| $field.clone())),
        )
    };
    ($entity:ident, $keys:ident, ($($field:ident => $column:ident),+)) => {
        $keys.iter().fold(Condition::any(), |any, ($($field,)+)| {
            any.add(Condition::all()$(.add($entity::Column::$column.eq($field.clone())))+)
        })
    };
}

/// The rows of `table` whose keys (`columns`) are `values`, one key after
/// another, each looked up on its own by a lateral subquery: PostgreSQL
/// reads each through the primary key, the one plan for an equality on
/// every column of a unique index, whatever it knows of the table.
/// (`OFFSET 0` keeps the subquery from being pulled up into a join, which
/// it could hash.) As `OR`ed conjunctions, the lookups of a node filling
/// its tables by sync, which has no statistics yet, took about 40 ms for
/// 250 evaluations, half of it planning their 750 parameters; a `VALUES`
/// list joined to the table was hashed against a scan of it.
fn lateral_lookup(table: &str, columns: &[&str], values: Vec<sea_orm::Value>) -> Statement {
    let width = columns.len();
    let rows: Vec<String> = (0..values.len() / width)
        .map(|row| {
            let parts: Vec<String> = (row * width + 1..=row * width + width)
                .map(|i| format!("${i}"))
                .collect();
            format!("({})", parts.join(", "))
        })
        .collect();
    let names: Vec<String> = (1..=width).map(|i| format!("k{i}")).collect();
    let equal: Vec<String> = columns
        .iter()
        .zip(&names)
        .map(|(column, name)| format!("\"{column}\" = k.{name}"))
        .collect();
    Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!(
            "SELECT r.* FROM (VALUES {}) AS k({}) CROSS JOIN LATERAL \
             (SELECT * FROM \"{table}\" WHERE {} OFFSET 0) AS r",
            rows.join(", "),
            names.join(", "),
            equal.join(" AND ")
        ),
        values,
    )
}

macro_rules! replicated {
    ($entity:ident, $kind:ident, ($($field:ident: $ty:ty => $column:ident),+), [$($time:ident),+], [$($maybe:ident),*]) => {
        impl Replicated for $entity::Model {
            type Entity = $entity::Entity;
            type Key = ($($ty,)+);
            const KIND: RowKind = RowKind::$kind;
            fn key(&self) -> Self::Key {
                ($(self.$field.clone(),)+)
            }
            fn log_key(&self) -> String {
                key(&[$(self.$field.to_string().as_str()),+])
            }
            fn revision(&self) -> i32 {
                self.revision
            }
            fn origin(&self) -> &str {
                &self.origin
            }
            fn is_key(key: &Self::Key) -> Condition {
                let ($($field,)+) = key;
                Condition::all()$(.add($entity::Column::$column.eq($field.clone())))+
            }
            fn are_keys(keys: &[Self::Key]) -> Condition {
                any_key!($entity, keys, ($($field => $column),+))
            }
            fn stored_by_keys(keys: &[Self::Key], backend: DbBackend) -> Option<Statement> {
                if backend != DbBackend::Postgres || keys.is_empty() {
                    return None;
                }
                let columns = [$(IdenStatic::as_str(&$entity::Column::$column)),+];
                if columns.len() == 1 {
                    return None;
                }
                let mut values: Vec<sea_orm::Value> = Vec::with_capacity(keys.len() * columns.len());
                for ($($field,)+) in keys {
                    $(values.push($field.clone().into());)+
                }
                Some(lateral_lookup($entity::Entity.table_name(), &columns, values))
            }
            fn parse_key(parts: &[&str]) -> Result<Self::Key, StoreError> {
                let mut parts = parts.iter();
                Ok(($(
                    parts
                        .next()
                        .ok_or_else(|| corrupt(format!("a {} key lacks a part", RowKind::$kind.as_str())))?
                        .parse::<$ty>()
                        .map_err(|e| corrupt(format!("a {} key part: {e}", RowKind::$kind.as_str())))?,
                )+))
            }
            fn timestamps(&mut self) -> Vec<&mut DateTime<Utc>> {
                #[allow(unused_mut)]
                let mut times = vec![$(&mut self.$time),+];
                $(times.extend(self.$maybe.as_mut());)*
                times
            }
            fn touch(&mut self, revision: i32, now: DateTime<Utc>) {
                self.revision = revision;
                self.updated_at = now;
            }
        }
    };
}

replicated!(
    national_item,
    NationalItem,
    (edition: i32 => Edition, number: i32 => Number),
    [created_at, updated_at],
    []
);
replicated!(
    service_matter,
    Matter,
    (code: String => Code),
    [created_at, updated_at],
    []
);
replicated!(
    standard,
    Standard,
    (code: String => Code),
    [created_at, updated_at],
    []
);
replicated!(
    service_guide,
    Guide,
    (region_code: String => RegionCode, matter_code: String => MatterCode),
    [created_at, updated_at],
    [published_at]
);
replicated!(
    operating_procedure,
    Procedure,
    (region_code: String => RegionCode, matter_code: String => MatterCode),
    [created_at, updated_at],
    []
);
replicated!(
    evaluation,
    Evaluation,
    (
        region_code: String => RegionCode,
        matter_code: String => MatterCode,
        period: String => Period
    ),
    [created_at, updated_at],
    []
);
replicated!(
    collaborative_standard,
    CollaborativeStandard,
    (standard_code: String => StandardCode),
    [created_at, updated_at],
    []
);
replicated!(
    adoption,
    Adoption,
    (standard_code: String => StandardCode, region_code: String => RegionCode),
    [created_at, updated_at],
    [decided_at]
);
replicated!(
    elevation_proposal,
    Elevation,
    (standard_code: String => StandardCode, number: i32 => Number),
    [created_at, updated_at],
    [decided_at]
);

replicated!(
    baseline_exemption,
    Exemption,
    (
        region_code: String => RegionCode,
        matter_code: String => MatterCode,
        valid_from: chrono::NaiveDate => ValidFrom
    ),
    [created_at, updated_at],
    [revoked_at]
);

/// `time` as PostgreSQL keeps it: its driver sends whole microseconds
/// since 2000-01-01, dropping the rest toward that epoch. SQLite keeps
/// every nanosecond.
pub(super) fn as_postgres_keeps(time: DateTime<Utc>) -> DateTime<Utc> {
    let epoch = DateTime::<Utc>::from_naive_utc_and_offset(
        chrono::NaiveDate::from_ymd_opt(2000, 1, 1)
            .and_then(|day| day.and_hms_opt(0, 0, 0))
            .unwrap_or_default(),
        Utc,
    );
    (time - epoch).num_microseconds().map_or(time, |micros| {
        epoch + chrono::TimeDelta::microseconds(micros)
    })
}

/// The content hash of a version: SHA-256 of the row as JSON, with its
/// times cut to whole microseconds as PostgreSQL keeps them, so that every
/// node hashes a version alike whichever database holds it.
pub(super) fn content_hash<M: Replicated>(row: &M) -> Result<String, StoreError> {
    let mut row = row.clone();
    for time in row.timestamps() {
        *time = as_postgres_keeps(*time);
    }
    let json = serde_json::to_vec(&row).map_err(|e| {
        corrupt(format!(
            "a {} row cannot be written as JSON: {e}",
            M::KIND.as_str()
        ))
    })?;
    Ok(hash_bytes(&json))
}

/// The content hash of a version: of `row`, or of a retraction when there
/// is none.
pub(super) fn version_hash<M: Replicated>(row: Option<&M>) -> Result<String, StoreError> {
    row.map_or_else(|| Ok(retracted_hash()), content_hash)
}

pub(super) fn hash_bytes(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

/// The content hash of a retraction: a guide withdrawn to a draft.
pub(crate) fn retracted_hash() -> String {
    hash_bytes(b"null")
}

/// The content hash of a logged record (`{ "row": … }`), or of a
/// retraction when there is none.
pub(super) fn record_hash<M: Replicated>(record: Option<&Value>) -> Result<String, StoreError> {
    match record {
        None => Ok(retracted_hash()),
        Some(record) => {
            let Incoming::<M> { row, .. } = serde::Deserialize::deserialize(record)
                .map_err(|e| corrupt(format!("a logged record cannot be read: {e}")))?;
            content_hash(&row)
        }
    }
}

/// The content hash of a logged record of `kind` (see [`content_hash`]).
pub(crate) fn hash_of_record(kind: RowKind, record: Option<&Value>) -> Result<String, StoreError> {
    match kind {
        RowKind::Matter => record_hash::<service_matter::Model>(record),
        RowKind::Standard => record_hash::<standard::Model>(record),
        RowKind::Guide => record_hash::<service_guide::Model>(record),
        RowKind::Procedure => record_hash::<operating_procedure::Model>(record),
        RowKind::NationalItem => record_hash::<national_item::Model>(record),
        RowKind::Evaluation => record_hash::<evaluation::Model>(record),
        RowKind::CollaborativeStandard => record_hash::<collaborative_standard::Model>(record),
        RowKind::Adoption => record_hash::<adoption::Model>(record),
        RowKind::Exemption => record_hash::<baseline_exemption::Model>(record),
        RowKind::Elevation => record_hash::<elevation_proposal::Model>(record),
    }
}
