//! Tokens per second of the Candle backend on CPU: prefill and decode over a
//! few free-text generations, and the wall time of one constrained
//! `complete_json`. `cargo bench -p llm --bench candle_tokens`; the model is
//! `LLM_BENCH_GGUF` or the SmolLM2-135M file in `models/`.
#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::error::Error;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use llm::candle::{CandleGguf, CandleOptions};
use llm::{ChatMessage, ChatModel, JsonRequest, Role};

const RUNS: usize = 3;
const MAX_TOKENS: usize = 128;

fn main() -> Result<(), Box<dyn Error>> {
    let path = std::env::var_os("LLM_BENCH_GGUF").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
            ))
        },
        PathBuf::from,
    );
    if !path.exists() {
        println!("skipped: {} is absent", path.display());
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(bench(path))
}

async fn bench(path: PathBuf) -> Result<(), Box<dyn Error>> {
    let started = Instant::now();
    let options = CandleOptions {
        timeout: None,
        ..CandleOptions::default()
    };
    let model = CandleGguf::load(&path, None, options)?;
    println!("model        {} ({:?})", model.name(), model.architecture());
    println!("load         {:>8.1} ms", ms(started.elapsed()));

    let story = [
        ChatMessage::new(
            Role::System,
            "You are a storyteller. Write long, detailed answers with many paragraphs.",
        ),
        ChatMessage::new(
            Role::User,
            "Tell the story of a lighthouse keeper on a remote island who finds a message \
             in a bottle, describing the island, the weather, the keeper's daily routine, \
             the lamp and its machinery, the supply boat, and what the message says.",
        ),
    ];
    model.complete_text(&story, 16).await?; // warm-up

    let (mut prompt_tokens, mut prefill) = (0, Duration::ZERO);
    let (mut decode_steps, mut decode) = (0, Duration::ZERO);
    for run in 1..=RUNS {
        let done = model.complete_text(&story, MAX_TOKENS).await?;
        println!(
            "run {run}        prompt {:>4} tok in {:>7.1} ms, generated {:>4} tok in {:>7.1} ms",
            done.prompt_tokens,
            ms(done.prefill),
            done.generated_tokens,
            ms(done.decode)
        );
        prompt_tokens += done.prompt_tokens;
        prefill += done.prefill;
        decode_steps += done.decode_steps;
        decode += done.decode;
    }
    println!(
        "prefill      {:>8.1} tok/s",
        per_second(prompt_tokens, prefill)
    );
    println!(
        "decode       {:>8.1} tok/s",
        per_second(decode_steps, decode)
    );

    let request = JsonRequest {
        name: "disposition".to_owned(),
        messages: vec![
            ChatMessage::new(
                Role::System,
                "You are a triage nurse. Answer with one JSON object with the keys \
                 disposition and rationale.",
            ),
            ChatMessage::new(
                Role::User,
                "Adult, sore throat for two days, no fever, eating and drinking normally.",
            ),
        ],
        schema: serde_json::json!({
            "type": "object",
            "properties": {
                "disposition": {
                    "type": "string",
                    "enum": ["self_care", "routine", "urgent_24h", "emergency_department", "emergency_ambulance"]
                },
                "rationale": {"type": "string"}
            },
            "required": ["disposition", "rationale"]
        }),
        max_tokens: 96,
    };
    let started = Instant::now();
    let answer = model.complete_json(&request).await?;
    println!("complete_json {:>7.1} ms", ms(started.elapsed()));
    println!("answer       {}", answer.replace('\n', " "));
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn per_second(tokens: usize, d: Duration) -> f64 {
    if d.is_zero() {
        0.0
    } else {
        tokens as f64 / d.as_secs_f64()
    }
}
