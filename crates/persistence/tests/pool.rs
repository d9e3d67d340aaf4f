//! The connection pool on PostgreSQL. A pooled connection is checked with a
//! round trip only after it has sat idle (a second), not on every acquire;
//! this holds that a connection the server ended while it sat idle, as a
//! restart or a fail-over does, is found out and replaced before a
//! statement is sent on it.
//!
//! Runs only when `CONCORD_TEST_POSTGRES_URL` is set; with `CI=true` a
//! missing one fails the test.

mod common;

use std::time::Duration;

use concord_persistence::DatabaseConnection;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use common::PostgresDatabase;

/// Longer than the idle time after which the pool checks a connection.
const IDLE: Duration = Duration::from_millis(1_500);

/// The server process behind the connection a statement of `db` runs on.
async fn backend_pid(db: &DatabaseConnection) -> i32 {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT pg_backend_pid()",
        ))
        .await
        .expect("a statement after the idle time runs")
        .expect("one row");
    row.try_get_by_index(0).unwrap()
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set CONCORD_TEST_POSTGRES_URL"
)]
async fn a_connection_ended_while_idle_is_replaced_before_use() {
    let database = PostgresDatabase::create("concord_pool", "idle")
        .await
        .expect("CONCORD_TEST_POSTGRES_URL names the test server");
    let url = database.url.clone();
    let (db, _) = common::seeded(&url).await;
    let test = {
        let db = db.clone();
        async move {
            let before = backend_pid(&db).await;
            // Another session ends every other session of the database.
            let other = sea_orm::Database::connect(&url).await.unwrap();
            other
                .execute_unprepared(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = current_database() AND pid <> pg_backend_pid()",
                )
                .await
                .unwrap();
            other.close().await.unwrap();
            tokio::time::sleep(IDLE).await;
            let after = backend_pid(&db).await;
            assert_ne!(before, after, "the ended connection was replaced");
        }
    };
    common::run_apart(test, common::close(db, Some(database))).await;
}
