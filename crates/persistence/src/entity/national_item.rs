use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "national_item")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub edition: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub number: i32,
    pub name_zh: String,
    pub name_en: String,
    pub category_code: String,
    pub area_zh: String,
    #[sea_orm(column_type = "Text")]
    pub served_group: String,
    #[sea_orm(column_type = "Text")]
    pub content: String,
    #[sea_orm(column_type = "Text")]
    pub baseline_standard: String,
    #[sea_orm(column_type = "Text")]
    pub funding_responsibility: String,
    #[sea_orm(column_type = "Text")]
    pub lead_department: String,
    pub origin: String,
    pub revision: i32,
    pub illustrative: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
