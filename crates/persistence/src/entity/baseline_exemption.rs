use concord_domain::{Exemption, ExemptionGrant};
use sea_orm::entity::prelude::*;

use super::{refused, regional_key};
use crate::StoreError;

/// Leave for one region to publish one matter's guide below its national
/// item's baseline, from `valid_from` to `valid_until` (both included).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "baseline_exemption")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub region_code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub matter_code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub valid_from: Date,
    pub valid_until: Date,
    #[sea_orm(column_type = "Text")]
    pub rationale: String,
    #[sea_orm(column_type = "Text")]
    pub granted_by: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub revoked_by: Option<String>,
    pub revoked_at: Option<DateTimeUtc>,
    pub origin: String,
    pub revision: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl TryFrom<Model> for Exemption {
    type Error = StoreError;

    fn try_from(row: Model) -> Result<Self, StoreError> {
        let fault = |column: &str, error: &dyn std::fmt::Display| {
            refused(
                format_args!(
                    "baseline exemption {}",
                    concord_domain::exemption_key(
                        &row.region_code,
                        &row.matter_code,
                        row.valid_from
                    )
                ),
                column,
                error,
            )
        };
        let (region, matter) = regional_key(&row.region_code, &row.matter_code, fault)?;
        Ok(Self {
            region,
            matter,
            grant: ExemptionGrant {
                rationale: row.rationale,
                valid_from: row.valid_from,
                valid_until: row.valid_until,
            },
            granted_by: row.granted_by,
            revoked_by: row.revoked_by,
            revoked_at: row.revoked_at,
            revision: row.revision,
        })
    }
}
