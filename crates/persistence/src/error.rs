use sea_orm::DbErr;

/// What can go wrong in storage. Messages here are for the log, not for
/// clients: the API maps these to codes and hides the detail.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error")]
    Database(#[from] DbErr),
    #[error("the database URL `{0}` is not SQLite (sqlite://...) or PostgreSQL (postgres://...)")]
    UnsupportedUrl(String),
    /// A stored value that the domain does not accept: the database was
    /// changed behind Concord's back.
    #[error("a stored value is invalid: {0}")]
    Corrupt(String),
    #[error("reference data `{file}` is invalid: {message}")]
    Reference { file: &'static str, message: String },
}

/// A stored value the domain does not accept, saying what is wrong.
pub(crate) fn corrupt(message: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(message.to_string())
}
