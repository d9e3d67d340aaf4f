//! `/graphql` as the GraphQL-over-HTTP specification has it: POST with JSON
//! only, GET for queries only, and the answer's media type and status chosen
//! by the request's `Accept`. (async-graphql-actix-web's responder always
//! answers `application/graphql-response+json`, which Apollo tooling rejects.)

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::error::QueryPayloadError;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::parser::types::OperationType;
use async_graphql::{BatchRequest, Request, Response, ServerError};
use concord_auth::Principal;
use futures::StreamExt;
use serde_json::{Value, json};

use crate::cache::ResponseCache;
use crate::pages::Pages;
use crate::persisted::Origin;
use crate::startup::AppState;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

static SERVED: AtomicU64 = AtomicU64::new(0);

/// GraphQL operations served since the process started.
pub fn requests_served() -> u64 {
    SERVED.load(Ordering::Relaxed)
}

/// The media type the client will get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Media {
    GraphqlResponse,
    Json,
}

impl Media {
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Media::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Media::Json => "application/json; charset=utf-8",
        }
    }
}

/// Picks the answer's media type from `Accept`, honouring order and `q`.
/// `None` when the client accepts neither JSON type.
fn negotiate(headers: &HeaderMap) -> Option<Media> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(Media::Json);
    };
    let mut ranges: Vec<(f32, &str)> = accept
        .split(',')
        .filter_map(|range| {
            let mut parts = range.split(';');
            let media = parts.next()?.trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            (q > 0.0).then_some((q, media))
        })
        .collect();
    ranges.sort_by(|a, b| b.0.total_cmp(&a.0));
    ranges
        .into_iter()
        .find_map(|(_, media)| match media.to_ascii_lowercase().as_str() {
            GRAPHQL_RESPONSE => Some(Media::GraphqlResponse),
            JSON | "application/*" | "*/*" => Some(Media::Json),
            _ => None,
        })
}

fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// A response that carries only request errors (nothing was executed).
fn request_errors(media: Media, status: StatusCode, errors: Vec<ServerError>) -> HttpResponse {
    let errors: Vec<Value> = errors.into_iter().map(error_json).collect();
    let status = if media == Media::GraphqlResponse || status != StatusCode::OK {
        status
    } else {
        StatusCode::OK
    };
    HttpResponse::build(status)
        .content_type(media.content_type())
        .json(json!({ "errors": errors }))
}

pub(crate) fn error_json(mut error: ServerError) -> Value {
    crate::requests::tag_errors(std::slice::from_mut(&mut error));
    serde_json::to_value(&error).unwrap_or_else(
        |_| json!({ "message": "internal error", "extensions": { "code": "INTERNAL" } }),
    )
}

fn bad_request(media: Media, message: &str, code: &str) -> HttpResponse {
    let mut error = ServerError::new(message, None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", code);
    error.extensions = Some(extensions);
    request_errors(media, StatusCode::BAD_REQUEST, vec![error])
}

const INTERNAL: &[u8] =
    br#"{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}"#;

pub(crate) fn to_bytes<T: serde::Serialize>(value: &T) -> Bytes {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .unwrap_or_else(|error| {
            tracing::error!(%error, "cannot serialise a response");
            Bytes::from_static(INTERNAL)
        })
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
    let (name, kind) = crate::metrics::operation(&state.settings.graphql.limits, &request);
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
            state.settings.server.request_timeout_ms as usize,
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

/// The caller: anonymous without an `Authorization` header, else what its
/// token proves. A header that proves nothing is refused, even for a query
/// that anyone could run, so a client learns at once that its token is bad.
pub(crate) fn principal(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Principal, concord_auth::AuthError> {
    let Some(header) = headers.get(header::AUTHORIZATION) else {
        return Ok(Principal::anonymous());
    };
    let header = header
        .to_str()
        .map_err(|_| concord_auth::AuthError::BadAuthorizationHeader)?;
    state.verifier.verify(concord_auth::bearer_token(header)?)
}

/// 401 for a WebSocket upgrade whose token proves nothing.
pub(crate) fn unauthenticated_json(error: &concord_auth::AuthError) -> HttpResponse {
    unauthenticated(Media::Json, error)
}

pub(crate) fn unauthenticated(media: Media, error: &concord_auth::AuthError) -> HttpResponse {
    let mut server_error = ServerError::new(error.to_string(), None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", "UNAUTHENTICATED");
    server_error.extensions = Some(extensions);
    HttpResponse::Unauthorized()
        .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
        .content_type(media.content_type())
        .json(json!({ "errors": [error_json(server_error)] }))
}

async fn respond(
    state: &AppState,
    headers: &HeaderMap,
    media: Media,
    batch: BatchRequest,
) -> HttpResponse {
    let principal = match principal(state, headers) {
        Ok(principal) => principal,
        Err(error) => return unauthenticated(media, &error),
    };
    let limits = &state.settings.graphql.limits;
    match batch {
        BatchRequest::Single(mut request) => {
            if let Err(refusal) = state.persisted.resolve(limits, &mut request) {
                return request_errors(media, refusal.status, vec![*refusal.error]);
            }
            let Answer {
                body,
                request_error,
                ..
            } = execute(state, principal, request).await;
            let status = if request_error && media == Media::GraphqlResponse {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            };
            HttpResponse::build(status)
                .content_type(media.content_type())
                .body(body)
        }
        BatchRequest::Batch(requests) => {
            let max = state.settings.graphql.limits.max_batch;
            if requests.len() > max {
                let error = concord_schema::limit_error("batch", max, Some(requests.len()));
                return request_errors(media, StatusCode::BAD_REQUEST, vec![error]);
            }
            let mut bodies = Vec::with_capacity(2 + 64 * requests.len());
            bodies.push(b'[');
            for (i, mut request) in requests.into_iter().enumerate() {
                if i > 0 {
                    bodies.push(b',');
                }
                let body = match state.persisted.resolve(limits, &mut request) {
                    Ok(_) => execute(state, principal.clone(), request).await.body,
                    Err(refusal) => refusal.body(),
                };
                bodies.extend_from_slice(&body);
            }
            bodies.push(b']');
            HttpResponse::Ok()
                .content_type(media.content_type())
                .body(bodies)
        }
    }
}

/// POST /graphql: a JSON body holding one request or a batch.
pub async fn post(
    state: web::Data<AppState>,
    http: HttpRequest,
    mut payload: web::Payload,
) -> HttpResponse {
    let Some(media) = negotiate(http.headers()) else {
        return not_acceptable();
    };
    let content_type = http
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if content_type.as_deref() != Some(JSON) {
        return HttpResponse::UnsupportedMediaType()
            .content_type(media.content_type())
            .json(crate::requests::tag_json(json!({ "errors": [{
                "message": "a POST to /graphql must have content-type application/json",
                "extensions": { "code": "BAD_USER_INPUT" }
            }] })));
    }
    let limit = state.settings.server.body_limit;
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else {
            return bad_request(
                media,
                "the request body could not be read",
                "BAD_USER_INPUT",
            );
        };
        if body.len() + chunk.len() > limit {
            let error = concord_schema::limit_error("body_bytes", limit, None);
            return request_errors(media, StatusCode::PAYLOAD_TOO_LARGE, vec![error]);
        }
        body.extend_from_slice(&chunk);
    }
    let batch = match serde_json::from_slice::<BatchRequest>(&body) {
        Ok(batch) => batch,
        Err(_) => return bad_request(media, &why_not_a_request(&body), "BAD_USER_INPUT"),
    };
    respond(&state, http.headers(), media, batch).await
}

const NOT_A_REQUEST: &str =
    "the body must be a GraphQL request (a JSON object with a `query` string) or a list of them";

/// Why a POST body is not a request or a batch. serde's own message names
/// async-graphql's types where the shape is wrong (`untagged enum
/// BatchRequest`, `struct Request`), so the shape is told here, and serde
/// speaks only of the members of a request.
fn why_not_a_request(body: &[u8]) -> String {
    let member_error = |value: Value| {
        serde_json::from_value::<Request>(value)
            .err()
            .map(|error| error.to_string())
    };
    let why = match serde_json::from_slice::<Value>(body) {
        Err(error) => Some(format!("the body is not JSON: {error}")),
        Ok(value @ Value::Object(_)) => member_error(value),
        Ok(Value::Array(items)) => items.into_iter().enumerate().find_map(|(index, item)| {
            let why = if item.is_object() {
                member_error(item)?
            } else {
                NOT_A_REQUEST.to_owned()
            };
            Some(format!("request {} of the batch: {why}", index + 1))
        }),
        Ok(_) => None,
    };
    why.unwrap_or_else(|| NOT_A_REQUEST.to_owned())
}

/// The parameters of GET /graphql.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetParams {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

/// Whether the operation a GET would run is a mutation (or a subscription),
/// which GET must not run.
fn is_write(query: &str, operation_name: Option<&str>) -> bool {
    let Ok(document) = async_graphql::parser::parse_query(query) else {
        return false;
    };
    document.operations.iter().any(|(name, operation)| {
        let selected = match operation_name {
            Some(wanted) => name.is_some_and(|n| n.as_str() == wanted),
            None => true,
        };
        selected && operation.node.ty != OperationType::Query
    })
}

/// GET /graphql: a WebSocket for subscriptions, GraphiQL for a browser,
/// else a query from the URL.
pub async fn get(
    state: web::Data<AppState>,
    pages: web::Data<Pages>,
    http: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    if crate::ws::is_upgrade(&http) {
        return crate::ws::upgrade(state, http, payload).await;
    }
    // Read here rather than by an extractor, whose refusal is a plain-text
    // 400 without a GraphQL error.
    let params = match web::Query::<GetParams>::from_query(http.query_string()) {
        Ok(params) => params.into_inner(),
        Err(error) => {
            let why = match error {
                QueryPayloadError::Deserialize(error) => error.to_string(),
                other => other.to_string(),
            };
            let media = negotiate(http.headers()).unwrap_or(Media::Json);
            return bad_request(
                media,
                &format!("the query string cannot be read: {why}"),
                "BAD_USER_INPUT",
            );
        }
    };
    // A persisted query may come as its hash alone, in `extensions`.
    if params.query.is_none() && params.extensions.is_none() {
        // GraphiQL runs whatever is typed into it: not where only a
        // manifest's operations may run.
        if state.settings.server.graphiql
            && !state.persisted.locked()
            && accepts_html(http.headers())
        {
            return pages.graphiql();
        }
        let media = negotiate(http.headers()).unwrap_or(Media::Json);
        return bad_request(
            media,
            "a GET to /graphql needs a `query` parameter",
            "BAD_USER_INPUT",
        );
    };
    let Some(media) = negotiate(http.headers()) else {
        return not_acceptable();
    };
    let mut request = Request::new(params.query.unwrap_or_default());
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    for (field, raw) in [
        ("variables", params.variables),
        ("extensions", params.extensions),
    ] {
        let Some(raw) = raw else { continue };
        match serde_json::from_str::<Value>(&raw) {
            Ok(value) if field == "variables" => {
                request = request.variables(async_graphql::Variables::from_json(value));
            }
            Ok(Value::Object(map)) => {
                for (key, value) in map {
                    if let Ok(value) = async_graphql::Value::from_json(value) {
                        request.extensions.insert(key, value);
                    }
                }
            }
            Ok(_) | Err(_) => {
                return bad_request(
                    media,
                    &format!("the `{field}` parameter is not a JSON object"),
                    "BAD_USER_INPUT",
                );
            }
        }
    }
    let limits = &state.settings.graphql.limits;
    let origin = match state.persisted.resolve(limits, &mut request) {
        Ok(origin) => origin,
        Err(refusal) => return request_errors(media, refusal.status, vec![*refusal.error]),
    };
    // A document past the limits on its text is not parsed here (a deep
    // one would overflow the parser's stack): the run refuses it.
    let parsable = concord_schema::check_text(limits, &request.query).is_ok();
    if parsable && is_write(&request.query, request.operation_name.as_deref()) {
        return HttpResponse::MethodNotAllowed()
            .insert_header((header::ALLOW, "POST"))
            .content_type(media.content_type())
            .json(crate::requests::tag_json(json!({ "errors": [{
                "message": "mutations must be sent with POST",
                "extensions": { "code": "BAD_USER_INPUT" }
            }] })));
    }
    if origin == Origin::Persisted {
        return crate::persisted::respond_get(&state, http.headers(), media, request).await;
    }
    respond(&state, http.headers(), media, BatchRequest::Single(request)).await
}

/// Any other method on /graphql.
pub async fn method_not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, "GET, POST"))
        .content_type(JSON)
        .json(crate::requests::tag_json(json!({ "errors": [{
            "message": "/graphql answers GET and POST only",
            "extensions": { "code": "METHOD_NOT_ALLOWED" }
        }] })))
}

/// A client that accepts none of the answer's types: told so in JSON all
/// the same, the one type every GraphQL client reads.
fn not_acceptable() -> HttpResponse {
    HttpResponse::NotAcceptable()
        .content_type(JSON)
        .json(crate::requests::tag_json(json!({ "errors": [{
        "message": "accept application/graphql-response+json or application/json",
        "extensions": { "code": "NOT_ACCEPTABLE" }
    }] })))
}

#[cfg(test)]
mod tests;
