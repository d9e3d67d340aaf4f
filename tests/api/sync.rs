//! Two live nodes: B follows A's change feed with the real `concord sync`.

use serde_json::{Value, json};

use crate::helpers::{
    As, Backend, TestApp, code, jiangsu_node, run_concord, second_backend, token,
};

/// Runs `concord sync` into B's database, as another process, and waits
/// until B's server has seen what it committed.
async fn sync(b: &TestApp, peer: &str, extra: &[&str]) -> (bool, String) {
    let token = token(As::Sync).unwrap();
    let mut args = vec![
        "sync",
        "--database",
        &b.database_url,
        "--peer",
        peer,
        "--token",
        &token,
    ];
    args.extend_from_slice(extra);
    let ran = run_concord(&args);
    b.sees_latest_commit().await;
    ran
}

/// Everything replicable that B and A must agree on, as the API shows it.
async fn snapshot(app: &TestApp) -> Value {
    let mut guides = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = app
            .data_as(
                As::National,
                "query($a: String) { guides(filter: { status: PUBLISHED }, first: 100, after: $a) {
                    pageInfo { hasNextPage endCursor }
                    edges { node { regionCode matterCode revision timeLimitDays feeFen materials channels procedure { revision steps { name } } } } } }",
                json!({ "a": after }),
            )
            .await;
        guides.extend(
            page["guides"]["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"].clone()),
        );
        if page["guides"]["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["guides"]["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_owned);
    }
    let rest = app
        .data_as(
            As::National,
            "{ matters(first: 100) { edges { node { code revision nameZh standards { code } } } }
               standards(first: 100) { edges { node { code revision status matters { code } } } }
               evaluations(filter: { region: \"330000\" }, first: 100) { totalCount edges { node { matter period revision satisfaction } } } }",
            json!({}),
        )
        .await;
    json!({ "guides": guides, "rest": rest })
}

const SAVE: &str = "mutation($m: String!, $d: Int!, $e: Int) { saveGuide(input: { region: \"330000\", matter: $m, timeLimitDays: $d, fee: \"0\", materials: [\"居民身份证\"], channels: [ONLINE, CROSS_PROVINCE], expectedRevision: $e }) { revision } }";
const PUBLISH: &str = "mutation($m: String!, $e: Int!) { publishGuide(region: \"330000\", matter: $m, expectedRevision: $e) { revision } }";

async fn publish_guide(a: &TestApp, matter: &str, days: i64, expected: Option<i64>) -> i64 {
    let saved = a
        .data_as(
            As::Province("330000"),
            SAVE,
            json!({ "m": matter, "d": days, "e": expected }),
        )
        .await;
    let revision = saved["saveGuide"]["revision"].as_i64().unwrap();
    let published = a
        .data_as(
            As::Province("330000"),
            PUBLISH,
            json!({ "m": matter, "e": revision }),
        )
        .await;
    published["publishGuide"]["revision"].as_i64().unwrap()
}

#[tokio::test]
async fn a_province_node_replicates_a_peer_without_loss_or_duplication() {
    let a = TestApp::spawn(Backend::Sqlite).await.expect("node A");
    let b = jiangsu_node(second_backend()).await;
    let peer = a.endpoint();

    // A: a new matter, and Zhejiang's new and revised guides.
    a.data_as(As::National, "mutation { saveMatter(input: { code: \"SI-SYNC-TEST\", nameZh: \"同步测试事项\", category: \"SOCIAL_INSURANCE\" }) { code } }", json!({})).await;
    publish_guide(&a, "SI-SYNC-TEST", 7, None).await;
    let current = a
        .data_as(
            As::National,
            "{ guide(region: \"330000\", matter: \"SI-CARD-APPLICATION\") { revision } }",
            json!({}),
        )
        .await["guide"]["revision"]
        .as_i64()
        .unwrap();
    let revision = publish_guide(&a, "SI-CARD-APPLICATION", 30, Some(current)).await;

    let (ok, out) = sync(&b, &peer, &[]).await;
    assert!(ok, "{out}");
    let alignment = b
        .data("{ alignment(zone: \"YRD\", matter: \"SI-CARD-APPLICATION\") { members { region { code } guide { timeLimitDays revision } } } }", json!({}))
        .await;
    let zhejiang = alignment["alignment"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["region"]["code"] == "330000")
        .unwrap()
        .clone();
    assert_eq!(
        zhejiang["guide"],
        json!({ "timeLimitDays": 30, "revision": revision }),
        "B's alignment shows A's guide"
    );
    let matrix = b.data("{ zoneAlignment(zone: \"YRD\") { matters { matter { code } cells { region timeLimitDays } } } }", json!({})).await;
    assert!(
        matrix["zoneAlignment"]["matters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["matter"]["code"] == "SI-SYNC-TEST")
    );

    // Revise on A: B ends with the new revision and one copy.
    let revised = publish_guide(&a, "SI-CARD-APPLICATION", 20, Some(revision)).await;
    let (ok, out) = sync(&b, &peer, &[]).await;
    assert!(ok, "{out}");
    let copies = b
        .data("{ guides(filter: { region: \"330000\", matter: \"SI-CARD-APPLICATION\" }) { totalCount edges { node { revision timeLimitDays } } } }", json!({}))
        .await;
    assert_eq!(copies["guides"]["totalCount"], 1);
    assert_eq!(
        copies["guides"]["edges"][0]["node"],
        json!({ "revision": revised, "timeLimitDays": 20 })
    );

    // Many changes, a run that dies part-way, a resumed run.
    for (i, matter) in [
        "SI-CARD-ACTIVATION",
        "SI-CARD-REPLACEMENT",
        "SI-RECORD-PRINT",
        "SI-PENSION-CLAIM",
    ]
    .iter()
    .enumerate()
    {
        for quarter in 1..=4 {
            a.data_as(
                As::Province("330000"),
                "mutation($m: String!, $p: String!, $s: Float!) { recordEvaluation(region: \"330000\", matter: $m, period: $p, satisfaction: $s, casesHandled: 10, averageDays: 2) { revision } }",
                json!({ "m": matter, "p": format!("2026-Q{quarter}"), "s": 70.0 + i as f64 + quarter as f64 }),
            )
            .await;
        }
    }
    let applied = || async {
        b.data_as(As::Sync, "{ syncStatus { applied lastError } }", json!({}))
            .await["syncStatus"][0]
            .clone()
    };
    let before = applied().await["applied"].as_i64().unwrap();
    let (ok, out) = sync(&b, &peer, &["--fail-after", "7", "--page-size", "5"]).await;
    assert!(!ok, "the hook stops the run: {out}");
    assert!(out.contains("test hook"), "{out}");
    let status = applied().await;
    assert_eq!(
        status["applied"].as_i64().unwrap() - before,
        5,
        "the first page of 5 committed, the second rolled back: {status}"
    );
    assert!(status["lastError"].as_str().unwrap().contains("test hook"));
    let (ok, out) = sync(&b, &peer, &["--page-size", "5"]).await;
    assert!(ok, "{out}");
    assert!(out.contains("11 applied"), "the rest, once: {out}");
    assert_eq!(applied().await["applied"].as_i64().unwrap() - before, 16);
    assert_eq!(
        snapshot(&a).await,
        snapshot(&b).await,
        "both nodes hold the same data"
    );

    // Replaying everything from the start changes nothing.
    let before = snapshot(&b).await;
    {
        use sea_orm::ConnectionTrait;
        let db = sea_orm::Database::connect(&b.database_url).await.unwrap();
        db.execute_unprepared("UPDATE sync_peer SET cursor = NULL")
            .await
            .unwrap();
    }
    let (ok, out) = sync(&b, &peer, &[]).await;
    assert!(ok, "{out}");
    assert!(
        out.contains(" 0 applied"),
        "a replayed feed applies nothing: {out}"
    );
    assert_eq!(snapshot(&b).await, before);

    // Replicated rows belong to their origin.
    let current = b
        .data_as(
            As::National,
            "{ guide(region: \"330000\", matter: \"SI-CARD-APPLICATION\") { revision } }",
            json!({}),
        )
        .await["guide"]["revision"]
        .clone();
    let refused = b
        .graphql_as(
            As::National,
            SAVE,
            json!({ "m": "SI-CARD-APPLICATION", "d": 25, "e": current }),
        )
        .await;
    assert_eq!(code(&refused), "FORBIDDEN", "{refused}");

    let status = b
        .data_as(
            As::Sync,
            "{ syncStatus { peer cursor applied lag lastSuccess lastError } }",
            json!({}),
        )
        .await;
    let peer_status = &status["syncStatus"][0];
    assert_eq!(peer_status["peer"], peer.as_str());
    assert_eq!(peer_status["lag"], 0);
    assert!(peer_status["lastError"].is_null());

    // Drafts do not leave A.
    let feed = a
        .data_as(
            As::Sync,
            "{ changes(first: 1000) { edges { node { kind key record } } } }",
            json!({}),
        )
        .await;
    for edge in feed["changes"]["edges"].as_array().unwrap() {
        let record = &edge["node"]["record"];
        if edge["node"]["kind"] == "GUIDE" && !record.is_null() {
            assert_eq!(record["row"]["status"], "PUBLISHED", "{edge}");
        }
    }
}

#[tokio::test]
async fn a_peer_that_is_down_gives_a_clear_error() {
    let b = TestApp::spawn(Backend::Sqlite).await.expect("node B");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let peer = format!("http://{}/graphql", closed.local_addr().unwrap());
    drop(closed);
    let (ok, out) = sync(&b, &peer, &[]).await;
    assert!(!ok);
    assert!(out.contains("cannot reach the peer"), "{out}");
    let status = b
        .data_as(
            As::National,
            "{ syncStatus { peer lastError cursor } }",
            json!({}),
        )
        .await;
    assert!(
        status["syncStatus"][0]["lastError"]
            .as_str()
            .unwrap()
            .contains("cannot reach")
    );
    assert!(status["syncStatus"][0]["cursor"].is_null());

    let denied = b
        .graphql_as(
            As::Viewer,
            "{ changes(first: 10) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&denied), "FORBIDDEN");
}

/// `concord sync --follow` into B's database from A, as a process of its
/// own, killed when dropped.
struct Follower(std::process::Child);

impl Follower {
    fn start(b: &TestApp, a: &TestApp, interval: &str) -> Self {
        let token = token(As::Sync).unwrap();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_concord"))
            .args(["sync", "--database", &b.database_url, "--peer"])
            .arg(a.endpoint())
            .args(["--token", &token, "--follow", "--interval", interval])
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start concord sync --follow");
        Self(child)
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until B shows Zhejiang's guide for `matter` at `days`; how long it took.
async fn until_replicated(b: &TestApp, matter: &str, days: i64) -> std::time::Duration {
    let started = std::time::Instant::now();
    for _ in 0..300 {
        let guide = b
            .data(
                "query($m: String!) { guide(region: \"330000\", matter: $m) { timeLimitDays } }",
                json!({ "m": matter }),
            )
            .await;
        if guide["guide"]["timeLimitDays"] == days {
            return started.elapsed();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("B never showed {matter} at {days} days");
}

async fn zhejiang_revision(a: &TestApp, matter: &str) -> i64 {
    a.data(
        "query($m: String!) { guide(region: \"330000\", matter: $m) { revision } }",
        json!({ "m": matter }),
    )
    .await["guide"]["revision"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn a_follower_receives_each_commit_through_the_change_stream() {
    let a = TestApp::spawn(Backend::Sqlite).await.expect("node A");
    let b = jiangsu_node(Backend::Sqlite).await;
    let matter = "SI-CARD-APPLICATION";
    let revision = zhejiang_revision(&a, matter).await;
    let revision = publish_guide(&a, matter, 33, Some(revision)).await;
    // An hour between polls: only the stream can bring what follows in time.
    let _follower = Follower::start(&b, &a, "1h");
    until_replicated(&b, matter, 33).await;
    for days in [34, 35] {
        publish_guide(&a, matter, days, Some(revision + (days - 34) * 2)).await;
        let took = until_replicated(&b, matter, days).await;
        assert!(took < std::time::Duration::from_secs(10), "{took:?}");
    }
}

#[tokio::test]
async fn a_follower_polls_a_peer_that_offers_no_stream() {
    let a = TestApp::spawn_with(Backend::Sqlite, |settings| {
        settings.subscriptions.enabled = false
    })
    .await
    .expect("node A");
    let b = jiangsu_node(Backend::Sqlite).await;
    let matter = "SI-CARD-APPLICATION";
    let _follower = Follower::start(&b, &a, "1s");
    let revision = zhejiang_revision(&a, matter).await;
    publish_guide(&a, matter, 36, Some(revision)).await;
    until_replicated(&b, matter, 36).await;
    let status = b
        .data_as(As::National, "{ syncStatus { peer lastError } }", json!({}))
        .await;
    assert_eq!(
        status["syncStatus"][0]["lastError"],
        Value::Null,
        "a peer without a stream is polled, not failed: {status}"
    );
}

#[tokio::test]
async fn a_synced_revision_keeps_the_version_it_replaced() {
    let a = TestApp::spawn(Backend::Sqlite).await.expect("node A");
    let b = jiangsu_node(Backend::Sqlite).await;
    let matter = "SI-CARD-APPLICATION";
    let history = "query($m: String!) { guide(region: \"330000\", matter: $m) {
        revision timeLimitDays revisions { revision changedBy content } } }";
    let before = b
        .data_as(As::National, history, json!({ "m": matter }))
        .await["guide"]
        .clone();
    let days = before["timeLimitDays"].as_i64().unwrap() + 6;
    let revision = publish_guide(&a, matter, days, before["revision"].as_i64()).await;
    let (ok, out) = sync(&b, &a.endpoint(), &[]).await;
    assert!(ok, "{out}");
    let after = b
        .data_as(As::National, history, json!({ "m": matter }))
        .await["guide"]
        .clone();
    assert_eq!(after["revision"], revision);
    let revisions = after["revisions"].as_array().unwrap();
    let kept = |r: &Value| {
        revisions
            .iter()
            .find(|v| v["revision"] == *r)
            .unwrap_or_else(|| panic!("revision {r} is not kept on B: {after}"))
            .clone()
    };
    assert_eq!(
        kept(&before["revision"])["content"]["timeLimitDays"],
        before["timeLimitDays"],
        "the version the page replaced"
    );
    let synced = kept(&json!(revision));
    assert_eq!(synced["content"]["timeLimitDays"], days);
    assert_eq!(synced["changedBy"], "concord sync");
}
