//! Fees cross the API as the `Decimal` scalar: strings of yuan, exact.

use serde_json::{Value, json};

use crate::helpers::{As, code, storage_test};

const MATTER: &str = "SI-PENSION-TRANSFER";

const GUIDE: &str = "query($r: String!, $m: String!) { guide(region: $r, matter: $m) {
    revision status timeLimitDays fee feeFen materials channels } }";

const SAVE: &str = "mutation($input: SaveGuideInput!) { saveGuide(input: $input) {
    revision fee feeFen } }";

const PUBLISH: &str = "mutation($r: String!, $m: String!, $e: Int!) {
    publishGuide(region: $r, matter: $m, expectedRevision: $e) { revision } }";

/// The guide of `region` for [`MATTER`], as a national administrator reads it.
async fn guide(app: &crate::helpers::TestApp, region: &str) -> Value {
    app.data_as(As::National, GUIDE, json!({ "r": region, "m": MATTER }))
        .await["guide"]
        .clone()
}

/// The input that saves `guide` again for `region` with `fee` instead.
fn input(region: &str, guide: &Value, fee: Value) -> Value {
    json!({ "input": {
        "region": region, "matter": MATTER, "timeLimitDays": guide["timeLimitDays"],
        "fee": fee, "materials": guide["materials"], "channels": guide["channels"],
        "expectedRevision": guide["revision"],
    } })
}

/// Saves `fee` on `region`'s guide and publishes it; the saved fee as the
/// API answers it.
async fn publish_fee(app: &crate::helpers::TestApp, region: &str, fee: &str) -> Value {
    let before = guide(app, region).await;
    let saved = app
        .data_as(As::National, SAVE, input(region, &before, json!(fee)))
        .await["saveGuide"]
        .clone();
    app.data_as(
        As::National,
        PUBLISH,
        json!({ "r": region, "m": MATTER, "e": saved["revision"] }),
    )
    .await;
    saved
}

fn message(body: &Value) -> &str {
    body["errors"][0]["message"].as_str().unwrap_or_default()
}

storage_test!(a_fee_round_trips_as_the_decimal_sent, |app| {
    let saved = publish_fee(&app, "330000", "0.10").await;
    assert_eq!(saved["fee"], "0.10");
    assert_eq!(saved["feeFen"], 10);
    let read = guide(&app, "330000").await;
    assert_eq!(read["fee"], "0.10");
    // The fast path of a page of guides writes the same string.
    let page = app
        .data(
            "{ guides(filter: { region: \"330000\", matter: \"SI-PENSION-TRANSFER\" }, first: 1) {
                edges { node { fee } } } }",
            json!({}),
        )
        .await;
    assert_eq!(page["guides"]["edges"][0]["node"]["fee"], "0.10");

    for (sent, answered) in [("12.5", "12.50"), ("20", "20.00"), ("0", "0.00")] {
        let saved = publish_fee(&app, "330000", sent).await;
        assert_eq!(saved["fee"], answered, "{sent}");
    }
});

storage_test!(a_fee_that_is_not_a_decimal_changes_nothing, |app| {
    let before = guide(&app, "330000").await;
    let audit = app.audit_count().await;
    let refusals = [
        (json!("12.345"), "at most two decimals"),
        (json!("12."), "one or two digits"),
        (json!(".5"), "start with a digit"),
        (json!("-1"), "only digits"),
        (json!("1e3"), "only digits"),
        (json!(" 12"), "only digits"),
        (json!("1000000.01"), "between 0 and 1000000 yuan"),
        // The old Float input: refused, saying what to send instead.
        (json!(12.5), "written as a string"),
        (json!(0), "written as a string"),
        (json!(null), ""),
    ];
    for (fee, why) in refusals {
        let body = app
            .graphql_as(As::National, SAVE, input("330000", &before, fee.clone()))
            .await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{fee}: {body}");
        assert!(message(&body).contains(why), "{fee}: {body}");
        assert!(body["data"].is_null(), "{fee}: {body}");
    }
    // The same refusal for a literal in the document.
    let literal = format!(
        "mutation {{ saveGuide(input: {{ region: \"330000\", matter: \"{MATTER}\",
            timeLimitDays: 5, fee: 12.5, materials: [\"居民身份证\"], channels: [ONLINE],
            expectedRevision: {} }}) {{ revision }} }}",
        before["revision"]
    );
    let body = app.graphql_as(As::National, &literal, json!({})).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert!(message(&body).contains("written as a string"), "{body}");

    assert_eq!(
        guide(&app, "330000").await,
        before,
        "the guide is unchanged"
    );
    assert_eq!(app.audit_count().await, audit, "nothing was written");
});

storage_test!(the_fee_spread_of_a_zone_is_exact, |app| {
    // The four YRD members, fees one fen apart: the median falls halfway
    // between 0.02 and 0.03, which a float would write as 0.025000000000000001.
    for (region, fee) in [
        ("310000", "0.01"),
        ("320000", "0.02"),
        ("330000", "0.03"),
        ("340000", "0.04"),
    ] {
        publish_fee(&app, region, fee).await;
    }
    let data = app
        .data(
            "query($m: String!) { alignment(zone: \"YRD\", matter: $m) {
                fee { min max median } members { region { code } guide { fee } } } }",
            json!({ "m": MATTER }),
        )
        .await;
    assert_eq!(
        data["alignment"]["fee"],
        json!({ "min": "0.01", "max": "0.04", "median": "0.025" })
    );
    let fees: Vec<&Value> = data["alignment"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["guide"]["fee"])
        .collect();
    assert_eq!(
        fees,
        [
            &json!("0.01"),
            &json!("0.02"),
            &json!("0.03"),
            &json!("0.04")
        ]
    );

    let matrix = app
        .data(
            "{ zoneAlignment(zone: \"YRD\") { matters { matter { code } cells { region fee } } } }",
            json!({}),
        )
        .await;
    let row = matrix["zoneAlignment"]["matters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["matter"]["code"] == MATTER)
        .expect("the matter's row");
    assert_eq!(
        row["cells"][1],
        json!({ "region": "320000", "fee": "0.02" })
    );
});

/// A mutation saving national item `number` of 2023. `max_fee` is written
/// into the query text as given, a string or a number literal, because how
/// the literal is read is what the test is about.
fn save_item_with_fee(number: i32, max_fee: &str) -> String {
    format!(
        "mutation {{ saveNationalItem(input: {{ edition: 2023, number: {number}, nameZh: \"测试项目\",
            category: \"EMPLOYMENT\", maxFee: {max_fee} }}) {{ maxFee }} }}"
    )
}

storage_test!(a_baseline_fee_is_a_decimal_too, |app| {
    let saved = app
        .data_as(As::National, &save_item_with_fee(90, "\"0.1\""), json!({}))
        .await;
    assert_eq!(saved["saveNationalItem"]["maxFee"], "0.10");
    let body = app
        .graphql_as(As::National, &save_item_with_fee(91, "0.1"), json!({}))
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    let read = app
        .data(
            "{ nationalItem(edition: 2023, number: 90) { maxFee } }",
            json!({}),
        )
        .await;
    assert_eq!(read["nationalItem"]["maxFee"], "0.10");
});
