//! Reads about this node itself: whether its database answers, and the
//! peers it syncs from.

use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};

use crate::StoreError;

/// Whether the database answers, for readiness probes.
pub async fn ping(conn: &sea_orm::DatabaseConnection) -> Result<(), StoreError> {
    Ok(conn.ping().await?)
}

/// Every peer this node syncs from, with its checkpoint.
pub async fn sync_peers<C: ConnectionTrait>(
    conn: &C,
) -> Result<Vec<crate::entity::sync_peer::Model>, StoreError> {
    Ok(crate::entity::sync_peer::Entity::find()
        .order_by_asc(crate::entity::sync_peer::Column::Peer)
        .all(conn)
        .await?)
}
