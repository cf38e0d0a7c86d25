//! Yes/no questions that establish one concept each, per language. The
//! interview asks them; a concept with no question is never asked about.

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
}
