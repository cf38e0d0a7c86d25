//! OpenAI-compatible chat completions with a JSON-schema response format.

use std::time::Duration;

use agent::ConversationState;
use agent::model::{ModelProposal, describe_for_model, parse_proposal, proposal_schema};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::ModelError;

/// A chat-completions endpoint (`POST {base_url}/chat/completions`).
#[derive(Clone)]
pub struct OpenAiCompatible {
    http: reqwest::Client,
    base_url: String,
    name: String,
    api_key: Option<SecretString>,
    timeout: Duration,
}

impl std::fmt::Debug for OpenAiCompatible {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiCompatible")
            .field("base_url", &self.base_url)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl OpenAiCompatible {
    /// A client for `base_url` (e.g. `http://host:8000/v1`) and model `name`.
    pub fn new(
        http: reqwest::Client,
        base_url: &str,
        name: &str,
        api_key: Option<SecretString>,
    ) -> Self {
        Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            name: name.to_owned(),
            api_key,
            timeout: Duration::from_secs(20),
        }
    }

    /// Another per-request timeout (tests).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The request body sent to the endpoint.
    pub fn request_body(&self, state: &ConversationState) -> Result<Value, ModelError> {
        let knowledge = agent::Agent::shared()
            .map_err(|e| ModelError::Endpoint(e.to_string()))?
            .knowledge();
        Ok(json!({
            "model": self.name,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": prompts::TRIAGE_SYSTEM_PROMPT},
                {"role": "user", "content": describe_for_model(state, knowledge)}
            ],
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "triage_proposal", "strict": true, "schema": proposal_schema()}
            }
        }))
    }

    /// One proposal (one retry on a transport error or 5xx).
    pub async fn propose(&self, state: &ConversationState) -> Result<ModelProposal, ModelError> {
        let body = self.request_body(state)?;
        let mut last = ModelError::Endpoint("no attempt".to_owned());
        for _ in 0..2 {
            let mut req = self
                .http
                .post(format!("{}/chat/completions", self.base_url))
                .timeout(self.timeout)
                .json(&body);
            if let Some(key) = &self.api_key {
                req = req.bearer_auth(key.expose_secret());
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) if e.is_timeout() => return Err(ModelError::Timeout(self.timeout)),
                Err(e) => {
                    last = ModelError::Endpoint(e.to_string());
                    continue;
                }
            };
            let status = resp.status();
            if status.is_server_error() {
                last = ModelError::Endpoint(format!("HTTP {status}"));
                continue;
            }
            if !status.is_success() {
                return Err(ModelError::Endpoint(format!("HTTP {status}")));
            }
            let answer: Value = resp
                .json()
                .await
                .map_err(|e| ModelError::Endpoint(e.to_string()))?;
            let content = answer["choices"][0]["message"]["content"]
                .as_str()
                .ok_or_else(|| {
                    ModelError::Endpoint("no choices[0].message.content in the answer".to_owned())
                })?;
            let knowledge = agent::Agent::shared()
                .map_err(|e| ModelError::Endpoint(e.to_string()))?
                .knowledge();
            return Ok(parse_proposal(content, &self.name, knowledge)?);
        }
        Err(last)
    }
}
