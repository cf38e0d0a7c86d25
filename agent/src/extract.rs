//! Understanding free text without a model: lexicon phrases per language,
//! with negation ("no fever", "sin fiebre", "सीने में दर्द नहीं है").
//!
//! Every lexicon is matched (patients mix languages), but whether a match is
//! denied is judged with the negation cues of the *message's* language: the
//! English word "vomit" found in "il ne vomit plus" is negated by the French
//! "ne", and a cue of one language ("na" is "not" in Hindi and "and" in
//! Swahili) never negates words in another.
//!
//! Safety bias: an uncertain mention ("not sure if my chest hurts") counts as
//! present, and a concept once present stays present for the conversation —
//! a later denial does not erase an earlier report.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use prompts::Language;
use prompts::lexicon::Lexicon;
use serde::{Deserialize, Serialize};

use crate::normalize::{Abbreviations, normalize, unstretched};

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

/// A Latin letter without its accent (and typographic apostrophes as `'`).
pub(crate) fn fold_char(c: char) -> char {
    match c {
        'á' | 'à' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' => 'i',
        'ó' | 'ò' | 'ô' | 'õ' | 'ö' => 'o',
        'ú' | 'ù' | 'û' | 'ü' => 'u',
        'ý' | 'ÿ' => 'y',
        'ç' => 'c',
        'ñ' => 'n',
        '’' | '‘' | '`' => '\'',
        other => other,
    }
}

/// Lower-cases, removes Latin accents, splits into words with clause breaks.
/// The text is [`normalize`]d first (quotes, dashes, spaces, fullwidth
/// forms, combining accents, emoji), so lexicon phrases and messages are
/// compared in one spelling.
pub fn tokenize(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, tokens: &mut Vec<String>| {
        if !word.is_empty() {
            tokens.push(std::mem::take(word));
        }
    };
    let normalized = normalize(text);
    for c in normalized
        .chars()
        .flat_map(char::to_lowercase)
        .map(fold_char)
    {
        if c.is_whitespace() {
            flush(&mut word, &mut tokens);
        } else if matches!(
            c,
            '.' | ',' | ';' | ':' | '!' | '?' | '¿' | '¡' | '।' | '…' | '\n'
        ) {
            flush(&mut word, &mut tokens);
            if tokens.last().is_none_or(|t| t != BREAK) {
                tokens.push(BREAK.to_owned());
            }
        } else if matches!(
            c,
            '"' | '('
                | ')'
                | '['
                | ']'
                | '{'
                | '}'
                | '/'
                | '\\'
                | '*'
                | '-'
                | '&'
                | '='
                | '<'
                | '>'
                | '~'
                | '^'
                | '_'
                | '#'
                | '@'
        ) {
            flush(&mut word, &mut tokens);
        } else if ('\u{0300}'..='\u{036F}').contains(&c) {
            // Left by lower-casing ("İ" is "i" + U+0307): accents are ignored.
        } else if c == 'œ' {
            word.push_str("oe");
        } else if c == 'æ' {
            word.push_str("ae");
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut tokens);
    tokens
}

/// A gap in a lexicon phrase: up to `MAX_GAP` tokens of the same clause.
const GAP: &str = "..";
/// Tokens a `..` gap may skip.
const MAX_GAP: usize = 3;

fn phrase_tokens(phrase: &str) -> Vec<String> {
    // Lexicon phrases keep their `*` wildcard, `a|b` alternatives and `..`
    // gaps; everything else is tokenised as in text.
    phrase
        .split_whitespace()
        .flat_map(|w| {
            if w == GAP {
                return vec![GAP.to_owned()];
            }
            if w.contains('|') {
                let alternatives: Vec<String> = w
                    .split('|')
                    .filter_map(|alt| {
                        let star = alt.ends_with('*');
                        let mut t = tokenize(alt.trim_end_matches('*')).into_iter().next()?;
                        if star {
                            t.push('*');
                        }
                        Some(t)
                    })
                    .collect();
                return vec![alternatives.join("|")];
            }
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
    pattern.split('|').any(|p| match p.strip_suffix('*') {
        Some(prefix) => token.starts_with(prefix),
        None => p == token,
    })
}

/// The end of a match of `phrase` starting exactly at `tokens[at]`, if any.
/// A `..` slot skips up to `MAX_GAP` tokens, never across a clause break.
fn match_at(tokens: &[String], at: usize, phrase: &[String]) -> Option<usize> {
    let Some((first, rest)) = phrase.split_first() else {
        return Some(at);
    };
    if first == GAP {
        for skip in 0..=MAX_GAP {
            let pos = at + skip;
            if pos > tokens.len() || tokens[at..pos].iter().any(|t| t == BREAK) {
                break;
            }
            if let Some(end) = match_at(tokens, pos, rest) {
                return Some(end);
            }
        }
        return None;
    }
    let token = tokens.get(at)?;
    if token_matches(first, token) {
        match_at(tokens, at + 1, rest)
    } else {
        None
    }
}

/// Where `phrase` occurs in `tokens`, as `(start, end)` spans.
fn find(tokens: &[String], phrase: &[String]) -> Vec<(usize, usize)> {
    if phrase.is_empty() || phrase.iter().filter(|p| *p != GAP).count() > tokens.len() {
        return Vec::new();
    }
    (0..tokens.len())
        .filter_map(|i| match_at(tokens, i, phrase).map(|end| (i, end)))
        .collect()
}

/// A lexicon prepared for matching.
#[derive(Debug, Clone)]
pub struct CompiledLexicon {
    language: Language,
    negations: Vec<Vec<String>>,
    uncertainty: Vec<Vec<String>>,
    breaks: Vec<Vec<String>>,
    window: usize,
    negation_follows: bool,
    /// Per concept: its id, its phrases (terms first, then denials) and how
    /// many of them are terms.
    concepts: Vec<(String, Vec<Vec<String>>, usize)>,
    /// Terms (concept index, term index) by the exact token they start with.
    first_exact: HashMap<String, Vec<(usize, usize)>>,
    /// Terms whose first slot has a wildcard or a gap: tried everywhere.
    first_other: Vec<(usize, usize)>,
    vocabulary: BTreeSet<String>,
}

impl CompiledLexicon {
    /// Tokenises every phrase once.
    pub fn new(lexicon: &Lexicon) -> Self {
        let concepts: Vec<(String, Vec<Vec<String>>, usize)> = lexicon
            .concepts
            .iter()
            .map(|c| {
                let phrases = c.terms.iter().chain(&c.denials);
                (
                    c.id.clone(),
                    phrases.map(|t| phrase_tokens(t)).collect(),
                    c.terms.len(),
                )
            })
            .collect();
        let negations: Vec<Vec<String>> =
            lexicon.negations.iter().map(|n| phrase_tokens(n)).collect();
        let vocabulary = concepts
            .iter()
            .flat_map(|(_, terms, _)| terms.iter().flatten())
            .chain(negations.iter().flatten())
            .flat_map(|t| t.split('|').map(str::to_owned))
            .filter(|t| t != GAP && !t.ends_with('*') && t.chars().count() > 2)
            .collect();
        let mut first_exact: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
        let mut first_other = Vec::new();
        for (ci, (_, terms, _)) in concepts.iter().enumerate() {
            for (ti, term) in terms.iter().enumerate() {
                let Some(first) = term.first() else { continue };
                if first == GAP || first.split('|').any(|alt| alt.ends_with('*')) {
                    first_other.push((ci, ti));
                } else {
                    for alt in first.split('|') {
                        first_exact
                            .entry(alt.to_owned())
                            .or_default()
                            .push((ci, ti));
                    }
                }
            }
        }
        Self {
            language: lexicon.language,
            negations,
            uncertainty: lexicon
                .uncertainty
                .iter()
                .map(|u| phrase_tokens(u))
                .collect(),
            breaks: lexicon
                .clause_breaks
                .iter()
                .map(|b| phrase_tokens(b))
                .collect(),
            window: lexicon.negation_window,
            negation_follows: lexicon.negation_follows,
            first_exact,
            first_other,
            concepts,
            vocabulary,
        }
    }

    /// Where doubt is expressed ("not sure", "no sé"): cues inside negate nothing.
    fn doubts(&self, tokens: &[String]) -> Vec<(usize, usize)> {
        self.uncertainty
            .iter()
            .flat_map(|u| find(tokens, u))
            .collect()
    }

    /// Whether doubt is expressed just before `start`, in the same clause
    /// ("not sure he's afebrile").
    fn doubted(&self, tokens: &[String], start: usize) -> bool {
        self.doubts(tokens).iter().any(|&(s, e)| {
            (s <= start && start < e)
                || (e <= start
                    && start - e <= self.window
                    && !tokens[e..start].iter().any(|t| t == BREAK))
        })
    }

    /// Whether one of this language's negation cues governs the phrase at
    /// `start..end`.
    fn negated(&self, tokens: &[String], start: usize, end: usize) -> bool {
        // A phrase that carries its own negation ("can't swallow", "no puedo
        // tragar", "ne peut pas respirer", "निगल नहीं पा") reports a
        // symptom; a cue before it ("il ne peut pas…") belongs to it. Denying
        // it would take a double negative: safety bias, keep it present.
        if self
            .negations
            .iter()
            .any(|n| !find(&tokens[start..end], n).is_empty())
        {
            return false;
        }
        let doubts = self.doubts(tokens);
        let cue_ends: Vec<usize> = self
            .negations
            .iter()
            .flat_map(|n| find(tokens, n))
            .filter(|&(cue_start, _)| !(cue_start >= start && cue_start < end))
            .filter(|&(cue_start, _)| !doubts.iter().any(|&(s, e)| cue_start >= s && cue_start < e))
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

    /// Concept mentions in `tokens`, each judged negated or not by `judge`
    /// (the message's language), or by this lexicon when there is none.
    pub fn mentions(&self, tokens: &[String], judge: Option<&CompiledLexicon>) -> Vec<Mention> {
        let judge = judge.unwrap_or(self);
        // Only terms whose first slot can match the token at hand are tried.
        let mut hits: Vec<(usize, usize, usize, usize)> = Vec::new();
        for (i, token) in tokens.iter().enumerate() {
            let exact = self.first_exact.get(token).into_iter().flatten();
            for &(ci, ti) in exact.chain(&self.first_other) {
                if let Some(end) = self
                    .concepts
                    .get(ci)
                    .and_then(|(_, terms, _)| terms.get(ti))
                    .and_then(|term| match_at(tokens, i, term))
                {
                    hits.push((ci, ti, i, end));
                }
            }
        }
        // The order of the full scan: concept, term, position.
        hits.sort_unstable();
        hits.dedup();
        let is_denial = |ci: usize, ti: usize| self.concepts.get(ci).is_some_and(|c| ti >= c.2);
        // A denial inside a term of its concept is the term's ("non blanching
        // rash"); a term inside a longer denial is the denial's ("chest pain
        // free").
        let covered = |&(ci, ti, start, end): &(usize, usize, usize, usize)| {
            let denial = is_denial(ci, ti);
            hits.iter().any(|&(cj, tj, s, e)| {
                cj == ci
                    && is_denial(cj, tj) != denial
                    && s <= start
                    && end <= e
                    && (denial || e - s > end - start)
            })
        };
        let mut out = Vec::with_capacity(hits.len());
        for &(ci, ti, start, end) in hits.iter().filter(|h| !covered(h)) {
            let Some((concept, terms, _)) = self.concepts.get(ci) else {
                continue;
            };
            let gapped = terms.get(ti).is_some_and(|t| t.iter().any(|s| s == GAP));
            // A cue inside a gap governs the phrase ("lips are not
            // swelling"); otherwise the usual window rules.
            let cue_in_gap = gapped
                && judge
                    .negations
                    .iter()
                    .any(|n| !find(&tokens[start..end], n).is_empty());
            let governed = cue_in_gap || judge.negated(tokens, start, end);
            let negated = if is_denial(ci, ti) {
                // Doubt about a denial leaves the concept unknown; a negated
                // denial ("not afebrile") reports it.
                if judge.doubted(tokens, start) {
                    continue;
                }
                !governed
            } else {
                governed
            };
            out.push(Mention {
                concept: concept.clone(),
                words: tokens[start..end].join(" "),
                negated,
                language: self.language,
            });
        }
        out
    }
}

/// Every word slot of every phrase and cue, alternatives split, wildcards
/// kept with their `*`.
fn source_words(lexicons: &BTreeMap<Language, Lexicon>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for l in lexicons.values() {
        let concepts = l
            .concepts
            .iter()
            .flat_map(|c| c.terms.iter().chain(&c.denials));
        let cues = l
            .negations
            .iter()
            .chain(&l.uncertainty)
            .chain(&l.clause_breaks);
        for phrase in concepts.chain(cues) {
            for slot in phrase_tokens(phrase) {
                out.extend(slot.split('|').map(str::to_owned));
            }
        }
    }
    out
}

/// All lexicons, ready to match.
#[derive(Debug, Clone)]
pub struct Extractor {
    lexicons: Vec<CompiledLexicon>,
    /// Every lexicon's `[abbreviations]`, expanded before tokenising.
    abbreviations: Abbreviations,
    /// Every lexicon's `[respellings]`, as tokens.
    respellings: HashMap<String, Vec<String>>,
    /// Every word the lexicons' phrases use, to resolve stretched words.
    words: HashSet<String>,
    /// The prefixes of their `*` wildcards, likewise.
    prefixes: Vec<String>,
    /// How many lexicons each vocabulary word belongs to: a word shared by
    /// several languages says less about which one the patient writes.
    shared: HashMap<String, u32>,
}

/// Divisible by 1..=6, so that shares of a word add up exactly.
const WORD_WEIGHT: u32 = 60;

impl Extractor {
    /// Compiles the bundled lexicons.
    pub fn new(lexicons: &BTreeMap<Language, Lexicon>) -> Self {
        let abbreviations = Abbreviations::new(lexicons.values().flat_map(|l| {
            l.abbreviations
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
        }));
        let mut respellings = HashMap::new();
        for (key, words) in lexicons.values().flat_map(|l| &l.respellings) {
            if let Some(key) = tokenize(key).into_iter().next() {
                respellings.entry(key).or_insert_with(|| {
                    tokenize(words).into_iter().filter(|t| t != BREAK).collect()
                });
            }
        }
        let raw = source_words(lexicons);
        let prefixes = raw
            .iter()
            .filter_map(|w| w.strip_suffix('*'))
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        let words = raw
            .into_iter()
            .filter(|w| !w.ends_with('*') && w != GAP)
            .chain(respellings.keys().cloned())
            .collect();
        let lexicons: Vec<CompiledLexicon> = lexicons.values().map(CompiledLexicon::new).collect();
        let mut shared = HashMap::new();
        for lexicon in &lexicons {
            for word in &lexicon.vocabulary {
                *shared.entry(word.clone()).or_insert(0) += 1;
            }
        }
        Self {
            lexicons,
            abbreviations,
            respellings,
            words,
            prefixes,
            shared,
        }
    }

    /// The message as the lexicons see it: normalised, abbreviations
    /// expanded ("SOB" → "short of breath"), tokenised, stretched words
    /// resolved ("soooo" → "so"), text-speak respelled ("2day" → "today").
    pub fn tokens(&self, text: &str) -> Vec<String> {
        let expanded = self.abbreviations.expand(&normalize(text));
        let mut out = Vec::new();
        for token in tokenize(&expanded) {
            let token = self.unstretch(token);
            match self.respellings.get(&token) {
                Some(words) => out.extend(words.iter().cloned()),
                None => out.push(token),
            }
        }
        out
    }

    /// A stretched word as the spelling the lexicons know ("heeelp" is
    /// "help", "bleeeding" is "bleeding"); unknown ones keep doubled letters.
    fn unstretch(&self, token: String) -> String {
        let spellings = unstretched(&token);
        let known = |w: &String| {
            self.words.contains(w) || self.prefixes.iter().any(|p| w.starts_with(p.as_str()))
        };
        spellings
            .iter()
            .find(|w| known(w))
            .or(spellings.first())
            .cloned()
            .unwrap_or(token)
    }

    /// Mentions in every language (patients mix languages), deduplicated per
    /// concept and words; negation judged in the language the message is
    /// written in.
    pub fn extract(&self, text: &str) -> Vec<Mention> {
        self.extract_in(text, None)
    }

    /// As [`Extractor::extract`], judging negation in `fallback` when the
    /// message's own language cannot be told (e.g. the conversation's).
    pub fn extract_in(&self, text: &str, fallback: Option<Language>) -> Vec<Mention> {
        let tokens = self.tokens(text);
        let judge = self
            .detect_tokens(text, &tokens)
            .or(fallback)
            .and_then(|lang| self.lexicons.iter().find(|l| l.language == lang));
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for lexicon in &self.lexicons {
            for m in lexicon.mentions(&tokens, judge) {
                if seen.insert((m.concept.clone(), m.words.clone(), m.negated)) {
                    out.push(m);
                }
            }
        }
        out
    }

    /// The language the text is most likely in, if any lexicon recognises it.
    pub fn detect_language(&self, text: &str) -> Option<Language> {
        self.detect_tokens(text, &self.tokens(text))
    }

    fn detect_tokens(&self, text: &str, tokens: &[String]) -> Option<Language> {
        if text.chars().any(|c| ('\u{0900}'..='\u{097F}').contains(&c)) {
            return Some(Language::Hi);
        }
        self.lexicons
            .iter()
            .map(|l| {
                let score: u32 = tokens
                    .iter()
                    .filter(|t| l.vocabulary.contains(*t))
                    .map(|t| WORD_WEIGHT / self.shared.get(t).copied().unwrap_or(1).max(1))
                    .sum();
                (score, l.language)
            })
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
    fn english_contractions_and_their_apostrophe_less_forms_negate() {
        for (text, concept) in [
            ("I didn't vomit", "vomiting"),
            ("he didnt vomit", "vomiting"),
            ("he wasn't sweating", "sweating"),
            ("she wasnt sweating", "sweating"),
            ("it doesn't hurt in my chest, no chest pain", "chest_pain"),
            ("there isn't any fever", "fever"),
            ("he hasn't vomited", "vomiting"),
            ("he hasnt vomited", "vomiting"),
            ("I haven't had a fever", "fever"),
            ("I havent had a fever", "fever"),
            ("never had chest pain", "chest_pain"),
            ("a cold without fever", "fever"),
            ("we weren't sweating", "sweating"),
        ] {
            let p = present(text);
            assert!(!p.contains(concept), "{text:?} -> {p:?}");
        }
        // The cue reaches no further than the clause: "and" ends it.
        assert!(present("I didn't sleep and now I have chest pain").contains("chest_pain"));
    }

    #[test]
    fn denials_are_judged_in_the_language_of_the_message() {
        let x = extractor();
        let judged = |text: &str, concept: &str| {
            let mut e = Evidence::default();
            e.absorb(x.extract(text));
            (e.has(concept), e.absent.contains(concept))
        };
        // The English lexicon also knows "vomit": the French "ne" denies it.
        assert_eq!(judged("il ne vomit plus", "vomiting"), (false, true));
        assert_eq!(judged("je n'ai pas de fièvre", "fever"), (false, true));
        assert_eq!(judged("elle ne tousse pas", "cough"), (false, true));
        // "na" negates (after the words) in Hindi but means "and" in
        // Swahili: in a Swahili message, the Hindi lexicon's match of
        // "warfarin" is not denied by it.
        let mentions = x.extract("natumia warfarin na nina homa");
        assert!(mentions.iter().all(|m| !m.negated), "{mentions:?}");
        // French phrases that carry their own "ne ... pas" still report the symptom.
        assert_eq!(
            judged("il ne peut pas avaler sa salive", "cannot_swallow"),
            (true, false)
        );
        // Hindi written in Latin letters negates after the words.
        assert_eq!(judged("mujhe bukhar nahi hai", "fever"), (false, true));
    }

    #[test]
    fn doubt_is_not_denial() {
        for (text, concept) in [
            ("not sure if he has a fever", "fever"),
            ("I don't know if my chest hurts", "chest_pain"),
            ("no sé si tiene fiebre", "fever"),
            ("je ne sais pas s'il a de la fièvre", "fever"),
            ("não sei se tem febre", "fever"),
            ("sina uhakika kama ana homa", "fever"),
            ("पता नहीं बुखार है", "fever"),
        ] {
            assert!(present(text).contains(concept), "{text:?}");
        }
        // A phrase that carries its own negation is never denied by a cue before it.
        assert!(present("no, I can't swallow at all").contains("cannot_swallow"));
        assert!(present("no puedo tragar").contains("cannot_swallow"));
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

    #[test]
    fn gaps_and_alternatives_match_within_a_clause() {
        let toks = tokenize("my lips and tongue are swelling, and I feel odd");
        let phrase = phrase_tokens("lips|tongue|throat .. swell*");
        let spans = find(&toks, &phrase);
        assert!(!spans.is_empty(), "{toks:?} {phrase:?}");
        let (s, e) = spans[0];
        assert_eq!(toks[s], "lips");
        assert!(toks[e - 1].starts_with("swell"));
        // Not across a clause break, and not further than the gap allows.
        assert!(find(&tokenize("my lips. Later my ankle was swelling"), &phrase).is_empty());
        assert!(find(&tokenize("lips one two three four swelling"), &phrase).is_empty());
    }

    #[test]
    fn a_cue_inside_a_gap_denies_the_phrase() {
        let mut lexicon = prompts::Knowledge::bundled()
            .unwrap()
            .lexicons
            .get(&Language::En)
            .unwrap()
            .clone();
        lexicon.concepts.push(prompts::lexicon::ConceptTerms {
            id: "test_gap".into(),
            terms: vec!["lips .. swell*".into()],
            ..Default::default()
        });
        let c = CompiledLexicon::new(&lexicon);
        let m = c.mentions(&tokenize("her lips are not swelling"), None);
        let gap: Vec<&Mention> = m.iter().filter(|m| m.concept == "test_gap").collect();
        assert!(gap.iter().all(|m| m.negated), "{gap:?}");
        let m = c.mentions(&tokenize("her lips are swelling"), None);
        assert!(m.iter().any(|m| m.concept == "test_gap" && !m.negated));
    }
}
