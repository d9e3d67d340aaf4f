//! The data version: a counter that every write transaction raises just
//! before it commits. Raising it last keeps its row lock (PostgreSQL) to the
//! commit itself, so it cannot take part in a deadlock; and since the new
//! value becomes visible exactly when the data does, a reader that sees
//! version `v` sees every write counted in it. Readers use it to tell with
//! one primary-key lookup whether anything changed since they last looked.

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr, Statement};

use crate::StoreError;

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

/// Raises the version within `conn`'s transaction (or on its own, outside one).
pub async fn raise<C: ConnectionTrait>(conn: &C) -> Result<(), DbErr> {
    conn.execute_raw(Statement::from_string(
        conn.get_database_backend(),
        "UPDATE data_version SET version = version + 1 WHERE id = 1",
    ))
    .await?;
    Ok(())
}

/// Commits a write transaction, raising the version as its last statement.
pub async fn commit(txn: DatabaseTransaction) -> Result<(), DbErr> {
    raise(&txn).await?;
    txn.commit().await
}
