//! What the storage tests share: a migrated database with the reference
//! data, on SQLite or on a PostgreSQL database of their own.

use chrono::Utc;
use concord_persistence::{ConnectOptions, DatabaseConnection, StatementCounter};
use sea_orm::ConnectionTrait;

/// The database at `url`, migrated and holding the reference data, with
/// the counter of the statements sent to it.
pub async fn seeded(url: &str) -> (DatabaseConnection, StatementCounter) {
    let (db, statements) = concord_persistence::connect(&ConnectOptions::new(url))
        .await
        .unwrap();
    concord_persistence::migrate(&db).await.unwrap();
    concord_persistence::seed::seed_reference(&db)
        .await
        .unwrap();
    (db, statements)
}

/// Closes `db`, then drops it if it is a PostgreSQL database of its own.
pub async fn close(db: DatabaseConnection, postgres: Option<PostgresDatabase>) {
    db.close().await.unwrap();
    if let Some(database) = postgres {
        database.drop().await;
    }
}

/// Runs `test` on a task of its own, then `close` whatever the outcome, so
/// that a failure still drops the test's databases; then passes the
/// failure on.
pub async fn run_apart(
    test: impl Future<Output = ()> + Send + 'static,
    close: impl Future<Output = ()>,
) {
    let result = tokio::spawn(test).await;
    close.await;
    if let Err(failed) = result {
        std::panic::resume_unwind(failed.into_panic());
    }
}

/// A database made on the test server for one test. [`Self::drop`] drops it.
pub struct PostgresDatabase {
    admin: String,
    name: String,
    pub url: String,
}

impl PostgresDatabase {
    /// A new, empty database whose name starts with `prefix` and `tag`.
    /// `None` when `CONCORD_TEST_POSTGRES_URL` is not set, or when the
    /// server it names cannot be reached; under CI (`CI=true`) either fails
    /// the test instead.
    pub async fn create(prefix: &str, tag: &str) -> Option<Self> {
        let ci = std::env::var("CI").as_deref() == Ok("true");
        let Ok(admin) = std::env::var("CONCORD_TEST_POSTGRES_URL") else {
            assert!(
                !ci,
                "CI=true: the PostgreSQL tests need CONCORD_TEST_POSTGRES_URL"
            );
            eprintln!("skipped the PostgreSQL half: CONCORD_TEST_POSTGRES_URL is not set");
            return None;
        };
        let server = match sea_orm::Database::connect(&admin).await {
            Ok(server) => server,
            Err(error) if !ci => {
                eprintln!("skipped the PostgreSQL half: {admin} cannot be reached: {error}");
                return None;
            }
            Err(error) => panic!("CI=true and {admin} cannot be reached: {error}"),
        };
        let name = format!(
            "{prefix}_{tag}_{}_{}",
            std::process::id(),
            Utc::now().timestamp_micros()
        );
        server
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        server.close().await.unwrap();
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        let url = format!("{base}/{name}");
        Some(Self { admin, name, url })
    }

    /// Drops the database, closing what is still connected to it.
    pub async fn drop(self) {
        let server = sea_orm::Database::connect(&self.admin).await.unwrap();
        server
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await
            .unwrap();
        server.close().await.unwrap();
    }
}
