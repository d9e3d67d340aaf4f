//! Verdicts about versions of a row: an origin keeps its own version
//! over a peer's (`CONFLICT`), an administrator settles one
//! (`RESOLUTION`), and peers record and relay both.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use concord_domain::{RowKind, Settlement, Verdict};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::StoreError;
use crate::entity::Stored;
use crate::entity::{
    adoption, baseline_exemption, change_log, collaborative_standard, elevation_proposal,
    evaluation, national_item, operating_procedure, service_guide, service_matter, standard,
    standard_matter, sync_conflict,
};
use crate::mutate;

use super::apply::{Applied, Mode, Pending, apply_rows};
use super::log::{Entry, current_record, links, lock_log};
use super::plan::Contest;
use super::replicated::{Replicated, content_hash};
use super::rows::{SYNCED_BY, keep, versions, write};
use super::{IncomingChange, corrupt, split_key, to_json};

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
    /// A resolution's choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept: Option<Settlement>,
    /// Who settled it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
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

/// Stamps each of this node's own rows that a losing version reached or
/// passed again, past the highest losing revision, and returns the new
/// versions' content hashes.
///
/// A losing version at or above the row's revision would leave the peers
/// that took it ahead of the origin, and that revision would later name two
/// versions. Stamped past it, the origin's version replaces the losers
/// everywhere as the newest, and the history shows both.
pub(super) async fn restamp_contested<C: ConnectionTrait>(
    conn: &C,
    contested: &[(RowKind, Contest)],
    now: DateTime<Utc>,
) -> Result<HashMap<(RowKind, String), String>, StoreError> {
    let mut highest: HashMap<(RowKind, &str), i32> = HashMap::new();
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
pub(super) async fn announce<C: ConnectionTrait>(
    conn: &C,
    contested: Vec<(RowKind, Contest)>,
    restamped: HashMap<(RowKind, String), String>,
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
    kind: RowKind,
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
        resolution: sea_orm::Set(verdict.kept.map(Stored)),
        resolved_by: sea_orm::Set(verdict.by.clone()),
        resolved_at: sea_orm::Set(verdict.kept.as_ref().map(|_| now)),
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
pub(super) async fn settle<'a, C: ConnectionTrait>(
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
    let kind = record
        .of
        .parse::<RowKind>()
        .map_err(|_| corrupt(format!("a peer sent a verdict about a {}", record.of)))?;
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
            open.resolution = sea_orm::Set(record.kept.map(Stored));
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

/// Who the history credits with a version an origin stamped again to keep
/// it over a peer's.
const KEPT_BY: &str = "concord sync (kept over a peer's version)";

/// Stamps this node's own row `parts` of `kind` as revision `revision`,
/// its content as it is, keeping the version it replaces; returns the
/// new version's content hash. The caller logs it.
async fn restamp<C: ConnectionTrait>(
    conn: &C,
    kind: RowKind,
    parts: &[&str],
    revision: i32,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    match kind {
        RowKind::Matter => {
            restamp_row::<service_matter::Model, _>(conn, parts, revision, now, None).await
        }
        RowKind::Standard => {
            let code = parts
                .first()
                .copied()
                .ok_or_else(|| corrupt("a verdict about a standard names no code".to_owned()))?;
            let matters = links(conn, standard_matter::Column::StandardCode, code, |l| {
                l.matter_code
            })
            .await?;
            restamp_row::<standard::Model, _>(
                conn,
                parts,
                revision,
                now,
                Some((RowKind::Standard, &|row| {
                    mutate::standard_snapshot(row, &matters)
                })),
            )
            .await
        }
        RowKind::Guide => {
            restamp_row::<service_guide::Model, _>(
                conn,
                parts,
                revision,
                now,
                Some((RowKind::Guide, &mutate::guide_snapshot)),
            )
            .await
        }
        RowKind::Procedure => {
            restamp_row::<operating_procedure::Model, _>(
                conn,
                parts,
                revision,
                now,
                Some((RowKind::Procedure, &mutate::procedure_snapshot)),
            )
            .await
        }
        RowKind::NationalItem => {
            restamp_row::<national_item::Model, _>(conn, parts, revision, now, None).await
        }
        RowKind::Evaluation => {
            restamp_row::<evaluation::Model, _>(conn, parts, revision, now, None).await
        }
        RowKind::CollaborativeStandard => {
            restamp_row::<collaborative_standard::Model, _>(conn, parts, revision, now, None).await
        }
        RowKind::Adoption => {
            restamp_row::<adoption::Model, _>(conn, parts, revision, now, None).await
        }
        RowKind::Exemption => {
            restamp_row::<baseline_exemption::Model, _>(
                conn,
                parts,
                revision,
                now,
                Some((RowKind::Exemption, &mutate::exemption_snapshot)),
            )
            .await
        }
        RowKind::Elevation => {
            restamp_row::<elevation_proposal::Model, _>(conn, parts, revision, now, None).await
        }
    }
}

/// The snapshot a history-keeping kind keeps of a row.
type Snapshot<'a, M> = (RowKind, &'a (dyn Fn(&M) -> Value + Sync));

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
    let hash = content_hash(&row)?;
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
