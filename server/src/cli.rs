//! The `triage` command line.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use secrecy::ExposeSecret;
use uuid::Uuid;

use crate::app::{self, StartOptions};
use crate::config::{self, Config, Severity};
use crate::readiness;
use crate::storage::{Role, Storage};
use crate::telemetry;

/// AI triage agent server.
#[derive(Debug, Parser)]
#[command(
    name = "triage",
    version,
    about = "AI triage agent server: WhatsApp in, triage reports out."
)]
pub struct Cli {
    /// TOML configuration file; `TRIAGE__SECTION__KEY` variables override it.
    #[arg(long, global = true, env = "TRIAGE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server and workers until SIGTERM or Ctrl-C.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Inspect the configuration.
    Config {
        /// What to do with it.
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Play a patient in the terminal against a running server's simulator.
    Chat {
        /// The server.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// The simulated patient's WhatsApp id (digits).
        #[arg(long, default_value = "15550000001")]
        from: String,
    },
    /// Manage API tokens for the clinician API.
    Token {
        /// What to do.
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Run eval suites (triage accuracy and safety) and compare runs.
    Eval {
        /// What to do.
        #[command(subcommand)]
        action: evals::cli::EvalCommand,
    },
    /// Print the version.
    Version,
}

/// `triage token …`
#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Create a token and print it once (only its hash is stored).
    Create {
        /// What it allows: clinician, admin or ml_engineer.
        #[arg(long)]
        role: Role,
        /// Who or what it is for.
        #[arg(long, value_name = "NAME")]
        label: Option<String>,
    },
    /// Revoke a token by its id (printed when it was created).
    Revoke {
        /// The token's id.
        id: Uuid,
    },
}

/// `triage config …`
#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Say what is missing or wrong, then probe the services it names.
    Check {
        /// Only check the configuration itself; contact no service.
        #[arg(long)]
        offline: bool,
    },
}

/// Exit code for a configuration that cannot be loaded or is wrong.
const EXIT_CONFIG: u8 = 2;

/// Runs the command; the exit code tells scripts what happened.
pub async fn run(cli: Cli) -> ExitCode {
    // Evals run the agent in-process: no configuration, storage or server.
    let cli = match cli {
        Cli {
            command: Command::Eval { action },
            ..
        } => {
            return match evals::cli::execute(action).await {
                Ok(code) => ExitCode::from(code),
                Err(e) => {
                    shout(&format!("eval: {e}"));
                    ExitCode::from(EXIT_CONFIG)
                }
            };
        }
        cli => cli,
    };
    match &cli.command {
        Command::Version => {
            say(&format!("triage {}", env!("CARGO_PKG_VERSION")));
            return ExitCode::SUCCESS;
        }
        Command::Chat { url, from } => {
            return match crate::chat::run(url, from).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    shout(&e);
                    ExitCode::FAILURE
                }
            };
        }
        _ => {}
    }
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            shout("the configuration cannot be loaded:");
            for problem in &e.problems {
                shout(&format!("  - {problem}"));
            }
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    match cli.command {
        Command::Version | Command::Chat { .. } | Command::Eval { .. } => ExitCode::SUCCESS,
        Command::Serve => serve(config).await,
        Command::Migrate => migrate(config).await,
        Command::Config {
            action: ConfigAction::Check { offline },
        } => check(config, offline).await,
        Command::Token { action } => token(config, action).await,
    }
}

async fn serve(config: Config) -> ExitCode {
    telemetry::init_logging(&config.log);
    let errors: Vec<_> = config::check(&config)
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    if !errors.is_empty() {
        for e in &errors {
            tracing::error!("{e}");
        }
        shout("refusing to start: run `triage config check` for details");
        return ExitCode::from(EXIT_CONFIG);
    }
    let server = match app::start(config, StartOptions::default()).await {
        Ok(server) => server,
        Err(e) => {
            tracing::error!("{e:#}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(addr = %server.addr, "listening");
    wait_for_signal().await;
    tracing::info!("shutting down");
    match server.shutdown().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn migrate(config: Config) -> ExitCode {
    telemetry::init_logging(&config.log);
    match Storage::open(&config.storage, true).await {
        Ok(_) => {
            say(&format!(
                "migrations applied ({:?} backend)",
                config.storage.backend
            ));
            ExitCode::SUCCESS
        }
        Err(e) => {
            shout(&format!("migration failed: {e}"));
            ExitCode::FAILURE
        }
    }
}

/// Token commands open storage like `migrate` does (an operator may create
/// the first token before the first `serve`).
async fn token(config: Config, action: TokenAction) -> ExitCode {
    telemetry::init_logging(&config.log);
    let storage = match Storage::open(&config.storage, true).await {
        Ok(storage) => storage,
        Err(e) => {
            shout(&format!("cannot open storage: {e}"));
            return ExitCode::FAILURE;
        }
    };
    match action {
        TokenAction::Create { role, label } => {
            match storage.reports.create_token(role, label.as_deref()).await {
                Ok((secret, row)) => {
                    // The token alone on stdout, so `$(triage token create …)` captures it.
                    say(secret.expose_secret());
                    shout(&format!(
                        "created {role} token {}{}; store it now: it cannot be shown again",
                        row.id,
                        label.map(|l| format!(" ({l})")).unwrap_or_default()
                    ));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    shout(&format!("cannot create the token: {e}"));
                    ExitCode::FAILURE
                }
            }
        }
        TokenAction::Revoke { id } => match storage.reports.revoke_token(id).await {
            Ok(true) => {
                say(&format!("revoked token {id}"));
                ExitCode::SUCCESS
            }
            Ok(false) => {
                shout(&format!("no active token with id {id}"));
                ExitCode::FAILURE
            }
            Err(e) => {
                shout(&format!("cannot revoke the token: {e}"));
                ExitCode::FAILURE
            }
        },
    }
}

async fn check(config: Config, offline: bool) -> ExitCode {
    let mut findings = config::check(&config);
    let mut probe_failed = false;
    let sqlite_absent = config.storage.backend == crate::config::StorageBackend::Sqlite
        && !config.storage.sqlite_path.exists();
    if sqlite_absent {
        // Opening would create the file: checking must not change anything.
        findings.push(probe_finding(
            "database",
            true,
            format!(
                "{} does not exist yet; `serve` or `migrate` creates it",
                config.storage.sqlite_path.display()
            ),
        ));
    }
    if !offline && !sqlite_absent && !findings.iter().any(|f| f.severity == Severity::Error) {
        // Connect without migrating: checking must not change anything.
        match tokio::time::timeout(
            Duration::from_secs(10),
            Storage::open(&config.storage, false),
        )
        .await
        {
            Ok(Ok(storage)) => {
                for c in storage.health().await {
                    probe_failed |= !c.ok;
                    findings.push(probe_finding(&c.name, c.ok, c.detail));
                }
            }
            Ok(Err(e)) => {
                probe_failed = true;
                findings.push(probe_finding("storage", false, e.to_string()));
            }
            Err(_) => {
                probe_failed = true;
                findings.push(probe_finding(
                    "storage",
                    false,
                    "no answer within 10 s".to_owned(),
                ));
            }
        }
        for c in readiness::dependency_checks(&config, &reqwest::Client::new()).await {
            probe_failed |= !c.ok;
            findings.push(probe_finding(&c.name, c.ok, c.detail));
        }
    }
    for f in &findings {
        say(&f.to_string());
    }
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .count();
    say(&format!("{errors} error(s), {warnings} warning(s)"));
    if errors > 0 && !probe_failed {
        ExitCode::from(EXIT_CONFIG)
    } else if errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn probe_finding(name: &str, ok: bool, detail: String) -> config::Finding {
    config::Finding {
        severity: if ok { Severity::Ok } else { Severity::Error },
        key: format!("reachable {name}"),
        message: detail,
    }
}

fn say(line: &str) {
    let _ = writeln!(std::io::stdout(), "{line}");
}

fn shout(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}
