use concord_domain::GuideStatus;
use concord_domain::guide::OperatingProcedure;
use sea_orm::entity::prelude::*;

use super::{StepList, Stored, owned_row, provenance, regional_fault, regional_key};
use crate::StoreError;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "operating_procedure")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub region_code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub matter_code: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub steps: StepList,
    /// DRAFT or PUBLISHED, as a guide's.
    pub status: Stored<GuideStatus>,
    pub origin: String,
    pub revision: i32,
    pub illustrative: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl TryFrom<Model> for OperatingProcedure {
    type Error = StoreError;

    fn try_from(row: Model) -> Result<Self, StoreError> {
        let fault = regional_fault("procedure", &row.region_code, &row.matter_code);
        let (region, matter) = regional_key(&row.region_code, &row.matter_code, fault)?;
        Ok(Self {
            region,
            matter,
            steps: row.steps.0,
            status: *row.status,
            provenance: provenance!(row, fault),
        })
    }
}

impl From<&OperatingProcedure> for Model {
    fn from(procedure: &OperatingProcedure) -> Self {
        owned_row!(
            procedure,
            Self {
                region_code: procedure.region.to_string(),
                matter_code: procedure.matter.to_string(),
                steps: StepList(procedure.steps.clone()),
                status: Stored(procedure.status),
            }
        )
    }
}
