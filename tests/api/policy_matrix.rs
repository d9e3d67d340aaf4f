//! Every mutation tried as every role: allowed, or refused with the exact
//! code, and a refused call changes nothing.

use serde_json::{Value, json};

use crate::helpers::{As, Backend, TestApp, code};

const ROLES: [As; 7] = [
    As::Anonymous,
    As::Viewer,
    As::Province("330000"),
    As::Province("320000"),
    As::Zone("YRD"),
    As::National,
    As::Sync,
];

/// What a role gets: the mutation runs, or this error code.
fn expected(allowed: &[As], who: As) -> &'static str {
    if allowed.contains(&who) {
        "OK"
    } else if who == As::Anonymous {
        "UNAUTHENTICATED"
    } else {
        "FORBIDDEN"
    }
}

async fn guide_revision(app: &TestApp, region: &str, matter: &str) -> i64 {
    app.guide_revision(region, matter).await.unwrap_or(0)
}

/// Puts Zhejiang's pension-transfer guide in `status`, as NATIONAL_ADMIN.
async fn ensure_status(app: &TestApp, status: &str) {
    let data = app
        .data_as(
            As::National,
            "{ guide(region: \"330000\", matter: \"SI-PENSION-TRANSFER\") { status revision } }",
            json!({}),
        )
        .await;
    if data["guide"]["status"] == status {
        return;
    }
    let mutation = if status == "PUBLISHED" {
        "publishGuide"
    } else {
        "unpublishGuide"
    };
    app.data_as(
        As::National,
        &format!("mutation($e: Int!) {{ {mutation}(region: \"330000\", matter: \"SI-PENSION-TRANSFER\", expectedRevision: $e) {{ status }} }}"),
        json!({ "e": data["guide"]["revision"] }),
    )
    .await;
}

/// Creates a local standard of Zhejiang as NATIONAL_ADMIN, in the given status.
async fn local_standard(app: &TestApp, code: &str, in_force: bool) {
    app.data_as(
        As::National,
        "mutation($code: String!) { createStandard(input: { code: $code, titleZh: \"测试标准\", level: LOCAL }) { code } }",
        json!({ "code": code }),
    )
    .await;
    if in_force {
        app.data_as(
            As::National,
            "mutation($code: String!) { setStandardStatus(code: $code, status: IN_FORCE, expectedRevision: 1) { code } }",
            json!({ "code": code }),
        )
        .await;
    }
}

/// Runs one mutation as `who`, after `setup` prepared a fresh target, and
/// returns the outcome code.
async fn attempt(app: &TestApp, case: &str, who: As, n: usize) -> String {
    let matter = "SI-PENSION-TRANSFER";
    let (query, variables): (&str, Value) = match case {
        "saveGuide" => (
            "mutation($input: SaveGuideInput!) { saveGuide(input: $input) { revision } }",
            json!({ "input": {
                // Within the national baseline (20 days, ONLINE), so that publishing it may succeed.
                "region": "330000", "matter": matter, "timeLimitDays": 19 + (n % 2) as i64, "fee": "0",
                "materials": ["居民身份证"], "channels": ["ONLINE"],
                "expectedRevision": guide_revision(app, "330000", matter).await,
            } }),
        ),
        "publishGuide" | "unpublishGuide" => (
            {
                // Start from the other status, so that an allowed call changes something.
                ensure_status(
                    app,
                    if case == "publishGuide" {
                        "DRAFT"
                    } else {
                        "PUBLISHED"
                    },
                )
                .await;
                if case == "publishGuide" {
                    "mutation($e: Int!) { publishGuide(region: \"330000\", matter: \"SI-PENSION-TRANSFER\", expectedRevision: $e) { revision } }"
                } else {
                    "mutation($e: Int!) { unpublishGuide(region: \"330000\", matter: \"SI-PENSION-TRANSFER\", expectedRevision: $e) { revision } }"
                }
            },
            json!({ "e": guide_revision(app, "330000", matter).await }),
        ),
        "saveProcedure" => (
            "mutation($input: SaveProcedureInput!) { saveProcedure(input: $input) { revision } }",
            json!({ "input": {
                "region": "330000", "matter": matter,
                "steps": [{ "name": "受理", "actor": "窗口", "timeLimitDays": 1 + (n % 5) as i64 }],
                "expectedRevision": app.data_as(As::National,
                    "{ guide(region: \"330000\", matter: \"SI-PENSION-TRANSFER\") { procedure { revision } } }", json!({})).await
                    ["guide"]["procedure"]["revision"],
            } }),
        ),
        "publishProcedure" => {
            // A published guide, and a fresh draft of its procedure that fits it.
            ensure_status(app, "PUBLISHED").await;
            let current = app.data_as(As::National,
                "{ guide(region: \"330000\", matter: \"SI-PENSION-TRANSFER\") { procedure { revision } } }", json!({})).await
                ["guide"]["procedure"]["revision"].clone();
            let draft = app.data_as(As::National,
                "mutation($input: SaveProcedureInput!) { saveProcedure(input: $input) { revision } }",
                json!({ "input": {
                    "region": "330000", "matter": matter,
                    "steps": [{ "name": "受理", "actor": "窗口", "timeLimitDays": 1 + (n % 5) as i64 }],
                    "expectedRevision": current,
                } })).await["saveProcedure"]["revision"].clone();
            (
                "mutation($e: Int!) { publishProcedure(region: \"330000\", matter: \"SI-PENSION-TRANSFER\", expectedRevision: $e) { revision } }",
                json!({ "e": draft }),
            )
        }
        "grantBaselineExemption" => (
            "mutation($from: NaiveDate!, $until: NaiveDate!) { grantBaselineExemption(region: \"330000\", matter: \"SI-PENSION-TRANSFER\", rationale: \"过渡期\", validFrom: $from, validUntil: $until) { revision } }",
            json!({ "from": format!("{}-01-01", 2100 + n), "until": format!("{}-12-31", 2100 + n) }),
        ),
        "revokeBaselineExemption" => {
            let id = app.data_as(As::National,
                "mutation($from: NaiveDate!, $until: NaiveDate!) { grantBaselineExemption(region: \"330000\", matter: \"SI-PENSION-TRANSFER\", rationale: \"过渡期\", validFrom: $from, validUntil: $until) { id } }",
                json!({ "from": format!("{}-01-01", 2500 + n), "until": format!("{}-12-31", 2500 + n) })).await
                ["grantBaselineExemption"]["id"].clone();
            (
                "mutation($id: String!) { revokeBaselineExemption(id: $id, expectedRevision: 1) { revision } }",
                json!({ "id": id }),
            )
        }
        "recordEvaluation" => {
            let period = format!("2025-{:02}", n % 12 + 1);
            let stored = app
                .data_as(
                    As::National,
                    "query($p: String!) { evaluations(filter: { region: \"330000\", matter: \"SI-PENSION-TRANSFER\", period: $p }) { edges { node { revision } } } }",
                    json!({ "p": period }),
                )
                .await;
            (
                "mutation($p: String!, $e: Int) { recordEvaluation(region: \"330000\", matter: \"SI-PENSION-TRANSFER\", period: $p, satisfaction: 90, casesHandled: 10, averageDays: 3, expectedRevision: $e) { revision } }",
                json!({ "p": period, "e": stored["evaluations"]["edges"][0]["node"]["revision"] }),
            )
        }
        "createStandard" => (
            "mutation($code: String!) { createStandard(input: { code: $code, titleZh: \"测试\", level: LOCAL }) { code } }",
            json!({ "code": format!("DB33/T {}-2025", 8000 + n) }),
        ),
        "createRegionalStandard" => (
            "mutation($code: String!) { createStandard(input: { code: $code, titleZh: \"测试\", level: REGIONAL, issuingZone: \"YRD\" }) { code } }",
            json!({ "code": format!("DB31/T 310{:03}-2025", n) }),
        ),
        "reviseStandard" => {
            let code = format!("DB33/T {}-2024", 7000 + n);
            local_standard(app, &code, false).await;
            (
                "mutation($code: String!) { reviseStandard(code: $code, input: { titleZh: \"修订\" }, expectedRevision: 1) { revision } }",
                json!({ "code": code }),
            )
        }
        "setStandardStatus" => {
            let code = format!("DB33/T {}-2024", 6000 + n);
            local_standard(app, &code, false).await;
            (
                "mutation($code: String!) { setStandardStatus(code: $code, status: IN_FORCE, expectedRevision: 1) { revision } }",
                json!({ "code": code }),
            )
        }
        "supersedeStandard" => {
            let old = format!("DB33/T {}-2023", 5000 + n);
            let new = format!("DB33/T {}-2025", 5000 + n);
            local_standard(app, &old, true).await;
            local_standard(app, &new, true).await;
            (
                // Both were created and put in force: revision 2.
                "mutation($old: String!, $new: String!) { supersedeStandard(old: $old, new: $new, expectedRevision: 2, newExpectedRevision: 2) { superseded { code } } }",
                json!({ "old": old, "new": new }),
            )
        }
        "saveMatter" => (
            "mutation($code: String!) { saveMatter(input: { code: $code, nameZh: \"测试事项\", category: \"EMPLOYMENT\" }) { revision } }",
            json!({ "code": format!("EMP-TEST-{n}") }),
        ),
        "saveNationalItem" => (
            "mutation($n: Int!) { saveNationalItem(input: { edition: 2023, number: $n, nameZh: \"测试项目\", category: \"EMPLOYMENT\" }) { revision } }",
            json!({ "n": 100 + n }),
        ),
        "proposeCollaborativeStandard" => (
            "mutation($code: String!) { proposeCollaborativeStandard(input: { code: $code, zone: \"YRD\", titleZh: \"测试协同标准\", matters: [\"EMP-JOB-FAIR\"], maxTimeLimitDays: 5 }) { code } }",
            json!({ "code": format!("DB31/T 32{n:04}-2026") }),
        ),
        "decideAdoption" => (
            "mutation($p: String!) { decideAdoption(proposal: $p, decision: ADOPT, region: \"330000\", expectedRevision: 1) { code } }",
            json!({ "p": collaborative(app, n).await }),
        ),
        "withdrawCollaborativeStandard" => (
            "mutation($p: String!) { withdrawCollaborativeStandard(proposal: $p, expectedRevision: 1) { code } }",
            json!({ "p": collaborative(app, n).await }),
        ),
        "proposeElevation" => {
            let code = format!("DB33/T {}-2022", 4000 + n);
            local_standard(app, &code, true).await;
            (
                "mutation($code: String!) { proposeElevation(standard: $code, targetLevel: NATIONAL, rationale: \"实践成熟\") { id } }",
                json!({ "code": code }),
            )
        }
        "decideElevation" => {
            let code = format!("DB33/T {}-2021", 3000 + n);
            local_standard(app, &code, true).await;
            let proposed = app
                .data_as(
                    As::National,
                    "mutation($code: String!) { proposeElevation(standard: $code, targetLevel: NATIONAL, rationale: \"实践成熟\") { id } }",
                    json!({ "code": code }),
                )
                .await;
            (
                "mutation($id: Int!) { decideElevation(id: $id, decision: REVIEW, expectedRevision: 1) { id } }",
                json!({ "id": proposed["proposeElevation"]["id"] }),
            )
        }
        other => panic!("unknown case {other}"),
    };
    let before = trail(app).await;
    let body = app.graphql_as(who, query, variables).await;
    let outcome = match body.get("errors") {
        None => "OK".to_owned(),
        Some(_) => body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("none")
            .to_owned(),
    };
    let after = trail(app).await;
    if outcome == "OK" {
        assert!(
            after.audit > before.audit && after.version > before.version,
            "{case} as {who:?} succeeded without an audit entry or a commit"
        );
    } else {
        assert_eq!(
            after, before,
            "{case} as {who:?} was refused but changed something: {body}"
        );
    }
    outcome
}

/// What any change leaves behind: audit entries, the change log and the
/// data version.
#[derive(Debug, PartialEq, Eq)]
struct Trail {
    audit: i64,
    changes: i64,
    version: u64,
}

async fn trail(app: &TestApp) -> Trail {
    let changes = app
        .data_as(As::Sync, "{ changes(first: 0) { totalCount } }", json!({}))
        .await["changes"]["totalCount"]
        .as_i64()
        .expect("the change log's size");
    Trail {
        audit: app.audit_count().await,
        changes,
        version: app.metric("concord_data_version_seen").await,
    }
}

/// A fresh collaborative standard of the YRD, proposed by NATIONAL_ADMIN,
/// every member still to decide.
async fn collaborative(app: &TestApp, n: usize) -> String {
    let code = format!("DB31/T 33{n:04}-2026");
    app.data_as(
        As::National,
        "mutation($code: String!) { proposeCollaborativeStandard(input: { code: $code, zone: \"YRD\", titleZh: \"测试协同标准\", matters: [\"EMP-JOB-FAIR\"], maxTimeLimitDays: 5 }) { code } }",
        json!({ "code": code }),
    )
    .await;
    code
}

#[tokio::test]
async fn every_mutation_as_every_role() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite app");
    let own = As::Province("330000");
    let cases: [(&str, &[As]); 20] = [
        ("saveGuide", &[own, As::National]),
        ("publishGuide", &[own, As::National]),
        ("unpublishGuide", &[own, As::National]),
        ("saveProcedure", &[own, As::National]),
        ("publishProcedure", &[own, As::National]),
        ("recordEvaluation", &[own, As::National]),
        ("createStandard", &[own, As::National]),
        ("createRegionalStandard", &[As::Zone("YRD"), As::National]),
        ("reviseStandard", &[own, As::National]),
        ("setStandardStatus", &[own, As::National]),
        ("supersedeStandard", &[own, As::National]),
        ("saveMatter", &[As::National]),
        ("saveNationalItem", &[As::National]),
        ("grantBaselineExemption", &[As::National]),
        ("revokeBaselineExemption", &[As::National]),
        (
            "proposeCollaborativeStandard",
            &[As::Zone("YRD"), As::National],
        ),
        ("decideAdoption", &[own, As::National]),
        (
            "withdrawCollaborativeStandard",
            &[As::Zone("YRD"), As::National],
        ),
        ("proposeElevation", &[own, As::National]),
        ("decideElevation", &[As::National]),
    ];
    let mut n = 0;
    let mut mismatches = Vec::new();
    for (case, allowed) in cases {
        for who in ROLES {
            n += 1;
            let outcome = attempt(&app, case, who, n).await;
            let want = expected(allowed, who);
            if outcome != want {
                mismatches.push(format!("{case} as {who:?}: got {outcome}, want {want}"));
            }
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

/// Every mutation, with input that is wrong in every way a check could
/// look at: malformed codes, unknown rows, out-of-range numbers.
const GARBLED: [&str; 20] = [
    "mutation { saveGuide(input: { region: \"x\", matter: \"?\", timeLimitDays: -1, fee: \"0\", materials: [], channels: [] }) { revision } }",
    "mutation { publishGuide(region: \"x\", matter: \"?\", expectedRevision: -1) { revision } }",
    "mutation { unpublishGuide(region: \"x\", matter: \"?\", expectedRevision: -1) { revision } }",
    "mutation { saveProcedure(input: { region: \"x\", matter: \"?\", steps: [] }) { revision } }",
    "mutation { publishProcedure(region: \"x\", matter: \"?\", expectedRevision: -1) { revision } }",
    "mutation { grantBaselineExemption(region: \"x\", matter: \"?\", rationale: \"\", validFrom: \"2030-01-01\", validUntil: \"2020-01-01\") { id } }",
    "mutation { revokeBaselineExemption(id: \"??\", expectedRevision: -1) { id } }",
    "mutation { recordEvaluation(region: \"x\", matter: \"?\", period: \"never\", satisfaction: -5, casesHandled: -1, averageDays: -1) { revision } }",
    "mutation { createStandard(input: { code: \"??\", titleZh: \"\", level: LOCAL }) { code } }",
    "mutation { reviseStandard(code: \"DB99/T 0-0000\", input: { titleZh: \"\" }, expectedRevision: 0) { code } }",
    "mutation { setStandardStatus(code: \"DB99/T 0-0000\", status: IN_FORCE, expectedRevision: 0) { code } }",
    "mutation { supersedeStandard(old: \"??\", new: \"??\", expectedRevision: 0, newExpectedRevision: 0) { superseded { code } } }",
    "mutation { saveMatter(input: { code: \"??\", nameZh: \"\", category: \"NONE\" }) { code } }",
    "mutation { saveNationalItem(input: { edition: 1, number: 0, nameZh: \"\", category: \"NONE\" }) { revision } }",
    "mutation { proposeCollaborativeStandard(input: { code: \"??\", zone: \"??\", titleZh: \"\", matters: [] }) { code } }",
    "mutation { decideAdoption(proposal: \"??\", decision: ADOPT, region: \"x\", expectedRevision: 0) { code } }",
    "mutation { withdrawCollaborativeStandard(proposal: \"??\", expectedRevision: 0) { code } }",
    "mutation { proposeElevation(standard: \"??\", targetLevel: NATIONAL, rationale: \"\") { id } }",
    "mutation { decideElevation(id: -1, decision: ACCEPT, expectedRevision: 0) { id } }",
    "mutation { resolveSyncConflict(id: \"??\", keep: LOSER, expectedRevision: -1) { id } }",
];

#[tokio::test]
async fn authorization_comes_before_any_look_at_the_input() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite app");
    for mutation in GARBLED {
        for (who, want) in [
            (As::Anonymous, "UNAUTHENTICATED"),
            (As::Viewer, "FORBIDDEN"),
            (As::Sync, "FORBIDDEN"),
        ] {
            let body = app.graphql_as(who, mutation, json!({})).await;
            assert_eq!(code(&body), want, "{mutation} as {who:?}: {body}");
        }
    }
}

#[tokio::test]
async fn a_draft_another_region_owns_is_refused_like_a_code_that_does_not_exist() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite app");
    app.data_as(
        As::Province("330000"),
        "mutation { createStandard(input: { code: \"DB33/T 4242-2026\", titleZh: \"草案\", level: LOCAL }) { code } }",
        json!({}),
    )
    .await;
    let revise = "mutation($code: String!) { reviseStandard(code: $code, input: { titleZh: \"改\" }, expectedRevision: 1) { code } }";
    let refusal = |body: Value| {
        let error = &body["errors"][0];
        let message = error["message"]
            .as_str()
            .unwrap_or_default()
            .replace("DB33/T 4242-2026", "CODE")
            .replace("DB33/T 4243-2026", "CODE");
        (error["extensions"]["code"].clone(), message)
    };
    let draft = refusal(
        app.graphql_as(
            As::Province("320000"),
            revise,
            json!({ "code": "DB33/T 4242-2026" }),
        )
        .await,
    );
    let missing = refusal(
        app.graphql_as(
            As::Province("320000"),
            revise,
            json!({ "code": "DB33/T 4243-2026" }),
        )
        .await,
    );
    assert_eq!(draft.0, "FORBIDDEN");
    assert_eq!(draft, missing, "the answers must not tell the two apart");
    let national = app
        .graphql_as(As::National, revise, json!({ "code": "DB33/T 4243-2026" }))
        .await;
    assert_eq!(
        code(&national),
        "NOT_FOUND",
        "a NATIONAL_ADMIN sees every row, so it is told: {national}"
    );
}

/// Settling a sync conflict as every role, on the node that owns the row:
/// its own PROVINCE_ADMIN and NATIONAL_ADMIN may; a refusal changes nothing.
#[tokio::test]
async fn settling_a_sync_conflict_as_every_role() {
    let hub = TestApp::spawn(Backend::Sqlite).await.expect("hub");
    let zhejiang = TestApp::spawn_with(Backend::Sqlite, |settings| {
        settings.node.region = Some("330000".into());
    })
    .await
    .expect("Zhejiang's node");
    // The hub changes Zhejiang's guide three times; Zhejiang's node keeps
    // its own version each time, and each of the hub's versions lost.
    let matter = "SI-PENSION-TRANSFER";
    for days in [41, 42, 43] {
        hub.data_as(
            As::National,
            "mutation($m: String!, $d: Int!, $e: Int) { saveGuide(input: { region: \"330000\", matter: $m, timeLimitDays: $d, fee: \"0\", materials: [\"居民身份证\"], channels: [ONLINE], expectedRevision: $e }) { revision } }",
            json!({ "m": matter, "d": days, "e": guide_revision(&hub, "330000", matter).await }),
        )
        .await;
    }
    let synced = std::process::Command::new(env!("CARGO_BIN_EXE_concord"))
        .args(["sync", "--database", &zhejiang.database_url])
        .args(["--peer", &hub.endpoint()])
        .args(["--token", &crate::helpers::token(As::Sync).unwrap()])
        .env("CONCORD__NODE__REGION", "330000")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run concord sync");
    assert!(synced.status.success(), "{synced:?}");
    zhejiang.sees_latest_commit().await;
    let listed = zhejiang
        .data_as(
            As::National,
            "{ syncConflicts(first: 10) { edges { node { id winner { revision } } } } }",
            json!({}),
        )
        .await;
    let mut open: Vec<(String, i64)> = listed["syncConflicts"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["id"].as_str().unwrap().to_owned(),
                e["node"]["winner"]["revision"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(open.len(), 3, "{listed}");

    let own = As::Province("330000");
    let mut mismatches = Vec::new();
    for who in ROLES {
        let (id, revision) = open.last().cloned().expect("a conflict left to settle");
        let before = trail(&zhejiang).await;
        let body = zhejiang
            .graphql_as(
                who,
                "mutation($id: ID!, $e: Int!) { resolveSyncConflict(id: $id, keep: WINNER, expectedRevision: $e) { resolution } }",
                json!({ "id": id, "e": revision }),
            )
            .await;
        let outcome = body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("OK")
            .to_owned();
        let after = trail(&zhejiang).await;
        if outcome == "OK" {
            assert_eq!(body["data"]["resolveSyncConflict"]["resolution"], "WINNER");
            assert!(after.audit > before.audit && after.changes > before.changes);
            open.pop();
        } else {
            assert_eq!(after, before, "refused as {who:?} but changed something");
        }
        let want = expected(&[own, As::National], who);
        if outcome != want {
            mismatches.push(format!("{who:?}: got {outcome}, want {want}"));
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}
