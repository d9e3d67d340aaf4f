use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::helpers::{As, Backend, TestApp, code, error_field, storage_test, token};

const MATTER: &str = "EMP-UNEMPLOYMENT-REGISTRATION";

const SAVE_GUIDE: &str = "mutation($input: SaveGuideInput!) { saveGuide(input: $input) {
    revision status timeLimitDays materials channels fee } }";

const GUIDE: &str = "query($r: String!, $m: String!) { guide(region: $r, matter: $m) {
    revision status timeLimitDays materials
    revisions { revision changedBy content }
} }";

fn guide_input(region: &str, days: i32, material: &str, expected: Option<i64>) -> Value {
    json!({ "input": {
        "region": region, "matter": MATTER, "timeLimitDays": days, "fee": "0",
        "materials": ["居民身份证", material], "channels": ["COUNTER", "ONLINE"],
        "legalBasis": "《中华人民共和国就业促进法》", "expectedRevision": expected,
    } })
}

async fn revision_of(app: &TestApp, region: &str) -> i64 {
    let data = app
        .data_as(As::National, GUIDE, json!({ "r": region, "m": MATTER }))
        .await;
    data["guide"]["revision"].as_i64().expect("guide exists")
}

storage_test!(
    a_province_admin_saves_and_publishes_its_own_guide_only,
    |app| {
        let current = revision_of(&app, "330000").await;
        let saved = app
            .data_as(
                As::Province("330000"),
                SAVE_GUIDE,
                // At the national baseline (5 working days), so that it publishes.
                guide_input("330000", 5, "失业证明", Some(current)),
            )
            .await;
        assert_eq!(saved["saveGuide"]["status"], "DRAFT");
        assert_eq!(saved["saveGuide"]["revision"], current + 1);

        let anonymous = app.data(GUIDE, json!({ "r": "330000", "m": MATTER })).await;
        assert!(
            anonymous["guide"].is_null(),
            "a draft is hidden from the public"
        );
        let own = app
            .data_as(
                As::Province("330000"),
                GUIDE,
                json!({ "r": "330000", "m": MATTER }),
            )
            .await;
        assert_eq!(own["guide"]["status"], "DRAFT");

        let published = app
        .data_as(
            As::Province("330000"),
            "mutation($e: Int!) { publishGuide(region: \"330000\", matter: \"EMP-UNEMPLOYMENT-REGISTRATION\", expectedRevision: $e) { status revision } }",
            json!({ "e": current + 1 }),
        )
        .await;
        assert_eq!(
            published["publishGuide"],
            json!({ "status": "PUBLISHED", "revision": current + 2 })
        );
        let public = app.data(GUIDE, json!({ "r": "330000", "m": MATTER })).await;
        assert_eq!(public["guide"]["timeLimitDays"], 5);

        let before = app.audit_count().await;
        let other = revision_of(&app, "320000").await;
        let denied = app
            .graphql_as(
                As::Province("330000"),
                SAVE_GUIDE,
                guide_input("320000", 12, "x", Some(other)),
            )
            .await;
        assert_eq!(code(&denied), "FORBIDDEN", "{denied}");
        assert_eq!(
            revision_of(&app, "320000").await,
            other,
            "a denied call changes nothing"
        );
        assert_eq!(app.audit_count().await, before);

        let unauthenticated = app
            .graphql(
                SAVE_GUIDE,
                guide_input("330000", 12, "x", Some(current + 2)),
            )
            .await;
        assert_eq!(code(&unauthenticated), "UNAUTHENTICATED");
    }
);

storage_test!(
    stale_revisions_conflict_and_bad_input_changes_nothing,
    |app| {
        let current = revision_of(&app, "310000").await;
        let stale = app
            .graphql_as(
                As::National,
                SAVE_GUIDE,
                guide_input("310000", 9, "x", Some(current + 100)),
            )
            .await;
        assert_eq!(code(&stale), "CONFLICT", "{stale}");
        assert_eq!(stale["errors"][0]["extensions"]["currentRevision"], current);

        let before = app.audit_count().await;
        let bad = app
            .graphql_as(
                As::National,
                SAVE_GUIDE,
                guide_input("310000", 0, "x", Some(current)),
            )
            .await;
        assert_eq!(code(&bad), "BAD_USER_INPUT", "{bad}");
        assert_eq!(error_field(&bad), "input.timeLimitDays");
        let bad_region = app
            .graphql_as(
                As::National,
                SAVE_GUIDE,
                guide_input("31000", 9, "x", Some(current)),
            )
            .await;
        assert_eq!(error_field(&bad_region), "input.region");
        assert_eq!(revision_of(&app, "310000").await, current);
        assert_eq!(app.audit_count().await, before);
    }
);

storage_test!(history_diff_and_audit_follow_each_change, |app| {
    let first = revision_of(&app, "340000").await;
    app.data_as(
        As::Province("340000"),
        SAVE_GUIDE,
        guide_input("340000", 20, "材料甲", Some(first)),
    )
    .await;
    app.data_as(
        As::Province("340000"),
        SAVE_GUIDE,
        guide_input("340000", 18, "材料乙", Some(first + 1)),
    )
    .await;
    let data = app
        .data_as(
            As::Province("340000"),
            "query($from: Int!, $to: Int!) { guide(region: \"340000\", matter: \"EMP-UNEMPLOYMENT-REGISTRATION\") {
                revisions { revision changedBy }
                diff(from: $from, to: $to) { field old new }
            } }",
            json!({ "from": first + 1, "to": first + 2 }),
        )
        .await;
    let revisions: Vec<i64> = data["guide"]["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["revision"].as_i64().unwrap())
        .collect();
    assert_eq!(revisions, [first, first + 1, first + 2]);
    assert_eq!(
        data["guide"]["revisions"][2]["changedBy"],
        "Province(\"340000\")"
    );
    let diff = data["guide"]["diff"].as_array().unwrap();
    let fields: Vec<&str> = diff.iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["materials", "timeLimitDays"]);
    assert_eq!(diff[1]["old"], 20);
    assert_eq!(diff[1]["new"], 18);

    let audit = app
        .data_as(
            As::Province("340000"),
            "{ auditLog(filter: { targetKey: \"340000/EMP-UNEMPLOYMENT-REGISTRATION\" }) { totalCount edges { node { action role subject before after } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        audit["auditLog"]["totalCount"], 2,
        "each change once: {audit}"
    );
    let newest = &audit["auditLog"]["edges"][0]["node"];
    assert_eq!(newest["action"], "UPDATE_GUIDE");
    assert_eq!(newest["role"], "PROVINCE_ADMIN");
    assert_eq!(newest["before"]["timeLimitDays"], 20);
    assert_eq!(newest["after"]["timeLimitDays"], 18);

    let other = app
        .graphql_as(
            As::Province("340000"),
            "{ auditLog(filter: { region: \"330000\" }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&other), "FORBIDDEN");
    let viewer = app
        .graphql_as(As::Viewer, "{ auditLog { totalCount } }", json!({}))
        .await;
    assert_eq!(code(&viewer), "FORBIDDEN");
    let anonymous = app.graphql("{ auditLog { totalCount } }", json!({})).await;
    assert_eq!(code(&anonymous), "UNAUTHENTICATED");
});

/// Fifty writers race with the same `expectedRevision`: one wins, the
/// others get CONFLICT, and the stored guide is the winner's.
async fn concurrent_saves(backend: Backend) {
    let app = TestApp::spawn_with(backend, |settings| {
        settings.database.max_connections = 10;
    })
    .await
    .expect("a test database (PostgreSQL: CONCORD_TEST_POSTGRES_URL)");
    let current = revision_of(&app, "330000").await;
    let attempts = (0..50).map(|i| {
        let app = &app;
        async move {
            let body = app
                .graphql_as(
                    As::Province("330000"),
                    SAVE_GUIDE,
                    guide_input("330000", 100 + i, &format!("材料{i}"), Some(current)),
                )
                .await;
            (i, body)
        }
    });
    let results = futures::future::join_all(attempts).await;
    let winners: Vec<i32> = results
        .iter()
        .filter(|(_, b)| b.get("errors").is_none())
        .map(|(i, _)| *i)
        .collect();
    let conflicts = results
        .iter()
        .filter(|(_, b)| code(b) == "CONFLICT")
        .count();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert_eq!(conflicts, 49);
    let stored = app
        .data_as(As::National, GUIDE, json!({ "r": "330000", "m": MATTER }))
        .await;
    assert_eq!(stored["guide"]["timeLimitDays"], 100 + winners[0]);
    assert_eq!(stored["guide"]["revision"], current + 1);
}

#[tokio::test]
async fn concurrent_saves_have_one_winner_sqlite() {
    concurrent_saves(Backend::Sqlite).await;
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set CONCORD_TEST_POSTGRES_URL"
)]
async fn concurrent_saves_have_one_winner_postgres() {
    concurrent_saves(Backend::Postgres).await;
}

fn forge(header: Value, claims: Value, signature: &str) -> String {
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.{signature}", part(&header), part(&claims))
}

#[tokio::test]
async fn bad_tokens_are_refused_even_for_public_queries() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite app");
    let good = token(As::National).unwrap();
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    claims["role"] = json!("NATIONAL_ADMIN");
    claims["sub"] = json!("mallory");
    parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
    let tampered = parts.join(".");
    let mut expired_claims = claims.clone();
    expired_claims["exp"] = json!(1_000_000_000);
    let none = forge(json!({ "alg": "none", "typ": "JWT" }), claims.clone(), "");
    let expired = forge(
        json!({ "alg": "HS256", "typ": "JWT" }),
        expired_claims,
        "c2lnbmF0dXJl",
    );
    for (name, header) in [
        ("garbage", "Bearer not.a.token".to_owned()),
        ("scheme", format!("Basic {good}")),
        ("tampered", format!("Bearer {tampered}")),
        ("alg none", format!("Bearer {none}")),
        ("expired", format!("Bearer {expired}")),
    ] {
        let response = app
            .client
            .post(app.endpoint())
            .header("authorization", header)
            .json(&json!({ "query": "{ zones { code } }" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{name}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(code(&body), "UNAUTHENTICATED", "{name}: {body}");
        assert!(body.get("data").is_none());
    }
    let ok = app
        .data_as(As::Viewer, "{ zones { code } }", json!({}))
        .await;
    assert_eq!(ok["zones"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn a_province_node_writes_only_its_own_region() {
    let app = TestApp::spawn_with(Backend::Sqlite, |settings| {
        settings.node.region = Some("330000".into());
    })
    .await
    .expect("sqlite app");
    let other = revision_of(&app, "320000").await;
    let denied = app
        .graphql_as(
            As::National,
            SAVE_GUIDE,
            guide_input("320000", 9, "x", Some(other)),
        )
        .await;
    assert_eq!(code(&denied), "FORBIDDEN", "{denied}");
    let own = revision_of(&app, "330000").await;
    let allowed = app
        .graphql_as(
            As::National,
            SAVE_GUIDE,
            guide_input("330000", 9, "x", Some(own)),
        )
        .await;
    assert!(allowed.get("errors").is_none(), "{allowed}");
}

storage_test!(standards_move_through_their_life_cycle, |app| {
    let create = "mutation($input: CreateStandardInput!) { createStandard(input: $input) { code status revision level issuingRegion { code } } }";
    let created = app
        .data_as(
            As::Province("330000"),
            create,
            json!({ "input": { "code": "DB33/T 9001-2025", "titleZh": "失业登记服务规范", "level": "LOCAL", "matters": [MATTER] } }),
        )
        .await;
    assert_eq!(created["createStandard"]["status"], "DRAFT");
    assert_eq!(created["createStandard"]["issuingRegion"]["code"], "330000");

    let again = app
        .graphql_as(
            As::Province("330000"),
            create,
            json!({ "input": { "code": "DB33/T 9001-2025", "titleZh": "x", "level": "LOCAL" } }),
        )
        .await;
    assert_eq!(code(&again), "CONFLICT");
    let wrong_level = app
        .graphql_as(
            As::National,
            create,
            json!({ "input": { "code": "DB33/T 9002-2025", "titleZh": "x", "level": "NATIONAL" } }),
        )
        .await;
    assert_eq!(code(&wrong_level), "BAD_USER_INPUT");
    assert_eq!(error_field(&wrong_level), "input.level");

    let status = "mutation($code: String!, $s: StandardStatus!, $e: Int!) { setStandardStatus(code: $code, status: $s, expectedRevision: $e) { status revision } }";
    let illegal = app
        .graphql_as(
            As::Province("330000"),
            status,
            json!({ "code": "DB33/T 9001-2025", "s": "WITHDRAWN", "e": 1 }),
        )
        .await;
    assert_eq!(code(&illegal), "BAD_USER_INPUT", "{illegal}");
    let in_force = app
        .data_as(
            As::Province("330000"),
            status,
            json!({ "code": "DB33/T 9001-2025", "s": "IN_FORCE", "e": 1 }),
        )
        .await;
    assert_eq!(
        in_force["setStandardStatus"],
        json!({ "status": "IN_FORCE", "revision": 2 })
    );

    app.data_as(
        As::Province("330000"),
        create,
        json!({ "input": { "code": "DB33/T 9001-2026", "titleZh": "失业登记服务规范（修订）", "level": "LOCAL" } }),
    )
    .await;
    let supersede = "mutation($e: Int!) { supersedeStandard(old: \"DB33/T 9001-2025\", new: \"DB33/T 9001-2026\", expectedRevision: $e, newExpectedRevision: 1) { superseded { status } replacement { supersedes { code } } } }";
    let stale = app
        .graphql_as(As::Province("330000"), supersede, json!({ "e": 1 }))
        .await;
    assert_eq!(code(&stale), "CONFLICT", "{stale}");
    assert_eq!(stale["errors"][0]["extensions"]["currentRevision"], 2);
    let superseded = app
        .data_as(As::Province("330000"), supersede, json!({ "e": 2 }))
        .await;
    assert_eq!(
        superseded["supersedeStandard"]["superseded"]["status"],
        "SUPERSEDED"
    );
    assert_eq!(
        superseded["supersedeStandard"]["replacement"]["supersedes"]["code"],
        "DB33/T 9001-2025"
    );

    let revised = app
        .data_as(
            As::Province("330000"),
            "mutation { reviseStandard(code: \"DB33/T 9001-2025\", input: { titleZh: \"失业登记服务规范（旧）\" }, expectedRevision: 3) { revision status diff(from: 1, to: 4) { field } } }",
            json!({}),
        )
        .await;
    let fields: Vec<&str> = revised["reviseStandard"]["diff"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["status", "titleZh"]);
    assert_eq!(revised["reviseStandard"]["status"], "SUPERSEDED");

    let forbidden = app
        .graphql_as(
            As::Province("320000"),
            status,
            json!({ "code": "DB33/T 9001-2026", "s": "IN_FORCE", "e": 2 }),
        )
        .await;
    assert_eq!(code(&forbidden), "FORBIDDEN");
});

storage_test!(
    an_evaluation_is_corrected_only_at_the_revision_read,
    |app| {
        let record = "mutation($e: Int, $s: Float!) { recordEvaluation(region: \"330000\", matter: \"SI-CARD-APPLICATION\", period: \"2025-Q3\", satisfaction: $s, casesHandled: 10, averageDays: 3, expectedRevision: $e) { revision satisfaction } }";
        let stored = app
        .data(
            "{ evaluations(filter: { region: \"330000\", matter: \"SI-CARD-APPLICATION\", period: \"2025-Q3\" }) { edges { node { revision satisfaction } } } }",
            json!({}),
        )
        .await["evaluations"]["edges"][0]["node"]
        .clone();
        let revision = stored["revision"].as_i64().expect("a seeded evaluation");
        let audit = app.audit_count().await;
        for expected in [Value::Null, json!(revision + 1)] {
            let refused = app
                .graphql_as(
                    As::Province("330000"),
                    record,
                    json!({ "e": expected, "s": 42.5 }),
                )
                .await;
            assert_eq!(code(&refused), "CONFLICT", "{refused}");
            assert_eq!(
                refused["errors"][0]["extensions"]["currentRevision"],
                revision
            );
        }
        assert_eq!(app.audit_count().await, audit, "a refusal changes nothing");
        let corrected = app
            .data_as(
                As::Province("330000"),
                record,
                json!({ "e": revision, "s": 42.5 }),
            )
            .await;
        assert_eq!(
            corrected["recordEvaluation"],
            json!({ "revision": revision + 1, "satisfaction": 42.5 })
        );
        let first = app
        .data_as(
            As::Province("330000"),
            "mutation { recordEvaluation(region: \"330000\", matter: \"SI-CARD-APPLICATION\", period: \"2027-Q1\", satisfaction: 88, casesHandled: 5, averageDays: 2) { revision } }",
            json!({}),
        )
        .await;
        assert_eq!(
            first["recordEvaluation"]["revision"], 1,
            "a first record needs none"
        );
    }
);

storage_test!(a_procedure_keeps_its_revisions_like_a_guide, |app| {
    let history = "{ guide(region: \"330000\", matter: \"SI-PENSION-TRANSFER\") { procedure {
        revision revisions { revision changedBy content } } } }";
    let before = app.data_as(As::National, history, json!({})).await["guide"]["procedure"].clone();
    let revision = before["revision"].as_i64().expect("a seeded procedure");
    let saved = app
        .data_as(
            As::Province("330000"),
            "mutation($e: Int!) { saveProcedure(input: { region: \"330000\", matter: \"SI-PENSION-TRANSFER\",
                steps: [{ name: \"受理\", actor: \"窗口\", timeLimitDays: 2 }, { name: \"办结\", actor: \"科室\", timeLimitDays: 3 }],
                expectedRevision: $e }) { revision } }",
            json!({ "e": revision }),
        )
        .await;
    assert_eq!(saved["saveProcedure"]["revision"], revision + 1);
    let diff = format!(
        "{{ guide(region: \"330000\", matter: \"SI-PENSION-TRANSFER\") {{ procedure {{
            revisions {{ revision changedBy }} diff(from: {revision}, to: {}) {{ field old new }} }} }} }}",
        revision + 1
    );
    let after = app.data_as(As::National, &diff, json!({})).await["guide"]["procedure"].clone();
    let kept: Vec<(i64, Value)> = after["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["revision"].as_i64().unwrap(), r["changedBy"].clone()))
        .collect();
    assert_eq!(
        kept.iter().map(|(r, _)| *r).collect::<Vec<_>>()[kept.len() - 2..],
        [revision, revision + 1],
        "{after}"
    );
    assert_eq!(
        kept[kept.len() - 2].1,
        before["revisions"].as_array().unwrap().last().unwrap()["changedBy"],
        "the version before is kept as it was"
    );
    let fields: Vec<&str> = after["diff"]
        .as_array()
        .unwrap()
        .iter()
        .map(|change| change["field"].as_str().unwrap())
        .collect();
    // Saving the published procedure again makes it a draft, as for a guide.
    assert_eq!(fields, ["status", "steps"], "{after}");
    assert_eq!(after["diff"][0]["new"], "DRAFT");
    assert_eq!(after["diff"][1]["new"][1]["name"], "办结");
});

storage_test!(an_imported_revision_keeps_the_version_it_replaced, |app| {
    let history = "{ guide(region: \"330000\", matter: \"SI-CARD-APPLICATION\") {
        revision timeLimitDays revisions { revision changedBy content } } }";
    let before = app.data_as(As::National, history, json!({})).await["guide"].clone();
    let revision = before["revision"].as_i64().unwrap();
    let days = before["timeLimitDays"].as_i64().unwrap() + 4;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("guides.json");
    std::fs::write(
        &file,
        json!({ "guides": [{ "region": "330000", "matter": "SI-CARD-APPLICATION",
            "timeLimitDays": days, "fee": "0", "materials": ["居民身份证"], "channels": ["ONLINE"],
            "status": "PUBLISHED" }] })
        .to_string(),
    )
    .unwrap();
    let (ok, out) = app.import(&file);
    assert!(ok, "{out}");
    app.sees_latest_commit().await;
    let after = app.data_as(As::National, history, json!({})).await["guide"].clone();
    let revisions = after["revisions"].as_array().unwrap();
    let kept = |r: i64| {
        revisions
            .iter()
            .find(|v| v["revision"] == r)
            .unwrap_or_else(|| panic!("revision {r} is not kept: {after}"))
            .clone()
    };
    assert_eq!(after["revision"], revision + 1);
    assert_eq!(kept(revision)["content"]["timeLimitDays"], days - 4);
    let imported = kept(revision + 1);
    assert_eq!(imported["content"]["timeLimitDays"], days);
    assert_eq!(imported["changedBy"], "concord import");
});
