use sea_orm::entity::prelude::*;

use concord_domain::GuideStatus;

use super::{StepList, Stored};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "operating_procedure")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub region_code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub matter_code: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub steps: StepList,
    /// DRAFT or PUBLISHED, as a guide's.
    pub status: Stored<GuideStatus>,
    pub origin: String,
    pub revision: i32,
    pub illustrative: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
