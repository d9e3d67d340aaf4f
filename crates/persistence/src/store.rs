//! Opening the database: SQLite in WAL mode or PostgreSQL, with the
//! migrations applied and every statement counted.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use concord_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

use crate::StoreError;

/// How to open the database.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub url: String,
    pub max_connections: u32,
}

impl ConnectOptions {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 8,
        }
    }

    pub fn is_sqlite(&self) -> bool {
        self.url.starts_with("sqlite:")
    }

    /// An SQLite database that lives only in this process's memory.
    pub fn is_in_memory(&self) -> bool {
        self.is_sqlite() && (self.url.contains(":memory:") || self.url.contains("mode=memory"))
    }
}

/// Counts the SQL statements run on a connection, so that metrics and tests
/// can see how many round trips a request costs.
#[derive(Debug, Clone, Default)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Told of every statement a connection runs once it has run: its SQL,
/// how long it took and whether it failed (metrics and traces).
pub type StatementObserver = Arc<dyn Fn(&StatementInfo<'_>) + Send + Sync>;

/// What a connection reports of a statement it has run.
pub type StatementInfo<'a> = sea_orm::metric::Info<'a>;

/// How long a pooled connection may sit idle before it is checked with a
/// round trip when next acquired.
const IDLE_BEFORE_CHECK: Duration = Duration::from_secs(1);

/// Opens the database and returns it with a counter of its statements.
pub async fn connect(
    options: &ConnectOptions,
) -> Result<(DatabaseConnection, StatementCounter), StoreError> {
    connect_observed(options, None).await
}

/// [`connect`], telling `observer` of every statement too.
pub async fn connect_observed(
    options: &ConnectOptions,
    observer: Option<StatementObserver>,
) -> Result<(DatabaseConnection, StatementCounter), StoreError> {
    let url = options.url.as_str();
    let sqlite = options.is_sqlite();
    if !sqlite && !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
        return Err(StoreError::UnsupportedUrl(url.to_owned()));
    }
    let in_memory = options.is_in_memory();
    let mut sea = sea_orm::ConnectOptions::new(url);
    // An in-memory SQLite database lives and dies with its one connection.
    let max = if in_memory {
        1
    } else {
        options.max_connections
    };
    sea.max_connections(max)
        .min_connections(if in_memory { 1 } else { 0 })
        .acquire_timeout(Duration::from_secs(10))
        // A connection is checked with a round trip only when it has sat
        // idle for a while, as connection pools commonly do: checking it on
        // every acquire doubled the round trips of a busy server, whose
        // connections are handed on within milliseconds and fail their
        // next statement, as a check would, if the database went away.
        .test_before_acquire_if_idle_for(IDLE_BEFORE_CHECK)
        .sqlx_logging(false);
    if in_memory {
        sea.idle_timeout(None).max_lifetime(None);
    }
    if sqlite {
        sea.map_sqlx_sqlite_opts(move |opts| {
            let opts = opts
                .create_if_missing(true)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            if in_memory {
                opts
            } else {
                // WAL lets readers proceed while one writer commits; NORMAL
                // sync is durable across application crashes in WAL mode.
                opts.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
            }
        });
    }
    let mut db = Database::connect(sea).await?;
    let counter = StatementCounter::default();
    let count = counter.0.clone();
    db.set_metric_callback(move |info| {
        count.fetch_add(1, Ordering::Relaxed);
        if let Some(observe) = &observer {
            observe(info);
        }
        tracing::trace!(target: "concord::sql", elapsed = ?info.elapsed, failed = info.failed, sql = %info.statement.sql);
    });
    Ok((db, counter))
}

/// Applies every pending migration, then builds the text search index of
/// a database whose rows predate it.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), StoreError> {
    Migrator::up(db, None).await?;
    crate::search::build_if_missing(db).await
}

/// Refreshes the planner's statistics after a bulk load, which the planner
/// would otherwise guess at. On PostgreSQL it also vacuums, so that the
/// visibility map covers the new rows: until autovacuum gets round to them,
/// counting a region's published guides visits every row's heap page
/// (1.9 ms) instead of reading the index alone (0.1 ms).
pub async fn analyze(db: &DatabaseConnection) -> Result<(), StoreError> {
    let statement = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => "VACUUM (ANALYZE)",
        _ => "ANALYZE",
    };
    db.execute_unprepared(statement).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, Statement};

    use super::*;

    /// `.cargo/config.toml` builds the bundled SQLite without its global
    /// allocation counter; a build that lost the flag would still pass every
    /// other test while reads on SQLite contend on one mutex.
    #[tokio::test]
    async fn sqlite_is_built_without_allocation_statistics() {
        let (db, _) = connect(&ConnectOptions::new("sqlite::memory:"))
            .await
            .unwrap();
        let rows = db
            .query_all_raw(Statement::from_string(
                sea_orm::DatabaseBackend::Sqlite,
                "PRAGMA compile_options",
            ))
            .await
            .unwrap();
        let options: Vec<String> = rows
            .iter()
            .map(|row| row.try_get_by_index(0).unwrap())
            .collect();
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "compile options: {options:?}"
        );
    }
}
