//! Prefill and incremental decoding over the KV cache, free or constrained
//! to a JSON grammar.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use candle_core::{DType, Device, Tensor};
use candle_transformers::generation::{LogitsProcessor, Sampling};

use super::architecture::Weights;
use super::gguf_tokenizer::Vocabulary;
use super::json_constraint::{Completion, JsonConstraint};
use super::json_schema::Grammar;
use crate::LlmError;

/// Sampled tokens tried against the constraint before the whole vocabulary
/// is masked: usually the model's favourite is already valid JSON.
const REJECTION_TRIES: usize = 16;

/// When to give up.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits<'a> {
    /// The instant to stop at, and the timeout it came from.
    pub(crate) deadline: Option<(Instant, Duration)>,
    /// Set by the caller when it stopped waiting (only with a deadline).
    pub(crate) cancelled: &'a AtomicBool,
}

impl Limits<'_> {
    fn check(&self) -> Result<(), LlmError> {
        match self.deadline {
            Some((deadline, timeout))
                if self.cancelled.load(Ordering::Relaxed) || Instant::now() >= deadline =>
            {
                Err(LlmError::Timeout(timeout))
            }
            _ => Ok(()),
        }
    }
}

/// How to pick tokens.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sampler {
    /// 0 means greedy.
    pub(crate) temperature: f64,
    pub(crate) top_p: f64,
    pub(crate) seed: u64,
}

impl Sampler {
    fn processor(self) -> LogitsProcessor {
        let sampling = if self.temperature <= 0.0 {
            Sampling::ArgMax
        } else if self.top_p > 0.0 && self.top_p < 1.0 {
            Sampling::TopP {
                p: self.top_p,
                temperature: self.temperature,
            }
        } else {
            Sampling::All {
                temperature: self.temperature,
            }
        };
        LogitsProcessor::from_sampling(self.seed, sampling)
    }
}

/// Feeds tokens through the model, tracking the position in the KV cache.
struct Decoder<'a> {
    weights: &'a mut Weights,
    position: usize,
}

impl<'a> Decoder<'a> {
    /// Runs the whole prompt at position 0 (which resets the KV cache) and
    /// returns the logits for the first answer token.
    fn prefill(weights: &'a mut Weights, prompt: &[u32]) -> Result<(Self, Vec<f32>), LlmError> {
        if prompt.is_empty() {
            return Err(LlmError::Backend("empty prompt".to_owned()));
        }
        let mut decoder = Self {
            weights,
            position: 0,
        };
        let logits = decoder.forward(prompt)?;
        Ok((decoder, logits))
    }

    /// Appends one token; logits for the next.
    fn step(&mut self, token: u32) -> Result<Vec<f32>, LlmError> {
        self.forward(&[token])
    }

    fn forward(&mut self, tokens: &[u32]) -> Result<Vec<f32>, LlmError> {
        let mut run = || -> candle_core::Result<Vec<f32>> {
            let input = Tensor::new(tokens, &Device::Cpu)?.unsqueeze(0)?;
            let logits = self.weights.forward(&input, self.position)?;
            logits.squeeze(0)?.to_dtype(DType::F32)?.to_vec1::<f32>()
        };
        let logits = run().map_err(inference_error)?;
        self.position += tokens.len();
        Ok(logits)
    }
}

fn inference_error(e: candle_core::Error) -> LlmError {
    LlmError::Backend(format!("inference: {e}"))
}

fn sample(processor: &mut LogitsProcessor, logits: &[f32]) -> Result<u32, LlmError> {
    let tensor = Tensor::from_slice(logits, logits.len(), &Device::Cpu).map_err(inference_error)?;
    processor.sample(&tensor).map_err(inference_error)
}

/// A free-text generation and its timings.
#[derive(Debug)]
pub(crate) struct TextRun {
    pub(crate) ids: Vec<u32>,
    pub(crate) prefill: Duration,
    pub(crate) decode: Duration,
    /// Forward passes of one token (the first answer token comes from the prefill).
    pub(crate) decode_steps: usize,
}

/// Generates until a stop token or `max_tokens`.
pub(crate) fn generate_text(
    weights: &mut Weights,
    vocab: &Vocabulary,
    prompt: &[u32],
    max_tokens: usize,
    sampler: Sampler,
    limits: Limits<'_>,
) -> Result<TextRun, LlmError> {
    limits.check()?;
    let started = Instant::now();
    let (mut decoder, mut logits) = Decoder::prefill(weights, prompt)?;
    let prefill = started.elapsed();
    let started = Instant::now();
    let mut processor = sampler.processor();
    let mut ids = Vec::new();
    let mut decode_steps = 0;
    while ids.len() < max_tokens {
        limits.check()?;
        let id = sample(&mut processor, &logits)?;
        if vocab.is_stop(id) {
            break;
        }
        ids.push(id);
        if ids.len() == max_tokens {
            break;
        }
        logits = decoder.step(id)?;
        decode_steps += 1;
    }
    Ok(TextRun {
        ids,
        prefill,
        decode: started.elapsed(),
        decode_steps,
    })
}

/// A JSON answer as generated (not yet checked against the schema).
#[derive(Debug)]
pub(crate) struct JsonRun {
    pub(crate) text: String,
    /// Tokens the model chose.
    pub(crate) tokens: usize,
    /// The budget ran out and open strings/brackets were closed for it.
    pub(crate) truncated: bool,
    /// Steps where no sampled token was valid and the vocabulary was masked.
    pub(crate) masked_steps: usize,
}

/// Generates one JSON object of `grammar`, every token checked against the
/// grammar before it is accepted.
///
/// The model never writes more than `max_tokens`: before each token the
/// decoder makes sure the cheapest way to close the answer still fits, and
/// when it no longer does, closes it (truncating a free-text string). If
/// closing would have to invent content (a required property the model has
/// not reached, an enum value) the attempt fails with `Invalid` instead.
pub(crate) fn generate_json(
    weights: &mut Weights,
    vocab: &Vocabulary,
    grammar: &Grammar,
    prompt: &[u32],
    max_tokens: usize,
    sampler: Sampler,
    limits: Limits<'_>,
) -> Result<JsonRun, LlmError> {
    limits.check()?;
    let mut constraint = JsonConstraint::new(grammar);
    let mut scratch = constraint.clone();
    let mut closing = closing_of(&constraint)?;
    if vocab.count_tokens(&closing.bytes) > max_tokens {
        return Err(LlmError::Invalid(format!(
            "max_tokens ({max_tokens}) cannot hold the smallest answer the schema allows"
        )));
    }
    let (mut decoder, mut logits) = Decoder::prefill(weights, prompt)?;
    let mut processor = sampler.processor();
    let mut answer = Vec::new();
    let mut tokens = 0;
    let mut truncated = false;
    let mut masked_steps = 0;
    while !constraint.is_done() {
        limits.check()?;
        let fits = |closing: &Completion, tokens: usize| {
            // Every token writes at least one byte, so the byte count bounds
            // the token count; tokenize only when that bound is too loose.
            tokens + closing.bytes.len() <= max_tokens
                || tokens + vocab.count_tokens(&closing.bytes) <= max_tokens
        };
        let choice = choose(
            &mut logits,
            &mut processor,
            &constraint,
            &mut scratch,
            vocab,
        )?;
        masked_steps += usize::from(choice.masked);
        let next = match choice.token {
            Some(token) => {
                let mut next = constraint.clone();
                let advanced = next.feed_all(vocab.token_bytes(token));
                let next_closing = if advanced { next.completion() } else { None };
                match next_closing {
                    Some(next_closing) if fits(&next_closing, tokens + 1) => {
                        Some((token, next, next_closing))
                    }
                    _ => None,
                }
            }
            None => None,
        };
        let Some((token, next, next_closing)) = next else {
            if closing.invents {
                return Err(LlmError::Invalid(format!(
                    "the answer did not fit in {max_tokens} tokens"
                )));
            }
            answer.extend_from_slice(&closing.bytes);
            truncated = true;
            break;
        };
        answer.extend_from_slice(vocab.token_bytes(token));
        tokens += 1;
        constraint = next;
        closing = next_closing;
        if !constraint.is_done() {
            logits = decoder.step(token)?;
        }
    }
    let text = String::from_utf8(answer)
        .map_err(|_| LlmError::Invalid("the answer is not UTF-8".to_owned()))?;
    Ok(JsonRun {
        text: text.trim_end().to_owned(),
        tokens,
        truncated,
        masked_steps,
    })
}

fn closing_of(constraint: &JsonConstraint<'_>) -> Result<Completion, LlmError> {
    constraint
        .completion()
        .ok_or_else(|| LlmError::Backend("the JSON constraint cannot be closed".to_owned()))
}

/// Samples a token the constraint allows: first by rejection (cheap, and
/// exact: a refused token is removed and the rest renormalised), then by
/// masking the whole vocabulary.
struct Choice {
    /// `None` when no token fits.
    token: Option<u32>,
    /// The whole vocabulary had to be checked.
    masked: bool,
}

fn choose<'g>(
    logits: &mut [f32],
    processor: &mut LogitsProcessor,
    constraint: &JsonConstraint<'g>,
    scratch: &mut JsonConstraint<'g>,
    vocab: &Vocabulary,
) -> Result<Choice, LlmError> {
    for _ in 0..REJECTION_TRIES {
        let id = sample(processor, logits)?;
        let Some(logit) = logits.get_mut(id as usize) else {
            break;
        };
        if *logit == f32::NEG_INFINITY {
            break;
        }
        if constraint.allows(vocab.token_bytes(id), scratch) {
            return Ok(Choice {
                token: Some(id),
                masked: false,
            });
        }
        *logit = f32::NEG_INFINITY;
    }
    let mut any = false;
    for (id, logit) in logits.iter_mut().enumerate() {
        if *logit == f32::NEG_INFINITY {
            continue;
        }
        let id = u32::try_from(id).unwrap_or(u32::MAX);
        if constraint.allows(vocab.token_bytes(id), scratch) {
            any = true;
        } else {
            *logit = f32::NEG_INFINITY;
        }
    }
    let token = if any {
        Some(sample(processor, logits)?)
    } else {
        None
    };
    Ok(Choice {
        token,
        masked: true,
    })
}
