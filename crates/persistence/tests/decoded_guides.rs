//! Pages of guides share the records of rows they have read before, and
//! never at the cost of an answer: a row changed by any writer, even by
//! hand, is read as it now is, and a row that cannot be read fails every
//! read. On SQLite and on PostgreSQL, whose drivers hand over a row's
//! bytes differently.
//!
//! The PostgreSQL half runs only when `CONCORD_TEST_POSTGRES_URL` is set;
//! with `CI=true` a missing one fails the test.

mod common;

use std::sync::Arc;

use concord_persistence::DatabaseConnection;
use concord_persistence::queries::{
    GuideFilter, GuideJoins, JoinedGuide, Page, PageRequest, Visibility, guides,
};
use sea_orm::ConnectionTrait;

use common::PostgresDatabase;

/// The database at `url` with the illustrative guides as well as the
/// reference data (seeding adds only what is missing).
async fn with_guides(url: &str) -> DatabaseConnection {
    let (db, _) = common::seeded(url).await;
    concord_persistence::seed::seed(&db).await.unwrap();
    db
}

/// Every guide with its procedure, in key order, or why not: the error
/// with its causes.
async fn page(db: &DatabaseConnection) -> Result<Page<JoinedGuide>, String> {
    let request = PageRequest {
        after: None,
        first: 200,
        count: false,
    };
    let joins = GuideJoins { procedure: true };
    guides(
        db,
        &GuideFilter::default(),
        &Visibility::All,
        request,
        joins,
    )
    .await
    .map_err(|error| {
        let mut chain = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            chain.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        chain
    })
}

/// Runs `assignment` on the guide (or procedure, in `table`) of `row`.
async fn edit_by_hand(db: &DatabaseConnection, table: &str, row: &JoinedGuide, assignment: &str) {
    let sql = format!(
        "UPDATE {table} SET {assignment} WHERE region_code = '{}' AND matter_code = '{}'",
        row.guide.region, row.guide.matter
    );
    let done = db.execute_unprepared(&sql).await.unwrap();
    assert_eq!(done.rows_affected(), 1, "{sql}");
}

fn procedure(row: &JoinedGuide) -> Option<&Arc<concord_domain::guide::OperatingProcedure>> {
    row.procedure.as_ref().and_then(Option::as_ref)
}

async fn shares_rows_read_before_and_sees_every_change(db: &DatabaseConnection) {
    let first = page(db).await.unwrap();
    let items = &first.items;
    assert!(items.len() > 2, "the seed has guides");
    let with_procedure = items
        .iter()
        .position(|row| procedure(row).is_some())
        .expect("some guide has a procedure");

    let again = page(db).await.unwrap();
    assert_eq!(again.items, first.items);
    for (before, now) in items.iter().zip(&again.items) {
        assert!(
            Arc::ptr_eq(&before.guide, &now.guide),
            "{:?}",
            now.guide.matter
        );
    }
    assert!(Arc::ptr_eq(
        procedure(&items[with_procedure]).unwrap(),
        procedure(&again.items[with_procedure]).unwrap()
    ));

    // Changed by hand: no revision, no change log, only other bytes.
    let days = items[0].guide.content.time_limit_days;
    edit_by_hand(
        db,
        "service_guide",
        &items[0],
        "time_limit_days = time_limit_days + 1",
    )
    .await;
    let revision = procedure(&items[with_procedure])
        .unwrap()
        .provenance
        .revision;
    edit_by_hand(
        db,
        "operating_procedure",
        &items[with_procedure],
        "revision = revision + 7",
    )
    .await;
    let edited = page(db).await.unwrap();
    assert_eq!(edited.items[0].guide.content.time_limit_days, days + 1);
    assert_eq!(
        procedure(&edited.items[with_procedure])
            .unwrap()
            .provenance
            .revision,
        revision + 7
    );
    assert!(
        Arc::ptr_eq(&edited.items[1].guide, &items[1].guide),
        "the others are shared still"
    );

    // A value no guide can have fails each read, not only the first.
    edit_by_hand(db, "service_guide", &items[1], "status = 'HIDDEN'").await;
    for _ in 0..2 {
        let error = page(db).await.unwrap_err();
        assert!(error.contains("HIDDEN"), "{error}");
    }
    edit_by_hand(db, "service_guide", &items[1], "status = 'PUBLISHED'").await;
    let restored = page(db).await.unwrap();
    assert!(Arc::ptr_eq(&restored.items[1].guide, &items[1].guide));
}

#[tokio::test]
async fn pages_share_rows_read_before_and_see_every_change_on_sqlite() {
    let db = with_guides("sqlite::memory:").await;
    shares_rows_read_before_and_sees_every_change(&db).await;
    db.close().await.unwrap();
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set CONCORD_TEST_POSTGRES_URL"
)]
async fn pages_share_rows_read_before_and_see_every_change_on_postgres() {
    let Some(database) = PostgresDatabase::create("concord_decoded", "pages").await else {
        return;
    };
    let db = with_guides(&database.url).await;
    let test = {
        let db = db.clone();
        async move { shares_rows_read_before_and_sees_every_change(&db).await }
    };
    common::run_apart(test, common::close(db, Some(database))).await;
}
