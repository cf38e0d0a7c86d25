//! Is everything the configuration requires reachable? Shared by `/readyz`
//! and `triage config check`.

use std::time::Duration;

use serde::Serialize;

use crate::app::StorageSlot;
use crate::config::{Config, FhirBackend, ModelBackend};
use crate::storage::ComponentHealth;

/// How long one HTTP probe may take.
const HTTP_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The answer of `/readyz`.
#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    /// `ready` or `not_ready`.
    pub status: &'static str,
    /// One entry per required dependency.
    pub checks: Vec<ComponentHealth>,
}

impl Readiness {
    /// True when every check passed.
    pub fn is_ready(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }
}

fn component(name: &str, ok: bool, detail: impl Into<String>) -> ComponentHealth {
    ComponentHealth {
        name: name.to_owned(),
        ok,
        detail: detail.into(),
    }
}

/// Probes storage, the model and the booking system as configured.
pub async fn assess(
    config: &Config,
    storage: &StorageSlot,
    http: &reqwest::Client,
    model_error: Option<&str>,
) -> Readiness {
    let mut checks = match storage.get() {
        Some(storage) => storage.health().await,
        None => vec![component(
            "database",
            false,
            format!("not connected yet: {}", storage.last_error()),
        )],
    };
    let mut dependencies = dependency_checks(config, http).await;
    if let Some(e) = model_error {
        // Files may be present and still unusable (corrupt, unsupported).
        match dependencies.iter_mut().find(|c| c.name == "model") {
            Some(c) if c.ok => *c = component("model", false, e),
            Some(_) => {}
            None => dependencies.push(component("model", false, e)),
        }
    }
    checks.extend(dependencies);
    let ready = checks.iter().all(|c| c.ok);
    Readiness {
        status: if ready { "ready" } else { "not_ready" },
        checks,
    }
}

/// The checks that do not depend on storage: model files or endpoint, FHIR endpoint.
pub async fn dependency_checks(config: &Config, http: &reqwest::Client) -> Vec<ComponentHealth> {
    let mut checks = Vec::new();
    match config.model.backend {
        ModelBackend::None => {}
        ModelBackend::Candle => {
            let files = [
                ("model.gguf_path", &config.model.gguf_path),
                ("model.tokenizer_path", &config.model.tokenizer_path),
            ];
            let missing: Vec<String> = files
                .iter()
                .filter_map(|(key, path)| match path {
                    Some(p) if !p.is_file() => Some(format!("{key} {} not found", p.display())),
                    None if *key == "model.gguf_path" => Some(format!("{key} not set")),
                    _ => None,
                })
                .collect();
            checks.push(if missing.is_empty() {
                component("model", true, "model files present")
            } else {
                component("model", false, missing.join("; "))
            });
        }
        ModelBackend::Openai => {
            let base = config
                .model
                .base_url
                .as_deref()
                .unwrap_or_default()
                .trim_end_matches('/');
            checks.push(probe_http("model", &format!("{base}/models"), http).await);
        }
    }
    if config.fhir.backend != FhirBackend::None {
        let base = config
            .fhir
            .base_url
            .as_deref()
            .unwrap_or_default()
            .trim_end_matches('/');
        checks.push(probe_http("fhir", &format!("{base}/metadata"), http).await);
    }
    checks
}

/// Reachable = any HTTP answer that is not a server error or an auth refusal.
async fn probe_http(name: &str, url: &str, http: &reqwest::Client) -> ComponentHealth {
    match http.get(url).timeout(HTTP_PROBE_TIMEOUT).send().await {
        Ok(resp) => {
            let status = resp.status();
            let ok =
                !(status.is_server_error() || status.as_u16() == 401 || status.as_u16() == 403);
            component(name, ok, format!("{url} answered {status}"))
        }
        Err(e) if e.is_timeout() => {
            component(name, false, format!("{url} did not answer within 2 s"))
        }
        Err(e) => component(
            name,
            false,
            format!("{url} unreachable: {}", root_cause(&e)),
        ),
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
