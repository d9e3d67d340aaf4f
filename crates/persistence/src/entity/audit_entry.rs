use sea_orm::entity::prelude::*;

/// One successful mutation: who did what to which row, before and after.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_entry")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    pub subject: String,
    pub role: String,
    pub actor_region: Option<String>,
    pub actor_zone: Option<String>,
    pub action: String,
    pub target_kind: String,
    pub target_key: String,
    /// The region that owns the target (`100000` for national rows).
    pub target_region: String,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub before: Option<Json>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub after: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
