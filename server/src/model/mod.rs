//! Model backends the agent can consult once the rules and the interview have
//! answered. One real backend today: an OpenAI-compatible chat endpoint (how
//! MedGemma is served by vLLM, TGI, Ollama or Vertex). The Candle (local
//! GGUF) backend is next; `model.backend = "candle"` is accepted by the
//! configuration but not consulted yet.

mod openai;

pub use openai::OpenAiCompatible;

use std::time::Duration;

use agent::ConversationState;
use agent::model::ModelProposal;
use secrecy::SecretString;

use crate::config::{ModelBackend, ModelConfig};

/// Why no proposal came back. Never fatal: the rules have already answered.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The endpoint did not answer in time.
    #[error("the model did not answer within {0:?}")]
    Timeout(Duration),
    /// Network or HTTP failure.
    #[error("model endpoint error: {0}")]
    Endpoint(String),
    /// The answer was not a valid proposal.
    #[error(transparent)]
    Proposal(#[from] agent::model::ProposalError),
}

/// The configured model, if any.
#[derive(Debug, Clone)]
pub enum Model {
    /// An OpenAI-compatible endpoint.
    OpenAi(OpenAiCompatible),
}

impl Model {
    /// The model configured, or `None` for the rules-only backend.
    pub fn from_config(config: &ModelConfig, http: reqwest::Client) -> Option<Model> {
        match config.backend {
            ModelBackend::Openai => {
                let base = config.base_url.clone()?;
                let name = config.name.clone()?;
                let key: Option<SecretString> =
                    config.api_key.as_ref().and_then(|k| k.resolve().ok());
                Some(Model::OpenAi(OpenAiCompatible::new(
                    http, &base, &name, key,
                )))
            }
            ModelBackend::None | ModelBackend::Candle => None,
        }
    }

    /// Asks for a proposal on a concluded conversation.
    pub async fn propose(&self, state: &ConversationState) -> Result<ModelProposal, ModelError> {
        match self {
            Model::OpenAi(m) => m.propose(state).await,
        }
    }
}
