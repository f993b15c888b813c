//! `baluarte`: the server and its administration commands.
// The command line reports its results to the operator on standard output; libraries never print.
#![allow(clippy::print_stdout)]

mod audit;
mod config;
mod hunt;

use anyhow::{bail, Context, Result};
use baluarte_core::crypto::ServerKey;
use baluarte_core::db::Db;
use baluarte_core::service::Settings;
use baluarte_core::{backup, demo, Services};
use clap::{Parser, Subcommand};
use config::Config;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Parser)]
#[command(name = "baluarte", version, about = "National cybersecurity coordination platform")]
struct Cli {
    /// Configuration file (TOML). Also BALUARTE_CONFIG.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Data directory (SQLite database and signing key). Also BALUARTE_DATA_DIR.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// postgres://… to use PostgreSQL. Also BALUARTE_DATABASE_URL.
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the platform.
    Serve {
        /// Address to listen on. Also BALUARTE_LISTEN.
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Load Mexico's demo registry into a fresh store (data/demo by default) and serve it.
    Demo {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Load the dataset and exit without serving.
        #[arg(long)]
        no_serve: bool,
    },
    /// Apply the embedded database migrations and exit.
    Migrate,
    /// Administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Write a consistent backup (database, signing key, manifest) into a new directory.
    Backup {
        #[arg(long)]
        out: PathBuf,
    },
    /// Restore a backup into an empty data directory (and, for PostgreSQL, an empty database).
    Restore {
        #[arg(long)]
        from: PathBuf,
    },
    /// Signed receipts of incident reports.
    Receipt {
        #[command(subcommand)]
        command: ReceiptCommand,
    },
    /// Run Sigma rules over event files (.evtx, JSON lines, syslog) and print detections as JSON lines.
    Hunt {
        /// A rule file or a directory of rules (repeatable).
        #[arg(long = "rules", required = true)]
        rules: Vec<PathBuf>,
        /// Event files or directories.
        #[arg(required = true)]
        events: Vec<PathBuf>,
        /// Force the input format: evtx, json or syslog (default: detected per file).
        #[arg(long)]
        format: Option<String>,
        /// Write detections to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Count only; write no detections.
        #[arg(long)]
        quiet: bool,
        /// Worker threads (1: everything on one core).
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// No progress bar.
        #[arg(long)]
        no_progress: bool,
        /// Read the inputs this many times (benchmarks).
        #[arg(long, default_value_t = 1)]
        repeat: u32,
        /// Write the per-rule summary as JSON to this file.
        #[arg(long)]
        summary_json: Option<PathBuf>,
        /// Print the run's figures as one JSON object on standard output at the end.
        #[arg(long)]
        report_json: bool,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create the first administrator (and the national authority, if there is none).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Name of the national authority when it has to be created.
        #[arg(long, default_value = "Autoridad Nacional de Ciberseguridad")]
        authority: String,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum ReceiptCommand {
    /// Check that a receipt was signed by the platform and names exactly this report file.
    Verify {
        /// The receipt file (`….receipt.json`) downloaded with the report.
        #[arg(long)]
        receipt: PathBuf,
        /// The report file (`….json`) the receipt is for.
        #[arg(long)]
        report: PathBuf,
        /// The platform's Ed25519 public key (hex), from GET /api/v1/receipts/public-key. Without it,
        /// only the receipt's integrity is checked, not who signed it.
        #[arg(long)]
        public_key: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the whole hash chain and the signed checkpoints; name the first broken entry.
    Verify,
    /// Sign the current tip of the chain now.
    Checkpoint,
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("BALUARTE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info,evtx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn verify_receipt(receipt: &Path, report: &Path, public_key: Option<&str>) -> Result<()> {
    let receipt_bytes = std::fs::read(receipt).with_context(|| format!("reading {}", receipt.display()))?;
    let report_bytes = std::fs::read(report).with_context(|| format!("reading {}", report.display()))?;
    match baluarte_core::receipt::verify(&receipt_bytes, &report_bytes, public_key) {
        Ok(r) => {
            println!(
                "receipt valid: {} stage {} received {} (report SHA-256 {})",
                r.reference, r.stage_id, r.received_at, r.report_sha256
            );
            if public_key.is_none() {
                println!(
                    "note: signed by key {}; pass --public-key to check it is the platform's",
                    r.public_key
                );
            }
            Ok(())
        }
        Err(e) => bail!("receipt NOT valid: {e}"),
    }
}

async fn open(config: &Config) -> Result<Services> {
    std::fs::create_dir_all(&config.data_dir).with_context(|| format!("creating {}", config.data_dir.display()))?;
    let key = ServerKey::load_or_create(&config.data_dir)?;
    let db = Db::connect(&config.database_url())
        .await
        .with_context(|| format!("opening the database {}", config::redact_url(&config.database_url())))?;
    let settings = Settings {
        email_enabled: config.smtp.is_some(),
        public_url: config.public_url.clone(),
        webhook_addresses: config.webhook_addresses()?,
        checkpoint_interval: i64::try_from(config.checkpoint_interval().as_micros()).unwrap_or(i64::MAX),
        checkpoint_file: Some(config.data_dir.join(baluarte_core::audit::CHECKPOINT_FILE)),
        ..Settings::default()
    };
    Ok(Services::new(db, key, settings))
}

/// The background work of a running server: deliver the outbox (e-mail, webhooks) and turn deadlines
/// into reminders, every `worker_interval_secs`.
fn spawn_workers(services: Services, config: &Config) -> Result<tokio::task::JoinHandle<()>> {
    let mailer = match &config.smtp {
        Some(smtp) => Some(baluarte_notify::Mailer::new(smtp).context("[smtp] configuration")?),
        None => None,
    };
    // The webhook client applies the same address policy as registration (`[webhooks] allow_networks`).
    let deliverer =
        baluarte_core::service::Deliverer::new(mailer, services.settings()).context("webhook HTTP client")?;
    let every = Duration::from_secs(config.worker_interval_secs.max(1));
    Ok(tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(e) = services.incidents().scan_deadlines().await {
                tracing::warn!(error = %e.chain(), "deadline scan failed");
            }
            match services.notifications().deliver_outbox(&deliverer, 200).await {
                Ok(r) if !r.is_empty() => {
                    tracing::info!(
                        delivered = r.delivered,
                        retried = r.retried,
                        failed = r.failed,
                        cancelled = r.cancelled,
                        "outbox"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e.chain(), "outbox delivery failed"),
            }
        }
    }))
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(d) = cli.data_dir {
        config.data_dir = d;
    }
    if let Some(u) = cli.database_url {
        config.database_url = Some(u);
    }
    init_logging(&config.log_format);
    match cli.command {
        Command::Hunt {
            rules,
            events,
            format,
            output,
            quiet,
            threads,
            no_progress,
            repeat,
            summary_json,
            report_json,
        } => {
            // The engine parses every event and reports malformed ones; the reader need not parse twice.
            let mut read = baluarte_events::ReadOptions {
                validate_json: false,
                ..Default::default()
            };
            if let Some(f) = format {
                read.format = Some(f.parse().map_err(|e| anyhow::anyhow!("--format: {e}"))?);
            }
            let opts = hunt::HuntOptions {
                rules,
                inputs: events,
                read,
                output,
                quiet,
                threads,
                progress: !no_progress,
                repeat,
                summary_json,
            };
            let report = hunt::run(&opts)?;
            if report_json {
                println!("{}", serde_json::to_string(&report)?);
            }
            Ok(())
        }
        Command::Receipt {
            command:
                ReceiptCommand::Verify {
                    receipt,
                    report,
                    public_key,
                },
        } => verify_receipt(&receipt, &report, public_key.as_deref()),
        Command::Serve { listen } => {
            if let Some(l) = listen {
                config.listen = l;
            }
            let services = open(&config).await?;
            serve(services, &config).await
        }
        Command::Demo { listen, no_serve } => run_demo(config, listen, no_serve).await,
        Command::Migrate => {
            open(&config).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Admin {
            command:
                AdminCommand::Create {
                    email,
                    name,
                    authority,
                    password_stdin,
                },
        } => {
            let services = open(&config).await?;
            let (password, shown) = if password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                (line.trim_end_matches(['\r', '\n']).to_string(), false)
            } else {
                (
                    baluarte_core::crypto::random_secret("").chars().take(20).collect(),
                    true,
                )
            };
            let user = services
                .users()
                .bootstrap_admin(&authority, &email, &name, &password)
                .await
                .map_err(describe)?;
            services.audit().audit_checkpoint().await?;
            println!("administrator {} created", user.email);
            if shown {
                println!("temporary password (shown once): {password}");
            }
            println!("at first sign-in the administrator enrols a TOTP second factor");
            Ok(())
        }
        Command::Audit { command } => {
            let services = open(&config).await?;
            match command {
                AuditCommand::Verify => audit::verify(&services, None).await,
                AuditCommand::Checkpoint => {
                    match services.audit().audit_checkpoint().await? {
                        Some(seq) => println!("signed checkpoint at entry {seq}"),
                        None => println!("nothing new to sign"),
                    }
                    Ok(())
                }
            }
        }
        Command::Backup { out } => {
            let services = open(&config).await?;
            services.audit().audit_checkpoint().await?;
            let m = backup::backup(services.db(), &config.data_dir, &out)
                .await
                .map_err(describe)?;
            println!(
                "backup written to {} ({} backend, {} files)",
                out.display(),
                m.backend,
                m.files.len()
            );
            Ok(())
        }
        Command::Restore { from } => {
            let m = backup::restore(&from, &config.data_dir, config.database_url.as_deref())
                .await
                .map_err(describe)?;
            println!(
                "restored the {} backup of {} into {}",
                m.backend,
                m.created_at,
                config.data_dir.display()
            );
            let services = open(&config).await?;
            // Judged as of the backup: entries written just before it were then within their window.
            audit::verify(&services, baluarte_core::time::parse_rfc3339(&m.created_at)).await
        }
    }
}

/// Service errors name the field; show them that way on the command line, in English.
fn describe(e: baluarte_core::CoreError) -> anyhow::Error {
    match e {
        baluarte_core::CoreError::Invalid(fields) => {
            anyhow::anyhow!(fields
                .iter()
                .map(|f| format!("{}: {}", f.field, baluarte_web::i18n::english().error(f)))
                .collect::<Vec<_>>()
                .join("; "))
        }
        other => other.into(),
    }
}

async fn run_demo(mut config: Config, listen: SocketAddr, no_serve: bool) -> Result<()> {
    if std::env::var_os("BALUARTE_DATA_DIR").is_none() && config.data_dir == Path::new("data") {
        config.data_dir = PathBuf::from("data/demo");
    }
    config.listen = listen;
    let services = open(&config).await?;
    let has_data = demo::is_loaded(&services).await?;
    let dataset = demo::parse_dataset(demo::MX_DATASET)?;
    if has_data {
        eprintln!("using the existing demo data in {}", config.data_dir.display());
    } else {
        let bar = indicatif::ProgressBar::new(1);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message("loading the national registry");
        let summary = demo::load(&services, &dataset, &|done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .await?;
        bar.finish();
        let bar = indicatif::ProgressBar::new(1);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message("loading a year of incident reports");
        let incidents = baluarte_core::demo_incidents::load(&services, services.now(), &|done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .await?;
        bar.finish();
        services.audit().audit_checkpoint().await?;
        eprintln!(
            "loaded {} sectors, {} entities, {} contacts, {} users, {} incidents",
            summary.sectors, summary.entities, summary.contacts, summary.users, incidents
        );
    }
    print_accounts(&services, &config).await?;
    if no_serve {
        return Ok(());
    }
    serve(services, &config).await
}

async fn print_accounts(services: &Services, config: &Config) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "\nBaluarte demo — http://{}/", config.listen)?;
    writeln!(out, "Every demo account's password: {}", demo::DEMO_PASSWORD)?;
    for a in demo::accounts(services).await? {
        let note = if a.enrols_totp {
            "  (enrols TOTP at first sign-in)"
        } else {
            ""
        };
        writeln!(out, "  {:<18} {}{}", a.role.as_str(), a.email, note)?;
    }
    writeln!(out)?;
    Ok(())
}

async fn serve(services: Services, config: &Config) -> Result<()> {
    let web = baluarte_web::WebConfig {
        cookie_secure: config.cookie_secure,
        trust_forwarded: config.trust_forwarded,
    };
    let state = baluarte_web::AppState::new(services.clone(), web);
    let app = baluarte_web::app(state);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    // The address actually bound: with port 0 the system picks one, and whoever started the server
    // (a test, a supervisor) reads it here rather than guessing a free port beforehand.
    let bound = listener
        .local_addr()
        .with_context(|| format!("the address bound for {}", config.listen))?;
    println!("listening on http://{bound}");
    tracing::info!(listen = %bound, config = ?config, "serving");

    let checkpointer = audit::spawn_checkpointer(services.clone(), config.checkpoint_interval());
    let witness = audit::witness(config)?;
    let witnessing = witness
        .clone()
        .map(|w| audit::spawn_witness(w, Duration::from_secs(config.worker_interval_secs.max(1))));
    let workers = spawn_workers(services.clone(), config)?;
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    checkpointer.abort();
    workers.abort();
    if let Some(w) = witnessing {
        w.abort();
    }
    // Sign what was written until the end, hand it to the witnesses, then close the pool cleanly.
    services.audit().audit_checkpoint().await?;
    if let Some(w) = &witness {
        audit::last_witness_round(w).await;
    }
    services.db().close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
