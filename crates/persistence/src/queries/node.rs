//! Reads about this node itself: whether its database answers, and the
//! peers it syncs from.

use concord_domain::replication::PeerProgress;
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};

use crate::StoreError;
use crate::entity::sync_peer;

/// Whether the database answers, for readiness probes.
pub async fn ping(conn: &sea_orm::DatabaseConnection) -> Result<(), StoreError> {
    Ok(conn.ping().await?)
}

/// Every peer this node syncs from, with its checkpoint.
pub async fn sync_peers<C: ConnectionTrait>(conn: &C) -> Result<Vec<PeerProgress>, StoreError> {
    Ok(sync_peer::Entity::find()
        .order_by_asc(sync_peer::Column::Peer)
        .all(conn)
        .await?
        .into_iter()
        .map(PeerProgress::from)
        .collect())
}
