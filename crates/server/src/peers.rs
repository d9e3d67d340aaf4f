//! Live zone queries, the serving side: this node's part for its zone
//! peers, and the check of the peers it calls itself.
//!
//! A part is the published guides of this node's own region, with the data
//! version they were read at. It is conditional: its `ETag` names that
//! version, and a request whose `If-None-Match` names the version this
//! process has seen is answered `304 Not Modified` without reading any
//! data, so an unchanged peer costs its callers next to nothing.

use std::collections::HashSet;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use concord_auth::Denial;
use concord_federation::{Part, PeerError, Peers, etag};
use concord_persistence::{DatabaseConnection, StoreError, queries, version};
use serde_json::json;

use crate::settings::Settings;
use crate::startup::AppState;

/// The peers of `settings`, checked against the regions this node knows.
pub(crate) async fn peers(
    settings: &Settings,
    db: &DatabaseConnection,
) -> Result<Peers, crate::startup::StartupError> {
    let node = settings.node()?;
    let known: HashSet<String> = queries::regions(db)
        .await
        .map_err(crate::startup::StartupError::Database)?
        .into_iter()
        .map(|region| region.code.into())
        .collect();
    Ok(Peers::new(
        &settings.federation,
        &settings.node.peers,
        node.region.as_ref(),
        &known,
    )?)
}

impl From<PeerError> for crate::startup::StartupError {
    fn from(error: PeerError) -> Self {
        crate::startup::StartupError::Peers(error)
    }
}

fn refusal(status: StatusCode, code: &str, message: String) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    if status == StatusCode::UNAUTHORIZED {
        response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
    }
    response.json(json!({ "error": { "code": code, "message": message } }))
}

fn internal(error: &StoreError) -> HttpResponse {
    tracing::error!(error = ?error, "cannot serve this node's part");
    refusal(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL",
        "this node's part could not be read".into(),
    )
}

/// `GET /federation/part`: this node's part, for a FEDERATION token.
pub(crate) async fn part(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    let principal = match crate::graphql::principal(&state, request.headers()) {
        Ok(principal) => principal,
        Err(error) => {
            return refusal(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                error.to_string(),
            );
        }
    };
    let node = match state.settings.node() {
        Ok(node) => node,
        Err(error) => {
            return refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                error.to_string(),
            );
        }
    };
    let region = match concord_auth::federation_part(&principal, &node) {
        Ok(region) => region,
        Err(Denial::Unauthenticated) => {
            return refusal(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                Denial::Unauthenticated.to_string(),
            );
        }
        Err(Denial::Forbidden(why)) => return refusal(StatusCode::FORBIDDEN, "FORBIDDEN", why),
    };
    // The version seen must be current before it can vouch for anything.
    if !state.watch.is_live()
        && let Err(error) = state.watch.catch_up().await
    {
        return internal(&error);
    }
    let seen = etag(region.as_str(), state.watch.version());
    let unchanged = request
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|tag| tag.trim() == seen);
    if unchanged {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, seen))
            .finish();
    }
    match read(&state.db, region.as_str()).await {
        Ok(part) => HttpResponse::Ok()
            .insert_header((header::ETAG, etag(region.as_str(), part.data_version)))
            .json(part),
        Err(error) => internal(&error),
    }
}

/// The part at one data version: the version is read before and after the
/// rows, and the read is repeated while a commit lands in between. After
/// three tries the rows are labelled with the older version, which is safe:
/// the caller's next request then reads them again.
async fn read(db: &DatabaseConnection, region: &str) -> Result<Part, StoreError> {
    let regions = [region.to_owned()];
    let mut tries = 0;
    loop {
        let before = version::current(db).await?;
        let guides = queries::published_guide_rows(db, &regions, None).await?;
        let procedures = queries::published_procedure_rows(db, &regions).await?;
        tries += 1;
        if tries == 3 || version::current(db).await? == before {
            return Ok(Part {
                region: region.to_owned(),
                data_version: before,
                committed_at: guides.iter().map(|g| g.updated_at).max(),
                guides,
                procedures,
            });
        }
    }
}
