//! The doubt policy as data (`data/doubt.toml`): the red-flag rules whose
//! signs must be confirmed, because doubt about them counted as present sent
//! common presentations to emergency care.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::KnowledgeError;

const FILE: (&str, &str) = ("doubt.toml", include_str!("../data/doubt.toml"));

/// One rule whose signs must be confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confirm {
    /// The red-flag rule id.
    pub rule: String,
    /// Why doubt does not count for it.
    pub reason: String,
    /// Guidance behind it.
    pub source: String,
}

/// The policy file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoubtPolicy {
    /// Version of the policy.
    pub version: String,
    /// Rules whose signs must be confirmed.
    #[serde(default)]
    pub confirm: Vec<Confirm>,
}

impl DoubtPolicy {
    /// The policy compiled into this binary (parsed and checked once).
    pub fn bundled() -> Result<&'static DoubtPolicy, KnowledgeError> {
        static POLICY: OnceLock<Result<DoubtPolicy, KnowledgeError>> = OnceLock::new();
        POLICY
            .get_or_init(|| DoubtPolicy::parse(FILE.0, FILE.1))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Parses and checks a policy file.
    pub fn parse(file: &str, text: &str) -> Result<DoubtPolicy, KnowledgeError> {
        let policy: DoubtPolicy = toml::from_str(text).map_err(|e| KnowledgeError::Parse {
            file: file.to_owned(),
            error: e.to_string(),
        })?;
        let mut problems = Vec::new();
        let mut seen = BTreeSet::new();
        for c in &policy.confirm {
            if !seen.insert(c.rule.as_str()) {
                problems.push(format!("{file}: rule `{}` is listed twice", c.rule));
            }
            if c.reason.trim().is_empty() || c.source.trim().is_empty() {
                problems.push(format!(
                    "{file}: rule `{}` needs a reason and a source",
                    c.rule
                ));
            }
        }
        if problems.is_empty() {
            Ok(policy)
        } else {
            Err(KnowledgeError::Invalid(problems))
        }
    }

    /// Whether doubt about a sign of `rule` must not count as present.
    pub fn must_confirm(&self, rule: &str) -> bool {
        self.confirm.iter().any(|c| c.rule == rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_policy_loads_and_rejects_duplicates() {
        let p = DoubtPolicy::bundled().unwrap();
        assert!(p.must_confirm("meningitis.fever_with_stiff_neck"));
        assert!(!p.must_confirm("stroke.fast_signs"));
        let twice = "version = \"1\"\n[[confirm]]\nrule = \"a\"\nreason = \"r\"\nsource = \"s\"\n[[confirm]]\nrule = \"a\"\nreason = \"r\"\nsource = \"s\"\n";
        assert!(matches!(
            DoubtPolicy::parse("t", twice),
            Err(KnowledgeError::Invalid(_))
        ));
    }
}
