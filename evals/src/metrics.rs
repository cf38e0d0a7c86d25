//! Metrics over case results, each case judged in its suite's own scheme.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::runner::CaseResult;

/// Accuracy of one gold label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelStats {
    /// Cases with this gold label.
    pub cases: usize,
    /// Share predicted correctly.
    pub accuracy: f64,
}

/// The figures `metrics.json` reports (for a whole run and per suite).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Case runs measured (cases × repeats).
    pub cases: usize,
    /// Share predicted exactly.
    pub accuracy: f64,
    /// 95 % Wilson interval of `accuracy`.
    pub accuracy_ci95: [f64; 2],
    /// Share predicted less urgent than gold.
    pub under_triage_rate: f64,
    /// Share predicted more urgent than gold.
    pub over_triage_rate: f64,
    /// Among emergency-gold cases, the share predicted as an emergency.
    pub emergency_recall: Option<f64>,
    /// Emergency-gold cases.
    pub emergency_cases: usize,
    /// Among cases listing red flags, the share where a red-flag rule fired.
    pub red_flag_recall: Option<f64>,
    /// Cases listing red flags.
    pub red_flag_cases: usize,
    /// Mean questions asked.
    pub mean_questions: f64,
    /// Conversations that never reached a disposition.
    pub unconcluded: usize,
    /// Share of conversations that ended with no disposition (`unconcluded`
    /// / `cases`): the patient was left without an instruction.
    #[serde(default)]
    pub dead_end_rate: f64,
    /// Share of conversations handed off to a clinician.
    #[serde(default)]
    pub handoff_rate: f64,
    /// Cases with `expect` checks.
    #[serde(default)]
    pub expect_cases: usize,
    /// Cases whose `expect` checks failed.
    #[serde(default)]
    pub expect_failed: usize,
    /// Median conversation latency.
    pub latency_ms_p50: f64,
    /// 95th percentile conversation latency.
    pub latency_ms_p95: f64,
    /// Per gold label.
    pub by_gold: BTreeMap<String, LabelStats>,
    /// gold → predicted → count.
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
    /// Accuracy of each repetition (one entry without `--repeat`).
    pub accuracy_by_repeat: Vec<f64>,
}

/// 95 % Wilson score interval for `k` successes out of `n`.
pub fn wilson95(k: usize, n: usize) -> [f64; 2] {
    if n == 0 {
        return [0.0, 0.0];
    }
    let z = 1.959_963_984_540_054_f64;
    let n_f = n as f64;
    let p = k as f64 / n_f;
    let denom = 1.0 + z * z / n_f;
    let centre = (p + z * z / (2.0 * n_f)) / denom;
    let half = z * ((p * (1.0 - p) / n_f) + z * z / (4.0 * n_f * n_f)).sqrt() / denom;
    [(centre - half).max(0.0), (centre + half).min(1.0)]
}

/// Nearest-rank percentile of `values` (`q` in 0..=1).
pub fn percentile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

fn share(k: usize, n: usize) -> f64 {
    if n == 0 { 0.0 } else { k as f64 / n as f64 }
}

/// Computes the metrics of `results`.
pub fn compute(results: &[CaseResult]) -> Metrics {
    let n = results.len();
    let correct = results.iter().filter(|r| r.correct).count();
    let emergencies: Vec<&CaseResult> = results
        .iter()
        .filter(|r| r.scheme.is_emergency(&r.gold))
        .collect();
    let emergency_hits = emergencies
        .iter()
        .filter(|r| r.scheme.is_emergency(&r.predicted))
        .count();
    let flagged: Vec<&CaseResult> = results.iter().filter(|r| !r.red_flags.is_empty()).collect();
    let flag_hits = flagged.iter().filter(|r| !r.rules_fired.is_empty()).count();
    let latencies: Vec<f64> = results.iter().map(|r| r.latency_ms).collect();
    let mut by_gold: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut confusion: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut repeats: BTreeMap<usize, (usize, usize)> = BTreeMap::new();
    for r in results {
        let e = by_gold.entry(r.gold.clone()).or_default();
        e.0 += 1;
        e.1 += usize::from(r.correct);
        *confusion
            .entry(r.gold.clone())
            .or_default()
            .entry(r.predicted.clone())
            .or_default() += 1;
        let rep = repeats.entry(r.repeat).or_default();
        rep.0 += 1;
        rep.1 += usize::from(r.correct);
    }
    Metrics {
        cases: n,
        accuracy: share(correct, n),
        accuracy_ci95: wilson95(correct, n),
        under_triage_rate: share(results.iter().filter(|r| r.under_triage).count(), n),
        over_triage_rate: share(results.iter().filter(|r| r.over_triage).count(), n),
        emergency_recall: (!emergencies.is_empty())
            .then(|| share(emergency_hits, emergencies.len())),
        emergency_cases: emergencies.len(),
        red_flag_recall: (!flagged.is_empty()).then(|| share(flag_hits, flagged.len())),
        red_flag_cases: flagged.len(),
        mean_questions: if n == 0 {
            0.0
        } else {
            results
                .iter()
                .map(|r| r.questions_asked as f64)
                .sum::<f64>()
                / n as f64
        },
        unconcluded: results.iter().filter(|r| !r.concluded).count(),
        dead_end_rate: share(results.iter().filter(|r| !r.concluded).count(), n),
        handoff_rate: share(results.iter().filter(|r| r.handoff.is_some()).count(), n),
        expect_cases: results.iter().filter(|r| r.has_expectations).count(),
        expect_failed: results
            .iter()
            .filter(|r| !r.expect_failures.is_empty())
            .count(),
        latency_ms_p50: percentile(&latencies, 0.5),
        latency_ms_p95: percentile(&latencies, 0.95),
        by_gold: by_gold
            .into_iter()
            .map(|(g, (cases, ok))| {
                (
                    g,
                    LabelStats {
                        cases,
                        accuracy: share(ok, cases),
                    },
                )
            })
            .collect(),
        confusion,
        accuracy_by_repeat: repeats.values().map(|(c, ok)| share(*ok, *c)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::Scheme;

    fn result(gold: &str, predicted: &str, fired: bool, flags: bool) -> CaseResult {
        let s = Scheme::Five;
        let (g, p) = (s.rank(gold).unwrap(), s.rank(predicted).unwrap());
        CaseResult {
            id: format!("{gold}-{predicted}"),
            suite: "t".into(),
            repeat: 0,
            scheme: s,
            gold: gold.into(),
            predicted: predicted.into(),
            predicted_disposition: predicted.parse().ok(),
            concluded: true,
            correct: g == p,
            under_triage: p > g,
            over_triage: p < g,
            questions_asked: 2,
            transcript: vec![],
            rules_fired: if fired { vec!["r".into()] } else { vec![] },
            red_flags: if flags { vec!["x".into()] } else { vec![] },
            language: "en".into(),
            latency_ms: 1.0,
            model_errors: vec![],
            model_rationale: None,
            handoff: None,
            expect_failures: vec![],
            has_expectations: false,
        }
    }

    #[test]
    fn rates_recall_and_confusion() {
        let rs = vec![
            result("emergency_ambulance", "emergency_ambulance", true, true),
            result("emergency_ambulance", "emergency_department", true, true),
            result("emergency_department", "urgent_24h", false, true),
            result("routine", "routine", false, false),
            result("self_care", "routine", false, false),
        ];
        let m = compute(&rs);
        assert_eq!(m.cases, 5);
        assert!((m.accuracy - 0.4).abs() < 1e-9);
        assert!((m.under_triage_rate - 0.4).abs() < 1e-9);
        assert!((m.over_triage_rate - 0.2).abs() < 1e-9);
        assert_eq!(m.emergency_cases, 3);
        assert!((m.emergency_recall.unwrap() - 2.0 / 3.0).abs() < 1e-9);
        assert!((m.red_flag_recall.unwrap() - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(m.confusion["self_care"]["routine"], 1);
        assert!((m.by_gold["emergency_ambulance"].accuracy - 0.5).abs() < 1e-9);
        let [lo, hi] = m.accuracy_ci95;
        assert!(lo < 0.4 && hi > 0.4 && lo >= 0.0 && hi <= 1.0);
    }

    #[test]
    fn wilson_interval_matches_known_values() {
        // 8/10: Wilson 95 % is about [0.490, 0.943].
        let [lo, hi] = wilson95(8, 10);
        assert!(
            (lo - 0.4902).abs() < 1e-3 && (hi - 0.9433).abs() < 1e-3,
            "{lo} {hi}"
        );
        assert_eq!(wilson95(0, 0), [0.0, 0.0]);
        assert_eq!(percentile(&[3.0, 1.0, 2.0, 4.0], 0.5), 2.0);
    }
}
