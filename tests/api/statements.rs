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

/// `totalCount` rides on the page's own statement: a counted page costs no
/// round trip more than an uncounted one, and its count is every matching
/// row, as many as paging through them all finds. A page past the end,
/// which has no row to carry the count, counts apart and finds the same.
async fn the_count_runs_only_when_asked(backend: Backend) {
    let app = TestApp::spawn(backend)
        .await
        .expect("a test database (PostgreSQL: CONCORD_TEST_POSTGRES_URL)");
    let search = |first: u32, after: Option<&str>, selection: &str| {
        let after = after.map_or(String::new(), |cursor| format!(", after: \"{cursor}\""));
        format!(
            "{{ standards(filter: {{ text: \"服务\" }}, first: {first}{after}) {{ {selection} }} }}"
        )
    };
    let mut runs = Vec::new();
    for selection in [
        "totalCount edges { node { code } }",
        "edges { node { code } }",
    ] {
        let before = app.statements().await;
        let data = app.data(&search(5, None, selection), json!({})).await;
        runs.push((data, app.statements().await - before));
    }
    let (counted, uncounted) = (&runs[0], &runs[1]);
    let total = counted.0["standards"]["totalCount"].as_u64().unwrap();
    assert!(total > 5, "{runs:?}");
    assert_eq!(
        counted.0["standards"]["edges"],
        uncounted.0["standards"]["edges"]
    );
    assert_eq!(counted.1, uncounted.1, "{runs:?}");

    let (mut seen, mut cursor) = (0, None::<String>);
    loop {
        let selection = "edges { node { code } } pageInfo { hasNextPage endCursor }";
        let data = app
            .data(&search(100, cursor.as_deref(), selection), json!({}))
            .await;
        let page = &data["standards"];
        seen += page["edges"].as_array().unwrap().len() as u64;
        cursor = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
    }
    assert_eq!(total, seen);

    let before = app.statements().await;
    let past = app
        .data(
            &search(5, cursor.as_deref(), "totalCount edges { node { code } }"),
            json!({}),
        )
        .await;
    let statements = app.statements().await - before;
    assert_eq!(past["standards"]["edges"], json!([]));
    assert_eq!(past["standards"]["totalCount"].as_u64(), Some(total));
    assert_eq!(statements, counted.1 + 1, "an empty page counts apart");
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

/// A search page reads its standards' matters with the page, in one
/// statement for the whole page: the same matters, in the same order, as
/// each standard read by itself, and as many statements for 3 results as
/// for 30.
async fn a_search_page_reads_its_matters_ahead(backend: Backend) {
    let app = TestApp::spawn(backend)
        .await
        .expect("a test database (PostgreSQL: CONCORD_TEST_POSTGRES_URL)");
    let page = |n: usize| {
        format!(
            "{{ standards(filter: {{ text: \"服务\" }}, first: {n}) {{ totalCount \
             edges {{ node {{ code level matters {{ code nameZh category {{ code }} }} }} }} }} }}"
        )
    };
    app.data(&page(1), json!({})).await;
    let mut counts = Vec::new();
    let mut last = serde_json::Value::Null;
    for n in [3, 30] {
        let before = app.statements().await;
        last = app.data(&page(n), json!({})).await;
        counts.push(app.statements().await - before);
    }
    assert_eq!(
        counts[0], counts[1],
        "statements for 3 vs 30 results: {counts:?}"
    );
    assert!(counts[0] <= 3, "page, count and matters: {counts:?}");
    let edges = last["standards"]["edges"].as_array().unwrap();
    assert!(edges.len() > 3, "{last}");
    let mut governing = 0;
    for edge in edges {
        let code = edge["node"]["code"].as_str().unwrap();
        let alone = app
            .data(
                "query($code: String!) { standard(code: $code) { matters { code nameZh category { code } } } }",
                json!({ "code": code }),
            )
            .await;
        assert_eq!(
            edge["node"]["matters"], alone["standard"]["matters"],
            "{code}"
        );
        governing += usize::from(!alone["standard"]["matters"].as_array().unwrap().is_empty());
    }
    assert!(
        governing > 0,
        "no standard on the page governs a matter: {last}"
    );
}

#[tokio::test]
async fn a_search_page_reads_its_matters_ahead_sqlite() {
    a_search_page_reads_its_matters_ahead(Backend::Sqlite).await;
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set CONCORD_TEST_POSTGRES_URL"
)]
async fn a_search_page_reads_its_matters_ahead_postgres() {
    a_search_page_reads_its_matters_ahead(Backend::Postgres).await;
}

/// Batching waits for the request itself, not for the scheduler: on a
/// multi-threaded runtime, with sixteen pages of 100 guides resolved at
/// once and other threads keeping every core busy, each page costs the
/// statements that one page of 10 costs alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn batches_hold_every_key_on_a_busy_multi_threaded_runtime() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("concord.db").display());
    let (db, counter) =
        concord_persistence::connect(&concord_persistence::ConnectOptions::new(url))
            .await
            .unwrap();
    concord_persistence::migrate(&db).await.unwrap();
    concord_persistence::seed::seed(&db).await.unwrap();
    let watch = concord_persistence::watch::DataWatch::new(db.clone())
        .await
        .unwrap();
    let settings = concord_schema::SchemaSettings::default();
    let node = concord_auth::Node { region: None };
    let peers = concord_federation::Peers::new(
        &concord_federation::FederationSettings::default(),
        &[],
        None,
        &Default::default(),
    )
    .unwrap();
    let schema = concord_schema::build_schema(db.clone(), node, &settings, &watch, Arc::new(peers));
    let kept = concord_schema::Kept::new(&watch);
    let page = |n: i64| {
        let (db, settings, kept, schema) =
            (db.clone(), settings.clone(), kept.clone(), schema.clone());
        async move {
            let request = async_graphql::Request::new(GUIDE_PAGE)
                .variables(async_graphql::Variables::from_json(json!({ "n": n })));
            let (request, executed) = concord_schema::prepare(
                &db,
                &settings,
                &kept,
                concord_auth::Principal::anonymous(),
                request,
            )
            .await
            .unwrap();
            let response = concord_schema::run(&schema, &settings.limits, request, &executed).await;
            assert!(response.errors.is_empty(), "{:?}", response.errors);
            let data = response.data.into_json().unwrap();
            assert_eq!(
                data["guides"]["edges"].as_array().unwrap().len(),
                n as usize
            );
        }
    };
    // The first request also reads the reference tables and the matters of
    // the pages below, which are then kept: otherwise how many pages find
    // their matters kept by another would depend on the scheduling.
    page(100).await;
    let before = counter.get();
    page(10).await;
    let alone = counter.get() - before;
    // The guides with their count and procedures, then national items,
    // standard links and standards: one statement each.
    assert_eq!(alone, 4, "a page of 10 alone");

    let busy = Arc::new(AtomicBool::new(true));
    let burners: Vec<_> = (0..4)
        .map(|_| {
            let busy = busy.clone();
            std::thread::spawn(move || {
                while busy.load(Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
            })
        })
        .collect();
    let before = counter.get();
    let pages: Vec<_> = (0..16).map(|_| tokio::spawn(page(100))).collect();
    for page in pages {
        page.await.unwrap();
    }
    let together = counter.get() - before;
    busy.store(false, Ordering::Relaxed);
    for burner in burners {
        burner.join().unwrap();
    }
    assert_eq!(
        together,
        16 * alone,
        "one page of 10 alone: {alone} statements"
    );
}
