//! Configuration in layers: defaults, then a TOML file, then
//! `CONCORD__SECTION__KEY` environment variables.

use std::net::SocketAddr;
use std::path::Path;

use concord_persistence::export::cpsv::{BaseIri, DEFAULT_BASE_IRI};
use concord_schema::SchemaSettings;
use serde::Deserialize;

/// Everything `concord serve` can be told.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub graphql: SchemaSettings,
    pub persisted: crate::persisted::PersistedSettings,
    pub auth: concord_auth::AuthSettings,
    pub node: NodeSettings,
    pub export: ExportSettings,
    pub subscriptions: SubscriptionSettings,
    pub telemetry: crate::telemetry::TelemetrySettings,
    pub federation: concord_federation::FederationSettings,
}

/// GraphQL subscriptions over WebSocket on `/graphql`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SubscriptionSettings {
    /// Accept WebSocket connections on `/graphql`. Off, an upgrade is
    /// refused with 400 and peers' sync jobs poll instead of streaming.
    pub enabled: bool,
    /// Subscriptions one connection may hold open at once.
    pub max_per_connection: usize,
    /// Subscriptions the server holds open at once, over every connection.
    pub max_total: usize,
    /// Seconds between the server's keep-alive pings.
    pub keep_alive_secs: u64,
    /// Seconds a client has to send `connection_init` after connecting.
    pub init_timeout_secs: u64,
    /// Live reads evaluated at once after a commit; 0 means half the
    /// database connections.
    pub evaluators: usize,
}

impl Default for SubscriptionSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            max_per_connection: 100,
            max_total: 50_000,
            keep_alive_secs: 15,
            init_timeout_secs: 10,
            evaluators: 0,
        }
    }
}

/// What CPSV-AP exports (`/services/…`, `concord export`) say about themselves.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ExportSettings {
    /// The prefix of every IRI an export mints, e.g. `urn:concord:` or
    /// `https://hrss.example.gov.cn/id/`; it must end with `:`, `/` or `#`.
    pub base_iri: String,
    /// The URL clients reach this server at, e.g. `https://concord.example.gov.cn`,
    /// for the context URL in `/services/…` documents; unset, the request's
    /// own scheme and host are used.
    pub public_url: Option<String>,
}

impl Default for ExportSettings {
    fn default() -> Self {
        Self {
            base_iri: DEFAULT_BASE_IRI.to_owned(),
            public_url: None,
        }
    }
}

/// What this deployment is.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct NodeSettings {
    /// A province node's region code; unset for a national hub. A province
    /// node writes only its own region's rows, whatever a token allows.
    pub region: Option<String>,
    /// The zone peers live zone reads ask (`[[node.peers]]`).
    pub peers: Vec<concord_federation::PeerSettings>,
}

/// The HTTP side.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ServerSettings {
    /// Address to listen on; port 0 picks a free port.
    pub bind: String,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Longest a GraphQL request may run, in milliseconds.
    pub request_timeout_ms: u64,
    /// Serve GraphiQL to browsers that open `/graphql`.
    pub graphiql: bool,
    /// Worker threads; 0 means one per core.
    pub workers: usize,
    /// Seconds to let in-flight requests finish after SIGTERM.
    pub shutdown_timeout_secs: u64,
    /// Megabytes of query responses kept while the data stays unchanged;
    /// 0 turns the response cache off.
    pub response_cache_mb: usize,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".to_owned(),
            body_limit: 1024 * 1024,
            request_timeout_ms: 10_000,
            graphiql: true,
            workers: 0,
            shutdown_timeout_secs: 30,
            response_cache_mb: 32,
        }
    }
}

/// The database side.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct DatabaseSettings {
    /// `sqlite://FILE` (created when missing) or `postgres://USER@HOST/DB`.
    pub url: String,
    /// Connections in the pool.
    pub max_connections: u32,
    /// Load the reference and illustrative data when the database is empty.
    pub seed_on_start: bool,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: "sqlite://concord.db".to_owned(),
            max_connections: 8,
            seed_on_start: true,
        }
    }
}

/// Why the configuration could not be used; each says how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read the configuration: {0}")]
    Load(#[from] config::ConfigError),
    #[error("server.bind `{0}` is not an address such as 127.0.0.1:8080")]
    Bind(String),
    #[error("server.body_limit must be at least 1024 bytes")]
    BodyLimit,
    #[error("database.url `{0}` must start with sqlite:// or postgres://")]
    DatabaseUrl(String),
    #[error("node.region: {0}")]
    NodeRegion(String),
    #[error("export.base_iri: {0}")]
    BaseIri(String),
    #[error("export.public_url `{0}` must start with http:// or https://")]
    PublicUrl(String),
    #[error("subscriptions.{0} must be at least 1")]
    Subscriptions(&'static str),
    #[error("{0}")]
    Telemetry(String),
}

impl Settings {
    /// Reads defaults, then `file` when given (or `concord.toml` when present),
    /// then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        let mut builder = config::Config::builder();
        match file {
            Some(path) => builder = builder.add_source(config::File::from(path).required(true)),
            None => {
                builder =
                    builder.add_source(config::File::with_name("concord.toml").required(false))
            }
        }
        let settings: Settings = builder
            .add_source(
                config::Environment::with_prefix("CONCORD")
                    .prefix_separator("__")
                    .separator("__"),
            )
            .build()?
            .try_deserialize()?;
        Ok(settings)
    }

    /// Checks what serde cannot: addresses, URLs, sizes.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.server.bind.parse::<SocketAddr>().is_err() {
            return Err(SettingsError::Bind(self.server.bind.clone()));
        }
        if self.server.body_limit < 1024 {
            return Err(SettingsError::BodyLimit);
        }
        self.node()?;
        self.base_iri()?;
        let subscriptions = &self.subscriptions;
        for (name, value) in [
            (
                "max_per_connection",
                subscriptions.max_per_connection as u64,
            ),
            ("max_total", subscriptions.max_total as u64),
            ("keep_alive_secs", subscriptions.keep_alive_secs),
            ("init_timeout_secs", subscriptions.init_timeout_secs),
        ] {
            if value == 0 {
                return Err(SettingsError::Subscriptions(name));
            }
        }
        if let Some(problem) = self.telemetry.problem() {
            return Err(SettingsError::Telemetry(problem));
        }
        if let Some(url) = &self.export.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(SettingsError::PublicUrl(url.clone()));
        }
        let url = &self.database.url;
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(SettingsError::DatabaseUrl(url.clone()));
        }
        Ok(())
    }
}

impl Settings {
    /// The deployment this configuration describes.
    pub fn node(&self) -> Result<concord_auth::Node, SettingsError> {
        let region = self
            .node
            .region
            .as_deref()
            .filter(|r| !r.is_empty())
            .map(|r| {
                concord_domain::RegionCode::try_from(r)
                    .map_err(|e| SettingsError::NodeRegion(e.to_string()))
            })
            .transpose()?;
        Ok(concord_auth::Node { region })
    }

    /// The base IRI of CPSV-AP exports.
    pub fn base_iri(&self) -> Result<BaseIri, SettingsError> {
        BaseIri::parse(&self.export.base_iri).map_err(SettingsError::BaseIri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let settings = Settings::default();
        settings.validate().unwrap();
        assert_eq!(settings.server.bind, "127.0.0.1:8080");
        assert_eq!(settings.database.url, "sqlite://concord.db");
    }

    #[test]
    fn bad_settings_say_what_to_fix() {
        let mut settings = Settings::default();
        settings.server.bind = "localhost".into();
        assert!(
            settings
                .validate()
                .unwrap_err()
                .to_string()
                .contains("127.0.0.1:8080")
        );
        let mut settings = Settings::default();
        settings.export.base_iri = "concord".into();
        assert!(
            settings
                .validate()
                .unwrap_err()
                .to_string()
                .contains("export.base_iri")
        );
        let mut settings = Settings::default();
        settings.database.url = "mysql://x".into();
        assert!(
            settings
                .validate()
                .unwrap_err()
                .to_string()
                .contains("sqlite://")
        );
    }

    #[test]
    fn a_file_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "[server]\nbind = \"127.0.0.1:9000\"\n[graphql.limits]\nmax_depth = 7\n",
        )
        .unwrap();
        let settings = Settings::load(Some(&path)).unwrap();
        assert_eq!(settings.server.bind, "127.0.0.1:9000");
        assert_eq!(settings.graphql.limits.max_depth, 7);
        assert_eq!(settings.graphql.limits.max_aliases, 30);
    }
}
