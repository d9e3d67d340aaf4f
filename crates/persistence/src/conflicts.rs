//! Sync conflicts: versions of a row that a peer wrote and that lost to the
//! version the row's origin holds ([`crate::changes::apply_page`] finds
//! them), listed until an administrator of the origin settles them.
//!
//! The rule that picks the winner: **the row's origin decides.** A row
//! belongs to the region that owns it; on the node of that region only its
//! own writes change the row, and any other version of it (the national
//! hub's edit, say) loses, whatever its revision, and is kept here beside
//! the winner. The origin stamps its version again past the loser, so that
//! it is the newest everywhere, and announces the verdict in its log; every
//! node that replicates it installs the winner and lists the same conflict,
//! and never applies the losing version again.
//! Where no node of the origin runs (a hub alone), nobody contests a
//! version, and the newest revision is the row.

use concord_domain::replication::Conflict;
use concord_domain::{AuditAction, RowKind, Settlement, Verdict};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Select,
};
use serde_json::Value;

use crate::StoreError;
use crate::changes::{self, VerdictRecord, Version};
use crate::entity::sync_conflict;
use crate::footprint::Footprint;
use crate::mutate::{self, Change, MutationError, Permit};
use crate::queries::{Page, PageRequest};

/// A conflict's key: the row, and the losing version's revision and hash.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConflictKey {
    pub kind: RowKind,
    pub row_key: String,
    pub loser_revision: i32,
    pub loser_hash: String,
}

impl ConflictKey {
    pub fn of(conflict: &Conflict) -> Self {
        Self {
            kind: conflict.kind,
            row_key: conflict.key.clone(),
            loser_revision: conflict.loser.revision,
            loser_hash: conflict.loser.hash.clone(),
        }
    }

    fn id(&self) -> (String, String, i32, String) {
        (
            self.kind.as_str().to_owned(),
            self.row_key.clone(),
            self.loser_revision,
            self.loser_hash.clone(),
        )
    }
}

/// Which conflicts to list.
#[derive(Debug, Clone, Default)]
pub struct ConflictFilter {
    /// Settled ones too, not only those still open.
    pub settled: bool,
    /// Only rows owned by these regions.
    pub origins: Option<Vec<String>>,
}

fn select(filter: &ConflictFilter) -> Select<sync_conflict::Entity> {
    let mut select = sync_conflict::Entity::find();
    if !filter.settled {
        select = select.filter(sync_conflict::Column::Resolution.is_null());
    }
    if let Some(origins) = &filter.origins {
        select = select.filter(sync_conflict::Column::Origin.is_in(origins.iter().cloned()));
    }
    select
}

/// Conflicts in key order (kind, row, losing revision, losing hash): the
/// same order on every node.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    filter: &ConflictFilter,
    request: PageRequest<ConflictKey>,
) -> Result<Page<Conflict>, StoreError> {
    use sync_conflict::Column;
    let mut listed = select(filter)
        .order_by_asc(Column::Kind)
        .order_by_asc(Column::RowKey)
        .order_by_asc(Column::LoserRevision)
        .order_by_asc(Column::LoserHash);
    if let Some(after) = request.after {
        let (kind, row_key, revision, hash) = after.id();
        listed = listed.filter(
            Expr::tuple([
                Expr::col(Column::Kind),
                Expr::col(Column::RowKey),
                Expr::col(Column::LoserRevision),
                Expr::col(Column::LoserHash),
            ])
            .gt(Expr::tuple([
                Expr::val(kind),
                Expr::val(row_key),
                Expr::val(revision),
                Expr::val(hash),
            ])),
        );
    }
    crate::queries::records_page(
        conn,
        listed,
        request.first,
        request
            .count
            .then(|| crate::queries::count_of(select(filter))),
    )
    .await
}

/// One conflict, settled or open.
pub async fn find<C: ConnectionTrait>(
    conn: &C,
    key: &ConflictKey,
) -> Result<Option<Conflict>, StoreError> {
    sync_conflict::Entity::find_by_id(key.id())
        .one(conn)
        .await?
        .map(Conflict::try_from)
        .transpose()
}

/// Settles an open conflict on this node, which must be the origin of its
/// row (the caller checks the policy, and that): keeps the row as it is, or
/// makes the losing version the row's next revision. `expected` is the
/// row's current revision, as the caller last saw it. The settlement is
/// logged, so every replica closes the conflict and holds the same row.
pub async fn settle(
    permit: &Permit<'_>,
    key: &ConflictKey,
    keep: Settlement,
    expected: i32,
) -> Result<Conflict, MutationError> {
    let (db, actor, now) = (permit.db, &permit.actor, permit.now);
    let txn = mutate::begin(db).await?;
    let conflict = sync_conflict::Entity::find_by_id(key.id())
        .one(&txn)
        .await?
        .ok_or_else(|| MutationError::NotFound("sync conflict".to_owned()))?;
    if let Some(kept) = &conflict.resolution {
        return Err(MutationError::Invalid {
            field: "id".to_owned(),
            message: format!("this conflict is settled already: it kept the {kept}"),
        });
    }
    let parts = changes::split_key(key.kind, &key.row_key)?;
    let (origin, revision, before) = changes::current_record(&txn, key.kind, &parts).await?;
    mutate::check_revision(Some(revision), Some(expected))?;
    let after = match keep {
        Settlement::Winner => revision,
        Settlement::Loser => {
            let Some(mut record) = conflict.loser_record.clone() else {
                return Err(MutationError::Invalid {
                    field: "keep".to_owned(),
                    message: "the losing version took the guide back to a draft; \
                              unpublish the guide to do the same"
                        .to_owned(),
                });
            };
            // Past every version any node holds of the row, so that each
            // replica takes it as the newest.
            let open = sync_conflict::Entity::find()
                .filter(sync_conflict::Column::Kind.eq(key.kind.as_str()))
                .filter(sync_conflict::Column::RowKey.eq(key.row_key.as_str()))
                .all(&txn)
                .await?;
            let next = open
                .iter()
                .map(|c| c.loser_revision)
                .chain([revision])
                .max()
                .unwrap_or(revision)
                + 1;
            let row = record
                .get_mut("row")
                .and_then(Value::as_object_mut)
                .ok_or_else(|| StoreError::Corrupt("a kept version has no row".to_owned()))?;
            row.insert("revision".to_owned(), next.into());
            row.insert(
                "updated_at".to_owned(),
                serde_json::to_value(now).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            );
            changes::install(
                &txn,
                key.kind,
                &key.row_key,
                next,
                &record,
                actor.subject(),
                now,
            )
            .await?;
            changes::log_current(&txn, key.kind, &parts, now).await?;
            next
        }
    };
    let (_, _, current) = changes::current_record(&txn, key.kind, &parts).await?;
    let mut settled = conflict.clone().into_active_model();
    settled.resolution = sea_orm::Set(Some(keep.into()));
    settled.resolved_by = sea_orm::Set(Some(actor.subject().to_owned()));
    settled.resolved_at = sea_orm::Set(Some(now));
    let settled = settled.update(&txn).await?;
    let verdict = VerdictRecord {
        of: key.kind.as_str().to_owned(),
        origin: origin.clone(),
        winner: Version {
            revision: after,
            hash: changes::hash_of_record(key.kind, current.as_ref())?,
            record: current.clone(),
        },
        loser: Version {
            revision: key.loser_revision,
            hash: key.loser_hash.clone(),
            record: None,
        },
        kept: Some(keep),
        by: Some(actor.subject().to_owned()),
    };
    changes::log_verdict(&txn, Verdict::Resolution, &key.row_key, &verdict, now).await?;
    mutate::audit(
        &txn,
        actor,
        Change {
            action: AuditAction::ResolveSyncConflict,
            kind: key.kind,
            key: key.row_key.clone(),
            owner: origin,
            before: Some((revision, before.unwrap_or(Value::Null))),
            after: (after, current.unwrap_or(Value::Null)),
        },
        now,
    )
    .await?;
    // Rare, and it can change any kind of row: every cached answer goes.
    let settled = Conflict::try_from(settled)?;
    crate::version::commit_touching(txn, &Footprint::everything()).await?;
    Ok(settled)
}
