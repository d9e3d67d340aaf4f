//! One GraphQL request, from the response cache or the schema: what every
//! transport (POST, GET, persisted operations, WebSockets) runs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use async_graphql::{Request, Response};
use concord_auth::Principal;
use serde_json::{Value, json};

use super::media::{error_json, to_bytes};
use crate::cache::ResponseCache;
use crate::startup::AppState;

static SERVED: AtomicU64 = AtomicU64::new(0);

/// GraphQL operations served since the process started.
pub fn requests_served() -> u64 {
    SERVED.load(Ordering::Relaxed)
}

/// Where a cacheable request's answer would be kept.
struct Slot<'a> {
    cache: &'a ResponseCache,
    /// The last commit seen when the request started.
    since: i64,
    key: String,
}

/// What the cache has for a request.
enum Lookup<'a> {
    /// The answer, as computed before at the current data version.
    Hit(Bytes),
    /// Nothing yet: where to keep the answer about to be computed, or `None`
    /// without a cache, for a request that must not be cached, or when the
    /// latest commits cannot be read.
    Miss(Option<Slot<'a>>),
}

/// Whether the watch knows every commit up to now. It follows commits by
/// itself; while its follower is down, each request asks the database what
/// it missed, so that nothing kept between requests (answers, zone matrices,
/// the reference tables) outlives the watch's bound.
pub(crate) async fn caught_up(state: &AppState) -> bool {
    if state.watch.is_live() {
        return true;
    }
    match state.watch.catch_up().await {
        Ok(_) => true,
        Err(error) => {
            tracing::warn!(error = ?error, "cannot read the latest commits; answering uncached");
            false
        }
    }
}

/// The cached answer, if the watch is `fresh` and one is kept.
fn look_up<'a>(
    state: &'a AppState,
    fresh: bool,
    principal: &Principal,
    request: &Request,
) -> Lookup<'a> {
    let Some(cache) = &state.cache else {
        return Lookup::Miss(None);
    };
    let Some(key) = ResponseCache::key(principal, request) else {
        return Lookup::Miss(None);
    };
    if !fresh {
        return Lookup::Miss(None);
    }
    let since = state.watch.version();
    match cache.get(&key) {
        Some(body) => Lookup::Hit(body),
        None => Lookup::Miss(Some(Slot { cache, since, key })),
    }
}

/// Runs one request and renders it as JSON, with whether it was a request
/// error; its latency is counted and its name noted for the access log.
pub(crate) async fn execute(state: &AppState, principal: Principal, request: Request) -> Answer {
    let (name, kind) =
        crate::metrics::operation(&state.kept, &state.settings.graphql.limits, &request);
    let started = Instant::now();
    let (answer, cache_hit) = answer(state, principal, request).await;
    state
        .metrics
        .observe_operation(&name, kind, started.elapsed());
    crate::requests::answered(&name, cache_hit);
    answer
}

/// What [`execute`] answers.
pub(crate) struct Answer {
    pub(crate) body: Bytes,
    /// Nothing ran: the body holds request errors only.
    pub(crate) request_error: bool,
    /// The answer holds only what local commits change, and no error, so it
    /// may be kept (or tagged for HTTP caches) until the data version moves.
    pub(crate) keepable: bool,
}

impl Answer {
    fn not_kept(body: Bytes, request_error: bool) -> Self {
        Self {
            body,
            request_error,
            keepable: false,
        }
    }
}

/// [`execute`], telling too whether the answer came from the cache.
async fn answer(state: &AppState, principal: Principal, request: Request) -> (Answer, bool) {
    SERVED.fetch_add(1, Ordering::Relaxed);
    let fresh = caught_up(state).await;
    let slot = match look_up(state, fresh, &principal, &request) {
        Lookup::Hit(body) => {
            let answer = Answer {
                body,
                request_error: false,
                keepable: true,
            };
            return (answer, true);
        }
        Lookup::Miss(slot) => slot,
    };
    let (request, executed) = match concord_schema::prepare(
        &state.db,
        &state.settings.graphql,
        &state.kept,
        principal,
        request,
    )
    .await
    {
        Ok(prepared) => prepared,
        Err(error) => {
            let body = to_bytes(&json!({ "errors": [error_json(error)] }));
            return (Answer::not_kept(body, false), false);
        }
    };
    let timeout = Duration::from_millis(state.settings.server.request_timeout_ms);
    let run = concord_schema::run(
        &state.schema,
        &state.settings.graphql.limits,
        request,
        &executed,
    );
    let mut response = match tokio::time::timeout(timeout, run).await {
        Ok(response) => response,
        Err(_) => Response::from_errors(vec![concord_schema::limit_error(
            "timeout_ms",
            usize::try_from(state.settings.server.request_timeout_ms).unwrap_or(usize::MAX),
            None,
        )]),
    };
    if executed.get()
        && !executed.read_only()
        && let Err(error) = state.watch.catch_up().await
    {
        // Its commits reach the cache through the watch's follower instead,
        // within its bound.
        tracing::warn!(error = ?error, "cannot read the commits a mutation made");
    }
    if !executed.get() {
        // A request error has no `data` entry at all.
        let errors: Vec<Value> = response.errors.into_iter().map(error_json).collect();
        let body = to_bytes(&json!({ "errors": errors }));
        return (Answer::not_kept(body, true), false);
    }
    crate::requests::tag_errors(&mut response.errors);
    let body = to_bytes(&response);
    let keepable = executed.read_only() && executed.cacheable() && response.errors.is_empty();
    if let Some(slot) = slot
        && keepable
    {
        slot.cache
            .put(slot.key, body.clone(), executed.reads(), slot.since);
    }
    let answer = Answer {
        body,
        request_error: false,
        keepable,
    };
    (answer, false)
}
