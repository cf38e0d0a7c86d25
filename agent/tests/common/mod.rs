//! Helpers shared by the lexicon test files.

use agent::extract::{Extractor, Mention};
use prompts::Knowledge;

/// The extractor over the bundled lexicons.
pub fn extractor() -> Extractor {
    Extractor::new(&Knowledge::bundled().unwrap().lexicons)
}

/// Mentions as `concept="words"`, denied ones prefixed with `!`, for failure messages.
pub fn describe(mentions: &[Mention]) -> String {
    mentions
        .iter()
        .map(|m| {
            format!(
                "{}{}={:?}",
                if m.negated { "!" } else { "" },
                m.concept,
                m.words
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}
