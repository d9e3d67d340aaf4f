//! Served groups: the catalogue, national items' and matters' lists,
//! coverage and equalization restricted to one group, and replication.

use serde_json::{Value, json};

use crate::helpers::{As, Backend, TestApp, code, error_field, jiangsu_node, storage_test, token};

/// The regions the illustrative data gives a guide and a procedure for
/// every matter: zone members and pilot provinces.
const SEEDED: [&str; 16] = [
    "110000", "120000", "130000", "220000", "310000", "320000", "330000", "340000", "420000",
    "440000", "460000", "500000", "510000", "530000", "810000", "820000",
];

/// The seed's matters under the illustrative item 劳动人事争议调解仲裁,
/// whose illustrative groups are DISPUTE_PARTIES only.
const DISPUTE_MATTERS: [&str; 3] = [
    "LR-ARBITRATION-APPLICATION",
    "LR-ARBITRATION-DECISION",
    "LR-DISPUTE-MEDIATION",
];

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

storage_test!(the_catalogue_of_groups_and_the_lists_that_use_it, |app| {
    let data = app
        .data(
            "{ servedGroups { code nameZh nameEn }
               nationalItem(edition: 2023, number: 8) { nameZh servedGroup servedGroups { code nameZh } }
               matter(code: \"LR-DISPUTE-MEDIATION\") { servedGroups { code } servedGroupsInherited } }",
            json!({}),
        )
        .await;
    let groups = data["servedGroups"].as_array().unwrap();
    assert_eq!(groups.len(), 15);
    assert_eq!(
        groups[1],
        json!({ "code": "REGISTERED_UNEMPLOYED", "nameZh": "登记失业人员", "nameEn": "Registered unemployed people" })
    );
    let item = &data["nationalItem"];
    assert_eq!(item["nameZh"], "劳动人事争议调解仲裁");
    assert_eq!(
        item["servedGroup"],
        Value::Null,
        "no official wording loaded"
    );
    assert_eq!(
        item["servedGroups"],
        json!([{ "code": "DISPUTE_PARTIES", "nameZh": "劳动人事争议当事人" }])
    );
    assert_eq!(
        data["matter"],
        json!({ "servedGroups": [{ "code": "DISPUTE_PARTIES" }], "servedGroupsInherited": true })
    );

    let refused = app
        .graphql_as(
            As::National,
            "mutation { saveMatter(input: { code: \"LR-TEST\", nameZh: \"测试\", category: \"LABOUR_RELATIONS\", servedGroups: [\"VETERANS\", \"NOBODY\"] }) { code } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused}");
    assert_eq!(error_field(&refused), "input.servedGroups[1]");
});

storage_test!(coverage_of_a_served_group_on_the_seed_data, |app| {
    let query = "{ all: coverage(servedGroup: \"DISPUTE_PARTIES\") {
            servedGroup total covered share missingRegions
            regions { region total covered coveredMatters missingMatters } }
        zj: coverage(region: \"330000\", servedGroup: \"DISPUTE_PARTIES\") {
            region servedGroup total covered coveredMatters missingMatters } }";
    let data = app.data(query, json!({})).await;
    let all = &data["all"];
    assert_eq!(all["servedGroup"], "DISPUTE_PARTIES");
    // Every region is counted; the sixteen seeded ones have all three matters.
    assert_eq!(all["total"], 33);
    assert_eq!(all["covered"], 16);
    let missing = strings(&all["missingRegions"]);
    assert_eq!(missing.len(), 17);
    assert!(SEEDED.iter().all(|r| !missing.contains(&(*r).to_owned())));
    let regions = all["regions"].as_array().unwrap();
    assert_eq!(regions.len(), 33);
    for region in regions {
        let code = region["region"].as_str().unwrap();
        assert_eq!(region["total"], 3, "{region}");
        if SEEDED.contains(&code) {
            assert_eq!(strings(&region["coveredMatters"]), DISPUTE_MATTERS);
            assert_eq!(region["missingMatters"], json!([]));
        } else {
            assert_eq!(region["covered"], 0, "{region}");
            assert_eq!(strings(&region["missingMatters"]), DISPUTE_MATTERS);
        }
    }
    assert_eq!(
        data["zj"],
        json!({ "region": "330000", "servedGroup": "DISPUTE_PARTIES", "total": 3, "covered": 3,
                "coveredMatters": DISPUTE_MATTERS, "missingMatters": [] })
    );

    // A matter that sets its own group counts for that group at once: the
    // cached answers read the catalogue, which the mutation changed.
    app.data_as(
        As::National,
        "mutation { saveMatter(input: { code: \"LR-TEST-GROUP\", nameZh: \"测试事项\", category: \"LABOUR_RELATIONS\", servedGroups: [\"DISPUTE_PARTIES\"] }) { code servedGroupsInherited } }",
        json!({}),
    )
    .await;
    let after = app.data(query, json!({})).await;
    assert_eq!(after["zj"]["total"], 4);
    assert_eq!(after["zj"]["covered"], 3);
    assert_eq!(after["zj"]["missingMatters"], json!(["LR-TEST-GROUP"]));
    assert_eq!(
        after["all"]["covered"], 0,
        "no region has the new matter yet"
    );

    let both = app
        .graphql(
            "{ coverage(matter: \"LR-DISPUTE-MEDIATION\", servedGroup: \"DISPUTE_PARTIES\") { total } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&both), "BAD_USER_INPUT");
    let unknown = app
        .graphql(
            "{ coverage(servedGroup: \"PENSIONERS\") { total } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&unknown), "BAD_USER_INPUT");
    assert_eq!(error_field(&unknown), "servedGroup");
});

storage_test!(equalization_of_a_served_group_on_the_seed_data, |app| {
    let data = app
        .data(
            "{ equalization(metric: TIME_LIMIT, zone: \"YRD\", servedGroup: \"DISPUTE_PARTIES\") {
                 servedGroup coefficientOfVariation mean values { region value } }
               other: equalization(metric: TIME_LIMIT, zone: \"YRD\", servedGroup: \"DISPUTE_PARTIES\", matter: \"SI-CARD-APPLICATION\") {
                 coefficientOfVariation values { region } }
               q1: equalization(metric: SATISFACTION, zone: \"YRD\", period: \"2025-Q1\", servedGroup: \"DISPUTE_PARTIES\") {
                 values { region value } } }",
            json!({}),
        )
        .await;
    // By hand: each YRD member's mean time limit over the group's three
    // matters, then their coefficient of variation.
    let mut means = Vec::new();
    for region in ["310000", "320000", "330000", "340000"] {
        let mut days = Vec::new();
        for matter in DISPUTE_MATTERS {
            let guide = app
                .data(
                    "query($r: String!, $m: String!) { guide(region: $r, matter: $m) { timeLimitDays } }",
                    json!({ "r": region, "m": matter }),
                )
                .await;
            days.push(guide["guide"]["timeLimitDays"].as_f64().unwrap());
        }
        means.push((region, days.iter().sum::<f64>() / 3.0));
    }
    let equalization = &data["equalization"];
    assert_eq!(equalization["servedGroup"], "DISPUTE_PARTIES");
    let values: Vec<(String, f64)> = equalization["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["region"].as_str().unwrap().to_owned(),
                v["value"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(values.len(), 4);
    for ((region, value), (expected_region, expected)) in values.iter().zip(&means) {
        assert_eq!(region, expected_region);
        assert!(
            (value - expected).abs() < 1e-9,
            "{region}: {value} vs {expected}"
        );
    }
    let numbers: Vec<f64> = means.iter().map(|(_, m)| *m).collect();
    let mean = numbers.iter().sum::<f64>() / 4.0;
    let sd = (numbers.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / 4.0).sqrt();
    let reported = equalization["coefficientOfVariation"].as_f64().unwrap();
    assert!(
        (reported - sd / mean).abs() < 1e-9,
        "{reported} vs {}",
        sd / mean
    );
    assert!((equalization["mean"].as_f64().unwrap() - mean).abs() < 1e-9);

    // A matter outside the group leaves nothing to compare.
    assert_eq!(data["other"]["values"], json!([]));
    assert_eq!(data["other"]["coefficientOfVariation"], Value::Null);
    // Evaluations are restricted the same way: the satisfaction of the
    // group's matters only.
    let mut satisfaction = Vec::new();
    for matter in DISPUTE_MATTERS {
        let rows = app
            .data(
                "query($m: String!) { evaluations(filter: { region: \"330000\", matter: $m, period: \"2025-Q1\" }, first: 10) { edges { node { satisfaction } } } }",
                json!({ "m": matter }),
            )
            .await;
        for edge in rows["evaluations"]["edges"].as_array().unwrap() {
            satisfaction.push(edge["node"]["satisfaction"].as_f64().unwrap());
        }
    }
    let expected = satisfaction.iter().sum::<f64>() / satisfaction.len() as f64;
    let zj = data["q1"]["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["region"] == "330000")
        .unwrap()["value"]
        .as_f64()
        .unwrap();
    assert!((zj - expected).abs() < 1e-9, "{zj} vs {expected}");
});

/// Runs `concord sync` into B's database as Jiangsu's node (so that the
/// nation's rows are replicas there, not its own), and waits until B's
/// server sees what it committed.
async fn sync(b: &TestApp, a: &TestApp) -> (bool, String) {
    let token = token(As::Sync).unwrap();
    let peer = a.endpoint();
    let database = b.database_url.clone();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_concord"))
            .args([
                "sync",
                "--database",
                &database,
                "--peer",
                &peer,
                "--token",
                &token,
            ])
            .env("CONCORD__NODE__REGION", "320000")
            .env("RUST_LOG", "warn")
            .output()
            .expect("run concord")
    })
    .await
    .expect("the concord run");
    b.sees_latest_commit().await;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[tokio::test]
async fn national_items_and_matters_replicate_with_their_served_groups() {
    let a = TestApp::spawn(Backend::Sqlite).await.expect("node A");
    let b = jiangsu_node(Backend::Sqlite).await;
    a.data_as(
        As::National,
        "mutation { saveNationalItem(input: { edition: 2023, number: 8, nameZh: \"劳动人事争议调解仲裁\", category: \"LABOUR_RELATIONS\",
            servedGroup: \"劳动人事争议当事人\", servedGroups: [\"DISPUTE_PARTIES\", \"EMPLOYERS\"], expectedRevision: 1 }) { revision } }",
        json!({}),
    )
    .await;
    a.data_as(
        As::National,
        "mutation { saveMatter(input: { code: \"LR-SYNC-GROUP\", nameZh: \"同步测试\", category: \"LABOUR_RELATIONS\",
            nationalEdition: 2023, nationalNumber: 8, servedGroups: [\"VETERANS\"] }) { code } }",
        json!({}),
    )
    .await;
    let (ok, out) = sync(&b, &a).await;
    assert!(ok, "{out}");
    let read = "{ nationalItem(edition: 2023, number: 8) { revision illustrative servedGroup servedGroups { code } }
                 matter(code: \"LR-SYNC-GROUP\") { servedGroups { code } servedGroupsInherited nationalItem { number } } }";
    let on_a = a.data(read, json!({})).await;
    let on_b = b.data(read, json!({})).await;
    assert_eq!(on_b, on_a);
    assert_eq!(
        on_b["nationalItem"]["servedGroups"],
        json!([{ "code": "DISPUTE_PARTIES" }, { "code": "EMPLOYERS" }])
    );
    assert_eq!(
        on_b["matter"]["servedGroups"],
        json!([{ "code": "VETERANS" }])
    );
    // Replaying changes nothing.
    let (ok, out) = sync(&b, &a).await;
    assert!(ok, "{out}");
    assert_eq!(b.data(read, json!({})).await, on_a);
}
