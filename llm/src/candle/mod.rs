//! A local quantized GGUF model on CPU (Candle).
//!
//! [`CandleGguf::load`] reads the weights (llama, qwen2 or gemma3, from
//! `general.architecture`), rebuilds the tokenizer from the GGUF metadata
//! (or reads a `tokenizer.json`) and compiles the GGUF's own chat template.
//! [`ChatModel::complete_json`] then decodes under a JSON constraint built
//! from the request's schema: every sampled token is checked by an
//! incremental recogniser, so the answer is a schema-shaped object by
//! construction; it is validated again, and retried with other seeds.
//! Near `max_tokens` the decoder closes the object itself, cutting a
//! free-text string short; when closing would need content the model has
//! not written (a required property, an enum value) the attempt fails
//! instead. Weights in Q4_1/Q5_0/Q5_1, which Candle multiplies without SIMD,
//! are converted to Q8_0 at load.
//!
//! Inference is CPU-bound: it runs on Tokio's blocking pool, one generation
//! at a time per loaded model (the KV cache lives in the weights). Candle
//! parallelises matrix products over `RAYON_NUM_THREADS` threads (default:
//! all cores).

mod architecture;
mod chat_template;
mod generate;
mod gguf_tokenizer;
mod json_constraint;
mod json_schema;
mod requantize;

use std::fs::File;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use candle_core::Device;
use candle_core::quantized::gguf_file;

pub use architecture::Architecture;

use self::architecture::Weights;
use self::chat_template::ChatTemplate;
use self::generate::{Limits, Sampler};
use self::gguf_tokenizer::Vocabulary;
use self::json_schema::Grammar;
use crate::{ChatMessage, ChatModel, JsonRequest, LlmError};

/// How [`CandleGguf`] samples, retries and gives up.
#[derive(Debug, Clone)]
pub struct CandleOptions {
    /// Generations tried before `complete_json` answers `Invalid` (at least 1).
    pub max_attempts: usize,
    /// Temperature of the first attempt; 0 is greedy (deterministic).
    pub temperature: f64,
    /// Temperature of the retries, so that they differ from the first.
    pub retry_temperature: f64,
    /// Nucleus sampling threshold when sampling (1 disables it).
    pub top_p: f64,
    /// Seed of the first attempt; attempt `n` uses `seed + n`.
    pub seed: u64,
    /// Wall-clock limit of one call, waiting for the model included.
    pub timeout: Option<Duration>,
    /// Convert Q4_1/Q5_0/Q5_1 weights, which Candle multiplies without SIMD,
    /// to Q8_0 at load (files up to 2 GiB).
    pub requantize_slow_types: bool,
}

impl Default for CandleOptions {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            temperature: 0.0,
            retry_temperature: 0.7,
            top_p: 0.95,
            seed: 299_792_458,
            timeout: Some(Duration::from_secs(120)),
            requantize_slow_types: true,
        }
    }
}

/// A free-text answer and what it cost.
#[derive(Debug, Clone)]
pub struct TextCompletion {
    /// The answer, control tokens removed.
    pub text: String,
    /// Tokens of the rendered prompt.
    pub prompt_tokens: usize,
    /// Tokens generated (the stop token excluded).
    pub generated_tokens: usize,
    /// Time to run the prompt through the model.
    pub prefill: Duration,
    /// Time spent after the prefill, sampling and decoding.
    pub decode: Duration,
    /// Single-token forward passes within `decode`.
    pub decode_steps: usize,
}

/// A quantized GGUF chat model running on the CPU. Cheap to clone: clones
/// share the weights and take turns.
#[derive(Clone)]
pub struct CandleGguf {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    architecture: Architecture,
    context_length: usize,
    vocab: Vocabulary,
    template: ChatTemplate,
    options: CandleOptions,
    /// One generation at a time: the KV cache is part of the weights.
    weights: Mutex<Weights>,
}

impl std::fmt::Debug for CandleGguf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CandleGguf")
            .field("name", &self.inner.name)
            .field("architecture", &self.inner.architecture)
            .field("context_length", &self.inner.context_length)
            .field("native_chat_template", &self.inner.template.is_native())
            .finish_non_exhaustive()
    }
}

fn load_error(path: &Path, reason: impl std::fmt::Display) -> LlmError {
    LlmError::Load(format!("{}: {reason}", path.display()))
}

impl CandleGguf {
    /// Loads `gguf_path` (blocking: reads the whole file). The tokenizer comes
    /// from `tokenizer_path` when given, else from the GGUF metadata.
    /// Missing, corrupt or unsupported files are `LlmError::Load`.
    pub fn load(
        gguf_path: &Path,
        tokenizer_path: Option<&Path>,
        options: CandleOptions,
    ) -> Result<Self, LlmError> {
        let started = Instant::now();
        let mut file = File::open(gguf_path).map_err(|e| load_error(gguf_path, e))?;
        let content = gguf_file::Content::read(&mut file)
            .map_err(|e| load_error(gguf_path, format!("not a readable GGUF file: {e}")))?;
        let metadata = &content.metadata;
        let architecture = Architecture::from_metadata(metadata).map_err(|e| match e {
            LlmError::Load(reason) => load_error(gguf_path, reason),
            other => other,
        })?;
        let vocab = match tokenizer_path {
            Some(path) => {
                Vocabulary::from_tokenizer_json(path, metadata).map_err(|e| load_error(path, e))?
            }
            None => Vocabulary::from_gguf(metadata).map_err(|e| load_error(gguf_path, e))?,
        };
        let template_source = match metadata.get("tokenizer.chat_template") {
            Some(gguf_file::Value::String(source)) => Some(source.as_str()),
            _ => None,
        };
        let template = ChatTemplate::new(
            template_source,
            vocab.bos_text().unwrap_or_default(),
            vocab.eos_text().unwrap_or_default(),
        );
        let context_length = architecture.context_length(metadata);
        // Candle's loaders index tensors by name and shape; a malformed file
        // should be a load error, not a crash of the server.
        let requantize = options.requantize_slow_types;
        let weights = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let converted = if requantize {
                requantize::requantize_slow_tensors(&content, &mut file)?
            } else {
                None
            };
            match converted {
                Some((converted, mut buffer)) => {
                    Weights::load(architecture, converted, &mut buffer, &Device::Cpu)
                }
                None => Weights::load(architecture, content, &mut file, &Device::Cpu),
            }
        }))
        .map_err(|_| load_error(gguf_path, "the model loader panicked"))?
        .map_err(|e| load_error(gguf_path, e))?;
        let name = gguf_path
            .file_stem()
            .map_or_else(|| "gguf".to_owned(), |s| s.to_string_lossy().into_owned());
        tracing::info!(
            model = %name,
            architecture = architecture.as_str(),
            context_length,
            native_chat_template = template.is_native(),
            elapsed_ms = started.elapsed().as_millis(),
            "loaded GGUF model"
        );
        Ok(Self {
            inner: Arc::new(Inner {
                name,
                architecture,
                context_length,
                vocab,
                template,
                options,
                weights: Mutex::new(weights),
            }),
        })
    }

    /// The model family.
    pub fn architecture(&self) -> Architecture {
        self.inner.architecture
    }

    /// The tokenizer in use.
    pub fn tokenizer(&self) -> &tokenizers::Tokenizer {
        &self.inner.vocab.tokenizer
    }

    /// The prompt `messages` become: the GGUF's chat template (ChatML when
    /// it has none or it fails), ending with the assistant's opening.
    pub fn render_prompt(&self, messages: &[ChatMessage]) -> String {
        self.inner.template.render(messages)
    }

    /// Generates free text (stops at end of turn or `max_tokens`), with
    /// timings; what the benchmark measures.
    pub async fn complete_text(
        &self,
        messages: &[ChatMessage],
        max_tokens: usize,
    ) -> Result<TextCompletion, LlmError> {
        let messages = messages.to_vec();
        self.run_blocking(move |inner, limits| inner.complete_text(&messages, max_tokens, limits))
            .await
    }

    /// Runs `job` on the blocking pool under the configured timeout.
    async fn run_blocking<T, F>(&self, job: F) -> Result<T, LlmError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner, Limits<'_>) -> Result<T, LlmError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        let timeout = inner.options.timeout;
        let cancelled = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&cancelled);
        let deadline = timeout.map(|t| (Instant::now() + t, t));
        let task = tokio::task::spawn_blocking(move || {
            job(
                &inner,
                Limits {
                    deadline,
                    cancelled: &flag,
                },
            )
        });
        let joined = match timeout {
            // The deadline is also checked between tokens; this bounds the
            // wait for another caller's generation to finish.
            Some(limit) => match tokio::time::timeout(limit, task).await {
                Ok(joined) => joined,
                Err(_) => {
                    cancelled.store(true, Ordering::Relaxed);
                    return Err(LlmError::Timeout(limit));
                }
            },
            None => task.await,
        };
        joined.map_err(|e| LlmError::Backend(format!("inference task failed: {e}")))?
    }
}

impl Inner {
    fn prompt_ids(
        &self,
        messages: &[ChatMessage],
        max_tokens: usize,
    ) -> Result<Vec<u32>, LlmError> {
        let prompt = self.template.render(messages);
        let ids = self.vocab.encode_prompt(&prompt)?;
        if ids.len() + max_tokens > self.context_length {
            return Err(LlmError::Invalid(format!(
                "prompt ({} tokens) plus max_tokens ({max_tokens}) exceed the context of {} tokens",
                ids.len(),
                self.context_length
            )));
        }
        Ok(ids)
    }

    fn weights(&self) -> std::sync::MutexGuard<'_, Weights> {
        // A panic mid-generation leaves a KV cache that the next prefill (at
        // position 0) discards anyway.
        self.weights.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn complete_text(
        &self,
        messages: &[ChatMessage],
        max_tokens: usize,
        limits: Limits<'_>,
    ) -> Result<TextCompletion, LlmError> {
        let ids = self.prompt_ids(messages, max_tokens)?;
        let sampler = Sampler {
            temperature: self.options.temperature,
            top_p: self.options.top_p,
            seed: self.options.seed,
        };
        let run = generate::generate_text(
            &mut self.weights(),
            &self.vocab,
            &ids,
            max_tokens,
            sampler,
            limits,
        )?;
        Ok(TextCompletion {
            text: self.vocab.decode(&run.ids)?,
            prompt_tokens: ids.len(),
            generated_tokens: run.ids.len(),
            prefill: run.prefill,
            decode: run.decode,
            decode_steps: run.decode_steps,
        })
    }

    fn complete_json(&self, request: &JsonRequest, limits: Limits<'_>) -> Result<String, LlmError> {
        let started = Instant::now();
        let ids = self.prompt_ids(&request.messages, request.max_tokens)?;
        let grammar = Grammar::compile(&request.schema);
        let mut weights = self.weights();
        let attempts = self.options.max_attempts.max(1);
        let mut last_problem = String::new();
        for attempt in 0..attempts {
            let sampler = Sampler {
                temperature: if attempt == 0 {
                    self.options.temperature
                } else {
                    self.options.temperature.max(self.options.retry_temperature)
                },
                top_p: self.options.top_p,
                seed: self.options.seed.wrapping_add(attempt as u64),
            };
            let run = generate::generate_json(
                &mut weights,
                &self.vocab,
                &grammar,
                &ids,
                request.max_tokens,
                sampler,
                limits,
            );
            let problem = match run {
                Ok(run) => match check_answer(&run.text, &request.schema) {
                    Ok(()) => {
                        tracing::debug!(
                            model = %self.name,
                            schema = %request.name,
                            attempt,
                            prompt_tokens = ids.len(),
                            answer_tokens = run.tokens,
                            truncated = run.truncated,
                            masked_steps = run.masked_steps,
                            elapsed_ms = started.elapsed().as_millis(),
                            "JSON answer"
                        );
                        return Ok(run.text);
                    }
                    Err(problem) => problem,
                },
                Err(LlmError::Invalid(problem)) => problem,
                Err(other) => return Err(other),
            };
            tracing::debug!(model = %self.name, schema = %request.name, attempt, %problem, "JSON attempt rejected");
            last_problem = problem;
        }
        Err(LlmError::Invalid(format!(
            "no valid answer in {attempts} attempts: {last_problem}"
        )))
    }
}

/// The answer parses as an object and satisfies the schema.
fn check_answer(text: &str, schema: &serde_json::Value) -> Result<(), String> {
    let value = crate::json_object(text).map_err(|e| e.to_string())?;
    json_schema::validate(&value, schema)
}

#[async_trait::async_trait]
impl ChatModel for CandleGguf {
    fn name(&self) -> &str {
        &self.inner.name
    }

    async fn complete_json(&self, request: &JsonRequest) -> Result<String, LlmError> {
        let request = request.clone();
        self.run_blocking(move |inner, limits| inner.complete_json(&request, limits))
            .await
    }
}
