//! Following the data version without asking the database on every read.
//!
//! A [`DataWatch`] knows the last commit this process has seen and tells its
//! observers (the response cache, anything else that keeps derived answers)
//! what each commit touched, in commit order, before it counts the commit as
//! seen. It learns of commits three ways:
//!
//! - a write made through this process calls [`DataWatch::catch_up`] before
//!   it answers its caller, so no later request can see an older state;
//! - on PostgreSQL, every commit notifies the [`CHANNEL`](crate::version::CHANNEL)
//!   channel and a listener catches up at once;
//! - on an SQLite file, a poller reads `PRAGMA data_version` (which changes
//!   when another connection commits) every [`POLL`] and catches up.
//!
//! While the follower is not known to be connected (PostgreSQL reconnecting,
//! or a failed poll), [`DataWatch::is_live`] is false and readers must catch
//! up themselves before trusting what they keep.
//!
//! The watch reads through a connection of its own, so that its background
//! statements never count against the requests it serves.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use crate::StoreError;
use crate::footprint::Footprint;

/// How often an SQLite poller looks for commits of other processes: the
/// bound on how stale a cached answer may be after another process writes.
pub const POLL: Duration = Duration::from_millis(10);

/// One commit: its version and what it touched.
#[derive(Debug, Clone)]
pub struct Commit {
    pub version: i64,
    pub touched: Footprint,
}

/// Something that keeps answers derived from the data, told of every commit.
pub trait CommitObserver: Send + Sync {
    /// Called once per commit, in version order, before the commit counts
    /// as seen.
    fn committed(&self, commit: &Commit);
}

/// The last commit this process knows of, and who to tell about new ones.
pub struct DataWatch {
    db: DatabaseConnection,
    seen: AtomicI64,
    live: AtomicBool,
    catching_up: tokio::sync::Mutex<()>,
    observers: RwLock<Vec<Arc<dyn CommitObserver>>>,
    /// The version seen, for tasks that wait for the next commit.
    versions: tokio::sync::watch::Sender<i64>,
}

impl DataWatch {
    /// A watch that reads through `db` and starts at its current version,
    /// with no follower yet (see [`DataWatch::follow`]).
    pub async fn new(db: DatabaseConnection) -> Result<Arc<Self>, StoreError> {
        let version = crate::version::current(&db).await?;
        Ok(Arc::new(Self {
            db,
            seen: AtomicI64::new(version),
            live: AtomicBool::new(false),
            catching_up: tokio::sync::Mutex::new(()),
            observers: RwLock::new(Vec::new()),
            versions: tokio::sync::watch::Sender::new(version),
        }))
    }

    /// Adds an observer of every commit from now on.
    pub fn observe(&self, observer: Arc<dyn CommitObserver>) {
        self.observers
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(observer);
    }

    /// The last version whose commit every observer has been told of.
    pub fn version(&self) -> i64 {
        self.seen.load(Ordering::Acquire)
    }

    /// The version seen, changing after the observers have been told of
    /// each batch of commits: for a task that waits for the next commit.
    pub fn versions(&self) -> tokio::sync::watch::Receiver<i64> {
        self.versions.subscribe()
    }

    /// Whether a follower keeps [`DataWatch::version`] current on its own.
    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    /// Reads the commits after the last one seen and tells the observers,
    /// in order. Returns the version now seen.
    pub async fn catch_up(&self) -> Result<i64, StoreError> {
        let _one_at_a_time = self.catching_up.lock().await;
        let seen = self.version();
        let backend = self.db.get_database_backend();
        let rows = self
            .db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                match backend {
                    DbBackend::Postgres => {
                        "SELECT version, touched FROM data_change WHERE version > $1 ORDER BY version"
                    }
                    _ => "SELECT version, touched FROM data_change WHERE version > ? ORDER BY version",
                },
                [seen.into()],
            ))
            .await?;
        let mut commits = Vec::with_capacity(rows.len());
        for row in rows {
            let version = row.try_get_by_index::<i64>(0)?;
            let touched = row.try_get_by_index::<String>(1)?;
            commits.push(Commit {
                version,
                touched: Footprint::parse(&touched),
            });
        }
        if commits
            .first()
            .is_some_and(|first| first.version != seen + 1)
        {
            // The rows in between were pruned: whatever they touched is unknown.
            let before = commits[0].version - 1;
            commits.insert(
                0,
                Commit {
                    version: before,
                    touched: Footprint::everything(),
                },
            );
        }
        let observers = self
            .observers
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        for commit in &commits {
            for observer in &observers {
                observer.committed(commit);
            }
            self.seen.store(commit.version, Ordering::Release);
        }
        if let Some(last) = commits.last() {
            self.versions.send_replace(last.version);
        }
        Ok(self.version())
    }

    /// Starts following commits of other processes in the background, for
    /// as long as the runtime lives. An in-memory SQLite database has no
    /// other process, so it needs no follower.
    pub fn follow(self: &Arc<Self>) {
        let watch = Arc::clone(self);
        match self.db.get_database_backend() {
            DbBackend::Postgres => {
                tokio::spawn(async move { watch.listen().await });
            }
            _ => {
                tokio::spawn(async move { watch.poll().await });
            }
        }
    }

    fn set_live(&self, live: bool) {
        self.live.store(live, Ordering::Release);
    }

    async fn listen(&self) {
        use sea_orm::sqlx::postgres::PgListener;
        let pool = self.db.get_postgres_connection_pool().clone();
        let mut wait = Duration::from_millis(50);
        loop {
            let mut listener = match PgListener::connect_with(&pool).await {
                Ok(listener) => listener,
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for commits; readers ask the database");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(5));
                    continue;
                }
            };
            if let Err(error) = listener.listen(crate::version::CHANNEL).await {
                tracing::warn!(%error, "cannot listen for commits; readers ask the database");
                tokio::time::sleep(wait).await;
                continue;
            }
            // Commits made before the listener was up have not been announced.
            if self.catch_up().await.is_err() {
                tokio::time::sleep(wait).await;
                continue;
            }
            wait = Duration::from_millis(50);
            self.set_live(true);
            loop {
                match listener.try_recv().await {
                    Ok(Some(_)) => {
                        if let Err(error) = self.catch_up().await {
                            tracing::warn!(error = ?error, "cannot read the latest commits");
                            self.set_live(false);
                            break;
                        }
                    }
                    // The connection dropped: announcements may have been lost.
                    Ok(None) | Err(_) => {
                        self.set_live(false);
                        break;
                    }
                }
            }
        }
    }

    async fn poll(&self) {
        let pool = self.db.get_sqlite_connection_pool().clone();
        if pool
            .connect_options()
            .get_filename()
            .as_os_str()
            .to_string_lossy()
            .contains(":memory:")
        {
            // Only this process's own writes, which catch up as they answer.
            self.set_live(true);
            return;
        }
        let mut last = None;
        let mut ticks = tokio::time::interval(POLL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut connection = None;
        loop {
            ticks.tick().await;
            if connection.is_none() {
                match pool.acquire().await {
                    Ok(acquired) => connection = Some(acquired),
                    Err(error) => {
                        tracing::warn!(%error, "cannot watch for commits; readers ask the database");
                        self.set_live(false);
                        continue;
                    }
                }
            }
            let Some(held) = connection.as_mut() else {
                continue;
            };
            let polled: Result<i64, _> = sea_orm::sqlx::query_scalar("PRAGMA data_version")
                .fetch_one(&mut **held)
                .await;
            match polled {
                Ok(now) if last == Some(now) => {}
                Ok(now) => match self.catch_up().await {
                    Ok(_) => {
                        last = Some(now);
                        self.set_live(true);
                    }
                    Err(error) => {
                        tracing::warn!(error = ?error, "cannot read the latest commits");
                        self.set_live(false);
                    }
                },
                Err(error) => {
                    tracing::warn!(%error, "cannot watch for commits; readers ask the database");
                    connection = None;
                    self.set_live(false);
                }
            }
        }
    }
}
