use concord_domain::RegionKind;
use sea_orm::entity::prelude::*;

use super::Stored;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "region")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub abbr_zh: String,
    pub abbr_pinyin: String,
    #[sea_orm(column_name = "iso_3166_2")]
    pub iso_3166_2: String,
    pub kind: Stored<RegionKind>,
    pub pilot: bool,
    pub pilot_note: Option<String>,
    pub origin: String,
    pub revision: i32,
    pub illustrative: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
