//! What every resolver may ask of the request it runs in.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::Context;
use async_graphql::dataloader::DataLoader;
use concord_auth::{DraftScope, Principal, draft_scope};
use concord_persistence::DatabaseConnection;
use concord_persistence::footprint::Footprint;
use concord_persistence::queries::{self, Visibility};

use crate::error::ApiError;
use crate::loader::RowLoader;

/// What a request has read so far, so that its answer can be kept until a
/// commit touches something in it. Shared by the request's resolvers and
/// its batch loader.
#[derive(Clone, Default)]
pub struct Reads {
    footprint: Arc<Mutex<Footprint>>,
    /// Whether the request read another node's data, which no local commit
    /// announces.
    elsewhere: Arc<AtomicBool>,
}

impl Reads {
    /// Adds `footprint` to what the request has read.
    pub fn record(&self, footprint: &Footprint) {
        self.footprint
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend(footprint);
    }

    /// Everything recorded so far.
    pub fn footprint(&self) -> Footprint {
        self.footprint
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Notes that the request read a peer node's data.
    pub fn record_elsewhere(&self) {
        self.elsewhere.store(true, Ordering::Relaxed);
    }

    /// Whether the request read a peer node's data.
    pub fn read_elsewhere(&self) -> bool {
        self.elsewhere.load(Ordering::Relaxed)
    }
}

/// The database, for a resolver that says what it reads: `footprint` joins
/// the request's reads, so a cached answer is evicted by any commit that
/// touches it.
pub fn reading<'a>(
    ctx: &Context<'a>,
    footprint: &Footprint,
) -> Result<&'a DatabaseConnection, ApiError> {
    if let Ok(reads) = ctx.data::<Reads>() {
        reads.record(footprint);
    }
    ctx.data::<DatabaseConnection>()
        .map_err(|_| ApiError::Internal("the schema was built without a database".into()))
}

/// The database, for a resolver that does not say what it reads (a
/// mutation, or anything new): its answer counts as having read everything.
pub fn db<'a>(ctx: &Context<'a>) -> Result<&'a DatabaseConnection, ApiError> {
    reading(ctx, &Footprint::everything())
}

/// This request's batch loader.
pub fn loader<'a>(ctx: &Context<'a>) -> Result<&'a DataLoader<RowLoader>, ApiError> {
    ctx.data::<DataLoader<RowLoader>>()
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

/// What this request runs as.
pub fn scope<'a>(ctx: &Context<'a>) -> Result<&'a RequestScope, ApiError> {
    ctx.data::<RequestScope>()
        .map_err(|_| ApiError::Internal("the request carries no scope".into()))
}

/// The rows this request may see.
pub fn visibility<'a>(ctx: &Context<'a>) -> Result<&'a Visibility, ApiError> {
    Ok(&scope(ctx)?.visibility)
}

/// The region a list is narrowed to: what the caller asked for, when its
/// scope is every region (`own` is None); else its own region, and a
/// request for any other is refused, naming what it `reads`.
pub fn own_region_only(
    own: Option<&concord_domain::RegionCode>,
    asked: Option<String>,
    reads: &str,
) -> Result<Option<String>, ApiError> {
    match (own, asked) {
        (None, asked) => Ok(asked),
        (Some(own), Some(asked)) if asked != own.as_str() => Err(ApiError::Forbidden(format!(
            "a PROVINCE_ADMIN of {own} {reads} only of {own}"
        ))),
        (Some(own), _) => Ok(Some(own.to_string())),
    }
}
