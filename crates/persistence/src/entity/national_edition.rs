use concord_domain::{Origin, catalogue};
use sea_orm::entity::prelude::*;

use super::refused;
use crate::StoreError;

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

impl TryFrom<Model> for catalogue::NationalEdition {
    type Error = StoreError;

    fn try_from(row: Model) -> Result<Self, StoreError> {
        let origin = Origin::try_from(row.origin.as_str()).map_err(|e| {
            refused(
                format_args!("national edition {}", row.edition),
                "origin",
                &e,
            )
        })?;
        Ok(Self {
            edition: row.edition,
            title_zh: row.title_zh,
            item_count: row.item_count,
            issued_by: row.issued_by,
            note: row.note,
            supersedes: row.supersedes,
            origin,
            revision: row.revision,
            illustrative: row.illustrative,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}
