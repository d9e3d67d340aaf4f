use concord_domain::{ElevationStatus, ElevationTarget};
use sea_orm::entity::prelude::*;

use super::Stored;

/// A proposal to raise a local or regional standard to a national or
/// industry one.
///
/// It replicates under (`standard_code`, `number`); `id` is this node's
/// own and stays out of the record, so that every node hashes a version
/// alike.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "elevation_proposal")]
pub struct Model {
    #[sea_orm(primary_key)]
    #[serde(skip)]
    pub id: i64,
    pub standard_code: String,
    /// Its place among its standard's proposals, from 1.
    pub number: i32,
    /// NATIONAL or INDUSTRY.
    pub target_level: Stored<ElevationTarget>,
    #[sea_orm(column_type = "Text")]
    pub rationale: String,
    /// PROPOSED, UNDER_REVIEW, ACCEPTED or DECLINED.
    pub status: Stored<ElevationStatus>,
    pub proposed_by: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTimeUtc>,
    /// The standard its acceptance created.
    pub elevated_code: Option<String>,
    /// Whether the local standard stays in force beside that one.
    pub keep_local: bool,
    pub origin: String,
    pub revision: i32,
    pub illustrative: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
