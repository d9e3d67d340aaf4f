use concord_domain::workflow::Adoption;
use concord_domain::{Decision, RegionCode, StandardCode};
use sea_orm::entity::prelude::*;

use super::{Stored, provenance, refused};
use crate::StoreError;

/// One member's decision on a collaborative standard.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "adoption")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub standard_code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub region_code: String,
    /// PENDING, ADOPTED or REJECTED.
    pub decision: Stored<Decision>,
    #[sea_orm(column_type = "Text", nullable)]
    pub reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTimeUtc>,
    pub origin: String,
    pub revision: i32,
    pub illustrative: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl TryFrom<Model> for Adoption {
    type Error = StoreError;

    fn try_from(row: Model) -> Result<Self, StoreError> {
        let fault = |column: &str, error: &dyn std::fmt::Display| {
            refused(
                format_args!("adoption {}/{}", row.standard_code, row.region_code),
                column,
                error,
            )
        };
        Ok(Self {
            standard: StandardCode::try_from(row.standard_code.as_str())
                .map_err(|e| fault("standard_code", &e))?,
            region: RegionCode::try_from(row.region_code.as_str())
                .map_err(|e| fault("region_code", &e))?,
            decision: *row.decision,
            reason: row.reason,
            decided_by: row.decided_by,
            decided_at: row.decided_at,
            provenance: provenance!(row, fault),
        })
    }
}
