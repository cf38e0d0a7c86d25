//! Which questions can apply to whom (`data/applicability.toml`): concepts
//! that only one sex, or only some ages, can answer yes to. The interview
//! skips a question that what the patient told us rules out (no testicle
//! question to a woman who wrote "19F", no pregnancy question to a man).
//!
//! Safety bias: an unknown sex or age never rules a question out.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::protocols::Span;

/// A person's sex as patients state it ("19F", "my daughter", "soy hombre").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Female.
    Female,
    /// Male.
    Male,
}

/// Who one concept can apply to.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Restriction {
    /// Concept id (as in the lexicons and question catalogues).
    pub id: String,
    /// The only sex it can apply to.
    #[serde(default)]
    pub sex: Option<Sex>,
    /// The youngest age it can apply to.
    #[serde(default)]
    pub age_at_least: Option<Span>,
    /// It applies only under this age.
    #[serde(default)]
    pub age_under: Option<Span>,
    /// Why, in a sentence a clinician can check.
    pub reason: String,
    /// Where the bounds come from.
    pub source: String,
}

impl Restriction {
    /// Whether someone of this age (years) and sex can be asked; an unknown
    /// one is always asked.
    pub fn allows(&self, age_years: Option<f64>, sex: Option<Sex>) -> bool {
        let sex_fits = match (self.sex, sex) {
            (Some(only), Some(sex)) => only == sex,
            _ => true,
        };
        let age_fits = age_years.is_none_or(|age| {
            self.age_at_least.is_none_or(|lo| age >= lo.years())
                && self.age_under.is_none_or(|hi| age < hi.years())
        });
        sex_fits && age_fits
    }
}

/// Every restriction, validated.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Applicability {
    /// One entry per restricted concept.
    #[serde(rename = "concept")]
    pub restrictions: Vec<Restriction>,
}

/// Why the applicability data could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplicabilityError {
    /// Not valid TOML of the expected shape.
    #[error("applicability.toml: {0}")]
    Parse(String),
    /// Parses, but an entry cannot be right.
    #[error("invalid applicability.toml:\n- {}", .0.join("\n- "))]
    Invalid(Vec<String>),
}

const BUNDLED: &str = include_str!("../data/applicability.toml");

impl Applicability {
    /// The data compiled into this binary (parsed and checked once).
    pub fn bundled() -> Result<&'static Applicability, ApplicabilityError> {
        static PARSED: OnceLock<Result<Applicability, ApplicabilityError>> = OnceLock::new();
        PARSED
            .get_or_init(|| Applicability::parse(BUNDLED))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Parses and validates `text`.
    pub fn parse(text: &str) -> Result<Applicability, ApplicabilityError> {
        let data: Applicability =
            toml::from_str(text).map_err(|e| ApplicabilityError::Parse(e.to_string()))?;
        let problems = data.problems();
        if problems.is_empty() {
            Ok(data)
        } else {
            Err(ApplicabilityError::Invalid(problems))
        }
    }

    /// The restriction on `concept`, if it has one.
    pub fn restriction(&self, concept: &str) -> Option<&Restriction> {
        self.restrictions.iter().find(|r| r.id == concept)
    }

    /// Whether `concept` can be asked of someone of this age and sex:
    /// true for unrestricted concepts and for unknown facts.
    pub fn allows(&self, concept: &str, age_years: Option<f64>, sex: Option<Sex>) -> bool {
        self.restriction(concept)
            .is_none_or(|r| r.allows(age_years, sex))
    }

    fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut ids = BTreeSet::new();
        for r in &self.restrictions {
            let id = &r.id;
            if id.trim().is_empty() {
                out.push("an entry has an empty concept id".to_owned());
            }
            if !ids.insert(id.as_str()) {
                out.push(format!("`{id}` is listed twice"));
            }
            if r.sex.is_none() && r.age_at_least.is_none() && r.age_under.is_none() {
                out.push(format!("`{id}` restricts nothing (no sex, no age)"));
            }
            if let (Some(lo), Some(hi)) = (r.age_at_least, r.age_under)
                && lo >= hi
            {
                out.push(format!("`{id}` has an empty age range"));
            }
            if r.age_under.is_some_and(|hi| hi.years() <= 0.0) {
                out.push(format!("`{id}` applies under age zero: to nobody"));
            }
            if r.reason.trim().is_empty() {
                out.push(format!("`{id}` gives no reason"));
            }
            if r.source.trim().is_empty() {
                out.push(format!("`{id}` cites no source"));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Knowledge, Language};

    fn bundled() -> &'static Applicability {
        Applicability::bundled().unwrap()
    }

    #[test]
    fn the_bundled_data_loads_and_names_real_concepts() {
        let knowledge = Knowledge::bundled().unwrap();
        for r in &bundled().restrictions {
            for lang in Language::ALL {
                let known = knowledge.lexicons[&lang]
                    .concepts
                    .iter()
                    .any(|c| c.id == r.id);
                assert!(known, "`{}` is not a concept in the {lang} lexicon", r.id);
            }
        }
    }

    #[test]
    fn pregnancy_is_asked_only_of_women_who_could_be_pregnant() {
        let a = bundled();
        let f = Some(Sex::Female);
        assert!(a.allows("pregnant", Some(19.0), f));
        assert!(a.allows("pregnant", None, None), "unknown is asked");
        assert!(a.allows("pregnant", Some(60.0), None));
        assert!(!a.allows("pregnant", Some(28.0), Some(Sex::Male)));
        assert!(!a.allows("pregnant", Some(0.25), f));
        assert!(!a.allows("pregnant", Some(9.0), f));
        assert!(!a.allows("pregnant", Some(61.0), f));
    }

    #[test]
    fn anatomy_questions_follow_sex_and_unrestricted_ones_always_apply() {
        let a = bundled();
        assert!(!a.allows("testicular_pain", Some(19.0), Some(Sex::Female)));
        assert!(a.allows("testicular_pain", Some(19.0), Some(Sex::Male)));
        assert!(!a.allows("vaginal_bleeding", None, Some(Sex::Male)));
        assert!(a.allows("vaginal_bleeding", Some(70.0), Some(Sex::Female)));
        assert!(a.allows("chest_pain", Some(5.0), Some(Sex::Male)));
        assert!(a.allows("one_sided_lower_abdominal_pain", None, Some(Sex::Male)));
        assert!(!a.allows("young_infant", Some(3.0), None));
        assert!(a.allows("young_infant", Some(0.5), None));
    }

    #[test]
    fn bad_entries_are_refused_with_every_problem() {
        let text = r#"
            [[concept]]
            id = "pregnant"
            age_at_least = "60 years"
            age_under = "10 years"
            reason = ""
            source = "x"

            [[concept]]
            id = "pregnant"
            reason = "r"
            source = ""
        "#;
        let Err(ApplicabilityError::Invalid(problems)) = Applicability::parse(text) else {
            panic!("accepted bad data");
        };
        assert_eq!(problems.len(), 5, "{problems:#?}");
        assert!(matches!(
            Applicability::parse("[[concept]]\nid = \"x\"\nsex = \"other\""),
            Err(ApplicabilityError::Parse(_))
        ));
    }
}
