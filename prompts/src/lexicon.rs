//! Per-language lexicons: the words and lay phrases patients use for each
//! clinical concept, plus the cues that negate them. The free-text extractor
//! in `agent` matches them; red-flag rules refer to the concept ids.
//!
//! Besides phrases, a lexicon carries the shorthand its writers use:
//! `[abbreviations]` are expanded case-sensitively before anything else
//! ("SOB" is breathlessness, "I sob at night" is not), `[respellings]`
//! rewrite one lower-case word of text-speak ("2day", "bcoz", "chst"), and a
//! concept's `denials` are phrases that mean the concept is absent
//! ("afebrile", "neck supple", "in no distress").

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::Language;

/// One language's lexicon (`data/lexicon/<lang>.toml`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lexicon {
    /// Its language.
    pub language: Language,
    /// Words that negate a concept that follows within `negation_window`
    /// words ("no", "not", "sin", "pas de", "hakuna"…). Matched as phrases.
    pub negations: Vec<String>,
    /// Phrases of doubt that contain a negation cue ("not sure", "no sé",
    /// "je ne sais pas", "sina uhakika"): the cue inside them negates
    /// nothing, so "not sure if he has a fever" keeps the fever (safety
    /// bias: an uncertain mention counts as present).
    #[serde(default)]
    pub uncertainty: Vec<String>,
    /// Words that end a negation's reach ("but", "pero", "mais", "lakini"…).
    #[serde(default)]
    pub clause_breaks: Vec<String>,
    /// How many words after a negation cue it still applies to.
    #[serde(default = "default_window")]
    pub negation_window: usize,
    /// The language also negates *after* the phrase (Hindi: "सीने में दर्द
    /// नहीं है", "no chest pain"), within the same window.
    #[serde(default)]
    pub negation_follows: bool,
    /// Shorthand → its words, expanded in the raw text before lower-casing.
    ///
    /// Keys match case-sensitively and as whole words (no letter or digit
    /// on either side), so `SOB` expands in "pt c/o SOB" but not in "I sob
    /// at night", and `LOC` not in "loc". A key may contain `/`, `&` or `.`
    /// ("c/o", "N/V"). A key starting with `#` only expands right after a
    /// number, with or without a space: `"#yo" = "year old"` reads "3yo" and
    /// "3 yo" but leaves the Spanish "yo" alone. Every lexicon's table
    /// applies to every message (health workers mix languages), so a key
    /// must not be an ordinary word, in upper case, of any language.
    #[serde(default)]
    pub abbreviations: BTreeMap<String, String>,
    /// One lower-case word of text-speak or a common misspelling → the words
    /// it stands for ("2day" = "today", "bcoz" = "because", "chst" =
    /// "chest"). Applied to the tokens of every message after lower-casing,
    /// so a key must not be a word that any lexicon's phrases use.
    #[serde(default)]
    pub respellings: BTreeMap<String, String>,
    /// Concepts and their phrases.
    #[serde(rename = "concept")]
    pub concepts: Vec<ConceptTerms>,
}

fn default_window() -> usize {
    4
}

/// The phrases for one concept. Phrases are matched on whole words after
/// lower-casing and removing accents; a trailing `*` matches any word ending
/// (`sweat*` matches "sweating", "sweaty").
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConceptTerms {
    /// Concept id, shared by all languages (e.g. `chest_pain`).
    pub id: String,
    /// Phrases in this language.
    pub terms: Vec<String>,
    /// Phrases that *deny* the concept by their meaning, with the same
    /// syntax as `terms`: "afebrile" is a negated mention of `fever`, "neck
    /// supple" of `stiff_neck`. A negation cue governing a denial makes a
    /// double negative, read as present ("not afebrile"); doubt before it
    /// ("not sure he's afebrile") leaves the concept unknown. A denial lying
    /// inside a longer term of the same concept is the term's ("non blanching
    /// rash" holds "blanching rash"), and a term inside a longer denial is the
    /// denial's ("chest pain free").
    #[serde(default)]
    pub denials: Vec<String>,
}
