//! The change log: every committed change of a replicable row, appended in
//! the transaction that made it, so that the log and the data can never
//! disagree. Peers read it in order ([`feed`]) and apply what is newer
//! than their own copy ([`apply_page`]).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::Hash;

use chrono::{DateTime, Utc};
use concord_domain::{GuideStatus, StandardStatus};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, IdenStatic,
    IntoActiveModel, Iterable, PrimaryKeyToColumn, QueryFilter, QueryOrder, QuerySelect, Statement,
};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::StoreError;
use crate::entity::{
    adoption, change_log, collaborative_target, evaluation, national_item, operating_procedure,
    row_revision, service_guide, service_matter, standard, standard_matter, sync_conflict,
};
use crate::footprint::{Footprint, Topic};
use crate::mutate::{self, Kind};
use crate::queries::{Page, PageRequest};
use crate::search::{self, Searched};

/// A kind of replicable row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
pub fn split_key(kind: Replica, key: &str) -> Result<Vec<&str>, StoreError> {
    let (parts, arity): (Vec<&str>, usize) = match kind {
        Replica::Matter | Replica::Standard | Replica::CollaborativeStandard => (vec![key], 1),
        Replica::Adoption => (
            key.rsplit_once('/')
                .map_or_else(|| vec![key], |(code, region)| vec![code, region]),
            2,
        ),
        Replica::Guide | Replica::Procedure | Replica::NationalItem => {
            (key.split('/').collect(), 2)
        }
        Replica::Evaluation => (key.split('/').collect(), 3),
    };
    if parts.len() == arity && parts.iter().all(|part| !part.is_empty()) {
        Ok(parts)
    } else {
        Err(corrupt(format!(
            "a {} key has {arity} parts joined by `/`, not `{key}`",
            kind.as_str()
        )))
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
async fn lock_log<C: ConnectionTrait>(conn: &C) -> Result<(), StoreError> {
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
    kind: Replica,
    parts: &[&str],
) -> Result<(String, i32, Option<Value>), StoreError> {
    let missing = || {
        corrupt(format!(
            "{} {} vanished within its transaction",
            kind.as_str(),
            key(parts)
        ))
    };
    let part = |i: usize| {
        parts
            .get(i)
            .map(|part| (*part).to_owned())
            .ok_or_else(|| corrupt(format!("{} {} lacks a key part", kind.as_str(), key(parts))))
    };
    let (origin, revision, record) = match kind {
        Replica::Matter => {
            let row = service_matter::Entity::find_by_id(part(0)?)
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
            let row = standard::Entity::find_by_id(part(0)?)
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
            let row = service_guide::Entity::find_by_id((part(0)?, part(1)?))
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
            let row = operating_procedure::Entity::find_by_id((part(0)?, part(1)?))
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
            let edition: i32 = part(0)?.parse().map_err(corrupt)?;
            let number: i32 = part(1)?.parse().map_err(corrupt)?;
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
            let row = evaluation::Entity::find_by_id((part(0)?, part(1)?, part(2)?))
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
            let row = collaborative_target::Entity::find_by_id(part(0)?)
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
            let row = adoption::Entity::find_by_id((part(0)?, part(1)?))
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
    Ok((origin, revision, record))
}

/// The log after `after`, in order, with the number of changes after
/// `after` when the request asks for it.
///
/// Counting the rest of the log reads all of it, on every page of a full
/// sync; so the count is taken only where nothing cheaper is exact. On the
/// last page the rest is the page. On SQLite the log is numbered without
/// gaps (`AUTOINCREMENT` hands out the next number, a rollback takes its
/// numbers back, and nothing deletes from the log), so the rest is the
/// last number minus `after`; a page whose numbers do not follow on from
/// `after` shows a gap, and is counted. PostgreSQL's sequences skip the
/// numbers of rolled-back transactions, so there it is always counted.
pub async fn feed<C: ConnectionTrait>(
    conn: &C,
    request: PageRequest<i64>,
) -> Result<Page<change_log::Model>, StoreError> {
    let after = request.after.unwrap_or(0);
    let remaining = change_log::Entity::find().filter(change_log::Column::Seq.gt(after));
    let mut items = remaining
        .clone()
        .order_by_asc(change_log::Column::Seq)
        .limit(request.first + 1)
        .all(conn)
        .await?;
    let has_next = items.len() as u64 > request.first;
    items.truncate(request.first as usize);
    let numbered_on = || {
        after >= 0
            && items
                .iter()
                .zip(after + 1..)
                .all(|(item, seq)| item.seq == seq)
    };
    let total = if !request.count {
        0
    } else if !has_next {
        items.len() as u64
    } else if conn.get_database_backend() == DbBackend::Sqlite && numbered_on() {
        let last: Option<i64> = change_log::Entity::find()
            .select_only()
            .column_as(change_log::Column::Seq.max(), "last")
            .into_tuple()
            .one(conn)
            .await?
            .flatten();
        last.map_or(0, |last| u64::try_from(last - after).unwrap_or(0))
    } else {
        sea_orm::PaginatorTrait::count(remaining, conn).await?
    };
    Ok(Page {
        items,
        has_next,
        total,
    })
}

/// A change as a peer serves it. The record stays raw JSON until its kind
/// is known, so that it is parsed once, straight into its row.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct IncomingChange {
    pub kind: String,
    pub key: String,
    pub revision: i32,
    pub record: Option<Box<RawValue>>,
}

/// What applying `page` can change: each change's kind, for the region in
/// its key where rows of that kind belong to a region, plus the change log
/// that relays it and the sync status that records the page.
pub fn footprint_of(page: &[IncomingChange]) -> Footprint {
    let mut footprint = Footprint::of(&[Topic::ChangeLog, Topic::Sync]);
    for change in page {
        let regional = match Replica::parse(&change.kind) {
            Some(Replica::Guide) => Topic::Guide,
            Some(Replica::Procedure) => Topic::Procedure,
            Some(Replica::Evaluation) => Topic::Evaluation,
            Some(Replica::Matter | Replica::NationalItem) => {
                footprint.add(Topic::Catalogue);
                continue;
            }
            Some(Replica::Standard) => {
                footprint.add(Topic::Standard);
                continue;
            }
            Some(Replica::CollaborativeStandard | Replica::Adoption) => {
                footprint.add(Topic::Collaboration).add(Topic::Standard);
                continue;
            }
            None => return Footprint::everything(),
        };
        match change.key.split_once('/') {
            Some((region, _)) => footprint.add_region(regional, region),
            None => footprint.add(regional),
        };
    }
    footprint
}

/// A record as peers send it: the row, and for matters and standards the
/// codes linked to it.
#[derive(serde::Deserialize)]
struct Incoming<M> {
    row: M,
    #[serde(default)]
    standards: Value,
    #[serde(default)]
    matters: Value,
}

/// The strings of a list; anything else counts as no list.
fn list(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A record as this node logs it: the row, and the links it has here.
#[derive(serde::Serialize)]
struct Logged<'a, M> {
    row: &'a M,
    #[serde(skip_serializing_if = "Option::is_none")]
    standards: Option<BTreeSet<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    matters: Option<BTreeSet<&'a str>>,
}

/// Bound parameters per statement: SQLite allows 32,766 (since 3.32),
/// PostgreSQL 65,535.
const MAX_PARAMS: usize = 30_000;
/// Keys per lookup or delete. Each key is one `OR`ed term, and SQLite
/// refuses an expression nested deeper than 1000.
const KEYS_PER_STATEMENT: usize = 250;

/// A kind of replicated row, as [`apply_page`] needs it.
trait Replicated: Clone + serde::Serialize + serde::de::DeserializeOwned + Send + Sync {
    type Entity: EntityTrait<Model = Self>;
    type Key: Clone + Eq + Hash + Send + Sync;
    const KIND: Replica;
    fn key(&self) -> Self::Key;
    /// The key as the log writes it.
    fn log_key(&self) -> String;
    fn revision(&self) -> i32;
    fn origin(&self) -> &str;
    /// Matches the row with primary key `key`.
    fn is_key(key: &Self::Key) -> Condition;
    /// The key whose parts the log's key joins.
    fn parse_key(parts: &[&str]) -> Result<Self::Key, StoreError>;
    fn timestamps(&mut self) -> Vec<&mut DateTime<Utc>>;
    /// Makes the row revision `revision`, changed at `now`.
    fn touch(&mut self, revision: i32, now: DateTime<Utc>);
}

macro_rules! replicated {
    ($entity:ident, $kind:ident, ($($field:ident: $ty:ty => $column:ident),+), [$($time:ident),+], [$($maybe:ident),*]) => {
        impl Replicated for $entity::Model {
            type Entity = $entity::Entity;
            type Key = ($($ty,)+);
            const KIND: Replica = Replica::$kind;
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
            fn parse_key(parts: &[&str]) -> Result<Self::Key, StoreError> {
                let mut parts = parts.iter();
                Ok(($(
                    parts
                        .next()
                        .ok_or_else(|| corrupt(format!("a {} key lacks a part", Replica::$kind.as_str())))?
                        .parse::<$ty>()
                        .map_err(|e| corrupt(format!("a {} key part: {e}", Replica::$kind.as_str())))?,
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
    collaborative_target,
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

/// `time` as PostgreSQL keeps it: its driver sends whole microseconds
/// since 2000-01-01, dropping the rest toward that epoch. SQLite keeps
/// every nanosecond.
fn as_postgres_keeps(time: DateTime<Utc>) -> DateTime<Utc> {
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

/// One change of a page that applies: where it stands in the page, the key
/// it changes, the row it leaves (`None`: a retraction deleted it), and for
/// a matter or a standard the codes it links to, as sent.
struct Applied<M: Replicated> {
    at: usize,
    key: M::Key,
    row: Option<M>,
    linked: Vec<String>,
}

/// Reads a row's key from a change-log key.
type KeyOf<M> = fn(&str) -> Result<<M as Replicated>::Key, StoreError>;

/// How a page's changes apply.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mode<'a> {
    /// A peer's page on the node whose own rows are those of origin `node`:
    /// a newer revision of another origin's row applies; this node's own
    /// rows are never overwritten, and a version of one that this node
    /// did not write is contested.
    Sync { node: &'a str },
    /// A version that a settlement names as the row's: it replaces the
    /// stored version unless that is newer and not the losing one
    /// (`loser`, a content hash). History credits it to `credit`.
    Install {
        loser: Option<&'a str>,
        credit: &'a str,
    },
}

/// The losing versions this node knows of: (kind, key, revision, hash).
pub(crate) type Judged = HashSet<(Replica, String, i32, String)>;

/// A version of one of this node's own rows that a peer wrote and that
/// lost to the stored one.
struct Contest {
    key: String,
    origin: String,
    loser_revision: i32,
    loser_hash: String,
    loser_record: Option<Value>,
    winner_hash: String,
}

/// The content hash of a version: SHA-256 of the row as JSON, with its
/// times cut to whole microseconds as PostgreSQL keeps them, so that every
/// node hashes a version alike whichever database holds it.
fn content_hash<M: Replicated>(row: &M) -> String {
    let mut row = row.clone();
    for time in row.timestamps() {
        *time = as_postgres_keeps(*time);
    }
    hash_bytes(&serde_json::to_vec(&row).unwrap_or_default())
}

fn hash_bytes(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

/// The content hash of a retraction: a guide withdrawn to a draft.
pub(crate) fn retracted_hash() -> String {
    hash_bytes(b"null")
}

/// The content hash of a logged record (`{ "row": … }`), or of a
/// retraction when there is none.
fn record_hash<M: Replicated>(record: Option<&Value>) -> Result<String, StoreError> {
    match record {
        None => Ok(retracted_hash()),
        Some(record) => {
            let Incoming::<M> { row, .. } = serde::Deserialize::deserialize(record)
                .map_err(|e| corrupt(format!("a logged record cannot be read: {e}")))?;
            Ok(content_hash(&row))
        }
    }
}

/// Decides which of one kind's changes apply, reading the stored revisions
/// of all their keys in one go. `retraction` reads a record-less change's
/// key for the kinds that a record-less change deletes (guides).
async fn plan<M, C>(
    conn: &C,
    changes: &[(usize, &IncomingChange)],
    retraction: Option<KeyOf<M>>,
    mode: Mode<'_>,
    judged: &Judged,
) -> Result<Planned<M>, StoreError>
where
    M: Replicated,
    C: ConnectionTrait,
{
    let postgres = conn.get_database_backend() == DbBackend::Postgres;
    let mut parsed = Vec::with_capacity(changes.len());
    for &(at, change) in changes {
        match (&change.record, retraction) {
            (Some(record), _) => {
                let Incoming {
                    row: mut incoming,
                    standards,
                    matters,
                } = serde_json::from_str::<Incoming<M>>(record.get()).map_err(|e| {
                    corrupt(format!("a peer sent a row this node cannot read: {e}"))
                })?;
                if incoming.log_key() != change.key {
                    return Err(corrupt(format!(
                        "a peer sent {} {} with the row of {}",
                        change.kind,
                        change.key,
                        incoming.log_key()
                    )));
                }
                if postgres {
                    // What is relayed must be what is stored.
                    for time in incoming.timestamps() {
                        *time = as_postgres_keeps(*time);
                    }
                }
                let linked = match M::KIND {
                    Replica::Matter => list(&standards),
                    Replica::Standard => list(&matters),
                    _ => Vec::new(),
                };
                // A record's revision is its row's, as for stored rows.
                let revision = incoming.revision();
                let applied = Applied {
                    at,
                    key: incoming.key(),
                    row: Some(incoming),
                    linked,
                };
                parsed.push((applied, revision, change));
            }
            (None, Some(key)) => {
                let applied = Applied {
                    at,
                    key: key(&change.key)?,
                    row: None,
                    linked: Vec::new(),
                };
                parsed.push((applied, change.revision, change));
            }
            // Only guides are retracted to a replica: a standard goes
            // without a record only while a draft, which no replica has.
            (None, None) => {}
        }
    }
    let mut keys: Vec<M::Key> = Vec::with_capacity(parsed.len());
    let mut seen = HashSet::with_capacity(parsed.len());
    for (change, _, _) in &parsed {
        if seen.insert(&change.key) {
            keys.push(change.key.clone());
        }
    }
    let mut stored_rows = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(KEYS_PER_STATEMENT) {
        let matching = chunk
            .iter()
            .fold(Condition::any(), |any, key| any.add(M::is_key(key)));
        for stored in M::Entity::find().filter(matching).all(conn).await? {
            stored_rows.insert(stored.key(), stored);
        }
    }
    // A retraction deletes a guide here; the revision it came at stays in
    // the log, and a version no newer than that is stale, not new.
    let mut withdrawn: HashMap<String, i32> = HashMap::new();
    if retraction.is_some() {
        let absent: Vec<String> = parsed
            .iter()
            .filter(|(change, _, _)| !stored_rows.contains_key(&change.key))
            .map(|(_, _, incoming)| incoming.key.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        withdrawn = last_logged(conn, M::KIND, &absent).await?;
    }
    // Each key's version as the changes before it in the page left it: its
    // revision, and the applied change that made it (none: as stored).
    let mut current: HashMap<M::Key, Option<(i32, Option<usize>)>> = stored_rows
        .iter()
        .map(|(key, row)| (key.clone(), Some((row.revision(), None))))
        .collect();
    let mut losers = judged.clone();
    let mut applied: Vec<Applied<M>> = Vec::new();
    let mut contested = Vec::new();
    // Contested versions older than the stored one: echoes of this node's
    // own earlier versions unless its log says otherwise.
    let mut older = Vec::new();
    for (change, revision, incoming) in parsed {
        let hash = change
            .row
            .as_ref()
            .map_or_else(retracted_hash, content_hash);
        let version = (M::KIND, incoming.key.clone(), revision, hash);
        if losers.contains(&version) {
            continue;
        }
        let (_, _, _, hash) = &version;
        let state = current.entry(change.key.clone()).or_insert(None);
        let state_hash = |state: Option<usize>, applied: &[Applied<M>]| {
            let row = match state {
                Some(index) => applied[index].row.as_ref(),
                None => stored_rows.get(&change.key),
            };
            row.map_or_else(retracted_hash, content_hash)
        };
        let applies = match (mode, *state) {
            (_, None) => {
                change.row.is_some()
                    && withdrawn
                        .get(&incoming.key)
                        .is_none_or(|&gone| gone < revision)
            }
            (Mode::Install { loser, .. }, Some((stored, by))) => {
                let stored_hash = state_hash(by, &applied);
                stored < revision
                    || loser == Some(stored_hash.as_str())
                    || (stored == revision && stored_hash != *hash)
            }
            (Mode::Sync { node }, Some((stored, by))) => {
                let origin = match &change.row {
                    Some(row) => row.origin(),
                    None => split_key(M::KIND, &incoming.key)?[0],
                };
                if origin != node {
                    stored < revision
                } else {
                    // This node's own row: only its own writes change it.
                    let stored_hash = state_hash(by, &applied);
                    if !(stored == revision && stored_hash == *hash) {
                        let contest = Contest {
                            key: incoming.key.clone(),
                            origin: origin.to_owned(),
                            loser_revision: revision,
                            loser_hash: hash.clone(),
                            loser_record: incoming
                                .record
                                .as_ref()
                                .map(|raw| serde_json::from_str(raw.get()))
                                .transpose()
                                .map_err(corrupt)?,
                            winner_hash: stored_hash,
                        };
                        if revision < stored {
                            older.push(contest);
                        } else {
                            contested.push(contest);
                        }
                        losers.insert(version.clone());
                    }
                    false
                }
            }
        };
        if applies {
            *state = change.row.as_ref().map(|_| (revision, Some(applied.len())));
            if change.row.is_none() {
                withdrawn.insert(incoming.key.clone(), revision);
            }
            applied.push(change);
        }
    }
    contested.extend(not_logged_here::<M, C>(conn, older).await?);
    Ok(Planned {
        applied,
        stored: stored_rows,
        contested,
    })
}

/// The newest revision this node's log holds of each of these keys of `kind`.
pub(crate) async fn last_logged<C: ConnectionTrait>(
    conn: &C,
    kind: Replica,
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

/// Of these versions of this node's own rows, those its log never held:
/// the rest are its own earlier versions coming back through a relay.
async fn not_logged_here<M: Replicated, C: ConnectionTrait>(
    conn: &C,
    versions: Vec<Contest>,
) -> Result<Vec<Contest>, StoreError> {
    let mut logged = HashSet::new();
    for chunk in versions.chunks(KEYS_PER_STATEMENT) {
        let matching = chunk.iter().fold(Condition::any(), |any, version| {
            any.add(
                Condition::all()
                    .add(change_log::Column::RowKey.eq(version.key.as_str()))
                    .add(change_log::Column::Revision.eq(version.loser_revision)),
            )
        });
        let entries = change_log::Entity::find()
            .filter(change_log::Column::Kind.eq(M::KIND.as_str()))
            .filter(matching)
            .all(conn)
            .await?;
        for entry in entries {
            let hash = record_hash::<M>(entry.record.as_ref())?;
            logged.insert((entry.row_key, entry.revision, hash));
        }
    }
    Ok(versions
        .into_iter()
        .filter(|v| !logged.contains(&(v.key.clone(), v.loser_revision, v.loser_hash.clone())))
        .collect())
}

/// Who the history credits with a revision a sync page applied.
const SYNCED_BY: &str = "concord sync";

/// The versions one history-keeping kind's applied changes leave: the
/// stored version of each key they change (a version the page itself made
/// is kept as it is made), and the version each change with a row makes; a
/// retraction (a guide gone back to a draft on its node) makes none.
/// `snapshot` reads a row's content: of an applied change, or (`None`) as
/// stored.
fn versions<M: Replicated>(
    kind: Kind,
    applied: &[Applied<M>],
    stored: &HashMap<M::Key, M>,
    (credit, now): (&str, DateTime<Utc>),
    out: &mut Vec<row_revision::ActiveModel>,
    snapshot: impl Fn(Option<&Applied<M>>, &M) -> Value,
) {
    let version = |row: &M, content: Value, changed_by: Option<&str>| row_revision::ActiveModel {
        kind: sea_orm::Set(kind.as_str().to_owned()),
        row_key: sea_orm::Set(row.log_key()),
        revision: sea_orm::Set(row.revision()),
        snapshot: sea_orm::Set(content),
        changed_by: sea_orm::Set(changed_by.map(str::to_owned)),
        changed_at: sea_orm::Set(now),
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

/// Inserts kept versions, leaving any version kept already as it is.
async fn keep<C: ConnectionTrait>(
    conn: &C,
    versions: Vec<row_revision::ActiveModel>,
) -> Result<(), StoreError> {
    let mut versions = versions.into_iter().peekable();
    while versions.peek().is_some() {
        let chunk: Vec<_> = versions.by_ref().take(KEYS_PER_STATEMENT).collect();
        row_revision::Entity::insert_many(chunk)
            .on_conflict(
                OnConflict::columns([
                    row_revision::Column::Kind,
                    row_revision::Column::RowKey,
                    row_revision::Column::Revision,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// The matters each of these stored standards links to, in code order.
async fn stored_matter_links<C: ConnectionTrait>(
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

/// One kind's changes that apply, the rows they replace as stored, and
/// the versions of this node's own rows that lost.
struct Planned<M: Replicated> {
    applied: Vec<Applied<M>>,
    stored: HashMap<M::Key, M>,
    contested: Vec<Contest>,
}

/// Writes what a kind's applied changes leave: for each key, the last one.
async fn write<M, C>(conn: &C, applied: Vec<Applied<M>>) -> Result<(), StoreError>
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
        let matching = chunk
            .iter()
            .fold(Condition::any(), |any, key| any.add(M::is_key(key)));
        M::Entity::delete_many().filter(matching).exec(conn).await?;
    }
    let keys: Vec<_> = <M::Entity as EntityTrait>::PrimaryKey::iter()
        .map(|key| key.into_column())
        .collect();
    let rest: Vec<_> = <M::Entity as EntityTrait>::Column::iter()
        .filter(|column| !keys.iter().any(|key| key.as_str() == column.as_str()))
        .collect();
    let per_statement = MAX_PARAMS / <M::Entity as EntityTrait>::Column::iter().count().max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk = rows
            .by_ref()
            .take(per_statement)
            .map(IntoActiveModel::into_active_model);
        M::Entity::insert_many(chunk)
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
fn written_keys<M: Replicated<Key = (String,)>>(applied: &[Applied<M>]) -> Vec<String> {
    let keys: BTreeSet<&str> = applied.iter().map(|change| change.key.0.as_str()).collect();
    keys.into_iter().map(str::to_owned).collect()
}

/// Which codes of one kind exist at each point of a page. Matters,
/// standards and collaborative standards are never deleted, so a code
/// exists at a point when it did before the page or a change with a
/// record came for it earlier in the page (applied or not: if not, it was
/// stale, so the row was there).
struct Presence<'a> {
    before: HashSet<String>,
    first: HashMap<&'a str, usize>,
}

impl<'a> Presence<'a> {
    async fn load<E, C>(
        conn: &C,
        column: E::Column,
        codes: BTreeSet<&str>,
        page: &'a [IncomingChange],
        kind: Replica,
    ) -> Result<Self, StoreError>
    where
        E: EntityTrait,
        C: ConnectionTrait,
    {
        let codes: Vec<&str> = codes.into_iter().collect();
        let mut before = HashSet::new();
        for chunk in codes.chunks(KEYS_PER_STATEMENT * 4) {
            let found: Vec<String> = E::find()
                .select_only()
                .column(column)
                .filter(column.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(conn)
                .await?;
            before.extend(found);
        }
        let mut first = HashMap::new();
        for (at, change) in page.iter().enumerate() {
            if change.record.is_some() && change.kind == kind.as_str() {
                first.entry(change.key.as_str()).or_insert(at);
            }
        }
        Ok(Self { before, first })
    }

    fn at(&self, code: &str, at: usize) -> bool {
        self.before.contains(code) || self.first.get(code).is_some_and(|&first| first < at)
    }
}

/// The links of standards and matters that a page sets, worked out in page
/// order: each applied standard or matter makes its own links exactly the
/// listed ones that exist at that point, so a pair ends as the last change
/// of either side left it.
struct Links<'a> {
    standards: Presence<'a>,
    matters: Presence<'a>,
    /// Each side's last applied list: (position, linked codes).
    last_of_matter: HashMap<&'a str, (usize, &'a [String])>,
    last_of_standard: HashMap<&'a str, (usize, &'a [String])>,
}

impl<'a> Links<'a> {
    async fn load<C: ConnectionTrait>(
        conn: &C,
        page: &'a [IncomingChange],
        matters: &'a [Applied<service_matter::Model>],
        standards: &'a [Applied<standard::Model>],
    ) -> Result<Self, StoreError> {
        // Later changes of a code replace earlier ones in the map.
        let last_of_matter: HashMap<_, _> = matters
            .iter()
            .map(|a| (page[a.at].key.as_str(), (a.at, a.linked.as_slice())))
            .collect();
        let last_of_standard: HashMap<_, _> = standards
            .iter()
            .map(|a| (page[a.at].key.as_str(), (a.at, a.linked.as_slice())))
            .collect();
        // Every list of the page, not only the last: relayed records need them.
        let standards_listed = matters
            .iter()
            .flat_map(|a| a.linked.iter().map(String::as_str))
            .collect();
        let matters_listed = standards
            .iter()
            .flat_map(|a| a.linked.iter().map(String::as_str))
            .collect();
        Ok(Self {
            standards: Presence::load::<standard::Entity, _>(
                conn,
                standard::Column::Code,
                standards_listed,
                page,
                Replica::Standard,
            )
            .await?,
            matters: Presence::load::<service_matter::Entity, _>(
                conn,
                service_matter::Column::Code,
                matters_listed,
                page,
                Replica::Matter,
            )
            .await?,
            last_of_matter,
            last_of_standard,
        })
    }

    /// Of the codes a change at `at` lists, those that exist at that point.
    fn known<'b>(presence: &Presence<'_>, linked: &'b [String], at: usize) -> BTreeSet<&'b str> {
        linked
            .iter()
            .map(String::as_str)
            .filter(|code| presence.at(code, at))
            .collect()
    }

    /// What replaces the links of every standard and matter the page changed.
    fn replacement(&self) -> LinkReplacement {
        let mut pairs = BTreeSet::new();
        for (&matter, &(at, standards)) in &self.last_of_matter {
            for code in Self::known(&self.standards, standards, at) {
                let overruled = self
                    .last_of_standard
                    .get(code)
                    .is_some_and(|&(later, _)| later > at);
                if !overruled {
                    pairs.insert((code.to_owned(), matter.to_owned()));
                }
            }
        }
        for (&standard, &(at, matters)) in &self.last_of_standard {
            for code in Self::known(&self.matters, matters, at) {
                let overruled = self
                    .last_of_matter
                    .get(code)
                    .is_some_and(|&(later, _)| later > at);
                if !overruled {
                    pairs.insert((standard.to_owned(), code.to_owned()));
                }
            }
        }
        LinkReplacement {
            matters: self.last_of_matter.keys().map(|&c| c.to_owned()).collect(),
            standards: self
                .last_of_standard
                .keys()
                .map(|&c| c.to_owned())
                .collect(),
            pairs,
        }
    }
}

/// The standards and matters whose links a page replaces, and their links
/// after it as (standard, matter) pairs.
struct LinkReplacement {
    matters: Vec<String>,
    standards: Vec<String>,
    pairs: BTreeSet<(String, String)>,
}

impl LinkReplacement {
    async fn write<C: ConnectionTrait>(self, conn: &C) -> Result<(), StoreError> {
        for (column, codes) in [
            (standard_matter::Column::MatterCode, self.matters),
            (standard_matter::Column::StandardCode, self.standards),
        ] {
            for chunk in codes.chunks(KEYS_PER_STATEMENT * 4) {
                standard_matter::Entity::delete_many()
                    .filter(column.is_in(chunk.iter().map(String::as_str)))
                    .exec(conn)
                    .await?;
            }
        }
        let mut pairs = self.pairs.into_iter().peekable();
        while pairs.peek().is_some() {
            let chunk = pairs
                .by_ref()
                .take(MAX_PARAMS / 2)
                .map(|(standard, matter)| standard_matter::ActiveModel {
                    standard_code: sea_orm::Set(standard),
                    matter_code: sea_orm::Set(matter),
                });
            standard_matter::Entity::insert_many(chunk)
                .exec_without_returning(conn)
                .await?;
        }
        Ok(())
    }
}

/// A change log entry of a page: its position, its kind and key, and the
/// record as JSON text (or none: a retraction).
struct Entry<'a> {
    at: usize,
    kind: &'a str,
    key: &'a str,
    origin: String,
    revision: i32,
    record: Option<String>,
}

/// The log entries of one kind's applied changes, each recording the row
/// as that change left it: `record` is what the kind logs of a row, and
/// `published` withholds the rows that are not published (a retraction).
fn relay<'a, 'b, M: Replicated>(
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
                origin: split_key(Replica::Guide, &incoming.key)?[0].to_owned(),
                revision: incoming.revision,
                record: None,
            },
        };
        log.push(entry);
    }
    Ok(())
}

/// The record of kinds that log the row alone.
fn row_only<'a, M: Replicated>(_: &'a Applied<M>, row: &'a M) -> Logged<'a, M> {
    Logged {
        row,
        standards: None,
        matters: None,
    }
}

fn always<M: Replicated>(_: &Applied<M>, _: &M) -> bool {
    true
}

/// Appends `entries` to the log in page order. The records go in as JSON
/// text: binding them as JSON values would copy every record twice over
/// on the way to the driver.
async fn append<C: ConnectionTrait>(
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

fn guide_key(key: &str) -> Result<(String, String), StoreError> {
    let parts = split_key(Replica::Guide, key)?;
    Ok((parts[0].to_owned(), parts[1].to_owned()))
}

/// Applies a page of a peer's changes as if one at a time in page order,
/// on the node whose own rows are those of origin `node` (a region code, or
/// `100000` on the national hub):
///
/// - a change of another origin's row applies when its key is absent here
///   or its revision is newer than the stored one; a guide without a record
///   (a retraction) deletes an older local guide;
/// - a change of one of this node's own rows never applies (but to create
///   it); a version this node did not write loses to the stored one, which
///   is kept as a conflict and announced in the log with a `CONFLICT` entry;
/// - a version some origin has ruled a loser never applies;
/// - `CONFLICT` and `RESOLUTION` entries (an origin's verdicts and their
///   settlements) are recorded, and install the version they name;
/// - standards and matters link to every listed code known here.
///
/// Every applied change is relayed into this node's log. Returns how many
/// applied.
///
/// It reads what the page needs up front and writes each kind in bulk, in
/// an order the foreign keys accept (no row of a page is ever deleted but
/// guides, which nothing references), so the statements it runs do not
/// grow with the page but for chunking and verdicts. Run it in a
/// transaction: on an error part of the page may have been written.
pub async fn apply_page<C: ConnectionTrait>(
    conn: &C,
    page: &[IncomingChange],
    node: &str,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let mut applied = 0;
    let mut rows = 0;
    // Every row first, the log last: a mutation locks its row, then the
    // log, and PostgreSQL holds the log's lock to the end of a transaction,
    // so a page that took it before a row could deadlock with a mutation.
    let mut logged = Vec::new();
    for (at, change) in page.iter().enumerate() {
        if let Some(verdict) = Verdict::parse(&change.kind) {
            applied +=
                apply_rows(conn, &page[rows..at], Mode::Sync { node }, now, &mut logged).await?;
            applied += settle(conn, verdict, change, node, now, &mut logged).await?;
            rows = at + 1;
        }
    }
    applied += apply_rows(conn, &page[rows..], Mode::Sync { node }, now, &mut logged).await?;
    for entry in logged {
        match entry {
            Pending::Relay(entries) => append(conn, entries, now).await?,
            Pending::Current(kind, key) => {
                log_current(conn, kind, &split_key(kind, &key)?, now).await?;
            }
            Pending::Verdict(key, record) => {
                log_verdict(conn, Verdict::Conflict, &key, &record, now).await?;
            }
        }
    }
    Ok(applied)
}

/// What a page logs, in order, once its rows are written.
enum Pending<'a> {
    /// Entries relayed as the page brought them.
    Relay(Vec<Entry<'a>>),
    /// This node's own row, as it now stands.
    Current(Replica, String),
    /// A version of this node's own row lost.
    Verdict(String, Box<VerdictRecord>),
}

/// The losing versions this node knows of among the keys of `page`.
async fn judged<C: ConnectionTrait>(
    conn: &C,
    page: &[IncomingChange],
) -> Result<Judged, StoreError> {
    let keys: BTreeSet<&str> = page.iter().map(|change| change.key.as_str()).collect();
    let keys: Vec<&str> = keys.into_iter().collect();
    let mut judged = Judged::new();
    for chunk in keys.chunks(KEYS_PER_STATEMENT * 4) {
        let known = sync_conflict::Entity::find()
            .filter(sync_conflict::Column::RowKey.is_in(chunk.iter().copied()))
            .all(conn)
            .await?;
        for conflict in known {
            if let Some(kind) = Replica::parse(&conflict.kind) {
                judged.insert((
                    kind,
                    conflict.row_key,
                    conflict.loser_revision,
                    conflict.loser_hash,
                ));
            }
        }
    }
    Ok(judged)
}

/// Applies a run of row changes (no verdicts) in bulk, and adds what the
/// log is to record of them to `logged`; see [`apply_page`]. Installing
/// (`Mode::Install`) relays nothing.
async fn apply_rows<'a, C: ConnectionTrait>(
    conn: &C,
    page: &'a [IncomingChange],
    mode: Mode<'_>,
    now: DateTime<Utc>,
    logged: &mut Vec<Pending<'a>>,
) -> Result<u64, StoreError> {
    if page.is_empty() {
        return Ok(0);
    }
    let mut by_kind: HashMap<Replica, Vec<(usize, &IncomingChange)>> = HashMap::new();
    for (at, change) in page.iter().enumerate() {
        let Some(kind) = Replica::parse(&change.kind) else {
            return Err(corrupt(format!(
                "a peer sent a change of unknown kind {}",
                change.kind
            )));
        };
        by_kind.entry(kind).or_default().push((at, change));
    }
    let judged = match mode {
        Mode::Sync { .. } => judged(conn, page).await?,
        Mode::Install { .. } => Judged::new(),
    };
    let credit = match mode {
        Mode::Sync { .. } => SYNCED_BY,
        Mode::Install { credit, .. } => credit,
    };
    let mut of = |kind| by_kind.remove(&kind).unwrap_or_default();
    let mut contested = Vec::new();
    let Planned {
        applied: items,
        contested: lost,
        ..
    } = plan::<national_item::Model, _>(conn, &of(Replica::NationalItem), None, mode, &judged)
        .await?;
    contested.extend(lost.into_iter().map(|c| (Replica::NationalItem, c)));
    let Planned {
        applied: matters,
        contested: lost,
        ..
    } = plan::<service_matter::Model, _>(conn, &of(Replica::Matter), None, mode, &judged).await?;
    contested.extend(lost.into_iter().map(|c| (Replica::Matter, c)));
    let Planned {
        applied: standards,
        stored: standards_before,
        contested: lost,
    } = plan::<standard::Model, _>(conn, &of(Replica::Standard), None, mode, &judged).await?;
    contested.extend(lost.into_iter().map(|c| (Replica::Standard, c)));
    let Planned {
        applied: guides,
        stored: guides_before,
        contested: lost,
    } = plan::<service_guide::Model, _>(conn, &of(Replica::Guide), Some(guide_key), mode, &judged)
        .await?;
    contested.extend(lost.into_iter().map(|c| (Replica::Guide, c)));
    let Planned {
        applied: procedures,
        stored: procedures_before,
        contested: lost,
    } = plan::<operating_procedure::Model, _>(conn, &of(Replica::Procedure), None, mode, &judged)
        .await?;
    contested.extend(lost.into_iter().map(|c| (Replica::Procedure, c)));
    let Planned {
        applied: evaluations,
        contested: lost,
        ..
    } = plan::<evaluation::Model, _>(conn, &of(Replica::Evaluation), None, mode, &judged).await?;
    contested.extend(lost.into_iter().map(|c| (Replica::Evaluation, c)));
    let Planned {
        applied: targets,
        contested: lost,
        ..
    } = plan::<collaborative_target::Model, _>(
        conn,
        &of(Replica::CollaborativeStandard),
        None,
        mode,
        &judged,
    )
    .await?;
    contested.extend(
        lost.into_iter()
            .map(|c| (Replica::CollaborativeStandard, c)),
    );
    let Planned {
        applied: adoptions,
        contested: lost,
        ..
    } = plan::<adoption::Model, _>(conn, &of(Replica::Adoption), None, mode, &judged).await?;
    contested.extend(lost.into_iter().map(|c| (Replica::Adoption, c)));
    let links = Links::load(conn, page, &matters, &standards).await?;
    // A zone's proposed collaborative standard is public while a draft.
    let drafts: BTreeSet<&str> = standards
        .iter()
        .filter_map(|a| a.row.as_ref())
        .filter(|row| row.status == StandardStatus::Draft.as_str())
        .map(|row| row.code.as_str())
        .collect();
    let proposals = Presence::load::<collaborative_target::Entity, _>(
        conn,
        collaborative_target::Column::StandardCode,
        drafts,
        page,
        Replica::CollaborativeStandard,
    )
    .await?;

    // Each relayed record is the state now stored, as `log_current` would
    // read it back right after that change: the row as applied, and the
    // links it has here at that point. A linked code unknown here is still
    // relayed, so that a node further on that knows it links it.
    let mut log = Vec::with_capacity(page.len());
    relay(page, &items, &mut log, row_only, always)?;
    relay(
        page,
        &matters,
        &mut log,
        |change, row| Logged {
            standards: Some(change.linked.iter().map(String::as_str).collect()),
            ..row_only(change, row)
        },
        always,
    )?;
    relay(
        page,
        &standards,
        &mut log,
        |change, row| Logged {
            matters: Some(change.linked.iter().map(String::as_str).collect()),
            ..row_only(change, row)
        },
        |change, standard| {
            standard.status != StandardStatus::Draft.as_str()
                || proposals.at(&standard.code, change.at)
        },
    )?;
    relay(page, &guides, &mut log, row_only, |_, guide| {
        guide.status == GuideStatus::Published.as_str()
    })?;
    relay(page, &procedures, &mut log, row_only, always)?;
    relay(page, &evaluations, &mut log, row_only, always)?;
    relay(page, &targets, &mut log, row_only, always)?;
    relay(page, &adoptions, &mut log, row_only, always)?;
    let applied = log.len() as u64;

    // An applied revision keeps the version it replaced, as a mutation's
    // does; read before the writes replace the rows and their links.
    let mut history = Vec::new();
    versions(
        Kind::Guide,
        &guides,
        &guides_before,
        (credit, now),
        &mut history,
        |_, row| mutate::guide_snapshot(row),
    );
    versions(
        Kind::Procedure,
        &procedures,
        &procedures_before,
        (credit, now),
        &mut history,
        |_, row| mutate::procedure_snapshot(row),
    );
    let linked_before = stored_matter_links(conn, &standards_before).await?;
    versions(
        Kind::Standard,
        &standards,
        &standards_before,
        (credit, now),
        &mut history,
        |change, row| {
            let matters: Vec<String> = match change {
                Some(change) => Links::known(&links.matters, &change.linked, change.at)
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
                None => linked_before.get(&row.code).cloned().unwrap_or_default(),
            };
            mutate::standard_snapshot(row, &matters)
        },
    );
    let links = links.replacement();

    // The grams follow the rows: every key written is cut again.
    let matter_keys = written_keys(&matters);
    let standard_keys = written_keys(&standards);
    write(conn, items).await?;
    write(conn, matters).await?;
    write(conn, standards).await?;
    search::reindex(conn, Searched::Matter, &matter_keys).await?;
    search::reindex(conn, Searched::Standard, &standard_keys).await?;
    links.write(conn).await?;
    write(conn, guides).await?;
    write(conn, procedures).await?;
    write(conn, evaluations).await?;
    write(conn, targets).await?;
    write(conn, adoptions).await?;
    // Rows first, then their history and the log: a mutation locks its
    // row, then writes history and the log, and taking them in another
    // order could deadlock with one on PostgreSQL.
    keep(conn, history).await?;
    let restamped = restamp_contested(conn, &contested, now).await?;
    if let Mode::Sync { .. } = mode {
        logged.push(Pending::Relay(log));
    }
    announce(conn, contested, restamped, now, logged).await?;
    Ok(applied)
}

/// The entries an origin logs about versions of its rows: a `CONFLICT`
/// when a peer's version lost to its own, a `RESOLUTION` when an
/// administrator settled one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Conflict,
    Resolution,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Conflict => "CONFLICT",
            Verdict::Resolution => "RESOLUTION",
        }
    }

    pub fn parse(kind: &str) -> Option<Self> {
        [Verdict::Conflict, Verdict::Resolution]
            .into_iter()
            .find(|verdict| verdict.as_str() == kind)
    }
}

/// One version of a row that a verdict names.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Version {
    pub revision: i32,
    pub hash: String,
    /// The record as logged; null for a retraction or a draft.
    pub record: Option<Value>,
}

/// A verdict's record in the log.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct VerdictRecord {
    /// The kind of the row.
    pub of: String,
    /// The region that owns the row and ruled.
    pub origin: String,
    /// The version the row has at its origin: the one that won, or for a
    /// resolution the one the settlement left.
    pub winner: Version,
    /// The version that lost; a resolution names it without its record.
    pub loser: Version,
    /// A resolution's choice: `WINNER` or `LOSER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept: Option<String>,
    /// Who settled it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// Stamps each of this node's own rows that a losing version reached or
/// passed again, past the highest losing revision, and returns the new
/// versions' content hashes.
///
/// A losing version at or above the row's revision would leave the peers
/// that took it ahead of the origin, and that revision would later name two
/// versions. Stamped past it, the origin's version replaces the losers
/// everywhere as the newest, and the history shows both.
async fn restamp_contested<C: ConnectionTrait>(
    conn: &C,
    contested: &[(Replica, Contest)],
    now: DateTime<Utc>,
) -> Result<HashMap<(Replica, String), String>, StoreError> {
    let mut highest: HashMap<(Replica, &str), i32> = HashMap::new();
    for (kind, lost) in contested {
        let top = highest
            .entry((*kind, lost.key.as_str()))
            .or_insert(i32::MIN);
        *top = Ord::max(*top, lost.loser_revision);
    }
    let mut restamped = HashMap::new();
    for ((kind, key), top) in highest {
        let parts = split_key(kind, key)?;
        let (_, revision, _) = current_record(conn, kind, &parts).await?;
        if top >= revision {
            let hash = restamp(conn, kind, &parts, top + 1, now).await?;
            restamped.insert((kind, key.to_owned()), hash);
        }
    }
    Ok(restamped)
}

/// Records the versions of this node's own rows that lost, and announces
/// each in the log with the version that won, as the row now stands, after
/// the row's new revision where it was stamped again.
async fn announce<C: ConnectionTrait>(
    conn: &C,
    contested: Vec<(Replica, Contest)>,
    restamped: HashMap<(Replica, String), String>,
    now: DateTime<Utc>,
    logged: &mut Vec<Pending<'_>>,
) -> Result<(), StoreError> {
    for (kind, key) in restamped.keys() {
        logged.push(Pending::Current(*kind, key.clone()));
    }
    for (kind, lost) in contested {
        let parts = split_key(kind, &lost.key)?;
        let (_, revision, record) = current_record(conn, kind, &parts).await?;
        let hash = restamped
            .get(&(kind, lost.key.clone()))
            .cloned()
            .unwrap_or(lost.winner_hash);
        let verdict = VerdictRecord {
            of: kind.as_str().to_owned(),
            origin: lost.origin,
            winner: Version {
                revision,
                hash,
                record,
            },
            loser: Version {
                revision: lost.loser_revision,
                hash: lost.loser_hash,
                record: lost.loser_record,
            },
            kept: None,
            by: None,
        };
        record_conflict(conn, kind, &lost.key, &verdict, now).await?;
        logged.push(Pending::Verdict(lost.key, Box::new(verdict)));
    }
    Ok(())
}

/// Stores an open conflict as `verdict` describes it.
async fn record_conflict<C: ConnectionTrait>(
    conn: &C,
    kind: Replica,
    key: &str,
    verdict: &VerdictRecord,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sync_conflict::ActiveModel {
        kind: sea_orm::Set(kind.as_str().to_owned()),
        row_key: sea_orm::Set(key.to_owned()),
        loser_revision: sea_orm::Set(verdict.loser.revision),
        loser_hash: sea_orm::Set(verdict.loser.hash.clone()),
        origin: sea_orm::Set(verdict.origin.clone()),
        loser_record: sea_orm::Set(verdict.loser.record.clone()),
        winner_revision: sea_orm::Set(verdict.winner.revision),
        winner_hash: sea_orm::Set(verdict.winner.hash.clone()),
        winner_record: sea_orm::Set(verdict.winner.record.clone()),
        detected_at: sea_orm::Set(now),
        resolution: sea_orm::Set(verdict.kept.clone()),
        resolved_by: sea_orm::Set(verdict.by.clone()),
        resolved_at: sea_orm::Set(verdict.kept.as_ref().map(|_| now)),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Appends a verdict to this node's log.
pub(crate) async fn log_verdict<C: ConnectionTrait>(
    conn: &C,
    verdict: Verdict,
    key: &str,
    record: &VerdictRecord,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    lock_log(conn).await?;
    change_log::ActiveModel {
        seq: sea_orm::NotSet,
        kind: sea_orm::Set(verdict.as_str().to_owned()),
        row_key: sea_orm::Set(key.to_owned()),
        origin: sea_orm::Set(record.origin.clone()),
        revision: sea_orm::Set(record.winner.revision),
        record: sea_orm::Set(Some(to_json(record)?)),
        committed_at: sea_orm::Set(now),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Applies a peer's verdict about another origin's row: records the
/// conflict (or its settlement), installs the version the row has at its
/// origin, and relays the verdict. A verdict seen before changes nothing,
/// and a node never takes a verdict about its own rows from a peer: it
/// rules on those itself.
async fn settle<'a, C: ConnectionTrait>(
    conn: &C,
    verdict: Verdict,
    change: &'a IncomingChange,
    node: &str,
    now: DateTime<Utc>,
    logged: &mut Vec<Pending<'a>>,
) -> Result<u64, StoreError> {
    let raw = change
        .record
        .as_ref()
        .ok_or_else(|| corrupt(format!("a peer sent a {} without its record", change.kind)))?;
    let record: VerdictRecord = serde_json::from_str(raw.get())
        .map_err(|e| corrupt(format!("a peer sent a verdict this node cannot read: {e}")))?;
    let kind = Replica::parse(&record.of)
        .ok_or_else(|| corrupt(format!("a peer sent a verdict about a {}", record.of)))?;
    split_key(kind, &change.key)?;
    if record.origin == node {
        return Ok(0);
    }
    let known = sync_conflict::Entity::find_by_id((
        kind.as_str().to_owned(),
        change.key.clone(),
        record.loser.revision,
        record.loser.hash.clone(),
    ))
    .one(conn)
    .await?;
    match (verdict, known) {
        (Verdict::Conflict, Some(_)) => return Ok(0),
        (Verdict::Resolution, Some(known)) if known.resolution.is_some() => return Ok(0),
        (Verdict::Conflict, None) => record_conflict(conn, kind, &change.key, &record, now).await?,
        (Verdict::Resolution, Some(known)) => {
            let mut open = known.into_active_model();
            open.resolution = sea_orm::Set(record.kept.clone());
            open.resolved_by = sea_orm::Set(record.by.clone());
            open.resolved_at = sea_orm::Set(Some(now));
            open.update(conn).await?;
        }
        // Settled before its conflict arrived here: keep the settlement, so
        // that the conflict, when it comes, finds it and changes nothing.
        (Verdict::Resolution, None) => {
            record_conflict(conn, kind, &change.key, &record, now).await?;
        }
    }
    let named = IncomingChange {
        kind: record.of.clone(),
        key: change.key.clone(),
        revision: record.winner.revision,
        record: record
            .winner
            .record
            .as_ref()
            .map(|record| RawValue::from_string(record.to_string()))
            .transpose()
            .map_err(corrupt)?,
    };
    let install = Mode::Install {
        loser: Some(&record.loser.hash),
        credit: SYNCED_BY,
    };
    // Installing logs nothing: the verdict that installs is relayed itself.
    apply_rows(
        conn,
        std::slice::from_ref(&named),
        install,
        now,
        &mut Vec::new(),
    )
    .await?;
    logged.push(Pending::Relay(vec![Entry {
        at: 0,
        kind: verdict.as_str(),
        key: &change.key,
        origin: record.origin.clone(),
        revision: change.revision,
        record: Some(raw.get().to_owned()),
    }]));
    Ok(1)
}

/// The content hash of a logged record of `kind` (see [`content_hash`]).
pub(crate) fn hash_of_record(kind: Replica, record: Option<&Value>) -> Result<String, StoreError> {
    match kind {
        Replica::Matter => record_hash::<service_matter::Model>(record),
        Replica::Standard => record_hash::<standard::Model>(record),
        Replica::Guide => record_hash::<service_guide::Model>(record),
        Replica::Procedure => record_hash::<operating_procedure::Model>(record),
        Replica::NationalItem => record_hash::<national_item::Model>(record),
        Replica::Evaluation => record_hash::<evaluation::Model>(record),
        Replica::CollaborativeStandard => record_hash::<collaborative_target::Model>(record),
        Replica::Adoption => record_hash::<adoption::Model>(record),
    }
}

/// Installs `record` as the row `key` of `kind` at `revision`, whatever
/// revision is stored: the version an administrator chose to settle a
/// conflict, credited in the row's history to `credit`. It is not logged
/// here; the caller logs the row as it then stands.
pub(crate) async fn install<C: ConnectionTrait>(
    conn: &C,
    kind: Replica,
    key: &str,
    revision: i32,
    record: &Value,
    credit: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let change = IncomingChange {
        kind: kind.as_str().to_owned(),
        key: key.to_owned(),
        revision,
        record: Some(RawValue::from_string(record.to_string()).map_err(corrupt)?),
    };
    let mode = Mode::Install {
        loser: None,
        credit,
    };
    apply_rows(
        conn,
        std::slice::from_ref(&change),
        mode,
        now,
        &mut Vec::new(),
    )
    .await?;
    Ok(())
}

/// A checksum of one replicated table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksum {
    pub table: &'static str,
    pub rows: u64,
    /// Hex SHA-256 over the rows in key order.
    pub sha256: String,
}

/// A checksum of every replicated table: the rows of each kind that leave
/// a node (drafts do not), with times cut to whole microseconds as
/// PostgreSQL keeps them, the links of
/// standards and matters, and the open sync conflicts. Two nodes that hold
/// the same replicated data give the same checksums, whichever database
/// each runs on; seed rows count, so nodes seeded alike compare alike.
pub async fn checksums<C: ConnectionTrait>(conn: &C) -> Result<Vec<Checksum>, StoreError> {
    let proposals: HashSet<String> = collaborative_target::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|target| target.standard_code)
        .collect();
    let mut sums = vec![
        table_checksum::<service_matter::Model, _>(conn, "service_matter", |_| true).await?,
        // What replicates of standards and guides: what leaves a node.
        table_checksum::<standard::Model, _>(conn, "standard", |row| {
            row.status != StandardStatus::Draft.as_str() || proposals.contains(&row.code)
        })
        .await?,
        table_checksum::<service_guide::Model, _>(conn, "service_guide", |row| {
            row.status == GuideStatus::Published.as_str()
        })
        .await?,
        table_checksum::<operating_procedure::Model, _>(conn, "operating_procedure", |_| true)
            .await?,
        table_checksum::<national_item::Model, _>(conn, "national_item", |_| true).await?,
        table_checksum::<evaluation::Model, _>(conn, "evaluation", |_| true).await?,
        table_checksum::<collaborative_target::Model, _>(conn, "collaborative_target", |_| true)
            .await?,
        table_checksum::<adoption::Model, _>(conn, "adoption", |_| true).await?,
    ];
    let links: Vec<(String, String)> = standard_matter::Entity::find()
        .order_by_asc(standard_matter::Column::StandardCode)
        .order_by_asc(standard_matter::Column::MatterCode)
        .all(conn)
        .await?
        .into_iter()
        .map(|link| (link.standard_code, link.matter_code))
        .collect();
    sums.push(Checksum {
        table: "standard_matter",
        rows: links.len() as u64,
        sha256: hash_bytes(&serde_json::to_vec(&links).map_err(corrupt)?),
    });
    let open: Vec<Value> = sync_conflict::Entity::find()
        .filter(sync_conflict::Column::Resolution.is_null())
        .order_by_asc(sync_conflict::Column::Kind)
        .order_by_asc(sync_conflict::Column::RowKey)
        .order_by_asc(sync_conflict::Column::LoserRevision)
        .order_by_asc(sync_conflict::Column::LoserHash)
        .all(conn)
        .await?
        .into_iter()
        .map(|conflict| {
            json!([
                conflict.kind,
                conflict.row_key,
                conflict.loser_revision,
                conflict.loser_hash,
                conflict.origin,
                conflict.winner_revision,
                conflict.winner_hash,
                conflict.loser_record,
                conflict.winner_record,
            ])
        })
        .collect();
    sums.push(Checksum {
        table: "sync_conflict",
        rows: open.len() as u64,
        sha256: hash_bytes(&serde_json::to_vec(&open).map_err(corrupt)?),
    });
    Ok(sums)
}

async fn table_checksum<M: Replicated, C: ConnectionTrait>(
    conn: &C,
    table: &'static str,
    replicates: impl Fn(&M) -> bool,
) -> Result<Checksum, StoreError> {
    let mut rows: Vec<(String, String)> = M::Entity::find()
        .all(conn)
        .await?
        .iter()
        .filter(|row| replicates(row))
        .map(|row| (row.log_key(), content_hash(row)))
        .collect();
    rows.sort();
    Ok(Checksum {
        table,
        rows: rows.len() as u64,
        sha256: hash_bytes(&serde_json::to_vec(&rows).map_err(corrupt)?),
    })
}

/// Who the history credits with a version an origin stamped again to keep
/// it over a peer's.
const KEPT_BY: &str = "concord sync (kept over a peer's version)";

/// Stamps this node's own row `parts` of `kind` as revision `revision`,
/// its content as it is, keeping the version it replaces; returns the
/// new version's content hash. The caller logs it.
async fn restamp<C: ConnectionTrait>(
    conn: &C,
    kind: Replica,
    parts: &[&str],
    revision: i32,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    match kind {
        Replica::Matter => {
            restamp_row::<service_matter::Model, _>(conn, parts, revision, now, None).await
        }
        Replica::Standard => {
            let code = parts.first().copied().unwrap_or_default();
            let matters = links(conn, standard_matter::Column::StandardCode, code, |l| {
                l.matter_code
            })
            .await?;
            restamp_row::<standard::Model, _>(
                conn,
                parts,
                revision,
                now,
                Some((Kind::Standard, &|row| {
                    mutate::standard_snapshot(row, &matters)
                })),
            )
            .await
        }
        Replica::Guide => {
            restamp_row::<service_guide::Model, _>(
                conn,
                parts,
                revision,
                now,
                Some((Kind::Guide, &mutate::guide_snapshot)),
            )
            .await
        }
        Replica::Procedure => {
            restamp_row::<operating_procedure::Model, _>(
                conn,
                parts,
                revision,
                now,
                Some((Kind::Procedure, &mutate::procedure_snapshot)),
            )
            .await
        }
        Replica::NationalItem => {
            restamp_row::<national_item::Model, _>(conn, parts, revision, now, None).await
        }
        Replica::Evaluation => {
            restamp_row::<evaluation::Model, _>(conn, parts, revision, now, None).await
        }
        Replica::CollaborativeStandard => {
            restamp_row::<collaborative_target::Model, _>(conn, parts, revision, now, None).await
        }
        Replica::Adoption => {
            restamp_row::<adoption::Model, _>(conn, parts, revision, now, None).await
        }
    }
}

/// The snapshot a history-keeping kind keeps of a row.
type Snapshot<'a, M> = (Kind, &'a (dyn Fn(&M) -> Value + Sync));

async fn restamp_row<M, C>(
    conn: &C,
    parts: &[&str],
    revision: i32,
    now: DateTime<Utc>,
    history: Option<Snapshot<'_, M>>,
) -> Result<String, StoreError>
where
    M: Replicated + IntoActiveModel<<M::Entity as EntityTrait>::ActiveModel>,
    C: ConnectionTrait,
{
    let key = M::parse_key(parts)?;
    // Locked first, as a mutation locks it, before its history is written.
    let stored = mutate::for_update(
        M::Entity::find().filter(M::is_key(&key)),
        conn.get_database_backend(),
    )
    .one(conn)
    .await?
    .ok_or_else(|| corrupt(format!("{} {} vanished", M::KIND.as_str(), parts.join("/"))))?;
    let mut row = stored.clone();
    row.touch(revision, now);
    let hash = content_hash(&row);
    let applied = vec![Applied {
        at: 0,
        key: key.clone(),
        row: Some(row),
        linked: Vec::new(),
    }];
    if let Some((kind, snapshot)) = history {
        let mut kept = Vec::new();
        let before = HashMap::from([(key, stored)]);
        versions(
            kind,
            &applied,
            &before,
            (KEPT_BY, now),
            &mut kept,
            |_, row| snapshot(row),
        );
        keep(conn, kept).await?;
    }
    write(conn, applied).await?;
    Ok(hash)
}
