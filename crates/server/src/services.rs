//! Published guides as CPSV-AP JSON-LD over plain HTTP: `/services/{region}`,
//! `/services/{region}/{matter}`, and the context those documents name,
//! served here so that expanding them needs no internet.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, web};
use concord_domain::{MatterCode, RegionCode};
use concord_persistence::export::cpsv::{self, ContextRef, Options, Selection};
use serde_json::json;

use crate::startup::AppState;

/// Where the CPSV-AP context is served; the documents refer to it.
pub(crate) const CONTEXT_PATH: &str = "/contexts/cpsv-ap-3.2.0.jsonld";

const LD_JSON: &str = "application/ld+json";

pub(crate) async fn context() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, LD_JSON))
        // The file is a fixed release of the profile; its path names the release.
        .insert_header((CACHE_CONTROL, "public, max-age=86400"))
        .body(cpsv::CONTEXT)
}

pub(crate) async fn region(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let region = path.into_inner();
    if let Err(error) = RegionCode::try_from(region.as_str()) {
        return not_found(format!("`{region}` is not a region code: {error}"));
    }
    answer(&state, &request, Selection::Region(&region)).await
}

pub(crate) async fn guide(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (region, matter) = path.into_inner();
    if let Err(error) = RegionCode::try_from(region.as_str()) {
        return not_found(format!("`{region}` is not a region code: {error}"));
    }
    if let Err(error) = MatterCode::try_from(matter.as_str()) {
        return not_found(format!("`{matter}` is not a matter code: {error}"));
    }
    let selection = Selection::Guide {
        region: &region,
        matter: &matter,
    };
    answer(&state, &request, selection).await
}

async fn answer(state: &AppState, request: &HttpRequest, selection: Selection<'_>) -> HttpResponse {
    let options = Options {
        base_iri: state.base_iri.clone(),
        context: ContextRef::Url(context_url(state, request)),
    };
    let services = match cpsv::load(&state.db, selection).await {
        Ok(Ok(services)) => services,
        Ok(Err(missing)) => return not_found(missing.to_string()),
        Err(error) => return internal(&error),
    };
    match cpsv::document(&services, &options) {
        Ok(document) => HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, LD_JSON))
            .body(document.to_string()),
        Err(error) => internal(&error),
    }
}

/// The context's absolute URL: under `export.public_url` when set, else on
/// the host and scheme this request came in on.
fn context_url(state: &AppState, request: &HttpRequest) -> String {
    match &state.settings.export.public_url {
        Some(base) => format!("{}{CONTEXT_PATH}", base.trim_end_matches('/')),
        None => {
            let info = request.connection_info();
            format!("{}://{}{CONTEXT_PATH}", info.scheme(), info.host())
        }
    }
}

fn not_found(message: String) -> HttpResponse {
    HttpResponse::NotFound().json(json!({
        "errors": [{ "message": message, "extensions": { "code": "NOT_FOUND" } }]
    }))
}

fn internal(error: &concord_persistence::StoreError) -> HttpResponse {
    tracing::error!(error = ?error, "CPSV-AP export failed");
    HttpResponse::InternalServerError().json(json!({
        "errors": [{ "message": "internal error", "extensions": { "code": "INTERNAL" } }]
    }))
}
