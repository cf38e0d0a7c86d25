//! Where a secret lives. Config files name a source (`env:NAME`, `file:PATH`)
//! rather than hold the value; a literal is accepted for local setups and
//! environment overrides, and is never printed.

use std::fmt;
use std::path::PathBuf;

use secrecy::SecretString;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A configured secret: its source, resolved on demand.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// Read from this environment variable.
    Env(String),
    /// Read from this file (trailing newline trimmed), e.g. a mounted secret.
    File(PathBuf),
    /// The value itself.
    Literal(String),
}

/// A secret whose source could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// `env:NAME` with `NAME` unset or empty.
    #[error("environment variable {0} is not set")]
    MissingEnv(String),
    /// `file:PATH` unreadable.
    #[error("cannot read secret file {path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// The I/O error.
        reason: String,
    },
    /// The source yields an empty value.
    #[error("the secret is empty")]
    Empty,
}

impl SecretRef {
    /// Parses `env:NAME`, `file:PATH` or a literal.
    pub fn parse(raw: &str) -> SecretRef {
        if let Some(name) = raw.strip_prefix("env:") {
            SecretRef::Env(name.to_owned())
        } else if let Some(path) = raw.strip_prefix("file:") {
            SecretRef::File(PathBuf::from(path))
        } else {
            SecretRef::Literal(raw.to_owned())
        }
    }

    /// Reads the value now.
    pub fn resolve(&self) -> Result<SecretString, SecretError> {
        let value = match self {
            SecretRef::Env(name) => {
                std::env::var(name).map_err(|_| SecretError::MissingEnv(name.clone()))?
            }
            SecretRef::File(path) => std::fs::read_to_string(path)
                .map_err(|e| SecretError::File {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })?
                .trim_end_matches(['\r', '\n'])
                .to_owned(),
            SecretRef::Literal(value) => value.clone(),
        };
        if value.is_empty() {
            return Err(SecretError::Empty);
        }
        Ok(SecretString::from(value))
    }

    /// Where the secret comes from, safe to print.
    pub fn describe(&self) -> String {
        match self {
            SecretRef::Env(name) => format!("environment variable {name}"),
            SecretRef::File(path) => format!("file {}", path.display()),
            SecretRef::Literal(_) => "a literal value".to_owned(),
        }
    }
}

impl fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretRef({})", self.describe())
    }
}

impl Serialize for SecretRef {
    /// Literals serialize redacted: a dumped config never leaks them.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            SecretRef::Env(name) => s.serialize_str(&format!("env:{name}")),
            SecretRef::File(path) => s.serialize_str(&format!("file:{}", path.display())),
            SecretRef::Literal(_) => s.serialize_str("[redacted]"),
        }
    }
}

impl<'de> Deserialize<'de> for SecretRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SecretVisitor;
        impl Visitor<'_> for SecretVisitor {
            type Value = SecretRef;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string: `env:NAME`, `file:PATH` or the secret itself")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SecretRef, E> {
                Ok(SecretRef::parse(v))
            }
            // Environment overrides are parsed as TOML values, so a numeric
            // verify token arrives as a number: keep it as its text.
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<SecretRef, E> {
                Ok(SecretRef::Literal(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<SecretRef, E> {
                Ok(SecretRef::Literal(v.to_string()))
            }
        }
        d.deserialize_any(SecretVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn sources_parse_and_resolve() {
        assert_eq!(
            SecretRef::parse("env:WA_SECRET"),
            SecretRef::Env("WA_SECRET".into())
        );
        assert_eq!(
            SecretRef::parse("file:/run/s"),
            SecretRef::File("/run/s".into())
        );
        assert_eq!(
            SecretRef::parse("hunter2"),
            SecretRef::Literal("hunter2".into())
        );

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "abc\n").unwrap();
        let from_file = SecretRef::File(path).resolve().unwrap();
        assert_eq!(from_file.expose_secret(), "abc");
    }

    #[test]
    fn unreadable_sources_say_why() {
        let err = SecretRef::Env("TRIAGE_SURELY_UNSET_VAR_42".into())
            .resolve()
            .unwrap_err();
        assert_eq!(
            err,
            SecretError::MissingEnv("TRIAGE_SURELY_UNSET_VAR_42".into())
        );
        let err = SecretRef::File("/nonexistent/secret".into())
            .resolve()
            .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/secret"));
        assert_eq!(
            SecretRef::Literal(String::new()).resolve().unwrap_err(),
            SecretError::Empty
        );
    }

    #[test]
    fn literals_never_print() {
        let s = SecretRef::Literal("hunter2".into());
        assert!(!format!("{s:?}").contains("hunter2"));
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"[redacted]\"");
    }
}
