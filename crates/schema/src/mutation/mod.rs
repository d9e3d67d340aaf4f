//! The write API. Each mutation checks its input in `domain`, asks `auth`'s
//! policy whether the caller may, then makes the change through
//! `persistence`, which commits it with its history and audit entry.

mod catalogue;
mod collaboration;
mod guide;
mod standard;

use async_graphql::{Context, MergedObject};
use chrono::Utc;
use concord_auth::{Action, Node, Target, authorize};
use concord_domain::{Names, ValidationError};
use concord_persistence::mutate::Actor;

use crate::context::RequestScope;
use crate::error::ApiError;

/// Every mutation.
#[derive(MergedObject, Default)]
pub struct Mutation(
    guide::GuideMutation,
    standard::StandardMutation,
    catalogue::CatalogueMutation,
    collaboration::CollaborationMutation,
);

/// Checks the policy for `action` on `target`, returning who acts.
fn allow(ctx: &Context<'_>, action: Action, target: &Target<'_>) -> Result<Actor, ApiError> {
    let scope = ctx
        .data::<RequestScope>()
        .map_err(|_| ApiError::Internal("the request carries no scope".into()))?;
    let node = ctx
        .data::<Node>()
        .map_err(|_| ApiError::Internal("the schema was built without a node".into()))?;
    authorize(&scope.principal, action, target, node)?;
    let principal = &scope.principal;
    Ok(Actor {
        subject: principal.subject.clone().unwrap_or_default(),
        role: principal
            .role
            .map(|r| r.as_str())
            .unwrap_or("ANONYMOUS")
            .to_owned(),
        region: principal.region.as_ref().map(ToString::to_string),
        zone: principal.zone.as_ref().map(ToString::to_string),
    })
}

fn now() -> chrono::DateTime<Utc> {
    Utc::now()
}

/// Checked names, or empty ones with their errors gathered: a mutation
/// reports every field that breaks a rule, not only the first.
fn names(checked: Result<Names, Vec<ValidationError>>, errors: &mut Vec<ValidationError>) -> Names {
    checked.unwrap_or_else(|mut found| {
        errors.append(&mut found);
        Names::default()
    })
}
