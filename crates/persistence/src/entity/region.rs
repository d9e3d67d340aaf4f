use concord_domain::{RegionCode, RegionKind, geo};
use sea_orm::entity::prelude::*;

use super::{Stored, provenance, refused};
use crate::StoreError;

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

impl TryFrom<Model> for geo::Region {
    type Error = StoreError;

    fn try_from(row: Model) -> Result<Self, StoreError> {
        let fault = |column: &str, error: &dyn std::fmt::Display| {
            refused(format_args!("region {}", row.code), column, error)
        };
        Ok(Self {
            code: RegionCode::try_from(row.code.as_str()).map_err(|e| fault("code", &e))?,
            name_zh: row.name_zh,
            name_en: row.name_en,
            abbr_zh: row.abbr_zh,
            abbr_pinyin: row.abbr_pinyin,
            iso_3166_2: row.iso_3166_2,
            kind: *row.kind,
            pilot: row.pilot,
            pilot_note: row.pilot_note,
            provenance: provenance!(row, fault),
        })
    }
}
