//! The response cache never serves an answer that a commit has outdated,
//! whichever path the commit took (a mutation here, a mutation on a second
//! server over the same database, `concord import`, `concord sync`), and
//! keeps the answers the commit did not touch.

use serde_json::{Value, json};

use crate::helpers::{As, TestApp, run_concord, storage_test, token};

/// What dashboards ask, and who asks it.
const DASHBOARD: &[(&str, As, &str)] = &[
    (
        "Guangdong's region page",
        As::Anonymous,
        "{ region(code: \"440000\") { code zones { code } guides(first: 50) { totalCount edges { node { matter { code nameZh } timeLimitDays fee materials procedure { steps { name } } } } } } }",
    ),
    (
        "Jiangsu's region page",
        As::Anonymous,
        "{ region(code: \"320000\") { guides(first: 50) { totalCount edges { node { matter { code } revision timeLimitDays status } } } } }",
    ),
    (
        "Jiangsu's own drafts",
        As::Province("320000"),
        "{ guides(filter: { region: \"320000\" }, first: 100) { totalCount edges { node { matterCode status revision } } } }",
    ),
    (
        "the GBA heatmap",
        As::Anonymous,
        "{ zoneAlignment(zone: \"GBA\") { averageScore matters { matter { code } score cells { region timeLimitDays } } } }",
    ),
    (
        "the YRD heatmap",
        As::Anonymous,
        "{ zoneAlignment(zone: \"YRD\") { averageScore matters { matter { code } score bestPractice cells { region hasGuide timeLimitDays fee } } } }",
    ),
    (
        "the YRD members' guides",
        As::Anonymous,
        "{ zone(code: \"YRD\") { members { code guides(first: 20) { edges { node { matter { code category { code } } } } } } } }",
    ),
    (
        "the card matters on the YRD members' pages",
        As::Anonymous,
        "{ zone(code: \"YRD\") { members { code
            application: guides(first: 5, filter: { matter: \"SI-CARD-APPLICATION\" }) { edges { node { matter { nameZh nameEn } } } }
            activation: guides(first: 5, filter: { matter: \"SI-CARD-ACTIVATION\" }) { edges { node { matter { nameZh } } } } } }
          guide(region: \"320000\", matter: \"SI-CARD-APPLICATION\") { matter { nameZh } } }",
    ),
    (
        "a standards search",
        As::Anonymous,
        "{ standards(filter: { text: \"服务\" }, first: 20) { totalCount edges { node { code titleZh status matters { code } } } } }",
    ),
    (
        "the matter list",
        As::Anonymous,
        "{ matters(first: 100) { totalCount edges { node { code nameZh standards { code } } } } }",
    ),
    (
        "Jiangsu's coverage",
        As::Anonymous,
        "{ coverage(region: \"320000\") { total covered share missingMatters } }",
    ),
    (
        "YRD satisfaction",
        As::Anonymous,
        "{ equalization(metric: SATISFACTION, zone: \"YRD\", period: \"2026-Q3\") { coefficientOfVariation values { region value } } }",
    ),
    (
        "the audit log",
        As::National,
        "{ auditLog(first: 5) { edges { node { action targetKey } } } }",
    ),
    (
        "the sync status",
        As::Sync,
        "{ syncStatus { applied lastError } }",
    ),
];

/// Asks every dashboard query of the cached server and of a server that
/// keeps nothing between requests, on the same database, and requires the
/// same answers.
async fn same_answers(cached: &TestApp, fresh: &TestApp, step: &str) {
    for (name, who, query) in DASHBOARD {
        let kept = cached.data_as(*who, query, json!({})).await;
        let computed = fresh.data_as(*who, query, json!({})).await;
        assert_eq!(kept, computed, "after {step}, {name} is stale");
    }
}

/// Whether asking `query` again is answered from the cache.
async fn is_cached(app: &TestApp, name: &str) -> bool {
    let (_, who, query) = DASHBOARD.iter().find(|(n, ..)| *n == name).unwrap();
    let hits = app.metric("concord_response_cache_hits_total").await;
    app.data_as(*who, query, json!({})).await;
    app.metric("concord_response_cache_hits_total").await == hits + 1
}

async fn guide_revision(app: &TestApp, region: &str, matter: &str) -> i64 {
    app.guide_revision(region, matter).await.unwrap()
}

const SAVE: &str = "mutation($r: String!, $m: String!, $d: Int!, $e: Int) { saveGuide(input: {
    region: $r, matter: $m, timeLimitDays: $d, fee: \"0\", materials: [\"居民身份证\"],
    channels: [ONLINE], expectedRevision: $e }) { revision } }";
const PUBLISH: &str = "mutation($r: String!, $m: String!, $e: Int!) {
    publishGuide(region: $r, matter: $m, expectedRevision: $e) { revision } }";

/// Saves and publishes a guide of `region` on `app`.
async fn revise_guide(app: &TestApp, region: &'static str, matter: &str, days: i64) {
    let revision = guide_revision(app, region, matter).await;
    let who = As::Province(region);
    let vars = json!({ "r": region, "m": matter, "d": days, "e": revision });
    app.data_as(who, SAVE, vars).await;
    app.data_as(
        who,
        PUBLISH,
        json!({ "r": region, "m": matter, "e": revision + 1 }),
    )
    .await;
}

/// The name of a card matter as Jiangsu's guide for it shows it, which
/// the server reads from the matters it keeps between requests.
async fn card_name(app: &TestApp, matter: &str) -> String {
    let data = app
        .data(
            "query($m: String!) { guide(region: \"320000\", matter: $m) { matter { nameZh } } }",
            json!({ "m": matter }),
        )
        .await;
    data["guide"]["matter"]["nameZh"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn concord(args: &[&str]) -> String {
    let (succeeded, text) = run_concord(args);
    assert!(succeeded, "concord {args:?}: {text}");
    text
}

storage_test!(no_path_that_commits_leaves_a_stale_answer, |app| {
    let fresh = app
        .beside(|settings| {
            settings.server.response_cache_mb = 0;
            settings.graphql.keep_zone_matrices = false;
        })
        .await;
    let warm = || async {
        for _ in 0..2 {
            same_answers(&app, &fresh, "warming up").await;
        }
    };
    warm().await;
    assert!(is_cached(&app, "Guangdong's region page").await);

    // A draft in Jiangsu: the public page loses the guide, the owner sees it.
    let matter = "SI-CARD-APPLICATION";
    let revision = guide_revision(&app, "320000", matter).await;
    app.data_as(
        As::Province("320000"),
        SAVE,
        json!({ "r": "320000", "m": matter, "d": 20, "e": revision }),
    )
    .await;
    assert!(
        is_cached(&app, "Guangdong's region page").await,
        "a Jiangsu guide leaves Guangdong's page cached"
    );
    assert!(is_cached(&app, "the GBA heatmap").await);
    same_answers(&app, &fresh, "saving a draft").await;
    app.data_as(
        As::Province("320000"),
        PUBLISH,
        json!({ "r": "320000", "m": matter, "e": revision + 1 }),
    )
    .await;
    same_answers(&app, &fresh, "publishing it").await;

    app.data_as(
        As::Province("320000"),
        "mutation { recordEvaluation(region: \"320000\", matter: \"SI-CARD-APPLICATION\", period: \"2026-Q3\", satisfaction: 61.5, casesHandled: 10, averageDays: 3) { revision } }",
        json!({}),
    )
    .await;
    same_answers(&app, &fresh, "recording an evaluation").await;

    app.data_as(
        As::National,
        "mutation { createStandard(input: { code: \"DB32/T 9101-2025\", titleZh: \"社会保障服务规范\", level: LOCAL }) { code } }",
        json!({}),
    )
    .await;
    same_answers(&app, &fresh, "creating a standard").await;

    app.data_as(
        As::National,
        "mutation { saveMatter(input: { code: \"SKL-FRESH-1\", nameZh: \"新增事项\", category: \"SKILLS\" }) { code } }",
        json!({}),
    )
    .await;
    same_answers(&app, &fresh, "saving a matter").await;

    // The same kinds of write on a second server over the same database.
    warm().await;
    revise_guide(&fresh, "320000", "SI-CARD-ACTIVATION", 12).await;
    app.sees_latest_commit().await;
    same_answers(&app, &fresh, "a second server's write").await;
    fresh
        .data_as(
            As::National,
            "mutation { saveMatter(input: { code: \"SI-CARD-APPLICATION\", nameZh: \"社会保障卡申领（新版）\", category: \"SOCIAL_INSURANCE\", expectedRevision: 1 }) { code } }",
            json!({}),
        )
        .await;
    app.sees_latest_commit().await;
    same_answers(&app, &fresh, "a second server renaming a matter").await;
    assert_eq!(
        card_name(&app, "SI-CARD-APPLICATION").await,
        "社会保障卡申领（新版）"
    );

    // `concord import`, another process.
    warm().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("standards.json");
    std::fs::write(
        &file,
        json!({
            "standards": [{ "code": "DB32/T 9102-2025", "titleZh": "就业服务导入测试", "level": "LOCAL" }],
            "matters": [{ "code": "SI-CARD-ACTIVATION", "nameZh": "社会保障卡启用（导入）", "category": "SOCIAL_INSURANCE" }],
        })
        .to_string(),
    )
    .unwrap();
    concord(&[
        "import",
        "--database",
        &app.database_url,
        file.to_str().unwrap(),
    ]);
    app.sees_latest_commit().await;
    fresh.sees_latest_commit().await;
    same_answers(&app, &fresh, "an import").await;
    assert_eq!(
        card_name(&app, "SI-CARD-ACTIVATION").await,
        "社会保障卡启用（导入）"
    );

    // `concord sync`, another process, applying a peer's Jiangsu guide.
    let peer = TestApp::spawn(crate::helpers::Backend::Sqlite)
        .await
        .expect("peer");
    revise_guide(&peer, "320000", "SI-RECORD-PRINT", 9).await;
    warm().await;
    let sync_token = token(As::Sync).unwrap();
    let out = concord(&[
        "sync",
        "--database",
        &app.database_url,
        "--peer",
        &peer.endpoint(),
        "--token",
        &sync_token,
    ]);
    assert!(out.contains("2 applied"), "the save and the publish: {out}");
    app.sees_latest_commit().await;
    fresh.sees_latest_commit().await;
    assert!(
        is_cached(&app, "Guangdong's region page").await,
        "a sync page of Jiangsu's guides leaves Guangdong's page cached"
    );
    assert!(is_cached(&app, "the GBA heatmap").await);
    assert!(!is_cached(&app, "Jiangsu's region page").await);
    same_answers(&app, &fresh, "a sync page").await;
    let synced: Value = app
        .data(
            "{ guide(region: \"320000\", matter: \"SI-RECORD-PRINT\") { timeLimitDays } }",
            json!({}),
        )
        .await;
    assert_eq!(synced["guide"]["timeLimitDays"], 9);
});
