//! Fuzzing `/graphql` over HTTP, black-box, against a running app on
//! SQLite, and on PostgreSQL where `CONCORD_TEST_POSTGRES_URL` names one.
//!
//! The committed corpus (`tests/api/corpus/graphql/`, one POST body a file:
//! queries, mutations, a batch, and requests past every limit) is replayed
//! first, anonymously and as a national administrator, by POST and by GET.
//! Then generated requests: GET, POST or another method; content types and
//! `Accept` headers right, nearly right and wrong; no token, a token of each
//! role, a damaged token or a header that is no token; bodies from the
//! corpus edited value by value (odd variables, numbers at the edges, texts
//! spliced into strings, renamed and repeated keys), their documents edited
//! as text or with a value nested thousands of lists deep, the bodies
//! edited as bytes, or random; query strings from the corpus, edited.
//!
//! Whatever the request: no 5xx and no dropped connection; an answer that
//! is not a success is JSON (but a 405, or the 406 for a client that takes
//! no JSON), and every error in it has a message and an `extensions.code`
//! other than `INTERNAL`; no error message names the server's insides (a
//! crate, a Rust type or path, SQL, a panic) unless the request itself said
//! it.
//!
//! `CONCORD_FUZZ_SCALE` multiplies the budget and `PROPTEST_RNG_SEED` sets
//! the seed (printed with `--nocapture`, and with any failure).

use concord_fuzz::json::{self, Json};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::Value;
use tokio::runtime::Runtime;

use crate::helpers::{As, Backend, TestApp, token};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/corpus/graphql");

/// What an error message must not say: the server's crates, Rust paths and
/// types, source files, SQL, a panic. Lower case; `::` catches Rust paths.
const INSIDES: &[&str] = &[
    "sqlx",
    "sea_orm",
    "sea-orm",
    "seaorm",
    "dberr",
    "sqlite",
    "postgres",
    "select ",
    "insert into",
    "delete from",
    "panicked",
    "rust_backtrace",
    "thread '",
    ".rs:",
    "src/",
    "::",
    "concord_",
    "async_graphql",
    "async-graphql",
    "actix",
    "tokio",
    "serde",
    "untagged enum",
    "batchrequest",
    "utf8error",
    "parseinterror",
    "unwrap",
];

/// One request to `/graphql`.
#[derive(Debug, Clone)]
struct Call {
    method: &'static str,
    /// The query string as sent, without `?`.
    query: String,
    content_type: Option<String>,
    accept: Option<String>,
    authorization: Option<String>,
    body: Vec<u8>,
}

fn corpus() -> Vec<(String, Vec<u8>)> {
    concord_fuzz::corpus(CORPUS)
}

fn bodies() -> Vec<String> {
    corpus()
        .into_iter()
        .map(|(name, bytes)| {
            String::from_utf8(bytes).unwrap_or_else(|_| panic!("{name} is not UTF-8"))
        })
        .collect()
}

/// Percent-encodes everything but the unreserved characters.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// Decodes `%XX` and `+`, leaving anything else as it is, to compare what
/// an error message says with what the request said.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The query string GET would carry for a POST body holding one request.
fn query_string(body: &str) -> Option<String> {
    let Ok(Value::Object(request)) = serde_json::from_str::<Value>(body) else {
        return None;
    };
    let mut pairs = Vec::new();
    for (name, value) in request {
        let value = match value {
            Value::String(text) => text,
            Value::Null => continue,
            other => other.to_string(),
        };
        pairs.push(format!("{}={}", encode(&name), encode(&value)));
    }
    Some(pairs.join("&"))
}

// ---------------------------------------------------------------------------
// Generated requests

/// Values for variables and request members: every JSON type, numbers past
/// every range, codes that exist and do not, enumerations, texts with NUL,
/// long texts.
fn odd_value() -> impl Strategy<Value = Json> {
    const TEXTS: &[&str] = &[
        "330000",
        "990000",
        "YRD",
        "EMP-EMPLOYMENT-REGISTRATION",
        "GB/T 33527",
        "DB33/T 1-2020",
        "ONLINE",
        "FEE",
        "LOCAL",
        "2025-Q3",
        "2025-02-30",
        "{ regions { code } }",
        "mutation { x }",
        "query",
        "\0",
    ];
    let texts = prop_oneof![
        3 => proptest::sample::select(TEXTS).prop_map(str::to_owned),
        2 => concord_fuzz::piece(),
        1 => Just("字".repeat(2001)),
    ];
    json::odd(texts.boxed())
}

fn body_edit() -> impl Strategy<Value = json::JsonEdit> {
    const KEYS: &[&str] = &[
        "query",
        "variables",
        "operationName",
        "extensions",
        "Query",
        "",
        "i",
        "n",
        "input",
    ];
    json::edit(odd_value(), KEYS)
}

/// One change to a GraphQL document.
#[derive(Debug, Clone)]
enum DocumentEdit {
    /// Characters, as anywhere.
    Text(concord_fuzz::Edit),
    /// The value after the `n`th `: ` (wrapping; an argument, an object
    /// field or a variable's type) wrapped in lists this deep: a parser
    /// recurses once per level.
    Deepen(usize, usize),
}

fn document_edits() -> impl Strategy<Value = Vec<DocumentEdit>> {
    let edit = prop_oneof![
        4 => concord_fuzz::edit().prop_map(DocumentEdit::Text),
        1 => (any::<usize>(), prop_oneof![3 => 2..200usize, 1 => 200..6_000usize])
            .prop_map(|(at, depth)| DocumentEdit::Deepen(at, depth)),
    ];
    proptest::collection::vec(edit, 1..4)
}

/// `document` with [`DocumentEdit::Deepen`] applied.
fn deepen(document: &str, at: usize, depth: usize) -> String {
    let starts: Vec<usize> = document.match_indices(": ").map(|(i, _)| i + 2).collect();
    let Some(start) = starts.get(at % starts.len().max(1)).copied() else {
        return document.to_owned();
    };
    let rest = &document[start..];
    let len = match rest.strip_prefix('"') {
        Some(string) => string.find('"').map_or(rest.len(), |end| end + 2),
        None => rest
            .find(|c: char| !(c.is_alphanumeric() || "$_.-!".contains(c)))
            .unwrap_or(rest.len()),
    };
    let (value, after) = rest.split_at(len);
    format!(
        "{}{}{value}{}{after}",
        &document[..start],
        "[".repeat(depth),
        "]".repeat(depth)
    )
}

/// The corpus body with its GraphQL document (the first, in a batch) edited.
fn edit_document(body: &str, edits: &[DocumentEdit]) -> String {
    let Ok(mut value) = serde_json::from_str::<Value>(body) else {
        return body.to_owned();
    };
    let request = match &mut value {
        Value::Array(items) => items.first_mut(),
        other => Some(other),
    };
    if let Some(Value::String(document)) = request.and_then(|request| request.get_mut("query")) {
        for edit in edits {
            *document = match edit {
                DocumentEdit::Text(edit) => {
                    concord_fuzz::apply(document, std::slice::from_ref(edit))
                }
                DocumentEdit::Deepen(at, depth) => deepen(document, *at, *depth),
            };
        }
    }
    value.to_string()
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => proptest::sample::select(bodies()).prop_map(String::into_bytes),
        4 => (proptest::sample::select(bodies()), proptest::collection::vec(body_edit(), 1..3))
            .prop_map(|(body, edits)| json::apply(&body, &edits).into_bytes()),
        3 => (proptest::sample::select(bodies()), document_edits())
            .prop_map(|(body, edits)| edit_document(&body, &edits).into_bytes()),
        1 => concord_fuzz::mutated(bodies()).prop_map(String::into_bytes),
        1 => any::<Vec<u8>>(),
    ]
}

fn query() -> impl Strategy<Value = String> {
    let strings: Vec<String> = bodies()
        .iter()
        .filter_map(|body| query_string(body))
        .collect();
    prop_oneof![
        3 => proptest::sample::select(strings.clone()),
        3 => concord_fuzz::mutated(strings.clone()),
        2 => (proptest::sample::select(bodies()), document_edits()).prop_filter_map(
            "a body holding one request",
            |(body, edits)| query_string(&edit_document(&body, &edits)),
        ),
        1 => (proptest::sample::select(strings.clone()), proptest::sample::select(strings))
            .prop_map(|(a, b)| format!("{a}&{b}")),
        1 => Just(String::new()),
        1 => "[a-zA-Z=&%0-9+]{0,40}",
    ]
}

/// A header value: mostly one of `usual`, else a tricky one or none.
fn header(usual: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        6 => proptest::sample::select(usual).prop_map(|value| Some(value.to_owned())),
        2 => Just(None),
        1 => concord_fuzz::piece().prop_map(Some),
    ]
}

/// No token, a token of a role (the first, a national administrator's, who
/// may run every mutation, more often), a damaged token, or a header that
/// holds none.
fn authorization(tokens: Vec<String>) -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        3 => Just(None),
        2 => Just(Some(format!("Bearer {}", tokens[0]))),
        3 => proptest::sample::select(tokens.clone()).prop_map(|token| Some(format!("Bearer {token}"))),
        1 => concord_fuzz::mutated(tokens).prop_map(|token| Some(format!("Bearer {token}"))),
        1 => proptest::sample::select(NO_TOKEN).prop_map(|value| Some(value.to_owned())),
    ]
}

/// `Authorization` headers that hold no token.
const NO_TOKEN: &[&str] = &[
    "Bearer",
    "Bearer ",
    "Basic dXNlcjpwdw==",
    "bearer x.y.z",
    "Bearer a.b",
];

fn call(tokens: Vec<String>) -> impl Strategy<Value = Call> {
    let method = prop_oneof![
        6 => Just("POST"),
        3 => Just("GET"),
        1 => proptest::sample::select(&["PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"][..]),
    ];
    // Mostly right, so that most bodies are read.
    const CONTENT_TYPES: &[&str] = &[
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/json;",
        "application/graphql-response+json",
        "application/graphql",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "",
    ];
    let content_type = prop_oneof![
        8 => Just(Some("application/json".to_owned())),
        3 => header(CONTENT_TYPES),
    ];
    let accept = header(&[
        "application/json",
        "application/graphql-response+json",
        "application/graphql-response+json, application/json;q=0.9",
        "*/*",
        "application/*",
        "text/html",
        "text/plain",
        "application/json;q=0",
        "application/json;q=abc, */*;q=NaN",
        "application/graphql-response+json;q=1e400",
        ",;,;",
    ]);
    (
        method,
        (query(), proptest::bool::weighted(0.2)),
        content_type,
        accept,
        authorization(tokens),
        body(),
    )
        .prop_map(
            |(method, (query, also_posted), content_type, accept, authorization, body)| Call {
                method,
                // A POST seldom carries a query string, a GET never a body.
                query: if method == "GET" || also_posted {
                    query
                } else {
                    String::new()
                },
                content_type,
                accept,
                authorization,
                body: if method == "GET" { Vec::new() } else { body },
            },
        )
}

// ---------------------------------------------------------------------------
// The checks

/// What the request said, decoded and in lower case, so that an error that
/// repeats it is not taken for a leak.
fn said(call: &Call) -> String {
    let mut text = decode(&call.query);
    text.push('\n');
    text.push_str(&String::from_utf8_lossy(&call.body));
    for header in [&call.content_type, &call.accept, &call.authorization]
        .into_iter()
        .flatten()
    {
        text.push('\n');
        text.push_str(header);
    }
    text.to_lowercase()
}

fn no_insides(message: &str, said: &str) -> Result<(), TestCaseError> {
    let lower = message.to_lowercase();
    for inside in INSIDES {
        prop_assert!(
            !lower.contains(inside) || said.contains(inside),
            "an error names the server's insides ({inside:?}): {message:?}"
        );
    }
    Ok(())
}

/// The errors of a GraphQL answer, of each answer of a batch.
fn errors(body: &Value) -> Vec<&Value> {
    let answers: Vec<&Value> = match body {
        Value::Array(answers) => answers.iter().collect(),
        answer => vec![answer],
    };
    answers
        .into_iter()
        .filter_map(|answer| answer.get("errors")?.as_array())
        .flatten()
        .collect()
}

/// The answer to `call`; `Ok(None)` when no HTTP client could send it (a
/// URL too long to build).
async fn send(app: &TestApp, call: &Call) -> Result<Option<reqwest::Response>, String> {
    let mut url = app.endpoint();
    if !call.query.is_empty() {
        url.push('?');
        url.push_str(&call.query);
    }
    let method = reqwest::Method::from_bytes(call.method.as_bytes()).expect("a method");
    let mut request = app
        .client
        .request(method, &url)
        .timeout(std::time::Duration::from_secs(30))
        .body(call.body.clone());
    for (name, value) in [
        ("content-type", &call.content_type),
        ("accept", &call.accept),
        ("authorization", &call.authorization),
    ] {
        // A value no HTTP client could send is left out.
        if let Some(value) = value
            .as_deref()
            .and_then(|value| reqwest::header::HeaderValue::from_str(value).ok())
        {
            request = request.header(name, value);
        }
    }
    match request.send().await {
        Ok(response) => Ok(Some(response)),
        Err(error) if error.is_builder() => Ok(None),
        Err(error) => Err(format!("{error:?}")),
    }
}

async fn check(app: &TestApp, call: &Call) -> Result<(), TestCaseError> {
    let Some(response) = send(app, call)
        .await
        .map_err(|error| TestCaseError::fail(format!("no answer: {error}")))?
    else {
        return Ok(());
    };
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = response
        .bytes()
        .await
        .map_err(|error| TestCaseError::fail(format!("the answer broke off: {error}")))?;
    let text = String::from_utf8_lossy(&bytes);
    let said = said(call);
    prop_assert!(status.as_u16() < 500, "{status} for {call:?}: {text}");
    if content_type.starts_with("text/html") {
        prop_assert!(call.method == "GET" && status == 200, "a page for {call:?}");
        return Ok(());
    }
    // No JSON for a method /graphql does not serve (the Allow header says
    // which it does), nor for a client that accepts none.
    if status == 405 && bytes.is_empty() || status == 406 || call.method == "HEAD" {
        return no_insides(&text, &said);
    }
    let body: Value = serde_json::from_slice(&bytes)
        .map_err(|_| TestCaseError::fail(format!("{status}, not JSON: {text}")))?;
    let errors = errors(&body);
    prop_assert!(
        status.is_success() || !errors.is_empty(),
        "{status} without an error: {text}"
    );
    for error in errors {
        let message = error["message"].as_str().unwrap_or_default();
        prop_assert!(
            !message.trim().is_empty(),
            "an error without a message: {error}"
        );
        let code = error["extensions"]["code"].as_str();
        prop_assert!(code.is_some(), "an error without extensions.code: {error}");
        prop_assert_ne!(code, Some("INTERNAL"), "for {:?}: {}", call, error);
        no_insides(message, &said)?;
    }
    Ok(())
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// The app on `backend`, with a small body limit so that generated bodies
/// reach it.
fn app(runtime: &Runtime, backend: Backend) -> TestApp {
    let app = TestApp::spawn_with(backend, |settings| {
        settings.server.body_limit = 16 * 1024;
    });
    runtime
        .block_on(app)
        .expect("CONCORD_TEST_POSTGRES_URL names the test server")
}

fn replay_corpus(backend: Backend) {
    let runtime = runtime();
    let app = app(&runtime, backend);
    let national = token(As::National).map(|token| format!("Bearer {token}"));
    for (name, bytes) in corpus() {
        let post = |authorization: Option<String>| Call {
            method: "POST",
            query: String::new(),
            content_type: Some("application/json".to_owned()),
            accept: None,
            authorization,
            body: bytes.clone(),
        };
        let mut calls = vec![post(None), post(national.clone())];
        if let Some(query) = std::str::from_utf8(&bytes).ok().and_then(query_string) {
            calls.push(Call {
                method: "GET",
                query,
                content_type: None,
                accept: Some("application/graphql-response+json".to_owned()),
                authorization: None,
                body: Vec::new(),
            });
        }
        for call in calls {
            if let Err(failure) = runtime.block_on(check(&app, &call)) {
                panic!("{name}: {failure}");
            }
        }
    }
}

fn generate(target: &str, default_cases: u32, backend: Backend) {
    let runtime = runtime();
    let app = app(&runtime, backend);
    let tokens: Vec<String> = [
        As::National,
        As::Viewer,
        As::Province("330000"),
        As::Zone("YRD"),
        As::Sync,
    ]
    .into_iter()
    .filter_map(token)
    .collect();
    concord_fuzz::run(target, default_cases, call(tokens), |call| {
        runtime.block_on(check(&app, &call))
    });
}

#[test]
fn fuzz_graphql_corpus() {
    replay_corpus(Backend::Sqlite);
}

#[test]
fn fuzz_graphql_http() {
    generate("graphql-http", 1000, Backend::Sqlite);
}

// PostgreSQL refuses what SQLite takes (U+0000 in a text), so the requests
// go to both.
#[test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set CONCORD_TEST_POSTGRES_URL"
)]
fn fuzz_graphql_corpus_postgres() {
    replay_corpus(Backend::Postgres);
}

#[test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set CONCORD_TEST_POSTGRES_URL"
)]
fn fuzz_graphql_http_postgres() {
    generate("graphql-http-postgres", 300, Backend::Postgres);
}
