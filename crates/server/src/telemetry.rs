//! Logs and traces: the tracing subscriber (text or JSON lines, and
//! OpenTelemetry traces over OTLP when an endpoint is set), one span per
//! SQL statement, and what each HTTP request carries through its handler.
//!
//! Spans: one per HTTP request (here), one per batch load (the schema's
//! loader) and one per SQL statement; none per field, which would cost more
//! than the fields.

use std::io::IsTerminal;
use std::str::FromStr;
use std::sync::OnceLock;
use std::time::SystemTime;

use concord_persistence::DbBackend;
use opentelemetry::KeyValue;
use opentelemetry::trace::{Span as _, SpanKind, Status, Tracer as _, TracerProvider as _};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde::Deserialize;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// How log lines are written to standard error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One human-readable line per event, its spans' fields before it.
    #[default]
    Text,
    /// One JSON object per line, with the fields of every span it is in.
    Json,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(format!("the log format `{other}` is neither text nor json")),
        }
    }
}

/// Logs, traces and metrics (`[telemetry]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct TelemetrySettings {
    /// `text` or `json`; `concord --log-format` overrides it.
    pub log_format: LogFormat,
    /// An OpenTelemetry collector's OTLP/HTTP address, e.g.
    /// `http://127.0.0.1:4318`: spans go to its `/v1/traces` as protobuf.
    /// Unset, no traces are made.
    pub otlp_endpoint: Option<String>,
    /// The `service.name` traces carry.
    pub service_name: String,
    /// Serve `GET /metrics`.
    pub metrics: bool,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self {
            log_format: LogFormat::Text,
            otlp_endpoint: None,
            service_name: "concord".to_owned(),
            metrics: true,
        }
    }
}

impl TelemetrySettings {
    /// Why the settings cannot be used, if they cannot.
    pub fn problem(&self) -> Option<String> {
        match &self.otlp_endpoint {
            Some(url) if !(url.starts_with("http://") || url.starts_with("https://")) => Some(
                format!("telemetry.otlp_endpoint `{url}` must start with http:// or https://"),
            ),
            _ => None,
        }
    }
}

/// Why logging or tracing could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("{0}")]
    Settings(String),
    #[error("cannot make the OTLP exporter")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    #[error("a tracing subscriber is already set")]
    AlreadySet(#[from] tracing_subscriber::util::TryInitError),
}

/// Keeps the trace exporter: dropping it sends the spans still queued.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(error) = provider.shutdown()
        {
            eprintln!("cannot send the last spans: {error}");
        }
    }
}

/// Whether spans go anywhere: the per-statement span is skipped otherwise.
static TRACING: OnceLock<()> = OnceLock::new();

/// Sets the process's tracing subscriber: logs to standard error in
/// `settings.log_format`, filtered by `RUST_LOG` (default `info,sqlx=warn`),
/// and spans to the OTLP endpoint when one is set.
pub fn init(settings: &TelemetrySettings) -> Result<Telemetry, TelemetryError> {
    if let Some(problem) = settings.problem() {
        return Err(TelemetryError::Settings(problem));
    }
    let filter =
        || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let logs = match settings.log_format {
        // Colours only on a terminal: a log file or collector would keep
        // the escape codes as text.
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .with_writer(std::io::stderr)
            .boxed(),
    }
    .with_filter(filter());
    let Some(endpoint) = &settings.otlp_endpoint else {
        tracing_subscriber::registry().with(logs).try_init()?;
        return Ok(Telemetry { provider: None });
    };
    let url = if endpoint.ends_with("/v1/traces") {
        endpoint.clone()
    } else {
        format!("{}/v1/traces", endpoint.trim_end_matches('/'))
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(url)
        .build()?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(settings.service_name.clone())
                .build(),
        )
        .build();
    opentelemetry::global::set_tracer_provider(provider.clone());
    let spans = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("concord"))
        .with_filter(filter());
    tracing_subscriber::registry()
        .with(logs)
        .with(spans)
        .try_init()?;
    let _ = TRACING.set(());
    Ok(Telemetry {
        provider: Some(provider),
    })
}

/// Whether spans are sent to a collector.
pub(crate) fn exporting() -> bool {
    TRACING.get().is_some()
}

/// Longest SQL text a statement's span carries.
const MAX_SQL: usize = 2048;

/// A span for one SQL statement that has just run, as a child of the span
/// it ran in (a request's or a batch load's). The database reports a
/// statement only once it has run, so the span is made with its start
/// time set back by its duration rather than entered around it.
pub(crate) fn statement_span(info: &concord_persistence::StatementInfo<'_>) {
    if !exporting() {
        return;
    }
    let parent = tracing::Span::current().context();
    let tracer = opentelemetry::global::tracer("concord");
    let end = SystemTime::now();
    let start = end.checked_sub(info.elapsed).unwrap_or(end);
    let sql = &info.statement.sql;
    let mut cut = sql.len().min(MAX_SQL);
    while !sql.is_char_boundary(cut) {
        cut -= 1;
    }
    let system = match info.statement.db_backend {
        DbBackend::Postgres => "postgresql",
        DbBackend::Sqlite => "sqlite",
        _ => "other_sql",
    };
    let mut span = tracer
        .span_builder("sql")
        .with_kind(SpanKind::Client)
        .with_start_time(start)
        .with_attributes([
            KeyValue::new("db.system.name", system),
            KeyValue::new("db.query.text", sql[..cut].to_owned()),
        ])
        .start_with_context(&tracer, &parent);
    if info.failed {
        span.set_status(Status::error("the statement failed"));
    }
    span.end_with_timestamp(end);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_formats_and_endpoints_are_checked() {
        assert_eq!("json".parse::<LogFormat>(), Ok(LogFormat::Json));
        assert_eq!("text".parse::<LogFormat>(), Ok(LogFormat::Text));
        assert!("yaml".parse::<LogFormat>().unwrap_err().contains("yaml"));
        let mut settings = TelemetrySettings::default();
        assert_eq!(settings.problem(), None);
        settings.otlp_endpoint = Some("http://127.0.0.1:4318".into());
        assert_eq!(settings.problem(), None);
        settings.otlp_endpoint = Some("127.0.0.1:4318".into());
        assert!(
            settings
                .problem()
                .is_some_and(|problem| problem.contains("telemetry.otlp_endpoint"))
        );
    }

    #[test]
    fn the_telemetry_section_is_read_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "[telemetry]\nlog_format = \"json\"\nmetrics = false\notlp_endpoint = \"http://collector:4318\"\n",
        )
        .unwrap();
        let settings = crate::Settings::load(Some(&path)).unwrap();
        assert_eq!(settings.telemetry.log_format, LogFormat::Json);
        assert!(!settings.telemetry.metrics);
        assert_eq!(
            settings.telemetry.otlp_endpoint.as_deref(),
            Some("http://collector:4318")
        );
    }
}
