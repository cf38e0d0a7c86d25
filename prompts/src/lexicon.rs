//! Per-language lexicons: the words and lay phrases patients use for each
//! clinical concept, plus the cues that negate them. The free-text extractor
//! in `agent` matches them; red-flag rules refer to the concept ids.

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
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConceptTerms {
    /// Concept id, shared by all languages (e.g. `chest_pain`).
    pub id: String,
    /// Phrases in this language.
    pub terms: Vec<String>,
}
