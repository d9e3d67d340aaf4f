//! What every resolver may ask of the request it runs in.

use async_graphql::Context;
use async_graphql::dataloader::DataLoader;
use concord_auth::{DraftScope, Principal, draft_scope};
use concord_persistence::DatabaseConnection;
use concord_persistence::queries::{self, Visibility};

use crate::error::ApiError;
use crate::loader::Batch;

/// The database, shared by every request.
pub fn db<'a>(ctx: &Context<'a>) -> Result<&'a DatabaseConnection, ApiError> {
    ctx.data::<DatabaseConnection>()
        .map_err(|_| ApiError::Internal("the schema was built without a database".into()))
}

/// This request's batch loader.
pub fn loader<'a>(ctx: &Context<'a>) -> Result<&'a DataLoader<Batch>, ApiError> {
    ctx.data::<DataLoader<Batch>>()
        .map_err(|_| ApiError::Internal("the request carries no data loader".into()))
}

/// What a request runs as, with the rows it may see. Built once per request
/// by [`RequestScope::new`], before the query runs.
pub struct RequestScope {
    pub principal: Principal,
    pub visibility: Visibility,
}

impl RequestScope {
    /// Resolves the principal's draft scope to the regions whose drafts it may read.
    pub async fn new(db: &DatabaseConnection, principal: Principal) -> Result<Self, ApiError> {
        let visibility = match draft_scope(&principal) {
            DraftScope::None => Visibility::Public,
            DraftScope::All => Visibility::All,
            DraftScope::Region(region) => Visibility::OwnDrafts {
                regions: vec![region.to_string()],
                zones: Vec::new(),
            },
            DraftScope::ZoneMembers(zone) => Visibility::OwnDrafts {
                regions: queries::members_of_zones(db, &[zone.to_string()])
                    .await?
                    .into_iter()
                    .map(|m| m.region_code)
                    .collect(),
                zones: vec![zone.to_string()],
            },
        };
        Ok(Self {
            principal,
            visibility,
        })
    }
}

/// The rows this request may see.
pub fn visibility<'a>(ctx: &Context<'a>) -> Result<&'a Visibility, ApiError> {
    ctx.data::<RequestScope>()
        .map(|scope| &scope.visibility)
        .map_err(|_| ApiError::Internal("the request carries no scope".into()))
}
