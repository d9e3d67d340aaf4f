use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::{As, Backend, TestApp, code, error_field, storage_test};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// 1 − (max − min) / max, as the README defines the time-limit and fee parts.
fn agreement(values: &[f64]) -> f64 {
    let max = values.iter().cloned().fold(f64::MIN, f64::max);
    let min = values.iter().cloned().fold(f64::MAX, f64::min);
    if values.len() < 2 || max == 0.0 {
        1.0
    } else {
        1.0 - (max - min) / max
    }
}

fn jaccard(sets: &[BTreeSet<String>]) -> f64 {
    let union: BTreeSet<&String> = sets.iter().flatten().collect();
    if union.is_empty() {
        return 1.0;
    }
    let common = union
        .iter()
        .filter(|item| sets.iter().all(|set| set.contains(**item)))
        .count();
    common as f64 / union.len() as f64
}

const ALIGNMENT: &str = "query($m: String!) { alignment(zone: \"YRD\", matter: $m) {
    members { region { code } guide { timeLimitDays feeFen materials channels } }
    missing { code } timeLimit { min max median } commonMaterials
    bestPractice { region { code } } score scoreParts { coverage timeLimit fee materials channels }
} }";

storage_test!(alignment_matches_the_readme_definition, |app| {
    let matter = "SI-PENSION-TRANSFER";
    let data = app.data(ALIGNMENT, json!({ "m": matter })).await;
    let alignment = &data["alignment"];
    let members = alignment["members"].as_array().unwrap();
    assert_eq!(members.len(), 4);
    let guides: Vec<&Value> = members
        .iter()
        .map(|m| &m["guide"])
        .filter(|g| !g.is_null())
        .collect();
    assert_eq!(guides.len(), 4, "every YRD member has a published guide");
    let days: Vec<f64> = guides
        .iter()
        .map(|g| g["timeLimitDays"].as_f64().unwrap())
        .collect();
    let fees: Vec<f64> = guides
        .iter()
        .map(|g| g["feeFen"].as_f64().unwrap())
        .collect();
    let set = |g: &Value, field: &str| -> BTreeSet<String> {
        g[field]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let materials: Vec<BTreeSet<String>> = guides.iter().map(|g| set(g, "materials")).collect();
    let channels: Vec<BTreeSet<String>> = guides.iter().map(|g| set(g, "channels")).collect();
    let expected =
        (agreement(&days) + agreement(&fees) + jaccard(&materials) + jaccard(&channels)) / 4.0;
    let score = alignment["score"].as_f64().unwrap();
    assert!(
        close(score, expected),
        "score {score} vs hand-computed {expected}"
    );
    assert!(close(
        alignment["scoreParts"]["timeLimit"].as_f64().unwrap(),
        agreement(&days)
    ));

    let min = days.iter().cloned().fold(f64::MAX, f64::min);
    assert_eq!(alignment["timeLimit"]["min"].as_f64().unwrap(), min);
    let best = members
        .iter()
        .filter(|m| m["guide"]["timeLimitDays"].as_f64() == Some(min))
        .min_by_key(|m| {
            (
                m["guide"]["materials"].as_array().unwrap().len(),
                m["guide"]["feeFen"].as_i64().unwrap(),
                m["region"]["code"].as_str().unwrap().to_owned(),
            )
        })
        .unwrap();
    assert_eq!(
        alignment["bestPractice"]["region"]["code"],
        best["region"]["code"]
    );
    let common: BTreeSet<String> = alignment["commonMaterials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let intersection = materials
        .iter()
        .skip(1)
        .fold(materials[0].clone(), |acc, s| {
            acc.intersection(s).cloned().collect()
        });
    assert_eq!(common, intersection);

    let region = members[0]["region"]["code"].as_str().unwrap().to_owned();
    let revision = app
        .data_as(As::National, "query($r: String!) { guide(region: $r, matter: \"SI-PENSION-TRANSFER\") { revision } }", json!({ "r": region }))
        .await["guide"]["revision"]
        .clone();
    app.data_as(
        As::National,
        "mutation($r: String!, $e: Int!) { unpublishGuide(region: $r, matter: \"SI-PENSION-TRANSFER\", expectedRevision: $e) { status } }",
        json!({ "r": region, "e": revision }),
    )
    .await;
    let data = app.data(ALIGNMENT, json!({ "m": matter })).await;
    assert_eq!(data["alignment"]["missing"], json!([{ "code": region }]));
    assert!(close(
        data["alignment"]["scoreParts"]["coverage"]
            .as_f64()
            .unwrap(),
        0.75
    ));
});

const PROPOSE: &str = "mutation($input: ProposeCollaborativeStandardInput!) { proposeCollaborativeStandard(input: $input) {
    code status adoptions { region decision } standard { level status issuingZone { code } } } }";
const DECIDE: &str = "mutation($p: String!, $d: AdoptionChoice!, $reason: String, $region: String, $e: Int!) {
    decideAdoption(proposal: $p, decision: $d, reason: $reason, region: $region, expectedRevision: $e) {
      status adoptions { region decision reason revision } } }";

fn proposal(code: &str) -> Value {
    json!({ "input": {
        "code": code, "zone": "YRD", "titleZh": "长三角招聘会服务规范（测试）",
        "matters": ["EMP-JOB-FAIR"], "maxTimeLimitDays": 5, "requiredChannels": ["ONLINE"],
    } })
}

storage_test!(
    a_collaborative_standard_comes_into_force_when_every_member_adopts,
    |app| {
        let proposed = app
            .data_as(As::Zone("YRD"), PROPOSE, proposal("DB31/T 310950-2026"))
            .await;
        let created = &proposed["proposeCollaborativeStandard"];
        assert_eq!(created["status"], "PROPOSED");
        assert_eq!(created["standard"]["level"], "REGIONAL");
        assert_eq!(created["standard"]["issuingZone"]["code"], "YRD");
        assert_eq!(created["adoptions"].as_array().unwrap().len(), 4);

        let other_zone = app
            .graphql_as(As::Zone("JJJ"), PROPOSE, proposal("DB31/T 310951-2026"))
            .await;
        assert_eq!(code(&other_zone), "FORBIDDEN");
        let for_another = app
            .graphql_as(
                As::Province("330000"),
                DECIDE,
                json!({ "e": 1, "p": "DB31/T 310950-2026", "d": "ADOPT", "region": "320000" }),
            )
            .await;
        assert_eq!(
            code(&for_another),
            "FORBIDDEN",
            "a member cannot adopt for another: {for_another}"
        );
        let no_reason = app
            .graphql_as(
                As::Province("330000"),
                DECIDE,
                json!({ "e": 1, "p": "DB31/T 310950-2026", "d": "REJECT" }),
            )
            .await;
        assert_eq!(code(&no_reason), "BAD_USER_INPUT");
        assert_eq!(error_field(&no_reason), "reason");

        for (i, region) in ["310000", "320000", "330000", "340000"]
            .into_iter()
            .enumerate()
        {
            let who = match region {
                "310000" => As::Province("310000"),
                "320000" => As::Province("320000"),
                "330000" => As::Province("330000"),
                _ => As::Province("340000"),
            };
            let decided = app
                .data_as(
                    who,
                    DECIDE,
                    json!({ "e": 1, "p": "DB31/T 310950-2026", "d": "ADOPT" }),
                )
                .await;
            let want = if i == 3 { "IN_FORCE" } else { "PROPOSED" };
            assert_eq!(decided["decideAdoption"]["status"], want, "after {region}");
            if i == 0 {
                let stale = app
                    .graphql_as(
                        As::Province("310000"),
                        DECIDE,
                        json!({ "e": 1, "p": "DB31/T 310950-2026", "d": "REJECT", "reason": "改主意" }),
                    )
                    .await;
                assert_eq!(
                    code(&stale),
                    "CONFLICT",
                    "decided at revision 1 already: {stale}"
                );
                assert_eq!(stale["errors"][0]["extensions"]["currentRevision"], 2);
            }
        }
        let standard = app
            .data(
                "{ standard(code: \"DB31/T 310950-2026\") { status } }",
                json!({}),
            )
            .await;
        assert_eq!(standard["standard"]["status"], "IN_FORCE");

        let compliance = app
        .data("{ compliance(proposal: \"DB31/T 310950-2026\") { region matter hasGuide compliant checks { target met } } }", json!({}))
        .await;
        let rows = compliance["compliance"].as_array().unwrap();
        assert_eq!(rows.len(), 4);
        let guides = app
        .data("{ guides(filter: { zone: \"YRD\", matter: \"EMP-JOB-FAIR\" }) { edges { node { region { code } timeLimitDays channels } } } }", json!({}))
        .await;
        for edge in guides["guides"]["edges"].as_array().unwrap() {
            let node = &edge["node"];
            let meets = node["timeLimitDays"].as_i64().unwrap() <= 5
                && node["channels"]
                    .as_array()
                    .unwrap()
                    .contains(&json!("ONLINE"));
            let row = rows
                .iter()
                .find(|r| r["region"] == node["region"]["code"])
                .unwrap();
            assert_eq!(row["compliant"], meets, "{row}");
        }
        let alignment = app
        .data("{ alignment(zone: \"YRD\", matter: \"EMP-JOB-FAIR\") { collaborativeStandard { code } compliance { region } } }", json!({}))
        .await;
        assert_eq!(
            alignment["alignment"]["collaborativeStandard"]["code"],
            "DB31/T 310950-2026"
        );
        assert_eq!(
            alignment["alignment"]["compliance"]
                .as_array()
                .unwrap()
                .len(),
            4
        );
    }
);

storage_test!(
    a_rejection_keeps_a_proposal_proposed_and_withdrawal_ends_it,
    |app| {
        app.data_as(As::Zone("YRD"), PROPOSE, proposal("DB31/T 310960-2026"))
            .await;
        let rejected = app
            .data_as(
                As::Province("340000"),
                DECIDE,
                json!({ "e": 1, "p": "DB31/T 310960-2026", "d": "REJECT", "reason": "系统改造未完成" }),
            )
            .await;
        for region in ["310000", "320000", "330000"] {
            let who = match region {
                "310000" => As::Province("310000"),
                "320000" => As::Province("320000"),
                _ => As::Province("330000"),
            };
            app.data_as(
                who,
                DECIDE,
                json!({ "e": 1, "p": "DB31/T 310960-2026", "d": "ADOPT" }),
            )
            .await;
        }
        let status = app.data("{ collaborativeStandard(code: \"DB31/T 310960-2026\") { status adoptions { region decision reason } } }", json!({})).await;
        assert_eq!(status["collaborativeStandard"]["status"], "PROPOSED");
        let anhui = &rejected["decideAdoption"]["adoptions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["region"] == "340000")
            .unwrap()
            .clone();
        assert_eq!(anhui["decision"], "REJECTED");
        assert_eq!(anhui["reason"], "系统改造未完成");

        let withdraw = "mutation($e: Int!) { withdrawCollaborativeStandard(proposal: \"DB31/T 310960-2026\", expectedRevision: $e) { status } }";
        let stale = app
            .graphql_as(As::Zone("YRD"), withdraw, json!({ "e": 2 }))
            .await;
        assert_eq!(code(&stale), "CONFLICT", "{stale}");
        let withdrawn = app
            .data_as(As::Zone("YRD"), withdraw, json!({ "e": 1 }))
            .await;
        assert_eq!(
            withdrawn["withdrawCollaborativeStandard"]["status"],
            "WITHDRAWN"
        );
        let late = app
            .graphql_as(
                As::Province("340000"),
                DECIDE,
                json!({ "e": 1, "p": "DB31/T 310960-2026", "d": "ADOPT" }),
            )
            .await;
        assert_eq!(
            code(&late),
            "BAD_USER_INPUT",
            "adopting a withdrawn proposal: {late}"
        );
    }
);

storage_test!(elevation_moves_only_along_its_workflow, |app| {
    app.data_as(
        As::Province("330000"),
        "mutation { createStandard(input: { code: \"DB33/T 9101-2025\", titleZh: \"就业援助服务规范\", level: LOCAL }) { code } }",
        json!({}),
    )
    .await;
    let propose = "mutation($who: String!) { proposeElevation(standard: \"DB33/T 9101-2025\", targetLevel: INDUSTRY, rationale: $who) { id status } }";
    let other = app
        .graphql_as(As::Province("320000"), propose, json!({ "who": "other" }))
        .await;
    assert_eq!(code(&other), "FORBIDDEN");
    let proposed = app
        .data_as(
            As::Province("330000"),
            propose,
            json!({ "who": "实践成熟" }),
        )
        .await;
    let id = proposed["proposeElevation"]["id"].clone();
    assert_eq!(proposed["proposeElevation"]["status"], "PROPOSED");
    let again = app
        .graphql_as(As::Province("330000"), propose, json!({ "who": "again" }))
        .await;
    assert_eq!(code(&again), "CONFLICT", "one open proposal per standard");

    let decide = "mutation($id: Int!, $d: ElevationStep!, $e: Int!, $code: String) { decideElevation(id: $id, decision: $d, expectedRevision: $e, code: $code) { status revision } }";
    let by_province = app
        .graphql_as(
            As::Province("330000"),
            decide,
            json!({ "id": id, "d": "REVIEW", "e": 1 }),
        )
        .await;
    assert_eq!(code(&by_province), "FORBIDDEN");
    let skip = app
        .graphql_as(
            As::National,
            decide,
            json!({ "id": id, "d": "ACCEPT", "e": 1, "code": "LD/T 9101-2026" }),
        )
        .await;
    assert_eq!(
        code(&skip),
        "BAD_USER_INPUT",
        "PROPOSED cannot be accepted before review"
    );
    for (e, step, status, code) in [
        (1, "REVIEW", "UNDER_REVIEW", None),
        (2, "ACCEPT", "ACCEPTED", Some("LD/T 9101-2026")),
    ] {
        let moved = app
            .data_as(
                As::National,
                decide,
                json!({ "id": id, "d": step, "e": e, "code": code }),
            )
            .await;
        assert_eq!(moved["decideElevation"]["status"], status);
        assert_eq!(moved["decideElevation"]["revision"], e + 1);
    }
    let stale = app
        .graphql_as(
            As::National,
            decide,
            json!({ "id": id, "d": "DECLINE", "e": 2 }),
        )
        .await;
    assert_eq!(code(&stale), "CONFLICT", "{stale}");
    let after = app
        .graphql_as(
            As::National,
            decide,
            json!({ "id": id, "d": "DECLINE", "e": 3 }),
        )
        .await;
    assert_eq!(code(&after), "BAD_USER_INPUT", "ACCEPTED is final");
});

storage_test!(
    coverage_equalization_and_baselines_agree_with_the_data,
    |app| {
        let data = app
        .data("{ matters(first: 100) { totalCount } coverage(region: \"330000\") { total covered share missingMatters } c: coverage(matter: \"SI-CARD-APPLICATION\") { total covered missingRegions } }", json!({}))
        .await;
        let matters = data["matters"]["totalCount"].as_i64().unwrap();
        assert_eq!(data["coverage"]["total"], matters);
        assert_eq!(data["coverage"]["covered"], matters);
        assert_eq!(data["c"]["total"], 33);
        assert_eq!(data["c"]["covered"], 16);
        assert!(
            !data["c"]["missingRegions"]
                .as_array()
                .unwrap()
                .contains(&json!("330000"))
        );

        let equalization = app
        .data("{ equalization(metric: TIME_LIMIT, zone: \"YRD\") { coefficientOfVariation mean values { region value } } }", json!({}))
        .await;
        let guides = app
        .data("{ guides(filter: { zone: \"YRD\" }, first: 100) { edges { node { region { code } timeLimitDays } } } g2: guides(filter: { zone: \"YRD\" }, first: 100, after: null) { totalCount } }", json!({}))
        .await;
        assert!(
            guides["g2"]["totalCount"].as_i64().unwrap() > 100,
            "more than one page of guides"
        );
        let mut per_region: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
        let mut after: Option<String> = None;
        loop {
            let page = app
            .data("query($a: String) { guides(filter: { zone: \"YRD\" }, first: 100, after: $a) { pageInfo { hasNextPage endCursor } edges { node { region { code } timeLimitDays } } } }", json!({ "a": after }))
            .await;
            for edge in page["guides"]["edges"].as_array().unwrap() {
                per_region
                    .entry(edge["node"]["region"]["code"].as_str().unwrap().to_owned())
                    .or_default()
                    .push(edge["node"]["timeLimitDays"].as_f64().unwrap());
            }
            if page["guides"]["pageInfo"]["hasNextPage"] == false {
                break;
            }
            after = page["guides"]["pageInfo"]["endCursor"]
                .as_str()
                .map(str::to_owned);
        }
        let means: Vec<f64> = per_region
            .values()
            .map(|v| v.iter().sum::<f64>() / v.len() as f64)
            .collect();
        let mean = means.iter().sum::<f64>() / means.len() as f64;
        let sd =
            (means.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / means.len() as f64).sqrt();
        let reported = equalization["equalization"]["coefficientOfVariation"]
            .as_f64()
            .unwrap();
        assert!(close(reported, sd / mean), "{reported} vs {}", sd / mean);
        assert_eq!(
            equalization["equalization"]["values"]
                .as_array()
                .unwrap()
                .len(),
            4
        );

        let satisfaction = app
            .graphql(
                "{ equalization(metric: SATISFACTION, zone: \"YRD\") { coefficientOfVariation } }",
                json!({}),
            )
            .await;
        assert_eq!(
            code(&satisfaction),
            "BAD_USER_INPUT",
            "an evaluated metric needs a period"
        );
        let periods = app
        .data("{ q1: equalization(metric: SATISFACTION, period: \"2025-Q1\") { values { region } } q4: equalization(metric: SATISFACTION, period: \"2025-Q4\") { values { region } } }", json!({}))
        .await;
        assert_eq!(periods["q1"]["values"].as_array().unwrap().len(), 16);
        assert_eq!(periods["q4"]["values"].as_array().unwrap().len(), 16);

        let violations = app
        .data("{ baselineViolations(zone: \"YRD\") { region matter rule nationalItem { maxTimeLimitDays requiredChannels } } }", json!({}))
        .await;
        let violations = violations["baselineViolations"].as_array().unwrap();
        assert!(
            !violations.is_empty(),
            "the illustrative data breaks some baselines"
        );
        for violation in violations {
            let guide = app
            .data("query($r: String!, $m: String!) { guide(region: $r, matter: $m) { timeLimitDays channels } }", json!({ "r": violation["region"], "m": violation["matter"] }))
            .await;
            match violation["rule"].as_str().unwrap() {
                "TIME_LIMIT" => assert!(
                    guide["guide"]["timeLimitDays"].as_i64()
                        > violation["nationalItem"]["maxTimeLimitDays"].as_i64()
                ),
                "CHANNEL" => assert!(
                    violation["nationalItem"]["requiredChannels"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|c| !guide["guide"]["channels"].as_array().unwrap().contains(c))
                ),
                other => panic!("unexpected rule {other}"),
            }
        }
    }
);

/// The zone matrix costs the same statements whatever the number of matters.
async fn zone_matrix_statements(backend: Backend) {
    let app = TestApp::spawn(backend)
        .await
        .expect("a test database (PostgreSQL: CONCORD_TEST_POSTGRES_URL)");
    const MATRIX: &str = "{ zoneAlignment(zone: \"YRD\") { averageScore members { code } matters { matter { code category { code } } score bestPractice cells { region hasGuide timeLimitDays fee channels } } } }";
    // The server keeps the reference tables after their first read.
    app.data("{ zone(code: \"YRD\") { members { code } } }", json!({}))
        .await;
    let before = app.statements().await;
    let first = app.data(MATRIX, json!({})).await;
    let cost = app.statements().await - before;
    let rows = first["zoneAlignment"]["matters"].as_array().unwrap().len();
    for i in 0..5 {
        app.data_as(
            As::National,
            "mutation($c: String!) { saveMatter(input: { code: $c, nameZh: \"新增事项\", category: \"SKILLS\" }) { code } }",
            json!({ "c": format!("SKL-NEW-{i}") }),
        )
        .await;
        app.data_as(
            As::Province("330000"),
            "mutation($m: String!) { saveGuide(input: { region: \"330000\", matter: $m, timeLimitDays: 5, fee: \"0\", materials: [\"身份证\"], channels: [ONLINE] }) { revision } }",
            json!({ "m": format!("SKL-NEW-{i}") }),
        )
        .await;
    }
    let before = app.statements().await;
    let second = app.data(MATRIX, json!({})).await;
    let cost_after = app.statements().await - before;
    assert_eq!(
        second["zoneAlignment"]["matters"].as_array().unwrap().len(),
        rows + 5
    );
    assert_eq!(
        cost,
        cost_after,
        "statements for {rows} vs {} matters",
        rows + 5
    );
    assert!(cost <= 8, "{cost} statements");
}

#[tokio::test]
async fn zone_matrix_statements_are_bounded_sqlite() {
    zone_matrix_statements(Backend::Sqlite).await;
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set CONCORD_TEST_POSTGRES_URL"
)]
async fn zone_matrix_statements_are_bounded_postgres() {
    zone_matrix_statements(Backend::Postgres).await;
}

/// With the response cache off, a zone's matrix is still kept between
/// requests, and a member's new guide reaches it at once.
async fn zone_matrix_is_kept_until_a_member_changes(backend: Backend) {
    let app = TestApp::spawn_with(backend, |settings| {
        settings.server.response_cache_mb = 0;
    })
    .await
    .expect("a test database (PostgreSQL: CONCORD_TEST_POSTGRES_URL)");
    const MATRIX: &str = "{ zoneAlignment(zone: \"YRD\") { matters { matter { code } score cells { region timeLimitDays } } } }";
    let first = app.data(MATRIX, json!({})).await;
    let before = app.statements().await;
    let again = app.data(MATRIX, json!({})).await;
    assert_eq!(again, first);
    assert_eq!(
        app.statements().await - before,
        0,
        "the kept matrix answers"
    );

    let matter = "SI-CARD-APPLICATION";
    let revision = app
        .data(
            "query($m: String!) { guide(region: \"320000\", matter: $m) { revision } }",
            json!({ "m": matter }),
        )
        .await["guide"]["revision"]
        .as_i64()
        .unwrap();
    app.data_as(
        As::Province("320000"),
        "mutation($m: String!, $e: Int!) { saveGuide(input: { region: \"320000\", matter: $m, timeLimitDays: 19, fee: \"0\", materials: [\"居民身份证\"], channels: [ONLINE], expectedRevision: $e }) { revision } }",
        json!({ "m": matter, "e": revision }),
    )
    .await;
    app.data_as(
        As::Province("320000"),
        "mutation($m: String!, $e: Int!) { publishGuide(region: \"320000\", matter: $m, expectedRevision: $e) { revision } }",
        json!({ "m": matter, "e": revision + 1 }),
    )
    .await;
    let after = app.data(MATRIX, json!({})).await;
    let row = after["zoneAlignment"]["matters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["matter"]["code"] == matter)
        .unwrap();
    let jiangsu = row["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|cell| cell["region"] == "320000")
        .unwrap();
    assert_eq!(jiangsu["timeLimitDays"], 19);
}

#[tokio::test]
async fn zone_matrix_is_kept_until_a_member_changes_sqlite() {
    zone_matrix_is_kept_until_a_member_changes(Backend::Sqlite).await;
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set CONCORD_TEST_POSTGRES_URL"
)]
async fn zone_matrix_is_kept_until_a_member_changes_postgres() {
    zone_matrix_is_kept_until_a_member_changes(Backend::Postgres).await;
}
