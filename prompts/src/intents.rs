//! What a message is *for* when it is not (only) a symptom — a greeting,
//! thanks, a request for a person or an appointment — with the commands
//! patients type and the words that say which language a message is in
//! (`data/intents.toml`). The agent compiles and matches them; this module
//! only loads and checks the data.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::{KnowledgeError, Language};

/// Something a patient wants that is not a symptom report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// "hi", "hola buenas", "नमस्ते", "habari".
    Greeting,
    /// "thanks", "merci", "asante".
    Thanks,
    /// "bye", "tchau", "kwaheri".
    Goodbye,
    /// "I want an appointment", "quiero una cita", "nataka miadi".
    Booking,
    /// A nurse, a doctor, a real person, "call me".
    Person,
    /// "Can I take ibuprofen?", dose questions.
    Medication,
    /// "What is this?", "who are you", "is this a bot".
    AboutService,
    /// "I want to send my results / report / prescription".
    Document,
}

impl Intent {
    /// Every intent, in a stable order.
    pub const ALL: [Intent; 8] = [
        Intent::Greeting,
        Intent::Thanks,
        Intent::Goodbye,
        Intent::Booking,
        Intent::Person,
        Intent::Medication,
        Intent::AboutService,
        Intent::Document,
    ];

    /// Its id in `intents.toml`.
    pub fn id(self) -> &'static str {
        match self {
            Intent::Greeting => "greeting",
            Intent::Thanks => "thanks",
            Intent::Goodbye => "goodbye",
            Intent::Booking => "booking",
            Intent::Person => "person",
            Intent::Medication => "medication",
            Intent::AboutService => "about_service",
            Intent::Document => "document",
        }
    }
}

/// A whole-message command other than choosing a language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandWord {
    /// HELP, AYUDA, AIDE, AJUDA, MSAADA, मदद.
    Help,
    /// CANCEL and its translations.
    Cancel,
    /// RESTART and its translations.
    Restart,
    /// NURSE, DOCTOR and their translations: the patient asks for a person.
    Person,
}

impl CommandWord {
    /// Every command word, in a stable order.
    pub const ALL: [CommandWord; 4] = [
        CommandWord::Help,
        CommandWord::Cancel,
        CommandWord::Restart,
        CommandWord::Person,
    ];
}

/// The placeholder a phrase uses for any word of [`IntentCatalog::medicines`].
pub const MEDICINE_SLOT: &str = "{medicine}";
/// A gap in a phrase: up to 3 words of the same clause (as in the lexicons).
pub const GAP: &str = "..";

/// `data/intents.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntentCatalog {
    /// Medicine names and generic words for medicines, any language.
    pub medicines: Vec<String>,
    /// Phrases speakers of every language use ("hi", "ok bye"): they never
    /// say which language a message is in.
    pub international: Vec<String>,
    /// Phrases per intent and language.
    pub intents: BTreeMap<Intent, IntentPhrases>,
    /// Whole-message command words, all languages together.
    pub commands: BTreeMap<CommandWord, Vec<String>>,
    /// How a language is chosen by command.
    pub language_command: LanguageCommand,
    /// Per-language names, function words and fillers.
    pub languages: BTreeMap<Language, LanguageCues>,
}

/// The phrases of one intent.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntentPhrases {
    /// The phrase counts only where it opens the message (after fillers or
    /// other such phrases): "salama" opens a greeting, but "niko salama" is
    /// "I am fine".
    #[serde(default)]
    pub opens_message: bool,
    /// Language → phrases.
    pub phrases: BTreeMap<Language, Vec<String>>,
}

/// `LANGUAGE ES`, `IDIOMA ES`, "English please".
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageCommand {
    /// Words after which a language code chooses a language.
    pub prefixes: Vec<String>,
    /// Words around a language name that keep it a command.
    pub fillers: Vec<String>,
}

/// What names and reveals one language.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageCues {
    /// Its names, in any language ("español", "spanish", "espagnol").
    pub names: Vec<String>,
    /// Common words of the language; a word in several languages' lists
    /// counts for each of them in proportion.
    pub function_words: Vec<String>,
    /// Forms of address and politeness that do not stop a greeting or
    /// thanks from being the whole message ("bonjour docteur").
    #[serde(default)]
    pub fillers: Vec<String>,
}

/// Fewer function words than this cannot tell a language apart.
const MIN_FUNCTION_WORDS: usize = 20;

const BUNDLED: (&str, &str) = ("intents.toml", include_str!("../data/intents.toml"));

impl IntentCatalog {
    /// The catalogue compiled into this binary (parsed and checked once).
    pub fn bundled() -> Result<&'static IntentCatalog, KnowledgeError> {
        static CATALOG: OnceLock<Result<IntentCatalog, KnowledgeError>> = OnceLock::new();
        CATALOG
            .get_or_init(|| IntentCatalog::from_toml(BUNDLED.0, BUNDLED.1))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Parses and checks one catalogue.
    pub fn from_toml(file: &str, text: &str) -> Result<IntentCatalog, KnowledgeError> {
        let catalog: IntentCatalog = toml::from_str(text).map_err(|e| KnowledgeError::Parse {
            file: file.to_owned(),
            error: e.to_string(),
        })?;
        let problems = catalog.problems();
        if problems.is_empty() {
            Ok(catalog)
        } else {
            Err(KnowledgeError::Invalid(problems))
        }
    }

    /// Every inconsistency, in plain words.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.medicines.is_empty() {
            out.push("no medicines are listed".to_owned());
        }
        for intent in Intent::ALL {
            let Some(phrases) = self.intents.get(&intent) else {
                out.push(format!("intent `{}` has no phrases", intent.id()));
                continue;
            };
            for lang in Language::ALL {
                match phrases.phrases.get(&lang) {
                    Some(list) if !list.is_empty() => {
                        for phrase in list {
                            if let Err(why) = check_phrase(phrase) {
                                out.push(format!(
                                    "intent `{}` ({lang}) phrase {phrase:?}: {why}",
                                    intent.id()
                                ));
                            }
                        }
                    }
                    _ => out.push(format!("intent `{}` has no {lang} phrases", intent.id())),
                }
            }
        }
        self.ambiguity_problems(&mut out);
        for word in CommandWord::ALL {
            match self.commands.get(&word) {
                Some(list) if !list.is_empty() => {
                    for command in list {
                        if let Err(why) = check_command(command) {
                            out.push(format!("command {command:?}: {why}"));
                        }
                    }
                }
                _ => out.push(format!("command `{word:?}` has no words")),
            }
        }
        if self.language_command.prefixes.is_empty() {
            out.push("language_command has no prefixes".to_owned());
        }
        self.language_problems(&mut out);
        out
    }

    /// The same phrase may not say two things in one language.
    fn ambiguity_problems(&self, out: &mut Vec<String>) {
        for lang in Language::ALL {
            let mut seen: BTreeMap<String, Intent> = BTreeMap::new();
            for (intent, phrases) in &self.intents {
                for phrase in phrases.phrases.get(&lang).into_iter().flatten() {
                    let key = phrase.trim().to_lowercase();
                    match seen.get(&key) {
                        Some(other) if other != intent => out.push(format!(
                            "phrase {phrase:?} ({lang}) is both `{}` and `{}`",
                            other.id(),
                            intent.id()
                        )),
                        _ => {
                            seen.insert(key, *intent);
                        }
                    }
                }
            }
        }
    }

    fn language_problems(&self, out: &mut Vec<String>) {
        let greetings: BTreeSet<String> = self
            .intents
            .get(&Intent::Greeting)
            .into_iter()
            .flat_map(|p| p.phrases.values().flatten())
            .map(|p| p.trim().to_lowercase())
            .collect();
        let mut named: BTreeMap<String, Language> = BTreeMap::new();
        for lang in Language::ALL {
            let Some(cues) = self.languages.get(&lang) else {
                out.push(format!("language {lang} has no names or function words"));
                continue;
            };
            if cues.names.is_empty() {
                out.push(format!("language {lang} has no names"));
            }
            for name in &cues.names {
                let key = name.trim().to_lowercase();
                // "hi" is a greeting, "es" a Spanish word: a language is
                // never chosen by a bare code.
                if key.chars().count() < 3 || key.parse::<Language>().is_ok() {
                    out.push(format!(
                        "language name {name:?} ({lang}) is too short to be a name"
                    ));
                }
                if greetings.contains(&key) {
                    out.push(format!(
                        "language name {name:?} ({lang}) is also a greeting"
                    ));
                }
                if let Some(other) = named.insert(key, lang)
                    && other != lang
                {
                    out.push(format!(
                        "language name {name:?} names both {other} and {lang}"
                    ));
                }
            }
            let distinct: BTreeSet<&String> = cues.function_words.iter().collect();
            if distinct.len() < MIN_FUNCTION_WORDS {
                out.push(format!(
                    "language {lang} has {} function words, fewer than {MIN_FUNCTION_WORDS}",
                    distinct.len()
                ));
            }
            if distinct.len() != cues.function_words.len() {
                out.push(format!("language {lang} lists a function word twice"));
            }
            for word in cues.function_words.iter().chain(&cues.fillers) {
                if word.trim().is_empty() || word.contains(char::is_whitespace) {
                    out.push(format!(
                        "language {lang}: {word:?} must be one word (function words and fillers)"
                    ));
                }
            }
        }
    }
}

/// Checks a phrase's syntax: words, `a|b` alternatives, a trailing `*`,
/// `..` gaps between words, the `{medicine}` slot.
fn check_phrase(phrase: &str) -> Result<(), String> {
    let words: Vec<&str> = phrase.split_whitespace().collect();
    if words.is_empty() {
        return Err("is empty".to_owned());
    }
    if words.first() == Some(&GAP) || words.last() == Some(&GAP) {
        return Err("starts or ends with a gap".to_owned());
    }
    if words.windows(2).any(|w| w[0] == GAP && w[1] == GAP) {
        return Err("has two gaps in a row".to_owned());
    }
    for word in words {
        if word == GAP || word == MEDICINE_SLOT {
            continue;
        }
        if word.contains(['{', '}']) {
            return Err(format!("unknown slot in {word:?} (only {MEDICINE_SLOT})"));
        }
        for alternative in word.split('|') {
            let stem = alternative.strip_suffix('*').unwrap_or(alternative);
            if stem.is_empty() || stem.contains('*') {
                return Err(format!("empty alternative or misplaced `*` in {word:?}"));
            }
            if alternative.ends_with('*') && stem.chars().count() < 3 {
                return Err(format!(
                    "`*` needs at least 3 letters before it in {word:?}"
                ));
            }
        }
    }
    Ok(())
}

/// A command is a plain word or words, and never one short enough to be an
/// ordinary reply ("si", "no", "ok").
fn check_command(command: &str) -> Result<(), String> {
    let key = command.trim();
    if key.chars().count() < 3 {
        return Err("is too short: a short word is a reply, not a command".to_owned());
    }
    if key.contains(['|', '*', '{', '}']) || key.contains(GAP) {
        return Err("must be plain words".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(edit: impl Fn(&mut String)) -> Vec<String> {
        let mut text = BUNDLED.1.to_owned();
        edit(&mut text);
        match IntentCatalog::from_toml("t.toml", &text) {
            Ok(_) => Vec::new(),
            Err(KnowledgeError::Invalid(problems)) => problems,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn the_bundled_catalogue_is_valid_and_complete() {
        let catalog = IntentCatalog::bundled().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(catalog.intents.len(), Intent::ALL.len());
        assert_eq!(catalog.languages.len(), Language::ALL.len());
    }

    #[test]
    fn a_two_letter_language_name_is_refused() {
        let problems =
            with(|t| *t = t.replace("names = [\"hindi\",", "names = [\"hi\", \"hindi\","));
        assert!(
            problems
                .iter()
                .any(|p| p.contains("\"hi\" (hi) is too short")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("also a greeting")),
            "{problems:?}"
        );
    }

    #[test]
    fn a_short_command_is_refused() {
        let problems = with(|t| *t = t.replace("help = [\"help\",", "help = [\"si\", \"help\","));
        assert!(
            problems.iter().any(|p| p.contains("\"si\"")),
            "{problems:?}"
        );
    }

    #[test]
    fn one_phrase_cannot_mean_two_intents_in_one_language() {
        let problems =
            with(|t| *t = t.replace("\"gracias\", \"muchas gracias\"", "\"gracias\", \"hola\""));
        assert!(
            problems.iter().any(|p| p.contains("\"hola\" (es) is both")),
            "{problems:?}"
        );
    }

    #[test]
    fn phrase_syntax_is_checked() {
        for bad in ["..", "a .. .. b", "{drug} dose", "x|*", "ab*", ".. hello"] {
            assert!(check_phrase(bad).is_err(), "{bad:?} should be refused");
        }
        for good in ["can|may i take .. {medicine}", "obrigad*", "rendez-vous"] {
            assert_eq!(check_phrase(good), Ok(()), "{good:?}");
        }
    }

    #[test]
    fn every_language_needs_phrases_for_every_intent() {
        let mut catalog = IntentCatalog::bundled().unwrap().clone();
        if let Some(document) = catalog.intents.get_mut(&Intent::Document) {
            document.phrases.remove(&Language::Sw);
        }
        catalog.languages.remove(&Language::Pt);
        let problems = catalog.problems();
        assert!(
            problems.contains(&"intent `document` has no sw phrases".to_owned()),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("language pt has no names")),
            "{problems:?}"
        );
    }
}
