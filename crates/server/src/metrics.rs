//! `GET /metrics`: Prometheus metrics in the OpenMetrics text format,
//! encoded by the Prometheus project's own client.
//!
//! Each [`Application`](crate::Application) has its own registry rather than
//! a process-wide one, so that the servers the tests start side by side in
//! one process each count only their own requests.

use std::collections::HashSet;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use concord_persistence::watch::DataWatch;
use concord_persistence::{DatabaseConnection, StatementCounter, StatementObserver};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::cache::ResponseCache;
use crate::live::Hub;
use crate::startup::AppState;

/// The media type of the OpenMetrics text format, which Prometheus asks for
/// first.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The media type of Prometheus's classic text format, for every other client.
const CLASSIC: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Operation names a process labels its latency by; any further names are
/// counted as `other`, since clients choose them and each is a time series.
const MAX_OPERATION_NAMES: usize = 200;

/// The labels of a GraphQL operation's latency.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    /// The operation's name, `anonymous` without one.
    operation: String,
    /// query, mutation, subscription, or invalid for a document that does
    /// not parse or names no operation it holds.
    r#type: &'static str,
}

/// The label of a sync peer.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PeerLabels {
    peer: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Latency buckets from 0.5 ms to about 16 s.
fn request_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// Latency buckets from 50 µs to about 1.6 s.
fn statement_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.00005, 2.0, 16))
}

/// The application's metrics.
pub(crate) struct Metrics {
    registry: Registry,
    operations: HistogramFamily<OperationLabels>,
    names: Mutex<HashSet<String>>,
    statements: Histogram,
    sync_lag: Family<PeerLabels, Gauge>,
    sync_age: Family<PeerLabels, Gauge<f64, AtomicU64>>,
    /// Where the sync peers are read at each scrape, once the parts are known.
    peers_from: Option<DatabaseConnection>,
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::default();
        let operations = HistogramFamily::<OperationLabels>::new_with_constructor(
            request_histogram as fn() -> Histogram,
        );
        registry.register(
            "concord_graphql_operation_duration_seconds",
            "Time to answer a GraphQL query or mutation (over HTTP or a WebSocket), cache hits included, by operation name and type",
            operations.clone(),
        );
        let statements = statement_histogram();
        registry.register(
            "concord_sql_statement_duration_seconds",
            "Time each SQL statement of the request pool took",
            statements.clone(),
        );
        let sync_lag = Family::<PeerLabels, Gauge>::default();
        registry.register(
            "concord_sync_peer_lag_changes",
            "Changes a peer still had beyond this node's cursor at the last page applied from it",
            sync_lag.clone(),
        );
        let sync_age = Family::<PeerLabels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "concord_sync_peer_last_success_age_seconds",
            "Seconds since a page from the peer was last applied",
            sync_age.clone(),
        );
        Self {
            registry,
            operations,
            names: Mutex::new(HashSet::new()),
            statements,
            sync_lag,
            sync_age,
            peers_from: None,
        }
    }

    /// What the database connection reports each statement's duration to.
    pub(crate) fn statement_observer(&self) -> StatementObserver {
        let statements = self.statements.clone();
        Arc::new(move |info| {
            statements.observe(info.elapsed.as_secs_f64());
            crate::telemetry::statement_span(info);
        })
    }

    /// Adds the counters the application's parts keep themselves.
    pub(crate) fn register_parts(&mut self, parts: Parts) {
        self.peers_from = Some(parts.db.clone());
        self.registry.register_collector(Box::new(parts));
    }

    /// Counts one GraphQL operation answered in `elapsed`.
    pub(crate) fn observe_operation(&self, name: &str, kind: &'static str, elapsed: Duration) {
        let operation = {
            let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
            if names.contains(name) {
                name.to_owned()
            } else if names.len() < MAX_OPERATION_NAMES {
                names.insert(name.to_owned());
                name.to_owned()
            } else {
                "other".to_owned()
            }
        };
        self.operations
            .get_or_create(&OperationLabels {
                operation,
                r#type: kind,
            })
            .observe(elapsed.as_secs_f64());
    }
}

/// The parts of the application that count for themselves, read at each
/// scrape.
pub(crate) struct Parts {
    pub statements: StatementCounter,
    /// A connection whose statements are not counted as the requests'.
    pub db: DatabaseConnection,
    pub cache: Option<Arc<ResponseCache>>,
    pub live: Arc<Hub>,
    pub watch: Arc<DataWatch>,
}

impl std::fmt::Debug for Parts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Parts")
    }
}

fn counter(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: u64,
) -> std::fmt::Result {
    let metric = ConstCounter::new(value);
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

/// A count or a size as a gauge value: saturating, since a gauge stuck at
/// the top says more than one wrapped negative.
fn size(value: usize) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn gauge(encoder: &mut DescriptorEncoder, name: &str, help: &str, value: i64) -> std::fmt::Result {
    let metric = ConstGauge::new(value);
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

impl Collector for Parts {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        let e = &mut encoder;
        counter(
            e,
            "concord_sql_statements",
            "SQL statements run since start",
            self.statements.get(),
        )?;
        counter(
            e,
            "concord_graphql_requests",
            "GraphQL operations served since start",
            crate::graphql::requests_served(),
        )?;
        gauge(
            e,
            "concord_data_version_seen",
            "The last commit this process has seen",
            self.watch.version(),
        )?;
        let live = self.live.stats();
        gauge(
            e,
            "concord_subscriptions",
            "Subscriptions open now",
            size(live.subscriptions),
        )?;
        gauge(
            e,
            "concord_live_reads",
            "Distinct live reads kept up to date for the subscriptions",
            size(live.distinct),
        )?;
        counter(
            e,
            "concord_live_evaluations",
            "Evaluations of live reads",
            live.evaluations,
        )?;
        counter(
            e,
            "concord_live_changes",
            "Evaluations whose answer changed and was pushed",
            live.changes,
        )?;
        if let Some(cache) = &self.cache {
            let stats = cache.stats();
            counter(
                e,
                "concord_response_cache_hits",
                "Query responses served from the cache",
                stats.hits,
            )?;
            counter(
                e,
                "concord_response_cache_misses",
                "Cacheable requests the cache could not answer",
                stats.misses,
            )?;
            counter(
                e,
                "concord_response_cache_evictions",
                "Answers evicted because a commit touched what they read",
                stats.evictions,
            )?;
            gauge(
                e,
                "concord_response_cache_bytes",
                "Bytes of keys and responses the cache holds",
                size(stats.bytes),
            )?;
        }
        Ok(())
    }
}

/// The classic text format from the OpenMetrics text. The two differ only
/// where the classic parsers would misread: a counter's family is named
/// with its samples' `_total` suffix, and there is no `# EOF` (nor
/// `# UNIT`). Without this, a classic parser reads each counter as an empty
/// family beside an untyped `…_total` one.
fn classic(openmetrics: &str) -> String {
    let counters: HashSet<&str> = openmetrics
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE ")?.strip_suffix(" counter"))
        .collect();
    let mut text = String::with_capacity(openmetrics.len() + 16 * counters.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let counter = ["# HELP ", "# TYPE "].into_iter().find_map(|comment| {
            let (name, rest) = line.strip_prefix(comment)?.split_once(' ')?;
            counters.contains(name).then_some((comment, name, rest))
        });
        match counter {
            Some((comment, name, rest)) => {
                text.push_str(comment);
                text.push_str(name);
                text.push_str("_total ");
                text.push_str(rest);
            }
            None => text.push_str(line),
        }
        text.push('\n');
    }
    text
}

/// GET /metrics: OpenMetrics when the client asks for it (as Prometheus
/// does), else the classic text format.
pub(crate) async fn scrape(state: web::Data<AppState>, http: HttpRequest) -> HttpResponse {
    let metrics = &state.metrics;
    // What `concord sync` recorded of each peer, read now: the sync job is
    // another process, and this one serves what it wrote.
    let peers = match &metrics.peers_from {
        Some(db) => concord_persistence::queries::sync_peers(db).await,
        None => Ok(Vec::new()),
    };
    match peers {
        Ok(peers) => {
            metrics.sync_lag.clear();
            metrics.sync_age.clear();
            let now = Utc::now();
            for peer in peers {
                let labels = PeerLabels { peer: peer.peer };
                if let Some(lag) = peer.lag {
                    metrics.sync_lag.get_or_create(&labels).set(lag);
                }
                if let Some(success) = peer.last_success {
                    let age = (now - success).num_milliseconds() as f64 / 1000.0;
                    metrics.sync_age.get_or_create(&labels).set(age.max(0.0));
                }
            }
        }
        Err(error) => tracing::warn!(error = ?error, "cannot read the sync peers for /metrics"),
    }
    let mut body = String::new();
    match prometheus_client::encoding::text::encode(&mut body, &metrics.registry) {
        Ok(()) => {
            let openmetrics = http
                .headers()
                .get(header::ACCEPT)
                .and_then(|accept| accept.to_str().ok())
                .is_some_and(|accept| accept.contains("application/openmetrics-text"));
            if openmetrics {
                HttpResponse::Ok().content_type(OPENMETRICS).body(body)
            } else {
                HttpResponse::Ok()
                    .content_type(CLASSIC)
                    .body(classic(&body))
            }
        }
        Err(_) => {
            tracing::error!("cannot encode the metrics");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// The name (`anonymous` without one) and type of the operation a request
/// runs, as its latency is labelled.
pub(crate) fn operation(
    kept: &concord_schema::Kept,
    limits: &concord_schema::Limits,
    request: &async_graphql::Request,
) -> (String, &'static str) {
    use async_graphql::parser::types::OperationType;
    match kept.operation(limits, request) {
        Some((name, kind)) => (
            name.unwrap_or_else(|| "anonymous".to_owned()),
            match kind {
                OperationType::Query => "query",
                OperationType::Mutation => "mutation",
                OperationType::Subscription => "subscription",
            },
        ),
        None => (
            request.operation_name.clone().unwrap_or_default(),
            "invalid",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_classic_text_names_counter_families_by_their_samples() {
        let openmetrics = "# HELP a_things Things.\n# TYPE a_things counter\na_things_total 3\n\
            # HELP b_bytes Bytes.\n# TYPE b_bytes gauge\n# UNIT b_bytes bytes\nb_bytes 7\n# EOF\n";
        assert_eq!(
            classic(openmetrics),
            "# HELP a_things_total Things.\n# TYPE a_things_total counter\na_things_total 3\n\
             # HELP b_bytes Bytes.\n# TYPE b_bytes gauge\nb_bytes 7\n"
        );
    }
}
