//! Throughput of the MiniLM embedder: `cargo bench -p retrieval --bench embed`.
#![expect(
    clippy::print_stdout,
    clippy::expect_used,
    reason = "a benchmark binary reports on stdout and may abort on setup failure"
)]

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use retrieval::Embedder;

/// Short, vignette-like sentences (7–15 tokens each).
const SENTENCES: [&str; 8] = [
    "When did the pain start?",
    "The pain began two hours ago.",
    "Do you have a fever or chills?",
    "I feel short of breath when I walk.",
    "Have you taken any medicine for it?",
    "My child has had diarrhoea since yesterday.",
    "Is there any blood in the vomit?",
    "The headache is the worst of my life.",
];

/// Runs `embed` on batches of `batch` sentences for at least `budget`; returns sentences/s.
fn measure(embedder: &Embedder, batch: usize, budget: Duration) -> f64 {
    let texts: Vec<&str> = SENTENCES.iter().copied().cycle().take(batch).collect();
    // Warm-up: first calls pay for allocation and thread-pool start.
    for _ in 0..3 {
        black_box(embedder.embed(&texts).expect("embed"));
    }
    let start = Instant::now();
    let mut done = 0usize;
    while start.elapsed() < budget {
        black_box(embedder.embed(&texts).expect("embed"));
        done += batch;
    }
    done as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/all-MiniLM-L6-v2");
    let load = Instant::now();
    let embedder = Embedder::load(&dir).expect("load all-MiniLM-L6-v2");
    println!("load: {:.0} ms", load.elapsed().as_secs_f64() * 1e3);
    for batch in [1, 32] {
        let rate = measure(&embedder, batch, Duration::from_secs(5));
        println!(
            "batch {batch:>2}: {rate:8.1} sentences/s ({:.2} ms per batch)",
            1e3 * batch as f64 / rate
        );
    }
}
