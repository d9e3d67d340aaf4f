use concord_domain::{StandardLevel, StandardStatus};
use sea_orm::entity::prelude::*;

use super::Stored;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "standard")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub title_zh: String,
    pub title_en: String,
    pub level: Stored<StandardLevel>,
    pub status: Stored<StandardStatus>,
    pub issuing_region: Option<String>,
    pub issuing_zone: Option<String>,
    pub issued_on: Option<Date>,
    pub effective_on: Option<Date>,
    pub supersedes: Option<String>,
    /// When the standard is due for review.
    pub review_on: Option<Date>,
    /// The local standard an accepted elevation raised this one from.
    pub elevated_from: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub note: String,
    pub origin: String,
    pub revision: i32,
    pub illustrative: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
