//! Building and running the application: the one way `main` and the tests
//! start a server.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::Compress;
use actix_web::{App, HttpResponse, HttpServer, web};
use concord_persistence::export::cpsv::BaseIri;
use concord_persistence::watch::DataWatch;
use concord_persistence::{ConnectOptions, DatabaseConnection, StoreError};
use concord_schema::ConcordSchema;

use crate::cache::ResponseCache;
use crate::graphql;
use crate::live::{Hub, Runner};
use crate::metrics::{Metrics, Parts};
use crate::pages::{self, PageError, Pages};
use crate::persisted::Persisted;
use crate::services;
use crate::settings::{Settings, SettingsError};

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Secret(#[from] crate::secret::SecretError),
    #[error("the token configuration is unusable: {0}")]
    Auth(#[from] concord_auth::AuthError),
    #[error(transparent)]
    Operations(#[from] crate::persisted::ManifestError),
    #[error("cannot render the browser pages: {0}")]
    Pages(#[from] PageError),
    #[error(transparent)]
    Peers(concord_federation::PeerError),
    #[error("cannot open, migrate or seed the database")]
    Database(#[source] StoreError),
    #[error("cannot listen on {addr}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
}

/// What every request handler shares.
pub(crate) struct AppState {
    pub schema: ConcordSchema,
    pub kept: concord_schema::Kept,
    pub verifier: concord_auth::Verifier,
    pub db: DatabaseConnection,
    pub cache: Option<Arc<ResponseCache>>,
    /// Persisted queries, and the manifest that may lock the server to them.
    pub persisted: Persisted,
    pub watch: Arc<DataWatch>,
    /// The live reads that subscriptions share.
    pub live: Arc<Hub>,
    /// Becomes true when the server begins to stop: open WebSockets close.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// The prefix of the IRIs in CPSV-AP exports, parsed once at start-up.
    pub base_iri: BaseIri,
    pub settings: Settings,
    pub metrics: Metrics,
}

/// A built, bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    shutdown: tokio::sync::watch::Sender<bool>,
}

impl Application {
    /// Opens the database (migrating it and seeding it when empty), builds
    /// the schema and binds the listener.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        settings.validate()?;
        let node = settings.node()?;
        let base_iri = settings.base_iri()?;
        let persisted = Persisted::build(&settings.persisted, &settings.graphql.limits)?;
        let secret = crate::secret::fallback_secret(&settings)?;
        let pages = web::Data::new(Pages::build()?);
        let verifier = concord_auth::Verifier::new(&settings.auth, secret)?;
        let mut options = ConnectOptions::new(settings.database.url.clone());
        options.max_connections = settings.database.max_connections;
        let mut metrics = Metrics::new();
        let (db, statements) =
            concord_persistence::connect_observed(&options, Some(metrics.statement_observer()))
                .await
                .map_err(StartupError::Database)?;
        concord_persistence::migrate(&db)
            .await
            .map_err(StartupError::Database)?;
        if settings.database.seed_on_start
            && let Some(report) = concord_persistence::seed::seed_if_empty(&db)
                .await
                .map_err(StartupError::Database)?
        {
            tracing::info!(
                reference = report.reference_rows,
                illustrative = report.illustrative_rows,
                "seeded an empty database"
            );
        }
        let listener =
            TcpListener::bind(&settings.server.bind).map_err(|source| StartupError::Bind {
                addr: settings.server.bind.clone(),
                source,
            })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind {
                addr: settings.server.bind.clone(),
                source,
            })?
            .port();
        if let Some(region) = &node.region {
            tracing::info!(%region, "province node: writes only this region's rows");
        }
        let workers = settings.server.workers;
        let shutdown_secs = settings.server.shutdown_timeout_secs;
        // Its connection serves the reads of `/metrics` too, which are then
        // not counted among the requests' statements.
        let background = watch_connection(&options, &db).await?;
        let watch = DataWatch::new(background.clone())
            .await
            .map_err(StartupError::Database)?;
        let peers = Arc::new(crate::peers::peers(&settings, &db).await?);
        let schema =
            concord_schema::build_schema(db.clone(), node, &settings.graphql, &watch, peers);
        let kept = concord_schema::Kept::new(&watch);
        let cache = match settings.server.response_cache_mb {
            0 => None,
            megabytes => {
                let cache = Arc::new(ResponseCache::new(megabytes << 20, watch.version()));
                watch.observe(cache.clone());
                Some(cache)
            }
        };
        let evaluators = match settings.subscriptions.evaluators {
            0 => (settings.database.max_connections as usize / 2).max(1),
            n => n,
        };
        let live = Hub::start(
            Runner {
                schema: schema.clone(),
                db: db.clone(),
                kept: kept.clone(),
                graphql: settings.graphql.clone(),
                timeout: Duration::from_millis(settings.server.request_timeout_ms),
            },
            &watch,
            evaluators,
            settings.subscriptions.max_total,
        );
        watch.observe(live.clone());
        watch.follow();
        metrics.register_parts(Parts {
            statements,
            db: background,
            cache: cache.clone(),
            live: live.clone(),
            watch: watch.clone(),
        });
        let serve_metrics = settings.telemetry.metrics;
        let (shutdown_sender, shutdown) = tokio::sync::watch::channel(false);
        let state = web::Data::new(AppState {
            schema,
            kept,
            verifier,
            db,
            cache,
            persisted,
            watch,
            live,
            shutdown,
            base_iri,
            settings,
            metrics,
        });
        let mut server = HttpServer::new(move || {
            let app = App::new()
                .wrap(actix_web::middleware::from_fn(crate::requests::observe))
                .app_data(state.clone())
                .app_data(pages.clone())
                .route("/", web::get().to(pages::dashboard))
                .service(
                    web::resource("/assets/{hash}/{name}")
                        .wrap(Compress::default())
                        .route(web::get().to(pages::asset)),
                )
                .service(
                    web::resource("/graphql")
                        .route(web::post().to(graphql::post))
                        .route(web::get().to(graphql::get))
                        .route(web::route().to(graphql::method_not_allowed)),
                )
                .route("/services/{region}", web::get().to(services::region))
                .route(
                    "/services/{region}/{matter}",
                    web::get().to(services::guide),
                )
                .route(services::CONTEXT_PATH, web::get().to(services::context))
                .route(
                    concord_federation::PART_PATH,
                    web::get().to(crate::peers::part),
                )
                .route("/healthz", web::get().to(healthz))
                .route("/readyz", web::get().to(readyz));
            if serve_metrics {
                app.route("/metrics", web::get().to(crate::metrics::scrape))
            } else {
                app
            }
        })
        .shutdown_timeout(shutdown_secs)
        // Signals are handled in `run_until_stopped`, which closes the
        // WebSockets before the server stops.
        .disable_signals()
        .client_request_timeout(Duration::from_secs(10));
        if workers > 0 {
            server = server.workers(workers);
        }
        let server = server
            .listen(listener)
            .map_err(|source| StartupError::Bind {
                addr: format!("port {port}"),
                source,
            })?
            .run();
        Ok(Self {
            port,
            server,
            shutdown: shutdown_sender,
        })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT or SIGTERM, then closes every WebSocket with
    /// "going away" (after the messages already queued on it) and lets
    /// in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Self {
            server, shutdown, ..
        } = self;
        let handle = server.handle();
        let mut server = std::pin::pin!(server);
        tokio::select! {
            stopped = &mut server => return stopped,
            () = stop_signal() => {}
        }
        tracing::info!("stopping: closing WebSockets, finishing requests");
        shutdown.send_replace(true);
        // The stop command goes out at once; the server future, awaited
        // below, carries it out, waiting for open connections (the
        // WebSockets closing too) up to `server.shutdown_timeout_secs`.
        drop(handle.stop(true));
        server.await
    }
}

/// SIGINT or SIGTERM.
pub async fn stop_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(terminate) => terminate,
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for SIGTERM");
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match concord_persistence::queries::ping(&state.db).await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({ "status": "ready" })),
        Err(error) => {
            tracing::warn!(error = ?error, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .json(serde_json::json!({ "status": "database unavailable" }))
        }
    }
}

/// The connection the data watch reads through: its own, so that its
/// background statements are not counted as the requests', except for an
/// in-memory SQLite database, which exists only on its one connection.
async fn watch_connection(
    options: &ConnectOptions,
    db: &DatabaseConnection,
) -> Result<DatabaseConnection, StartupError> {
    if options.is_in_memory() {
        return Ok(db.clone());
    }
    let mut own = options.clone();
    // One connection for the follower, one to catch up with.
    own.max_connections = 2;
    let (watch_db, _uncounted) = concord_persistence::connect(&own)
        .await
        .map_err(StartupError::Database)?;
    Ok(watch_db)
}
