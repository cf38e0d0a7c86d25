//! Which Candle model implementation runs a GGUF, chosen from its
//! `general.architecture` metadata.

use std::collections::HashMap;
use std::io::{Read, Seek};

use candle_core::quantized::gguf_file::{Content, Value};
use candle_core::{Device, Tensor};
use candle_transformers::models::{quantized_gemma3, quantized_llama, quantized_qwen2};

use super::gguf_tokenizer::integer;
use crate::LlmError;

/// A model family this backend runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Architecture {
    /// `llama` (Llama 2/3, SmolLM, Mistral-style GGUFs).
    Llama,
    /// `qwen2` (Qwen 2 and 2.5).
    Qwen2,
    /// `gemma3` (Gemma 3, MedGemma).
    Gemma3,
}

impl Architecture {
    /// The family named by a GGUF's `general.architecture`.
    pub fn from_gguf_name(name: &str) -> Result<Self, LlmError> {
        match name {
            "llama" => Ok(Self::Llama),
            "qwen2" => Ok(Self::Qwen2),
            "gemma3" => Ok(Self::Gemma3),
            other => Err(LlmError::Load(format!(
                "unsupported architecture `{other}` (supported: llama, qwen2, gemma3)"
            ))),
        }
    }

    /// The family of a GGUF, from its metadata.
    pub(crate) fn from_metadata(metadata: &HashMap<String, Value>) -> Result<Self, LlmError> {
        match metadata.get("general.architecture") {
            Some(Value::String(name)) => Self::from_gguf_name(name),
            _ => Err(LlmError::Load(
                "no general.architecture in the GGUF metadata".to_owned(),
            )),
        }
    }

    /// The `general.architecture` name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Llama => "llama",
            Self::Qwen2 => "qwen2",
            Self::Gemma3 => "gemma3",
        }
    }

    /// Longest prompt plus answer, in tokens: the trained context, capped by
    /// the rotary table Candle precomputes.
    pub(crate) fn context_length(self, metadata: &HashMap<String, Value>) -> usize {
        let cap = match self {
            Self::Llama => quantized_llama::MAX_SEQ_LEN,
            Self::Qwen2 => usize::MAX,
            Self::Gemma3 => quantized_gemma3::MAX_SEQ_LEN,
        };
        let trained = metadata
            .get(&format!("{}.context_length", self.as_str()))
            .and_then(integer)
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(2048);
        trained.min(cap)
    }
}

/// Loaded weights of one of the [`Architecture`]s, with their KV cache.
pub(crate) enum Weights {
    Llama(quantized_llama::ModelWeights),
    Qwen2(Box<quantized_qwen2::ModelWeights>),
    Gemma3(quantized_gemma3::ModelWeights),
}

impl std::fmt::Debug for Weights {
    // Qwen2's weights have no `Debug`; the tensors would be noise anyway.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let architecture = match self {
            Self::Llama(_) => Architecture::Llama,
            Self::Qwen2(_) => Architecture::Qwen2,
            Self::Gemma3(_) => Architecture::Gemma3,
        };
        f.debug_tuple("Weights").field(&architecture).finish()
    }
}

impl Weights {
    pub(crate) fn load<R: Read + Seek>(
        architecture: Architecture,
        content: Content,
        reader: &mut R,
        device: &Device,
    ) -> candle_core::Result<Self> {
        Ok(match architecture {
            Architecture::Llama => Self::Llama(quantized_llama::ModelWeights::from_gguf(
                content, reader, device,
            )?),
            Architecture::Qwen2 => Self::Qwen2(Box::new(quantized_qwen2::ModelWeights::from_gguf(
                content, reader, device,
            )?)),
            Architecture::Gemma3 => Self::Gemma3(quantized_gemma3::ModelWeights::from_gguf(
                content, reader, device,
            )?),
        })
    }

    /// Logits of the last position, for `input` (shape `[1, n]`) placed at
    /// `position`. Position 0 starts a new sequence: every implementation
    /// drops its KV cache there.
    pub(crate) fn forward(
        &mut self,
        input: &Tensor,
        position: usize,
    ) -> candle_core::Result<Tensor> {
        match self {
            Self::Llama(model) => model.forward(input, position),
            Self::Qwen2(model) => model.forward(input, position),
            Self::Gemma3(model) => model.forward(input, position),
        }
    }
}
