//! `triage config check`: what is missing or inconsistent, in plain words.
//! These checks need no network; reachability is probed by `readiness`.

use std::fmt;

use super::{Config, FhirBackend, ModelBackend, SecretRef, StorageBackend};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Fine, said for the operator's peace of mind.
    Ok,
    /// Works, but probably not what is wanted in production.
    Warning,
    /// `serve` would not do its job.
    Error,
}

/// One sentence about one part of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How bad.
    pub severity: Severity,
    /// The key or section concerned (e.g. `storage.postgres_url`).
    pub key: String,
    /// What to know or do.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.severity {
            Severity::Ok => "ok     ",
            Severity::Warning => "warning",
            Severity::Error => "error  ",
        };
        write!(f, "{tag} {}: {}", self.key, self.message)
    }
}

fn finding(severity: Severity, key: &str, message: impl Into<String>) -> Finding {
    Finding {
        severity,
        key: key.to_owned(),
        message: message.into(),
    }
}

/// Checks a loaded configuration for consistency.
pub fn check(config: &Config) -> Vec<Finding> {
    let mut out = Vec::new();
    out.push(finding(
        Severity::Ok,
        "server.listen",
        format!("HTTP on {}", config.server.listen),
    ));
    check_storage(config, &mut out);
    check_whatsapp(config, &mut out);
    check_model(config, &mut out);
    check_fhir(config, &mut out);
    out
}

fn check_secret(
    key: &str,
    secret: Option<&SecretRef>,
    required_because: Option<&str>,
    out: &mut Vec<Finding>,
) {
    match (secret, required_because) {
        (None, Some(why)) => out.push(finding(Severity::Error, key, format!("is required {why}"))),
        (None, None) => {}
        (Some(secret), _) => match secret.resolve() {
            Ok(_) => out.push(finding(
                Severity::Ok,
                key,
                format!("read from {}", secret.describe()),
            )),
            Err(e) => out.push(finding(
                Severity::Error,
                key,
                format!("set to {}, but {e}", secret.describe()),
            )),
        },
    }
}

fn check_storage(config: &Config, out: &mut Vec<Finding>) {
    let storage = &config.storage;
    match storage.backend {
        StorageBackend::Sqlite => {
            out.push(finding(
                Severity::Ok,
                "storage.backend",
                format!("embedded SQLite at {}", storage.sqlite_path.display()),
            ));
            if let Some(parent) = storage
                .sqlite_path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                && parent.exists()
                && !parent.is_dir()
            {
                out.push(finding(
                    Severity::Error,
                    "storage.sqlite_path",
                    format!("{} is not a directory", parent.display()),
                ));
            }
        }
        StorageBackend::Postgres => {
            out.push(finding(Severity::Ok, "storage.backend", "Postgres + Redis"));
            let why = Some("when storage.backend = \"postgres\"");
            check_secret(
                "storage.postgres_url",
                storage.postgres_url.as_ref(),
                why,
                out,
            );
            check_secret("storage.redis_url", storage.redis_url.as_ref(), why, out);
        }
    }
}

fn check_whatsapp(config: &Config, out: &mut Vec<Finding>) {
    let wa = &config.whatsapp;
    let any = wa.app_secret.is_some()
        || wa.access_token.is_some()
        || wa.phone_number_id.is_some()
        || wa.verify_token.is_some();
    if !any {
        out.push(finding(
            Severity::Warning,
            "whatsapp",
            "not configured: only the built-in simulator can talk to the bot",
        ));
        return;
    }
    let why = Some("once any whatsapp key is set");
    check_secret("whatsapp.app_secret", wa.app_secret.as_ref(), why, out);
    check_secret("whatsapp.verify_token", wa.verify_token.as_ref(), why, out);
    check_secret("whatsapp.access_token", wa.access_token.as_ref(), why, out);
    match wa.phone_number_id.as_deref() {
        Some(id) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => {
            out.push(finding(Severity::Ok, "whatsapp.phone_number_id", "set"))
        }
        Some(_) => out.push(finding(
            Severity::Error,
            "whatsapp.phone_number_id",
            "must be the numeric phone number id from Meta's app dashboard (not the phone number)",
        )),
        None => out.push(finding(
            Severity::Error,
            "whatsapp.phone_number_id",
            "is required once any whatsapp key is set",
        )),
    }
    check_url("whatsapp.graph_api_base", Some(&wa.graph_api_base), out);
}

fn check_url(key: &str, url: Option<&str>, out: &mut Vec<Finding>) {
    match url {
        None => {}
        Some(u) => match reqwest::Url::parse(u) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {}
            Ok(_) => out.push(finding(
                Severity::Error,
                key,
                format!("`{u}` must be an http or https URL"),
            )),
            Err(e) => out.push(finding(
                Severity::Error,
                key,
                format!("`{u}` is not a URL: {e}"),
            )),
        },
    }
}

fn check_model(config: &Config, out: &mut Vec<Finding>) {
    let model = &config.model;
    match model.backend {
        ModelBackend::None => out.push(finding(
            Severity::Ok,
            "model.backend",
            "none: triage by rules and lexicon only",
        )),
        ModelBackend::Candle => {
            match &model.gguf_path {
                None => out.push(finding(
                    Severity::Error,
                    "model.gguf_path",
                    "is required when model.backend = \"candle\"",
                )),
                Some(p) if !p.is_file() => out.push(finding(
                    Severity::Error,
                    "model.gguf_path",
                    format!(
                        "{} does not exist (scripts/setup fetches a small test model into models/)",
                        p.display()
                    ),
                )),
                Some(p) => out.push(finding(
                    Severity::Ok,
                    "model.gguf_path",
                    p.display().to_string(),
                )),
            }
            if let Some(p) = &model.tokenizer_path
                && !p.is_file()
            {
                out.push(finding(
                    Severity::Error,
                    "model.tokenizer_path",
                    format!("{} does not exist", p.display()),
                ));
            }
        }
        ModelBackend::Openai => {
            match &model.base_url {
                None => out.push(finding(
                    Severity::Error,
                    "model.base_url",
                    "is required when model.backend = \"openai\"",
                )),
                Some(u) => check_url("model.base_url", Some(u), out),
            }
            if model.name.as_deref().is_none_or(str::is_empty) {
                out.push(finding(
                    Severity::Error,
                    "model.name",
                    "is required when model.backend = \"openai\"",
                ));
            }
            check_secret("model.api_key", model.api_key.as_ref(), None, out);
        }
    }
}

fn check_fhir(config: &Config, out: &mut Vec<Finding>) {
    let fhir = &config.fhir;
    if fhir.backend == FhirBackend::None {
        out.push(finding(
            Severity::Ok,
            "fhir.backend",
            "none: dispositions are reported, not booked",
        ));
        return;
    }
    match &fhir.base_url {
        None => out.push(finding(
            Severity::Error,
            "fhir.base_url",
            "is required when fhir.backend is set",
        )),
        Some(u) => check_url("fhir.base_url", Some(u), out),
    }
    if fhir.username.is_some() {
        check_secret(
            "fhir.password",
            fhir.password.as_ref(),
            Some("when fhir.username is set"),
            out,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn errors(config: &Config) -> Vec<String> {
        check(config)
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.key)
            .collect()
    }

    #[test]
    fn the_default_configuration_has_no_errors() {
        assert!(errors(&Config::default()).is_empty());
    }

    #[test]
    fn postgres_without_urls_names_both_keys() {
        let mut config = Config::default();
        config.storage.backend = StorageBackend::Postgres;
        assert_eq!(
            errors(&config),
            vec!["storage.postgres_url", "storage.redis_url"]
        );
    }

    #[test]
    fn candle_needs_an_existing_model_file() {
        let mut config = Config::default();
        config.model.backend = ModelBackend::Candle;
        assert_eq!(errors(&config), vec!["model.gguf_path"]);
        config.model.gguf_path = Some(PathBuf::from("/nonexistent/model.gguf"));
        let found = check(&config);
        let bad = found.iter().find(|f| f.key == "model.gguf_path").unwrap();
        assert!(bad.message.contains("/nonexistent/model.gguf"));
    }

    #[test]
    fn partial_whatsapp_setup_lists_what_is_missing() {
        let mut config = Config::default();
        config.whatsapp.phone_number_id = Some("+1 555 0100".into());
        assert_eq!(
            errors(&config),
            vec![
                "whatsapp.app_secret",
                "whatsapp.verify_token",
                "whatsapp.access_token",
                "whatsapp.phone_number_id"
            ]
        );
    }

    #[test]
    fn openai_backend_needs_url_and_name() {
        let mut config = Config::default();
        config.model.backend = ModelBackend::Openai;
        config.model.base_url = Some("not a url".into());
        assert_eq!(errors(&config), vec!["model.base_url", "model.name"]);
    }
}
