//! Understanding free text without a model: lexicon phrases per language,
//! with negation ("no fever", "sin fiebre", "सीने में दर्द नहीं है").
//!
//! Safety bias: an uncertain mention ("not sure if my chest hurts") counts as
//! present, and a concept once present stays present for the conversation —
//! a later denial does not erase an earlier report.

use std::collections::{BTreeMap, BTreeSet};

use prompts::Language;
use prompts::lexicon::Lexicon;
use serde::{Deserialize, Serialize};

/// One concept found in the patient's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mention {
    /// Concept id.
    pub concept: String,
    /// The patient's words that matched (normalised).
    pub words: String,
    /// Denied ("no chest pain").
    pub negated: bool,
    /// Lexicon that matched.
    pub language: Language,
}

/// What the conversation has established so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Concepts reported present at least once.
    pub present: BTreeSet<String>,
    /// Concepts only ever denied.
    pub absent: BTreeSet<String>,
    /// Every mention, in order, for the clinician's report.
    pub mentions: Vec<Mention>,
}

impl Evidence {
    /// Whether a concept is present.
    pub fn has(&self, concept: &str) -> bool {
        self.present.contains(concept)
    }

    /// Adds mentions. Present wins over absent, and stays.
    pub fn absorb(&mut self, mentions: Vec<Mention>) {
        for m in mentions {
            if m.negated {
                if !self.present.contains(&m.concept) {
                    self.absent.insert(m.concept.clone());
                }
            } else {
                self.absent.remove(&m.concept);
                self.present.insert(m.concept.clone());
            }
            self.mentions.push(m);
        }
    }
}

/// Marks a clause boundary in the token stream: negation never crosses it.
const BREAK: &str = "|";

fn fold_char(c: char) -> char {
    match c {
        'á' | 'à' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' => 'i',
        'ó' | 'ò' | 'ô' | 'õ' | 'ö' => 'o',
        'ú' | 'ù' | 'û' | 'ü' => 'u',
        'ç' => 'c',
        'ñ' => 'n',
        '’' | '‘' | '`' => '\'',
        other => other,
    }
}

/// Lower-cases, removes Latin accents, splits into words with clause breaks.
pub fn tokenize(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, tokens: &mut Vec<String>| {
        if !word.is_empty() {
            tokens.push(std::mem::take(word));
        }
    };
    for c in text.chars().flat_map(char::to_lowercase).map(fold_char) {
        if c.is_whitespace() {
            flush(&mut word, &mut tokens);
        } else if matches!(
            c,
            '.' | ',' | ';' | ':' | '!' | '?' | '¿' | '¡' | '।' | '\n'
        ) {
            flush(&mut word, &mut tokens);
            if tokens.last().is_none_or(|t| t != BREAK) {
                tokens.push(BREAK.to_owned());
            }
        } else if matches!(c, '"' | '(' | ')' | '[' | ']' | '/' | '*' | '-' | '–' | '—') {
            flush(&mut word, &mut tokens);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut tokens);
    tokens
}

fn phrase_tokens(phrase: &str) -> Vec<String> {
    // Lexicon phrases keep their `*` wildcard; everything else as in text.
    phrase
        .split_whitespace()
        .flat_map(|w| {
            let star = w.ends_with('*');
            let mut parts = tokenize(w.trim_end_matches('*'));
            if star && let Some(last) = parts.last_mut() {
                last.push('*');
            }
            parts
        })
        .filter(|t| t != BREAK)
        .collect()
}

fn token_matches(pattern: &str, token: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => token.starts_with(prefix),
        None => pattern == token,
    }
}

/// Where `phrase` occurs in `tokens` (start indexes).
fn find(tokens: &[String], phrase: &[String]) -> Vec<usize> {
    if phrase.is_empty() || phrase.len() > tokens.len() {
        return Vec::new();
    }
    (0..=tokens.len() - phrase.len())
        .filter(|&i| {
            phrase
                .iter()
                .zip(&tokens[i..])
                .all(|(p, t)| token_matches(p, t))
        })
        .collect()
}

/// A lexicon prepared for matching.
#[derive(Debug, Clone)]
pub struct CompiledLexicon {
    language: Language,
    negations: Vec<Vec<String>>,
    breaks: Vec<Vec<String>>,
    window: usize,
    negation_follows: bool,
    concepts: Vec<(String, Vec<Vec<String>>)>,
    vocabulary: BTreeSet<String>,
}

impl CompiledLexicon {
    /// Tokenises every phrase once.
    pub fn new(lexicon: &Lexicon) -> Self {
        let concepts: Vec<(String, Vec<Vec<String>>)> = lexicon
            .concepts
            .iter()
            .map(|c| {
                (
                    c.id.clone(),
                    c.terms.iter().map(|t| phrase_tokens(t)).collect(),
                )
            })
            .collect();
        let negations: Vec<Vec<String>> =
            lexicon.negations.iter().map(|n| phrase_tokens(n)).collect();
        let vocabulary = concepts
            .iter()
            .flat_map(|(_, terms)| terms.iter().flatten())
            .chain(negations.iter().flatten())
            .filter(|t| !t.ends_with('*') && t.chars().count() > 2)
            .cloned()
            .collect();
        Self {
            language: lexicon.language,
            negations,
            breaks: lexicon
                .clause_breaks
                .iter()
                .map(|b| phrase_tokens(b))
                .collect(),
            window: lexicon.negation_window,
            negation_follows: lexicon.negation_follows,
            concepts,
            vocabulary,
        }
    }

    /// Whether a negation cue governs the phrase at `start..end`.
    fn negated(&self, tokens: &[String], start: usize, end: usize) -> bool {
        let cue_ends: Vec<usize> = self
            .negations
            .iter()
            .flat_map(|n| find(tokens, n).into_iter().map(move |i| (i, i + n.len())))
            .filter(|&(cue_start, _)| !(cue_start >= start && cue_start < end))
            .map(|(s, e)| if e <= start { e } else { s })
            .collect();
        let broken = |from: usize, to: usize| {
            tokens[from..to].iter().any(|t| t == BREAK)
                || self
                    .breaks
                    .iter()
                    .any(|b| find(&tokens[from..to], b).iter().any(|_| true))
        };
        cue_ends.iter().any(|&pos| {
            if pos <= start {
                start - pos <= self.window && !broken(pos, start)
            } else {
                self.negation_follows && pos >= end && pos - end <= self.window && !broken(end, pos)
            }
        })
    }

    /// Concept mentions in `tokens`.
    pub fn mentions(&self, tokens: &[String]) -> Vec<Mention> {
        let mut out = Vec::new();
        for (concept, terms) in &self.concepts {
            for term in terms {
                for start in find(tokens, term) {
                    let end = start + term.len();
                    out.push(Mention {
                        concept: concept.clone(),
                        words: tokens[start..end].join(" "),
                        negated: self.negated(tokens, start, end),
                        language: self.language,
                    });
                }
            }
        }
        out
    }

    /// How many of the words belong to this language's vocabulary.
    fn affinity(&self, tokens: &[String]) -> usize {
        tokens
            .iter()
            .filter(|t| self.vocabulary.contains(*t))
            .count()
    }
}

/// All lexicons, ready to match.
#[derive(Debug, Clone)]
pub struct Extractor {
    lexicons: Vec<CompiledLexicon>,
}

impl Extractor {
    /// Compiles the bundled lexicons.
    pub fn new(lexicons: &BTreeMap<Language, Lexicon>) -> Self {
        Self {
            lexicons: lexicons.values().map(CompiledLexicon::new).collect(),
        }
    }

    /// Mentions in every language (patients mix languages), deduplicated per
    /// concept and words.
    pub fn extract(&self, text: &str) -> Vec<Mention> {
        let tokens = tokenize(text);
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for lexicon in &self.lexicons {
            for m in lexicon.mentions(&tokens) {
                if seen.insert((m.concept.clone(), m.words.clone(), m.negated)) {
                    out.push(m);
                }
            }
        }
        out
    }

    /// The language the text is most likely in, if any lexicon recognises it.
    pub fn detect_language(&self, text: &str) -> Option<Language> {
        if text.chars().any(|c| ('\u{0900}'..='\u{097F}').contains(&c)) {
            return Some(Language::Hi);
        }
        let tokens = tokenize(text);
        self.lexicons
            .iter()
            .map(|l| (l.affinity(&tokens), l.language))
            .filter(|(score, _)| *score > 0)
            .max_by_key(|(score, lang)| (*score, std::cmp::Reverse(*lang)))
            .map(|(_, lang)| lang)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prompts::Knowledge;

    fn extractor() -> Extractor {
        Extractor::new(&Knowledge::bundled().unwrap().lexicons)
    }

    fn present(text: &str) -> BTreeSet<String> {
        let mut e = Evidence::default();
        e.absorb(extractor().extract(text));
        e.present
    }

    #[test]
    fn tokenizer_folds_case_accents_and_marks_clause_breaks() {
        assert_eq!(
            tokenize("Tengo DOLOR, sin fiebre."),
            ["tengo", "dolor", "|", "sin", "fiebre", "|"]
        );
        assert_eq!(tokenize("I can’t breathe"), ["i", "can't", "breathe"]);
        assert_eq!(tokenize("opresión"), ["opresion"]);
    }

    #[test]
    fn negation_applies_within_its_clause_only() {
        assert!(present("my chest hurts and he is sweating").contains("sweating"));
        assert!(!present("no chest pain").contains("chest_pain"));
        assert!(present("no fever, but my chest hurts").contains("chest_pain"));
        assert!(!present("sin dolor de pecho").contains("chest_pain"));
        assert!(!present("सीने में दर्द नहीं है").contains("chest_pain"));
        assert!(present("सीने में दर्द है").contains("chest_pain"));
        assert!(!present("sina maumivu ya kifua").contains("chest_pain"));
    }

    #[test]
    fn a_concept_once_present_stays_present() {
        let x = extractor();
        let mut e = Evidence::default();
        e.absorb(x.extract("chest pain"));
        e.absorb(x.extract("no chest pain now"));
        assert!(e.has("chest_pain"));
        assert!(!e.absent.contains("chest_pain"));
        let mut e = Evidence::default();
        e.absorb(x.extract("no chest pain"));
        assert!(e.absent.contains("chest_pain") && !e.has("chest_pain"));
    }

    #[test]
    fn languages_are_detected_from_the_words_used() {
        let x = extractor();
        assert_eq!(
            x.detect_language("tengo dolor de pecho"),
            Some(Language::Es)
        );
        assert_eq!(
            x.detect_language("j'ai une douleur thoracique"),
            Some(Language::Fr)
        );
        assert_eq!(x.detect_language("kifua kinauma sana"), Some(Language::Sw));
        assert_eq!(x.detect_language("सीने में दर्द"), Some(Language::Hi));
        assert_eq!(x.detect_language("xyzzy"), None);
    }
}
