use sea_orm::entity::prelude::*;

/// Leave for one region to publish one matter's guide below its national
/// item's baseline, from `valid_from` to `valid_until` (both included).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "baseline_exemption")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub region_code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub matter_code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub valid_from: Date,
    pub valid_until: Date,
    #[sea_orm(column_type = "Text")]
    pub rationale: String,
    #[sea_orm(column_type = "Text")]
    pub granted_by: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub revoked_by: Option<String>,
    pub revoked_at: Option<DateTimeUtc>,
    pub origin: String,
    pub revision: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
