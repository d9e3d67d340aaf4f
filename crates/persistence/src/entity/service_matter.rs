use sea_orm::entity::prelude::*;

use super::GroupList;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "service_matter")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub category_code: String,
    pub national_edition: Option<i32>,
    pub national_number: Option<i32>,
    /// The codes of the groups the matter serves when they differ from its
    /// national item's; `None` means "as its item".
    #[sea_orm(column_type = "JsonBinary", nullable)]
    #[serde(default)]
    pub served_groups: Option<GroupList>,
    pub origin: String,
    pub revision: i32,
    pub illustrative: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
