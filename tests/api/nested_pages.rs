//! Guides as nested connections of regions, zones and matters: the same
//! pages as the top-level `guides` list, for any number of parents at a
//! constant number of statements.

use serde_json::{Value, json};

use crate::helpers::{As, TestApp, storage_test};

const PAGE: &str = "totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { region { code } matter { code } status timeLimitDays } }";

/// The top-level list's page for `filter`.
async fn top_level(app: &TestApp, who: As, filter: Value, first: i64, after: Value) -> Value {
    let query = format!(
        "query($f: GuideFilterInput, $n: Int, $a: String) {{ guides(filter: $f, first: $n, after: $a) {{ {PAGE} }} }}"
    );
    app.data_as(who, &query, json!({ "f": filter, "n": first, "a": after }))
        .await["guides"]
        .clone()
}

storage_test!(
    a_zones_members_list_the_same_pages_as_the_top_level,
    |app| {
        let query = format!(
            "query($n: Int, $a: String) {{ zone(code: \"YRD\") {{ members {{ code guides(first: $n, after: $a) {{ {PAGE} }} }} }} }}"
        );
        let first = app.data(&query, json!({ "n": 3 })).await;
        let members = first["zone"]["members"].as_array().unwrap().clone();
        assert!(members.len() >= 3, "{first}");
        for member in &members {
            let region = member["code"].clone();
            let expected = top_level(
                &app,
                As::Anonymous,
                json!({ "region": region }),
                3,
                Value::Null,
            )
            .await;
            assert_eq!(member["guides"], expected, "first page of {region}");
            assert!(expected["totalCount"].as_i64().unwrap() > 3);
        }
        // Every member's page starts after the same cursor: the one a client
        // got from the first member.
        let cursor = members[0]["guides"]["pageInfo"]["endCursor"].clone();
        let second = app.data(&query, json!({ "n": 2, "a": cursor })).await;
        for member in second["zone"]["members"].as_array().unwrap() {
            let region = member["code"].clone();
            let expected = top_level(
                &app,
                As::Anonymous,
                json!({ "region": region }),
                2,
                cursor.clone(),
            )
            .await;
            assert_eq!(member["guides"], expected, "page after a cursor, {region}");
        }
    }
);

storage_test!(zone_and_matter_pages_match_their_filters, |app| {
    let zone = app
        .data(
            &format!("{{ zone(code: \"GBA\") {{ guides(first: 7) {{ {PAGE} }} }} }}"),
            json!({}),
        )
        .await;
    let expected = top_level(
        &app,
        As::Anonymous,
        json!({ "zone": "GBA" }),
        7,
        Value::Null,
    )
    .await;
    assert_eq!(zone["zone"]["guides"], expected);

    let matter = app
        .data(
            &format!("{{ matter(code: \"SI-CARD-APPLICATION\") {{ guides(first: 50, filter: {{ status: PUBLISHED }}) {{ {PAGE} }} }} }}"),
            json!({}),
        )
        .await;
    let expected = top_level(
        &app,
        As::Anonymous,
        json!({ "matter": "SI-CARD-APPLICATION", "status": "PUBLISHED" }),
        50,
        Value::Null,
    )
    .await;
    assert_eq!(matter["matter"]["guides"], expected);
    assert!(expected["totalCount"].as_i64().unwrap() > 3, "{expected}");
});

storage_test!(a_nested_page_shows_drafts_only_to_their_owner, |app| {
    let save = "mutation { saveGuide(input: { region: \"330000\", matter: \"SI-CARD-APPLICATION\",
        timeLimitDays: 15, fee: \"0\", materials: [\"居民身份证\"], channels: [ONLINE], expectedRevision: 1 }) { status } }";
    let saved = app.data_as(As::Province("330000"), save, json!({})).await;
    assert_eq!(saved["saveGuide"]["status"], "DRAFT");
    let query = format!(
        "{{ region(code: \"330000\") {{ guides(first: 100, filter: {{ matter: \"SI-CARD-APPLICATION\" }}) {{ {PAGE} }} }} }}"
    );
    let own = app.data_as(As::Province("330000"), &query, json!({})).await;
    assert_eq!(own["region"]["guides"]["totalCount"], 1);
    assert_eq!(
        own["region"]["guides"]["edges"][0]["node"]["status"],
        "DRAFT"
    );
    for who in [As::Anonymous, As::Province("320000")] {
        let other = app.data_as(who, &query, json!({})).await;
        assert_eq!(
            other["region"]["guides"]["totalCount"], 0,
            "{who:?}: {other}"
        );
        assert_eq!(other["region"]["guides"]["edges"], json!([]));
    }
});

storage_test!(
    nested_pages_cost_the_same_statements_for_any_number_of_parents,
    |app| {
        let nested = |zones: &str| {
            format!(
                "{{ {zones} {{ members {{ code guides(first: 20) {{ totalCount edges {{ node {{
                timeLimitDays materials matter {{ code category {{ code }} }}
                procedure {{ steps {{ name }} }} }} }} }} }} }} }}"
            )
        };
        // The first request also reads the reference tables and the
        // matters of these pages, which the server then keeps; measure the
        // requests after it. (A page that reads its matters reads them in
        // one statement: `statements_do_not_grow_with_rows`.)
        app.data(
            "{ zones { members { guides(first: 20) { edges { node { matter { code } } } } } } }",
            json!({}),
        )
        .await;
        let mut costs = Vec::new();
        for zones in ["zone(code: \"CCEC\")", "zones"] {
            let before = app.statements().await;
            let data = app.data(&nested(zones), json!({})).await;
            costs.push((app.statements().await - before, data.to_string().len()));
        }
        assert!(
            costs[1].1 > costs[0].1 * 3,
            "every zone's members: {costs:?}"
        );
        assert_eq!(costs[0].0, costs[1].0, "{costs:?}");
    }
);

storage_test!(a_page_joins_a_draft_procedure_only_for_its_owner, |app| {
    let single = "{ guide(region: \"330000\", matter: \"SI-PENSION-TRANSFER\") { procedure { revision steps { name } } } }";
    let revision =
        app.data_as(As::National, single, json!({})).await["guide"]["procedure"]["revision"]
            .as_i64()
            .expect("a seeded procedure");
    app.data_as(
        As::Province("330000"),
        "mutation($e: Int!) { saveProcedure(input: { region: \"330000\", matter: \"SI-PENSION-TRANSFER\",
            steps: [{ name: \"受理\", actor: \"窗口\", timeLimitDays: 2 }], expectedRevision: $e }) { revision } }",
        json!({ "e": revision }),
    )
    .await;
    let node = "edges { node { procedure { revision steps { name } } } }";
    let filter = "filter: { matter: \"SI-PENSION-TRANSFER\" }";
    let top = format!(
        "{{ guides(filter: {{ region: \"330000\", matter: \"SI-PENSION-TRANSFER\" }}, first: 1) {{ {node} }} }}"
    );
    let nested =
        format!("{{ region(code: \"330000\") {{ guides({filter}, first: 1) {{ {node} }} }} }}");
    for (who, sees) in [
        (As::Province("330000"), true),
        (As::Anonymous, false),
        (As::Province("320000"), false),
    ] {
        let alone = app.data_as(who, single, json!({})).await["guide"]["procedure"].clone();
        assert_eq!(alone.is_null(), !sees, "{who:?}: {alone}");
        if sees {
            assert_eq!(alone["steps"], json!([{ "name": "受理" }]), "{who:?}");
        }
        let top = app.data_as(who, &top, json!({})).await;
        assert_eq!(
            top["guides"]["edges"][0]["node"]["procedure"], alone,
            "{who:?}"
        );
        let nested = app.data_as(who, &nested, json!({})).await;
        assert_eq!(
            nested["region"]["guides"]["edges"][0]["node"]["procedure"], alone,
            "{who:?}"
        );
    }
});
