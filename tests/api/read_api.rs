use serde_json::json;

use crate::helpers::storage_test;

storage_test!(regions_zones_and_members, |app| {
    let data = app
        .data(
            "{ regions { code nameEn kind pilot zones { code } } }",
            json!({}),
        )
        .await;
    let regions = data["regions"].as_array().unwrap();
    assert_eq!(regions.len(), 33);
    let zhejiang = regions.iter().find(|r| r["code"] == "330000").unwrap();
    assert_eq!(zhejiang["nameEn"], "Zhejiang");
    assert_eq!(zhejiang["pilot"], true);
    assert_eq!(zhejiang["zones"], json!([{ "code": "YRD" }]));
    let hk = regions.iter().find(|r| r["code"] == "810000").unwrap();
    assert_eq!(hk["kind"], "SAR");
    assert_eq!(regions.iter().filter(|r| r["pilot"] == true).count(), 7);

    let data = app
        .data(
            r#"{ zone(code: "YRD") { nameZh members { code } } }"#,
            json!({}),
        )
        .await;
    let members: Vec<&str> = data["zone"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["code"].as_str().unwrap())
        .collect();
    assert_eq!(members, ["310000", "320000", "330000", "340000"]);
    assert_eq!(data["zone"]["nameZh"], "长三角");

    let data = app
        .data("{ zones { code members { code } } }", json!({}))
        .await;
    let sizes: Vec<usize> = data["zones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| z["members"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [2, 3, 3, 4], "CCEC, GBA, JJJ, YRD");

    let data = app
        .data(r#"{ region(code: "350100") { code } }"#, json!({}))
        .await;
    assert!(data.is_null() || data["region"].is_null());
});

storage_test!(every_zone_member_has_published_guides, |app| {
    let data = app
        .data(
            "{ zones { code members { code } } matters(first: 100) { totalCount } }",
            json!({}),
        )
        .await;
    let matters = data["matters"]["totalCount"].as_i64().unwrap();
    assert!(matters >= 24, "{matters} matters");
    for zone in data["zones"].as_array().unwrap() {
        for member in zone["members"].as_array().unwrap() {
            let guides = app
                .data(
                    "query($r: String!) { guides(filter: { region: $r, status: PUBLISHED }, first: 0) { totalCount } }",
                    json!({ "r": member["code"] }),
                )
                .await;
            assert_eq!(
                guides["guides"]["totalCount"].as_i64().unwrap(),
                matters,
                "{}",
                member["code"]
            );
        }
    }
});

storage_test!(a_guide_has_its_fields_and_procedure, |app| {
    let first = app
        .data(
            "{ matters(first: 1) { edges { node { code } } } }",
            json!({}),
        )
        .await;
    let matter = first["matters"]["edges"][0]["node"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let data = app
        .data(
            "query($m: String!) { guide(region: \"330000\", matter: $m) {
                region { code } matter { code category { code } } timeLimitDays fee feeFen
                materials channels status revision illustrative
                procedure { steps { position name actor timeLimitDays } totalTimeLimitDays }
            } }",
            json!({ "m": matter }),
        )
        .await;
    let guide = &data["guide"];
    assert_eq!(guide["region"]["code"], "330000");
    assert_eq!(guide["matter"]["code"], matter.as_str());
    assert_eq!(guide["status"], "PUBLISHED");
    assert_eq!(guide["revision"], 1);
    assert_eq!(guide["illustrative"], true);
    assert!(guide["timeLimitDays"].as_i64().unwrap() >= 1);
    assert!(!guide["materials"].as_array().unwrap().is_empty());
    assert!(!guide["channels"].as_array().unwrap().is_empty());
    let steps = guide["procedure"]["steps"].as_array().unwrap();
    assert!(!steps.is_empty());
    assert_eq!(steps[0]["position"], 1);
    assert!(
        guide["procedure"]["totalTimeLimitDays"].as_i64().unwrap()
            <= guide["timeLimitDays"].as_i64().unwrap()
    );
});

storage_test!(guides_differ_between_regions, |app| {
    let data = app
        .data("{ guides(filter: { zone: \"YRD\" }, first: 100) { totalCount edges { node { timeLimitDays materials channels } } } }", json!({}))
        .await;
    let nodes: Vec<_> = data["guides"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    let distinct: std::collections::HashSet<String> = nodes.iter().map(|n| n.to_string()).collect();
    assert!(
        distinct.len() > nodes.len() / 2,
        "illustrative guides are too uniform"
    );
});

storage_test!(connections_page_without_gaps_or_repeats, |app| {
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let total = loop {
        let data = app
            .data(
                "query($after: String) { guides(filter: { region: \"310000\" }, first: 7, after: $after) {
                    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { matter { code } } } } }",
                json!({ "after": after }),
            )
            .await;
        let page = &data["guides"];
        for edge in page["edges"].as_array().unwrap() {
            seen.push(edge["node"]["matter"]["code"].as_str().unwrap().to_owned());
        }
        if page["pageInfo"]["hasNextPage"] == false {
            break page["totalCount"].as_u64().unwrap();
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    };
    assert_eq!(seen.len() as u64, total);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted, seen,
        "pages are ordered by matter code with no repeats"
    );
});

storage_test!(standards_filter_by_level_text_and_matter, |app| {
    let data = app
        .data("{ standards(filter: { level: INDUSTRY }) { totalCount edges { node { code level status } } } }", json!({}))
        .await;
    assert_eq!(data["standards"]["totalCount"], 1);
    assert_eq!(
        data["standards"]["edges"][0]["node"]["code"],
        "LD/T 01-2020"
    );

    let data = app
        .data(
            "{ standards(filter: { text: \"UNEMPLOYMENT\" }) { edges { node { code titleEn } } } }",
            json!({}),
        )
        .await;
    let codes: Vec<&str> = data["standards"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"GB/T 31596.3-2023") && codes.contains(&"GB/T 33534"),
        "{codes:?}"
    );

    let data = app
        .data(
            "{ standards(filter: { text: \"社会保险\" }, first: 100) { totalCount } }",
            json!({}),
        )
        .await;
    assert!(data["standards"]["totalCount"].as_i64().unwrap() >= 4);

    let data = app
        .data("{ standards(filter: { region: \"510000\" }) { edges { node { code issuingRegion { code } effectiveOn } } } }", json!({}))
        .await;
    let node = &data["standards"]["edges"][0]["node"];
    assert_eq!(node["code"], "DB5108/T 54-2024");
    assert_eq!(node["effectiveOn"], "2024-09-20");

    let data = app
        .data(
            "{ standard(code: \"GB/T 33531-2017\") { matters { code } } }",
            json!({}),
        )
        .await;
    let matter = data["standard"]["matters"][0]["code"]
        .as_str()
        .expect("the standard governs a matter")
        .to_owned();
    let data = app
        .data(
            "query($m: String!) { standards(filter: { matter: $m }) { edges { node { code } } } }",
            json!({ "m": matter }),
        )
        .await;
    assert!(
        data["standards"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["node"]["code"] == "GB/T 33531-2017")
    );

    let data = app
        .data(
            "{ standards(filter: { text: \"100%_\" }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["standards"]["totalCount"], 0,
        "LIKE wildcards are taken literally"
    );
});

storage_test!(matters_filter_and_link_to_national_items, |app| {
    let data = app
        .data("{ matters(filter: { category: \"LABOUR_RELATIONS\" }, first: 100) { totalCount edges { node { code category { code } nationalItem { edition number illustrative } standards { code } } } } }", json!({}))
        .await;
    let edges = data["matters"]["edges"].as_array().unwrap();
    assert!(edges.len() >= 5);
    assert!(
        edges
            .iter()
            .all(|e| e["node"]["category"]["code"] == "LABOUR_RELATIONS")
    );
    assert!(
        edges
            .iter()
            .any(|e| e["node"]["nationalItem"]["edition"] == 2023)
    );

    let data = app.data("{ nationalItems(edition: 2021) { number nameZh illustrative servedGroup category { code } } nationalEditions { edition itemCount } }", json!({})).await;
    let items = data["nationalItems"].as_array().unwrap();
    assert_eq!(items.len(), 13);
    assert!(
        items
            .iter()
            .all(|i| i["illustrative"] == true && i["servedGroup"].is_null())
    );
    assert_eq!(
        data["nationalEditions"],
        json!([{ "edition": 2021, "itemCount": 80 }, { "edition": 2023, "itemCount": 81 }])
    );

    let data = app.data("{ categories { code } }", json!({})).await;
    assert_eq!(data["categories"].as_array().unwrap().len(), 4);
});

storage_test!(
    malformed_codes_are_bad_user_input_naming_the_argument,
    |app| {
        for (query, field) in [
            (r#"{ region(code: "33000") { code } }"#, "code"),
            (r#"{ standard(code: "DB33T") { code } }"#, "code"),
            (
                r#"{ guide(region: "330000", matter: "bad code") { fee } }"#,
                "matter",
            ),
            (
                r#"{ guides(filter: { zone: "yrd" }) { totalCount } }"#,
                "filter.zone",
            ),
            (r#"{ guides(first: 101) { totalCount } }"#, "first"),
            (r#"{ guides(after: "garbage") { totalCount } }"#, "after"),
        ] {
            let body = app.graphql(query, json!({})).await;
            let error = &body["errors"][0];
            assert_eq!(
                error["extensions"]["code"], "BAD_USER_INPUT",
                "{query}: {body}"
            );
            assert_eq!(error["extensions"]["field"], field, "{query}: {body}");
        }
        let body = app
            .graphql(r#"{ standard(code: "DB33T") { code } }"#, json!({}))
            .await;
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("DB33T")
        );
    }
);
