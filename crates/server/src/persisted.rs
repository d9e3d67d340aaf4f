//! Persisted operations: Apollo's automatic persisted queries (APQ), the
//! allow-list a manifest locks a deployment to, and HTTP caching of
//! persisted queries sent by GET.
//!
//! A request names its operation by `extensions.persistedQuery =
//! {version: 1, sha256Hash}`. Without a manifest, a hash the server knows
//! stands for its query text; an unknown one is answered
//! `PersistedQueryNotFound`, to which Apollo clients reply with the hash and
//! the text, which registers the text in a bounded store. With a manifest
//! (`--operations`, Apollo's persisted query list format) only the
//! manifest's operations run, named by id or sent as the exact body, and
//! nothing is registered.
//!
//! A persisted query sent by GET carries an `ETag` made of the data version,
//! the day, the caller and the request, so that a browser or a proxy can ask
//! again with `If-None-Match` and get `304 Not Modified` without the query
//! running. See the README's "Persisted operations" for what a client sees.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::{HttpResponse, web::Bytes};
use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{ErrorExtensionValues, Request, ServerError};
use concord_auth::Principal;
use concord_schema::Limits;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::graphql::{self, Media};
use crate::startup::AppState;

/// Persisted operations in the configuration (`[persisted]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct PersistedSettings {
    /// Megabytes of query texts kept for automatic persisted queries, the
    /// least recently used leaving first; 0 turns them off.
    pub cache_mb: usize,
    /// An Apollo persisted query manifest: when set, only its operations
    /// run (`concord serve --operations FILE`).
    pub operations: Option<PathBuf>,
}

impl Default for PersistedSettings {
    fn default() -> Self {
        Self {
            cache_mb: 4,
            operations: None,
        }
    }
}

/// Why the operations manifest cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read the operations manifest {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the operations manifest {path} is unusable: {why}")]
    Invalid { path: String, why: String },
}

/// The operations this server accepts and the texts it has been given.
pub(crate) struct Persisted {
    mode: Mode,
}

enum Mode {
    /// Any operation runs; texts sent with their hash are kept, unless the
    /// store is off (`None`).
    Automatic(Option<QueryStore>),
    /// Only the manifest's operations run.
    Listed(Manifest),
}

/// How a request named the operation it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// By its text, as any GraphQL request does.
    Text,
    /// By a hash the server knows, or (with a manifest) by a listed text.
    Persisted,
}

/// A request refused before anything ran.
pub(crate) struct Refusal {
    pub status: StatusCode,
    /// Boxed: a refusal travels in a `Result` on every request's path.
    pub error: Box<ServerError>,
}

impl Refusal {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        let mut error = ServerError::new(message, None);
        let mut extensions = ErrorExtensionValues::default();
        extensions.set("code", code);
        error.extensions = Some(extensions);
        Self {
            status,
            error: Box::new(error),
        }
    }

    /// Apollo clients send the text again on exactly this message and code;
    /// on a 400 they would also stop sending hashes for good, hence 200.
    fn not_found() -> Self {
        Self::new(
            StatusCode::OK,
            "PERSISTED_QUERY_NOT_FOUND",
            "PersistedQueryNotFound",
        )
    }

    /// Apollo clients stop sending hashes on this message.
    fn not_supported() -> Self {
        Self::new(
            StatusCode::OK,
            "PERSISTED_QUERY_NOT_SUPPORTED",
            "PersistedQueryNotSupported",
        )
    }

    fn not_in_list() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "PERSISTED_QUERY_NOT_IN_LIST",
            "this server runs only the operations of its manifest, and this one is not among them",
        )
    }

    fn mismatch() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "PERSISTED_QUERY_HASH_MISMATCH",
            "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query",
        )
    }

    fn malformed(why: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "BAD_USER_INPUT",
            format!("extensions.persistedQuery {why}"),
        )
    }

    /// The refusal as the body of a request that ran nothing.
    pub fn body(self) -> Bytes {
        graphql::to_bytes(&serde_json::json!({ "errors": [graphql::error_json(*self.error)] }))
    }
}

impl Persisted {
    /// Reads the manifest when one is configured.
    pub fn build(settings: &PersistedSettings, limits: &Limits) -> Result<Self, ManifestError> {
        let mode = match &settings.operations {
            Some(path) => {
                let manifest = Manifest::load(path, limits)?;
                tracing::info!(
                    manifest = %path.display(),
                    operations = manifest.bodies_by_id.len(),
                    "locked to the manifest's operations"
                );
                Mode::Listed(manifest)
            }
            None => Mode::Automatic(
                (settings.cache_mb > 0).then(|| QueryStore::new(settings.cache_mb << 20)),
            ),
        };
        Ok(Self { mode })
    }

    /// Whether only a manifest's operations run.
    pub fn locked(&self) -> bool {
        matches!(self.mode, Mode::Listed(_))
    }

    /// Gives `request` the text its persisted query stands for (taking the
    /// `persistedQuery` extension off, so that the response cache may keep
    /// its answer), or refuses it.
    pub fn resolve(&self, limits: &Limits, request: &mut Request) -> Result<Origin, Refusal> {
        let hash = request
            .extensions
            .remove("persistedQuery")
            .map(requested_hash)
            .transpose()?;
        match (&self.mode, hash) {
            (Mode::Listed(manifest), hash) => manifest.admit(request, hash.as_deref()),
            (Mode::Automatic(_), None) => Ok(Origin::Text),
            (Mode::Automatic(None), Some(_)) => Err(Refusal::not_supported()),
            (Mode::Automatic(Some(store)), Some(hash)) => store.resolve(limits, request, &hash),
        }
    }
}

/// The hash of a `persistedQuery` extension.
fn requested_hash(extension: async_graphql::Value) -> Result<String, Refusal> {
    let extension = extension
        .into_json()
        .map_err(|_| Refusal::malformed("must be a JSON object"))?;
    match extension.get("version") {
        Some(version) if version.as_u64() == Some(1) => {}
        Some(version) => {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "PERSISTED_QUERY_VERSION_NOT_SUPPORTED",
                format!("persisted query version {version} is not supported; only version 1 is"),
            ));
        }
        None => return Err(Refusal::malformed("needs `version`: 1")),
    }
    extension
        .get("sha256Hash")
        .and_then(Value::as_str)
        .filter(|hash| !hash.is_empty())
        .map(str::to_ascii_lowercase)
        .ok_or_else(|| Refusal::malformed("needs `sha256Hash`, a string"))
}

fn sha256_hex(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

/// Query texts by the hash of each, kept in at most `capacity` bytes.
struct QueryStore {
    capacity: usize,
    inner: Mutex<StoreInner>,
}

#[derive(Default)]
struct StoreInner {
    /// Text and last use, by hash.
    texts: HashMap<String, (Arc<str>, u64)>,
    /// Hashes by last use, the least recent first.
    uses: BTreeMap<u64, String>,
    clock: u64,
    bytes: usize,
}

impl QueryStore {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            inner: Mutex::new(StoreInner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, StoreInner> {
        // Losing entries is all a panic under the lock can cost.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn get(&self, hash: &str) -> Option<Arc<str>> {
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        let (text, used) = inner.texts.get_mut(hash)?;
        let (text, before) = (text.clone(), std::mem::replace(used, now));
        inner.uses.remove(&before);
        inner.uses.insert(now, hash.to_owned());
        Some(text)
    }

    /// Keeps `text` under `hash`, unless it alone would take over an eighth
    /// of the store: a client then sends it with its hash every time.
    fn put(&self, hash: &str, text: &str) {
        let size = hash.len() + text.len();
        if size > self.capacity / 8 {
            return;
        }
        let mut inner = self.lock();
        if inner.texts.contains_key(hash) {
            return;
        }
        inner.clock += 1;
        let now = inner.clock;
        inner.texts.insert(hash.to_owned(), (Arc::from(text), now));
        inner.uses.insert(now, hash.to_owned());
        inner.bytes += size;
        while inner.bytes > self.capacity {
            let Some((_, oldest)) = inner.uses.pop_first() else {
                break;
            };
            if let Some((text, _)) = inner.texts.remove(&oldest) {
                inner.bytes -= oldest.len() + text.len();
            }
        }
    }

    fn resolve(
        &self,
        limits: &Limits,
        request: &mut Request,
        hash: &str,
    ) -> Result<Origin, Refusal> {
        if request.query.is_empty() {
            let text = self.get(hash).ok_or_else(Refusal::not_found)?;
            request.query = text.to_string();
            return Ok(Origin::Persisted);
        }
        if sha256_hex(&request.query) != hash {
            return Err(Refusal::mismatch());
        }
        // Only a document that parses is worth keeping; one past the limits
        // on its text is not even parsed (see `check_text`).
        if concord_schema::check_text(limits, &request.query).is_ok()
            && async_graphql::parser::parse_query(&request.query).is_ok()
        {
            self.put(hash, &request.query);
        }
        Ok(Origin::Persisted)
    }
}

/// Apollo's persisted query list: `{"format":
/// "apollo-persisted-query-manifest", "version": 1, "operations": [{"id",
/// "name", "type", "body"}]}`.
#[derive(Deserialize)]
struct ManifestFile {
    format: String,
    version: u64,
    operations: Vec<ListedOperation>,
}

#[derive(Deserialize)]
struct ListedOperation {
    id: String,
    name: String,
    #[serde(rename = "type")]
    kind: String,
    body: String,
}

/// The operations of a manifest, by id and by body.
struct Manifest {
    bodies_by_id: HashMap<String, Arc<str>>,
    bodies: HashSet<Arc<str>>,
}

const MANIFEST_FORMAT: &str = "apollo-persisted-query-manifest";

impl Manifest {
    fn load(path: &Path, limits: &Limits) -> Result<Self, ManifestError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: shown.clone(),
            source,
        })?;
        Self::parse(&text, limits).map_err(|why| ManifestError::Invalid { path: shown, why })
    }

    /// The manifest in `text`, or what is wrong with it.
    fn parse(text: &str, limits: &Limits) -> Result<Self, String> {
        let file: ManifestFile = serde_json::from_str(text).map_err(|error| error.to_string())?;
        if file.format != MANIFEST_FORMAT {
            return Err(format!(
                "`format` is `{}`, not `{MANIFEST_FORMAT}`",
                file.format
            ));
        }
        if file.version != 1 {
            return Err(format!(
                "`version` is {}; only version 1 is understood",
                file.version
            ));
        }
        if file.operations.is_empty() {
            return Err("it lists no operations, so nothing could run".to_owned());
        }
        let mut manifest = Self {
            bodies_by_id: HashMap::new(),
            bodies: Default::default(),
        };
        for (index, operation) in file.operations.into_iter().enumerate() {
            let at = |why: String| format!("operation {} (`{}`): {why}", index + 1, operation.name);
            if operation.id.is_empty() {
                return Err(at("`id` is empty".to_owned()));
            }
            check_body(&operation, limits).map_err(at)?;
            let body: Arc<str> = Arc::from(operation.body.as_str());
            if manifest
                .bodies_by_id
                .insert(operation.id.clone(), body.clone())
                .is_some()
            {
                return Err(at(format!("id `{}` is listed twice", operation.id)));
            }
            manifest.bodies.insert(body);
        }
        Ok(manifest)
    }

    /// Admits a listed operation: by id (`hash`) alone, by id and its exact
    /// body, or by a listed body.
    fn admit(&self, request: &mut Request, hash: Option<&str>) -> Result<Origin, Refusal> {
        let Some(hash) = hash else {
            return if self.bodies.contains(request.query.as_str()) {
                Ok(Origin::Persisted)
            } else {
                Err(Refusal::not_in_list())
            };
        };
        let by_id = self.bodies_by_id.get(hash);
        if request.query.is_empty() {
            let body = by_id.ok_or_else(Refusal::not_in_list)?;
            request.query = body.to_string();
            return Ok(Origin::Persisted);
        }
        if by_id.is_some_and(|body| **body == *request.query) {
            return Ok(Origin::Persisted);
        }
        if sha256_hex(&request.query) != hash {
            return Err(Refusal::mismatch());
        }
        // A client registering a text by its hash, as with APQ: fine if the
        // text is listed, though nothing is registered.
        if self.bodies.contains(request.query.as_str()) {
            Ok(Origin::Persisted)
        } else {
            Err(Refusal::not_in_list())
        }
    }
}

/// Checks that a listed body is a document within the limits that holds an
/// operation of the listed name and type.
fn check_body(operation: &ListedOperation, limits: &Limits) -> Result<(), String> {
    concord_schema::check_text(limits, &operation.body)
        .map_err(|error| format!("the body is refused: {}", error.message))?;
    let document = async_graphql::parser::parse_query(&operation.body)
        .map_err(|error| format!("the body is not GraphQL: {error}"))?;
    let found = match &document.operations {
        DocumentOperations::Single(single) => Some(single.node.ty),
        DocumentOperations::Multiple(operations) => operations
            .iter()
            .find(|(name, _)| name.as_str() == operation.name)
            .map(|(_, found)| found.node.ty),
    };
    let found = found.ok_or_else(|| format!("the body has no operation `{}`", operation.name))?;
    let expected = match operation.kind.as_str() {
        "query" => OperationType::Query,
        "mutation" => OperationType::Mutation,
        "subscription" => OperationType::Subscription,
        other => {
            return Err(format!(
                "`type` is `{other}`, not query, mutation or subscription"
            ));
        }
    };
    if found != expected {
        return Err(format!(
            "`type` is `{}` but the body's operation is a {found}",
            operation.kind
        ));
    }
    Ok(())
}

/// What GET answers a persisted query with: the answer with an `ETag`, or
/// `304 Not Modified` without running it when the caller's `If-None-Match`
/// names the current tag.
pub(crate) async fn respond_get(
    state: &AppState,
    headers: &HeaderMap,
    media: Media,
    request: Request,
) -> HttpResponse {
    let principal = match graphql::principal(state, headers) {
        Ok(principal) => principal,
        Err(error) => return graphql::unauthenticated(media, &error),
    };
    // The version is read before the query runs: an answer newer than its
    // tag only costs the client one more download, never a stale page.
    let tag = if graphql::caught_up(state).await {
        entity_tag(state.watch.version(), &principal, media, &request)
    } else {
        None
    };
    let cache_control = if headers.contains_key(header::AUTHORIZATION) {
        "private, no-cache"
    } else {
        "public, no-cache"
    };
    if let Some(tag) = &tag
        && if_none_match(headers, tag)
    {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, tag.clone()))
            .insert_header((header::CACHE_CONTROL, cache_control))
            .insert_header((header::VARY, VARY))
            .finish();
    }
    let graphql::Answer {
        body,
        request_error,
        keepable,
    } = graphql::execute(state, principal, request).await;
    let status = if request_error && media == Media::GraphqlResponse {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut response = HttpResponse::build(status);
    response.content_type(media.content_type());
    match tag {
        // A live zone read holds peers' parts, which the local data
        // version does not follow: it gets no tag.
        Some(tag) if keepable => {
            response
                .insert_header((header::ETAG, tag))
                .insert_header((header::CACHE_CONTROL, cache_control))
                .insert_header((header::VARY, VARY));
        }
        // An error may be passing (a timeout): nothing keeps it.
        _ => {
            response.insert_header((header::CACHE_CONTROL, "no-store"));
        }
    }
    response.body(body)
}

/// The answer depends on the token and on the media type negotiated.
const VARY: &str = "Authorization, Accept";

/// The tag of the answer to `request` from `principal` at data version
/// `version`: everything the response cache keys an answer by, and the
/// version. `None` when the variables cannot be written out.
fn entity_tag(
    version: i64,
    principal: &Principal,
    media: Media,
    request: &Request,
) -> Option<HeaderValue> {
    let variables = serde_json::to_string(&request.variables).ok()?;
    // Some answers depend on the day (standards due for review as of today).
    let today = chrono::Utc::now().date_naive();
    let mut hasher = Sha256::new();
    for part in [
        version.to_string(),
        today.to_string(),
        format!("{principal:?}"),
        media.content_type().to_owned(),
        format!("{:?}", request.operation_name),
        variables,
        sha256_hex(&request.query),
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    let digest = format!("{:x}", hasher.finalize());
    HeaderValue::from_str(&format!("\"{}\"", &digest[..32])).ok()
}

/// Whether `If-None-Match` names `tag` (weak comparison, as RFC 9110 has it).
fn if_none_match(headers: &HeaderMap, tag: &HeaderValue) -> bool {
    let tag = tag.to_str().unwrap_or_default();
    headers
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == tag)
}

#[cfg(test)]
mod tests;
