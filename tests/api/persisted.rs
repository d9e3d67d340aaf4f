//! Persisted operations: Apollo's automatic persisted queries, a server
//! locked to a manifest and probed with everything outside it, and HTTP
//! caching of persisted queries sent by GET.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, CACHE_CONTROL, ETAG, IF_NONE_MATCH};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::helpers::{As, Backend, TestApp, run_concord, storage_test, token};

const MATTER: &str = "EMP-UNEMPLOYMENT-REGISTRATION";

const GUIDE: &str = "query Guide($r: String!, $m: String!) {
  guide(region: $r, matter: $m) { revision status timeLimitDays }
}";

const REGIONS: &str = "query Regions { regions { code } }";

const HEATMAP: &str = "subscription Heatmap { zoneAlignment(zone: \"YRD\") { averageScore } }";

const SAVE_GUIDE: &str = "mutation SaveGuide($input: SaveGuideInput!) {
  saveGuide(input: $input) { revision status }
}";

fn sha256(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

fn persisted_query(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

fn variables() -> Value {
    json!({ "r": "330000", "m": MATTER })
}

fn save(days: i64, expected: i64) -> Value {
    json!({ "input": {
        "region": "330000", "matter": MATTER, "timeLimitDays": days, "fee": "0",
        "materials": ["居民身份证"], "channels": ["ONLINE"],
        "legalBasis": "《中华人民共和国就业促进法》", "expectedRevision": expected,
    } })
}

fn code(body: &Value) -> &Value {
    &body["errors"][0]["extensions"]["code"]
}

/// POSTs `body` as `who`: the status and the JSON answer.
async fn post(app: &TestApp, who: As, body: Value) -> (StatusCode, Value) {
    let mut request = app.client.post(app.endpoint()).json(&body);
    if let Some(token) = token(who) {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    (status, response.json().await.expect("json body"))
}

/// GET /graphql with these query parameters, as `who`, with these headers.
async fn get(
    app: &TestApp,
    who: As,
    params: &[(&str, String)],
    headers: &[(reqwest::header::HeaderName, &str)],
) -> reqwest::Response {
    let mut request = app.client.get(app.endpoint()).query(params);
    if let Some(token) = token(who) {
        request = request.bearer_auth(token);
    }
    for (name, value) in headers {
        request = request.header(name.clone(), *value);
    }
    request.send().await.expect("request")
}

/// The GET parameters of a persisted query sent by its hash alone.
/// Asks anonymously for `params` again, sending `tag` as `If-None-Match`.
async fn revalidate(app: &TestApp, params: &[(&str, String)], tag: &str) -> reqwest::Response {
    get(app, As::Anonymous, params, &[(IF_NONE_MATCH, tag)]).await
}

fn by_hash(hash: &str, variables: Value) -> Vec<(&'static str, String)> {
    vec![
        ("extensions", persisted_query(hash).to_string()),
        ("variables", variables.to_string()),
    ]
}

#[tokio::test]
async fn an_apollo_client_registers_a_query_by_its_hash_and_then_sends_the_hash_alone() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite");
    let hash = sha256(GUIDE);
    let hash_only = json!({ "variables": variables(), "extensions": persisted_query(&hash) });

    // Status 200 even for application/graphql-response+json: Apollo clients
    // give up on persisted queries for good on a 400.
    let response = app
        .client
        .post(app.endpoint())
        .header(ACCEPT, "application/graphql-response+json")
        .json(&hash_only)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");
    assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND");
    assert!(body.get("data").is_none(), "{body}");

    let (status, registered) = post(
        &app,
        As::Anonymous,
        json!({ "query": GUIDE, "variables": variables(), "extensions": persisted_query(&hash) }),
    )
    .await;
    assert_eq!(status, 200);
    assert!(registered.get("errors").is_none(), "{registered}");
    assert_eq!(registered["data"]["guide"]["status"], "PUBLISHED");

    let (status, again) = post(&app, As::Anonymous, hash_only).await;
    assert_eq!(status, 200);
    assert_eq!(again, registered);

    // The hash stands for the text whoever asks, with any variables.
    let (_, other) = post(
        &app,
        As::Province("440000"),
        json!({ "variables": { "r": "440000", "m": MATTER },
                "extensions": persisted_query(&hash.to_ascii_uppercase()) }),
    )
    .await;
    assert!(other.get("errors").is_none(), "{other}");
    assert!(other["data"].get("guide").is_some(), "{other}");
}

#[tokio::test]
async fn a_wrong_hash_or_an_unknown_version_is_refused_without_running() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite");
    let (status, body) = post(
        &app,
        As::Anonymous,
        json!({ "query": REGIONS, "extensions": persisted_query(&sha256("{ other }")) }),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(code(&body), "PERSISTED_QUERY_HASH_MISMATCH");
    assert!(body.get("data").is_none());
    // Nothing was registered under the wrong hash.
    let (_, body) = post(
        &app,
        As::Anonymous,
        json!({ "extensions": persisted_query(&sha256("{ other }")) }),
    )
    .await;
    assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND");

    let (status, body) = post(
        &app,
        As::Anonymous,
        json!({ "query": REGIONS,
                "extensions": { "persistedQuery": { "version": 2, "sha256Hash": sha256(REGIONS) } } }),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(code(&body), "PERSISTED_QUERY_VERSION_NOT_SUPPORTED");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("only version 1")
    );
}

#[tokio::test]
async fn a_batch_resolves_each_persisted_query_on_its_own() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite");
    let hash = sha256(REGIONS);
    let (status, body) = post(
        &app,
        As::Anonymous,
        json!([
            { "extensions": persisted_query(&hash) },
            { "query": REGIONS, "extensions": persisted_query(&hash) },
            { "query": "{ regions { nameEn } }" },
            { "extensions": persisted_query(&hash) },
        ]),
    )
    .await;
    assert_eq!(status, 200);
    let answers = body.as_array().expect("a batch answer");
    assert_eq!(answers.len(), 4);
    assert_eq!(code(&answers[0]), "PERSISTED_QUERY_NOT_FOUND");
    assert!(answers[1]["data"]["regions"].as_array().unwrap().len() > 10);
    assert!(answers[2]["data"]["regions"][0]["nameEn"].is_string());
    assert_eq!(
        answers[3], answers[1],
        "registered by the request before it"
    );
}

#[tokio::test]
async fn a_persisted_query_sent_by_get_is_cached_by_http() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite");
    let hash = sha256(GUIDE);
    let params = by_hash(&hash, variables());
    let response = get(&app, As::Anonymous, &params, &[]).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().get(ETAG).is_none());
    let body: Value = response.json().await.unwrap();
    assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND");

    // Apollo clients register by GET as well, with the text beside the hash.
    let mut registering = params.clone();
    registering.push(("query", GUIDE.to_owned()));
    let response = get(&app, As::Anonymous, &registering, &[]).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().get(ETAG).is_some());

    let response = get(&app, As::Anonymous, &params, &[]).await;
    assert_eq!(response.status(), 200);
    let tag = response.headers()[ETAG].to_str().unwrap().to_owned();
    assert_eq!(response.headers()[CACHE_CONTROL], "public, no-cache");
    assert!(
        response.headers()["vary"]
            .to_str()
            .unwrap()
            .contains("Authorization")
    );
    let first: Value = response.json().await.unwrap();
    assert_eq!(first["data"]["guide"]["status"], "PUBLISHED");

    let looked_up = || async {
        app.metric("concord_response_cache_hits_total").await
            + app.metric("concord_response_cache_misses_total").await
    };
    let before = looked_up().await;
    for if_none_match in [tag.clone(), format!("\"other\", W/{tag}")] {
        let response = revalidate(&app, &params, &if_none_match).await;
        assert_eq!(response.status(), 304, "{if_none_match}");
        assert_eq!(response.headers()[ETAG], tag.as_str());
        assert_eq!(response.headers()[CACHE_CONTROL], "public, no-cache");
        assert!(response.bytes().await.unwrap().is_empty());
    }
    assert_eq!(looked_up().await, before, "a 304 does not run the query");

    // Another tag, other variables: the answer.
    let response = revalidate(&app, &params, "\"x\"").await;
    assert_eq!(response.status(), 200);
    let other = by_hash(&hash, json!({ "r": "440000", "m": MATTER }));
    let response = revalidate(&app, &other, &tag).await;
    assert_eq!(response.status(), 200);
    assert_ne!(response.headers()[ETAG], tag.as_str());

    // A caller with a token: private, and a tag of its own scope.
    let mut tags = vec![tag.clone()];
    for who in [As::Viewer, As::Province("330000"), As::Province("440000")] {
        let response = get(&app, who, &params, &[(IF_NONE_MATCH, tag.as_str())]).await;
        assert_eq!(response.status(), 200, "{who:?}");
        assert_eq!(response.headers()[CACHE_CONTROL], "private, no-cache");
        let own = response.headers()[ETAG].to_str().unwrap().to_owned();
        assert!(!tags.contains(&own), "{who:?} shares a tag");
        tags.push(own.clone());
        let response = get(&app, who, &params, &[(IF_NONE_MATCH, own.as_str())]).await;
        assert_eq!(response.status(), 304, "{who:?}");
    }
    // A bad token is refused, never answered 304.
    let response = app
        .client
        .get(app.endpoint())
        .query(&params)
        .header(AUTHORIZATION, "Bearer nonsense")
        .header(IF_NONE_MATCH, tag.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    // An answer with errors carries no tag, and no cache keeps it.
    let broken = "query Broken { guide(region: \"not-a-region\", matter: \"X\") { revision } }";
    let mut with_text = by_hash(&sha256(broken), json!({}));
    with_text.push(("query", broken.to_owned()));
    let response = get(&app, As::Anonymous, &with_text, &[]).await;
    assert!(response.headers().get(ETAG).is_none());
    assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
    let body: Value = response.json().await.unwrap();
    assert!(body.get("errors").is_some(), "{body}");
}

storage_test!(a_tag_never_outlives_the_data_version, |app| {
    let hash = sha256(GUIDE);
    let (_, registered) = post(
        &app,
        As::Anonymous,
        json!({ "query": GUIDE, "variables": variables(), "extensions": persisted_query(&hash) }),
    )
    .await;
    let revision = registered["data"]["guide"]["revision"].as_i64().unwrap();
    let params = by_hash(&hash, variables());
    let response = get(&app, As::Anonymous, &params, &[]).await;
    let tag = response.headers()[ETAG].to_str().unwrap().to_owned();
    assert_eq!(revalidate(&app, &params, &tag).await.status(), 304);

    // The guide goes back to a draft: the public no longer sees it.
    app.data_as(As::Province("330000"), SAVE_GUIDE, save(9, revision))
        .await;
    let response = revalidate(&app, &params, &tag).await;
    assert_eq!(response.status(), 200, "a commit changes every tag");
    assert_ne!(response.headers()[ETAG], tag.as_str());
    let body: Value = response.json().await.unwrap();
    assert!(body["data"]["guide"].is_null(), "{body}");
});

/// The example manifest of the README, which these tests lock a server to.
const MANIFEST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/examples/operations.json");

fn manifest() -> Value {
    serde_json::from_str(&std::fs::read_to_string(MANIFEST).expect("the example manifest"))
        .expect("JSON")
}

#[test]
fn the_example_manifest_lists_what_the_tests_send_by_its_hash() {
    let manifest = manifest();
    let listed: Vec<(&str, &str, &str)> = manifest["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|op| {
            (
                op["id"].as_str().unwrap(),
                op["type"].as_str().unwrap(),
                op["body"].as_str().unwrap(),
            )
        })
        .collect();
    for (kind, body) in [
        ("query", GUIDE),
        ("query", REGIONS),
        ("subscription", HEATMAP),
        ("mutation", SAVE_GUIDE),
    ] {
        assert!(
            listed.contains(&(sha256(body).as_str(), kind, body)),
            "{body}"
        );
    }
}

/// An app locked to the example manifest.
async fn locked() -> TestApp {
    TestApp::spawn_with(Backend::Sqlite, |settings| {
        settings.persisted.operations = Some(MANIFEST.into());
    })
    .await
    .expect("sqlite")
}

const UNLISTED: &[&str] = &[
    "{ regions { code } }",
    "query Regions { regions { code nameZh } }",
    "{ __schema { types { name } } }",
    "{ __typename }",
    "",
];

fn assert_not_in_list(body: &Value, what: &str) {
    assert_eq!(code(body), "PERSISTED_QUERY_NOT_IN_LIST", "{what}: {body}");
    assert!(body.get("data").is_none(), "{what}: {body}");
}

#[tokio::test]
async fn a_locked_server_runs_its_manifest_and_refuses_everything_else_over_http() {
    let app = locked().await;
    let listed = |who, body| post(&app, who, body);

    let (status, by_id) = listed(
        As::Anonymous,
        json!({ "variables": variables(), "extensions": persisted_query(&sha256(GUIDE)) }),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(by_id["data"]["guide"]["status"], "PUBLISHED");
    let revision = by_id["data"]["guide"]["revision"].as_i64().unwrap();
    let (_, by_body) = listed(
        As::Anonymous,
        json!({ "query": GUIDE, "variables": variables() }),
    )
    .await;
    assert_eq!(by_body, by_id);

    for query in UNLISTED {
        let (status, body) = post(&app, As::National, json!({ "query": query })).await;
        assert_eq!(status, 400, "{query}");
        assert_not_in_list(&body, query);
        let (_, body) = post(
            &app,
            As::Anonymous,
            json!({ "query": query, "extensions": persisted_query(&sha256(query)) }),
        )
        .await;
        assert_not_in_list(&body, "registration");
        let (_, body) = post(
            &app,
            As::Anonymous,
            json!({ "extensions": persisted_query(&sha256(query)) }),
        )
        .await;
        assert_not_in_list(&body, "nothing was registered");
    }

    // An unlisted mutation does not run.
    let unlisted_save =
        "mutation($input: SaveGuideInput!) { saveGuide(input: $input) { revision } }";
    let (_, body) = post(
        &app,
        As::Province("330000"),
        json!({ "query": unlisted_save, "variables": save(9, revision) }),
    )
    .await;
    assert_not_in_list(&body, "mutation");
    let (_, after) = post(
        &app,
        As::Anonymous,
        json!({ "query": GUIDE, "variables": variables() }),
    )
    .await;
    assert_eq!(after, by_id, "the mutation did not run");

    // A batch: each operation on its own, the unlisted refused.
    let (status, body) = post(
        &app,
        As::Province("330000"),
        json!([
            { "query": REGIONS },
            { "query": unlisted_save, "variables": save(9, revision) },
            { "query": "{ __schema { queryType { name } } }" },
            { "extensions": persisted_query(&sha256(REGIONS)) },
        ]),
    )
    .await;
    assert_eq!(status, 200);
    let answers = body.as_array().expect("a batch answer");
    assert!(answers[0]["data"]["regions"].is_array());
    assert_not_in_list(&answers[1], "batched mutation");
    assert_not_in_list(&answers[2], "batched introspection");
    assert_eq!(answers[3], answers[0]);
    let (_, after) = post(
        &app,
        As::Anonymous,
        json!({ "query": GUIDE, "variables": variables() }),
    )
    .await;
    assert_eq!(after, by_id, "the batched mutation did not run");

    // GET: listed by id, or refused; no GraphiQL.
    let response = get(
        &app,
        As::Anonymous,
        &by_hash(&sha256(GUIDE), variables()),
        &[],
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().get(ETAG).is_some());
    for query in UNLISTED.iter().filter(|q| !q.is_empty()) {
        let response = get(&app, As::Anonymous, &[("query", query.to_string())], &[]).await;
        assert_eq!(response.status(), 400, "{query}");
        assert_not_in_list(&response.json().await.unwrap(), query);
    }
    let response = get(
        &app,
        As::Anonymous,
        &by_hash(&sha256("{ x }"), json!({})),
        &[],
    )
    .await;
    assert_not_in_list(&response.json().await.unwrap(), "GET by an unknown hash");
    let response = get(&app, As::Anonymous, &[], &[(ACCEPT, "text/html")]).await;
    assert_eq!(response.status(), 400);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "no GraphiQL page"
    );
    // A listed mutation is still not for GET.
    let response = get(
        &app,
        As::Province("330000"),
        &by_hash(&sha256(SAVE_GUIDE), save(9, revision)),
        &[],
    )
    .await;
    assert_eq!(response.status(), 405);

    // The listed mutation runs.
    let saved = app
        .data_as(As::Province("330000"), SAVE_GUIDE, save(9, revision))
        .await;
    assert_eq!(saved["saveGuide"]["status"], "DRAFT");
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn receive(socket: &mut Socket) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("an answer in time")
            .expect("the socket is open")
            .expect("a frame");
        if let Message::Text(text) = frame {
            let message: Value = serde_json::from_str(&text).unwrap();
            if message["type"] != "ping" {
                return message;
            }
        }
    }
}

#[tokio::test]
async fn a_locked_server_refuses_unlisted_operations_over_websocket() {
    let app = locked().await;
    let url = format!("{}/graphql", app.address.replacen("http", "ws", 1));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let send = |message: Value| Message::text(message.to_string());
    socket
        .send(send(json!({ "type": "connection_init" })))
        .await
        .unwrap();
    assert_eq!(receive(&mut socket).await["type"], "connection_ack");

    let unlisted = [
        "subscription { zoneAlignment(zone: \"YRD\") { averageScore matters { score } } }",
        "subscription Heatmap { zoneAlignment(zone: \"GBA\") { averageScore } }",
        "{ __schema { types { name } } }",
        "mutation { publishGuide(region: \"330000\", matter: \"X\", expectedRevision: 1) { revision } }",
    ];
    for (i, query) in unlisted.iter().enumerate() {
        let id = format!("u{i}");
        socket
            .send(send(
                json!({ "id": id, "type": "subscribe", "payload": { "query": query } }),
            ))
            .await
            .unwrap();
        let message = receive(&mut socket).await;
        assert_eq!(message["id"], id.as_str());
        assert_eq!(message["type"], "error", "{query}: {message}");
        assert_eq!(
            message["payload"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_IN_LIST",
            "{query}"
        );
    }

    socket
        .send(send(
            json!({ "id": "listed", "type": "subscribe", "payload": {
            "extensions": persisted_query(&sha256(HEATMAP)) } }),
        ))
        .await
        .unwrap();
    let message = receive(&mut socket).await;
    assert_eq!(message["type"], "next", "{message}");
    assert!(message["payload"]["data"]["zoneAlignment"]["averageScore"].is_number());
}

#[tokio::test]
async fn a_malformed_manifest_stops_start_up_with_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("operations.json");
    let mut bad = manifest();
    bad["operations"][1]["type"] = json!("mutation");
    std::fs::write(&path, bad.to_string()).unwrap();
    let database = format!("sqlite://{}", dir.path().join("c.db").display());
    let serve_with = |manifest: &std::path::Path| {
        run_concord(&[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--database",
            &database,
            "--operations",
            manifest.to_str().unwrap(),
        ])
    };
    let (ok, output) = serve_with(&path);
    assert!(!ok, "{output}");
    assert!(
        output.contains(
            "operation 2 (`Regions`): `type` is `mutation` but the body's operation is a query"
        ),
        "{output}"
    );

    let missing = dir.path().join("missing.json");
    let (ok, output) = serve_with(&missing);
    assert!(!ok);
    assert!(
        output.contains("cannot read the operations manifest"),
        "{output}"
    );
}
