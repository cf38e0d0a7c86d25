//! Choosing the next question: the one whose "yes" would raise the red-flag
//! floor the most, among the concepts of rules the patient's answers already
//! partly match. The interview stops when no remaining question could change
//! the disposition, or after `MAX_QUESTIONS`.

use prompts::{Disposition, Knowledge};

use crate::extract::{Evidence, Mention};
use crate::red_flags;

/// Never ask more than this many questions.
pub const MAX_QUESTIONS: usize = 8;

/// The concept to ask about next, if any question could change the outcome.
pub fn next_question(
    knowledge: &Knowledge,
    evidence: &Evidence,
    asked: &[String],
) -> Option<String> {
    if asked.len() >= MAX_QUESTIONS {
        return None;
    }
    let current = red_flags::floor(&red_flags::evaluate(&knowledge.rules, evidence));
    let mut best: Option<(Disposition, usize, String)> = None;
    for (order, rule) in knowledge.rules.rules.iter().enumerate() {
        // Only rules the patient's story already touches.
        if !rule.concepts().any(|c| evidence.has(c)) {
            continue;
        }
        for concept in rule.concepts() {
            let known = evidence.has(concept) || evidence.absent.contains(concept);
            if known
                || asked.iter().any(|a| a == concept)
                || knowledge.question(prompts::Language::En, concept).is_none()
            {
                continue;
            }
            let mut hypothetical = evidence.clone();
            hypothetical.absorb(vec![Mention {
                concept: concept.to_owned(),
                words: String::new(),
                negated: false,
                language: prompts::Language::En,
            }]);
            let Some(potential) =
                red_flags::floor(&red_flags::evaluate(&knowledge.rules, &hypothetical))
            else {
                continue;
            };
            if current.is_some_and(|c| potential <= c) {
                continue; // a "yes" would not change the disposition
            }
            let better = match &best {
                None => true,
                Some((p, o, _)) => potential > *p || (potential == *p && order < *o),
            };
            if better {
                best = Some((potential, order, concept.to_owned()));
            }
        }
    }
    best.map(|(_, _, concept)| concept)
}

/// Reads a yes/no answer typed in any supported language.
pub fn yes_or_no(text: &str, knowledge: &Knowledge) -> Option<bool> {
    let t = text.trim().trim_end_matches(['.', '!']).to_lowercase();
    let catalog_says = |key: &str| {
        knowledge
            .messages
            .values()
            .any(|c| c.messages.get(key).is_some_and(|m| m.to_lowercase() == t))
    };
    const YES: &[&str] = &[
        "yes",
        "y",
        "yeah",
        "yep",
        "si",
        "sí",
        "oui",
        "sim",
        "haan",
        "ha",
        "हाँ",
        "हां",
        "ndiyo",
        "ndio",
    ];
    const NO: &[&str] = &[
        "no",
        "n",
        "nope",
        "non",
        "não",
        "nao",
        "nahi",
        "nahin",
        "नहीं",
        "hapana",
        "la",
    ];
    if YES.contains(&t.as_str()) || catalog_says("answer_yes") || catalog_says("answer_unsure") {
        Some(true)
    } else if NO.contains(&t.as_str()) || catalog_says("answer_no") {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Extractor;

    fn evidence(text: &str) -> Evidence {
        let k = Knowledge::bundled().unwrap();
        let mut e = Evidence::default();
        e.absorb(Extractor::new(&k.lexicons).extract(text));
        e
    }

    #[test]
    fn asks_what_would_raise_urgency_given_the_story() {
        let k = Knowledge::bundled().unwrap();
        let q = next_question(k, &evidence("my chest hurts"), &[]);
        assert!(
            matches!(q.as_deref(), Some("sweating" | "breathless")),
            "{q:?}"
        );
        // Nothing touched by any rule: nothing to ask.
        assert_eq!(next_question(k, &evidence("hello"), &[]), None);
    }

    #[test]
    fn stops_when_no_answer_could_change_the_disposition() {
        let k = Knowledge::bundled().unwrap();
        let e = evidence("chest pain and sweating");
        // Already at the top floor for this story: no question is worth asking.
        assert_eq!(next_question(k, &e, &[]), None);
        let asked: Vec<String> = (0..MAX_QUESTIONS).map(|i| format!("q{i}")).collect();
        assert_eq!(next_question(k, &evidence("my chest hurts"), &asked), None);
    }

    #[test]
    fn yes_and_no_are_understood_in_every_language() {
        let k = Knowledge::bundled().unwrap();
        for yes in ["Yes", "sí", "Oui", "sim", "हाँ", "Ndiyo", "Not sure"] {
            assert_eq!(yes_or_no(yes, k), Some(true), "{yes}");
        }
        for no in ["no", "Non", "não", "नहीं", "hapana"] {
            assert_eq!(yes_or_no(no, k), Some(false), "{no}");
        }
        assert_eq!(yes_or_no("my chest hurts", k), None);
    }
}
