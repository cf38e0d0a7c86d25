//! Everything the agent knows, bundled into the binary and validated at load:
//! red-flag rules, lexicons and message catalogues for every language.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use crate::Language;
use crate::lexicon::Lexicon;
use crate::messages::{MessageCatalog, REQUIRED_KEYS};
use crate::protocols::ProtocolSet;
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

impl Knowledge {
    /// The knowledge compiled into this binary (parsed once).
    pub fn bundled() -> Result<&'static Knowledge, KnowledgeError> {
        static BUNDLED: OnceLock<Result<Knowledge, KnowledgeError>> = OnceLock::new();
        BUNDLED
            .get_or_init(|| Knowledge::from_sources(RULES, &LEXICONS, &MESSAGES, &QUESTIONS))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Parses and validates (file name, contents) pairs.
    pub fn from_sources(
        rules: (&str, &str),
        lexicons: &[(&str, &str)],
        messages: &[(&str, &str)],
        questions: &[(&str, &str)],
    ) -> Result<Knowledge, KnowledgeError> {
        let rules: RuleSet = parse(rules.0, rules.1)?;
        let protocols: ProtocolSet = parse(PROTOCOLS.0, PROTOCOLS.1)?;
        let mut lexicon_map = BTreeMap::new();
        for (file, text) in lexicons {
            let lexicon: Lexicon = parse(file, text)?;
            lexicon_map.insert(lexicon.language, lexicon);
        }
        let mut message_map = BTreeMap::new();
        for (file, text) in messages {
            let catalog: MessageCatalog = parse(file, text)?;
            message_map.insert(catalog.language, catalog);
        }
        let mut question_map = BTreeMap::new();
        for (file, text) in questions {
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
                    let known = self.lexicons.get(&lang).is_some_and(|l| {
                        l.concepts
                            .iter()
                            .any(|c| c.id == concept && !c.terms.is_empty())
                    });
                    if !known {
                        out.push(format!(
                            "rule `{}` uses concept `{concept}`, which has no {lang} terms",
                            rule.id
                        ));
                    }
                }
            }
        }
        for protocol in &self.protocols.protocols {
            if protocol.source.trim().is_empty() {
                out.push(format!("protocol `{}` cites no source", protocol.id));
            }
            for concept in &protocol.concepts {
                for lang in Language::ALL {
                    let known = self.lexicons.get(&lang).is_some_and(|l| {
                        l.concepts
                            .iter()
                            .any(|c| &c.id == concept && !c.terms.is_empty())
                    });
                    if !known {
                        out.push(format!(
                            "protocol `{}` uses concept `{concept}`, which has no {lang} terms",
                            protocol.id
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
                }
            }
        }
        out
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
        let rules = (
            "r.toml",
            "version = \"t\"\n[[rule]]\nid = \"cardiac.x\"\ncategory = \"cardiac\"\nfloor = \"emergency_ambulance\"\nsummary = \"s\"\nsource = \"\"\nall = [\"nonexistent\"]\n",
        );
        let err = Knowledge::from_sources(rules, &LEXICONS, &MESSAGES, &QUESTIONS).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("cites no source"), "{text}");
        assert!(
            text.contains("concept `nonexistent`, which has no en terms"),
            "{text}"
        );
        assert!(text.contains("no example that fires it"), "{text}");
        let bad =
            Knowledge::from_sources(("r.toml", "version = 1"), &LEXICONS, &MESSAGES, &QUESTIONS)
                .unwrap_err();
        assert!(matches!(bad, KnowledgeError::Parse { .. }));
    }
}
