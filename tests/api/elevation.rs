//! An accepted elevation creates its national or industry standard, which
//! supersedes the local one as it comes into force; proposals replicate.

use serde_json::{Value, json};

use crate::helpers::{
    As, Backend, TestApp, code, error_field, jiangsu_node, second_backend, storage_test, token,
};

const DECIDE: &str =
    "mutation($id: Int!, $d: ElevationStep!, $e: Int!, $code: String, $keep: Boolean) {
    decideElevation(id: $id, decision: $d, expectedRevision: $e, code: $code, keepLocal: $keep) {
        status revision keepLocal
        elevatedStandard { code level status elevatedFrom { code } matters { code } }
    } }";

const STANDARD: &str = "query($c: String!) { standard(code: $c) {
    code status revision supersedes { code } supersededBy { code } elevatedTo { code } } }";

/// A Zhejiang standard in force, governing two matters, proposed for
/// elevation to `level` and taken under review; the proposal's id.
async fn under_review(app: &TestApp, local: &str, level: &str) -> Value {
    app.data_as(
        As::Province("330000"),
        "mutation($c: String!) { createStandard(input: { code: $c, titleZh: \"社会保障卡服务规范\", level: LOCAL, matters: [\"SI-CARD-APPLICATION\", \"SI-CARD-REPLACEMENT\"] }) { code } }",
        json!({ "c": local }),
    )
    .await;
    app.data_as(
        As::Province("330000"),
        "mutation($c: String!) { setStandardStatus(code: $c, status: IN_FORCE, expectedRevision: 1) { code } }",
        json!({ "c": local }),
    )
    .await;
    let proposed = app
        .data_as(
            As::Province("330000"),
            "mutation($c: String!, $l: ElevationTarget!) { proposeElevation(standard: $c, targetLevel: $l, rationale: \"全省实践三年\") { id } }",
            json!({ "c": local, "l": level }),
        )
        .await;
    let id = proposed["proposeElevation"]["id"].clone();
    app.data_as(
        As::National,
        DECIDE,
        json!({ "id": id, "d": "REVIEW", "e": 1 }),
    )
    .await;
    id
}

async fn standard(app: &TestApp, code: &str) -> Value {
    app.data_as(As::National, STANDARD, json!({ "c": code }))
        .await["standard"]
        .clone()
}

async fn come_into_force(app: &TestApp, code: &str) {
    app.data_as(
        As::National,
        "mutation($c: String!) { setStandardStatus(code: $c, status: IN_FORCE, expectedRevision: 1) { code } }",
        json!({ "c": code }),
    )
    .await;
}

storage_test!(
    an_accepted_elevation_creates_the_standard_that_supersedes_the_local_one,
    |app| {
        let local = "DB33/T 9301-2025";
        let id = under_review(&app, local, "NATIONAL").await;
        let audited = app.audit_count().await;

        for (bad, field) in [
            (
                json!({ "id": id, "d": "ACCEPT", "e": 2, "code": "LD/T 301-2026" }),
                "code",
            ),
            (
                json!({ "id": id, "d": "ACCEPT", "e": 2, "code": "DB33/T 9302-2026" }),
                "code",
            ),
            (
                json!({ "id": id, "d": "ACCEPT", "e": 2, "code": "GB/T" }),
                "code",
            ),
            (json!({ "id": id, "d": "ACCEPT", "e": 2 }), "code"),
            (
                json!({ "id": id, "d": "DECLINE", "e": 2, "code": "GB/T 45301-2026" }),
                "code",
            ),
        ] {
            let refused = app.graphql_as(As::National, DECIDE, bad.clone()).await;
            assert_eq!(code(&refused), "BAD_USER_INPUT", "{bad}: {refused}");
            assert_eq!(error_field(&refused), field, "{refused}");
        }
        assert_eq!(
            app.audit_count().await,
            audited,
            "a refused decision changes nothing"
        );
        let still = app
        .data("{ elevations(standard: \"DB33/T 9301-2025\") { status revision elevatedStandard { code } } }", json!({}))
        .await;
        assert_eq!(still["elevations"][0]["status"], "UNDER_REVIEW");
        assert_eq!(still["elevations"][0]["revision"], 2);
        assert!(standard(&app, "LD/T 301-2026").await.is_null());

        let accepted = app
            .data_as(
                As::National,
                DECIDE,
                json!({ "id": id, "d": "ACCEPT", "e": 2, "code": "GB/T 45301-2026" }),
            )
            .await["decideElevation"]
            .clone();
        assert_eq!(accepted["status"], "ACCEPTED");
        assert_eq!(accepted["keepLocal"], false);
        assert_eq!(
            accepted["elevatedStandard"],
            json!({
                "code": "GB/T 45301-2026",
                "level": "NATIONAL",
                "status": "DRAFT",
                "elevatedFrom": { "code": local },
                "matters": [{ "code": "SI-CARD-APPLICATION" }, { "code": "SI-CARD-REPLACEMENT" }],
            })
        );
        assert_eq!(
            standard(&app, local).await["elevatedTo"],
            json!([{ "code": "GB/T 45301-2026" }])
        );
        assert_eq!(
            standard(&app, local).await["status"],
            "IN_FORCE",
            "a draft supersedes nothing"
        );

        come_into_force(&app, "GB/T 45301-2026").await;
        let old = standard(&app, local).await;
        assert_eq!(old["status"], "SUPERSEDED");
        assert_eq!(old["supersededBy"], json!([{ "code": "GB/T 45301-2026" }]));
        let new = standard(&app, "GB/T 45301-2026").await;
        assert_eq!(new["status"], "IN_FORCE");
        assert_eq!(new["supersedes"], json!({ "code": local }));
    }
);

storage_test!(
    an_elevation_that_keeps_the_local_standard_leaves_it_in_force,
    |app| {
        let local = "DB33/T 9311-2025";
        let id = under_review(&app, local, "INDUSTRY").await;
        let wrong_level = app
            .graphql_as(
                As::National,
                DECIDE,
                json!({ "id": id, "d": "ACCEPT", "e": 2, "code": "GB/T 45311-2026" }),
            )
            .await;
        assert_eq!(code(&wrong_level), "BAD_USER_INPUT", "{wrong_level}");
        let accepted = app
            .data_as(
                As::National,
                DECIDE,
                json!({ "id": id, "d": "ACCEPT", "e": 2, "code": "LD/T 311-2026", "keep": true }),
            )
            .await["decideElevation"]
            .clone();
        assert_eq!(accepted["keepLocal"], true);
        assert_eq!(accepted["elevatedStandard"]["level"], "INDUSTRY");
        come_into_force(&app, "LD/T 311-2026").await;
        let old = standard(&app, local).await;
        assert_eq!(old["status"], "IN_FORCE");
        assert_eq!(old["supersededBy"], json!([]));
        assert_eq!(old["elevatedTo"], json!([{ "code": "LD/T 311-2026" }]));
        assert!(standard(&app, "LD/T 311-2026").await["supersedes"].is_null());
    }
);

#[tokio::test]
async fn elevation_proposals_replicate_to_a_follower() {
    let a = TestApp::spawn(Backend::Sqlite).await.expect("node A");
    let b = jiangsu_node(second_backend()).await;
    let id = under_review(&a, "DB33/T 9321-2025", "NATIONAL").await;
    a.data_as(
        As::National,
        DECIDE,
        json!({ "id": id, "d": "ACCEPT", "e": 2, "code": "GB/T 45321-2026", "keep": true }),
    )
    .await;
    come_into_force(&a, "GB/T 45321-2026").await;

    pull(&a, &b, Some("320000")).await;
    let query = "{ elevations(standard: \"DB33/T 9321-2025\") { number status revision keepLocal targetLevel
        elevatedStandard { code status elevatedFrom { code } } standard { code status } } }";
    let on_a = a.data(query, json!({})).await;
    let on_b = b.data(query, json!({})).await;
    assert_eq!(
        on_b, on_a,
        "the follower holds the proposal as its origin does"
    );
    assert_eq!(on_b["elevations"][0]["status"], "ACCEPTED");
    assert_eq!(on_b["elevations"][0]["number"], 1);
    assert_eq!(
        on_b["elevations"][0]["elevatedStandard"]["elevatedFrom"]["code"],
        "DB33/T 9321-2025"
    );

    // Replaying the feed applies nothing twice.
    {
        use sea_orm::ConnectionTrait;
        let db = sea_orm::Database::connect(&b.database_url).await.unwrap();
        db.execute_unprepared("UPDATE sync_peer SET cursor = NULL")
            .await
            .unwrap();
    }
    let out = pull(&a, &b, Some("320000")).await;
    assert!(out.contains(" 0 applied"), "{out}");
    assert_eq!(b.data(query, json!({})).await, on_a);
}

/// Runs `concord sync` into `into` from `from`, as the node of `region`
/// (the hub when `None`), and waits until `into` sees it; what it printed.
async fn pull(from: &TestApp, into: &TestApp, region: Option<&str>) -> String {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_concord"));
    command
        .args(["sync", "--database", &into.database_url])
        .args(["--peer", &from.endpoint()])
        .args(["--token", &token(As::Sync).unwrap()])
        .env("RUST_LOG", "warn");
    match region {
        Some(region) => command.env("CONCORD__NODE__REGION", region),
        None => command.env_remove("CONCORD__NODE__REGION"),
    };
    let synced = command.output().expect("run concord sync");
    assert!(synced.status.success(), "{synced:?}");
    into.sees_latest_commit().await;
    format!(
        "{}{}",
        String::from_utf8_lossy(&synced.stdout),
        String::from_utf8_lossy(&synced.stderr)
    )
}

/// A province proposes on its own node and the national administration
/// decides on the hub. The proposal is the national administration's to
/// decide, so the decision reaches the province as a newer version of it,
/// not as a conflict the province's node would win.
#[tokio::test]
async fn a_proposal_made_on_a_province_node_is_decided_on_the_hub() {
    let hub = TestApp::spawn(Backend::Sqlite).await.expect("hub");
    let province = TestApp::spawn_with(Backend::Sqlite, |settings| {
        settings.node.region = Some("330000".into())
    })
    .await
    .expect("Zhejiang's node");
    let local = "DB33/T 9322-2025";
    province
        .data_as(
            As::Province("330000"),
            "mutation($c: String!) { createStandard(input: { code: $c, titleZh: \"就业登记服务规范\", level: LOCAL, matters: [\"SI-CARD-APPLICATION\"] }) { code } }",
            json!({ "c": local }),
        )
        .await;
    province
        .data_as(
            As::Province("330000"),
            "mutation($c: String!) { setStandardStatus(code: $c, status: IN_FORCE, expectedRevision: 1) { code } }",
            json!({ "c": local }),
        )
        .await;
    province
        .data_as(
            As::Province("330000"),
            "mutation($c: String!) { proposeElevation(standard: $c, targetLevel: NATIONAL, rationale: \"全省实践三年\") { id } }",
            json!({ "c": local }),
        )
        .await;

    pull(&province, &hub, None).await;
    let query = "query($c: String!) { elevations(standard: $c) { id number status revision elevatedStandard { code } } }";
    let arrived = hub.data(query, json!({ "c": local })).await;
    let id = arrived["elevations"][0]["id"].clone();
    assert_eq!(arrived["elevations"][0]["status"], "PROPOSED", "{arrived}");
    hub.data_as(
        As::National,
        DECIDE,
        json!({ "id": id, "d": "REVIEW", "e": 1 }),
    )
    .await;
    hub.data_as(
        As::National,
        DECIDE,
        json!({ "id": id, "d": "ACCEPT", "e": 2, "code": "GB/T 45322-2026" }),
    )
    .await;

    pull(&hub, &province, Some("330000")).await;
    let on_province = province.data(query, json!({ "c": local })).await;
    assert_eq!(on_province["elevations"][0]["status"], "ACCEPTED");
    assert_eq!(on_province["elevations"][0]["revision"], 3);
    let open = "{ syncConflicts { edges { node { kind key } } } }";
    for node in [&hub, &province] {
        let conflicts = node.data_as(As::National, open, json!({})).await;
        assert_eq!(
            conflicts["syncConflicts"]["edges"],
            json!([]),
            "{conflicts}"
        );
    }
}
