//! Protocols per chief complaint. A protocol applies when one of its
//! concepts is present (and all of `requires`); it gives a default
//! disposition, and its rules raise it when the evidence matches: concepts
//! present or explicitly denied, severity, duration, age, temperature,
//! pregnancy. The protocol's result is the maximum of its default and every
//! rule that matches; red-flag floors always win over it (the maximum is
//! taken again).
//!
//! Every condition is existential over what the patient said — "some
//! duration they gave is at least 3 weeks", "some age they gave is under
//! 6 months" — so saying more can only make more rules match. The one
//! exception, a `denied` concept later reported, is handled by the agent
//! keeping every rule that matched once.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::Deserialize;

use crate::{Disposition, Language};

/// The protocol file (`data/protocols.toml`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolSet {
    /// Version, recorded with the dispositions it produced.
    pub version: String,
    /// Concept → concepts one of which must be present before the interview
    /// asks about it (the age-group questions only in a conversation about a
    /// child).
    #[serde(default)]
    pub ask_only_with: BTreeMap<String, Vec<String>>,
    /// The protocols.
    #[serde(rename = "protocol")]
    pub protocols: Vec<Protocol>,
}

/// One chief complaint.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Protocol {
    /// Stable id (e.g. `cough`).
    pub id: String,
    /// Concepts that make this the (or a) chief complaint: any one selects it.
    pub concepts: Vec<String>,
    /// Concepts that must also be present (e.g. `child` for fever in children).
    #[serde(default)]
    pub requires: Vec<String>,
    /// The disposition without red flags or matching rules.
    pub default: Disposition,
    /// Why, for clinicians.
    pub summary: String,
    /// The guidance it follows.
    pub source: String,
    /// Red-flag concepts the interview screens for with this complaint even
    /// when the patient did not mention them (e.g. a sudden onset for a
    /// headache). Each must have a question and appear in a red-flag rule.
    #[serde(default)]
    pub screen: Vec<String>,
    /// Rules raising the disposition above the default.
    #[serde(default, rename = "rule")]
    pub rules: Vec<ProtocolRule>,
}

/// Evidence that raises a protocol's disposition. Every condition given must
/// hold; at least one must be given.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolRule {
    /// Stable id, `<protocol id>.<name>`.
    pub id: String,
    /// The disposition when it matches (above the protocol's default).
    pub disposition: Disposition,
    /// What it means, for clinicians (English).
    pub summary: String,
    /// The guidance it is written from.
    pub source: String,
    /// Concepts that must all be present.
    #[serde(default)]
    pub all: Vec<String>,
    /// At least one of these must be present, when the list is not empty.
    #[serde(default)]
    pub any: Vec<String>,
    /// Concepts the patient must have denied (e.g. no cough in Centor).
    #[serde(default)]
    pub denied: Vec<String>,
    /// The patient rated it at least this, on 0–10.
    pub severity_at_least: Option<u8>,
    /// Some duration the patient gave is at least this.
    pub duration_at_least: Option<Span>,
    /// Some duration the patient gave is at most this (with
    /// `duration_at_least`, the same duration must satisfy both).
    pub duration_at_most: Option<Span>,
    /// Some age the patient gave is at least this.
    pub age_at_least: Option<Span>,
    /// Some age the patient gave is under this (with `age_at_least`, the
    /// same age must satisfy both).
    pub age_under: Option<Span>,
    /// The highest temperature given is at least this many °C.
    pub temperature_at_least: Option<f32>,
    /// The person is pregnant (the `pregnant` concept is present).
    #[serde(default)]
    pub pregnant: bool,
    /// Phrases that must and must not match this rule, tested in CI.
    #[serde(default)]
    pub examples: Vec<ProtocolExample>,
}

/// A test phrase for a protocol rule: the whole message goes through the
/// extractor and the quantity reader, as a patient's first message would.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolExample {
    /// Its language.
    pub lang: Language,
    /// What a patient might write.
    pub text: String,
    /// Whether the rule must match it.
    pub matches: bool,
}

/// A length of time written as `"<number> <unit>"` ("3 weeks", "12 hours",
/// "6 months"), kept in hours. Used for durations and ages.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Span {
    hours: f64,
}

/// A span that is not `"<number> <unit>"`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid time span `{0}` (expected \"<number> <unit>\", unit one of minutes, hours, days, weeks, months, years)"
)]
pub struct InvalidSpan(pub String);

/// Hours in one unit (a month is a twelfth of a mean year).
const HOURS_PER: [(&str, f64); 6] = [
    ("minute", 1.0 / 60.0),
    ("hour", 1.0),
    ("day", 24.0),
    ("week", 168.0),
    ("month", 730.5),
    ("year", 8766.0),
];

impl Span {
    /// The span in hours.
    pub fn hours(self) -> f64 {
        self.hours
    }

    /// The span in years.
    pub fn years(self) -> f64 {
        self.hours / 8766.0
    }

    /// A span of `hours`.
    pub fn from_hours(hours: f64) -> Span {
        Span { hours }
    }

    /// Hours in one `unit` ("day", "days", "weeks"…), if it is one.
    pub fn unit_hours(unit: &str) -> Option<f64> {
        let singular = unit.strip_suffix('s').unwrap_or(unit);
        HOURS_PER
            .iter()
            .find(|(name, _)| *name == singular)
            .map(|(_, h)| *h)
    }
}

impl FromStr for Span {
    type Err = InvalidSpan;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InvalidSpan(s.to_owned());
        let mut parts = s.split_whitespace();
        let (Some(n), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        let n: f64 = n.parse().map_err(|_| bad())?;
        let per = Span::unit_hours(unit).ok_or_else(bad)?;
        if !n.is_finite() || n < 0.0 {
            return Err(bad());
        }
        Ok(Span { hours: n * per })
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} hours", self.hours)
    }
}

/// What the patient has said, as the protocol rules see it.
#[derive(Clone, Copy)]
pub struct Facts<'a> {
    /// Whether a concept is present.
    pub present: &'a dyn Fn(&str) -> bool,
    /// Whether a concept was denied (and never reported).
    pub denied: &'a dyn Fn(&str) -> bool,
    /// The highest severity given, 0–10.
    pub severity: Option<u8>,
    /// Every duration given, in hours.
    pub durations_hours: &'a [f64],
    /// Every age given, in years.
    pub ages_years: &'a [f64],
    /// The highest temperature given, °C.
    pub temperature_c: Option<f64>,
}

impl fmt::Debug for Facts<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Facts")
            .field("severity", &self.severity)
            .field("durations_hours", &self.durations_hours)
            .field("ages_years", &self.ages_years)
            .field("temperature_c", &self.temperature_c)
            .finish_non_exhaustive()
    }
}

impl ProtocolRule {
    /// Every concept a condition names (`all`, `any`, `denied`, and
    /// `pregnant` when required).
    pub fn concepts(&self) -> impl Iterator<Item = &str> {
        self.all
            .iter()
            .chain(&self.any)
            .chain(&self.denied)
            .map(String::as_str)
            .chain(self.pregnant.then_some("pregnant"))
    }

    /// Whether any condition is given at all.
    pub fn has_conditions(&self) -> bool {
        self.concepts().next().is_some()
            || self.severity_at_least.is_some()
            || self.has_duration()
            || self.has_age()
            || self.temperature_at_least.is_some()
    }

    /// Whether it has a duration condition.
    pub fn has_duration(&self) -> bool {
        self.duration_at_least.is_some() || self.duration_at_most.is_some()
    }

    /// Whether it has an age condition.
    pub fn has_age(&self) -> bool {
        self.age_at_least.is_some() || self.age_under.is_some()
    }

    /// Whether a duration of `hours` satisfies the duration condition.
    pub fn duration_fits(&self, hours: f64) -> bool {
        self.duration_at_least.is_none_or(|s| hours >= s.hours())
            && self.duration_at_most.is_none_or(|s| hours <= s.hours())
    }

    /// Whether an age of `years` satisfies the age condition.
    pub fn age_fits(&self, years: f64) -> bool {
        self.age_at_least.is_none_or(|s| years >= s.years())
            && self.age_under.is_none_or(|s| years < s.years())
    }

    /// Whether every concept condition holds.
    pub fn concepts_hold(&self, facts: &Facts<'_>) -> bool {
        self.all.iter().all(|c| (facts.present)(c))
            && (self.any.is_empty() || self.any.iter().any(|c| (facts.present)(c)))
            && self.denied.iter().all(|c| (facts.denied)(c))
            && (!self.pregnant || (facts.present)("pregnant"))
    }

    /// Whether the severity condition holds (or there is none).
    pub fn severity_holds(&self, facts: &Facts<'_>) -> bool {
        self.severity_at_least
            .is_none_or(|n| facts.severity.is_some_and(|s| s >= n))
    }

    /// Whether the duration condition holds (or there is none).
    pub fn duration_holds(&self, facts: &Facts<'_>) -> bool {
        !self.has_duration() || facts.durations_hours.iter().any(|&h| self.duration_fits(h))
    }

    /// Whether the rule matches the facts.
    pub fn matches(&self, facts: &Facts<'_>) -> bool {
        self.has_conditions()
            && self.concepts_hold(facts)
            && self.severity_holds(facts)
            && self.duration_holds(facts)
            && (!self.has_age() || facts.ages_years.iter().any(|&a| self.age_fits(a)))
            && self.temperature_at_least.is_none_or(|t| {
                facts
                    .temperature_c
                    .is_some_and(|c| c >= f64::from(t) - 1e-6)
            })
    }
}

impl Protocol {
    /// Whether the complaint is present.
    pub fn applies(&self, present: impl Fn(&str) -> bool) -> bool {
        self.concepts.iter().any(|c| present(c)) && self.requires.iter().all(|c| present(c))
    }

    /// The rule ids must start with this.
    pub fn rule_prefix(&self) -> String {
        format!("{}.", self.id)
    }
}

/// A protocol that applies, with its result.
#[derive(Debug, Clone, PartialEq)]
pub struct ProtocolResult<'a> {
    /// The protocol.
    pub protocol: &'a Protocol,
    /// max(default, matching rules).
    pub disposition: Disposition,
    /// The rules that matched.
    pub matched: Vec<&'a ProtocolRule>,
}

impl ProtocolSet {
    /// Every protocol that applies, with the rules that match.
    pub fn evaluate<'a>(&'a self, facts: &Facts<'_>) -> Vec<ProtocolResult<'a>> {
        self.protocols
            .iter()
            .filter(|p| p.applies(facts.present))
            .map(|protocol| {
                let matched: Vec<&ProtocolRule> =
                    protocol.rules.iter().filter(|r| r.matches(facts)).collect();
                let disposition = matched
                    .iter()
                    .map(|r| r.disposition)
                    .fold(protocol.default, Disposition::max);
                ProtocolResult {
                    protocol,
                    disposition,
                    matched,
                }
            })
            .collect()
    }

    /// The most urgent result among the protocols that apply.
    pub fn disposition(&self, facts: &Facts<'_>) -> Option<Disposition> {
        self.evaluate(facts).iter().map(|r| r.disposition).max()
    }

    /// Whether the interview may ask about `concept` given what is present.
    pub fn may_ask(&self, concept: &str, present: impl Fn(&str) -> bool) -> bool {
        self.ask_only_with
            .get(concept)
            .is_none_or(|with| with.iter().any(|c| present(c)))
    }

    /// Every rule, with its protocol, in file order.
    pub fn rules(&self) -> impl Iterator<Item = (&Protocol, &ProtocolRule)> {
        self.protocols
            .iter()
            .flat_map(|p| p.rules.iter().map(move |r| (p, r)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(extra: &str) -> ProtocolRule {
        toml::from_str(&format!(
            "id = \"p.r\"\ndisposition = \"urgent_24h\"\nsummary = \"s\"\nsource = \"x\"\n{extra}"
        ))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn facts<'a>(
        present: &'a dyn Fn(&str) -> bool,
        durations: &'a [f64],
        ages: &'a [f64],
    ) -> Facts<'a> {
        Facts {
            present,
            denied: &|c| c == "cough",
            severity: Some(6),
            durations_hours: durations,
            ages_years: ages,
            temperature_c: Some(39.2),
        }
    }

    #[test]
    fn spans_parse_into_hours_and_reject_nonsense() {
        assert_eq!("3 weeks".parse::<Span>().map(Span::hours), Ok(504.0));
        assert_eq!("12 hours".parse::<Span>().map(Span::hours), Ok(12.0));
        assert_eq!("1 day".parse::<Span>().map(Span::hours), Ok(24.0));
        assert_eq!("6 months".parse::<Span>().map(Span::years), Ok(0.5));
        assert_eq!("30 minutes".parse::<Span>().map(Span::hours), Ok(0.5));
        for bad in ["3", "weeks", "3 fortnights", "-1 days", "3 weeks ago"] {
            assert!(bad.parse::<Span>().is_err(), "{bad}");
        }
    }

    #[test]
    fn every_condition_must_hold() {
        let present = |c: &str| matches!(c, "sore_throat" | "fever");
        let f = facts(&present, &[72.0], &[0.3]);
        assert!(rule("all = [\"fever\"]\ndenied = [\"cough\"]").matches(&f));
        assert!(!rule("all = [\"fever\", \"rash\"]").matches(&f));
        assert!(rule("any = [\"rash\", \"fever\"]").matches(&f));
        assert!(!rule("denied = [\"fever\"]").matches(&f));
        assert!(rule("severity_at_least = 6").matches(&f));
        assert!(!rule("severity_at_least = 7").matches(&f));
        assert!(rule("duration_at_least = \"3 days\"").matches(&f));
        assert!(!rule("duration_at_least = \"4 days\"").matches(&f));
        assert!(rule("duration_at_most = \"3 days\"").matches(&f));
        assert!(!rule("duration_at_most = \"2 days\"").matches(&f));
        assert!(rule("age_at_least = \"3 months\"\nage_under = \"6 months\"").matches(&f));
        assert!(!rule("age_at_least = \"6 months\"").matches(&f));
        assert!(rule("temperature_at_least = 39.0").matches(&f));
        assert!(!rule("temperature_at_least = 39.5").matches(&f));
        assert!(!rule("pregnant = true").matches(&f));
        // No condition at all never matches.
        assert!(!rule("").matches(&f));
    }

    #[test]
    fn one_duration_must_satisfy_a_range() {
        let present = |_: &str| false;
        let r = rule("duration_at_least = \"20 minutes\"\nduration_at_most = \"12 hours\"");
        assert!(r.matches(&facts(&present, &[1.0], &[])));
        assert!(!r.matches(&facts(&present, &[0.1, 48.0], &[])));
        assert!(!r.matches(&facts(&present, &[], &[])));
    }
}
