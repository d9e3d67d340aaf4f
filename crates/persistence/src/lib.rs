//! Concord's storage: sea-orm entities, connection set-up, migrations, the
//! reference and illustrative seed data, file import and the queries the API needs.
//!
//! Depends on `domain` and the migrations only; never on the GraphQL or HTTP layers.

pub mod baselines;
pub mod bench_data;
pub mod changes;
pub mod conflicts;
pub mod entity;
mod error;
pub mod export;
pub mod footprint;
pub mod import;
pub mod mutate;
pub mod peers;
pub mod progress;
pub mod queries;
pub mod search;
pub mod seed;
mod store;
#[cfg(test)]
mod test_support;
pub mod version;
pub mod watch;
pub mod write;

pub use error::StoreError;
pub use progress::Progress;
pub use sea_orm::{DatabaseConnection, DbBackend};
pub use store::{
    ConnectOptions, StatementCounter, StatementInfo, StatementObserver, analyze, connect,
    connect_observed, migrate,
};
