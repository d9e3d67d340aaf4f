//! Concord's HTTP server: configuration, routes, the GraphQL-over-HTTP
//! responder, subscriptions over WebSocket and the live reads behind them,
//! the dashboard and GraphiQL pages, health and metrics, and graceful
//! shutdown.
//!
//! The top of the dependency graph: nothing in the workspace depends on it
//! but the `concord` binary and the black-box tests.

mod cache;
mod graphql;
mod live;
mod pages;
mod peers;
mod recent;
mod secret;
mod services;
mod settings;
mod startup;
mod ws;

pub use pages::PageError;
pub use secret::{SecretError, fallback_secret, secret_path};
pub use settings::{
    DatabaseSettings, ExportSettings, NodeSettings, ServerSettings, Settings, SettingsError,
    SubscriptionSettings,
};
pub use startup::{Application, StartupError};
