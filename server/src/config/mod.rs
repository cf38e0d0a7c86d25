//! Configuration: defaults, then an optional TOML file, then `TRIAGE__SECTION__KEY`
//! environment variables. The section and key names are an operator contract:
//! keep them stable.

mod check;
mod secret;

pub use check::{Finding, Severity, check};
pub use secret::SecretRef;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Prefix of the environment overrides; `__` separates section and key.
pub const ENV_PREFIX: &str = "TRIAGE__";

/// The whole configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// HTTP listener and process behaviour.
    pub server: ServerConfig,
    /// Where data lives.
    pub storage: StorageConfig,
    /// WhatsApp Cloud API credentials.
    pub whatsapp: WhatsAppConfig,
    /// Which model backs the agent.
    pub model: ModelConfig,
    /// Document retrieval.
    pub retrieval: RetrievalConfig,
    /// The FHIR / OpenMRS endpoint for bookings.
    pub fhir: FhirConfig,
    /// Logging.
    pub log: LogConfig,
}

/// `[server]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// How long a graceful shutdown waits for in-flight work, in seconds.
    pub shutdown_grace_secs: u64,
    /// Worker tasks per queue in this process.
    pub workers: usize,
    /// How long a claimed queue item stays leased before it is redelivered, in seconds.
    pub lease_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            shutdown_grace_secs: 20,
            workers: 2,
            lease_secs: 30,
        }
    }
}

impl ServerConfig {
    /// The shutdown grace period.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    /// The queue lease.
    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_secs.max(1))
    }
}

/// `storage.backend`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    /// One SQLite file: the embedded default, no services needed.
    #[default]
    Sqlite,
    /// Postgres (records, vectors) + Redis (queues, state, locks).
    Postgres,
}

/// `[storage]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// Which backend.
    pub backend: StorageBackend,
    /// SQLite database file (embedded backend).
    pub sqlite_path: PathBuf,
    /// Postgres URL (postgres backend); may embed a password, so it is a secret.
    pub postgres_url: Option<SecretRef>,
    /// Redis URL (postgres backend).
    pub redis_url: Option<SecretRef>,
    /// Prefix of every Redis key, so several deployments can share one Redis.
    pub redis_prefix: String,
    /// Run pending migrations when `serve` starts.
    pub auto_migrate: bool,
    /// Maximum connections in the database pool.
    pub max_connections: u32,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            backend: StorageBackend::Sqlite,
            sqlite_path: PathBuf::from("data/triage.db"),
            postgres_url: None,
            redis_url: None,
            redis_prefix: "triage".to_owned(),
            auto_migrate: true,
            max_connections: 10,
        }
    }
}

/// `[whatsapp]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WhatsAppConfig {
    /// Meta app secret: the HMAC key of `X-Hub-Signature-256`.
    pub app_secret: Option<SecretRef>,
    /// Token Meta echoes in the webhook verification handshake.
    pub verify_token: Option<SecretRef>,
    /// Graph API bearer token (system user token).
    pub access_token: Option<SecretRef>,
    /// The business phone number id messages are sent from.
    pub phone_number_id: Option<String>,
    /// Graph API base URL; point it at a local fake in tests.
    pub graph_api_base: String,
    /// Graph API version path segment.
    pub api_version: String,
    /// Approved template sent instead of a free-form message outside the
    /// 24-hour customer-service window (e.g. "please reply to continue").
    /// Without one, such messages are marked failed and surfaced.
    pub reengagement_template: Option<String>,
    /// Language code of that template (as registered with Meta, e.g. `en_US`).
    pub reengagement_template_language: String,
    /// Messages per second this business number may send (Meta's default is 80).
    pub max_messages_per_second: u32,
    /// Minimum gap between two messages to one patient, in milliseconds
    /// (Meta limits bursts to one recipient: error 131056).
    pub recipient_interval_ms: u64,
    /// How long a WhatsApp message id is remembered to drop redeliveries, in
    /// hours (Meta retries failed webhooks for up to 7 days).
    pub dedupe_retention_hours: u64,
    /// An unfinished interview idle this long (seconds) is closed with a
    /// safety-net message ("if you still feel unwell…").
    pub session_timeout_secs: u64,
    /// Serve the patient simulator at `/simulator` (default: only when no
    /// WhatsApp credentials are configured).
    pub simulator: Option<bool>,
}

impl Default for WhatsAppConfig {
    fn default() -> Self {
        Self {
            app_secret: None,
            verify_token: None,
            access_token: None,
            phone_number_id: None,
            graph_api_base: "https://graph.facebook.com".to_owned(),
            api_version: "v23.0".to_owned(),
            reengagement_template: None,
            reengagement_template_language: "en_US".to_owned(),
            max_messages_per_second: 80,
            recipient_interval_ms: 250,
            dedupe_retention_hours: 7 * 24,
            session_timeout_secs: 2 * 3600,
            simulator: None,
        }
    }
}

impl WhatsAppConfig {
    /// True when any credential is set: we talk to Meta, not to the local sink.
    pub fn is_configured(&self) -> bool {
        self.app_secret.is_some()
            || self.access_token.is_some()
            || self.phone_number_id.is_some()
            || self.verify_token.is_some()
    }
}

/// `model.backend`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelBackend {
    /// Rules and lexicon only.
    #[default]
    None,
    /// A local quantized GGUF model on CPU.
    Candle,
    /// An OpenAI-compatible endpoint (how MedGemma is served).
    Openai,
}

/// `[model]`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// Which backend.
    pub backend: ModelBackend,
    /// Base URL of the OpenAI-compatible endpoint (e.g. `http://host:8000/v1`).
    pub base_url: Option<String>,
    /// Model name sent to the endpoint.
    pub name: Option<String>,
    /// Bearer key for the endpoint, if it needs one.
    pub api_key: Option<SecretRef>,
    /// GGUF weights for the candle backend.
    pub gguf_path: Option<PathBuf>,
    /// `tokenizer.json`; without it the tokenizer is rebuilt from the GGUF metadata.
    pub tokenizer_path: Option<PathBuf>,
    /// Per-request timeout in milliseconds (default 20 000).
    pub timeout_ms: Option<u64>,
    /// Also ask the model to extract findings from every patient message
    /// (added to the lexicon's evidence; may raise urgency, never lower it).
    pub extraction: bool,
}

/// `[retrieval]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetrievalConfig {
    /// Folder with the embedding model (`model.safetensors`, `tokenizer.json`, `config.json`).
    pub embedding_model_dir: PathBuf,
}

impl Default for RetrievalConfig {
    fn default() -> Self {
        Self {
            embedding_model_dir: PathBuf::from("models/all-MiniLM-L6-v2"),
        }
    }
}

/// `fhir.backend`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FhirBackend {
    /// No booking system: dispositions are reported, not booked.
    #[default]
    None,
    /// OpenMRS (FHIR2 module + appointments REST).
    Openmrs,
    /// A plain FHIR R4 server.
    Fhir,
}

/// `[fhir]`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FhirConfig {
    /// Which backend.
    pub backend: FhirBackend,
    /// Base URL (e.g. `http://host/openmrs/ws/fhir2/R4`).
    pub base_url: Option<String>,
    /// Basic-auth user.
    pub username: Option<String>,
    /// Basic-auth password.
    pub password: Option<SecretRef>,
}

/// `log.format`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// `[log]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// Output format.
    pub format: LogFormat,
    /// Filter in `tracing` syntax; `RUST_LOG` wins when set.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".to_owned(),
        }
    }
}

/// A configuration that could not be loaded, with every problem found.
#[derive(Debug, thiserror::Error)]
#[error("{}", .problems.join("\n"))]
pub struct ConfigError {
    /// One plain sentence per problem, naming the key.
    pub problems: Vec<String>,
}

impl Config {
    /// Defaults, then `file` (which must exist when given), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        Self::load_from(file, Env::prefixed(ENV_PREFIX).split("__"))
    }

    /// Like [`Config::load`] with an explicit environment provider (for tests).
    pub fn load_from(file: Option<&Path>, env: Env) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError {
                    problems: vec![format!(
                        "config file {} does not exist or is not a file",
                        path.display()
                    )],
                });
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment
            .merge(env)
            .extract::<Config>()
            .map_err(|e| ConfigError {
                problems: e.into_iter().map(describe_figment_error).collect(),
            })
    }
}

/// Turns a figment error into one sentence: which key, what is wrong, where it came from.
fn describe_figment_error(error: figment::Error) -> String {
    use figment::error::Kind;
    let key = error.path.join(".");
    let what = match &error.kind {
        Kind::UnknownField(field, expected) => {
            // Figment's path may or may not already end with the field.
            let key = if key.is_empty() {
                field.clone()
            } else if error.path.last() == Some(field) {
                key
            } else {
                format!("{key}.{field}")
            };
            return format!(
                "unknown key `{key}`{}; expected one of: {}",
                source_of(&error),
                expected.join(", ")
            );
        }
        Kind::UnknownVariant(value, expected) => {
            format!(
                "`{value}` is not allowed; expected one of: {}",
                expected.join(", ")
            )
        }
        Kind::InvalidType(actual, expected) => {
            format!("has the wrong type ({actual}); expected {expected}")
        }
        Kind::InvalidValue(actual, expected) => {
            format!("has an invalid value ({actual}); expected {expected}")
        }
        Kind::Message(message) => message.clone(),
        other => other.to_string(),
    };
    if key.is_empty() {
        format!("configuration{}: {what}", source_of(&error))
    } else {
        format!("key `{key}`{}: {what}", source_of(&error))
    }
}

fn source_of(error: &figment::Error) -> String {
    match error.metadata.as_ref() {
        // Name the exact variable, not just "environment variable(s)".
        Some(meta) if meta.name.contains("environment variable") => {
            // Figment names the source "`PREFIX` environment variable(s)".
            let prefix = meta.name.split('`').nth(1).unwrap_or(ENV_PREFIX);
            let var: Vec<String> = error.path.iter().map(|p| p.to_ascii_uppercase()).collect();
            format!(" (from environment variable {prefix}{})", var.join("__"))
        }
        Some(meta) => match &meta.source {
            Some(source) => format!(" (from {source})"),
            None => format!(" (from {})", meta.name),
        },
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn defaults_run_the_embedded_backend_with_no_model() {
        let config = Config::load_from(None, Env::prefixed("TRIAGE_TEST_NOTHING__")).unwrap();
        assert_eq!(config.storage.backend, StorageBackend::Sqlite);
        assert_eq!(config.storage.sqlite_path, PathBuf::from("data/triage.db"));
        assert_eq!(config.model.backend, ModelBackend::None);
        assert_eq!(config.fhir.backend, FhirBackend::None);
        assert_eq!(config.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(
            config.retrieval.embedding_model_dir,
            PathBuf::from("models/all-MiniLM-L6-v2")
        );
    }

    #[test]
    fn file_values_are_read_and_unknown_keys_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("triage.toml");
        std::fs::File::create(&path)
            .unwrap()
            .write_all(b"[server]\nlisten = \"0.0.0.0:9000\"\n[storage]\nbackend = \"postgres\"\n")
            .unwrap();
        let config =
            Config::load_from(Some(&path), Env::prefixed("TRIAGE_TEST_NOTHING__")).unwrap();
        assert_eq!(config.server.listen.port(), 9000);
        assert_eq!(config.storage.backend, StorageBackend::Postgres);

        std::fs::write(
            &path,
            "[storage]\nbackend = \"sqlite\"\nsqlite_pth = \"x.db\"\n",
        )
        .unwrap();
        let err =
            Config::load_from(Some(&path), Env::prefixed("TRIAGE_TEST_NOTHING__")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("unknown key `storage.sqlite_pth`"), "{text}");
        assert!(
            text.contains("sqlite_path"),
            "the valid keys are listed: {text}"
        );
    }

    #[test]
    fn malformed_values_name_the_key_and_what_is_expected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("triage.toml");
        std::fs::write(
            &path,
            "[model]\nbackend = \"gpt\"\n[server]\nlisten = \"nowhere\"\n",
        )
        .unwrap();
        let err =
            Config::load_from(Some(&path), Env::prefixed("TRIAGE_TEST_NOTHING__")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("`gpt`") && text.contains("candle"), "{text}");
        let missing =
            Config::load_from(Some(&dir.path().join("absent.toml")), Env::prefixed("X__"))
                .unwrap_err();
        assert!(missing.to_string().contains("absent.toml"));
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("triage.toml");
        std::fs::write(&path, "[server]\nlisten = \"127.0.0.1:1000\"\n").unwrap();
        let env = Env::prefixed("TRIAGE_CFGTEST_A__").split("__");
        temp_env(
            &[
                ("TRIAGE_CFGTEST_A__SERVER__LISTEN", "127.0.0.1:2000"),
                ("TRIAGE_CFGTEST_A__WHATSAPP__VERIFY_TOKEN", "12345"),
            ],
            || {
                let config = Config::load_from(Some(&path), env.clone()).unwrap();
                assert_eq!(config.server.listen.port(), 2000);
                // A numeric-looking secret stays a string.
                assert_eq!(
                    config.whatsapp.verify_token.unwrap().describe(),
                    "a literal value"
                );
            },
        );
    }

    #[test]
    fn unknown_environment_keys_are_refused_by_name() {
        let env = Env::prefixed("TRIAGE_CFGTEST_B__").split("__");
        temp_env(&[("TRIAGE_CFGTEST_B__STORAGE__BAKEND", "postgres")], || {
            let err = Config::load_from(None, env.clone()).unwrap_err();
            assert!(
                err.to_string().contains(
                    "unknown key `storage.bakend` (from environment variable TRIAGE_CFGTEST_B__"
                ),
                "{err}"
            );
        });
    }

    /// Sets variables for the duration of `f`. Each test uses its own prefix,
    /// so concurrently running tests never see each other's variables.
    fn temp_env(vars: &[(&str, &str)], f: impl FnOnce()) {
        for (k, v) in vars {
            // SAFETY: test-only; names are unique per test.
            unsafe_set(k, v);
        }
        f();
    }

    #[expect(
        unsafe_code,
        reason = "set_var is unsafe in edition 2024; names are unique to one test"
    )]
    fn unsafe_set(k: &str, v: &str) {
        unsafe { std::env::set_var(k, v) };
    }
}
