//! Everything the agent knows, bundled into the binary and validated at load:
//! red-flag rules, lexicons and message catalogues for every language.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use crate::Language;
use crate::lexicon::Lexicon;
use crate::messages::{MessageCatalog, REQUIRED_KEYS};
use crate::protocols::{Protocol, ProtocolRule, ProtocolSet};
use crate::questions::QuestionCatalog;
use crate::red_flags::RuleSet;

/// Rules, lexicons and messages, checked for consistency.
#[derive(Debug, Clone, PartialEq)]
pub struct Knowledge {
    /// The red-flag rules.
    pub rules: RuleSet,
    /// Protocols per chief complaint.
    pub protocols: ProtocolSet,
    /// One lexicon per language.
    pub lexicons: BTreeMap<Language, Lexicon>,
    /// One message catalogue per language.
    pub messages: BTreeMap<Language, MessageCatalog>,
    /// One question catalogue per language.
    pub questions: BTreeMap<Language, QuestionCatalog>,
}

/// Why the knowledge could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KnowledgeError {
    /// A file is not valid TOML of the expected shape.
    #[error("{file}: {error}")]
    Parse {
        /// The file.
        file: String,
        /// What the parser said.
        error: String,
    },
    /// Files parse but disagree with each other.
    #[error("invalid triage knowledge:\n- {}", .0.join("\n- "))]
    Invalid(Vec<String>),
}

/// The system prompt given to a model backend.
pub const TRIAGE_SYSTEM_PROMPT: &str = include_str!("../data/prompts/triage_system.txt");

const PROTOCOLS: (&str, &str) = ("protocols.toml", include_str!("../data/protocols.toml"));
const RULES: (&str, &str) = ("red_flags.toml", include_str!("../data/red_flags.toml"));
const LEXICONS: [(&str, &str); 6] = [
    ("lexicon/en.toml", include_str!("../data/lexicon/en.toml")),
    ("lexicon/es.toml", include_str!("../data/lexicon/es.toml")),
    ("lexicon/fr.toml", include_str!("../data/lexicon/fr.toml")),
    ("lexicon/pt.toml", include_str!("../data/lexicon/pt.toml")),
    ("lexicon/hi.toml", include_str!("../data/lexicon/hi.toml")),
    ("lexicon/sw.toml", include_str!("../data/lexicon/sw.toml")),
];
const QUESTIONS: [(&str, &str); 6] = [
    (
        "questions/en.toml",
        include_str!("../data/questions/en.toml"),
    ),
    (
        "questions/es.toml",
        include_str!("../data/questions/es.toml"),
    ),
    (
        "questions/fr.toml",
        include_str!("../data/questions/fr.toml"),
    ),
    (
        "questions/pt.toml",
        include_str!("../data/questions/pt.toml"),
    ),
    (
        "questions/hi.toml",
        include_str!("../data/questions/hi.toml"),
    ),
    (
        "questions/sw.toml",
        include_str!("../data/questions/sw.toml"),
    ),
];
const MESSAGES: [(&str, &str); 6] = [
    ("messages/en.toml", include_str!("../data/messages/en.toml")),
    ("messages/es.toml", include_str!("../data/messages/es.toml")),
    ("messages/fr.toml", include_str!("../data/messages/fr.toml")),
    ("messages/pt.toml", include_str!("../data/messages/pt.toml")),
    ("messages/hi.toml", include_str!("../data/messages/hi.toml")),
    ("messages/sw.toml", include_str!("../data/messages/sw.toml")),
];

fn parse<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, KnowledgeError> {
    toml::from_str(text).map_err(|e| KnowledgeError::Parse {
        file: file.to_owned(),
        error: e.to_string(),
    })
}

/// Concept ids the interview keeps for its own questions.
pub const RESERVED_CONCEPTS: &[&str] = &["severity", "duration"];

/// The files knowledge is loaded from, as (file name, contents) pairs.
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    /// `red_flags.toml`.
    pub rules: (&'a str, &'a str),
    /// `protocols.toml`.
    pub protocols: (&'a str, &'a str),
    /// `lexicon/<lang>.toml`.
    pub lexicons: &'a [(&'a str, &'a str)],
    /// `messages/<lang>.toml`.
    pub messages: &'a [(&'a str, &'a str)],
    /// `questions/<lang>.toml`.
    pub questions: &'a [(&'a str, &'a str)],
}

impl Sources<'static> {
    /// The files compiled into this binary.
    pub fn bundled() -> Self {
        Sources {
            rules: RULES,
            protocols: PROTOCOLS,
            lexicons: &LEXICONS,
            messages: &MESSAGES,
            questions: &QUESTIONS,
        }
    }
}

impl Knowledge {
    /// The knowledge compiled into this binary (parsed once).
    pub fn bundled() -> Result<&'static Knowledge, KnowledgeError> {
        static BUNDLED: OnceLock<Result<Knowledge, KnowledgeError>> = OnceLock::new();
        BUNDLED
            .get_or_init(|| Knowledge::from_sources(Sources::bundled()))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Parses and validates the files.
    pub fn from_sources(sources: Sources<'_>) -> Result<Knowledge, KnowledgeError> {
        let rules: RuleSet = parse(sources.rules.0, sources.rules.1)?;
        let protocols: ProtocolSet = parse(sources.protocols.0, sources.protocols.1)?;
        let mut lexicon_map = BTreeMap::new();
        for (file, text) in sources.lexicons {
            let lexicon: Lexicon = parse(file, text)?;
            lexicon_map.insert(lexicon.language, lexicon);
        }
        let mut message_map = BTreeMap::new();
        for (file, text) in sources.messages {
            let catalog: MessageCatalog = parse(file, text)?;
            message_map.insert(catalog.language, catalog);
        }
        let mut question_map = BTreeMap::new();
        for (file, text) in sources.questions {
            let catalog: QuestionCatalog = parse(file, text)?;
            question_map.insert(catalog.language, catalog);
        }
        let knowledge = Knowledge {
            rules,
            protocols,
            lexicons: lexicon_map,
            messages: message_map,
            questions: question_map,
        };
        let problems = knowledge.problems();
        if problems.is_empty() {
            Ok(knowledge)
        } else {
            Err(KnowledgeError::Invalid(problems))
        }
    }

    /// Whether `concept` has terms in `lang`.
    fn known_in(&self, lang: Language, concept: &str) -> bool {
        self.lexicons.get(&lang).is_some_and(|l| {
            l.concepts
                .iter()
                .any(|c| c.id == concept && !c.terms.is_empty())
        })
    }

    /// Whether `concept` has a question in `lang` (no fallback).
    fn asked_in(&self, lang: Language, concept: &str) -> bool {
        self.questions.get(&lang).is_some_and(|q| {
            q.questions
                .get(concept)
                .is_some_and(|t| !t.trim().is_empty())
        })
    }

    /// Every inconsistency, in plain words.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut ids = BTreeSet::new();
        for rule in &self.rules.rules {
            if !ids.insert(rule.id.as_str()) {
                out.push(format!("rule id `{}` is used twice", rule.id));
            }
            if !rule.id.starts_with(&format!("{}.", rule.category)) {
                out.push(format!(
                    "rule `{}` must be named `{}.<name>`",
                    rule.id, rule.category
                ));
            }
            if rule.all.is_empty() && rule.any.is_empty() {
                out.push(format!(
                    "rule `{}` has no trigger (`all` and `any` are empty)",
                    rule.id
                ));
            }
            if rule.source.trim().is_empty() {
                out.push(format!("rule `{}` cites no source", rule.id));
            }
            if !rule.examples.iter().any(|e| e.fires) {
                out.push(format!("rule `{}` has no example that fires it", rule.id));
            }
            for concept in rule.concepts() {
                for lang in Language::ALL {
                    if !self.known_in(lang, concept) {
                        out.push(format!(
                            "rule `{}` uses concept `{concept}`, which has no {lang} terms",
                            rule.id
                        ));
                    }
                }
            }
        }
        self.protocol_problems(&mut ids, &mut out);
        for lang in Language::ALL {
            if let Some(lexicon) = self.lexicons.get(&lang) {
                for concept in &lexicon.concepts {
                    if RESERVED_CONCEPTS.contains(&concept.id.as_str()) {
                        out.push(format!(
                            "concept id `{}` ({lang}) is reserved for the interview",
                            concept.id
                        ));
                    }
                }
            }
        }
        // A question written in English must exist in every language.
        let english: Vec<&String> = self
            .questions
            .get(&Language::En)
            .map(|q| q.questions.keys().collect())
            .unwrap_or_default();
        for lang in Language::ALL {
            for concept in &english {
                let has = self
                    .questions
                    .get(&lang)
                    .is_some_and(|q| q.questions.contains_key(*concept));
                if !has {
                    out.push(format!("question for `{concept}` is missing in {lang}"));
                }
            }
            match self.lexicons.get(&lang) {
                None => out.push(format!("no lexicon for {lang}")),
                Some(l) if l.negations.is_empty() => {
                    out.push(format!("the {lang} lexicon has no negations"))
                }
                Some(_) => {}
            }
            match self.messages.get(&lang) {
                None => out.push(format!("no message catalogue for {lang}")),
                Some(catalog) => {
                    for key in REQUIRED_KEYS {
                        if catalog
                            .messages
                            .get(*key)
                            .is_none_or(|m| m.trim().is_empty())
                        {
                            out.push(format!("message `{key}` is missing in {lang}"));
                        }
                    }
                    out.extend(catalog.format_problems());
                }
            }
        }
        out
    }

    /// Protocol problems; `ids` holds the red-flag rule ids already seen, so
    /// that a protocol rule cannot reuse one.
    fn protocol_problems<'a>(&'a self, ids: &mut BTreeSet<&'a str>, out: &mut Vec<String>) {
        let red_flag_concepts: BTreeSet<&str> =
            self.rules.rules.iter().flat_map(|r| r.concepts()).collect();
        for (concept, with) in &self.protocols.ask_only_with {
            for c in std::iter::once(concept).chain(with) {
                if !Language::ALL.iter().all(|&lang| self.known_in(lang, c)) {
                    out.push(format!(
                        "ask_only_with names `{c}`, which is not a concept in every language"
                    ));
                }
            }
        }
        let mut protocol_ids = BTreeSet::new();
        for protocol in &self.protocols.protocols {
            let p = &protocol.id;
            if !protocol_ids.insert(p.as_str()) {
                out.push(format!("protocol id `{p}` is used twice"));
            }
            if protocol.source.trim().is_empty() {
                out.push(format!("protocol `{p}` cites no source"));
            }
            if protocol.concepts.is_empty() {
                out.push(format!("protocol `{p}` has no concept selecting it"));
            }
            for concept in protocol.concepts.iter().chain(&protocol.requires) {
                for lang in Language::ALL {
                    if !self.known_in(lang, concept) {
                        out.push(format!(
                            "protocol `{p}` uses concept `{concept}`, which has no {lang} terms"
                        ));
                    }
                }
            }
            for concept in &protocol.screen {
                if !red_flag_concepts.contains(concept.as_str()) {
                    out.push(format!(
                        "protocol `{p}` screens for `{concept}`, which no red-flag rule uses"
                    ));
                }
                for lang in Language::ALL {
                    if !self.asked_in(lang, concept) {
                        out.push(format!(
                            "protocol `{p}` screens for `{concept}`, which has no {lang} question"
                        ));
                    }
                }
            }
            for rule in &protocol.rules {
                self.protocol_rule_problems(protocol, rule, ids, out);
            }
        }
    }

    fn protocol_rule_problems<'a>(
        &'a self,
        protocol: &Protocol,
        rule: &'a ProtocolRule,
        ids: &mut BTreeSet<&'a str>,
        out: &mut Vec<String>,
    ) {
        let r = &rule.id;
        if !ids.insert(r.as_str()) {
            out.push(format!("rule id `{r}` is used twice"));
        }
        if !r.starts_with(&protocol.rule_prefix()) || r.len() == protocol.rule_prefix().len() {
            out.push(format!(
                "protocol rule `{r}` must be named `{}.<name>`",
                protocol.id
            ));
        }
        if rule.disposition <= protocol.default {
            out.push(format!(
                "protocol rule `{r}` gives {}, not above the protocol default {}",
                rule.disposition, protocol.default
            ));
        }
        if !rule.has_conditions() {
            out.push(format!("protocol rule `{r}` has no condition"));
        }
        if rule.source.trim().is_empty() {
            out.push(format!("protocol rule `{r}` cites no source"));
        }
        if !rule.examples.iter().any(|e| e.matches) {
            out.push(format!(
                "protocol rule `{r}` has no example that matches it"
            ));
        }
        if rule.severity_at_least.is_some_and(|n| n > 10) {
            out.push(format!("protocol rule `{r}` has a severity above 10"));
        }
        if let (Some(lo), Some(hi)) = (rule.duration_at_least, rule.duration_at_most)
            && lo > hi
        {
            out.push(format!("protocol rule `{r}` has an empty duration range"));
        }
        if let (Some(lo), Some(hi)) = (rule.age_at_least, rule.age_under)
            && lo >= hi
        {
            out.push(format!("protocol rule `{r}` has an empty age range"));
        }
        if rule
            .temperature_at_least
            .is_some_and(|t| !(34.0..=43.0).contains(&t))
        {
            out.push(format!(
                "protocol rule `{r}` has a temperature outside 34–43 °C"
            ));
        }
        for concept in rule.concepts() {
            for lang in Language::ALL {
                if !self.known_in(lang, concept) {
                    out.push(format!(
                        "protocol rule `{r}` uses concept `{concept}`, which has no {lang} terms"
                    ));
                }
                // The interview may ask about any concept a protocol rule
                // names, so its question must exist in every language.
                if !self.asked_in(lang, concept) {
                    out.push(format!(
                        "protocol rule `{r}` uses concept `{concept}`, which has no {lang} question"
                    ));
                }
            }
        }
    }

    /// A message in `lang`, falling back to English (validation guarantees
    /// every required key exists in every language).
    pub fn message(&self, lang: Language, key: &str) -> &str {
        self.message_opt(lang, key).unwrap_or("")
    }

    fn message_opt(&self, lang: Language, key: &str) -> Option<&str> {
        self.messages
            .get(&lang)
            .and_then(|c| c.messages.get(key))
            .or_else(|| {
                self.messages
                    .get(&Language::En)
                    .and_then(|c| c.messages.get(key))
            })
            .map(String::as_str)
    }

    /// The yes/no question establishing `concept`, in `lang` (English as a
    /// fallback); `None` if nobody wrote one.
    pub fn question(&self, lang: Language, concept: &str) -> Option<&str> {
        self.questions
            .get(&lang)
            .and_then(|q| q.questions.get(concept))
            .or_else(|| {
                self.questions
                    .get(&Language::En)
                    .and_then(|q| q.questions.get(concept))
            })
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_rules(rules: &str) -> Result<Knowledge, KnowledgeError> {
        Knowledge::from_sources(Sources {
            rules: ("r.toml", rules),
            ..Sources::bundled()
        })
    }

    fn with_protocols(protocols: &str) -> Result<Knowledge, KnowledgeError> {
        Knowledge::from_sources(Sources {
            protocols: ("p.toml", protocols),
            ..Sources::bundled()
        })
    }

    #[test]
    fn the_bundled_knowledge_is_valid() {
        let k = Knowledge::bundled().unwrap_or_else(|e| panic!("{e}"));
        assert!(!k.rules.rules.is_empty());
        assert_eq!(k.lexicons.len(), 6);
        for lang in Language::ALL {
            assert!(!k.message(lang, "safety_line").is_empty());
        }
    }

    #[test]
    fn inconsistencies_are_named() {
        let rules = "version = \"t\"\n[[rule]]\nid = \"cardiac.x\"\ncategory = \"cardiac\"\nfloor = \"emergency_ambulance\"\nsummary = \"s\"\nsource = \"\"\nall = [\"nonexistent\"]\n";
        let text = with_rules(rules).unwrap_err().to_string();
        assert!(text.contains("cites no source"), "{text}");
        assert!(
            text.contains("concept `nonexistent`, which has no en terms"),
            "{text}"
        );
        assert!(text.contains("no example that fires it"), "{text}");
        let bad = with_rules("version = 1").unwrap_err();
        assert!(matches!(bad, KnowledgeError::Parse { .. }));
    }

    /// The protocol file's schema: what loading rejects, and how it says so.
    #[test]
    fn protocol_problems_are_named() {
        let protocols = r#"
version = "t"

[[protocol]]
id = "cough"
concepts = ["cough"]
default = "routine"
summary = "s"
source = "NHS"
screen = ["made_up_flag"]

[[protocol.rule]]
id = "cough.long"
disposition = "self_care"
summary = "s"
source = ""
all = ["not_a_concept"]
severity_at_least = 11
duration_at_least = "3 weeks"
duration_at_most = "2 days"
age_at_least = "5 years"
age_under = "1 year"
examples = [{ lang = "en", text = "cough", matches = false }]

[[protocol.rule]]
id = "cough.long"
disposition = "urgent_24h"
summary = "s"
source = "NHS"
examples = [{ lang = "en", text = "cough", matches = true }]

[[protocol.rule]]
id = "sore_throat.misplaced"
disposition = "urgent_24h"
summary = "s"
source = "NHS"
temperature_at_least = 45.0
examples = [{ lang = "en", text = "cough 45C", matches = true }]

[[protocol]]
id = "cough"
concepts = []
default = "routine"
summary = "s"
source = ""
"#;
        let text = with_protocols(protocols).unwrap_err().to_string();
        for expected in [
            "protocol id `cough` is used twice",
            "rule id `cough.long` is used twice",
            "protocol rule `cough.long` gives self_care, not above the protocol default routine",
            "protocol rule `cough.long` cites no source",
            "protocol rule `cough.long` has no example that matches it",
            "protocol rule `cough.long` has a severity above 10",
            "protocol rule `cough.long` has an empty duration range",
            "protocol rule `cough.long` has an empty age range",
            "protocol rule `cough.long` uses concept `not_a_concept`, which has no sw terms",
            "protocol rule `cough.long` uses concept `not_a_concept`, which has no hi question",
            "protocol rule `cough.long` has no condition",
            "protocol rule `sore_throat.misplaced` must be named `cough.<name>`",
            "protocol rule `sore_throat.misplaced` has a temperature outside 34–43 °C",
            "protocol `cough` screens for `made_up_flag`, which no red-flag rule uses",
            "protocol `cough` has no concept selecting it",
            "protocol `cough` cites no source",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
    }

    #[test]
    fn unknown_dispositions_spans_and_fields_in_protocols_are_parse_errors() {
        for bad in [
            "version = \"t\"\n[[protocol]]\nid = \"x\"\nconcepts = [\"cough\"]\ndefault = \"soon\"\nsummary = \"s\"\nsource = \"s\"\n",
            "version = \"t\"\n[[protocol]]\nid = \"x\"\nconcepts = [\"cough\"]\ndefault = \"routine\"\nsummary = \"s\"\nsource = \"s\"\n[[protocol.rule]]\nid = \"x.y\"\ndisposition = \"urgent_24h\"\nsummary = \"s\"\nsource = \"s\"\nduration_at_least = \"3 fortnights\"\n",
            "version = \"t\"\n[[protocol]]\nid = \"x\"\nconcepts = [\"cough\"]\ndefault = \"routine\"\nsummary = \"s\"\nsource = \"s\"\nseverity = 3\n",
        ] {
            let err = with_protocols(bad).unwrap_err();
            assert!(
                matches!(&err, KnowledgeError::Parse { file, .. } if file == "p.toml"),
                "{err}"
            );
        }
    }

    #[test]
    fn every_protocol_question_is_written_in_every_language() {
        let k = Knowledge::bundled().unwrap_or_else(|e| panic!("{e}"));
        let mut missing = Vec::new();
        for (protocol, rule) in k.protocols.rules() {
            let screened = protocol.screen.iter().map(String::as_str);
            for concept in rule.concepts().chain(screened) {
                for lang in Language::ALL {
                    if !k.asked_in(lang, concept) {
                        missing.push(format!("{} / {concept} [{lang}]", rule.id));
                    }
                }
            }
        }
        for lang in Language::ALL {
            for key in ["ask_severity", "ask_duration"] {
                if k.messages[&lang]
                    .messages
                    .get(key)
                    .is_none_or(|m| m.trim().is_empty())
                {
                    missing.push(format!("{key} [{lang}]"));
                }
            }
        }
        assert!(missing.is_empty(), "{}", missing.join("\n"));
    }

    #[test]
    fn the_protocols_cover_the_common_chief_complaints() {
        let k = Knowledge::bundled().unwrap_or_else(|e| panic!("{e}"));
        let protocols = &k.protocols.protocols;
        assert!(protocols.len() >= 40, "{} protocols", protocols.len());
        let ids: BTreeSet<&str> = protocols.iter().map(|p| p.id.as_str()).collect();
        for id in [
            "chest_pain",
            "breathlessness",
            "headache",
            "abdominal_pain",
            "fever",
            "fever_child",
            "fever_infant",
            "cough",
            "sore_throat",
            "rash",
            "back_pain",
            "uti",
            "vomiting",
            "diarrhoea",
            "dizziness",
            "fainting",
            "palpitations",
            "nosebleed",
            "vaginal_bleeding",
            "rectal_bleeding",
            "pregnancy",
            "anxiety_low_mood",
            "head_injury",
            "suspected_fracture",
            "burn",
            "allergic_reaction",
            "conjunctivitis",
            "earache",
            "toothache",
            "limb_pain",
            "limb_swelling",
            "confusion",
            "seizure",
            "numbness_weakness",
            "medication_question",
        ] {
            assert!(ids.contains(id), "no `{id}` protocol");
        }
        let rules = k.protocols.rules().count();
        assert!(rules >= 60, "{rules} protocol rules");
    }
}
