use concord_domain::{Evaluation, EvaluationValues, Period};
use sea_orm::entity::prelude::*;

use super::{refused, regional_key};
use crate::StoreError;

/// How a region's service of a matter fared over one period.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "evaluation")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub region_code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub matter_code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub period: String,
    pub satisfaction: f64,
    pub cases_handled: i64,
    pub average_days: f64,
    pub origin: String,
    pub revision: i32,
    pub illustrative: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl TryFrom<Model> for Evaluation {
    type Error = StoreError;

    fn try_from(row: Model) -> Result<Self, StoreError> {
        let fault = |column: &str, error: &dyn std::fmt::Display| {
            refused(
                format_args!(
                    "evaluation {}/{}/{}",
                    row.region_code, row.matter_code, row.period
                ),
                column,
                error,
            )
        };
        let (region, matter) = regional_key(&row.region_code, &row.matter_code, fault)?;
        Ok(Self {
            region,
            matter,
            period: Period::try_from(row.period.as_str())
                .map_err(|e| fault("period", &e.message))?,
            values: EvaluationValues {
                satisfaction: row.satisfaction,
                cases_handled: row.cases_handled,
                average_days: row.average_days,
            },
            revision: row.revision,
            illustrative: row.illustrative,
        })
    }
}
