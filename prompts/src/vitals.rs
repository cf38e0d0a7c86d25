//! Vital-sign thresholds as data (`data/vitals.toml`): single-sign rules,
//! the NEWS2 parameter bands, concepts implied by a measurement ("fever" from
//! 38 °C) and the questions asked of a patient who has a home device.
//!
//! The agent evaluates them; every number here carries its source so a
//! clinician can audit a disposition back to the guidance it came from.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::{Disposition, Language};

/// What a measurement measures, with its canonical unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VitalKind {
    /// Peripheral oxygen saturation, %.
    Spo2,
    /// Pulse, beats per minute.
    HeartRate,
    /// Breaths per minute.
    RespiratoryRate,
    /// Systolic mmHg (diastolic beside it when given).
    BloodPressure,
    /// Body temperature, °C.
    Temperature,
    /// Capillary blood glucose, mmol/L.
    Glucose,
    /// Capillary blood ketones (β-hydroxybutyrate), mmol/L.
    Ketones,
    /// Glasgow Coma Scale, 3–15.
    Consciousness,
    /// Body weight, kg.
    WeightKg,
}

impl VitalKind {
    /// Every kind, in a stable order.
    pub const ALL: [VitalKind; 9] = [
        VitalKind::Spo2,
        VitalKind::HeartRate,
        VitalKind::RespiratoryRate,
        VitalKind::BloodPressure,
        VitalKind::Temperature,
        VitalKind::Glucose,
        VitalKind::Ketones,
        VitalKind::Consciousness,
        VitalKind::WeightKg,
    ];

    /// The stable wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            VitalKind::Spo2 => "spo2",
            VitalKind::HeartRate => "heart_rate",
            VitalKind::RespiratoryRate => "respiratory_rate",
            VitalKind::BloodPressure => "blood_pressure",
            VitalKind::Temperature => "temperature",
            VitalKind::Glucose => "glucose",
            VitalKind::Ketones => "ketones",
            VitalKind::Consciousness => "consciousness",
            VitalKind::WeightKg => "weight_kg",
        }
    }
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VitalRules {
    /// Recorded with every finding it produced.
    pub version: String,
    /// Concepts a measurement establishes on its own.
    #[serde(default, rename = "derived")]
    pub derived: Vec<DerivedConcept>,
    /// Single-sign and combined thresholds.
    #[serde(rename = "rule")]
    pub rules: Vec<VitalRule>,
    /// The adult early warning score.
    pub news2: News2Table,
    /// Kind → language → the question asked when the patient has the device.
    pub questions: BTreeMap<VitalKind, BTreeMap<Language, String>>,
}

/// Bounds on one kind of measurement; every bound given must hold.
///
/// For blood pressure the bounds apply to the systolic value and
/// `diastolic_at_least` to the diastolic one; "180/120 or higher" is written
/// as two conditions, since either number alone qualifies.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The kind measured.
    pub kind: VitalKind,
    /// Value ≥ this.
    #[serde(default)]
    pub at_least: Option<f32>,
    /// Value ≤ this.
    #[serde(default)]
    pub at_most: Option<f32>,
    /// Value > this.
    #[serde(default)]
    pub above: Option<f32>,
    /// Value < this.
    #[serde(default)]
    pub below: Option<f32>,
    /// Diastolic ≥ this (blood pressure only).
    #[serde(default)]
    pub diastolic_at_least: Option<f32>,
    /// Added to every threshold of this condition per year of age
    /// (APLS: hypotension is systolic < 70 + 2 × age).
    #[serde(default)]
    pub per_year_of_age: Option<f32>,
    /// Only at this age or older (years).
    #[serde(default)]
    pub age_at_least: Option<f32>,
    /// Only younger than this (years).
    #[serde(default)]
    pub age_below: Option<f32>,
}

impl Condition {
    fn has_bound(&self) -> bool {
        self.at_least.is_some()
            || self.at_most.is_some()
            || self.above.is_some()
            || self.below.is_some()
            || self.diastolic_at_least.is_some()
    }

    /// Whether `value` (and `second`, the diastolic) meets every bound, for a
    /// patient of `age` years (`None`: unknown).
    pub fn holds(&self, value: f32, second: Option<f32>, age: Option<f32>) -> bool {
        let age_ok = match age {
            Some(a) => {
                self.age_at_least.is_none_or(|min| a >= min)
                    && self.age_below.is_none_or(|max| a < max)
            }
            // Unknown age: child-only bands never apply; adult ones do.
            None => self.age_below.is_none() && self.per_year_of_age.is_none(),
        };
        let shift = self.per_year_of_age.map_or(0.0, |k| k * age.unwrap_or(0.0));
        age_ok
            && self.at_least.is_none_or(|t| value >= t + shift)
            && self.at_most.is_none_or(|t| value <= t + shift)
            && self.above.is_none_or(|t| value > t + shift)
            && self.below.is_none_or(|t| value < t + shift)
            && self
                .diastolic_at_least
                .is_none_or(|t| second.is_some_and(|d| d >= t))
    }
}

/// A threshold rule.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VitalRule {
    /// Stable id, `area.name`.
    pub id: String,
    /// Within a group only the most urgent rule that fired is reported
    /// (`spo2`: ≤ 91 with breathlessness hides ≤ 92 and 93–94).
    #[serde(default)]
    pub group: Option<String>,
    /// The disposition floor it imposes.
    pub disposition: Disposition,
    /// For clinicians (English).
    pub summary: String,
    /// The guidance it is written from.
    pub source: String,
    /// Fires when any of these conditions holds on some measurement.
    pub when: Vec<Condition>,
    /// And every one of these concepts is present (`pregnant`).
    #[serde(default)]
    pub all: Vec<String>,
    /// And, when not empty, at least one of these concepts is present.
    #[serde(default)]
    pub any: Vec<String>,
    /// Only at this age or older (years); unknown age counts as adult.
    #[serde(default)]
    pub age_at_least: Option<f32>,
    /// Only younger than this (years); never applied when age is unknown.
    #[serde(default)]
    pub age_below: Option<f32>,
}

/// A concept established by a measurement alone.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DerivedConcept {
    /// Concept id, as in the lexicons.
    pub concept: String,
    /// When it holds.
    pub when: Condition,
    /// Why.
    pub source: String,
}

/// NEWS2 (Royal College of Physicians 2017): bands and clinical responses.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct News2Table {
    /// Citation.
    pub source: String,
    /// NEWS2 is validated for people aged 16 and over only.
    pub from_age: f32,
    /// Concepts that score the consciousness parameter (new confusion, V/P/U).
    pub consciousness_concepts: Vec<String>,
    /// Its score when present.
    pub consciousness_score: u8,
    /// Parameter bands; a value scores the highest band it falls in.
    #[serde(rename = "band")]
    pub bands: Vec<News2Band>,
    /// What a total or a single parameter score triggers.
    #[serde(rename = "response")]
    pub responses: Vec<News2Response>,
}

/// One NEWS2 band. (No `deny_unknown_fields` here: serde does not support it
/// beside `flatten`; the flattened [`Condition`] rejects unknown keys.)
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct News2Band {
    /// Points scored.
    pub score: u8,
    /// Where the value must fall.
    #[serde(flatten)]
    pub when: Condition,
}

/// A NEWS2 trigger.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct News2Response {
    /// Stable id.
    pub id: String,
    /// The disposition floor.
    pub disposition: Disposition,
    /// For clinicians.
    pub summary: String,
    /// Citation.
    pub source: String,
    /// Fires when the (partial) total reaches this.
    #[serde(default)]
    pub total_at_least: Option<u8>,
    /// Fires when any single parameter scores this.
    #[serde(default)]
    pub single_score: Option<u8>,
}

/// Why the thresholds could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VitalRulesError {
    /// Not valid TOML of the expected shape.
    #[error("vitals.toml: {0}")]
    Parse(String),
    /// Parses but breaks an invariant.
    #[error("invalid vitals.toml:\n- {}", .0.join("\n- "))]
    Invalid(Vec<String>),
}

/// Kinds a home device measures, for which a question must exist.
pub const ASKED_KINDS: [VitalKind; 7] = [
    VitalKind::Spo2,
    VitalKind::HeartRate,
    VitalKind::BloodPressure,
    VitalKind::Temperature,
    VitalKind::Glucose,
    VitalKind::Ketones,
    VitalKind::WeightKg,
];

const BUNDLED: &str = include_str!("../data/vitals.toml");

/// Parses and validates a vitals file.
pub fn parse(text: &str) -> Result<VitalRules, VitalRulesError> {
    let rules: VitalRules =
        toml::from_str(text).map_err(|e| VitalRulesError::Parse(e.to_string()))?;
    let problems = rules.problems();
    if problems.is_empty() {
        Ok(rules)
    } else {
        Err(VitalRulesError::Invalid(problems))
    }
}

/// The thresholds compiled into this binary, parsed once.
pub fn bundled() -> Result<&'static VitalRules, VitalRulesError> {
    static RULES: OnceLock<Result<VitalRules, VitalRulesError>> = OnceLock::new();
    RULES
        .get_or_init(|| parse(BUNDLED))
        .as_ref()
        .map_err(Clone::clone)
}

impl VitalRules {
    /// Every broken invariant, empty when the file is sound.
    fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.version.trim().is_empty() {
            out.push("version is empty".to_owned());
        }
        let mut ids = BTreeSet::new();
        let mut check = |id: &str, summary: &str, source: &str, out: &mut Vec<String>| {
            if id.trim().is_empty() {
                out.push(format!("a rule has no id (summary: {summary:?})"));
            } else if !ids.insert(id.to_owned()) {
                out.push(format!("{id}: duplicate id"));
            }
            if summary.trim().is_empty() {
                out.push(format!("{id}: no summary"));
            }
            if source.trim().is_empty() {
                out.push(format!("{id}: no source"));
            }
        };
        for rule in &self.rules {
            check(&rule.id, &rule.summary, &rule.source, &mut out);
            if rule.when.is_empty() {
                out.push(format!("{}: no `when` condition", rule.id));
            }
            for c in &rule.when {
                if !c.has_bound() {
                    out.push(format!(
                        "{}: a condition on {} has no bound",
                        rule.id,
                        c.kind.as_str()
                    ));
                }
                if c.diastolic_at_least.is_some() && c.kind != VitalKind::BloodPressure {
                    out.push(format!(
                        "{}: diastolic bound on {}",
                        rule.id,
                        c.kind.as_str()
                    ));
                }
                if c.per_year_of_age.is_some() && c.age_below.or(rule.age_below).is_none() {
                    out.push(format!(
                        "{}: an age-scaled threshold needs an upper age",
                        rule.id
                    ));
                }
            }
        }
        for r in &self.news2.responses {
            check(&r.id, &r.summary, &r.source, &mut out);
            if r.total_at_least.is_none() == r.single_score.is_none() {
                out.push(format!(
                    "{}: give exactly one of total_at_least, single_score",
                    r.id
                ));
            }
        }
        for band in &self.news2.bands {
            if !band.when.has_bound() {
                out.push(format!(
                    "news2 band on {} has no bound",
                    band.when.kind.as_str()
                ));
            }
        }
        for d in &self.derived {
            if d.source.trim().is_empty() || !d.when.has_bound() {
                out.push(format!(
                    "derived concept {}: needs a bound and a source",
                    d.concept
                ));
            }
        }
        for kind in ASKED_KINDS {
            let texts = self.questions.get(&kind);
            for lang in Language::ALL {
                if texts
                    .and_then(|t| t.get(&lang))
                    .is_none_or(|q| q.trim().is_empty())
                {
                    out.push(format!("question for {} missing in {lang}", kind.as_str()));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_file_loads_and_is_versioned() {
        let rules = bundled().unwrap();
        assert_eq!(rules.version, "2026.12.1");
        assert!(rules.rules.len() > 20);
        assert!(rules.news2.bands.len() >= 20);
    }

    #[test]
    fn every_rule_cites_a_source() {
        let rules = bundled().unwrap();
        for rule in &rules.rules {
            assert!(rule.source.len() > 10, "{}", rule.id);
        }
    }

    #[test]
    fn duplicate_ids_and_missing_sources_are_rejected() {
        let mut text = BUNDLED.to_owned();
        text.push_str(
            "\n[[rule]]\nid = \"spo2.nhs_emergency\"\ndisposition = \"routine\"\nsummary = \"x\"\nsource = \"\"\nwhen = [{ kind = \"spo2\" }]\n",
        );
        let Err(VitalRulesError::Invalid(problems)) = parse(&text) else {
            panic!("accepted a broken file");
        };
        let all = problems.join("\n");
        assert!(all.contains("spo2.nhs_emergency: duplicate id"), "{all}");
        assert!(all.contains("no source"), "{all}");
        assert!(all.contains("has no bound"), "{all}");
    }

    #[test]
    fn a_rule_without_a_disposition_does_not_parse() {
        let text = BUNDLED.replacen("disposition = \"emergency_ambulance\"\n", "", 1);
        assert!(matches!(parse(&text), Err(VitalRulesError::Parse(_))));
    }

    #[test]
    fn blood_pressure_bounds_read_systolic_and_diastolic() {
        let c = Condition {
            kind: VitalKind::BloodPressure,
            at_least: None,
            at_most: None,
            above: None,
            below: None,
            diastolic_at_least: Some(120.0),
            per_year_of_age: None,
            age_at_least: None,
            age_below: None,
        };
        assert!(c.holds(150.0, Some(125.0), None));
        assert!(!c.holds(190.0, Some(100.0), None));
        assert!(!c.holds(190.0, None, None));
    }
}
