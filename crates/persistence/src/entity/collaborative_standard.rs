use sea_orm::entity::prelude::*;

use concord_domain::ProposalStatus;

use super::{ChannelList, Stored, TextList};

/// A zone's collaborative standard: the targets of a REGIONAL standard that
/// the zone's members adopt.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "collaborative_standard")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub standard_code: String,
    pub zone_code: String,
    /// PROPOSED, IN_FORCE or WITHDRAWN.
    pub status: Stored<ProposalStatus>,
    pub max_time_limit_days: Option<i32>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub materials: Option<TextList>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub required_channels: Option<ChannelList>,
    pub origin: String,
    pub revision: i32,
    pub illustrative: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
