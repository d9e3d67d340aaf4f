//! Baselines enforced: publishing a guide below its national item's
//! baseline is refused unless a NATIONAL_ADMIN's exemption is in force;
//! drafts and rows that arrived otherwise are never refused, only reported.
//! And operating procedures, drafted and published on their own.

use serde_json::{Value, json};

use crate::helpers::{
    As, Backend, TestApp, code, jiangsu_node, second_backend, storage_test, token,
};

const MATTER: &str = "SI-BASELINE-TEST";
const ZHEJIANG: As = As::Province("330000");

const SAVE: &str = "mutation($d: Int!, $f: Decimal!, $c: [Channel!]!, $e: Int) {
    saveGuide(input: { region: \"330000\", matter: \"SI-BASELINE-TEST\", timeLimitDays: $d, fee: $f,
        materials: [\"居民身份证\"], channels: $c, expectedRevision: $e }) { revision status } }";
const PUBLISH: &str = "mutation($e: Int!) {
    publishGuide(region: \"330000\", matter: \"SI-BASELINE-TEST\", expectedRevision: $e) { revision status } }";
const UNPUBLISH: &str = "mutation($e: Int!) {
    unpublishGuide(region: \"330000\", matter: \"SI-BASELINE-TEST\", expectedRevision: $e) { revision status } }";
const GRANT: &str = "mutation($r: String!, $m: String!, $from: NaiveDate!, $until: NaiveDate!) {
    grantBaselineExemption(region: $r, matter: $m, rationale: \"山区网点不足，过渡期内放宽\",
        validFrom: $from, validUntil: $until) { id revision inForce } }";
const REVOKE: &str = "mutation($id: String!, $e: Int!) {
    revokeBaselineExemption(id: $id, expectedRevision: $e) { id revision revokedAt inForce } }";

/// A national item with a baseline of 15 working days, 20 yuan and the
/// ONLINE channel, and a matter that implements it.
async fn baseline_matter(app: &TestApp) {
    app.data_as(
        As::National,
        "mutation { saveNationalItem(input: { edition: 2023, number: 95, nameZh: \"基线测试项目\",
            category: \"SOCIAL_INSURANCE\", maxTimeLimitDays: 15, maxFee: \"20\", requiredChannels: [ONLINE] }) { revision } }",
        json!({}),
    )
    .await;
    app.data_as(
        As::National,
        "mutation { saveMatter(input: { code: \"SI-BASELINE-TEST\", nameZh: \"基线测试事项\",
            category: \"SOCIAL_INSURANCE\", nationalEdition: 2023, nationalNumber: 95 }) { code } }",
        json!({}),
    )
    .await;
}

async fn guide(app: &TestApp) -> Value {
    app.data_as(
        As::National,
        "{ guide(region: \"330000\", matter: \"SI-BASELINE-TEST\") { revision status timeLimitDays } }",
        json!({}),
    )
    .await["guide"]
        .clone()
}

/// Saves Zhejiang's draft, which always succeeds, and returns its revision.
async fn save(app: &TestApp, days: i64, fee: &str, channels: &[&str]) -> i64 {
    let expected = guide(app).await["revision"].as_i64();
    let saved = app
        .data_as(
            ZHEJIANG,
            SAVE,
            json!({ "d": days, "f": fee, "c": channels, "e": expected }),
        )
        .await;
    assert_eq!(saved["saveGuide"]["status"], "DRAFT");
    saved["saveGuide"]["revision"].as_i64().unwrap()
}

/// Publishing is refused with the rule and the baseline's figure, and
/// changes nothing.
async fn refused(app: &TestApp, revision: i64, rule: &str, baseline: &str) {
    let audit = app.audit_count().await;
    let body = app
        .graphql_as(ZHEJIANG, PUBLISH, json!({ "e": revision }))
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    let extensions = &body["errors"][0]["extensions"];
    assert_eq!(extensions["rule"], rule, "{body}");
    assert_eq!(extensions["baseline"], baseline, "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains(rule) && message.contains(baseline),
        "{message}"
    );
    let after = guide(app).await;
    assert_eq!(
        (&after["revision"], &after["status"]),
        (&json!(revision), &json!("DRAFT"))
    );
    assert_eq!(app.audit_count().await, audit, "a refusal audits nothing");
}

storage_test!(
    publishing_below_a_baseline_is_refused_until_exempted,
    |app| {
        baseline_matter(&app).await;

        // Each rule, named with the baseline's figure; the drafts all save.
        let revision = save(&app, 20, "0", &["ONLINE"]).await;
        refused(&app, revision, "TIME_LIMIT", "15").await;
        let revision = save(&app, 10, "30", &["ONLINE", "COUNTER"]).await;
        refused(&app, revision, "FEE", "20.00").await;
        let revision = save(&app, 10, "0", &["COUNTER"]).await;
        refused(&app, revision, "CHANNEL", "ONLINE").await;

        // Only a NATIONAL_ADMIN grants an exemption.
        let dates =
            json!({ "r": "330000", "m": MATTER, "from": "2000-01-01", "until": "2999-12-31" });
        for who in [ZHEJIANG, As::Zone("YRD"), As::Viewer, As::Sync] {
            let body = app.graphql_as(who, GRANT, dates.clone()).await;
            assert_eq!(code(&body), "FORBIDDEN", "{who:?}: {body}");
        }
        let body = app.graphql_as(As::Anonymous, GRANT, dates.clone()).await;
        assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
        let backwards = app
            .graphql_as(
                As::National,
                GRANT,
                json!({ "r": "330000", "m": MATTER, "from": "2030-01-01", "until": "2029-12-31" }),
            )
            .await;
        assert_eq!(code(&backwards), "BAD_USER_INPUT", "{backwards}");

        // An expired exemption does not help.
        let expired = app
            .data_as(
                As::National,
                GRANT,
                json!({ "r": "330000", "m": MATTER, "from": "1999-01-01", "until": "2000-12-31" }),
            )
            .await;
        assert_eq!(expired["grantBaselineExemption"]["inForce"], false);
        refused(&app, revision, "CHANNEL", "ONLINE").await;

        // One in force does: the guide publishes below the baseline.
        let granted =
            app.data_as(As::National, GRANT, dates.clone()).await["grantBaselineExemption"].clone();
        assert_eq!(
            granted,
            json!({ "id": "330000/SI-BASELINE-TEST/2000-01-01", "revision": 1, "inForce": true })
        );
        let again = app.graphql_as(As::National, GRANT, dates.clone()).await;
        assert_eq!(code(&again), "BAD_USER_INPUT", "granted twice: {again}");
        let published = app
            .data_as(ZHEJIANG, PUBLISH, json!({ "e": revision }))
            .await;
        assert_eq!(published["publishGuide"]["status"], "PUBLISHED");

        // Still reported, with the exemption that covers it.
        let ours = our_violations(
            &app,
            "330000",
            "matter rule baseline exemption { id rationale }",
        )
        .await;
        assert_eq!(
            ours,
            [
                json!({ "matter": MATTER, "rule": "CHANNEL", "baseline": "ONLINE",
            "exemption": { "id": "330000/SI-BASELINE-TEST/2000-01-01", "rationale": "山区网点不足，过渡期内放宽" } })
            ]
        );
        let listed = app
            .data(
                "{ all: baselineExemptions(region: \"330000\") { id inForce }
               live: baselineExemptions(matter: \"SI-BASELINE-TEST\", inForce: true) { id } }",
                json!({}),
            )
            .await;
        assert_eq!(
            listed,
            json!({
                "all": [
                    { "id": "330000/SI-BASELINE-TEST/1999-01-01", "inForce": false },
                    { "id": "330000/SI-BASELINE-TEST/2000-01-01", "inForce": true },
                ],
                "live": [{ "id": "330000/SI-BASELINE-TEST/2000-01-01" }],
            })
        );

        // Revoked, it covers nothing: publishing again is refused.
        let stale = app
            .graphql_as(As::National, REVOKE, json!({ "id": granted["id"], "e": 7 }))
            .await;
        assert_eq!(code(&stale), "CONFLICT", "{stale}");
        let revoked = app
            .data_as(As::National, REVOKE, json!({ "id": granted["id"], "e": 1 }))
            .await["revokeBaselineExemption"]
            .clone();
        assert_eq!(revoked["revision"], 2);
        assert_eq!(revoked["inForce"], false);
        assert!(revoked["revokedAt"].is_string());
        let current = guide(&app).await["revision"].as_i64().unwrap();
        let draft = app
            .data_as(ZHEJIANG, UNPUBLISH, json!({ "e": current }))
            .await["unpublishGuide"]["revision"]
            .as_i64()
            .unwrap();
        refused(&app, draft, "CHANNEL", "ONLINE").await;
        let trail = app
        .data_as(
            As::National,
            "{ auditLog(filter: { targetKey: \"330000/SI-BASELINE-TEST/2000-01-01\" }, first: 20) {
                edges { node { action targetKind targetRegion } } } }",
            json!({}),
        )
        .await;
        let mut actions: Vec<&str> = trail["auditLog"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                assert_eq!(e["node"]["targetKind"], "BASELINE_EXEMPTION");
                assert_eq!(e["node"]["targetRegion"], "100000");
                e["node"]["action"].as_str().unwrap()
            })
            .collect();
        actions.sort_unstable();
        assert_eq!(
            actions,
            ["GRANT_BASELINE_EXEMPTION", "REVOKE_BASELINE_EXEMPTION"]
        );
    }
);

storage_test!(rows_that_arrived_by_import_are_still_reported, |app| {
    baseline_matter(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("guides.json");
    std::fs::write(
        &file,
        json!({ "guides": [{
            "region": "320000", "matter": MATTER, "timeLimitDays": 30, "fee": 0,
            "materials": ["居民身份证"], "channels": ["COUNTER", "ONLINE"], "status": "PUBLISHED"
        }] })
        .to_string(),
    )
    .unwrap();
    let (ok, out) = app.import(&file);
    assert!(ok, "{out}");
    app.sees_latest_commit().await;
    let ours = our_violations(
        &app,
        "320000",
        "matter rule baseline message exemption { id }",
    )
    .await;
    assert_eq!(
        ours,
        [
            json!({ "matter": MATTER, "rule": "TIME_LIMIT", "baseline": "15",
            "message": "time limit 30 working days exceeds the baseline's 15", "exemption": null })
        ]
    );
});

/// Runs `concord sync` into the province node `b` (Jiangsu's) from `a`,
/// and waits until `b` sees it.
async fn sync(b: &TestApp, a: &TestApp) {
    let synced = std::process::Command::new(env!("CARGO_BIN_EXE_concord"))
        .args(["sync", "--database", &b.database_url])
        .args(["--peer", &a.endpoint()])
        .args(["--token", &token(As::Sync).unwrap()])
        .env("CONCORD__NODE__REGION", "320000")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run concord sync");
    assert!(synced.status.success(), "{synced:?}");
    b.sees_latest_commit().await;
}

async fn exemptions(app: &TestApp) -> Value {
    app.data(
        "{ baselineExemptions(matter: \"SI-PENSION-TRANSFER\") { id region rationale validFrom validUntil revision revokedAt } }",
        json!({}),
    )
    .await["baselineExemptions"]
        .clone()
}

#[tokio::test]
async fn an_exemption_replicates_and_belongs_to_the_hub() {
    let a = TestApp::spawn(Backend::Sqlite).await.expect("hub");
    let b = jiangsu_node(second_backend()).await;

    let granted = a
        .data_as(
            As::National,
            GRANT,
            json!({ "r": "320000", "m": "SI-PENSION-TRANSFER", "from": "2026-01-01", "until": "2026-12-31" }),
        )
        .await;
    let id = granted["grantBaselineExemption"]["id"].clone();
    sync(&b, &a).await;
    let replicated = exemptions(&b).await;
    assert_eq!(replicated, exemptions(&a).await);
    assert_eq!(replicated[0]["id"], id);
    assert_eq!(replicated[0]["revision"], 1);

    // The hub owns it: a province node's NATIONAL_ADMIN token cannot change it.
    let body = b
        .graphql_as(As::National, REVOKE, json!({ "id": id, "e": 1 }))
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");

    a.data_as(As::National, REVOKE, json!({ "id": id, "e": 1 }))
        .await;
    sync(&b, &a).await;
    // The same version on both; the time as each database keeps it (PostgreSQL
    // to the microsecond).
    let mut revoked = exemptions(&b).await;
    let mut hub = exemptions(&a).await;
    assert!(revoked[0]["revokedAt"].is_string());
    revoked[0]["revokedAt"].take();
    hub[0]["revokedAt"].take();
    assert_eq!(revoked, hub);
    assert_eq!(revoked[0]["revision"], 2);

    // A procedure saved as a draft leaves peers as a retraction; published,
    // it comes back.
    let read = "{ guide(region: \"330000\", matter: \"SI-CARD-APPLICATION\") { procedure { revision status } } }";
    let seeded =
        a.data_as(As::National, read, json!({})).await["guide"]["procedure"]["revision"].clone();
    let draft = a
        .data_as(
            As::National,
            SAVE_PROCEDURE,
            json!({ "steps": steps(&[1]), "e": seeded }),
        )
        .await["saveProcedure"]["revision"]
        .clone();
    sync(&b, &a).await;
    let peer = b.data_as(As::National, read, json!({})).await;
    assert_eq!(peer["guide"]["procedure"], Value::Null, "{peer}");
    a.data_as(As::National, PUBLISH_PROCEDURE, json!({ "e": draft }))
        .await;
    sync(&b, &a).await;
    let peer = b.data(read, json!({})).await;
    assert_eq!(
        peer["guide"]["procedure"],
        json!({ "revision": draft.as_i64().unwrap() + 1, "status": "PUBLISHED" })
    );
}

const SAVE_PROCEDURE: &str = "mutation($steps: [ProcedureStepInput!]!, $e: Int) {
    saveProcedure(input: { region: \"330000\", matter: \"SI-CARD-APPLICATION\", steps: $steps, expectedRevision: $e }) {
        revision status totalTimeLimitDays } }";
const PUBLISH_PROCEDURE: &str = "mutation($e: Int!) {
    publishProcedure(region: \"330000\", matter: \"SI-CARD-APPLICATION\", expectedRevision: $e) { revision status } }";
const READ_PROCEDURE: &str = "{ guide(region: \"330000\", matter: \"SI-CARD-APPLICATION\") {
    timeLimitDays procedure { revision status totalTimeLimitDays revisions { revision content } } } }";

fn steps(days: &[i64]) -> Value {
    Value::Array(
        days.iter()
            .enumerate()
            .map(
                |(i, d)| json!({ "name": format!("步骤{i}"), "actor": "窗口", "timeLimitDays": d }),
            )
            .collect(),
    )
}

storage_test!(a_procedure_is_drafted_then_published, |app| {
    let seeded = app.data_as(ZHEJIANG, READ_PROCEDURE, json!({})).await["guide"].clone();
    assert_eq!(
        seeded["procedure"]["status"], "PUBLISHED",
        "seeded procedures are public"
    );
    let limit = seeded["timeLimitDays"].as_i64().unwrap();
    let revision = seeded["procedure"]["revision"].as_i64().unwrap();

    // A draft may take longer than the guide allows, and only its region sees it.
    let draft = app
        .data_as(
            ZHEJIANG,
            SAVE_PROCEDURE,
            json!({ "steps": steps(&[1, limit]), "e": revision }),
        )
        .await["saveProcedure"]
        .clone();
    assert_eq!(
        draft,
        json!({ "revision": revision + 1, "status": "DRAFT", "totalTimeLimitDays": limit + 1 })
    );
    let public = app.data(READ_PROCEDURE, json!({})).await;
    assert_eq!(public["guide"]["procedure"], Value::Null, "{public}");
    let other = app
        .data_as(As::Province("320000"), READ_PROCEDURE, json!({}))
        .await;
    assert_eq!(other["guide"]["procedure"], Value::Null, "{other}");

    // Publishing it is refused, naming both figures, and changes nothing.
    let audit = app.audit_count().await;
    let body = app
        .graphql_as(ZHEJIANG, PUBLISH_PROCEDURE, json!({ "e": revision + 1 }))
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("{} working days", limit + 1))
            && message.contains(&format!("guide's {limit}")),
        "{message}"
    );
    assert_eq!(app.audit_count().await, audit);

    // Shortened, it publishes, and everyone sees it with its history.
    let fits = app
        .data_as(
            ZHEJIANG,
            SAVE_PROCEDURE,
            json!({ "steps": steps(&[1, limit - 1]), "e": revision + 1 }),
        )
        .await["saveProcedure"]["revision"]
        .as_i64()
        .unwrap();
    let published = app
        .data_as(ZHEJIANG, PUBLISH_PROCEDURE, json!({ "e": fits }))
        .await;
    assert_eq!(
        published["publishProcedure"],
        json!({ "revision": fits + 1, "status": "PUBLISHED" })
    );
    let public = app.data(READ_PROCEDURE, json!({})).await["guide"]["procedure"].clone();
    assert_eq!(public["status"], "PUBLISHED");
    assert_eq!(public["totalTimeLimitDays"], limit);
    let statuses: Vec<&Value> = public["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["content"]["status"])
        .collect();
    assert_eq!(
        statuses,
        [
            &json!("PUBLISHED"),
            &json!("DRAFT"),
            &json!("DRAFT"),
            &json!("PUBLISHED")
        ]
    );

    // Only from a published guide.
    let guide = app
        .data_as(
            ZHEJIANG,
            "{ guide(region: \"330000\", matter: \"SI-CARD-APPLICATION\") { revision } }",
            json!({}),
        )
        .await["guide"]["revision"]
        .clone();
    app.data_as(
        ZHEJIANG,
        "mutation($e: Int!) { unpublishGuide(region: \"330000\", matter: \"SI-CARD-APPLICATION\", expectedRevision: $e) { revision } }",
        json!({ "e": guide }),
    )
    .await;
    let again = app
        .data_as(
            ZHEJIANG,
            SAVE_PROCEDURE,
            json!({ "steps": steps(&[1]), "e": fits + 1 }),
        )
        .await["saveProcedure"]["revision"]
        .clone();
    let body = app
        .graphql_as(ZHEJIANG, PUBLISH_PROCEDURE, json!({ "e": again }))
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("publish it first"),
        "{body}"
    );
});

/// `region`'s baseline violations of the test's matter, with `fields`.
async fn our_violations(app: &TestApp, region: &str, fields: &str) -> Vec<Value> {
    let report = app
        .data(
            &format!("{{ baselineViolations(region: \"{region}\") {{ {fields} }} }}"),
            json!({}),
        )
        .await;
    report["baselineViolations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["matter"] == MATTER)
        .cloned()
        .collect()
}
