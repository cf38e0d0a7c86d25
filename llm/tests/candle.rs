#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The Candle backend against the real SmolLM2-135M GGUF (shipped in
//! `models/`): loading, tokenizer, chat template, constrained JSON, and the
//! ways loading fails.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use candle_core::quantized::gguf_file;
use llm::candle::{Architecture, CandleGguf, CandleOptions};
use llm::{ChatMessage, ChatModel, JsonRequest, LlmError, Role};
use serde_json::json;

const MODEL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
);

/// The model, loaded once per test binary; `None` (and a note) when the file
/// is absent.
fn model() -> Option<CandleGguf> {
    static MODEL_ONCE: OnceLock<Option<CandleGguf>> = OnceLock::new();
    MODEL_ONCE
        .get_or_init(|| {
            if !Path::new(MODEL).exists() {
                eprintln!("skipping: {MODEL} is absent");
                return None;
            }
            Some(CandleGguf::load(Path::new(MODEL), None, CandleOptions::default()).unwrap())
        })
        .clone()
}

fn triage_request(max_tokens: usize) -> JsonRequest {
    JsonRequest {
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
        schema: json!({
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
        max_tokens,
    }
}

/// A file under the system temp dir, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

fn scratch_file(name: &str, bytes: &[u8]) -> Scratch {
    let path = std::env::temp_dir().join(format!("llm-candle-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    Scratch(path)
}

fn load_error(path: &Path) -> String {
    match CandleGguf::load(path, None, CandleOptions::default()) {
        Err(LlmError::Load(reason)) => reason,
        Err(other) => panic!("expected a load error, got {other:?}"),
        Ok(model) => panic!("expected a load error, loaded {model:?}"),
    }
}

#[test]
fn loads_smollm2_and_is_named_after_the_file() {
    let Some(model) = model() else { return };
    assert_eq!(model.name(), "SmolLM2-135M-Instruct.Q4_1");
    assert_eq!(model.architecture(), Architecture::Llama);
}

#[test]
fn gguf_tokenizer_round_trips_and_keeps_special_tokens_whole() {
    let Some(model) = model() else { return };
    let tokenizer = model.tokenizer();
    let text = "Fever of 39.5°C since Tuesday, naïve “quotes”\n\tand  two spaces: {\"a\": [1, 2]}";
    let ids = tokenizer.encode(text, false).unwrap().get_ids().to_vec();
    assert!(ids.len() > 10 && ids.len() < text.len(), "{ids:?}");
    assert_eq!(tokenizer.decode(&ids, false).unwrap(), text);

    for (special, id) in [("<|im_start|>", 1), ("<|im_end|>", 2)] {
        let encoded = tokenizer.encode(special, false).unwrap();
        assert_eq!(encoded.get_ids(), &[id], "{special}");
    }
    let turn = tokenizer
        .encode("<|im_start|>user\nhello<|im_end|>", false)
        .unwrap();
    let ids = turn.get_ids();
    assert_eq!((ids.first(), ids.last()), (Some(&1), Some(&2)));
    // Digits are split one by one, as SmolLM's own pre-tokenizer does.
    assert_eq!(tokenizer.encode("2024", false).unwrap().get_ids().len(), 4);
}

#[test]
fn smollm2_template_renders_chatml_with_its_default_system_prompt() {
    let Some(model) = model() else { return };
    let user_only = model.render_prompt(&[ChatMessage::new(Role::User, "I feel dizzy.")]);
    assert_eq!(
        user_only,
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n\
         <|im_start|>user\nI feel dizzy.<|im_end|>\n<|im_start|>assistant\n"
    );
    let with_system = model.render_prompt(&[
        ChatMessage::new(Role::System, "Be brief."),
        ChatMessage::new(Role::User, "I feel dizzy."),
    ]);
    assert_eq!(
        with_system,
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nI feel dizzy.<|im_end|>\n<|im_start|>assistant\n"
    );
}

#[tokio::test]
async fn complete_json_answers_an_object_that_passes_the_schema() {
    let Some(model) = model() else { return };
    let request = triage_request(64);
    let text = model.complete_json(&request).await.unwrap();
    let answer = llm::json_object(&text).unwrap();
    let object = answer.as_object().unwrap();
    let allowed = request.schema["properties"]["disposition"]["enum"]
        .as_array()
        .unwrap();
    assert!(allowed.contains(&object["disposition"]), "{text}");
    assert!(object["rationale"].is_string(), "{text}");
    assert!(
        object
            .keys()
            .all(|k| k == "disposition" || k == "rationale"),
        "{text}"
    );

    // Greedy first attempt: the same request gives the same answer, also
    // through a clone sharing the weights.
    let again = model.clone().complete_json(&request).await.unwrap();
    assert_eq!(again, text);
}

#[tokio::test]
async fn a_tokenizer_json_gives_the_same_tokens_and_answers() {
    let Some(model) = model() else { return };
    let path = scratch_file("tokenizer.json", b"");
    model.tokenizer().save(&*path, false).unwrap();
    let with_json =
        CandleGguf::load(Path::new(MODEL), Some(&*path), CandleOptions::default()).unwrap();
    let text = "<|im_start|>user\nTemperature 38.2, cough.<|im_end|>";
    assert_eq!(
        with_json.tokenizer().encode(text, false).unwrap().get_ids(),
        model.tokenizer().encode(text, false).unwrap().get_ids()
    );
    // The constraint's token table comes from tokenizer.json here.
    let request = triage_request(48);
    assert_eq!(
        with_json.complete_json(&request).await.unwrap(),
        model.complete_json(&request).await.unwrap()
    );
}

#[test]
fn a_missing_tokenizer_json_is_a_load_error_naming_it() {
    if !Path::new(MODEL).exists() {
        eprintln!("skipping: {MODEL} is absent");
        return;
    }
    let missing = Path::new("/nonexistent/tokenizer.json");
    match CandleGguf::load(Path::new(MODEL), Some(missing), CandleOptions::default()) {
        Err(LlmError::Load(reason)) => assert!(reason.contains("/nonexistent/tokenizer.json")),
        other => panic!("expected a load error, got {other:?}"),
    }
}

#[tokio::test]
async fn the_original_q4_1_weights_run_without_conversion() {
    if !Path::new(MODEL).exists() {
        eprintln!("skipping: {MODEL} is absent");
        return;
    }
    let options = CandleOptions {
        requantize_slow_types: false,
        ..CandleOptions::default()
    };
    let model = CandleGguf::load(Path::new(MODEL), None, options).unwrap();
    let completion = model
        .complete_text(&[ChatMessage::new(Role::User, "Say hello.")], 4)
        .await
        .unwrap();
    assert!(completion.generated_tokens > 0);
}

#[tokio::test]
async fn a_budget_too_small_for_the_schema_is_invalid() {
    let Some(model) = model() else { return };
    match model.complete_json(&triage_request(4)).await {
        Err(LlmError::Invalid(reason)) => assert!(reason.contains("max_tokens"), "{reason}"),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[tokio::test]
async fn free_text_generation_reports_its_timings() {
    let Some(model) = model() else { return };
    let completion = model
        .complete_text(&[ChatMessage::new(Role::User, "Name three fruits.")], 12)
        .await
        .unwrap();
    assert!(completion.generated_tokens > 0 && completion.generated_tokens <= 12);
    assert!(!completion.text.trim().is_empty());
    assert!(completion.prompt_tokens > 10);
    assert!(completion.prefill > Duration::ZERO);
}

#[tokio::test]
async fn a_call_past_its_timeout_is_a_timeout() {
    if !Path::new(MODEL).exists() {
        eprintln!("skipping: {MODEL} is absent");
        return;
    }
    let options = CandleOptions {
        timeout: Some(Duration::from_millis(1)),
        ..CandleOptions::default()
    };
    let model = CandleGguf::load(Path::new(MODEL), None, options).unwrap();
    match model.complete_json(&triage_request(64)).await {
        Err(LlmError::Timeout(limit)) => assert_eq!(limit, Duration::from_millis(1)),
        other => panic!("expected Timeout, got {other:?}"),
    }
}

#[test]
fn a_missing_file_is_a_load_error_naming_it() {
    let path = Path::new("/nonexistent/model.gguf");
    let reason = load_error(path);
    assert!(reason.contains("/nonexistent/model.gguf"), "{reason}");
}

#[test]
fn random_bytes_are_a_load_error() {
    // A fixed pseudo-random sequence (xorshift), not a GGUF header.
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let bytes: Vec<u8> = (0..64 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect();
    let path = scratch_file("random.gguf", &bytes);
    let reason = load_error(&path);
    assert!(reason.contains("random.gguf"), "{reason}");
}

#[test]
fn a_truncated_gguf_is_a_load_error() {
    if !Path::new(MODEL).exists() {
        eprintln!("skipping: {MODEL} is absent");
        return;
    }
    // The metadata and part of the tensors, as after an interrupted download.
    let head: Vec<u8> = std::fs::read(MODEL).unwrap()[..8 << 20].to_vec();
    let path = scratch_file("truncated.gguf", &head);
    let reason = load_error(&path);
    assert!(reason.contains("truncated.gguf"), "{reason}");
}

#[test]
fn unknown_architectures_are_named_in_the_error() {
    assert_eq!(
        Architecture::from_gguf_name("llama").unwrap(),
        Architecture::Llama
    );
    assert_eq!(
        Architecture::from_gguf_name("qwen2").unwrap(),
        Architecture::Qwen2
    );
    assert_eq!(
        Architecture::from_gguf_name("gemma3").unwrap(),
        Architecture::Gemma3
    );
    match Architecture::from_gguf_name("mamba") {
        Err(LlmError::Load(reason)) => assert!(reason.contains("`mamba`"), "{reason}"),
        other => panic!("expected a load error, got {other:?}"),
    }

    // The same through `load`, with a GGUF that only has metadata.
    let mut bytes = std::io::Cursor::new(Vec::new());
    let architecture = gguf_file::Value::String("mamba".to_owned());
    gguf_file::write(&mut bytes, &[("general.architecture", &architecture)], &[]).unwrap();
    let path = scratch_file("mamba.gguf", bytes.get_ref());
    let reason = load_error(&path);
    assert!(
        reason.contains("unsupported architecture `mamba`"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_tight_budget_cuts_the_free_text_but_keeps_a_valid_object() {
    let Some(model) = model() else { return };
    let full = llm::json_object(&model.complete_json(&triage_request(64)).await.unwrap()).unwrap();
    // Enough for the disposition and a few tokens of rationale, not all of it.
    let cut = model.complete_json(&triage_request(26)).await.unwrap();
    let cut = llm::json_object(&cut).unwrap();
    assert_eq!(cut["disposition"], full["disposition"]);
    let (cut_rationale, full_rationale) = (
        cut["rationale"].as_str().unwrap(),
        full["rationale"].as_str().unwrap(),
    );
    assert!(
        full_rationale.starts_with(cut_rationale) && cut_rationale.len() < full_rationale.len(),
        "{cut_rationale:?} vs {full_rationale:?}"
    );
}
