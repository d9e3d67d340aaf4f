use concord_domain::Decision;
use sea_orm::entity::prelude::*;

use super::Stored;

/// One member's decision on a collaborative standard.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "adoption")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub standard_code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub region_code: String,
    /// PENDING, ADOPTED or REJECTED.
    pub decision: Stored<Decision>,
    #[sea_orm(column_type = "Text", nullable)]
    pub reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTimeUtc>,
    pub origin: String,
    pub revision: i32,
    pub illustrative: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
