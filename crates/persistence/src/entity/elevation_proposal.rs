use sea_orm::entity::prelude::*;

/// A proposal to raise a local or regional standard to a national or
/// industry one.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "elevation_proposal")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub standard_code: String,
    /// NATIONAL or INDUSTRY.
    pub target_level: String,
    #[sea_orm(column_type = "Text")]
    pub rationale: String,
    /// PROPOSED, UNDER_REVIEW, ACCEPTED or DECLINED.
    pub status: String,
    pub proposed_by: String,
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
