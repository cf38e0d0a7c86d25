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
];
