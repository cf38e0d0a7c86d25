//! What a message is *for* besides symptoms — a greeting, thanks, a request
//! for a person, an appointment, a medicine question — and the whole-message
//! commands (HELP, CANCEL, RESTART, NURSE, `LANGUAGE ES`).
//!
//! Phrases come from `prompts/data/intents.toml`. An intent says what a
//! message is for, never what is wrong: the agent checks red flags first, and
//! "hi, I have chest pain" is a greeting *and* a chest pain.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::OnceLock;

use prompts::intents::{CommandWord, GAP, IntentCatalog, MEDICINE_SLOT};
use prompts::{KnowledgeError, Language};
use serde::{Deserialize, Serialize};

use crate::extract::tokenize;

pub use prompts::intents::Intent;

/// One intent found in a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntentMatch {
    /// What the patient wants.
    pub intent: Intent,
    /// The language of the matched phrase, when only one language uses it
    /// ("hola" is Spanish; "hi" and "ok bye" say nothing).
    pub language: Option<Language>,
    /// The matched phrases (with forms of address and politeness) are the
    /// whole message: a bare "hi", "thanks!", "hola buenas", "bonjour
    /// docteur". False for "hi, I have a fever".
    pub covers_message: bool,
}

/// A whole-message command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// HELP, AYUDA, AIDE, AJUDA, MSAADA, मदद.
    Help,
    /// CANCEL and its translations.
    Cancel,
    /// RESTART and its translations.
    Restart,
    /// NURSE, DOCTOR and their translations.
    Person,
    /// `LANGUAGE ES`, `IDIOMA ES`, "español", "in English please".
    Language(Language),
}

/// A message as words and clause breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    Word(String),
    /// Punctuation, emoji, a line break: phrases do not reach across it.
    Break,
}

impl Token {
    pub(crate) fn word(&self) -> Option<&str> {
        match self {
            Token::Word(w) => Some(w),
            Token::Break => None,
        }
    }
}

/// Letters of Devanagari count as word characters whatever their Unicode
/// class (the virama `्` is not alphabetic); the danda `।` ends a clause.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
        || c == '\''
        || (('\u{0900}'..='\u{097F}').contains(&c) && !matches!(c, '।' | '॥'))
}

/// Lower-cased, accent-folded words (the extractor's tokenizer), with emoji
/// and other symbols turned into clause breaks.
pub(crate) fn tokens(text: &str) -> Vec<Token> {
    fn flush(word: &mut String, out: &mut Vec<Token>) {
        let trimmed = word.trim_matches('\'');
        if !trimmed.is_empty() {
            out.push(Token::Word(trimmed.to_owned()));
        }
        word.clear();
    }
    let mut out = Vec::new();
    for raw in tokenize(text) {
        let mut word = String::new();
        for c in raw.chars() {
            if is_word_char(c) {
                word.push(c);
            } else {
                flush(&mut word, &mut out);
                if matches!(out.last(), Some(Token::Word(_))) {
                    out.push(Token::Break);
                }
            }
        }
        flush(&mut word, &mut out);
    }
    out
}

/// The words of a message, breaks dropped.
fn words(text: &str) -> Vec<String> {
    tokens(text)
        .into_iter()
        .filter_map(|t| match t {
            Token::Word(w) => Some(w),
            Token::Break => None,
        })
        .collect()
}

/// Runs of one letter collapsed: "hiii" and "hi", "holaaa" and "hola",
/// "merciii" and "merci" compare equal.
fn squeeze(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

/// Tokens a `..` gap may skip (as in the lexicons).
const MAX_GAP: usize = 3;

#[derive(Debug, Clone)]
struct Alternative {
    words: Vec<String>,
    squeezed: Vec<String>,
    /// The last word matches any ending (`bhej*`).
    prefix: bool,
}

#[derive(Debug, Clone)]
enum Slot {
    Word(Vec<Alternative>),
    Medicine,
    Gap,
}

#[derive(Debug, Clone)]
struct Phrase {
    intent: Intent,
    /// `None` when several languages use the very same phrase.
    language: Option<Language>,
    /// Counts as evidence of `language` (not an international word).
    says_language: bool,
    opens_message: bool,
    slots: Vec<Slot>,
}

/// A phrase found at `start..end` of the message's tokens.
#[derive(Debug, Clone, Copy)]
struct Found {
    phrase: usize,
    start: usize,
    end: usize,
}

/// The intents catalogue compiled for matching.
#[derive(Debug)]
pub struct Intents {
    phrases: Vec<Phrase>,
    /// Phrases that need not open the message, by the squeezed first word
    /// they can start with: a token is only tried against these (as the
    /// lexicon extractor does), which keeps `detect` off the hot path.
    by_first_word: HashMap<String, Vec<usize>>,
    /// Phrases whose first word cannot be indexed (a gap, a medicine, a
    /// one-word prefix such as `bhej*`): tried at every token.
    unindexed: Vec<usize>,
    medicines: HashSet<String>,
    fillers: HashSet<String>,
    commands: Vec<(Vec<String>, Command)>,
    language_names: Vec<(Vec<String>, Language)>,
    language_prefixes: Vec<Vec<String>>,
    command_fillers: Vec<Vec<String>>,
    /// Function word → the languages listing it.
    pub(crate) function_words: HashMap<String, Vec<Language>>,
}

fn compile_phrase(text: &str) -> Vec<Slot> {
    text.split_whitespace()
        .filter_map(|word| match word {
            GAP => Some(Slot::Gap),
            MEDICINE_SLOT => Some(Slot::Medicine),
            _ => {
                let alternatives: Vec<Alternative> = word
                    .split('|')
                    .filter_map(|alt| {
                        let (stem, prefix) = match alt.strip_suffix('*') {
                            Some(stem) => (stem, true),
                            None => (alt, false),
                        };
                        let words = words(stem);
                        (!words.is_empty()).then(|| Alternative {
                            squeezed: words.iter().map(|w| squeeze(w)).collect(),
                            words,
                            prefix,
                        })
                    })
                    .collect();
                (!alternatives.is_empty()).then_some(Slot::Word(alternatives))
            }
        })
        .collect()
}

impl Intents {
    /// Compiles a (validated) catalogue.
    pub fn new(catalog: &IntentCatalog) -> Intents {
        let international: HashSet<Vec<String>> =
            catalog.international.iter().map(|p| words(p)).collect();
        let mut phrases = Vec::new();
        for (&intent, entry) in &catalog.intents {
            // The same phrase listed under two languages says neither.
            let mut languages: BTreeMap<String, BTreeSet<Language>> = BTreeMap::new();
            for (&lang, list) in &entry.phrases {
                for phrase in list {
                    languages
                        .entry(phrase.trim().to_lowercase())
                        .or_default()
                        .insert(lang);
                }
            }
            for (text, langs) in languages {
                let language = match langs.len() {
                    1 => langs.first().copied(),
                    _ => None,
                };
                phrases.push(Phrase {
                    intent,
                    language,
                    says_language: language.is_some() && !international.contains(&words(&text)),
                    opens_message: entry.opens_message,
                    slots: compile_phrase(&text),
                });
            }
        }
        let mut commands = Vec::new();
        for (word, list) in &catalog.commands {
            let command = match word {
                CommandWord::Help => Command::Help,
                CommandWord::Cancel => Command::Cancel,
                CommandWord::Restart => Command::Restart,
                CommandWord::Person => Command::Person,
            };
            commands.extend(list.iter().map(|c| (words(c), command)));
        }
        let mut function_words: HashMap<String, Vec<Language>> = HashMap::new();
        let mut language_names = Vec::new();
        let mut fillers = HashSet::new();
        for (&lang, cues) in &catalog.languages {
            for word in &cues.function_words {
                for w in words(word) {
                    let langs = function_words.entry(w).or_default();
                    if !langs.contains(&lang) {
                        langs.push(lang);
                    }
                }
            }
            language_names.extend(cues.names.iter().map(|n| (words(n), lang)));
            fillers.extend(cues.fillers.iter().flat_map(|f| words(f)));
        }
        // Longest first, so that "do you speak" is stripped before "speak".
        let mut command_fillers: Vec<Vec<String>> = catalog
            .language_command
            .fillers
            .iter()
            .map(|f| words(f))
            .collect();
        command_fillers.sort_by_key(|f| std::cmp::Reverse(f.len()));
        let mut language_prefixes: Vec<Vec<String>> = catalog
            .language_command
            .prefixes
            .iter()
            .map(|p| words(p))
            .collect();
        language_prefixes.sort_by_key(|p| std::cmp::Reverse(p.len()));
        let mut by_first_word: HashMap<String, Vec<usize>> = HashMap::new();
        let mut unindexed = Vec::new();
        for (i, phrase) in phrases.iter().enumerate() {
            if phrase.opens_message {
                continue;
            }
            match phrase.slots.first() {
                Some(Slot::Word(alternatives))
                    if alternatives
                        .iter()
                        .all(|a| !(a.prefix && a.words.len() == 1)) =>
                {
                    for alt in alternatives {
                        if let Some(first) = alt.squeezed.first() {
                            let list = by_first_word.entry(first.clone()).or_default();
                            if !list.contains(&i) {
                                list.push(i);
                            }
                        }
                    }
                }
                _ => unindexed.push(i),
            }
        }
        Intents {
            phrases,
            by_first_word,
            unindexed,
            medicines: catalog.medicines.iter().flat_map(|m| words(m)).collect(),
            fillers,
            commands,
            language_names,
            language_prefixes,
            command_fillers,
            function_words,
        }
    }

    /// The bundled catalogue, compiled once.
    pub fn shared() -> Result<&'static Intents, KnowledgeError> {
        static SHARED: OnceLock<Result<Intents, KnowledgeError>> = OnceLock::new();
        SHARED
            .get_or_init(|| IntentCatalog::bundled().map(Intents::new))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Every intent in `text`, strongest first: requests the agent can act
    /// on (a person, a medicine, a document, an appointment, what this
    /// is) before social ones (goodbye, thanks, greeting); then the longer
    /// phrase first.
    pub fn detect(&self, text: &str) -> Vec<IntentMatch> {
        let tokens = tokens(text);
        let found = self.find(&tokens);
        let covered: BTreeSet<usize> = found.iter().flat_map(|f| f.start..f.end).collect();
        let covers_message = !found.is_empty()
            && tokens.iter().enumerate().all(|(i, t)| {
                covered.contains(&i) || t.word().is_none_or(|w| self.fillers.contains(w))
            });
        let mut by_intent: BTreeMap<Intent, Vec<Found>> = BTreeMap::new();
        for f in found {
            by_intent
                .entry(self.phrases[f.phrase].intent)
                .or_default()
                .push(f);
        }
        let mut out: Vec<(IntentMatch, usize)> = by_intent
            .into_iter()
            .map(|(intent, found)| {
                let longest = found.iter().map(|f| f.end - f.start).max().unwrap_or(0);
                let match_ = IntentMatch {
                    intent,
                    language: self.language_of(&found, &tokens),
                    covers_message,
                };
                (match_, longest)
            })
            .collect();
        out.sort_by_key(|(m, longest)| (is_social(m.intent), std::cmp::Reverse(*longest)));
        out.into_iter().map(|(m, _)| m).collect()
    }

    /// The language the phrases found say: the one whose phrases cover the
    /// most words, the message's function words breaking a tie ("enviar ..
    /// resultados" is Spanish and Portuguese; "quiero" is Spanish). Phrases
    /// every language uses ("hi") count only when nothing else does ("hi
    /// hola" is Spanish).
    fn language_of(&self, found: &[Found], tokens: &[Token]) -> Option<Language> {
        let telling = found.iter().any(|f| self.phrases[f.phrase].says_language);
        let mut covered: BTreeMap<Language, usize> = BTreeMap::new();
        for f in found {
            let phrase = &self.phrases[f.phrase];
            if let Some(lang) = phrase.language
                && (phrase.says_language || !telling)
            {
                *covered.entry(lang).or_default() += f.end - f.start;
            }
        }
        let most = covered.values().copied().max()?;
        let leaders: Vec<Language> = covered
            .into_iter()
            .filter(|(_, n)| *n == most)
            .map(|(lang, _)| lang)
            .collect();
        if let [lang] = leaders.as_slice() {
            return Some(*lang);
        }
        let scores = self.function_word_scores(tokens);
        let mut ranked: Vec<(u32, Language)> = leaders
            .iter()
            .map(|lang| (scores.get(lang).copied().unwrap_or(0), *lang))
            .collect();
        ranked.sort_by(|a, b| b.cmp(a));
        match ranked.as_slice() {
            [(best, lang), rest @ ..] if *best > 0 && rest.first().is_none_or(|r| r.0 < *best) => {
                Some(*lang)
            }
            _ => None,
        }
    }

    /// Languages said by phrases that are not international ("hola",
    /// "bonjour", "asante"; never "hi"), for language detection.
    pub(crate) fn telling_languages(&self, text: &str) -> Vec<Language> {
        self.find(&tokens(text))
            .iter()
            .map(|f| &self.phrases[f.phrase])
            .filter(|p| p.says_language)
            .filter_map(|p| p.language)
            .collect()
    }

    /// Phrases found in `tokens`; phrases that must open the message only
    /// where nothing but fillers and other opening phrases precede them.
    fn find(&self, tokens: &[Token]) -> Vec<Found> {
        let mut found = Vec::new();
        for start in 0..tokens.len() {
            let indexed = tokens[start]
                .word()
                .and_then(|w| self.by_first_word.get(&squeeze(w)))
                .map_or(&[][..], Vec::as_slice);
            let mut candidates: Vec<usize> =
                indexed.iter().chain(&self.unindexed).copied().collect();
            // Phrases in catalogue order, as before the index.
            candidates.sort_unstable();
            for i in candidates {
                let phrase = &self.phrases[i];
                if let Some(end) = self.match_slots(&phrase.slots, tokens, start) {
                    found.push(Found {
                        phrase: i,
                        start,
                        end,
                    });
                }
            }
        }
        // Opening phrases: walk from the start over fillers, breaks and
        // opening phrases, longest first.
        let mut at = 0;
        while at < tokens.len() {
            let best = self
                .phrases
                .iter()
                .enumerate()
                .filter(|(_, p)| p.opens_message)
                .filter_map(|(i, p)| self.match_slots(&p.slots, tokens, at).map(|end| (i, end)))
                .max_by_key(|&(_, end)| end);
            if let Some((phrase, end)) = best {
                found.push(Found {
                    phrase,
                    start: at,
                    end,
                });
                at = end;
            } else if tokens[at].word().is_none_or(|w| self.fillers.contains(w)) {
                at += 1;
            } else {
                break;
            }
        }
        found
    }

    /// Where `slots` matched from `at` ends (the longest match), if they do.
    fn match_slots(&self, slots: &[Slot], tokens: &[Token], at: usize) -> Option<usize> {
        let Some((slot, rest)) = slots.split_first() else {
            return Some(at);
        };
        match slot {
            Slot::Gap => (0..=MAX_GAP)
                .take_while(|skip| {
                    tokens
                        .get(at..at + skip)
                        .is_some_and(|skipped| skipped.iter().all(|t| t.word().is_some()))
                })
                .filter_map(|skip| self.match_slots(rest, tokens, at + skip))
                .max(),
            Slot::Medicine => {
                let word = tokens.get(at)?.word()?;
                let known =
                    self.medicines.contains(word) || self.medicines.contains(&squeeze(word));
                known
                    .then(|| self.match_slots(rest, tokens, at + 1))
                    .flatten()
            }
            Slot::Word(alternatives) => alternatives
                .iter()
                .filter_map(|alt| matches_alternative(alt, tokens, at))
                .filter_map(|end| self.match_slots(rest, tokens, end))
                .max(),
        }
    }

    /// The command `text` is, if the whole message is one.
    pub fn command(&self, text: &str) -> Option<Command> {
        let words = words(text);
        if words.is_empty() {
            return None;
        }
        if let Some((_, command)) = self.commands.iter().find(|(c, _)| *c == words) {
            return Some(*command);
        }
        // "en" is a filler ("en español") and a code ("LANGUAGE EN"): the
        // code after a prefix is read before fillers are stripped behind it.
        if let Some(rest) = self.language_prefixes.iter().find_map(|p| {
            self.strip_command_fillers(&words, false)
                .strip_prefix(p.as_slice())
        }) {
            if let [code, after @ ..] = rest
                && self.strip_command_fillers(after, true).is_empty()
                && let Ok(lang) = code.parse::<Language>()
            {
                return Some(Command::Language(lang));
            }
            return self
                .language_named(self.strip_command_fillers(rest, true))
                .map(Command::Language);
        }
        self.language_named(self.strip_command_fillers(&words, true))
            .map(Command::Language)
    }

    fn language_named(&self, words: &[String]) -> Option<Language> {
        self.language_names
            .iter()
            .find(|(name, _)| !words.is_empty() && name.as_slice() == words)
            .map(|(_, lang)| *lang)
    }

    /// `words` without politeness around it: "English please", "can you
    /// speak French". With `back == false`, only what precedes it.
    fn strip_command_fillers<'a>(&self, mut words: &'a [String], back: bool) -> &'a [String] {
        loop {
            let before = words.len();
            for filler in &self.command_fillers {
                if let Some(rest) = words.strip_prefix(filler.as_slice()) {
                    words = rest;
                }
                if back && let Some(rest) = words.strip_suffix(filler.as_slice()) {
                    words = rest;
                }
            }
            if words.len() == before {
                return words;
            }
        }
    }
}

/// Where `alt` matched at `at` ends, if it does.
fn matches_alternative(alt: &Alternative, tokens: &[Token], at: usize) -> Option<usize> {
    let last = alt.words.len().checked_sub(1)?;
    for (i, (want, squeezed)) in alt.words.iter().zip(&alt.squeezed).enumerate() {
        let word = tokens.get(at + i)?.word()?;
        let ok = word == want
            || (alt.prefix && i == last && word.starts_with(want.as_str()))
            || squeeze(word) == *squeezed;
        if !ok {
            return None;
        }
    }
    Some(at + alt.words.len())
}

/// Greetings, thanks and goodbyes rank after requests the agent can act on.
fn is_social(intent: Intent) -> bool {
    matches!(intent, Intent::Greeting | Intent::Thanks | Intent::Goodbye)
}

/// Every intent in `text`, strongest first (see [`Intents::detect`]).
///
/// Uses the bundled catalogue, which the tests prove valid; should it fail
/// to load, nothing is detected and the message is read as symptoms only.
/// Call [`Intents::shared`] at start-up to fail loudly instead.
pub fn detect(text: &str) -> Vec<IntentMatch> {
    Intents::shared()
        .map(|i| i.detect(text))
        .unwrap_or_default()
}

/// The whole-message command `text` is, if any (see [`Intents::command`]).
/// A bare two-letter word ("hi", "si", "no", "es") is never one.
pub fn command(text: &str) -> Option<Command> {
    Intents::shared().ok()?.command(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(text: &str) -> Option<IntentMatch> {
        detect(text).into_iter().next()
    }

    #[test]
    fn the_bundled_catalogue_compiles() {
        let intents = Intents::shared().unwrap();
        assert!(intents.phrases.len() > 100);
    }

    #[test]
    fn tokens_separate_words_at_emoji_and_keep_devanagari_words() {
        // Emoji separate words (normalisation turns them into spaces).
        assert_eq!(
            tokens("Hola👋doctor!!"),
            vec![
                Token::Word("hola".into()),
                Token::Word("doctor".into()),
                Token::Break
            ]
        );
        assert_eq!(words("डॉक्टर से बात"), vec!["डॉक्टर", "से", "बात"]);
    }

    #[test]
    fn repeated_letters_are_forgiven() {
        for text in ["hiii", "Holaaa!!", "merciii", "asanteee"] {
            let m = first(text).unwrap_or_else(|| panic!("{text}"));
            assert!(m.covers_message, "{text}");
        }
    }

    #[test]
    fn a_greeting_must_open_the_message() {
        assert!(first("niko salama").is_none());
        let m = first("salama, nina homa").unwrap();
        assert_eq!((m.intent, m.covers_message), (Intent::Greeting, false));
    }

    #[test]
    fn requests_rank_before_greetings() {
        let found = detect("hi, can I talk to a nurse?");
        assert_eq!(found[0].intent, Intent::Person);
        assert_eq!(found[1].intent, Intent::Greeting);
        assert!(found.iter().all(|m| m.covers_message));
    }

    #[test]
    fn international_phrases_give_way_to_telling_ones() {
        assert_eq!(first("hi hola").unwrap().language, Some(Language::Es));
        assert_eq!(first("hi").unwrap().language, Some(Language::En));
    }

    #[test]
    fn a_medicine_question_needs_a_medicine() {
        assert_eq!(
            first("can I take ibuprofen?").map(|m| m.intent),
            Some(Intent::Medication)
        );
        assert!(detect("can I take a shower").is_empty());
    }

    #[test]
    fn command_fillers_are_stripped_from_both_ends_only() {
        assert_eq!(
            command("can you speak English please"),
            Some(Command::Language(Language::En))
        );
        assert_eq!(command("I don't speak English"), None);
        assert_eq!(command("no english"), None);
    }
}
