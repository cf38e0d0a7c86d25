//! `triage eval run …` and `triage eval compare …`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use llm::{Advisor, OpenAiCompatible};
use retrieval::Embedder;

use crate::compare::{Thresholds, compare_dirs};
use crate::patient::Mode;
use crate::runner::RunSettings;
use crate::suite::load_suite;
use crate::{EvalError, RunPlan, run, write_outputs};

/// Exit code: malformed suite lines were skipped (the run completed).
pub const EXIT_SKIPPED_LINES: u8 = 3;
/// Exit code: a comparison found a regression.
pub const EXIT_REGRESSION: u8 = 1;
/// Exit code: interrupted (partial results written).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Eval commands.
#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Run suites against a backend and write metrics.json, cases.jsonl and reports.
    Run(Box<RunArgs>),
    /// Compare two runs case by case; non-zero exit on a regression.
    Compare(CompareArgs),
}

/// Model backend for a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// Rules and lexicon only.
    None,
    /// A local GGUF model on CPU.
    Candle,
    /// An OpenAI-compatible endpoint (MedGemma).
    Openai,
}

/// `triage eval run`
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Suite file (JSONL); repeat for several.
    #[arg(long = "suite", required = true)]
    pub suites: Vec<PathBuf>,
    /// Model backend.
    #[arg(long, value_enum, default_value = "none")]
    pub backend: Backend,
    /// `single`: the opening only; `conversation`: a simulated patient answers.
    #[arg(long, value_enum, default_value = "single")]
    pub mode: Mode,
    /// Output directory.
    #[arg(long)]
    pub out: PathBuf,
    /// Run every case this many times.
    #[arg(long, default_value_t = 1)]
    pub repeat: usize,
    /// Seed for sampling backends.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Cases in flight at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Patient messages per conversation at most.
    #[arg(long, default_value_t = 12)]
    pub max_turns: usize,
    /// Do not ask the model for findings on every message (proposals only).
    #[arg(long)]
    pub no_extraction: bool,
    /// OpenAI-compatible base URL (e.g. http://127.0.0.1:8000/v1).
    #[arg(long, env = "TRIAGE_EVAL_BASE_URL")]
    pub base_url: Option<String>,
    /// Model name sent to the endpoint.
    #[arg(long, env = "TRIAGE_EVAL_MODEL")]
    pub model_name: Option<String>,
    /// Name of the environment variable holding the endpoint's API key.
    #[arg(long)]
    pub api_key_env: Option<String>,
    /// GGUF file for the candle backend.
    #[arg(long, default_value = "models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")]
    pub gguf: PathBuf,
    /// tokenizer.json for the candle backend (default: from the GGUF metadata).
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
    /// Per-call model timeout in milliseconds.
    #[arg(long, default_value_t = 60_000)]
    pub timeout_ms: u64,
    /// An OpenAI-compatible endpoint that role-plays the patient in
    /// conversation mode (else answers come from facts and similarity).
    #[arg(long)]
    pub patient_base_url: Option<String>,
    /// Model name for the role-playing patient.
    #[arg(long, default_value = "patient")]
    pub patient_model: String,
    /// Embedding model for the simulated patient (conversation mode).
    #[arg(long, default_value = "models/all-MiniLM-L6-v2")]
    pub embedding_model: PathBuf,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// `triage eval compare`
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Baseline run directory.
    pub base: PathBuf,
    /// New run directory.
    pub new: PathBuf,
    /// Largest allowed accuracy drop, as a fraction (0.02 = 2 points).
    #[arg(long, default_value_t = 0.0)]
    pub max_accuracy_drop: f64,
    /// Smallest allowed emergency recall in every suite.
    #[arg(long)]
    pub min_emergency_recall: Option<f64>,
}

fn advisor(args: &RunArgs) -> Result<Option<Advisor>, EvalError> {
    let timeout = Duration::from_millis(args.timeout_ms);
    match args.backend {
        Backend::None => Ok(None),
        Backend::Openai => {
            let base = args.base_url.as_deref().ok_or_else(|| {
                EvalError::Backend("--base-url (or TRIAGE_EVAL_BASE_URL) is required".to_owned())
            })?;
            let name = args.model_name.as_deref().ok_or_else(|| {
                EvalError::Backend("--model-name (or TRIAGE_EVAL_MODEL) is required".to_owned())
            })?;
            let key = match &args.api_key_env {
                Some(var) => Some(secrecy::SecretString::from(std::env::var(var).map_err(
                    |_| EvalError::Backend(format!("environment variable {var} is not set")),
                )?)),
                None => None,
            };
            let model = OpenAiCompatible::new(reqwest::Client::new(), base, name, key)
                .with_timeout(timeout);
            Ok(Some(Advisor::new(Arc::new(model))))
        }
        Backend::Candle => {
            let options = llm::candle::CandleOptions {
                seed: args.seed,
                timeout: Some(timeout),
                ..llm::candle::CandleOptions::default()
            };
            let model =
                llm::candle::CandleGguf::load(&args.gguf, args.tokenizer.as_deref(), options)
                    .map_err(|e| EvalError::Backend(e.to_string()))?;
            Ok(Some(Advisor::new(Arc::new(model))))
        }
    }
}

fn embedder(args: &RunArgs) -> Result<Option<Embedder>, EvalError> {
    if args.mode != Mode::Conversation {
        return Ok(None);
    }
    Embedder::load(&args.embedding_model)
        .map(Some)
        .map_err(|e| EvalError::Backend(format!("simulated patient embeddings: {e}")))
}

/// Runs an eval command; returns the process exit code.
pub async fn execute(cmd: EvalCommand) -> Result<u8, EvalError> {
    match cmd {
        EvalCommand::Run(args) => run_command(&args).await,
        EvalCommand::Compare(args) => {
            let c = compare_dirs(
                &args.base,
                &args.new,
                Thresholds {
                    max_accuracy_drop: args.max_accuracy_drop,
                    min_emergency_recall: args.min_emergency_recall,
                },
            )?;
            print_out(&c.text);
            Ok(if c.regressions.is_empty() {
                0
            } else {
                EXIT_REGRESSION
            })
        }
    }
}

#[allow(clippy::print_stdout)]
fn print_out(text: &str) {
    print!("{text}");
}

#[allow(clippy::print_stderr)]
fn print_err(text: &str) {
    eprintln!("{text}");
}

async fn run_command(args: &RunArgs) -> Result<u8, EvalError> {
    let mut suites = Vec::new();
    for path in &args.suites {
        let s = load_suite(path)?;
        for e in &s.errors {
            print_err(&format!("skipped {e}"));
        }
        suites.push(s);
    }
    let skipped = suites.iter().any(|s| !s.errors.is_empty());
    let advisor = {
        let args_backend = args.backend;
        let built = tokio::task::block_in_place(|| advisor(args))?;
        if args_backend != Backend::None && built.is_none() {
            return Err(EvalError::Backend("no model".to_owned()));
        }
        built
    };
    let embedder = tokio::task::block_in_place(|| embedder(args))?;
    let total: usize = suites.iter().map(|s| s.cases.len()).sum::<usize>() * args.repeat.max(1);
    let plan = RunPlan {
        suites,
        settings: RunSettings {
            mode: args.mode,
            max_turns: args.max_turns,
            extraction: !args.no_extraction,
            role_play: args.patient_base_url.as_deref().map(|base| {
                Arc::new(
                    OpenAiCompatible::new(reqwest::Client::new(), base, &args.patient_model, None)
                        .with_timeout(Duration::from_millis(args.timeout_ms)),
                ) as Arc<dyn llm::ChatModel>
            }),
        },
        repeat: args.repeat.max(1),
        seed: args.seed,
        concurrency: args.concurrency,
        backend: format!("{:?}", args.backend).to_lowercase(),
    };
    let bar = if args.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(total as u64)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} cases · {elapsed} elapsed · eta {eta} · {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let ctrl_c = {
        let stop = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.store(true, Ordering::SeqCst);
            }
        })
    };
    let wrong = std::sync::atomic::AtomicUsize::new(0);
    let on_case = |r: &crate::runner::CaseResult| {
        if !r.correct {
            wrong.fetch_add(1, Ordering::Relaxed);
        }
        bar.set_message(format!("{} wrong", wrong.load(Ordering::Relaxed)));
        bar.inc(1);
    };
    let out = run(
        &plan,
        advisor.as_ref(),
        embedder.as_ref(),
        stop.clone(),
        &on_case,
    )
    .await;
    ctrl_c.abort();
    bar.finish_and_clear();
    let out = out?;
    let files = write_outputs(&args.out, &out)?;
    print_out(&summary(&out.metrics));
    print_out(&format!(
        "wrote {}\n",
        files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok(if out.metrics.partial {
        EXIT_INTERRUPTED
    } else if skipped {
        EXIT_SKIPPED_LINES
    } else {
        0
    })
}

/// A short text summary of a run.
pub fn summary(m: &crate::MetricsFile) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let opt = |x: Option<f64>| x.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.3}"));
    let _ = writeln!(
        s,
        "{} backend, {} mode{}: {} cases, accuracy {:.3} [{:.3}, {:.3}], under-triage {:.3}, over-triage {:.3}, emergency recall {} ({} cases), red-flag recall {}, mean questions {:.2}, latency p50 {:.2} ms p95 {:.2} ms",
        m.run.backend,
        m.run.mode,
        if m.partial { " (partial)" } else { "" },
        m.metrics.cases,
        m.metrics.accuracy,
        m.metrics.accuracy_ci95[0],
        m.metrics.accuracy_ci95[1],
        m.metrics.under_triage_rate,
        m.metrics.over_triage_rate,
        opt(m.metrics.emergency_recall),
        m.metrics.emergency_cases,
        opt(m.metrics.red_flag_recall),
        m.metrics.mean_questions,
        m.metrics.latency_ms_p50,
        m.metrics.latency_ms_p95
    );
    for (name, sm) in &m.by_suite {
        let _ = writeln!(
            s,
            "  {name}: {} cases, accuracy {:.3}, under-triage {:.3}, emergency recall {}, red-flag recall {}",
            sm.cases,
            sm.accuracy,
            sm.under_triage_rate,
            opt(sm.emergency_recall),
            opt(sm.red_flag_recall)
        );
    }
    s
}

/// Whether `path` looks like a run directory.
pub fn is_run_dir(path: &Path) -> bool {
    path.join("metrics.json").is_file() && path.join("cases.jsonl").is_file()
}
