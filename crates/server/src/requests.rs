//! What every HTTP request carries: a request ID (the client's
//! `x-request-id`, or one made here) in a span around its handler, so that
//! each log line and trace of the request shows it, in the response's
//! `x-request-id` header and in every GraphQL error's
//! `extensions.requestId`; and one access log line when it is answered.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use async_graphql::ServerError;
use serde_json::Value;
use tracing::Instrument;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest request ID taken from a client.
const MAX_ID: usize = 128;

/// What the handlers tell of a request for its access log line.
#[derive(Default)]
struct Outcome {
    /// The GraphQL operations answered, by name (a batch has several).
    operations: Vec<String>,
    /// How many of them came from the response cache.
    cache_hits: usize,
}

struct Current {
    id: String,
    outcome: RefCell<Outcome>,
}

tokio::task_local! {
    /// The request being handled. An actix handler runs inside its
    /// middleware's future, so the handler sees what the middleware set.
    static CURRENT: Rc<Current>;
}

/// The client's request ID when it is one that logs and headers can carry
/// as they are; else a new random one.
fn request_id(headers: &HeaderMap) -> String {
    let given = headers
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= MAX_ID
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=".contains(&b))
        });
    match given {
        Some(id) => id.to_owned(),
        None => {
            let mut bytes = [0u8; 16];
            rand::fill(&mut bytes);
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        }
    }
}

/// The middleware: a span with the request ID around the handler, the
/// `x-request-id` header on the answer, and the access log line.
pub(crate) async fn observe(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id(request.headers());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.path(),
        otel.name = tracing::field::Empty,
        otel.kind = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
        graphql.operation.name = tracing::field::Empty,
    );
    if crate::telemetry::exporting() {
        // For the trace only: the log lines show method and path already.
        span.record(
            "otel.name",
            format!("{} {}", request.method(), request.path()).as_str(),
        );
        span.record("otel.kind", "server");
    }
    let current = Rc::new(Current {
        id: id.clone(),
        outcome: RefCell::new(Outcome::default()),
    });
    // Handlers' errors are already responses here; an `Err` comes only from
    // the routing itself, which actix answers (without the header).
    let mut response = CURRENT
        .scope(current.clone(), next.call(request).instrument(span.clone()))
        .await?
        .map_into_boxed_body();
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    let status = response.status().as_u16();
    let outcome = current.outcome.borrow();
    let operation = outcome.operations.join(",");
    let cache_hit =
        !outcome.operations.is_empty() && outcome.cache_hits == outcome.operations.len();
    span.record("http.response.status_code", status);
    if !operation.is_empty() {
        span.record("graphql.operation.name", operation.as_str());
    }
    span.in_scope(|| {
        tracing::info!(
            target: "concord::access",
            status,
            operation,
            duration_ms = started.elapsed().as_secs_f64() * 1000.0,
            cache_hit,
            "answered"
        );
    });
    Ok(response)
}

/// Records that the request answered the operation `name`, from the cache
/// or not. Outside a request (a WebSocket's operations), nothing.
pub(crate) fn answered(name: &str, cache_hit: bool) {
    let _ = CURRENT.try_with(|current| {
        let mut outcome = current.outcome.borrow_mut();
        outcome.operations.push(name.to_owned());
        outcome.cache_hits += usize::from(cache_hit);
    });
}

/// The ID of the request being handled.
fn current_id() -> Option<String> {
    CURRENT.try_with(|current| current.id.clone()).ok()
}

/// Adds the request ID to each error's extensions.
pub(crate) fn tag_errors(errors: &mut [ServerError]) {
    let Some(id) = current_id() else { return };
    for error in errors {
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("requestId", id.as_str());
    }
}

/// Adds the request ID to the extensions of each error of a GraphQL
/// response body built as JSON.
pub(crate) fn tag_json(mut body: Value) -> Value {
    let Some(id) = current_id() else { return body };
    if let Some(errors) = body.get_mut("errors").and_then(Value::as_array_mut) {
        for error in errors {
            if let Some(error) = error.as_object_mut() {
                let extensions = error
                    .entry("extensions")
                    .or_insert_with(|| Value::Object(Default::default()));
                if let Some(extensions) = extensions.as_object_mut() {
                    extensions.insert("requestId".to_owned(), Value::String(id.clone()));
                }
            }
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_id(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn a_usable_client_id_is_kept_and_any_other_replaced() {
        assert_eq!(request_id(&with_id("abc-123_x.y")), "abc-123_x.y");
        for unusable in ["", "has space", "quote\"d", &"x".repeat(MAX_ID + 1)] {
            let made = request_id(&with_id(unusable));
            assert_eq!(made.len(), 32, "{unusable:?} -> {made}");
            assert!(made.bytes().all(|b| b.is_ascii_hexdigit()));
        }
        assert_ne!(request_id(&HeaderMap::new()), request_id(&HeaderMap::new()));
    }
}
