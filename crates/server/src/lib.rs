//! Concord's HTTP server: configuration, routes, the GraphQL-over-HTTP
//! responder, subscriptions over WebSocket and the live reads behind them,
//! the dashboard and GraphiQL pages, health, metrics, logs and traces, and
//! graceful shutdown.
//!
//! The top of the dependency graph: nothing in the workspace depends on it
//! but the `concord` binary and the black-box tests.

mod cache;
mod graphql;
mod live;
mod metrics;
mod pages;
mod peers;
mod persisted;
mod recent;
mod requests;
mod secret;
mod services;
mod settings;
mod startup;
pub mod telemetry;
mod ws;

pub use pages::PageError;
pub use persisted::{ManifestError, PersistedSettings};
pub use secret::{SecretError, fallback_secret, secret_path};
pub use settings::{
    DatabaseSettings, ExportSettings, NodeSettings, ServerSettings, Settings, SettingsError,
    SubscriptionSettings,
};
pub use startup::{Application, StartupError, stop_signal};
