use concord_domain::{Origin, RegionCode, ZoneCode, audit};
use sea_orm::entity::prelude::*;

use super::refused;
use crate::StoreError;

/// One successful mutation: who did what to which row, before and after.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_entry")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    pub subject: String,
    pub role: String,
    pub actor_region: Option<String>,
    pub actor_zone: Option<String>,
    pub action: String,
    pub target_kind: String,
    pub target_key: String,
    /// The region that owns the target (`100000` for national rows).
    pub target_region: String,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub before: Option<Json>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub after: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl TryFrom<Model> for audit::AuditEntry {
    type Error = StoreError;

    fn try_from(row: Model) -> Result<Self, StoreError> {
        let fault = |column: &str, error: &dyn std::fmt::Display| {
            refused(format_args!("audit entry {}", row.id), column, error)
        };
        Ok(Self {
            id: row.id,
            at: row.at,
            subject: row.subject,
            role: row.role,
            actor_region: row
                .actor_region
                .as_deref()
                .map(RegionCode::try_from)
                .transpose()
                .map_err(|e| fault("actor_region", &e))?,
            actor_zone: row
                .actor_zone
                .as_deref()
                .map(ZoneCode::try_from)
                .transpose()
                .map_err(|e| fault("actor_zone", &e))?,
            action: row.action.parse().map_err(|e| fault("action", &e))?,
            target_kind: row
                .target_kind
                .parse()
                .map_err(|e| fault("target_kind", &e))?,
            target_key: row.target_key,
            target_region: Origin::try_from(row.target_region.as_str())
                .map_err(|e| fault("target_region", &e))?,
            before: row.before,
            after: row.after,
        })
    }
}
