//! Yes/no questions that establish one concept each, per language. The
//! interview asks them; a concept with no question is never asked about.
//!
//! A red-flag sign a lay person cannot judge ("is the neck stiff?") often
//! gets "I don't know". For those, `[followups]` holds a concrete check the
//! patient or carer can do and answer ("can you touch your chin to your
//! chest?"), and which concept value a "yes" means: the test is phrased
//! the way it is easiest to carry out, so "yes" sometimes means the sign
//! is absent.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::Language;

/// One language's questions (`data/questions/<lang>.toml`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionCatalog {
    /// Its language.
    pub language: Language,
    /// Concept id → question.
    pub questions: BTreeMap<String, String>,
    /// Concept id → a concrete check to ask after "I don't know".
    #[serde(default)]
    pub followups: BTreeMap<String, Followup>,
}

impl QuestionCatalog {
    /// The concrete check for `concept`, if one is written in this language.
    pub fn followup(&self, concept: &str) -> Option<&Followup> {
        self.followups.get(concept)
    }
}

/// A concrete yes/no check for a concept the patient could not judge.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Followup {
    /// The question, in the catalogue's language.
    pub text: String,
    /// What a "yes" says about the concept.
    pub yes_means: YesMeans,
}

impl Followup {
    /// Whether a "yes" means the sign is present.
    pub fn yes_means_present(&self) -> bool {
        self.yes_means == YesMeans::Present
    }

    /// Whether the concept is present, given a yes (`true`) or no answer.
    pub fn present(&self, yes: bool) -> bool {
        match self.yes_means {
            YesMeans::Present => yes,
            YesMeans::Absent => !yes,
        }
    }
}

/// What a "yes" to a follow-up means for its concept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum YesMeans {
    /// "Can you still see the spots through the glass?": yes, the sign is there.
    Present,
    /// "Can you touch your chin to your chest?": yes, the sign is not there.
    Absent,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Knowledge;

    fn catalogs() -> &'static BTreeMap<Language, QuestionCatalog> {
        &Knowledge::bundled()
            .unwrap_or_else(|e| panic!("{e}"))
            .questions
    }

    #[test]
    fn every_followup_is_written_in_every_language_with_one_meaning() {
        let catalogs = catalogs();
        let mut problems = Vec::new();
        let concepts: std::collections::BTreeSet<&String> =
            catalogs.values().flat_map(|c| c.followups.keys()).collect();
        for concept in concepts {
            let meanings: Vec<YesMeans> = Language::ALL
                .iter()
                .filter_map(|lang| catalogs.get(lang)?.followup(concept))
                .map(|f| f.yes_means)
                .collect();
            if meanings.windows(2).any(|w| w[0] != w[1]) {
                problems.push(format!(
                    "follow-up `{concept}` means different things per language"
                ));
            }
            for lang in Language::ALL {
                let Some(catalog) = catalogs.get(&lang) else {
                    problems.push(format!("no question catalogue for {lang}"));
                    continue;
                };
                match catalog.followup(concept) {
                    None => problems.push(format!("follow-up `{concept}` is missing in {lang}")),
                    Some(f) if f.text.trim().is_empty() => {
                        problems.push(format!("follow-up `{concept}` is empty in {lang}"))
                    }
                    Some(_) => {}
                }
                // A follow-up comes after its question, so that must exist.
                if !catalog.questions.contains_key(concept.as_str()) {
                    problems.push(format!("follow-up `{concept}` has no {lang} question"));
                }
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn followups_are_for_red_flag_signs() {
        let k = Knowledge::bundled().unwrap_or_else(|e| panic!("{e}"));
        let red_flags: std::collections::BTreeSet<&str> =
            k.rules.rules.iter().flat_map(|r| r.concepts()).collect();
        let english = &k.questions[&Language::En];
        let strays: Vec<&String> = english
            .followups
            .keys()
            .filter(|c| !red_flags.contains(c.as_str()))
            .collect();
        assert!(strays.is_empty(), "{strays:?}");
        for concept in [
            "stiff_neck",
            "non_blanching_rash",
            "confusion",
            "too_breathless_to_speak",
            "blue_lips",
            "face_droop",
            "one_sided_weakness",
            "slurred_speech",
            "mottled_skin",
            "black_stools",
            "vomiting_blood",
            "loss_of_consciousness",
        ] {
            assert!(
                english.followup(concept).is_some(),
                "no follow-up for {concept}"
            );
        }
    }

    #[test]
    fn yes_reads_as_the_written_meaning() {
        let english = &catalogs()[&Language::En];
        let glass = english.followup("non_blanching_rash").unwrap();
        assert_eq!(glass.yes_means, YesMeans::Present);
        assert!(glass.yes_means_present());
        assert!(glass.present(true) && !glass.present(false));
        let chin = english.followup("stiff_neck").unwrap();
        assert_eq!(chin.yes_means, YesMeans::Absent);
        assert!(!chin.present(true) && chin.present(false));
        assert!(english.followup("cough").is_none());
    }

    #[test]
    fn unknown_fields_and_meanings_are_rejected() {
        let base = "language = \"en\"\n[questions]\nfever = \"Fever?\"\n[followups]\n";
        let ok = format!(
            "{base}fever = {{ text = \"Thermometer 38 or more?\", yes_means = \"present\" }}\n"
        );
        assert!(toml::from_str::<QuestionCatalog>(&ok).is_ok());
        for bad in [
            format!("{base}fever = {{ text = \"t\", yes_means = \"maybe\" }}\n"),
            format!("{base}fever = {{ text = \"t\", yes_means = \"present\", extra = 1 }}\n"),
            format!("{base}fever = {{ text = \"t\" }}\n"),
        ] {
            assert!(toml::from_str::<QuestionCatalog>(&bad).is_err(), "{bad}");
        }
    }
}
