//! Eval suites for triage accuracy and safety: the suite format, a runner
//! that drives the agent (with or without a model) through single-message or
//! simulated conversations, metrics in each suite's own scheme, Markdown and
//! HTML reports, and run-to-run comparison for the CI gate.

pub mod cli;
pub mod compare;
pub mod metrics;
pub mod patient;
pub mod report;
pub mod runner;
pub mod suite;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::StreamExt;
use llm::Advisor;
use retrieval::Embedder;
use serde::{Deserialize, Serialize};

use crate::metrics::Metrics;
use crate::patient::Mode;
use crate::runner::{CaseResult, RunSettings};
use crate::suite::{LineError, Suite};

/// What a run was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// `none`, `candle` or `openai`.
    pub backend: String,
    /// Model name, when one was used.
    pub model: Option<String>,
    /// `single` or `conversation`.
    pub mode: String,
    /// Suite names.
    pub suites: Vec<String>,
    /// Repetitions.
    pub repeat: usize,
    /// Seed.
    pub seed: u64,
    /// Red-flag rule set version.
    pub rules_version: String,
    /// Protocol set version.
    pub protocols_version: String,
    /// RFC 3339 start time.
    pub started_at: String,
    /// Wall-clock duration of the run.
    pub duration_s: f64,
}

/// `metrics.json`: the run's metrics (flattened at the top level), per suite,
/// and the suite lines that were skipped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsFile {
    /// What was run.
    pub run: RunInfo,
    /// Over all cases.
    #[serde(flatten)]
    pub metrics: Metrics,
    /// Per suite.
    pub by_suite: BTreeMap<String, Metrics>,
    /// Malformed suite lines (skipped).
    pub errors: Vec<LineError>,
    /// True when the run was interrupted.
    pub partial: bool,
}

/// Errors of the eval tool.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A suite could not be read.
    #[error(transparent)]
    Suite(#[from] suite::SuiteError),
    /// Results could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The backend could not be set up.
    #[error("backend: {0}")]
    Backend(String),
    /// A case could not be run.
    #[error(transparent)]
    Run(#[from] runner::RunError),
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> EvalError {
    EvalError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Reads `DIR/metrics.json`.
pub fn read_metrics(dir: &Path) -> Result<MetricsFile, EvalError> {
    let path = dir.join("metrics.json");
    let text = std::fs::read_to_string(&path).map_err(|e| io_err(&path, e))?;
    serde_json::from_str(&text).map_err(|e| io_err(&path, e))
}

/// Reads `DIR/cases.jsonl`.
pub fn read_cases(dir: &Path) -> Result<Vec<CaseResult>, EvalError> {
    let path = dir.join("cases.jsonl");
    let text = std::fs::read_to_string(&path).map_err(|e| io_err(&path, e))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(|e| io_err(&path, e)))
        .collect()
}

/// What to run.
#[derive(Debug, Clone)]
pub struct RunPlan {
    /// Suites, loaded.
    pub suites: Vec<Suite>,
    /// How to run each case.
    pub settings: RunSettings,
    /// Repetitions of each case.
    pub repeat: usize,
    /// Seed (recorded; the model backends take it at construction).
    pub seed: u64,
    /// Cases in flight at once.
    pub concurrency: usize,
    /// Backend name for the record.
    pub backend: String,
}

/// The results of a run.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// `metrics.json` content.
    pub metrics: MetricsFile,
    /// Per case.
    pub cases: Vec<CaseResult>,
}

/// Runs the plan; `stop` ends it early (results so far are kept, `partial`).
pub async fn run(
    plan: &RunPlan,
    advisor: Option<&Advisor>,
    embedder: Option<&Embedder>,
    stop: Arc<AtomicBool>,
    on_case: &(dyn Fn(&CaseResult) + Sync),
) -> Result<RunOutput, EvalError> {
    let started = std::time::Instant::now();
    let started_at = chrono_now();
    let jobs: Vec<(&Suite, &suite::Case, usize)> = (0..plan.repeat.max(1))
        .flat_map(|rep| {
            plan.suites
                .iter()
                .flat_map(move |s| s.cases.iter().map(move |c| (s, c, rep)))
        })
        .collect();
    let mut results: Vec<CaseResult> = Vec::with_capacity(jobs.len());
    let mut stream = futures::stream::iter(jobs.into_iter().map(|(s, c, rep)| {
        let stop = stop.clone();
        async move {
            if stop.load(Ordering::SeqCst) {
                return None;
            }
            Some(runner::run_case(c, &s.name, rep, &plan.settings, advisor, embedder).await)
        }
    }))
    .buffer_unordered(plan.concurrency.max(1));
    while let Some(r) = stream.next().await {
        match r {
            Some(Ok(result)) => {
                on_case(&result);
                results.push(result);
            }
            Some(Err(e)) => return Err(e.into()),
            None => {}
        }
    }
    let partial = stop.load(Ordering::SeqCst);
    // Stable order in the files whatever the concurrency.
    let order: BTreeMap<(usize, &str, &str), usize> = plan
        .suites
        .iter()
        .enumerate()
        .flat_map(|(si, s)| {
            s.cases
                .iter()
                .enumerate()
                .map(move |(ci, c)| ((si, s.name.as_str(), c.id.as_str()), ci))
        })
        .collect();
    let suite_index = |name: &str| plan.suites.iter().position(|s| s.name == name).unwrap_or(0);
    results.sort_by_key(|r| {
        let si = suite_index(&r.suite);
        let ci = order
            .get(&(si, r.suite.as_str(), r.id.as_str()))
            .copied()
            .unwrap_or(usize::MAX);
        (r.repeat, si, ci)
    });
    let knowledge = agent::Agent::shared()
        .map_err(|e| EvalError::Backend(e.to_string()))?
        .knowledge();
    let mut by_suite = BTreeMap::new();
    for s in &plan.suites {
        let rs: Vec<CaseResult> = results
            .iter()
            .filter(|r| r.suite == s.name)
            .cloned()
            .collect();
        by_suite.insert(s.name.clone(), metrics::compute(&rs));
    }
    let metrics = MetricsFile {
        run: RunInfo {
            backend: plan.backend.clone(),
            model: advisor.map(|a| a.model_name().to_owned()),
            mode: match plan.settings.mode {
                Mode::Single => "single".to_owned(),
                Mode::Conversation => "conversation".to_owned(),
            },
            suites: plan.suites.iter().map(|s| s.name.clone()).collect(),
            repeat: plan.repeat.max(1),
            seed: plan.seed,
            rules_version: knowledge.rules.version.clone(),
            protocols_version: knowledge.protocols.version.clone(),
            started_at,
            duration_s: started.elapsed().as_secs_f64(),
        },
        metrics: metrics::compute(&results),
        by_suite,
        errors: plan.suites.iter().flat_map(|s| s.errors.clone()).collect(),
        partial,
    };
    Ok(RunOutput {
        metrics,
        cases: results,
    })
}

fn chrono_now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Writes `metrics.json`, `cases.jsonl`, `report.md` and `report.html` into `dir`.
pub fn write_outputs(dir: &Path, out: &RunOutput) -> Result<Vec<PathBuf>, EvalError> {
    std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    let metrics_path = dir.join("metrics.json");
    let json = serde_json::to_string_pretty(&out.metrics).map_err(|e| io_err(&metrics_path, e))?;
    std::fs::write(&metrics_path, json + "\n").map_err(|e| io_err(&metrics_path, e))?;
    let cases_path = dir.join("cases.jsonl");
    let mut lines = String::new();
    for c in &out.cases {
        lines.push_str(&serde_json::to_string(c).map_err(|e| io_err(&cases_path, e))?);
        lines.push('\n');
    }
    std::fs::write(&cases_path, lines).map_err(|e| io_err(&cases_path, e))?;
    let md = dir.join("report.md");
    std::fs::write(&md, report::markdown(&out.metrics, &out.cases)).map_err(|e| io_err(&md, e))?;
    let html = dir.join("report.html");
    std::fs::write(&html, report::html(&out.metrics, &out.cases)).map_err(|e| io_err(&html, e))?;
    Ok(vec![metrics_path, cases_path, md, html])
}
