//! Subscriptions over a real WebSocket client: answers pushed when, and
//! only when, they change, whoever committed the change.

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::helpers::{
    As, Backend, TestApp, concord_serve, free_port, jiangsu_node, run_concord, second_backend,
    storage_test, token, until_ready,
};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket client of `/graphql`.
struct Client {
    socket: Socket,
}

/// What the server ended the connection with.
#[derive(Debug, PartialEq)]
struct Closed {
    code: u16,
    reason: String,
}

impl Client {
    /// Opens a socket offering `protocol`, with `authorization` on the upgrade request.
    async fn open(app: &TestApp, protocol: &str, authorization: Option<String>) -> Self {
        Self::open_at(&app.address, protocol, authorization).await
    }

    /// Opens a socket to the server at `address` (`http://host:port`).
    async fn open_at(address: &str, protocol: &str, authorization: Option<String>) -> Self {
        let url = format!("{}/graphql", address.replacen("http", "ws", 1));
        let mut request = url.into_client_request().expect("request");
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_str(protocol).unwrap(),
        );
        if let Some(value) = authorization {
            request
                .headers_mut()
                .insert("Authorization", HeaderValue::from_str(&value).unwrap());
        }
        let (socket, response) = tokio_tungstenite::connect_async(request)
            .await
            .expect("WebSocket upgrade");
        assert_eq!(
            response.headers()["sec-websocket-protocol"],
            protocol,
            "the server speaks the protocol offered"
        );
        Self { socket }
    }

    /// A `graphql-transport-ws` connection, acknowledged, as `who`.
    async fn connect(app: &TestApp, who: As) -> Self {
        let mut client = Self::open(app, "graphql-transport-ws", None).await;
        let payload = match token(who) {
            Some(token) => json!({ "authorization": format!("Bearer {token}") }),
            None => json!({}),
        };
        client
            .send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        let ack = client.receive(Duration::from_secs(5)).await;
        assert_eq!(ack, Some(json!({ "type": "connection_ack" })));
        client
    }

    async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .expect("send");
    }

    async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({ "id": id, "type": "subscribe",
            "payload": { "query": query, "variables": variables } }))
            .await;
    }

    /// The next message within `within`, other than the server's pings
    /// (which are answered); `None` when nothing came.
    async fn receive(&mut self, within: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .ok()?;
            match frame {
                Some(Ok(Message::Text(text))) => {
                    let message: Value = serde_json::from_str(&text).expect("JSON message");
                    if message["type"] == "ping" {
                        self.send(json!({ "type": "pong" })).await;
                        continue;
                    }
                    return Some(message);
                }
                Some(Ok(Message::Close(frame))) => panic!("closed: {frame:?}"),
                Some(Ok(_)) => continue,
                Some(Err(error)) => panic!("socket error: {error}"),
                None => panic!("the socket ended"),
            }
        }
    }

    /// The next `next` payload for `id`; panics on anything else.
    async fn next_of(&mut self, id: &str, within: Duration) -> Value {
        let message = self
            .receive(within)
            .await
            .unwrap_or_else(|| panic!("no answer for {id} within {within:?}"));
        assert_eq!(message["id"], id, "{message}");
        assert_eq!(message["type"], "next", "{message}");
        message["payload"].clone()
    }

    /// The close frame the server sends within `within`.
    async fn closed(&mut self, within: Duration) -> Closed {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .expect("the server did not close the socket in time");
            match frame {
                Some(Ok(Message::Close(Some(frame)))) => {
                    return Closed {
                        code: u16::from(frame.code),
                        reason: frame.reason.to_string(),
                    };
                }
                Some(Ok(Message::Close(None))) | None => panic!("closed without a code"),
                Some(Ok(_)) => continue,
                Some(Err(error)) => panic!("socket error: {error}"),
            }
        }
    }
}

const HEATMAP: &str = "subscription { zoneAlignment(zone: \"YRD\") {
    averageScore matters { matter { code } score cells { region timeLimitDays } } } }";

const MATTER: &str = "SI-CARD-APPLICATION";

/// How long a test that checks something other than latency waits for an
/// answer: the whole suite runs at once on two cores.
const SETTLE: Duration = Duration::from_secs(5);

/// The time limit the heatmap shows for `region` on `matter`.
fn days_in(payload: &Value, region: &str, matter: &str) -> Option<i64> {
    payload["data"]["zoneAlignment"]["matters"]
        .as_array()?
        .iter()
        .find(|m| m["matter"]["code"] == matter)?["cells"]
        .as_array()?
        .iter()
        .find(|cell| cell["region"] == region)?["timeLimitDays"]
        .as_i64()
}

const SAVE: &str = "mutation($r: String!, $m: String!, $d: Int!, $e: Int) {
    saveGuide(input: { region: $r, matter: $m, timeLimitDays: $d, fee: \"0\",
      materials: [\"居民身份证\"], channels: [ONLINE, CROSS_PROVINCE], expectedRevision: $e }) { revision } }";
const PUBLISH: &str = "mutation($r: String!, $m: String!, $e: Int!) {
    publishGuide(region: $r, matter: $m, expectedRevision: $e) { revision } }";

/// Saves a draft of `region`'s guide for `matter` with `days`, as its province admin.
async fn save_draft(app: &TestApp, region: &'static str, matter: &str, days: i64) -> i64 {
    let expected = app.guide_revision(region, matter).await;
    app.data_as(
        As::Province(region),
        SAVE,
        json!({ "r": region, "m": matter, "d": days, "e": expected }),
    )
    .await["saveGuide"]["revision"]
        .as_i64()
        .unwrap()
}

/// Saves and publishes `region`'s guide for `matter` with `days`.
async fn publish(app: &TestApp, region: &'static str, matter: &str, days: i64) {
    let saved = save_draft(app, region, matter, days).await;
    app.data_as(
        As::Province(region),
        PUBLISH,
        json!({ "r": region, "m": matter, "e": saved }),
    )
    .await;
}

/// Receives heatmaps until one shows `days` for Zhejiang, within `bound`
/// of `since`.
async fn until_zhejiang_shows(
    client: &mut Client,
    id: &str,
    days: i64,
    since: Instant,
    bound: Duration,
) -> Value {
    loop {
        let left = bound.saturating_sub(since.elapsed());
        let payload = client.next_of(id, left).await;
        if days_in(&payload, "330000", MATTER) == Some(days) {
            return payload;
        }
    }
}

storage_test!(
    a_heatmap_subscriber_gets_the_new_score_within_a_second,
    |app| {
        let mut client = Client::connect(&app, As::Anonymous).await;
        client.subscribe("heatmap", HEATMAP, json!({})).await;
        let first = client.next_of("heatmap", Duration::from_secs(5)).await;
        let before = days_in(&first, "330000", MATTER).expect("Zhejiang's cell");
        let days = before + 3;
        publish(&app, "330000", MATTER, days).await;
        let published = Instant::now();
        let after = until_zhejiang_shows(
            &mut client,
            "heatmap",
            days,
            published,
            Duration::from_secs(1),
        )
        .await;
        assert_ne!(
            after["data"]["zoneAlignment"],
            first["data"]["zoneAlignment"]
        );
    }
);

storage_test!(a_commit_elsewhere_sends_the_subscriber_nothing, |app| {
    let mut client = Client::connect(&app, As::Anonymous).await;
    client.subscribe("heatmap", HEATMAP, json!({})).await;
    client.next_of("heatmap", Duration::from_secs(5)).await;
    // Guangdong is not in the Yangtze River Delta.
    publish(&app, "440000", MATTER, 11).await;
    let evaluations = app.metric("concord_live_evaluations_total").await;
    assert_eq!(
        client.receive(Duration::from_millis(1500)).await,
        None,
        "a commit that touches only 440000 sends nothing"
    );
    assert_eq!(
        app.metric("concord_live_evaluations_total").await,
        evaluations,
        "nor is the heatmap evaluated again"
    );
    // The subscription is alive: a Zhejiang commit arrives.
    publish(&app, "330000", MATTER, 12).await;
    until_zhejiang_shows(&mut client, "heatmap", 12, Instant::now(), SETTLE).await;
});

storage_test!(
    identical_subscriptions_share_one_evaluation_per_commit,
    |app| {
        let mut clients = Vec::new();
        for _ in 0..5 {
            let mut client = Client::connect(&app, As::Anonymous).await;
            client.subscribe("heatmap", HEATMAP, json!({})).await;
            client.next_of("heatmap", Duration::from_secs(5)).await;
            clients.push(client);
        }
        assert_eq!(app.metric("concord_live_reads").await, 1);
        assert_eq!(app.metric("concord_subscriptions").await, 5);
        let evaluations = app.metric("concord_live_evaluations_total").await;
        // One commit: the published guide goes back to a draft, which the
        // public heatmap no longer shows.
        save_draft(&app, "330000", MATTER, 40).await;
        let mut answers = Vec::new();
        for client in &mut clients {
            answers.push(client.next_of("heatmap", SETTLE).await);
        }
        assert!(answers.windows(2).all(|pair| pair[0] == pair[1]));
        assert_eq!(
            app.metric("concord_live_evaluations_total").await - evaluations,
            1,
            "five subscribers, one evaluation"
        );
        drop(clients);
        for _ in 0..100 {
            if app.metric("concord_subscriptions").await == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(app.metric("concord_subscriptions").await, 0);
        assert_eq!(
            app.metric("concord_live_reads").await,
            0,
            "nothing kept for no one"
        );
    }
);

storage_test!(drafts_reach_only_those_who_may_see_them, |app| {
    let drafts = "subscription { guides(filter: { region: \"330000\", status: DRAFT }) {
        nodes { matterCode timeLimitDays status } } }";
    let mut anonymous = Client::connect(&app, As::Anonymous).await;
    anonymous.subscribe("drafts", drafts, json!({})).await;
    let refused = anonymous.receive(Duration::from_secs(5)).await.unwrap();
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "FORBIDDEN");

    let public = "subscription { guides(filter: { region: \"330000\" }, first: 100) {
        nodes { matterCode timeLimitDays status } } }";
    anonymous.subscribe("public", public, json!({})).await;
    anonymous.next_of("public", Duration::from_secs(5)).await;
    let mut admin = Client::connect(&app, As::Province("330000")).await;
    admin.subscribe("drafts", drafts, json!({})).await;
    let none = admin.next_of("drafts", Duration::from_secs(5)).await;
    assert_eq!(none["data"]["guides"]["nodes"], json!([]));

    // A new matter, then a first draft of Zhejiang's guide for it: the
    // public list is the same after both.
    app.data_as(
        As::National,
        "mutation { saveMatter(input: { code: \"SI-LIVE-TEST\", nameZh: \"订阅测试事项\", category: \"SOCIAL_INSURANCE\" }) { code } }",
        json!({}),
    )
    .await;
    save_draft(&app, "330000", "SI-LIVE-TEST", 9).await;
    let own = admin.next_of("drafts", SETTLE).await;
    assert_eq!(
        own["data"]["guides"]["nodes"],
        json!([{ "matterCode": "SI-LIVE-TEST", "timeLimitDays": 9, "status": "DRAFT" }])
    );
    save_draft(&app, "330000", "SI-LIVE-TEST", 8).await;
    let changed = admin.next_of("drafts", SETTLE).await;
    assert_eq!(changed["data"]["guides"]["nodes"][0]["timeLimitDays"], 8);
    assert_eq!(
        anonymous.receive(Duration::from_millis(500)).await,
        None,
        "an anonymous subscriber learns nothing of a draft"
    );
});

#[tokio::test]
async fn a_sync_page_applied_by_another_process_updates_the_subscribers() {
    let a = TestApp::spawn(Backend::Sqlite).await.expect("node A");
    let b = jiangsu_node(second_backend()).await;
    let mut client = Client::connect(&b, As::Anonymous).await;
    client.subscribe("heatmap", HEATMAP, json!({})).await;
    let first = client.next_of("heatmap", Duration::from_secs(5)).await;
    let days = days_in(&first, "330000", MATTER).unwrap() + 5;
    publish(&a, "330000", MATTER, days).await;

    let token = token(As::Sync).unwrap();
    let peer = a.endpoint();
    let (ok, out) = run_concord(&[
        "sync",
        "--database",
        &b.database_url,
        "--peer",
        &peer,
        "--token",
        &token,
    ]);
    assert!(ok, "{out}");
    until_zhejiang_shows(&mut client, "heatmap", days, Instant::now(), SETTLE).await;
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set CONCORD_TEST_POSTGRES_URL"
)]
async fn on_postgresql_a_mutation_on_one_server_reaches_a_subscriber_on_another() {
    let a = TestApp::spawn(Backend::Postgres)
        .await
        .expect("CONCORD_TEST_POSTGRES_URL names the test server");
    let b = a.beside(|_| {}).await;
    let mut client = Client::connect(&b, As::Anonymous).await;
    client.subscribe("heatmap", HEATMAP, json!({})).await;
    let first = client.next_of("heatmap", Duration::from_secs(5)).await;
    let days = days_in(&first, "330000", MATTER).unwrap() + 2;
    publish(&a, "330000", MATTER, days).await;
    until_zhejiang_shows(&mut client, "heatmap", days, Instant::now(), SETTLE).await;
}

#[tokio::test]
async fn a_token_that_expires_mid_stream_closes_the_socket() {
    let app = TestApp::spawn_with(Backend::Sqlite, |settings| settings.auth.leeway_secs = 0)
        .await
        .unwrap();
    let request = concord_auth::TokenRequest {
        role: concord_auth::Role::NationalAdmin,
        region: None,
        zone: None,
        subject: "short-lived".into(),
        ttl: Duration::from_secs(3),
    };
    let token = concord_auth::issue_hs256(
        &secrecy::SecretString::from(crate::helpers::TEST_SECRET),
        &concord_auth::AuthSettings::default(),
        &request,
    )
    .unwrap();
    let mut client = Client::open(&app, "graphql-transport-ws", None).await;
    client
        .send(json!({ "type": "connection_init",
            "payload": { "authorization": format!("Bearer {token}") } }))
        .await;
    assert_eq!(
        client.receive(SETTLE).await,
        Some(json!({ "type": "connection_ack" }))
    );
    client
        .subscribe("status", "subscription { syncStatus { peer } }", json!({}))
        .await;
    client.next_of("status", SETTLE).await;
    let closed = client.closed(Duration::from_secs(5)).await;
    assert_eq!(closed.code, 4403, "{closed:?}");
    assert!(closed.reason.contains("expired"), "{closed:?}");
}

#[tokio::test]
async fn a_client_that_stops_reading_does_not_delay_the_others() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    // The stalled client holds many copies of a large answer and never
    // reads again, so that its socket's buffers fill.
    let mut stalled = Client::connect(&app, As::Anonymous).await;
    let large = "subscription { guides(first: 100) { nodes { regionCode matterCode
        timeLimitDays materials channels legalBasis } } }";
    for i in 0..60 {
        stalled.subscribe(&format!("g{i}"), large, json!({})).await;
    }
    stalled.subscribe("heatmap", HEATMAP, json!({})).await;
    let mut reader = Client::connect(&app, As::Anonymous).await;
    reader.subscribe("heatmap", HEATMAP, json!({})).await;
    reader.next_of("heatmap", Duration::from_secs(5)).await;
    for round in 0..8 {
        let days = 50 + round;
        // Beijing's guides lead the first page of every region's guides.
        publish(&app, "110000", MATTER, days).await;
        publish(&app, "330000", MATTER, days).await;
        until_zhejiang_shows(&mut reader, "heatmap", days, Instant::now(), SETTLE).await;
    }
    drop(stalled);
}

#[tokio::test]
async fn protocol_errors_close_with_the_protocols_codes() {
    let app = TestApp::spawn_with(Backend::Sqlite, |settings| {
        settings.subscriptions.max_per_connection = 2;
        settings.subscriptions.init_timeout_secs = 1;
    })
    .await
    .unwrap();
    let transport = "graphql-transport-ws";

    let mut early = Client::open(&app, transport, None).await;
    early.subscribe("1", HEATMAP, json!({})).await;
    assert_eq!(early.closed(Duration::from_secs(2)).await.code, 4401);

    let mut forged = Client::open(&app, transport, None).await;
    forged
        .send(json!({ "type": "connection_init", "payload": { "authorization": "Bearer not.a.token" } }))
        .await;
    assert_eq!(forged.closed(Duration::from_secs(2)).await.code, 4403);

    let mut silent = Client::open(&app, transport, None).await;
    assert_eq!(silent.closed(Duration::from_secs(3)).await.code, 4408);

    let mut twice = Client::connect(&app, As::Anonymous).await;
    twice.send(json!({ "type": "connection_init" })).await;
    assert_eq!(twice.closed(Duration::from_secs(2)).await.code, 4429);

    let mut garbled = Client::connect(&app, As::Anonymous).await;
    garbled.send(json!({ "kind": "subscribe" })).await;
    assert_eq!(garbled.closed(Duration::from_secs(2)).await.code, 4400);

    let mut client = Client::connect(&app, As::Anonymous).await;
    client.subscribe("a", HEATMAP, json!({})).await;
    client.next_of("a", Duration::from_secs(5)).await;
    client
        .subscribe(
            "b",
            "subscription { zoneAlignment(zone: \"GBA\") { averageScore } }",
            json!({}),
        )
        .await;
    client.next_of("b", Duration::from_secs(5)).await;
    client.subscribe("c", HEATMAP, json!({})).await;
    let limited = client.receive(SETTLE).await.unwrap();
    assert_eq!(limited["type"], "error", "{limited}");
    assert_eq!(
        limited["payload"][0]["extensions"]["code"],
        "LIMIT_EXCEEDED"
    );
    client.send(json!({ "id": "b", "type": "complete" })).await;
    client
        .subscribe(
            "d",
            "subscription { zoneAlignment(zone: \"YRD\") { nope } }",
            json!({}),
        )
        .await;
    let invalid = client.receive(SETTLE).await.unwrap();
    assert_eq!(invalid["type"], "error", "{invalid}");
    assert_eq!(
        invalid["payload"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );
    client
        .subscribe(
            "e",
            "subscription { zoneAlignment(zone: \"YRD\") { averageScore } regions { code } }",
            json!({}),
        )
        .await;
    let two_fields = client.receive(SETTLE).await.unwrap();
    assert_eq!(two_fields["type"], "error", "{two_fields}");
    client.subscribe("a", HEATMAP, json!({})).await;
    let duplicate = client.closed(Duration::from_secs(2)).await;
    assert_eq!(duplicate.code, 4409, "{duplicate:?}");

    let refused = reqwest::Client::new()
        .get(app.endpoint())
        .header("Connection", "Upgrade")
        .header("Upgrade", "websocket")
        .header("Sec-WebSocket-Version", "13")
        .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400, "no subprotocol offered");
}

#[tokio::test]
async fn queries_run_once_and_the_older_protocol_is_spoken_too() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let mut client = Client::connect(&app, As::Anonymous).await;
    client
        .subscribe("q", "{ region(code: \"330000\") { nameZh } }", json!({}))
        .await;
    let answer = client.next_of("q", Duration::from_secs(5)).await;
    assert_eq!(answer["data"]["region"]["nameZh"], "浙江省");
    assert_eq!(
        client.receive(SETTLE).await,
        Some(json!({ "id": "q", "type": "complete" }))
    );

    let mut legacy = Client::open(&app, "graphql-ws", None).await;
    legacy
        .send(json!({ "type": "connection_init", "payload": {} }))
        .await;
    assert_eq!(
        legacy.receive(SETTLE).await,
        Some(json!({ "type": "connection_ack" }))
    );
    assert_eq!(legacy.receive(SETTLE).await, Some(json!({ "type": "ka" })));
    legacy
        .send(json!({ "id": "1", "type": "start", "payload": { "query": HEATMAP } }))
        .await;
    let data = legacy.receive(Duration::from_secs(5)).await.unwrap();
    assert_eq!(data["type"], "data", "{data}");
    assert!(days_in(&data["payload"], "330000", MATTER).is_some());
    legacy.send(json!({ "id": "1", "type": "stop" })).await;
    publish(&app, "330000", MATTER, 21).await;
    assert_eq!(legacy.receive(Duration::from_millis(500)).await, None);
}

#[tokio::test]
async fn the_change_feed_streams_each_commit_to_a_sync_agent() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    // The end of the feed as it stands.
    let mut after: Option<String> = None;
    loop {
        let page = app
            .data_as(
                As::Sync,
                "query($a: String) { changes(after: $a, first: 1000) { pageInfo { hasNextPage endCursor } } }",
                json!({ "a": after }),
            )
            .await;
        let info = &page["changes"]["pageInfo"];
        if let Some(end) = info["endCursor"].as_str() {
            after = Some(end.to_owned());
        }
        if info["hasNextPage"] == false {
            break;
        }
    }
    let feed = "subscription($a: String) { changes(after: $a, first: 100) {
        edges { cursor node { kind key } } } }";
    let mut anonymous = Client::connect(&app, As::Anonymous).await;
    anonymous
        .subscribe("feed", feed, json!({ "a": after }))
        .await;
    let refused = anonymous.receive(SETTLE).await.unwrap();
    assert_eq!(refused["type"], "error", "{refused}");

    let mut agent = Client::connect(&app, As::Sync).await;
    agent.subscribe("feed", feed, json!({ "a": after })).await;
    assert_eq!(
        agent.receive(Duration::from_millis(300)).await,
        None,
        "nothing new, nothing sent"
    );
    publish(&app, "330000", MATTER, 17).await;
    let mut keys = Vec::new();
    let mut within = SETTLE;
    while let Some(message) = agent.receive(within).await {
        within = Duration::from_millis(500);
        assert_eq!(message["type"], "next", "{message}");
        let edges = message["payload"]["data"]["changes"]["edges"]
            .as_array()
            .unwrap()
            .clone();
        assert!(!edges.is_empty(), "pages are never empty");
        keys.extend(edges.iter().map(|edge| edge["node"]["key"].clone()));
    }
    assert!(
        keys.contains(&json!(format!("330000/{MATTER}"))),
        "the published guide came down the feed: {keys:?}"
    );
}

#[tokio::test]
async fn operation_limits_apply_to_subscriptions() {
    let app = TestApp::spawn_with(Backend::Sqlite, |settings| {
        settings.graphql.limits.max_depth = 3;
    })
    .await
    .unwrap();
    let mut client = Client::connect(&app, As::Anonymous).await;
    client.subscribe("deep", HEATMAP, json!({})).await;
    let refused = client.receive(SETTLE).await.unwrap();
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"],
        "LIMIT_EXCEEDED"
    );
    assert_eq!(refused["payload"][0]["extensions"]["limit"], "depth");
    client
        .subscribe(
            "shallow",
            "subscription { zoneAlignment(zone: \"YRD\") { averageScore } }",
            json!({}),
        )
        .await;
    client.next_of("shallow", SETTLE).await;
}

#[tokio::test]
async fn sigterm_closes_every_socket_with_going_away() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let address = format!("http://127.0.0.1:{port}");
    let mut server = concord_serve(&[], port, dir.path())
        .env("RUST_LOG", "warn")
        .spawn()
        .expect("start concord serve");
    until_ready(&reqwest::Client::new(), &address).await;
    let mut client = Client::open_at(&address, "graphql-transport-ws", None).await;
    client.send(json!({ "type": "connection_init" })).await;
    assert_eq!(
        client.receive(SETTLE).await,
        Some(json!({ "type": "connection_ack" }))
    );
    client.subscribe("heatmap", HEATMAP, json!({})).await;
    client.next_of("heatmap", SETTLE).await;
    let signalled = std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(signalled.success());
    let closed = client.closed(SETTLE).await;
    assert_eq!(closed.code, 1001, "{closed:?}");
    // Answers the close, so the server need not wait for the socket.
    drop(client);
    let status = tokio::task::spawn_blocking(move || server.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "concord serve stopped with {status}");
}

#[tokio::test]
async fn the_server_wide_maximum_of_subscriptions_is_kept() {
    let app = TestApp::spawn_with(Backend::Sqlite, |settings| {
        settings.subscriptions.max_total = 2;
    })
    .await
    .unwrap();
    let mut first = Client::connect(&app, As::Anonymous).await;
    first.subscribe("a", HEATMAP, json!({})).await;
    first.next_of("a", SETTLE).await;
    let mut second = Client::connect(&app, As::Anonymous).await;
    second.subscribe("a", HEATMAP, json!({})).await;
    second.next_of("a", SETTLE).await;
    let mut third = Client::connect(&app, As::Anonymous).await;
    third.subscribe("a", HEATMAP, json!({})).await;
    let refused = third.receive(SETTLE).await.unwrap();
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(
        refused["payload"][0]["extensions"]["limit"],
        "subscriptions"
    );
    first.send(json!({ "id": "a", "type": "complete" })).await;
    // The room it left is taken as soon as the server has let it go.
    for attempt in 0.. {
        third.subscribe("b", HEATMAP, json!({})).await;
        let answer = third.receive(SETTLE).await.unwrap();
        if answer["type"] == "next" {
            break;
        }
        assert!(attempt < 50, "the slot was never freed: {answer}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_server_pings_an_idle_connection() {
    let app = TestApp::spawn_with(Backend::Sqlite, |settings| {
        settings.subscriptions.keep_alive_secs = 1;
    })
    .await
    .unwrap();
    let mut client = Client::connect(&app, As::Anonymous).await;
    let frame = tokio::time::timeout(SETTLE, client.socket.next())
        .await
        .expect("a ping within the keep-alive")
        .expect("an open socket")
        .expect("a frame");
    assert_eq!(frame, Message::text(r#"{"type":"ping"}"#));
}

storage_test!(
    an_answer_a_commit_leaves_unchanged_is_not_sent_again,
    |app| {
        // The member list reads the members' guides but shows none of them.
        let members = "subscription { zoneAlignment(zone: \"YRD\") { members { code } } }";
        let mut client = Client::connect(&app, As::Anonymous).await;
        client.subscribe("members", members, json!({})).await;
        client.next_of("members", SETTLE).await;
        let evaluations = app.metric("concord_live_evaluations_total").await;
        publish(&app, "330000", MATTER, 19).await;
        for _ in 0..250 {
            if app.metric("concord_live_evaluations_total").await > evaluations {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            app.metric("concord_live_evaluations_total").await > evaluations,
            "the commit touched what the answer read, so it was evaluated again"
        );
        assert_eq!(
            client.receive(Duration::from_millis(500)).await,
            None,
            "and, being the same, not sent"
        );
    }
);

/// Found by fuzzing /graphql: a document nested thousands of brackets deep
/// overflowed the parser's stack and aborted the server. A subscription's
/// document is parsed before it runs, so it is refused before that.
#[tokio::test]
async fn a_deeply_nested_subscription_is_refused_and_the_server_lives() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite");
    let mut client = Client::connect(&app, As::Anonymous).await;
    let deep = format!(
        "subscription {{ zoneAlignment(zone: {}\"YRD\"{}) {{ averageScore }} }}",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    client.subscribe("deep", &deep, json!({})).await;
    let refused = client.receive(SETTLE).await.unwrap();
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"],
        "LIMIT_EXCEEDED"
    );
    client.subscribe("a", HEATMAP, json!({})).await;
    client.next_of("a", Duration::from_secs(5)).await;
}
