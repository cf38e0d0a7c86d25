//! The model the agent may consult, built from `[model]`: an OpenAI-compatible
//! endpoint (MedGemma) or a local GGUF model (Candle), both behind
//! [`llm::ChatModel`] and used through an [`llm::Advisor`]. `none` is the
//! rules-only default. A model never blocks a reply: the rules answer first.

use std::sync::Arc;

use llm::{Advisor, LlmError, OpenAiCompatible};
use secrecy::SecretString;

use crate::config::{ModelBackend, ModelConfig};

/// A configured model and how the workers use it.
#[derive(Debug, Clone)]
pub struct Model {
    /// Asks the model for extractions and proposals.
    pub advisor: Advisor,
    /// Extract findings from every patient message, not only propose at the end.
    pub extraction: bool,
}

/// The configured model, or `None` for the rules-only backend. Loading a
/// GGUF reads the whole file: call from a blocking context.
pub fn from_config(config: &ModelConfig, http: reqwest::Client) -> Result<Option<Model>, LlmError> {
    Ok(advisor(config, http)?.map(|advisor| Model {
        advisor,
        extraction: config.extraction,
    }))
}

fn advisor(config: &ModelConfig, http: reqwest::Client) -> Result<Option<Advisor>, LlmError> {
    match config.backend {
        ModelBackend::None => Ok(None),
        ModelBackend::Openai => {
            let base = config
                .base_url
                .clone()
                .ok_or_else(|| LlmError::Load("model.base_url is not set".to_owned()))?;
            let name = config
                .name
                .clone()
                .ok_or_else(|| LlmError::Load("model.name is not set".to_owned()))?;
            let key: Option<SecretString> = match &config.api_key {
                Some(k) => Some(k.resolve().map_err(|e| LlmError::Load(e.to_string()))?),
                None => None,
            };
            let mut model = OpenAiCompatible::new(http, &base, &name, key);
            if let Some(t) = config.timeout_ms {
                model = model.with_timeout(std::time::Duration::from_millis(t));
            }
            Ok(Some(Advisor::new(Arc::new(model))))
        }
        ModelBackend::Candle => {
            let gguf = config
                .gguf_path
                .clone()
                .ok_or_else(|| LlmError::Load("model.gguf_path is not set".to_owned()))?;
            let defaults = llm::candle::CandleOptions::default();
            let options = llm::candle::CandleOptions {
                timeout: config
                    .timeout_ms
                    .map(std::time::Duration::from_millis)
                    .or(defaults.timeout),
                ..defaults
            };
            let model =
                llm::candle::CandleGguf::load(&gguf, config.tokenizer_path.as_deref(), options)?;
            Ok(Some(Advisor::new(Arc::new(model))))
        }
    }
}
