//! The `concord` command: serve the API, manage the database, export the schema.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use concord_server::telemetry::{LogFormat, TelemetrySettings};
use concord_server::{Application, Settings};

mod progress;

/// A computed page allocates and frees thousands of small values (rows,
/// strings, the answer's tree): under glibc's allocator that was a quarter
/// of the server's CPU on the region page. mimalloc took the server's CPU
/// per request down by about a sixth (BENCHMARKS.md, "One statement a
/// guide page"), and builds from its own C source with the `cc` that
/// linking already needs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "concord",
    version,
    about = "Publish, compare and align HR&SS public-service standards across regions"
)]
struct Cli {
    /// A TOML configuration file (default: ./concord.toml when present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// The database URL, overriding the configuration (sqlite://FILE or postgres://...).
    #[arg(long, global = true)]
    database: Option<String>,
    /// How log lines are written to standard error: text or json
    /// (default: the configuration's telemetry.log_format).
    #[arg(long, global = true, value_parser = str::parse::<LogFormat>)]
    log_format: Option<LogFormat>,
    /// Show no progress (`import`, `bench-data` and `sync` show it on standard error).
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the GraphQL API (migrating and seeding the database first).
    Serve {
        /// The address to listen on, e.g. 127.0.0.1:8080.
        #[arg(long)]
        bind: Option<String>,
        /// Run only the operations of this Apollo persisted query manifest
        /// (see README, "Persisted operations").
        #[arg(long, value_name = "FILE")]
        operations: Option<PathBuf>,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Load the reference and illustrative data; rows already present are kept.
    Seed {
        /// Load only the reference facts (regions, zones, categories, national
        /// items, real standards), without the illustrative data set.
        #[arg(long)]
        reference_only: bool,
    },
    /// Load national items, matters, standards, guides or procedures from a CSV or JSON file.
    Import {
        /// The file: `.csv` (one kind per file) or `.json`.
        file: PathBuf,
        /// What a CSV file holds, when its name does not say:
        /// national-items, matters, standards, guides or procedures.
        #[arg(long)]
        kind: Option<String>,
    },
    /// Print a token signed with the configured HS256 secret, for development and tests.
    Token {
        /// VIEWER, PROVINCE_ADMIN, ZONE_COORDINATOR, NATIONAL_ADMIN, SYNC_AGENT or FEDERATION.
        #[arg(long)]
        role: String,
        /// The region of a PROVINCE_ADMIN, or of the calling node for FEDERATION, e.g. 330000.
        #[arg(long, conflicts_with = "zone")]
        region: Option<String>,
        /// The zone of a ZONE_COORDINATOR, e.g. YRD.
        #[arg(long)]
        zone: Option<String>,
        /// How long the token is valid: 90s, 15m, 1h, 7d.
        #[arg(long, default_value = "1h")]
        ttl: String,
        /// The token's subject: who holds it.
        #[arg(long, default_value = "concord-cli")]
        sub: String,
    },
    /// Replicate what peers have published: pull each peer's change feed and
    /// apply it, one transaction per page, until caught up.
    Sync {
        /// A peer's GraphQL URL, e.g. http://10.0.0.2:8080/graphql; repeat for several.
        #[arg(long = "peer", required = true)]
        peers: Vec<String>,
        /// A SYNC_AGENT token each peer accepts: one for all peers, or one per --peer in order.
        #[arg(long = "token", required = true, env = "CONCORD_SYNC_TOKEN")]
        tokens: Vec<String>,
        /// Keep following after catching up: each commit arrives through the
        /// peer's change stream (a subscription), or by polling every
        /// --interval from a peer that offers none.
        #[arg(long)]
        follow: bool,
        /// How long to wait between polls with --follow, when a peer offers no
        /// change stream: 90s, 15m, 1h.
        #[arg(long, default_value = "10s")]
        interval: String,
        /// Changes asked for per page, at most 1000.
        #[arg(long, default_value_t = 500)]
        page_size: u32,
        /// Stop with an error after this many changes, before committing the page (for tests).
        #[arg(long, hide = true)]
        fail_after: Option<u64>,
    },
    /// Print a checksum of each replicated table, one line each: the table,
    /// its rows, and a SHA-256 over them. Nodes that hold the same
    /// replicated data print the same lines, whichever database they run on.
    Checksums,
    /// Fill an empty database with the benchmark's deterministic data set.
    BenchData {
        /// 1 gives 500 matters, 16,500 guides and 20,000 standards; N gives N times the matters and standards.
        #[arg(long, default_value_t = 1)]
        scale: u32,
    },
    /// Write data for other systems: published guides as CPSV-AP 3.2.0
    /// JSON-LD (docs/cpsv-ap.md), or records in the import format (docs/import.md).
    Export {
        /// The format: cpsv-ap, json or csv.
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// json and csv: matters, standards, guides or procedures; a CSV file
        /// holds one kind, a JSON file all four when left out.
        #[arg(long)]
        kind: Option<String>,
        /// Only this region's guides (and, for json and csv, procedures), e.g. 330000.
        #[arg(long)]
        region: Option<String>,
        /// Where to write; standard output when left out.
        #[arg(long)]
        output: Option<PathBuf>,
        /// Refer to the CPSV-AP context by this URL (e.g. a server's
        /// /contexts/cpsv-ap-3.2.0.jsonld) instead of embedding it.
        #[arg(long)]
        context_url: Option<String>,
    },
    /// Write the GraphQL SDL.
    ExportSchema {
        /// Where to write it; `-` for standard output.
        #[arg(long, default_value = "schema/concord.graphql")]
        output: PathBuf,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportFormat {
    /// One JSON-LD document of CPSV-AP `PublicService`s, one per published guide.
    #[value(name = "cpsv-ap")]
    CpsvAp,
    /// The JSON import format of docs/import.md.
    Json,
    /// The CSV import format of docs/import.md, one kind per file.
    Csv,
}

fn settings(cli: &Cli) -> anyhow::Result<Settings> {
    let mut settings = Settings::load(cli.config.as_deref())?;
    if let Some(url) = &cli.database {
        settings.database.url = url.clone();
    }
    settings.validate()?;
    Ok(settings)
}

async fn open(settings: &Settings) -> anyhow::Result<concord_persistence::DatabaseConnection> {
    let mut options = concord_persistence::ConnectOptions::new(settings.database.url.clone());
    options.max_connections = settings.database.max_connections;
    let (db, _) = concord_persistence::connect(&options)
        .await
        .with_context(|| format!("cannot open {}", settings.database.url))?;
    concord_persistence::migrate(&db)
        .await
        .context("cannot migrate the database")?;
    Ok(db)
}

/// Writes an export to `output`, or to standard output.
fn write_export(output: Option<&std::path::Path>, text: &str) -> anyhow::Result<()> {
    match output {
        Some(path) => {
            std::fs::write(path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(())
}

/// How to log and trace: the configuration's settings (the defaults when it
/// cannot be read, which the command then reports), `--log-format` over them.
fn telemetry_settings(cli: &Cli) -> TelemetrySettings {
    let mut telemetry = Settings::load(cli.config.as_deref())
        .map(|settings| settings.telemetry)
        .unwrap_or_default();
    if let Some(format) = cli.log_format {
        telemetry.log_format = format;
    }
    telemetry
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Kept to the end: dropping it sends the last spans.
    let _telemetry = concord_server::telemetry::init(&telemetry_settings(&cli))?;
    match &cli.command {
        Command::Serve { bind, operations } => {
            let mut settings = settings(&cli)?;
            if let Some(bind) = bind {
                settings.server.bind = bind.clone();
            }
            if let Some(operations) = operations {
                settings.persisted.operations = Some(operations.clone());
            }
            let url = settings.database.url.clone();
            let app = Application::build(settings).await?;
            tracing::info!(port = app.port(), database = %url, "serving /graphql");
            app.run_until_stopped().await?;
            tracing::info!("stopped");
        }
        Command::Migrate => {
            open(&settings(&cli)?).await?;
            println!("migrations applied");
        }
        Command::Seed {
            reference_only: true,
        } => {
            let db = open(&settings(&cli)?).await?;
            let rows = concord_persistence::seed::seed_reference(&db)
                .await
                .context("cannot seed")?;
            println!("inserted {rows} reference rows and 0 illustrative rows");
        }
        Command::Seed {
            reference_only: false,
        } => {
            let db = open(&settings(&cli)?).await?;
            let report = concord_persistence::seed::seed(&db)
                .await
                .context("cannot seed")?;
            println!(
                "inserted {} reference rows and {} illustrative rows",
                report.reference_rows, report.illustrative_rows
            );
        }
        Command::Import { file, kind } => {
            let db = open(&settings(&cli)?).await?;
            let kind = kind
                .as_deref()
                .map(str::parse::<concord_persistence::import::ImportKind>)
                .transpose()
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            let progress = progress::Reporter::new(cli.quiet);
            let report =
                concord_persistence::import::import_file_reporting(&db, file, kind, &progress)
                    .await;
            progress.finish();
            let report = report
                .with_context(|| format!("{} was not imported; nothing changed", file.display()))?;
            println!("{report}");
        }
        Command::Token {
            role,
            region,
            zone,
            ttl,
            sub,
        } => {
            let settings = settings(&cli)?;
            let secret = match &settings.auth.jwt_secret {
                Some(secret) => secret.clone(),
                None => concord_server::fallback_secret(&settings)?.ok_or_else(|| {
                    anyhow::anyhow!("tokens are verified with public keys here; sign them with the private key instead")
                })?,
            };
            let request = concord_auth::TokenRequest {
                role: role.parse()?,
                region: region
                    .as_deref()
                    .map(concord_domain::RegionCode::try_from)
                    .transpose()?,
                zone: zone
                    .as_deref()
                    .map(concord_domain::ZoneCode::try_from)
                    .transpose()?,
                subject: sub.clone(),
                ttl: concord_auth::parse_ttl(ttl)?,
            };
            println!(
                "{}",
                concord_auth::issue_hs256(&secret, &settings.auth, &request)?
            );
        }
        Command::Sync {
            peers,
            tokens,
            follow,
            interval,
            page_size,
            fail_after,
        } => {
            if tokens.len() != 1 && tokens.len() != peers.len() {
                anyhow::bail!("give one --token for all peers, or one per --peer");
            }
            let peers: Vec<concord_sync::Peer> = peers
                .iter()
                .enumerate()
                .map(|(i, url)| concord_sync::Peer {
                    url: url.clone(),
                    token: tokens.get(i).unwrap_or(&tokens[0]).clone(),
                })
                .collect();
            let settings = settings(&cli)?;
            let options = concord_sync::Options {
                page_size: *page_size,
                fail_after: *fail_after,
                node: settings
                    .node
                    .region
                    .clone()
                    .unwrap_or_else(|| concord_domain::Origin::NATIONAL_CODE.to_owned()),
            };
            let db = open(&settings).await?;
            if *follow {
                let interval = concord_auth::parse_ttl(interval)?;
                let (stop, stopping) = concord_sync::Stop::new();
                let following = concord_sync::follow(&db, &peers, &options, interval, stopping);
                let mut following = std::pin::pin!(following);
                let followed = tokio::select! {
                    followed = &mut following => followed,
                    () = concord_server::stop_signal() => {
                        tracing::info!("stopping after the page in flight");
                        stop.send_replace(true);
                        following.await
                    }
                };
                followed.map_err(|error| anyhow::anyhow!(concord_domain::error_chain(&error)))?;
                tracing::info!("stopped");
            } else {
                let progress = progress::Reporter::new(cli.quiet);
                let report =
                    concord_sync::sync_all_reporting(&db, &peers, &options, &progress).await;
                progress.finish();
                let report =
                    report.map_err(|e| anyhow::anyhow!(concord_domain::error_chain(&e)))?;
                println!(
                    "{} pages, {} changes received, {} applied",
                    report.pages, report.received, report.applied
                );
            }
        }
        Command::Checksums => {
            let db = open(&settings(&cli)?).await?;
            for sum in concord_persistence::changes::checksums(&db).await? {
                println!("{} {} {}", sum.table, sum.rows, sum.sha256);
            }
        }
        Command::BenchData { scale } => {
            let db = open(&settings(&cli)?).await?;
            let started = std::time::Instant::now();
            let progress = progress::Reporter::new(cli.quiet);
            let report =
                concord_persistence::bench_data::generate_reporting(&db, *scale, &progress).await;
            progress.finish();
            let report = report.context("cannot generate the benchmark data")?;
            println!(
                "scale {scale}: {} matters, {} guides, {} standards, {} evaluations, {} changes in {:.1}s",
                report.matters,
                report.guides,
                report.standards,
                report.evaluations,
                report.changes,
                started.elapsed().as_secs_f64()
            );
        }
        Command::Export {
            format: format @ (ExportFormat::Json | ExportFormat::Csv),
            kind,
            region,
            output,
            context_url,
        } => {
            use concord_persistence::export::files;
            use concord_persistence::import::{Format, ImportKind};
            if context_url.is_some() {
                anyhow::bail!("--context-url is for --format cpsv-ap");
            }
            if let Some(region) = region {
                concord_domain::RegionCode::try_from(region.as_str())?;
            }
            let kinds = match kind {
                Some(kind) => vec![kind.parse::<ImportKind>()?],
                None => ImportKind::ALL
                    .into_iter()
                    .filter(|kind| *kind != ImportKind::NationalItems)
                    .collect(),
            };
            let format = match format {
                ExportFormat::Csv => Format::Csv,
                _ => Format::Json,
            };
            let selection = files::Selection {
                kinds,
                region: region.clone(),
            };
            let db = open(&settings(&cli)?).await?;
            let text = files::export(&db, &selection, format).await?;
            write_export(output.as_deref(), &text)?;
        }
        Command::Export {
            format: ExportFormat::CpsvAp,
            kind,
            region,
            output,
            context_url,
        } => {
            if kind.is_some() {
                anyhow::bail!("--kind is for --format json or csv");
            }
            use concord_persistence::export::cpsv;
            let settings = settings(&cli)?;
            let options = cpsv::Options {
                base_iri: settings.base_iri()?,
                context: match context_url {
                    Some(url) => cpsv::ContextRef::Url(url.clone()),
                    None => cpsv::ContextRef::Embedded,
                },
            };
            if let Some(region) = region {
                concord_domain::RegionCode::try_from(region.as_str())?;
            }
            let selection = match region {
                Some(region) => cpsv::Selection::Region(region),
                None => cpsv::Selection::All,
            };
            let db = open(&settings).await?;
            let services = cpsv::load(&db, selection)
                .await
                .context("cannot read the published guides")??;
            let document = cpsv::document(&services, &options)?;
            let text = serde_json::to_string_pretty(&document)? + "\n";
            write_export(output.as_deref(), &text)?;
        }
        Command::ExportSchema { output } => {
            let sdl = concord_schema::sdl();
            if output.as_os_str() == "-" {
                print!("{sdl}");
            } else {
                std::fs::write(output, sdl)
                    .with_context(|| format!("cannot write {}", output.display()))?;
                eprintln!("wrote {}", output.display());
            }
        }
    }
    Ok(())
}
