use sea_orm::entity::prelude::*;

use super::{ChannelList, GroupList};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "national_item")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub edition: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub number: i32,
    pub name_zh: String,
    pub name_en: String,
    pub category_code: String,
    pub area_zh: String,
    /// The official wording of who is served (服务对象).
    #[sea_orm(column_type = "Text")]
    pub served_group: String,
    /// The codes of the groups served, from the domain's catalogue
    /// (`ServedGroup`); `None` when none are listed. Replicas from a node
    /// without the column read it as `None`.
    #[sea_orm(column_type = "JsonBinary", nullable)]
    #[serde(default)]
    pub served_groups: Option<GroupList>,
    #[sea_orm(column_type = "Text")]
    pub content: String,
    #[sea_orm(column_type = "Text")]
    pub baseline_standard: String,
    #[sea_orm(column_type = "Text")]
    pub funding_responsibility: String,
    #[sea_orm(column_type = "Text")]
    pub lead_department: String,
    /// The baseline's longest allowed time limit, in working days.
    pub max_time_limit_days: Option<i32>,
    /// The baseline's highest allowed fee, in fen.
    pub max_fee_fen: Option<i64>,
    /// The channels the baseline requires.
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
