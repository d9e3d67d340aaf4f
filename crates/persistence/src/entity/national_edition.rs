use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "national_edition")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub edition: i32,
    pub title_zh: String,
    pub item_count: i32,
    pub issued_by: String,
    #[sea_orm(column_type = "Text")]
    pub note: String,
    pub supersedes: Option<i32>,
    pub origin: String,
    pub revision: i32,
    pub illustrative: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
