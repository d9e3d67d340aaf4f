use sea_orm::entity::prelude::*;

/// How far this node has replicated a peer's change log.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sync_peer")]
pub struct Model {
    /// The peer's GraphQL URL.
    #[sea_orm(primary_key, auto_increment = false)]
    pub peer: String,
    /// The cursor of the last change applied, committed with it.
    pub cursor: Option<String>,
    /// Changes applied from this peer in all.
    pub applied: i64,
    /// Changes the peer had after the cursor at the last fetch.
    pub lag: Option<i64>,
    pub last_success: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl From<Model> for concord_domain::replication::PeerProgress {
    fn from(row: Model) -> Self {
        Self {
            peer: row.peer,
            cursor: row.cursor,
            applied: row.applied,
            lag: row.lag,
            last_success: row.last_success,
            last_error: row.last_error,
        }
    }
}
