//! `/graphql` as the GraphQL-over-HTTP specification has it: POST with JSON
//! only, GET for queries only, and the answer's media type and status chosen
//! by the request's `Accept`. (async-graphql-actix-web's responder always
//! answers `application/graphql-response+json`, which Apollo tooling rejects.)

mod execute;
mod media;

use actix_web::error::QueryPayloadError;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap};
use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::parser::types::OperationType;
use async_graphql::{BatchRequest, Request};
use concord_auth::Principal;
use futures::StreamExt;
use serde_json::{Value, json};

pub use execute::requests_served;
pub(crate) use execute::{Answer, caught_up, execute};
use media::{JSON, accepts_html, bad_request, negotiate, not_acceptable, request_errors};
pub(crate) use media::{Media, error_json, to_bytes, unauthenticated, unauthenticated_json};

use crate::pages::Pages;
use crate::persisted::Origin;
use crate::startup::AppState;

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

#[cfg(test)]
mod tests;
