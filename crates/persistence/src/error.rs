use sea_orm::DbErr;

/// What can go wrong in storage. Messages here are for the log, not for
/// clients: the API maps these to codes and hides the detail.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error")]
    Database(#[from] DbErr),
    #[error("the database URL `{0}` is not SQLite (sqlite://...) or PostgreSQL (postgres://...)")]
    UnsupportedUrl(String),
    #[error("reference data `{file}` is invalid: {message}")]
    Reference { file: &'static str, message: String },
}
