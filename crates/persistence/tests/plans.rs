//! PostgreSQL keeps the plan of a page's statement instead of planning it
//! on every request, and the plan for any values it may keep is a good
//! one. A page's `LIMIT` bound as a parameter made the plan for any values
//! look dearer than one for the values at hand, so the nested zone page
//! (four limited arms) was planned afresh on every request; a status the
//! code fixes, bound, made the search's plan for any values read and sort
//! every standard.
//!
//! On PostgreSQL (when `CONCORD_TEST_POSTGRES_URL` is set; with `CI=true` a
//! missing one fails the test). SQLite keeps no plan between executions,
//! and the written limit is checked there by the unit tests; what is
//! checked there is that it plans without per-value samples, which made it
//! compile a statement again for every value bound, and that the counted
//! search still reads its few drafts through their index without them.

mod common;

use std::sync::{Arc, Mutex};

use concord_persistence::queries::{
    GuideFilter, GuideJoins, GuideParent, PageRequest, StandardFilter, Visibility, guide_pages,
    guides, standards,
};
use concord_persistence::search::{self, Searched};
use concord_persistence::{ConnectOptions, DatabaseConnection, StatementObserver};
use sea_orm::{ConnectionTrait, DatabaseTransaction, Statement, TransactionTrait};

use common::PostgresDatabase;

/// The Yangtze River Delta's members, whose pages the zone page nests.
const MEMBERS: [&str; 4] = ["310000", "320000", "330000", "340000"];

/// More than PostgreSQL's five plans made for the values before it weighs
/// the plan for any values.
const EXECUTIONS: usize = 8;

/// The seeded guides made twelve times as many, with matters to match, and
/// the standards three hundred times, with their grams and the statistics
/// taken: hundreds of guides a region, as a province has, so that a tenth
/// of a region's guides is more than a page.
async fn with_many_guides(url: &str) -> DatabaseConnection {
    let (db, _) = common::seeded(url).await;
    concord_persistence::seed::seed(&db).await.unwrap();
    for sql in [
        "INSERT INTO service_matter (code, name_zh, name_en, category_code, national_edition, \
         national_number, origin, revision, illustrative, created_at, updated_at, served_groups) \
         SELECT m.code || '-' || g, m.name_zh, m.name_en, m.category_code, m.national_edition, \
         m.national_number, m.origin, m.revision, m.illustrative, m.created_at, m.updated_at, \
         m.served_groups FROM service_matter m, generate_series(1, 11) g",
        "INSERT INTO service_guide (region_code, matter_code, time_limit_days, fee_fen, materials, \
         channels, legal_basis, guarantee_level, status, published_at, origin, revision, \
         illustrative, created_at, updated_at) \
         SELECT s.region_code, s.matter_code || '-' || g, s.time_limit_days, s.fee_fen, \
         s.materials, s.channels, s.legal_basis, s.guarantee_level, s.status, s.published_at, \
         s.origin, s.revision, s.illustrative, s.created_at, s.updated_at \
         FROM service_guide s, generate_series(1, 11) g",
        // Standards likewise, in force as all of a province's are.
        "INSERT INTO standard (code, title_zh, title_en, level, status, issuing_region, \
         issuing_zone, issued_on, effective_on, note, origin, revision, illustrative, \
         created_at, updated_at, review_on) \
         SELECT 'DB33/T ' || (100000 + g * 100 + s.n) || '-2020', s.title_zh, s.title_en, s.level, 'IN_FORCE', \
         s.issuing_region, s.issuing_zone, s.issued_on, s.effective_on, s.note, s.origin, \
         s.revision, s.illustrative, s.created_at, s.updated_at, s.review_on \
         FROM (SELECT *, row_number() OVER () AS n FROM standard) s, \
         generate_series(1, 300) g",
        "UPDATE standard SET status = 'IN_FORCE'",
    ] {
        db.execute_unprepared(sql).await.unwrap();
    }
    search::rebuild(&db, Searched::Standard).await.unwrap();
    db.execute_unprepared("ANALYZE").await.unwrap();
    db
}

/// How often PostgreSQL planned the statement of this session's that
/// reads `marker`, for any values and for the values at hand, and the
/// statement.
async fn plans(txn: &DatabaseTransaction, marker: &str) -> (i64, i64, String) {
    let row = txn
        .query_one_raw(Statement::from_string(
            txn.get_database_backend(),
            format!(
                "SELECT generic_plans, custom_plans, statement FROM pg_prepared_statements \
                 WHERE statement LIKE '%{marker}%' AND statement NOT LIKE '%pg_prepared%'"
            ),
        ))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no statement of this session reads {marker}"));
    (
        row.try_get_by_index(0).unwrap(),
        row.try_get_by_index(1).unwrap(),
        row.try_get_by_index(2).unwrap(),
    )
}

/// The plan PostgreSQL makes for any values of this session's statement
/// that reads `marker`.
async fn generic_plan(txn: &DatabaseTransaction, marker: &str) -> String {
    let backend = txn.get_database_backend();
    let row = txn
        .query_one_raw(Statement::from_string(
            backend,
            format!(
                "SELECT name, array_to_string(parameter_types, ',') FROM pg_prepared_statements \
                 WHERE statement LIKE '%{marker}%' AND statement NOT LIKE '%pg_prepared%'"
            ),
        ))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no statement of this session reads {marker}"));
    let name: String = row.try_get_by_index(0).unwrap();
    let types: String = row.try_get_by_index(1).unwrap();
    // The plan for any values does not depend on them; each only has to
    // be of its parameter's type.
    let values = types
        .split(',')
        .map(|kind| match kind {
            "bigint" | "integer" | "smallint" => "0",
            "boolean" => "false",
            _ => "'服务'",
        })
        .collect::<Vec<_>>()
        .join(", ");
    txn.execute_unprepared("SET LOCAL plan_cache_mode = force_generic_plan")
        .await
        .unwrap();
    let lines = txn
        .query_all_raw(Statement::from_string(
            backend,
            format!("EXPLAIN EXECUTE {name}({values})"),
        ))
        .await
        .unwrap();
    txn.execute_unprepared("SET LOCAL plan_cache_mode = auto")
        .await
        .unwrap();
    lines
        .iter()
        .map(|line| line.try_get_by_index::<String>(0).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

async fn pages_keep_their_plans(db: &DatabaseConnection) {
    let members: Vec<String> = MEMBERS.iter().map(ToString::to_string).collect();
    // One transaction, so one connection and one session's statements.
    let txn = db.begin().await.unwrap();
    for _ in 0..EXECUTIONS {
        let request = PageRequest {
            after: None,
            first: 20,
            count: false,
        };
        let pages = guide_pages(
            &txn,
            GuideParent::Region,
            &members,
            &GuideFilter::default(),
            &Visibility::Public,
            &request,
            GuideJoins::default(),
        )
        .await
        .unwrap();
        for member in &members {
            let page = &pages[member];
            assert_eq!(page.items.len(), 20, "{member}");
            assert!(page.has_next, "{member} has hundreds of guides");
        }

        let filter = GuideFilter {
            region: Some(MEMBERS[2].into()),
            ..GuideFilter::default()
        };
        let request = PageRequest {
            after: None,
            first: 50,
            count: true,
        };
        let joins = GuideJoins { procedure: true };
        let page = guides(&txn, &filter, &Visibility::Public, request, joins)
            .await
            .unwrap();
        assert_eq!(page.items.len(), 50);
        assert!(page.total > 400, "{}", page.total);

        let filter = StandardFilter {
            text: Some("服务".into()),
            ..StandardFilter::default()
        };
        let request = PageRequest {
            after: None,
            first: 50,
            count: true,
        };
        let found = standards(&txn, &filter, &Visibility::Public, request)
            .await
            .unwrap();
        assert_eq!(found.items.len(), 50);
        assert!(found.total > 1000, "{}", found.total);
    }

    let (generic, custom, statement) = plans(&txn, "page_owner").await;
    assert!(
        generic > 0,
        "the nested pages' statement was planned afresh on each of {custom} executions: {statement}"
    );
    // Whether PostgreSQL keeps a search's plan for any values depends on
    // how common its gram is, but that plan must be the one a search needs
    // whenever it is used: walk the gram's keys in order and stop at the
    // end of the page, as the plan for 服务 itself does.
    let plan = generic_plan(&txn, "\"held\"").await;
    assert!(
        !plan.contains("Seq Scan on standard") && !plan.contains("Sort"),
        "the search's plan for any values reads every standard:\n{plan}"
    );
    let (generic, custom, statement) = plans(&txn, "page_total\" FROM \"service_guide").await;
    assert!(
        generic > 0,
        "the counted page's statement was planned afresh on each of {custom} executions: {statement}"
    );
    txn.rollback().await.unwrap();
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set CONCORD_TEST_POSTGRES_URL"
)]
async fn page_statements_keep_their_plans_on_postgres() {
    let Some(database) = PostgresDatabase::create("concord_plans", "pages").await else {
        return;
    };
    let db = with_many_guides(&database.url).await;
    let test = {
        let db = db.clone();
        async move { pages_keep_their_plans(&db).await }
    };
    common::run_apart(test, common::close(db, Some(database))).await;
}

/// A SQLite database holding the seed data with its standards made three
/// hundred times as many, their grams and the statistics taken, whose
/// connection keeps the last statement run that reads `marker`.
async fn sqlite_with_many_standards(
    marker: &'static str,
) -> (DatabaseConnection, Arc<Mutex<Option<Statement>>>) {
    let kept = Arc::new(Mutex::new(None));
    let observer: StatementObserver = {
        let kept = Arc::clone(&kept);
        Arc::new(move |info| {
            if info.statement.sql.contains(marker) {
                *kept.lock().unwrap() = Some(info.statement.clone());
            }
        })
    };
    let (db, _) = concord_persistence::connect_observed(
        &ConnectOptions::new("sqlite::memory:"),
        Some(observer),
    )
    .await
    .unwrap();
    concord_persistence::migrate(&db).await.unwrap();
    concord_persistence::seed::seed(&db).await.unwrap();
    db.execute_unprepared(
        "INSERT INTO standard (code, title_zh, title_en, level, status, issuing_region, \
         issuing_zone, issued_on, effective_on, note, origin, revision, illustrative, \
         created_at, updated_at, review_on) \
         WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 300) \
         SELECT 'DB33/T ' || (100000 + g.n * 100 + s.n) || '-2020', s.title_zh, s.title_en, \
         s.level, 'IN_FORCE', s.issuing_region, s.issuing_zone, s.issued_on, s.effective_on, \
         s.note, s.origin, s.revision, s.illustrative, s.created_at, s.updated_at, s.review_on \
         FROM (SELECT *, row_number() OVER () AS n FROM standard) s, g",
    )
    .await
    .unwrap();
    db.execute_unprepared("UPDATE standard SET status = 'IN_FORCE'")
        .await
        .unwrap();
    search::rebuild(&db, Searched::Standard).await.unwrap();
    db.execute_unprepared("ANALYZE").await.unwrap();
    (db, kept)
}

#[tokio::test]
async fn sqlite_plans_without_samples_and_counts_drafts_by_their_index() {
    let (db, kept) = sqlite_with_many_standards("page_total").await;
    let backend = db.get_database_backend();

    // With samples, SQLite compiles a statement again whenever a value is
    // bound to a parameter compared with a sampled column: on every
    // execution, since the driver binds afresh each time.
    let stat4 = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT sqlite_compileoption_used('ENABLE_STAT4')",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stat4.try_get_by_index::<i32>(0).unwrap(),
        0,
        "the bundled SQLite keeps per-value samples (.cargo/config.toml)"
    );

    let filter = StandardFilter {
        text: Some("服务".into()),
        ..StandardFilter::default()
    };
    let request = PageRequest {
        after: None,
        first: 50,
        count: true,
    };
    let found = standards(&db, &filter, &Visibility::Public, request)
        .await
        .unwrap();
    assert_eq!(found.items.len(), 50);
    assert!(found.total > 1000, "{}", found.total);

    let counted = kept
        .lock()
        .unwrap()
        .clone()
        .expect("the search counted its matches in the statement that reads its page");
    let plan = db
        .query_all_raw(Statement {
            sql: format!("EXPLAIN QUERY PLAN {}", counted.sql),
            ..counted.clone()
        })
        .await
        .unwrap()
        .iter()
        .map(|line| line.try_get::<String>("", "detail").unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        plan.contains("USING INDEX ix_standard_status") && !plan.contains("SCAN standard"),
        "the count of hidden drafts reads every standard:\n{plan}\n{}",
        counted.sql
    );
    db.close().await.unwrap();
}
