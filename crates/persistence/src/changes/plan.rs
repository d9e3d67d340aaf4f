//! Deciding which of one kind's incoming changes apply, and which
//! versions of this node's own rows a peer contested.

use std::collections::{BTreeSet, HashMap, HashSet};

use concord_domain::RowKind;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter};
use serde_json::Value;

use crate::StoreError;
use crate::entity::change_log;

use super::apply::{Applied, Judged, KeyOf, Mode};
use super::log::last_logged;
use super::replicated::{
    Incoming, KEYS_PER_STATEMENT, Replicated, as_postgres_keeps, record_hash, version_hash,
};
use super::{IncomingChange, corrupt, split_key};

/// A version of one of this node's own rows that a peer wrote and that
/// lost to the stored one.
pub(super) struct Contest {
    pub(super) key: String,
    pub(super) origin: String,
    pub(super) loser_revision: i32,
    pub(super) loser_hash: String,
    pub(super) loser_record: Option<Value>,
    pub(super) winner_hash: String,
}

/// One kind's changes that apply, the rows they replace as stored, and
/// the versions of this node's own rows that lost.
pub(super) struct Planned<M: Replicated> {
    pub(super) applied: Vec<Applied<M>>,
    pub(super) stored: HashMap<M::Key, M>,
    pub(super) contested: Vec<Contest>,
}

/// Decides which of one kind's changes apply, reading the stored revisions
/// of all their keys in one go. `retraction` reads a record-less change's
/// key for the kinds that a record-less change deletes (guides and
/// procedures).
pub(super) async fn plan<M, C>(
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
                    RowKind::Matter => standards,
                    RowKind::Standard => matters,
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
            // Only guides and procedures are retracted to a replica: a
            // standard goes without a record only while a draft, which no
            // replica has.
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
        let found = match M::stored_by_keys(chunk, conn.get_database_backend()) {
            Some(statement) => M::Entity::find().from_raw_sql(statement).all(conn).await?,
            None => {
                M::Entity::find()
                    .filter(M::are_keys(chunk))
                    .all(conn)
                    .await?
            }
        };
        for stored in found {
            stored_rows.insert(stored.key(), stored);
        }
    }
    // A retraction deletes a guide or a procedure here; the revision it came at stays in
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
        let hash = version_hash(change.row.as_ref())?;
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
            version_hash(row)
        };
        let applies = match (mode, *state) {
            (_, None) => {
                change.row.is_some()
                    && withdrawn
                        .get(&incoming.key)
                        .is_none_or(|&gone| gone < revision)
            }
            (Mode::Install { loser, .. }, Some((stored, by))) => {
                let stored_hash = state_hash(by, &applied)?;
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
                    let stored_hash = state_hash(by, &applied)?;
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
