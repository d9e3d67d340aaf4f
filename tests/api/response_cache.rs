//! The response cache answers a repeated query without running it, and never
//! with an answer the data or the caller has outgrown.

use serde_json::json;

use crate::helpers::{As, Backend, TestApp, code, storage_test};

const MATTER: &str = "EMP-UNEMPLOYMENT-REGISTRATION";

const GUIDE: &str = "query($r: String!, $m: String!) { guide(region: $r, matter: $m) {
    revision status timeLimitDays } }";

const SAVE_GUIDE: &str = "mutation($input: SaveGuideInput!) { saveGuide(input: $input) {
    revision status } }";

const PUBLISH: &str = "mutation($e: Int!) { publishGuide(region: \"330000\",
    matter: \"EMP-UNEMPLOYMENT-REGISTRATION\", expectedRevision: $e) { revision } }";

fn save(days: i64, expected: i64) -> serde_json::Value {
    json!({ "input": {
        "region": "330000", "matter": MATTER, "timeLimitDays": days, "fee": "0",
        "materials": ["居民身份证"], "channels": ["ONLINE"],
        "legalBasis": "《中华人民共和国就业促进法》", "expectedRevision": expected,
    } })
}

storage_test!(
    a_repeated_query_is_answered_from_the_cache_until_a_write,
    |app| {
        let variables = json!({ "r": "330000", "m": MATTER });
        let first = app.data(GUIDE, variables.clone()).await;
        let hits = app.metric("concord_response_cache_hits_total").await;
        let statements = app.statements().await;
        let again = app.data(GUIDE, variables.clone()).await;
        assert_eq!(again, first);
        assert_eq!(
            app.metric("concord_response_cache_hits_total").await,
            hits + 1
        );
        assert_eq!(
            app.statements().await - statements,
            0,
            "a hit asks the database nothing, not even the data version"
        );

        let revision = first["guide"]["revision"].as_i64().unwrap();
        let days = first["guide"]["timeLimitDays"].as_i64().unwrap() + 1;
        app.data_as(As::Province("330000"), SAVE_GUIDE, save(days, revision))
            .await;
        let hidden = app.data(GUIDE, variables.clone()).await;
        assert!(
            hidden["guide"].is_null(),
            "the published guide went back to a draft, and the public no longer sees it: {hidden}"
        );
        app.data_as(
            As::Province("330000"),
            PUBLISH,
            json!({ "e": revision + 1 }),
        )
        .await;
        let after = app.data(GUIDE, variables).await;
        assert_eq!(after["guide"]["timeLimitDays"], days);
        assert_eq!(after["guide"]["revision"], revision + 2);
    }
);

storage_test!(a_caller_never_gets_an_answer_cached_for_another, |app| {
    let variables = json!({ "r": "330000", "m": MATTER });
    let revision = app.data(GUIDE, variables.clone()).await["guide"]["revision"]
        .as_i64()
        .unwrap();
    app.data_as(As::Province("330000"), SAVE_GUIDE, save(9, revision))
        .await;
    for _ in 0..2 {
        let own = app
            .data_as(As::Province("330000"), GUIDE, variables.clone())
            .await;
        assert_eq!(own["guide"]["status"], "DRAFT");
        let public = app.data(GUIDE, variables.clone()).await;
        assert!(public["guide"].is_null(), "{public}");
        let other_province = app
            .data_as(As::Province("320000"), GUIDE, variables.clone())
            .await;
        assert!(other_province["guide"].is_null(), "{other_province}");
    }
});

storage_test!(errors_and_mutations_are_never_cached, |app| {
    let hits = app.metric("concord_response_cache_hits_total").await;
    for _ in 0..2 {
        let body = app
            .graphql("{ region(code: \"not-a-code\") { code } }", json!({}))
            .await;
        assert_eq!(code(&body), "BAD_USER_INPUT");
    }
    let variables = json!({ "r": "330000", "m": MATTER });
    let revision = app.data(GUIDE, variables.clone()).await["guide"]["revision"]
        .as_i64()
        .unwrap();
    let saved = app
        .data_as(As::Province("330000"), SAVE_GUIDE, save(11, revision))
        .await;
    let repeated = app
        .graphql_as(As::Province("330000"), SAVE_GUIDE, save(11, revision))
        .await;
    assert_eq!(saved["saveGuide"]["revision"], revision + 1);
    assert_eq!(
        code(&repeated),
        "CONFLICT",
        "the second save ran, and met the first one's revision: {repeated}"
    );
    assert_eq!(app.metric("concord_response_cache_hits_total").await, hits);
});

#[tokio::test]
async fn with_the_cache_off_every_query_runs() {
    let app = TestApp::spawn_with(Backend::Sqlite, |settings| {
        settings.server.response_cache_mb = 0;
    })
    .await
    .expect("sqlite");
    let variables = json!({ "r": "330000", "m": MATTER });
    let mut runs = Vec::new();
    for _ in 0..2 {
        let before = app.statements().await;
        let data = app.data(GUIDE, variables.clone()).await;
        runs.push((data, app.statements().await - before));
    }
    assert_eq!(runs[0].0, runs[1].0);
    assert!(runs[0].1 >= 1);
    assert_eq!(runs[0].1, runs[1].1, "the second run is computed again");
    let metrics = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!metrics.contains("concord_response_cache"), "{metrics}");
}
