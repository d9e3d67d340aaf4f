use sea_orm::entity::prelude::*;

use concord_domain::GuideStatus;

use super::{ChannelList, Stored, StoredFee, TextList};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "service_guide")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub region_code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub matter_code: String,
    pub time_limit_days: i32,
    pub fee_fen: StoredFee,
    #[sea_orm(column_type = "JsonBinary")]
    pub materials: TextList,
    #[sea_orm(column_type = "JsonBinary")]
    pub channels: ChannelList,
    #[sea_orm(column_type = "Text")]
    pub legal_basis: String,
    pub guarantee_level: Option<String>,
    pub status: Stored<GuideStatus>,
    pub published_at: Option<DateTimeUtc>,
    pub origin: String,
    pub revision: i32,
    pub illustrative: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
