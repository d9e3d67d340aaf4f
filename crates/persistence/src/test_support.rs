//! What the crate's unit tests share: a seeded database and the reads their
//! assertions make.

use sea_orm::DatabaseConnection;

use crate::queries;

/// A fresh in-memory SQLite database, migrated and seeded as `concord serve`
/// would leave it.
pub(crate) async fn seeded_database() -> DatabaseConnection {
    let (db, _) = crate::connect(&crate::ConnectOptions::new("sqlite::memory:"))
        .await
        .unwrap();
    crate::migrate(&db).await.unwrap();
    crate::seed::seed(&db).await.unwrap();
    db
}

/// The codes of the standards linked to `matter`, in order (the query
/// orders the links by standard).
pub(crate) async fn linked_standards(db: &DatabaseConnection, matter: &str) -> Vec<String> {
    queries::standard_links(db, &[], &[matter.to_owned()])
        .await
        .unwrap()
        .into_iter()
        .map(|link| link.standard_code)
        .collect()
}
