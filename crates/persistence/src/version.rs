//! The data version: a counter that every write transaction raises just
//! before it commits, together with a note of what the transaction touched
//! (a [`Footprint`], one `data_change` row per version). Raising it last
//! keeps its row lock (PostgreSQL) to the commit itself, so it cannot take
//! part in a deadlock; and since the new value becomes visible exactly when
//! the data does, a reader that sees version `v` sees every write counted in
//! it. On PostgreSQL the commit also notifies every listening process
//! ([`crate::watch`]).

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, Statement};

use crate::StoreError;
use crate::footprint::Footprint;

/// The PostgreSQL notification channel that announces each commit.
pub const CHANNEL: &str = "concord_data";

/// How many `data_change` rows are kept. A process that falls further
/// behind than this treats the gap as "everything changed".
pub const KEPT_CHANGES: i64 = 10_000;

/// The version as last committed.
pub async fn current<C: ConnectionTrait>(conn: &C) -> Result<i64, StoreError> {
    let statement = Statement::from_string(
        conn.get_database_backend(),
        "SELECT version FROM data_version WHERE id = 1",
    );
    let row = conn
        .query_one_raw(statement)
        .await?
        .ok_or_else(|| StoreError::Corrupt("the data_version row is missing".into()))?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

/// Commits a write transaction whose changes are not described in detail:
/// every cached answer is treated as stale.
pub async fn commit(txn: DatabaseTransaction) -> Result<i64, DbErr> {
    commit_touching(txn, &Footprint::everything()).await
}

/// Commits a write transaction that changed only what `touched` names,
/// raising the version and recording `touched` as its last statements.
/// Returns the new version.
pub async fn commit_touching(txn: DatabaseTransaction, touched: &Footprint) -> Result<i64, DbErr> {
    let backend = txn.get_database_backend();
    let row = txn
        .query_one_raw(Statement::from_string(
            backend,
            "UPDATE data_version SET version = version + 1 WHERE id = 1 RETURNING version",
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the data_version row is missing".into()))?;
    let version = row.try_get_by_index::<i64>(0)?;
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        match backend {
            DbBackend::Postgres => "INSERT INTO data_change (version, touched) VALUES ($1, $2)",
            _ => "INSERT INTO data_change (version, touched) VALUES (?, ?)",
        },
        [version.into(), touched.to_string().into()],
    ))
    .await?;
    // Pruning in steps keeps the statement off most commits.
    if version % 256 == 0 {
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            match backend {
                DbBackend::Postgres => "DELETE FROM data_change WHERE version <= $1",
                _ => "DELETE FROM data_change WHERE version <= ?",
            },
            [(version - KEPT_CHANGES).into()],
        ))
        .await?;
    }
    if backend == DbBackend::Postgres {
        // Delivered at commit, to every session listening on the channel.
        txn.execute_raw(Statement::from_string(backend, format!("NOTIFY {CHANNEL}")))
            .await?;
    }
    txn.commit().await?;
    Ok(version)
}
