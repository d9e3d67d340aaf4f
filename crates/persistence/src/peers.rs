//! What this node knows of each peer it syncs from: how far into the peer's
//! change log it got, how many changes it applied, and the last failure.
//! `concord sync` writes it (through here only); `syncStatus` reads it.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel,
    TransactionTrait,
};

use crate::StoreError;
use crate::entity::sync_peer;
use crate::footprint::{Footprint, Topic};

/// The peer's stored state, if it was ever synced from.
pub async fn state<C: ConnectionTrait>(
    conn: &C,
    peer: &str,
) -> Result<Option<sync_peer::Model>, StoreError> {
    Ok(sync_peer::Entity::find_by_id(peer.to_owned())
        .one(conn)
        .await?)
}

/// Where the next page from `peer` starts: after the last applied one.
pub async fn cursor<C: ConnectionTrait>(
    conn: &C,
    peer: &str,
) -> Result<Option<String>, StoreError> {
    Ok(state(conn, peer).await?.and_then(|row| row.cursor))
}

/// Records an applied page in the transaction that applied it, so the
/// cursor never runs ahead of the rows: `applied` more changes, the peer's
/// cursor after the page and how many changes it still has beyond it.
pub async fn record_page<C: ConnectionTrait>(
    txn: &C,
    peer: &str,
    cursor: Option<String>,
    applied: u64,
    lag: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let stored = state(txn, peer).await?;
    let row = sync_peer::Model {
        peer: peer.to_owned(),
        cursor,
        // Saturating: a count past i64 is not worth failing a page for.
        applied: stored
            .as_ref()
            .map_or(0, |s| s.applied)
            .saturating_add(i64::try_from(applied).unwrap_or(i64::MAX)),
        lag: Some(lag.max(0)),
        last_success: Some(now),
        last_error: None,
        updated_at: now,
    };
    save(txn, row, stored.is_some()).await
}

/// Records a failure against the peer in its own transaction, leaving its
/// cursor where it was.
pub async fn record_error(
    db: &DatabaseConnection,
    peer: &str,
    message: String,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let txn = db.begin().await?;
    let stored = state(&txn, peer).await?;
    let exists = stored.is_some();
    let row = match stored {
        Some(row) => sync_peer::Model {
            last_error: Some(message),
            updated_at: now,
            ..row
        },
        None => sync_peer::Model {
            peer: peer.to_owned(),
            cursor: None,
            applied: 0,
            lag: None,
            last_success: None,
            last_error: Some(message),
            updated_at: now,
        },
    };
    save(&txn, row, exists).await?;
    crate::version::commit_touching(txn, &Footprint::of(&[Topic::Sync])).await?;
    Ok(())
}

async fn save<C: ConnectionTrait>(
    conn: &C,
    row: sync_peer::Model,
    exists: bool,
) -> Result<(), StoreError> {
    if exists {
        row.into_active_model().reset_all().update(conn).await?;
    } else {
        sync_peer::Entity::insert(row.into_active_model())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}
