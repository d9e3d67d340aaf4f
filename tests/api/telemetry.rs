//! Telemetry from the outside: `/metrics` read by a Prometheus text-format
//! parser, request IDs in headers and errors, JSON log lines from the real
//! binary, and stopping on SIGINT or SIGTERM (the server drains, the sync
//! follower finishes its page).

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use prometheus_parse::{Scrape, Value as Sample};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::helpers::{
    As, Backend, TestApp, code, concord_serve, free_port, jiangsu_node, token, until_ready,
};

const REGIONS: &str = "query Regions { regions { code } }";

/// `/metrics` as the client asks for it: its media type and parsed text.
async fn scrape(app: &TestApp, accept: Option<&str>) -> (String, String, Scrape) {
    let mut request = app.client.get(format!("{}/metrics", app.address));
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = request.send().await.expect("metrics");
    assert_eq!(response.status(), 200);
    let media = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let text = response.text().await.expect("metrics body");
    let parsed = Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).expect("parses");
    (media, text, parsed)
}

/// The value of the sample `metric` whose labels include `labels`.
fn sample<'a>(scrape: &'a Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<&'a Sample> {
    scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == metric
                && labels
                    .iter()
                    .all(|(name, value)| s.labels.get(name) == Some(value))
        })
        .map(|s| &s.value)
}

fn counter(scrape: &Scrape, metric: &str) -> f64 {
    match sample(scrape, metric, &[]) {
        Some(Sample::Counter(value)) => *value,
        other => panic!("{metric} is no counter: {other:?}"),
    }
}

/// A histogram's observations (its `+Inf` bucket), 0 when it has none yet.
fn observations(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    match sample(scrape, metric, labels) {
        Some(Sample::Histogram(buckets)) => {
            let last = buckets.last().expect("buckets");
            assert!(last.less_than.is_infinite(), "{buckets:?}");
            assert!(
                buckets.windows(2).all(|w| w[0].count <= w[1].count),
                "{buckets:?}"
            );
            last.count
        }
        None => 0.0,
        other => panic!("{metric} is no histogram: {other:?}"),
    }
}

#[tokio::test]
async fn metrics_parse_as_prometheus_text_and_count_what_happened() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    // What `concord sync` records of a peer, 30 s ago.
    let options = concord_persistence::ConnectOptions::new(app.database_url.clone());
    let (db, _) = concord_persistence::connect(&options).await.unwrap();
    let peer = "http://peer.example:8080/graphql";
    let half_a_minute_ago = sea_orm::prelude::ChronoUtc::now() - Duration::from_secs(30);
    concord_persistence::peers::record_page(&db, peer, Some("c1".into()), 5, 7, half_a_minute_ago)
        .await
        .unwrap();

    let (media, _, before) = scrape(&app, None).await;
    assert!(media.starts_with("text/plain; version=0.0.4"), "{media}");
    app.data(REGIONS, json!({})).await;
    app.data(REGIONS, json!({})).await;
    // A kept answer that a write then evicts.
    let matter = json!({ "r": "330000", "m": "EMP-UNEMPLOYMENT-REGISTRATION" });
    let guide =
        "query Guide($r: String!, $m: String!) { guide(region: $r, matter: $m) { revision } }";
    let revision = app.data(guide, matter.clone()).await["guide"]["revision"].clone();
    let save = "mutation Save($input: SaveGuideInput!) { saveGuide(input: $input) { revision } }";
    let input = json!({ "input": {
        "region": "330000", "matter": "EMP-UNEMPLOYMENT-REGISTRATION", "timeLimitDays": 9,
        "fee": "0", "materials": ["居民身份证"], "channels": ["ONLINE"],
        "legalBasis": "《中华人民共和国就业促进法》", "expectedRevision": revision,
    } });
    app.data_as(As::Province("330000"), save, input).await;
    app.sees_latest_commit().await;
    let (_, text, after) = scrape(&app, None).await;

    for family in [
        "concord_graphql_operation_duration_seconds",
        "concord_sql_statement_duration_seconds",
        "concord_response_cache_hits_total",
        "concord_response_cache_misses_total",
        "concord_response_cache_evictions_total",
        "concord_subscriptions",
        "concord_sync_peer_lag_changes",
        "concord_sync_peer_last_success_age_seconds",
    ] {
        assert!(after.docs.contains_key(family), "no {family}:\n{text}");
    }
    let regions = [("operation", "Regions"), ("type", "query")];
    let latency = "concord_graphql_operation_duration_seconds";
    assert_eq!(observations(&before, latency, &regions), 0.0);
    assert_eq!(observations(&after, latency, &regions), 2.0);
    let statements = "concord_sql_statement_duration_seconds";
    assert!(observations(&after, statements, &[]) > observations(&before, statements, &[]));
    // The first asking missed the cache, the second was served from it.
    let hits = "concord_response_cache_hits_total";
    assert_eq!(counter(&after, hits), counter(&before, hits) + 1.0);
    let misses = "concord_response_cache_misses_total";
    assert!(counter(&after, misses) > counter(&before, misses));
    let evictions = "concord_response_cache_evictions_total";
    assert!(counter(&after, evictions) > counter(&before, evictions));
    let mutation = [("operation", "Save"), ("type", "mutation")];
    assert_eq!(observations(&after, latency, &mutation), 1.0);
    assert_eq!(
        sample(&after, "concord_sync_peer_lag_changes", &[("peer", peer)]),
        Some(&Sample::Gauge(7.0))
    );
    match sample(
        &after,
        "concord_sync_peer_last_success_age_seconds",
        &[("peer", peer)],
    ) {
        Some(Sample::Gauge(age)) => assert!((30.0..300.0).contains(age), "{age}"),
        other => panic!("no age of the peer's last page: {other:?}"),
    }
    assert_eq!(
        sample(&after, "concord_subscriptions", &[]),
        Some(&Sample::Gauge(0.0))
    );

    // Prometheus asks for OpenMetrics, and gets it.
    let (media, text, openmetrics) = scrape(
        &app,
        Some("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"),
    )
    .await;
    assert!(
        media.starts_with("application/openmetrics-text; version=1.0.0"),
        "{media}"
    );
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert!(openmetrics.docs.contains_key("concord_response_cache_hits"));
    assert_eq!(observations(&openmetrics, latency, &regions), 2.0);
}

#[tokio::test]
async fn metrics_can_be_turned_off() {
    let app = TestApp::spawn_with(Backend::Sqlite, |settings| {
        settings.telemetry.metrics = false;
    })
    .await
    .unwrap();
    let response = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

/// POSTs `body` to /graphql with `x-request-id: id` (none for `None`);
/// the answer's `x-request-id` header and JSON body.
async fn post_with_id(app: &TestApp, id: Option<&str>, who: As, body: Value) -> (String, Value) {
    let mut request = app.client.post(app.endpoint()).json(&body);
    if let Some(id) = id {
        request = request.header("x-request-id", id);
    }
    if let Some(token) = token(who) {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let header = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    (header, response.json().await.expect("json body"))
}

#[tokio::test]
async fn a_request_id_is_echoed_or_made_and_every_error_carries_it() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();

    // Taken from the client, and in a validation error's extensions.
    let (header, body) = post_with_id(
        &app,
        Some("client-chosen-42"),
        As::Anonymous,
        json!({ "query": "{ nope }" }),
    )
    .await;
    assert_eq!(header, "client-chosen-42");
    assert_eq!(
        body["errors"][0]["extensions"]["requestId"],
        "client-chosen-42"
    );
    assert_eq!(code(&body), "BAD_USER_INPUT");

    // Made here when missing, or unusable in a header or log line.
    for given in [None, Some("has space")] {
        let (header, body) = post_with_id(
            &app,
            given,
            As::Viewer,
            json!({ "query": "{ changes(first: 10) { totalCount } }" }),
        )
        .await;
        assert_eq!(header.len(), 32, "{header}");
        assert!(header.bytes().all(|b| b.is_ascii_hexdigit()), "{header}");
        // A resolver's refusal carries it too.
        assert_eq!(code(&body), "FORBIDDEN");
        assert_eq!(body["errors"][0]["extensions"]["requestId"], header);
    }

    // A success has no errors to carry it, only the header.
    let (header, body) = post_with_id(
        &app,
        Some("ok-1"),
        As::Anonymous,
        json!({ "query": REGIONS }),
    )
    .await;
    assert_eq!(header, "ok-1");
    assert!(body.get("errors").is_none(), "{body}");

    // Errors written before any GraphQL runs carry it as well.
    let refused = app
        .client
        .put(app.endpoint())
        .header("x-request-id", "put-1")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 405);
    assert_eq!(refused.headers()["x-request-id"], "put-1");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["requestId"], "put-1");
    assert_eq!(code(&body), "METHOD_NOT_ALLOWED");
}

/// A free port on 127.0.0.1.
/// Sends `signal` (TERM, INT) to `child`.
fn signal(child: &Child, signal: &str) {
    let signalled = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(signalled.success());
}

/// Waits for `child` to exit after `signal`.
async fn exit(mut child: Child, signal: &str) -> std::process::ExitStatus {
    let waited = tokio::task::spawn_blocking(move || {
        for _ in 0..300 {
            if let Some(status) = child.try_wait().expect("wait") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        child.kill().ok();
        None
    });
    waited
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("still running 30 s after SIG{signal}"))
}

/// The log lines a process wrote to `path`, each parsed as JSON.
fn json_lines(path: &std::path::Path) -> Vec<Value> {
    let file = std::fs::File::open(path).expect("log file");
    std::io::BufReader::new(file)
        .lines()
        .map(|line| line.expect("a line"))
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(&line).unwrap_or_else(|error| panic!("{error}: {line}")))
        .collect()
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next frame but pings.
async fn receive(socket: &mut Socket) -> Message {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a frame in time")
            .expect("an open socket")
            .expect("a frame");
        if let Message::Text(text) = &frame {
            let message: Value = serde_json::from_str(text).unwrap();
            if message["type"] == "ping" {
                continue;
            }
        }
        return frame;
    }
}

#[tokio::test]
async fn the_server_logs_json_lines_and_drains_on_sigint() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("serve.log");
    let port = free_port();
    let address = format!("http://127.0.0.1:{port}");
    let server = concord_serve(&["--log-format", "json"], port, dir.path())
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start concord serve");
    let client = reqwest::Client::new();
    until_ready(&client, &address).await;
    let answer = client
        .post(format!("{address}/graphql"))
        .header("x-request-id", "json-log-1")
        .json(&json!({ "query": REGIONS }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);

    // A subscription open when the signal comes: draining closes it with
    // "going away" rather than cutting the connection.
    let mut request = format!("ws://127.0.0.1:{port}/graphql")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    socket
        .send(Message::text(
            json!({ "type": "connection_init" }).to_string(),
        ))
        .await
        .unwrap();
    assert!(
        matches!(receive(&mut socket).await, Message::Text(text) if text.contains("connection_ack"))
    );
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": {
        "query": "subscription { zoneAlignment(zone: \"YRD\") { averageScore } }" } });
    socket
        .send(Message::text(subscribe.to_string()))
        .await
        .unwrap();
    assert!(matches!(receive(&mut socket).await, Message::Text(text) if text.contains("\"next\"")));

    signal(&server, "INT");
    match receive(&mut socket).await {
        Message::Close(Some(frame)) => assert_eq!(u16::from(frame.code), 1001, "{frame:?}"),
        other => panic!("no close frame: {other:?}"),
    }
    drop(socket);
    let status = exit(server, "INT").await;
    assert!(status.success(), "concord serve stopped with {status}");

    let lines = json_lines(&log);
    let access = lines
        .iter()
        .find(|line| {
            line["target"] == "concord::access" && line["span"]["request_id"] == "json-log-1"
        })
        .unwrap_or_else(|| panic!("no access line for json-log-1 in {lines:#?}"));
    let fields = &access["fields"];
    assert_eq!(fields["operation"], "Regions", "{access}");
    assert_eq!(fields["status"], 200, "{access}");
    assert_eq!(fields["cache_hit"], false, "{access}");
    assert!(fields["duration_ms"].as_f64().is_some(), "{access}");
    assert!(
        lines
            .iter()
            .any(|line| line["fields"]["message"] == "stopped"),
        "{lines:#?}"
    );
}

#[tokio::test]
async fn the_sync_follower_stops_cleanly_on_sigterm_and_sigint() {
    let a = TestApp::spawn(Backend::Sqlite).await.unwrap();
    for signal in ["TERM", "INT"] {
        let b = jiangsu_node(Backend::Sqlite).await;
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("sync.log");
        let follower = Command::new(env!("CARGO_BIN_EXE_concord"))
            .args([
                "--log-format",
                "json",
                "sync",
                "--database",
                &b.database_url,
                "--peer",
            ])
            .arg(a.endpoint())
            .args(["--token", &token(As::Sync).unwrap(), "--follow"])
            .args(["--interval", "1h"])
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start concord sync --follow");
        let mut caught_up = false;
        for _ in 0..300 {
            let status = b
                .data_as(As::Sync, "{ syncStatus { lastSuccess } }", json!({}))
                .await;
            if !status["syncStatus"][0]["lastSuccess"].is_null() {
                caught_up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(caught_up, "the follower never applied a page");
        self::signal(&follower, signal);
        let status = exit(follower, signal).await;
        assert!(
            status.success(),
            "SIG{signal}: the follower exited with {status}"
        );
        let messages: Vec<Value> = json_lines(&log)
            .into_iter()
            .map(|line| line["fields"]["message"].clone())
            .collect();
        let stopping = messages
            .iter()
            .position(|m| m == "stopping after the page in flight");
        let stopped = messages.iter().position(|m| m == "stopped");
        assert!(
            stopping.is_some() && stopping < stopped,
            "SIG{signal}: {messages:?}"
        );
    }
}

/// A stand-in OpenTelemetry collector on a free port: each OTLP/HTTP post
/// it receives goes down the channel as its path, content type and body.
fn collector() -> (String, std::sync::mpsc::Receiver<(String, String, Vec<u8>)>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let sender = sender.clone();
            std::thread::spawn(move || {
                let mut reader = std::io::BufReader::new(stream);
                loop {
                    let mut head = Vec::new();
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        head.push(line.trim_end().to_owned());
                    }
                    let header = |name: &str| {
                        head.iter().find_map(|line| {
                            let (key, value) = line.split_once(':')?;
                            key.eq_ignore_ascii_case(name)
                                .then(|| value.trim().to_owned())
                        })
                    };
                    let length = header("content-length").map_or(0, |n| n.parse().unwrap());
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    let path = head[0].split(' ').nth(1).unwrap_or_default().to_owned();
                    let _ = sender.send((path, header("content-type").unwrap_or_default(), body));
                    let answer = b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
                    if reader.get_mut().write_all(answer).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (address, receiver)
}

#[tokio::test]
async fn traces_go_to_the_otlp_endpoint_one_span_per_request_batch_and_statement() {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
    use prost::Message as _;

    let (endpoint, posts) = collector();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let address = format!("http://127.0.0.1:{port}");
    let server = concord_serve(&[], port, dir.path())
        .env("CONCORD__TELEMETRY__OTLP_ENDPOINT", &endpoint)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start concord serve");
    let client = reqwest::Client::new();
    until_ready(&client, &address).await;
    let answer: Value = client
        .post(format!("{address}/graphql"))
        .header("x-request-id", "traced-1")
        .json(&json!({ "query":
            "query Traced { regions { code guides(first: 2) { nodes { revision } } } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(answer.get("errors").is_none(), "{answer}");
    // Stopping sends the spans still queued.
    signal(&server, "INT");
    assert!(exit(server, "INT").await.success());

    let mut spans = Vec::new();
    while let Ok((path, media, body)) = posts.recv_timeout(Duration::from_secs(2)) {
        assert_eq!(path, "/v1/traces");
        assert_eq!(media, "application/x-protobuf");
        let export = ExportTraceServiceRequest::decode(body.as_slice()).expect("OTLP protobuf");
        for resource in export.resource_spans {
            let service = resource
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|a| a.key == "service.name")
                .and_then(|a| a.value.clone()?.value);
            assert_eq!(service, Some(Any::StringValue("concord".into())));
            spans.extend(resource.scope_spans.into_iter().flat_map(|s| s.spans));
        }
    }
    let attribute = |span: &opentelemetry_proto::tonic::trace::v1::Span, key: &str| {
        span.attributes
            .iter()
            .find(|a| a.key == key)
            .and_then(|a| a.value.clone()?.value)
    };
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    let request = spans
        .iter()
        .find(|s| attribute(s, "request_id") == Some(Any::StringValue("traced-1".into())))
        .unwrap_or_else(|| panic!("no span of the request among {names:?}"));
    assert_eq!(request.name, "POST /graphql");
    assert_eq!(
        attribute(request, "graphql.operation.name"),
        Some(Any::StringValue("Traced".into()))
    );
    let of_request: Vec<_> = spans
        .iter()
        .filter(|s| s.trace_id == request.trace_id && s.span_id != request.span_id)
        .collect();
    let batches: Vec<_> = of_request
        .iter()
        .filter(|s| s.name == "batch load")
        .collect();
    assert!(!batches.is_empty(), "no batch load among {names:?}");
    assert!(batches.iter().all(|s| s.parent_span_id == request.span_id));
    let statements: Vec<_> = of_request.iter().filter(|s| s.name == "sql").collect();
    assert!(
        statements
            .iter()
            .any(|s| batches.iter().any(|b| b.span_id == s.parent_span_id)),
        "no statement under a batch load among {names:?}"
    );
    assert!(statements.iter().all(|s| s.end_time_unix_nano >= s.start_time_unix_nano
        && matches!(attribute(s, "db.query.text"), Some(Any::StringValue(sql)) if !sql.is_empty())));
    // Nothing else: no span per field.
    assert_eq!(
        of_request.len(),
        batches.len() + statements.len(),
        "{names:?}"
    );
}
