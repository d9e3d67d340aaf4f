//! Live zone queries across four province nodes of the Yangtze River Delta
//! on loopback: Shanghai (310000) asks Jiangsu (320000, on PostgreSQL when
//! `CONCORD_TEST_POSTGRES_URL` is set), Zhejiang (330000) and Anhui
//! (340000) for their parts, through links that are up, slow, down or
//! hostile.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use concord_federation::PeerSettings;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::{As, Backend, TestApp, code, postgres_admin_url, token};

const BUDGET_MS: u64 = 500;

const MATRIX: &str = "query($s: ZoneSource) { zoneAlignment(zone: \"YRD\", source: $s) {
    source membersPresent members { code } averageScore
    matters { matter { code } score bestPractice cells { region hasGuide timeLimitDays fee materialCount channels } }
    parts { region source dataVersion committedAt latencyMs notModified error { code message } } } }";

const ONE_MATTER: &str = "query($s: ZoneSource) { alignment(zone: \"YRD\", matter: \"SI-CARD-APPLICATION\", source: $s) {
    membersPresent score members { region { code } guide { timeLimitDays } } parts { region source error { code } } } }";

const GUIDE_PAGE: &str = "query($s: ZoneSource, $f: GuideFilterInput!, $after: String) {
    guides(filter: $f, first: 7, after: $after, source: $s) {
        totalCount pageInfo { hasNextPage endCursor }
        nodes { regionCode matterCode status timeLimitDays fee materials channels
            matter { code category { code } } procedure { totalTimeLimitDays steps { position name actor timeLimitDays } } } } }";

const VIOLATIONS: &str = "query($s: ZoneSource) { baselineViolations(zone: \"YRD\", source: $s) { region matter rule baseline } }";

/// Every zone read of the API in one query, with the parts they read.
const EVERY_READ: &str = "query($s: ZoneSource) {
    zoneAlignment(zone: \"YRD\", source: $s) { membersPresent }
    alignment(zone: \"YRD\", matter: \"SI-CARD-APPLICATION\", source: $s) { membersPresent }
    guides(filter: { zone: \"YRD\", matter: \"SI-CARD-APPLICATION\" }, source: $s) { nodes { regionCode timeLimitDays } }
    baselineViolations(zone: \"YRD\", source: $s) { region }
    zoneParts(zone: \"YRD\", source: $s) { region source notModified error { code } } }";

/// Every guide of a zone page by page, as `source` reads them, with the
/// count each page gave.
async fn every_guide(app: &TestApp, source: &str, filter: Value) -> (Vec<Value>, Vec<i64>) {
    let mut guides = Vec::new();
    let mut counts = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = app
            .data(
                GUIDE_PAGE,
                json!({ "s": source, "f": filter, "after": after }),
            )
            .await;
        let page = &page["guides"];
        guides.extend(page["nodes"].as_array().unwrap().iter().cloned());
        counts.push(page["totalCount"].as_i64().unwrap());
        if page["pageInfo"]["hasNextPage"] != true {
            return (guides, counts);
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

/// What a proxy saw of one request: whether it was conditional, and the
/// status the upstream answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    conditional: bool,
    status: u16,
}

/// A loopback HTTP/1.1 relay that waits `delay` before passing each request
/// on, and notes what it relayed.
struct Proxy {
    address: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

/// Reads a request head (a GET has no body).
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    String::from_utf8(head).ok()
}

async fn proxy(upstream: &str, delay: Duration) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let upstream = upstream.trim_start_matches("http://").to_owned();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let noted = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let upstream = upstream.clone();
            let noted = Arc::clone(&noted);
            tokio::spawn(async move {
                let Some(head) = read_head(&mut client).await else {
                    return;
                };
                tokio::time::sleep(delay).await;
                let mut lines: Vec<&str> = head
                    .trim_end()
                    .split("\r\n")
                    .filter(|line| !line.to_ascii_lowercase().starts_with("connection:"))
                    .collect();
                let conditional = lines
                    .iter()
                    .any(|line| line.to_ascii_lowercase().starts_with("if-none-match:"));
                lines.push("Connection: close");
                let Ok(mut server) = TcpStream::connect(&upstream).await else {
                    return;
                };
                let request = format!("{}\r\n\r\n", lines.join("\r\n"));
                if server.write_all(request.as_bytes()).await.is_err() {
                    return;
                }
                let mut response = Vec::new();
                if server.read_to_end(&mut response).await.is_err() {
                    return;
                }
                let status = String::from_utf8_lossy(&response[..response.len().min(12)])
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                noted.lock().unwrap().push(Seen {
                    conditional,
                    status,
                });
                let _ = client.write_all(&response).await;
            });
        }
    });
    Proxy { address, seen }
}

/// A loopback server that answers every request with `body` as JSON.
async fn stub(body: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                if read_head(&mut client).await.is_none() {
                    return;
                }
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = client.write_all(response.as_bytes()).await;
            });
        }
    });
    address
}

/// An address where nothing listens.
async fn nowhere() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

fn peer(region: &str, url: &str) -> PeerSettings {
    PeerSettings {
        region: region.into(),
        url: url.into(),
        token: token(As::Federation("310000")).unwrap().into(),
    }
}

async fn province(region: &'static str, backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |settings| {
        settings.node.region = Some(region.into())
    })
    .await
    .expect("a province node")
}

/// Shanghai's node, asking `peers`.
async fn shanghai(peers: Vec<PeerSettings>) -> TestApp {
    TestApp::spawn_with(Backend::Sqlite, |settings| {
        settings.node.region = Some("310000".into());
        settings.node.peers = peers;
        settings.federation.budget_ms = BUDGET_MS;
    })
    .await
    .expect("Shanghai's node")
}

fn jiangsu_backend() -> Backend {
    if postgres_admin_url().is_some() {
        Backend::Postgres
    } else {
        eprintln!("CONCORD_TEST_POSTGRES_URL is not set: Jiangsu's node runs on SQLite");
        Backend::Sqlite
    }
}

/// A node's part, fetched as a peer would.
async fn raw_part(app: &TestApp, who: As) -> reqwest::Response {
    let mut request = app.client.get(format!("{}/federation/part", app.address));
    if let Some(token) = token(who) {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

fn parts_by_region(answer: &Value) -> Vec<(String, Value)> {
    answer["zoneAlignment"]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["region"].as_str().unwrap().to_owned(), p.clone()))
        .collect()
}

fn part<'a>(parts: &'a [(String, Value)], region: &str) -> &'a Value {
    &parts.iter().find(|(r, _)| r == region).unwrap().1
}

/// The matrix without its provenance: what LIVE and REPLICA must agree on.
fn matrix(answer: &Value) -> Value {
    let mut answer = answer["zoneAlignment"].clone();
    let object = answer.as_object_mut().unwrap();
    object.remove("parts");
    object.remove("source");
    answer
}

#[tokio::test]
async fn a_live_read_answers_within_the_budget_whatever_the_peers_do() {
    let jiangsu = province("320000", jiangsu_backend()).await;
    // Slow: Jiangsu's node behind a link that waits four times the budget.
    let slow = proxy(&jiangsu.address, Duration::from_millis(4 * BUDGET_MS)).await;
    // Hostile: "Anhui" sends its part with one row of Jiangsu's in it.
    let mut hostile: Value = raw_part(&jiangsu, As::Federation("310000"))
        .await
        .json()
        .await
        .unwrap();
    let foreign = hostile["guides"][0].clone();
    hostile["region"] = json!("340000");
    for guide in hostile["guides"].as_array_mut().unwrap() {
        guide["region_code"] = json!("340000");
        guide["origin"] = json!("340000");
    }
    for procedure in hostile["procedures"].as_array_mut().unwrap() {
        procedure["region_code"] = json!("340000");
        procedure["origin"] = json!("340000");
    }
    let own_rows = hostile["guides"].as_array().unwrap().len();
    assert!(own_rows > 0, "Jiangsu's seed has published guides");
    hostile["guides"].as_array_mut().unwrap().push(foreign);
    let anhui = stub(hostile.to_string()).await;
    let shanghai = shanghai(vec![
        peer("320000", &slow.address),
        peer("330000", &nowhere().await),
        peer("340000", &anhui),
    ])
    .await;

    // The first read of a fresh node loads its reference tables.
    shanghai.data(MATRIX, json!({ "s": "REPLICA" })).await;
    let started = Instant::now();
    let live = shanghai.data(MATRIX, json!({ "s": "LIVE" })).await;
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(4 * BUDGET_MS),
        "LIVE took {took:?}: it waited for the slow peer"
    );
    let parts = parts_by_region(&live);
    assert_eq!(
        parts.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>(),
        ["310000", "320000", "330000", "340000"]
    );
    assert_eq!(part(&parts, "310000")["source"], "LOCAL");
    assert_eq!(part(&parts, "310000")["error"], Value::Null);
    assert_eq!(
        part(&parts, "310000")["dataVersion"].as_i64(),
        Some(shanghai.metric("concord_data_version_seen").await as i64)
    );
    let slow_part = part(&parts, "320000");
    assert_eq!(slow_part["source"], "MISSING");
    assert_eq!(slow_part["error"]["code"], "TIMEOUT");
    let cut_off = slow_part["latencyMs"].as_f64().unwrap();
    assert!(
        (BUDGET_MS as f64 - 50.0..2.0 * BUDGET_MS as f64).contains(&cut_off),
        "the slow call was cut off at the budget, after {cut_off} ms"
    );
    assert_eq!(slow_part["dataVersion"], Value::Null);
    let down = part(&parts, "330000");
    assert_eq!(down["source"], "MISSING");
    assert_eq!(down["error"]["code"], "UNREACHABLE");
    let anhui_part = part(&parts, "340000");
    assert_eq!(anhui_part["source"], "LIVE", "its own rows stay");
    assert_eq!(anhui_part["error"]["code"], "FOREIGN_ROWS");
    assert_eq!(
        anhui_part["dataVersion"], hostile["dataVersion"],
        "the version the peer said it read at"
    );
    // Scores over the parts present: two columns, no cell of another region.
    let answer = &live["zoneAlignment"];
    assert_eq!(answer["source"], "LIVE");
    assert_eq!(answer["membersPresent"], 2);
    assert_eq!(
        answer["members"],
        json!([{ "code": "310000" }, { "code": "340000" }])
    );
    let matters = answer["matters"].as_array().unwrap();
    assert!(matters.iter().all(|m| {
        let cells: Vec<&str> = m["cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["region"].as_str().unwrap())
            .collect();
        cells == ["310000", "340000"]
    }));
    let with_guide = matters
        .iter()
        .flat_map(|m| m["cells"].as_array().unwrap())
        .filter(|c| c["region"] == "340000" && c["hasGuide"] == true)
        .count();
    assert_eq!(
        with_guide, own_rows,
        "Anhui's own rows, the foreign one dropped"
    );

    let one = shanghai.data(ONE_MATTER, json!({ "s": "LIVE" })).await;
    assert_eq!(one["alignment"]["membersPresent"], 2);
    let regions: Vec<&str> = one["alignment"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["region"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(regions, ["310000", "340000"]);
    let sources: Vec<&str> = one["alignment"]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["LOCAL", "MISSING", "MISSING", "LIVE"]);

    // FRESHEST: the replica where the live call failed, with the reason.
    let freshest = shanghai.data(MATRIX, json!({ "s": "FRESHEST" })).await;
    let parts = parts_by_region(&freshest);
    for (region, code) in [("320000", "TIMEOUT"), ("330000", "UNREACHABLE")] {
        assert_eq!(part(&parts, region)["source"], "REPLICA", "{region}");
        assert_eq!(part(&parts, region)["error"]["code"], code, "{region}");
        assert!(part(&parts, region)["committedAt"].is_string(), "{region}");
    }
    assert_eq!(part(&parts, "340000")["source"], "LIVE");
    assert_eq!(freshest["zoneAlignment"]["membersPresent"], 4);

    // A source is for zone reads only.
    for query in [
        "{ guides(source: LIVE) { totalCount } }",
        "{ baselineViolations(region: \"310000\", source: LIVE) { region } }",
    ] {
        let refused = shanghai.graphql(query, json!({})).await;
        assert_eq!(code(&refused), "BAD_USER_INPUT", "{query}: {refused}");
    }

    // REPLICA asks nobody, and says so. (The slow link relays the calls
    // above late; let it finish first.)
    tokio::time::sleep(Duration::from_millis(4 * BUDGET_MS + 100)).await;
    let asked = slow.seen.lock().unwrap().len();
    let replica = shanghai.data(MATRIX, json!({})).await;
    assert_eq!(replica["zoneAlignment"]["source"], "REPLICA", "the default");
    let parts = parts_by_region(&replica);
    assert_eq!(part(&parts, "320000")["source"], "REPLICA");
    assert_eq!(part(&parts, "320000")["latencyMs"], Value::Null);
    tokio::time::sleep(Duration::from_millis(4 * BUDGET_MS + 100)).await;
    assert_eq!(slow.seen.lock().unwrap().len(), asked);
}

#[tokio::test]
async fn only_a_federation_token_reads_a_part_and_only_the_nodes_own_region() {
    let jiangsu = province("320000", Backend::Sqlite).await;
    assert_eq!(raw_part(&jiangsu, As::Anonymous).await.status(), 401);
    for who in [As::Viewer, As::National, As::Sync, As::Province("320000")] {
        assert_eq!(raw_part(&jiangsu, who).await.status(), 403, "{who:?}");
    }
    let answer = raw_part(&jiangsu, As::Federation("310000")).await;
    assert_eq!(answer.status(), 200);
    let tag = answer.headers()["etag"].to_str().unwrap().to_owned();
    let part: Value = answer.json().await.unwrap();
    assert_eq!(part["region"], "320000");
    let guides = part["guides"].as_array().unwrap();
    assert!(!guides.is_empty());
    assert!(
        guides
            .iter()
            .all(|g| g["region_code"] == "320000" && g["status"] == "PUBLISHED")
    );
    let again = jiangsu
        .client
        .get(format!("{}/federation/part", jiangsu.address))
        .bearer_auth(token(As::Federation("310000")).unwrap())
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), tag);
    // The token opens nothing else: GraphQL would show every region's replicas.
    let refused = jiangsu
        .graphql_as(As::Federation("310000"), "{ regions { code } }", json!({}))
        .await;
    assert_eq!(code(&refused), "FORBIDDEN");
    // A national hub publishes no member part.
    let hub = TestApp::spawn(Backend::Sqlite).await.unwrap();
    assert_eq!(raw_part(&hub, As::Federation("310000")).await.status(), 403);
}

#[tokio::test]
async fn a_wrong_peer_stops_serve_with_a_message() {
    for (peer, says) in [
        (peer("990100", "http://127.0.0.1:1"), "node.peers[0].region"),
        (peer("320000", "jiangsu"), "node.peers[0].url"),
        (
            PeerSettings {
                token: String::new().into(),
                ..peer("320000", "http://127.0.0.1:1")
            },
            "FEDERATION token",
        ),
    ] {
        let mut settings = concord_server::Settings::default();
        let dir = tempfile::tempdir().unwrap();
        settings.server.bind = "127.0.0.1:0".into();
        settings.auth.jwt_secret = Some(crate::helpers::TEST_SECRET.into());
        settings.database.url = format!("sqlite://{}", dir.path().join("c.db").display());
        settings.node.region = Some("310000".into());
        settings.node.peers = vec![peer];
        let error = match concord_server::Application::build(settings).await {
            Ok(_) => panic!("started with a bad peer"),
            Err(error) => error.to_string(),
        };
        assert!(error.contains(says), "{error}");
    }
}

const SAVE: &str = "mutation($d: Int!, $e: Int) { saveGuide(input: { region: \"330000\", matter: \"SI-CARD-APPLICATION\", timeLimitDays: $d, fee: \"0\", materials: [\"居民身份证\"], channels: [ONLINE, CROSS_PROVINCE], expectedRevision: $e }) { revision } }";
const PUBLISH: &str = "mutation($e: Int!) { publishGuide(region: \"330000\", matter: \"SI-CARD-APPLICATION\", expectedRevision: $e) { revision } }";

fn cell(answer: &Value, matter: &str, region: &str) -> Value {
    answer["zoneAlignment"]["matters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["matter"]["code"] == matter)
        .unwrap()["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["region"] == region)
        .unwrap()
        .clone()
}

#[tokio::test]
async fn live_equals_replica_in_sync_shows_a_publication_at_once_and_costs_one_304_unchanged() {
    let jiangsu = province("320000", jiangsu_backend()).await;
    let zhejiang = province("330000", Backend::Sqlite).await;
    let anhui = province("340000", Backend::Sqlite).await;
    let link = proxy(&zhejiang.address, Duration::ZERO).await;
    let shanghai = shanghai(vec![
        peer("320000", &jiangsu.address),
        peer("330000", &link.address),
        peer("340000", &anhui.address),
    ])
    .await;

    // Every node seeded the same rows: the replicas are in sync.
    let live = shanghai.data(MATRIX, json!({ "s": "LIVE" })).await;
    let replica = shanghai.data(MATRIX, json!({ "s": "REPLICA" })).await;
    assert_eq!(matrix(&live), matrix(&replica));
    assert_eq!(live["zoneAlignment"]["membersPresent"], 4);
    let parts = parts_by_region(&live);
    for (region, node) in [
        ("320000", &jiangsu),
        ("330000", &zhejiang),
        ("340000", &anhui),
    ] {
        let part = part(&parts, region);
        assert_eq!(part["source"], "LIVE", "{region}");
        assert_eq!(part["error"], Value::Null, "{region}");
        assert_eq!(
            part["dataVersion"].as_i64(),
            Some(node.metric("concord_data_version_seen").await as i64),
            "{region}: the version its node holds"
        );
        assert!(part["latencyMs"].as_f64().unwrap() < BUDGET_MS as f64);
    }
    // Guide pages and baseline checks over the same parts: in sync, LIVE
    // lists what REPLICA lists, page by page, procedures included.
    let zone = json!({ "zone": "YRD" });
    let (live_guides, live_counts) = every_guide(&shanghai, "LIVE", zone.clone()).await;
    let (replica_guides, replica_counts) = every_guide(&shanghai, "REPLICA", zone.clone()).await;
    assert_eq!(live_guides, replica_guides);
    assert!(live_counts.len() > 2, "several pages: {live_counts:?}");
    assert!(live_counts.iter().all(|n| *n == live_guides.len() as i64));
    assert_eq!(live_counts, replica_counts);
    assert!(live_guides.iter().any(|g| g["procedure"].is_object()));
    let category = live_guides[0]["matter"]["category"]["code"].clone();
    let narrow = json!({ "zone": "YRD", "category": category, "region": "330000" });
    let (live_narrow, _) = every_guide(&shanghai, "LIVE", narrow.clone()).await;
    assert!(!live_narrow.is_empty());
    assert_eq!(
        live_narrow,
        every_guide(&shanghai, "REPLICA", narrow).await.0
    );
    let drafts = json!({ "zone": "YRD", "status": "DRAFT" });
    assert_eq!(
        every_guide(&shanghai, "LIVE", drafts).await.0,
        Vec::<Value>::new()
    );
    assert_eq!(
        shanghai.data(VIOLATIONS, json!({ "s": "LIVE" })).await,
        shanghai.data(VIOLATIONS, json!({ "s": "REPLICA" })).await
    );

    let replica_parts = parts_by_region(&replica);
    for region in ["320000", "330000", "340000"] {
        assert_eq!(part(&replica_parts, region)["source"], "REPLICA");
        assert!(part(&replica_parts, region)["committedAt"].is_string());
        assert_eq!(part(&replica_parts, region)["latencyMs"], Value::Null);
    }

    // Zhejiang publishes; Shanghai's next LIVE read shows it, with no sync.
    let current = zhejiang
        .data(
            "{ guide(region: \"330000\", matter: \"SI-CARD-APPLICATION\") { revision } }",
            json!({}),
        )
        .await["guide"]["revision"]
        .as_i64()
        .unwrap();
    let saved = zhejiang
        .data_as(
            As::Province("330000"),
            SAVE,
            json!({ "d": 29, "e": current }),
        )
        .await["saveGuide"]["revision"]
        .as_i64()
        .unwrap();
    zhejiang
        .data_as(As::Province("330000"), PUBLISH, json!({ "e": saved }))
        .await;
    let before = cell(&replica, "SI-CARD-APPLICATION", "330000")["timeLimitDays"].clone();
    assert_ne!(before, json!(29));
    let live = shanghai.data(MATRIX, json!({ "s": "LIVE" })).await;
    assert_eq!(
        cell(&live, "SI-CARD-APPLICATION", "330000")["timeLimitDays"],
        29
    );
    assert_eq!(
        part(&parts_by_region(&live), "330000")["notModified"],
        false
    );
    let one = shanghai.data(ONE_MATTER, json!({ "s": "LIVE" })).await;
    let zhejiang_guide = one["alignment"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["region"]["code"] == "330000")
        .unwrap()["guide"]
        .clone();
    assert_eq!(zhejiang_guide["timeLimitDays"], 29);
    assert_eq!(one["alignment"]["membersPresent"], 4);
    let replica = shanghai.data(MATRIX, json!({ "s": "REPLICA" })).await;
    assert_eq!(
        cell(&replica, "SI-CARD-APPLICATION", "330000")["timeLimitDays"],
        before,
        "the replica waits for sync"
    );
    let card = json!({ "zone": "YRD", "matter": "SI-CARD-APPLICATION", "region": "330000" });
    let (live_card, _) = every_guide(&shanghai, "LIVE", card.clone()).await;
    assert_eq!(live_card[0]["timeLimitDays"], 29);
    let (replica_card, _) = every_guide(&shanghai, "REPLICA", card).await;
    assert_eq!(replica_card[0]["timeLimitDays"], before);

    // Nothing changed on Zhejiang's node since: one conditional request,
    // answered 304, and the last part reused.
    link.seen.lock().unwrap().clear();
    let again = shanghai.data(MATRIX, json!({ "s": "LIVE" })).await;
    assert_eq!(
        *link.seen.lock().unwrap(),
        [Seen {
            conditional: true,
            status: 304
        }]
    );
    assert_eq!(
        part(&parts_by_region(&again), "330000")["notModified"],
        true
    );
    assert_eq!(matrix(&again), matrix(&live));

    // The matrix over unchanged parts is kept: reusing it runs no statement.
    let statements = shanghai.statements().await;
    let kept = shanghai.data(MATRIX, json!({ "s": "LIVE" })).await;
    assert_eq!(matrix(&kept), matrix(&live));
    assert_eq!(
        shanghai.statements().await,
        statements,
        "a LIVE read whose peers all answered 304"
    );

    // One query with every zone read asks each peer once, and its parts
    // are the ones those reads used.
    link.seen.lock().unwrap().clear();
    let every = shanghai.data(EVERY_READ, json!({ "s": "LIVE" })).await;
    assert_eq!(
        *link.seen.lock().unwrap(),
        [Seen {
            conditional: true,
            status: 304
        }]
    );
    assert_eq!(every["zoneAlignment"]["membersPresent"], 4);
    assert_eq!(every["alignment"]["membersPresent"], 4);
    let zhejiang_row = every["guides"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["regionCode"] == "330000")
        .unwrap()
        .clone();
    assert_eq!(zhejiang_row["timeLimitDays"], 29);
    let sources: Vec<(&str, &str)> = every["zoneParts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["region"].as_str().unwrap(), p["source"].as_str().unwrap()))
        .collect();
    assert_eq!(
        sources,
        [
            ("310000", "LOCAL"),
            ("320000", "LIVE"),
            ("330000", "LIVE"),
            ("340000", "LIVE")
        ]
    );
    assert!(
        every["zoneParts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["error"].is_null())
    );

    // Sent as a persisted query by GET, a REPLICA answer is tagged for HTTP
    // caches and a LIVE one is not: this node's data version does not
    // follow its peers' data.
    use sha2::Digest;
    let hash: String = sha2::Sha256::digest(MATRIX.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let register = shanghai
        .client
        .post(shanghai.endpoint())
        .json(
            &json!({ "query": MATRIX, "variables": { "s": "REPLICA" }, "extensions": extensions }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), 200);
    for (source, tagged) in [("REPLICA", true), ("LIVE", false)] {
        let response = shanghai
            .client
            .get(shanghai.endpoint())
            .query(&[
                ("extensions", extensions.to_string()),
                ("variables", json!({ "s": source }).to_string()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{source}");
        let headers = response.headers().clone();
        let body: Value = response.json().await.unwrap();
        assert!(body.get("errors").is_none(), "{source}: {body}");
        assert_eq!(
            headers.contains_key(reqwest::header::ETAG),
            tagged,
            "{source}: {headers:?}"
        );
        if !tagged {
            assert_eq!(headers[reqwest::header::CACHE_CONTROL], "no-store");
        }
    }
}
