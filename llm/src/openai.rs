//! OpenAI-compatible chat completions with a JSON-schema response format —
//! how MedGemma is served by vLLM, TGI, Ollama or Vertex.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use crate::{ChatModel, JsonRequest, LlmError, json_object};

/// A chat-completions endpoint (`POST {base_url}/chat/completions`).
#[derive(Clone)]
pub struct OpenAiCompatible {
    http: reqwest::Client,
    base_url: String,
    name: String,
    api_key: Option<SecretString>,
    timeout: Duration,
    attempts: usize,
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
            attempts: 2,
        }
    }

    /// Another per-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The request body sent to the endpoint.
    pub fn request_body(&self, request: &JsonRequest) -> Value {
        let messages: Vec<Value> = request
            .messages
            .iter()
            .map(|m| json!({"role": m.role.as_str(), "content": m.content}))
            .collect();
        json!({
            "model": self.name,
            "temperature": 0,
            "max_tokens": request.max_tokens,
            "messages": messages,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": request.name, "strict": true, "schema": request.schema}
            }
        })
    }

    async fn attempt(&self, body: &Value) -> Result<String, Attempt> {
        let mut req = self
            .http
            .post(format!("{}/chat/completions", self.base_url))
            .timeout(self.timeout)
            .json(body);
        if let Some(key) = &self.api_key {
            req = req.bearer_auth(key.expose_secret());
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => {
                return Err(Attempt::Final(LlmError::Timeout(self.timeout)));
            }
            Err(e) => return Err(Attempt::Retry(LlmError::Backend(e.to_string()))),
        };
        let status = resp.status();
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(Attempt::Retry(LlmError::Backend(format!("HTTP {status}"))));
        }
        if !status.is_success() {
            return Err(Attempt::Final(LlmError::Backend(format!("HTTP {status}"))));
        }
        let answer: Value = resp
            .json()
            .await
            .map_err(|e| Attempt::Final(LlmError::Backend(e.to_string())))?;
        let content = answer["choices"][0]["message"]["content"]
            .as_str()
            .ok_or_else(|| {
                Attempt::Final(LlmError::Backend(
                    "no choices[0].message.content in the answer".to_owned(),
                ))
            })?;
        // Validated here so callers get a JSON object or an error.
        json_object(content).map_err(Attempt::Retry)?;
        Ok(content.to_owned())
    }
}

enum Attempt {
    Retry(LlmError),
    Final(LlmError),
}

#[async_trait::async_trait]
impl ChatModel for OpenAiCompatible {
    fn name(&self) -> &str {
        &self.name
    }

    /// One answer; transport errors, 5xx/429 and non-JSON answers are retried once.
    async fn complete_json(&self, request: &JsonRequest) -> Result<String, LlmError> {
        let body = self.request_body(request);
        let mut last = LlmError::Backend("no attempt".to_owned());
        for _ in 0..self.attempts {
            match self.attempt(&body).await {
                Ok(content) => return Ok(content),
                Err(Attempt::Final(e)) => return Err(e),
                Err(Attempt::Retry(e)) => last = e,
            }
        }
        Err(last)
    }
}
