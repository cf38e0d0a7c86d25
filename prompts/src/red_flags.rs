//! Red-flag rules as data: each rule names the concepts that trigger it, the
//! disposition floor it imposes and the guidance it comes from. A model may
//! raise urgency above a floor, never lower it.

use serde::Deserialize;

use crate::{Disposition, Language};

/// One versioned file of rules (`data/red_flags.toml`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    /// Version of the rule set; recorded with every disposition it produced.
    pub version: String,
    /// The rules.
    #[serde(rename = "rule")]
    pub rules: Vec<RedFlagRule>,
}

/// A deterministic red-flag rule.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedFlagRule {
    /// Stable id, `category.name` (e.g. `cardiac.chest_pain_with_sweating`).
    pub id: String,
    /// Red-flag category (cardiac, stroke, sepsis, …).
    pub category: String,
    /// The least urgent disposition allowed once this rule fires.
    pub floor: Disposition,
    /// What it means, for clinicians (English).
    pub summary: String,
    /// The guidance it is written from (NHS, NICE, AHA/ASA, CDC, WHO…).
    pub source: String,
    /// Concepts that must all be present (and not negated).
    #[serde(default)]
    pub all: Vec<String>,
    /// At least one of these must be present, when the list is not empty.
    #[serde(default)]
    pub any: Vec<String>,
    /// Self-harm and similar: the crisis-line message is always sent.
    #[serde(default)]
    pub crisis: bool,
    /// Phrases that must fire and must not fire this rule, tested in CI.
    #[serde(default)]
    pub examples: Vec<RuleExample>,
}

/// A test phrase for a rule.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleExample {
    /// Its language.
    pub lang: Language,
    /// What a patient might write.
    pub text: String,
    /// Whether the rule must fire on it.
    pub fires: bool,
}

impl RedFlagRule {
    /// Every concept the rule mentions.
    pub fn concepts(&self) -> impl Iterator<Item = &str> {
        self.all.iter().chain(self.any.iter()).map(String::as_str)
    }

    /// Whether the rule fires on this set of present (non-negated) concepts.
    pub fn fires_on<'a>(&self, present: impl Fn(&str) -> bool + 'a) -> bool {
        let all = self.all.iter().all(|c| present(c));
        let any = self.any.is_empty() || self.any.iter().any(|c| present(c));
        !(self.all.is_empty() && self.any.is_empty()) && all && any
    }
}
