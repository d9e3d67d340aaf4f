use concord_domain::{ZoneCode, geo};
use sea_orm::entity::prelude::*;

use super::{provenance, refused};
use crate::StoreError;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "zone")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub origin: String,
    pub revision: i32,
    pub illustrative: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl TryFrom<Model> for geo::Zone {
    type Error = StoreError;

    fn try_from(row: Model) -> Result<Self, StoreError> {
        let fault = |column: &str, error: &dyn std::fmt::Display| {
            refused(format_args!("zone {}", row.code), column, error)
        };
        Ok(Self {
            code: ZoneCode::try_from(row.code.as_str()).map_err(|e| fault("code", &e))?,
            name_zh: row.name_zh,
            name_en: row.name_en,
            provenance: provenance!(row, fault),
        })
    }
}
