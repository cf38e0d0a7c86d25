//! Language-model backends behind one trait, [`ChatModel`], and the
//! [`Advisor`] that turns a conversation into the questions the agent may ask
//! a model (structured extraction, a disposition proposal with rationale).
//!
//! Backends: [`OpenAiCompatible`] (how MedGemma is served by vLLM, TGI,
//! Ollama or Vertex) and [`candle::CandleGguf`] (a quantized GGUF model on
//! CPU). The rules-only backend is the absence of a model. Every answer is
//! validated before the agent sees it; the agent's merge can only raise
//! urgency or add evidence.

mod advisor;
pub mod candle;
mod openai;

pub use advisor::{Advisor, Consultation};
pub use openai::OpenAiCompatible;

use std::time::Duration;

/// Who wrote a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Instructions.
    System,
    /// The question (patient data is fenced as data inside it).
    User,
    /// The model's own earlier answer.
    Assistant,
}

impl Role {
    /// The wire name (`system`, `user`, `assistant`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    /// Author.
    pub role: Role,
    /// Text.
    pub content: String,
}

impl ChatMessage {
    /// A message from `role`.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
        }
    }
}

/// A request for one JSON object matching `schema`.
#[derive(Debug, Clone)]
pub struct JsonRequest {
    /// Schema name (OpenAI `json_schema.name`).
    pub name: String,
    /// The conversation to complete.
    pub messages: Vec<ChatMessage>,
    /// JSON schema of the answer.
    pub schema: serde_json::Value,
    /// Upper bound on generated tokens.
    pub max_tokens: usize,
}

/// Why a model gave no usable answer. Never fatal: the rules have answered.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// No answer in time.
    #[error("the model did not answer within {0:?}")]
    Timeout(Duration),
    /// Network, HTTP or inference failure.
    #[error("model backend error: {0}")]
    Backend(String),
    /// The model could not be loaded (missing or corrupt files).
    #[error("model could not be loaded: {0}")]
    Load(String),
    /// The answer was not the JSON asked for.
    #[error("model answer is not valid: {0}")]
    Invalid(String),
}

impl From<agent::model::ProposalError> for LlmError {
    fn from(e: agent::model::ProposalError) -> Self {
        LlmError::Invalid(e.to_string())
    }
}

/// A chat model that answers with one JSON object.
#[async_trait::async_trait]
pub trait ChatModel: Send + Sync + std::fmt::Debug {
    /// Name recorded in reports (e.g. `medgemma-4b-it`, `SmolLM2-135M-Instruct.Q4_1`).
    fn name(&self) -> &str;

    /// Completes `request`; the returned text parses as a JSON object.
    async fn complete_json(&self, request: &JsonRequest) -> Result<String, LlmError>;
}

/// Parses `text` as a JSON object, tolerating a code fence around it.
pub fn json_object(text: &str) -> Result<serde_json::Value, LlmError> {
    match serde_json::from_str::<serde_json::Value>(agent::model::strip_code_fence(text)) {
        Ok(v) if v.is_object() => Ok(v),
        Ok(_) => Err(LlmError::Invalid("not a JSON object".to_owned())),
        Err(e) => Err(LlmError::Invalid(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_objects_are_accepted_with_or_without_fences() {
        assert!(json_object("{\"a\": 1}").is_ok());
        assert!(json_object("```json\n{\"a\": 1}\n```").is_ok());
        assert!(json_object("[1]").is_err());
        assert!(json_object("sure! here it is").is_err());
    }
}
