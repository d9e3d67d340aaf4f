//! What `/graphql` answers look like: the media type chosen by `Accept`,
//! and the bodies of request errors.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap};
use actix_web::web::Bytes;
use async_graphql::ServerError;
use serde_json::{Value, json};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
pub(super) const JSON: &str = "application/json";

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
pub(super) fn negotiate(headers: &HeaderMap) -> Option<Media> {
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

pub(super) fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// A response that carries only request errors (nothing was executed).
pub(super) fn request_errors(
    media: Media,
    status: StatusCode,
    errors: Vec<ServerError>,
) -> HttpResponse {
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

pub(super) fn bad_request(media: Media, message: &str, code: &str) -> HttpResponse {
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

/// A client that accepts none of the answer's types: told so in JSON all
/// the same, the one type every GraphQL client reads.
pub(super) fn not_acceptable() -> HttpResponse {
    HttpResponse::NotAcceptable()
        .content_type(JSON)
        .json(crate::requests::tag_json(json!({ "errors": [{
        "message": "accept application/graphql-response+json or application/json",
        "extensions": { "code": "NOT_ACCEPTABLE" }
    }] })))
}
