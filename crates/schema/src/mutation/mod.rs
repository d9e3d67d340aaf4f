//! The write API. Each mutation checks its input in `domain`, asks `auth`'s
//! policy whether the caller may, then makes the change through
//! `persistence`, which commits it with its history and audit entry.

mod catalogue;
mod collaboration;
mod guide;
mod standard;
mod sync;

use async_graphql::{Context, MergedObject};
use chrono::Utc;
use concord_auth::{Action, Node, Role, Target, authorize, may_attempt};
use concord_domain::RegionCode;
use concord_persistence::mutate::Permit;

use crate::context::{RequestScope, db, scope};
use crate::error::ApiError;

/// Every mutation.
#[derive(MergedObject, Default)]
pub struct Mutation(
    guide::GuideMutation,
    standard::StandardMutation,
    catalogue::CatalogueMutation,
    collaboration::CollaborationMutation,
    sync::SyncMutation,
);

/// The first thing every mutation does: refuses a caller who could not do
/// `action` to any row, before its input is read or a row is looked up, so
/// that what it sent, and whether the row exists, make no difference.
fn gate(ctx: &Context<'_>, action: Action) -> Result<(), ApiError> {
    let scope = scope(ctx)?;
    Ok(may_attempt(&scope.principal, action)?)
}

/// The refusal for a row the caller cannot see: not found for a
/// NATIONAL_ADMIN, who sees every row; for anyone else the same refusal
/// whether the row is missing or is a draft it may not see, so that it
/// cannot learn which.
fn unseen(ctx: &Context<'_>, what: String) -> ApiError {
    let national = ctx
        .data::<RequestScope>()
        .is_ok_and(|scope| scope.principal.role == Some(Role::NationalAdmin));
    if national {
        ApiError::NotFound(what)
    } else {
        ApiError::Forbidden(format!("there is no {what} that you may change"))
    }
}

/// Checks the policy for `action` on `target`, returning the permit to write.
fn allow<'a>(
    ctx: &Context<'a>,
    action: Action,
    target: &Target<'_>,
) -> Result<Permit<'a>, ApiError> {
    let scope = scope(ctx)?;
    let node = ctx
        .data::<Node>()
        .map_err(|_| ApiError::Internal("the schema was built without a node".into()))?;
    let actor = authorize(&scope.principal, action, target, node)?;
    Ok(Permit {
        db: db(ctx)?,
        actor,
        now: Utc::now(),
    })
}

/// The target of a row owned by `region`.
fn regional(region: &RegionCode) -> Target<'_> {
    Target {
        region: Some(region),
        ..Target::default()
    }
}
