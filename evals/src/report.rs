//! `report.md` and `report.html`: the summary, per-suite figures, the
//! confusion matrix (an SVG heatmap in HTML), per-label accuracy bars and the
//! worst cases with their transcripts.

use std::fmt::Write as _;

use crate::MetricsFile;
use crate::metrics::Metrics;
use crate::runner::CaseResult;
use crate::suite::Scheme;

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn opt_pct(x: Option<f64>) -> String {
    x.map_or_else(|| "n/a".to_owned(), pct)
}

/// Cases worth a look: under-triage first (furthest from gold), then over-triage.
pub fn worst_cases(results: &[CaseResult], n: usize) -> Vec<&CaseResult> {
    let distance = |r: &CaseResult| {
        let g = r.scheme.rank(&r.gold).unwrap_or(0) as i64;
        let p = r.scheme.rank(&r.predicted).unwrap_or(0) as i64;
        p - g
    };
    let mut wrong: Vec<&CaseResult> = results.iter().filter(|r| !r.correct).collect();
    // Under-triage (positive distance) first, largest first; then over-triage.
    wrong.sort_by_key(|r| {
        let d = distance(r);
        (if d > 0 { 0 } else { 1 }, -d.abs(), r.id.clone())
    });
    wrong.truncate(n);
    wrong
}

fn labels_of(results: &[CaseResult]) -> Vec<&'static str> {
    let mut schemes: Vec<Scheme> = results.iter().map(|r| r.scheme).collect();
    schemes.sort();
    schemes.dedup();
    let mut labels = Vec::new();
    for s in schemes {
        for l in s.labels() {
            if !labels.contains(l) {
                labels.push(*l);
            }
        }
    }
    labels
}

fn summary_rows(m: &Metrics) -> Vec<(&'static str, String)> {
    vec![
        ("cases", m.cases.to_string()),
        (
            "accuracy",
            format!(
                "{} (95% CI {}–{})",
                pct(m.accuracy),
                pct(m.accuracy_ci95[0]),
                pct(m.accuracy_ci95[1])
            ),
        ),
        ("under-triage", pct(m.under_triage_rate)),
        ("over-triage", pct(m.over_triage_rate)),
        (
            "emergency recall",
            format!("{} of {}", opt_pct(m.emergency_recall), m.emergency_cases),
        ),
        (
            "red-flag recall",
            format!("{} of {}", opt_pct(m.red_flag_recall), m.red_flag_cases),
        ),
        ("mean questions", format!("{:.2}", m.mean_questions)),
        (
            "dead ends (no disposition)",
            format!("{} ({})", pct(m.dead_end_rate), m.unconcluded),
        ),
        ("handed off to a clinician", pct(m.handoff_rate)),
        (
            "expectation checks failed",
            format!("{} of {}", m.expect_failed, m.expect_cases),
        ),
        (
            "latency p50 / p95",
            format!("{:.2} / {:.2} ms", m.latency_ms_p50, m.latency_ms_p95),
        ),
    ]
}

/// The Markdown report.
pub fn markdown(file: &MetricsFile, results: &[CaseResult]) -> String {
    let mut out = String::new();
    let run = &file.run;
    let _ = writeln!(
        out,
        "# Triage eval: {} backend, {} mode{}\n",
        run.backend,
        run.mode,
        if file.partial {
            " (PARTIAL: interrupted)"
        } else {
            ""
        }
    );
    let _ = writeln!(
        out,
        "Suites: {} · repeats {} · seed {} · rules {} · protocols {} · {}\n",
        run.suites.join(", "),
        run.repeat,
        run.seed,
        run.rules_version,
        run.protocols_version,
        run.started_at
    );
    out.push_str("| metric | value |\n|---|---|\n");
    for (k, v) in summary_rows(&file.metrics) {
        let _ = writeln!(out, "| {k} | {v} |");
    }
    out.push_str("\n## Per suite\n\n| suite | cases | accuracy | under-triage | over-triage | emergency recall | red-flag recall | mean questions |\n|---|---|---|---|---|---|---|---|\n");
    for (name, m) in &file.by_suite {
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} | {} | {} | {} | {:.2} |",
            m.cases,
            pct(m.accuracy),
            pct(m.under_triage_rate),
            pct(m.over_triage_rate),
            opt_pct(m.emergency_recall),
            opt_pct(m.red_flag_recall),
            m.mean_questions
        );
    }
    let labels = labels_of(results);
    out.push_str("\n## Confusion (rows: gold, columns: predicted)\n\n| gold \\ predicted |");
    for l in &labels {
        let _ = write!(out, " {l} |");
    }
    out.push_str("\n|---|");
    for _ in &labels {
        out.push_str("---|");
    }
    out.push('\n');
    for g in &labels {
        let Some(row) = file.metrics.confusion.get(*g) else {
            continue;
        };
        let _ = write!(out, "| **{g}** |");
        for p in &labels {
            let _ = write!(out, " {} |", row.get(*p).copied().unwrap_or(0));
        }
        out.push('\n');
    }
    out.push_str("\n## Accuracy per gold label\n\n| gold | cases | accuracy |\n|---|---|---|\n");
    for (g, s) in &file.metrics.by_gold {
        let _ = writeln!(out, "| {g} | {} | {} |", s.cases, pct(s.accuracy));
    }
    if !file.errors.is_empty() {
        out.push_str("\n## Skipped lines\n\n");
        for e in &file.errors {
            let _ = writeln!(out, "- {e}");
        }
    }
    out.push_str("\n## Worst cases\n");
    for r in worst_cases(results, 15) {
        let _ = writeln!(
            out,
            "\n### {} ({}) — gold `{}`, predicted `{}`{}\n",
            r.id,
            r.suite,
            r.gold,
            r.predicted,
            if r.under_triage {
                " — UNDER-TRIAGE"
            } else {
                ""
            }
        );
        if !r.rules_fired.is_empty() {
            let _ = writeln!(out, "Rules fired: {}\n", r.rules_fired.join(", "));
        }
        for t in &r.transcript {
            let _ = writeln!(
                out,
                "> **{}**: {}",
                t.role,
                t.text.replace('\n', " ").replace('|', "\\|")
            );
        }
    }
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An SVG heatmap of the confusion matrix.
pub fn confusion_svg(metrics: &Metrics, labels: &[&str]) -> String {
    let cell = 64.0;
    let left = 170.0;
    let top = 150.0;
    let n = labels.len() as f64;
    let max = metrics
        .confusion
        .values()
        .flat_map(|r| r.values())
        .copied()
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" aria-label="confusion matrix" font-family="sans-serif" font-size="12">"#,
        w = left + n * cell + 20.0,
        h = top + n * cell + 20.0
    );
    for (j, p) in labels.iter().enumerate() {
        let x = left + j as f64 * cell + cell / 2.0;
        let _ = write!(
            svg,
            r#"<text x="{x}" y="{y}" transform="rotate(-45 {x} {y})">{}</text>"#,
            esc(p),
            y = top - 8.0
        );
    }
    for (i, g) in labels.iter().enumerate() {
        let y = top + i as f64 * cell;
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            left - 8.0,
            y + cell / 2.0 + 4.0,
            esc(g)
        );
        for (j, p) in labels.iter().enumerate() {
            let count = metrics
                .confusion
                .get(*g)
                .and_then(|r| r.get(*p))
                .copied()
                .unwrap_or(0);
            let x = left + j as f64 * cell;
            let alpha = count as f64 / max;
            // Diagonal green, under-triage (predicted right of gold) red, over-triage amber.
            let colour = if i == j {
                "22,150,70"
            } else if j > i {
                "200,30,30"
            } else {
                "230,150,20"
            };
            let _ = write!(
                svg,
                r##"<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="rgba({colour},{a:.3})" stroke="#ccc"/><text x="{tx}" y="{ty}" text-anchor="middle">{count}</text>"##,
                a = 0.08 + 0.92 * alpha,
                tx = x + cell / 2.0,
                ty = y + cell / 2.0 + 4.0
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// An SVG bar chart of per-label accuracy.
pub fn label_bars_svg(metrics: &Metrics) -> String {
    let row = 26.0;
    let left = 170.0;
    let width = 300.0;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" role="img" aria-label="accuracy per gold label" font-family="sans-serif" font-size="12">"#,
        left + width + 120.0,
        row * metrics.by_gold.len() as f64 + 10.0
    );
    for (i, (g, s)) in metrics.by_gold.iter().enumerate() {
        let y = i as f64 * row + 4.0;
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text><rect x="{left}" y="{y}" width="{}" height="{}" fill="rgb(40,110,200)"/><text x="{}" y="{}">{} (n={})</text>"#,
            left - 8.0,
            y + 14.0,
            esc(g),
            width * s.accuracy,
            row - 8.0,
            left + width * s.accuracy + 6.0,
            y + 14.0,
            pct(s.accuracy),
            s.cases
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The HTML report (self-contained, no scripts).
pub fn html(file: &MetricsFile, results: &[CaseResult]) -> String {
    let labels = labels_of(results);
    let mut out = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Triage eval</title><style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}.under{color:#b00}.t-agent{color:#245}.t-patient{color:#333}blockquote{margin:0 0 0 1em}</style></head><body>",
    );
    let run = &file.run;
    let _ = write!(
        out,
        "<h1>Triage eval: {} backend, {} mode{}</h1><p>Suites: {} · repeats {} · seed {} · rules {} · protocols {} · {}</p>",
        esc(&run.backend),
        esc(&run.mode),
        if file.partial { " (PARTIAL)" } else { "" },
        esc(&run.suites.join(", ")),
        run.repeat,
        run.seed,
        esc(&run.rules_version),
        esc(&run.protocols_version),
        esc(&run.started_at)
    );
    out.push_str("<table>");
    for (k, v) in summary_rows(&file.metrics) {
        let _ = write!(out, "<tr><th>{k}</th><td>{}</td></tr>", esc(&v));
    }
    out.push_str("</table><h2>Per suite</h2><table><tr><th>suite</th><th>cases</th><th>accuracy</th><th>under-triage</th><th>emergency recall</th><th>red-flag recall</th></tr>");
    for (name, m) in &file.by_suite {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(name),
            m.cases,
            pct(m.accuracy),
            pct(m.under_triage_rate),
            opt_pct(m.emergency_recall),
            opt_pct(m.red_flag_recall)
        );
    }
    out.push_str("</table><h2>Confusion matrix</h2><p>Rows: gold; columns: predicted. Red: under-triage; amber: over-triage.</p>");
    out.push_str(&confusion_svg(&file.metrics, &labels));
    out.push_str("<h2>Accuracy per gold label</h2>");
    out.push_str(&label_bars_svg(&file.metrics));
    out.push_str("<h2>Worst cases</h2>");
    for r in worst_cases(results, 15) {
        let _ = write!(
            out,
            "<h3 class=\"{}\">{} ({}): gold <code>{}</code>, predicted <code>{}</code></h3>",
            if r.under_triage { "under" } else { "over" },
            esc(&r.id),
            esc(&r.suite),
            esc(&r.gold),
            esc(&r.predicted)
        );
        if !r.rules_fired.is_empty() {
            let _ = write!(
                out,
                "<p>Rules fired: {}</p>",
                esc(&r.rules_fired.join(", "))
            );
        }
        for t in &r.transcript {
            let _ = write!(
                out,
                "<blockquote class=\"t-{}\"><b>{}</b>: {}</blockquote>",
                esc(&t.role),
                esc(&t.role),
                esc(&t.text)
            );
        }
    }
    out.push_str("</body></html>\n");
    out
}
