//! `triage eval compare BASE NEW`: what changed, case by case, and whether
//! it is a regression past the thresholds.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::runner::CaseResult;
use crate::{EvalError, MetricsFile, read_cases, read_metrics};

/// Regression thresholds.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    /// Largest allowed accuracy drop (fraction, e.g. 0.02), overall and per suite.
    pub max_accuracy_drop: f64,
    /// Smallest allowed emergency recall in any suite with emergency cases.
    pub min_emergency_recall: Option<f64>,
}

/// The outcome of a comparison.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// Human-readable report.
    pub text: String,
    /// Regressions found (empty = pass).
    pub regressions: Vec<String>,
}

fn fmt_opt(x: Option<f64>) -> String {
    x.map_or_else(|| "n/a".to_owned(), |v| format!("{:.3}", v))
}

/// Compares two run directories.
pub fn compare_dirs(base: &Path, new: &Path, t: Thresholds) -> Result<Comparison, EvalError> {
    let (bm, nm) = (read_metrics(base)?, read_metrics(new)?);
    let (bc, nc) = (read_cases(base)?, read_cases(new)?);
    Ok(compare(&bm, &nm, &bc, &nc, t))
}

/// Compares two runs.
pub fn compare(
    base: &MetricsFile,
    new: &MetricsFile,
    base_cases: &[CaseResult],
    new_cases: &[CaseResult],
    t: Thresholds,
) -> Comparison {
    let mut text = String::new();
    let mut regressions = Vec::new();
    let _ = writeln!(
        text,
        "overall: accuracy {:.3} -> {:.3}, under-triage {:.3} -> {:.3}, emergency recall {} -> {}",
        base.metrics.accuracy,
        new.metrics.accuracy,
        base.metrics.under_triage_rate,
        new.metrics.under_triage_rate,
        fmt_opt(base.metrics.emergency_recall),
        fmt_opt(new.metrics.emergency_recall)
    );
    if new.metrics.accuracy + 1e-9 < base.metrics.accuracy - t.max_accuracy_drop {
        regressions.push(format!(
            "overall accuracy fell from {:.3} to {:.3} (allowed drop {:.3})",
            base.metrics.accuracy, new.metrics.accuracy, t.max_accuracy_drop
        ));
    }
    for (suite, nm) in &new.by_suite {
        let bm = base.by_suite.get(suite);
        let _ = writeln!(
            text,
            "suite {suite}: accuracy {} -> {:.3}, under-triage {} -> {:.3}, emergency recall {} -> {}",
            fmt_opt(bm.map(|m| m.accuracy)),
            nm.accuracy,
            fmt_opt(bm.map(|m| m.under_triage_rate)),
            nm.under_triage_rate,
            fmt_opt(bm.and_then(|m| m.emergency_recall)),
            fmt_opt(nm.emergency_recall)
        );
        if let Some(bm) = bm
            && nm.accuracy + 1e-9 < bm.accuracy - t.max_accuracy_drop
        {
            regressions.push(format!(
                "suite {suite}: accuracy fell from {:.3} to {:.3} (allowed drop {:.3})",
                bm.accuracy, nm.accuracy, t.max_accuracy_drop
            ));
        }
        if let (Some(min), Some(recall)) = (t.min_emergency_recall, nm.emergency_recall)
            && recall + 1e-9 < min
        {
            regressions.push(format!(
                "suite {suite}: emergency recall {recall:.3} is below {min:.3}"
            ));
        }
    }
    let key = |r: &CaseResult| (r.suite.clone(), r.id.clone(), r.repeat);
    let base_by: BTreeMap<_, &CaseResult> = base_cases.iter().map(|r| (key(r), r)).collect();
    let new_by: BTreeMap<_, &CaseResult> = new_cases.iter().map(|r| (key(r), r)).collect();
    let (mut fixed, mut broke, mut moved) = (0, 0, 0);
    for (k, n) in &new_by {
        match base_by.get(k) {
            None => {
                let _ = writeln!(
                    text,
                    "  new case {}/{}: predicted {} (gold {})",
                    k.0, k.1, n.predicted, n.gold
                );
            }
            Some(b) if b.predicted != n.predicted => {
                let tag = match (b.correct, n.correct) {
                    (false, true) => {
                        fixed += 1;
                        "FIXED"
                    }
                    (true, false) => {
                        broke += 1;
                        "BROKE"
                    }
                    _ => {
                        moved += 1;
                        "moved"
                    }
                };
                let under = if n.under_triage {
                    " (under-triage)"
                } else {
                    ""
                };
                let _ = writeln!(
                    text,
                    "  {tag} {}/{}: {} -> {} (gold {}){under}",
                    k.0, k.1, b.predicted, n.predicted, n.gold
                );
            }
            Some(_) => {}
        }
    }
    let gone = base_by.keys().filter(|k| !new_by.contains_key(*k)).count();
    let _ = writeln!(
        text,
        "cases: {fixed} fixed, {broke} broke, {moved} moved, {gone} no longer in the run"
    );
    if regressions.is_empty() {
        text.push_str("gate: ok\n");
    } else {
        for r in &regressions {
            let _ = writeln!(text, "REGRESSION: {r}");
        }
    }
    Comparison { text, regressions }
}
