//! The `concord` command: serve the API, manage the database, export the schema.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use concord_server::{Application, Settings};

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
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Load the reference and illustrative data; rows already present are kept.
    Seed,
    /// Load matters, standards, guides or procedures from a CSV or JSON file.
    Import {
        /// The file: `.csv` (one kind per file) or `.json`.
        file: PathBuf,
        /// What a CSV file holds, when its name does not say:
        /// matters, standards, guides or procedures.
        #[arg(long)]
        kind: Option<String>,
    },
    /// Write the GraphQL SDL.
    ExportSchema {
        /// Where to write it; `-` for standard output.
        #[arg(long, default_value = "schema/concord.graphql")]
        output: PathBuf,
    },
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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match &cli.command {
        Command::Serve { bind } => {
            let mut settings = settings(&cli)?;
            if let Some(bind) = bind {
                settings.server.bind = bind.clone();
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
        Command::Seed => {
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
            let report = concord_persistence::import::import_file(&db, file, kind)
                .await
                .with_context(|| format!("{} was not imported; nothing changed", file.display()))?;
            println!("{report}");
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
