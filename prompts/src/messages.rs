//! Patient-facing messages, one catalogue per language, every key in every
//! language (checked at load).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::Language;

/// One language's messages (`data/messages/<lang>.toml`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageCatalog {
    /// Its language.
    pub language: Language,
    /// Message key → text. `{name}` placeholders are filled by the caller.
    pub messages: BTreeMap<String, String>,
}

/// Keys every catalogue must have.
pub const REQUIRED_KEYS: &[&str] = &[
    // Every reply carries it: not a diagnosis, and how to reach emergency help.
    "safety_line",
    "acknowledge",
    "acknowledge_file",
    // Said at once when a red flag fires, whatever else fails.
    "emergency_ambulance",
    "emergency_department",
    "urgent_24h",
    "routine",
    "self_care",
    // Self-harm mentions: always, with the crisis line.
    "crisis",
    "help",
    "cancelled",
    "restarted",
    "session_expired",
    // Reply buttons of yes/no questions (≤ 20 characters: WhatsApp's limit).
    "answer_yes",
    "answer_no",
    "answer_unsure",
    "thanks_answers",
    // Interview questions that are not yes/no: typed answers, no buttons.
    "ask_severity",
    "ask_duration",
    // Messages that are not symptoms: a greeting, thanks, a question about
    // the service, a medicine, an appointment, a document.
    "welcome",
    "open_question",
    "thanks_reply",
    "goodbye_reply",
    "about_service",
    "medication_question",
    "booking_triage_first",
    "document_intent",
    // After "Injury or fall" in the menu: what happened, and where.
    "ask_injury",
    // After a person was asked for and nothing is known yet.
    "handoff_meanwhile",
    // With the outcome, when warning signs stayed in doubt.
    "doubt_safety_net",
    // The complaint menu (a WhatsApp list) offered when a message is not
    // understood.
    "menu_button",
    "menu_section",
    "menu_chest_pain",
    "menu_breathing",
    "menu_fever",
    "menu_headache",
    "menu_abdominal_pain",
    "menu_cough_cold",
    "menu_injury",
    "menu_rash_skin",
    "menu_mental_health",
    "menu_person",
    // Hand-offs to a clinician; each repeats when to call emergency help.
    "handoff_not_understood",
    "handoff_person",
    "handoff_doubt",
    "handoff_waiting",
    // After a finished triage.
    "followup_done",
    "new_episode",
    // Languages, scripts and message kinds we cannot handle.
    "unsupported_language",
    "unsupported_input",
    "language_set",
];

/// Messages shown as WhatsApp button or list titles, with Meta's length
/// limits in characters (reply button title 20, list button label 20,
/// section title 24, row title 24; see `server/src/channel/whatsapp/message.rs`).
pub const TITLE_LIMITS: &[(&str, usize)] = &[
    ("answer_yes", 20),
    ("answer_no", 20),
    ("answer_unsure", 20),
    ("menu_button", 20),
    ("menu_section", 24),
    ("menu_chest_pain", 24),
    ("menu_breathing", 24),
    ("menu_fever", 24),
    ("menu_headache", 24),
    ("menu_abdominal_pain", 24),
    ("menu_cough_cold", 24),
    ("menu_injury", 24),
    ("menu_rash_skin", 24),
    ("menu_mental_health", 24),
    ("menu_person", 24),
];

/// Placeholders the agent fills, which every translation must keep.
pub const PLACEHOLDERS: &[(&str, &[&str])] = &[
    ("handoff_not_understood", &["{minutes}"]),
    ("handoff_person", &["{minutes}"]),
    ("handoff_doubt", &["{minutes}"]),
    ("handoff_waiting", &["{minutes}"]),
    ("followup_done", &["{advice}"]),
];

impl MessageCatalog {
    /// Titles too long for WhatsApp and placeholders a translation lost, in
    /// plain words (missing keys are [`crate::Knowledge`]'s check).
    pub fn format_problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let lang = self.language;
        for (key, limit) in TITLE_LIMITS {
            if let Some(text) = self.messages.get(*key) {
                let len = text.chars().count();
                if len > *limit {
                    out.push(format!(
                        "message `{key}` ({lang}) has {len} characters; WhatsApp allows {limit}"
                    ));
                }
            }
        }
        for (key, placeholders) in PLACEHOLDERS {
            if let Some(text) = self.messages.get(*key) {
                for placeholder in *placeholders {
                    if !text.contains(placeholder) {
                        out.push(format!("message `{key}` ({lang}) lacks {placeholder}"));
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Knowledge;

    #[test]
    fn every_catalogue_has_every_key_with_titles_that_fit() {
        let knowledge = Knowledge::bundled().unwrap_or_else(|e| panic!("{e}"));
        for lang in Language::ALL {
            let catalog = &knowledge.messages[&lang];
            for key in REQUIRED_KEYS {
                assert!(
                    catalog
                        .messages
                        .get(*key)
                        .is_some_and(|m| !m.trim().is_empty()),
                    "`{key}` is missing in {lang}"
                );
            }
            assert_eq!(catalog.format_problems(), Vec::<String>::new());
        }
    }

    #[test]
    fn limits_and_placeholders_name_required_keys() {
        let keys = TITLE_LIMITS
            .iter()
            .map(|(k, _)| *k)
            .chain(PLACEHOLDERS.iter().map(|(k, _)| *k));
        for key in keys {
            assert!(REQUIRED_KEYS.contains(&key), "`{key}` is not required");
        }
    }

    #[test]
    fn a_long_title_and_a_lost_placeholder_are_reported() {
        let catalog = MessageCatalog {
            language: Language::Es,
            messages: BTreeMap::from([
                (
                    "menu_fever".to_owned(),
                    "Fiebre alta con escalofríos".to_owned(),
                ),
                (
                    "handoff_waiting".to_owned(),
                    "Le responderemos pronto.".to_owned(),
                ),
            ]),
        };
        assert_eq!(
            catalog.format_problems(),
            vec![
                "message `menu_fever` (es) has 27 characters; WhatsApp allows 24".to_owned(),
                "message `handoff_waiting` (es) lacks {minutes}".to_owned(),
            ]
        );
    }

    #[test]
    fn the_agent_never_repeats_the_safety_line_itself() {
        // The agent appends `safety_line` to every reply.
        let knowledge = Knowledge::bundled().unwrap_or_else(|e| panic!("{e}"));
        for lang in Language::ALL {
            let catalog = &knowledge.messages[&lang];
            let safety = &catalog.messages["safety_line"];
            for (key, text) in &catalog.messages {
                assert!(
                    !text.contains(safety.as_str()) || key == "safety_line",
                    "{key} ({lang})"
                );
            }
        }
    }
}
