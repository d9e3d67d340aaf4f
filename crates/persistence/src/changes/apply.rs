//! Applying a peer's page: the changes of each kind planned and written in
//! bulk, in an order the foreign keys accept, then relayed into the log.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use concord_domain::{GuideStatus, RowKind, StandardStatus, Verdict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::StoreError;
use crate::entity::{
    adoption, baseline_exemption, collaborative_standard, elevation_proposal, evaluation,
    national_item, operating_procedure, service_guide, service_matter, standard, sync_conflict,
};
use crate::mutate;
use crate::search::{self, Searched};

use super::links::{Links, Presence};
use super::log::{Entry, Logged, always, append, log_current, relay, row_only};
use super::plan::{Planned, plan};
use super::replicated::{KEYS_PER_STATEMENT, Replicated};
use super::rows::{SYNCED_BY, keep, stored_matter_links, versions, write, written_keys};
use super::verdicts::{VerdictRecord, announce, log_verdict, restamp_contested, settle};
use super::{IncomingChange, corrupt, split_key};

/// One change of a page that applies: where it stands in the page, the key
/// it changes, the row it leaves (`None`: a retraction deleted it), and for
/// a matter or a standard the codes it links to, as sent.
pub(super) struct Applied<M: Replicated> {
    pub(super) at: usize,
    pub(super) key: M::Key,
    pub(super) row: Option<M>,
    pub(super) linked: Vec<String>,
}

/// Reads a row's key from a change-log key.
pub(super) type KeyOf<M> = fn(&str) -> Result<<M as Replicated>::Key, StoreError>;

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
pub(crate) type Judged = HashSet<(RowKind, String, i32, String)>;

/// Applies a page of a peer's changes as if one at a time in page order,
/// on the node whose own rows are those of origin `node` (a region code, or
/// `100000` on the national hub):
///
/// - a change of another origin's row applies when its key is absent here
///   or its revision is newer than the stored one; a guide or procedure
///   without a record (a retraction) deletes an older local copy;
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
/// guides and procedures, which nothing references), so the statements it runs do not
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
        if let Ok(verdict) = change.kind.parse::<Verdict>() {
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
pub(super) enum Pending<'a> {
    /// Entries relayed as the page brought them.
    Relay(Vec<Entry<'a>>),
    /// This node's own row, as it now stands.
    Current(RowKind, String),
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
            if let Ok(kind) = conflict.kind.parse::<RowKind>() {
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
pub(super) async fn apply_rows<'a, C: ConnectionTrait>(
    conn: &C,
    page: &'a [IncomingChange],
    mode: Mode<'_>,
    now: DateTime<Utc>,
    logged: &mut Vec<Pending<'a>>,
) -> Result<u64, StoreError> {
    if page.is_empty() {
        return Ok(0);
    }
    let mut by_kind: HashMap<RowKind, Vec<(usize, &IncomingChange)>> = HashMap::new();
    for (at, change) in page.iter().enumerate() {
        let Ok(kind) = change.kind.parse::<RowKind>() else {
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
    } = plan::<national_item::Model, _>(conn, &of(RowKind::NationalItem), None, mode, &judged)
        .await?;
    contested.extend(lost.into_iter().map(|c| (RowKind::NationalItem, c)));
    let Planned {
        applied: matters,
        contested: lost,
        ..
    } = plan::<service_matter::Model, _>(conn, &of(RowKind::Matter), None, mode, &judged).await?;
    contested.extend(lost.into_iter().map(|c| (RowKind::Matter, c)));
    let Planned {
        applied: standards,
        stored: standards_before,
        contested: lost,
    } = plan::<standard::Model, _>(conn, &of(RowKind::Standard), None, mode, &judged).await?;
    contested.extend(lost.into_iter().map(|c| (RowKind::Standard, c)));
    let Planned {
        applied: guides,
        stored: guides_before,
        contested: lost,
    } = plan::<service_guide::Model, _>(
        conn,
        &of(RowKind::Guide),
        Some(regional_key),
        mode,
        &judged,
    )
    .await?;
    contested.extend(lost.into_iter().map(|c| (RowKind::Guide, c)));
    let Planned {
        applied: procedures,
        stored: procedures_before,
        contested: lost,
    } = plan::<operating_procedure::Model, _>(
        conn,
        &of(RowKind::Procedure),
        Some(regional_key),
        mode,
        &judged,
    )
    .await?;
    contested.extend(lost.into_iter().map(|c| (RowKind::Procedure, c)));
    let Planned {
        applied: evaluations,
        contested: lost,
        ..
    } = plan::<evaluation::Model, _>(conn, &of(RowKind::Evaluation), None, mode, &judged).await?;
    contested.extend(lost.into_iter().map(|c| (RowKind::Evaluation, c)));
    let Planned {
        applied: targets,
        contested: lost,
        ..
    } = plan::<collaborative_standard::Model, _>(
        conn,
        &of(RowKind::CollaborativeStandard),
        None,
        mode,
        &judged,
    )
    .await?;
    contested.extend(
        lost.into_iter()
            .map(|c| (RowKind::CollaborativeStandard, c)),
    );
    let Planned {
        applied: adoptions,
        contested: lost,
        ..
    } = plan::<adoption::Model, _>(conn, &of(RowKind::Adoption), None, mode, &judged).await?;
    contested.extend(lost.into_iter().map(|c| (RowKind::Adoption, c)));
    let Planned {
        applied: exemptions,
        stored: exemptions_before,
        contested: lost,
    } = plan::<baseline_exemption::Model, _>(conn, &of(RowKind::Exemption), None, mode, &judged)
        .await?;
    contested.extend(lost.into_iter().map(|c| (RowKind::Exemption, c)));
    let Planned {
        applied: elevations,
        contested: lost,
        ..
    } = plan::<elevation_proposal::Model, _>(conn, &of(RowKind::Elevation), None, mode, &judged)
        .await?;
    contested.extend(lost.into_iter().map(|c| (RowKind::Elevation, c)));
    let links = Links::load(conn, page, &matters, &standards).await?;
    // A zone's proposed collaborative standard is public while a draft.
    let drafts: BTreeSet<&str> = standards
        .iter()
        .filter_map(|a| a.row.as_ref())
        .filter(|row| row.status == StandardStatus::Draft)
        .map(|row| row.code.as_str())
        .collect();
    let proposals = Presence::load::<collaborative_standard::Entity, _>(
        conn,
        collaborative_standard::Column::StandardCode,
        drafts,
        page,
        RowKind::CollaborativeStandard,
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
            standard.status != StandardStatus::Draft || proposals.at(&standard.code, change.at)
        },
    )?;
    relay(page, &guides, &mut log, row_only, |_, guide| {
        guide.status == GuideStatus::Published
    })?;
    relay(page, &procedures, &mut log, row_only, |_, procedure| {
        procedure.status == GuideStatus::Published
    })?;
    relay(page, &evaluations, &mut log, row_only, always)?;
    relay(page, &targets, &mut log, row_only, always)?;
    relay(page, &adoptions, &mut log, row_only, always)?;
    relay(page, &exemptions, &mut log, row_only, always)?;
    relay(page, &elevations, &mut log, row_only, always)?;
    let applied = log.len() as u64;

    // An applied revision keeps the version it replaced, as a mutation's
    // does; read before the writes replace the rows and their links.
    let mut history = Vec::new();
    versions(
        RowKind::Guide,
        &guides,
        &guides_before,
        (credit, now),
        &mut history,
        |_, row| mutate::guide_snapshot(row),
    );
    versions(
        RowKind::Procedure,
        &procedures,
        &procedures_before,
        (credit, now),
        &mut history,
        |_, row| mutate::procedure_snapshot(row),
    );
    versions(
        RowKind::Exemption,
        &exemptions,
        &exemptions_before,
        (credit, now),
        &mut history,
        |_, row| mutate::exemption_snapshot(row),
    );
    let linked_before = stored_matter_links(conn, &standards_before).await?;
    versions(
        RowKind::Standard,
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
    write(conn, exemptions).await?;
    write_elevations(conn, elevations).await?;
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

/// Writes what elevation proposals' changes leave: for each key, the last
/// one. A proposal is matched by its standard and number, which name it on
/// every node; its `id` is this node's own, given on insert and kept.
async fn write_elevations<C: ConnectionTrait>(
    conn: &C,
    applied: Vec<Applied<elevation_proposal::Model>>,
) -> Result<(), StoreError> {
    use sea_orm::sea_query::OnConflict;
    use sea_orm::{IdenStatic, IntoActiveModel, Iterable};

    let mut done = HashSet::with_capacity(applied.len());
    let mut rows = Vec::with_capacity(applied.len());
    for change in applied.into_iter().rev() {
        if done.insert(change.key.clone())
            && let Some(row) = change.row
        {
            let mut row = row.into_active_model();
            row.id = sea_orm::NotSet;
            rows.push(row);
        }
    }
    rows.reverse();
    let key = [
        elevation_proposal::Column::StandardCode,
        elevation_proposal::Column::Number,
    ];
    let rest: Vec<_> = elevation_proposal::Column::iter()
        .filter(|column| {
            let name = column.as_str();
            name != elevation_proposal::Column::Id.as_str()
                && !key.iter().any(|k| k.as_str() == name)
        })
        .collect();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(KEYS_PER_STATEMENT).collect();
        elevation_proposal::Entity::insert_many(chunk)
            .on_conflict(
                OnConflict::columns(key)
                    .update_columns(rest.clone())
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// The key of a guide or a procedure: region, then matter.
fn regional_key(key: &str) -> Result<(String, String), StoreError> {
    let parts = split_key(RowKind::Guide, key)?;
    Ok((parts[0].to_owned(), parts[1].to_owned()))
}

/// Installs `record` as the row `key` of `kind` at `revision`, whatever
/// revision is stored: the version an administrator chose to settle a
/// conflict, credited in the row's history to `credit`. It is not logged
/// here; the caller logs the row as it then stands.
pub(crate) async fn install<C: ConnectionTrait>(
    conn: &C,
    kind: RowKind,
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
