use serde_json::json;

use crate::helpers::{Backend, TestApp};

const GUIDE_PAGE: &str = "query($n: Int!) { guides(first: $n) { totalCount edges { node {
    timeLimitDays materials
    region { code nameZh zones { code nameEn } }
    matter { code category { code } nationalItem { number } standards { code titleZh } }
    procedure { steps { name } }
} } } }";

/// One statement per relation level, whether the page has 10 rows or 100.
async fn statements_do_not_grow_with_rows(backend: Backend) {
    let app = TestApp::spawn(backend)
        .await
        .expect("a test database (PostgreSQL: CONCORD_TEST_POSTGRES_URL)");
    // The first request also reads the reference tables, which the server
    // then keeps; measure the requests after it.
    app.data(GUIDE_PAGE, json!({ "n": 1 })).await;
    let mut counts = Vec::new();
    for n in [10, 100] {
        let before = app.statements().await;
        let data = app.data(GUIDE_PAGE, json!({ "n": n })).await;
        let after = app.statements().await;
        assert_eq!(
            data["guides"]["edges"].as_array().unwrap().len(),
            n as usize
        );
        counts.push(after - before);
    }
    assert_eq!(
        counts[0], counts[1],
        "statements for 10 rows vs 100 rows: {counts:?}"
    );
    assert!(counts[0] <= 11, "{counts:?}");
}

#[tokio::test]
async fn statements_do_not_grow_with_rows_sqlite() {
    statements_do_not_grow_with_rows(Backend::Sqlite).await;
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set CONCORD_TEST_POSTGRES_URL"
)]
async fn statements_do_not_grow_with_rows_postgres() {
    statements_do_not_grow_with_rows(Backend::Postgres).await;
}

/// `totalCount` scans every matching row, so only a client that asks for it
/// pays for it.
async fn the_count_runs_only_when_asked(backend: Backend) {
    let app = TestApp::spawn(backend)
        .await
        .expect("a test database (PostgreSQL: CONCORD_TEST_POSTGRES_URL)");
    let mut runs = Vec::new();
    for selection in [
        "totalCount edges { node { code } }",
        "edges { node { code } }",
    ] {
        let query =
            format!("{{ standards(filter: {{ text: \"服务\" }}, first: 5) {{ {selection} }} }}");
        let before = app.statements().await;
        let data = app.data(&query, json!({})).await;
        runs.push((data, app.statements().await - before));
    }
    let (counted, uncounted) = (&runs[0], &runs[1]);
    assert!(counted.0["standards"]["totalCount"].as_i64().unwrap() > 5);
    assert_eq!(
        counted.0["standards"]["edges"],
        uncounted.0["standards"]["edges"]
    );
    assert_eq!(counted.1, uncounted.1 + 1, "{runs:?}");
}

#[tokio::test]
async fn the_count_runs_only_when_asked_sqlite() {
    the_count_runs_only_when_asked(Backend::Sqlite).await;
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set CONCORD_TEST_POSTGRES_URL"
)]
async fn the_count_runs_only_when_asked_postgres() {
    the_count_runs_only_when_asked(Backend::Postgres).await;
}
