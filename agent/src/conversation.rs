//! The seam between channels and the agent: `step(state, input, ctx)`.
//!
//! The core is pure: no I/O, no clock reads (time comes in `StepContext`), so
//! the same function runs in the server's workers, in `triage chat` and in
//! `evals`, and a redelivered message replayed against the same state gives
//! the same actions.
//!
//! Today `step` only acknowledges, with the safety line every reply carries;
//! the interview, red-flag engine and dispositions arrive with the triage
//! agent issue behind this same signature.

use serde::{Deserialize, Serialize};

/// What the agent remembers between turns. Stored by the server (Redis with a
/// TTL, or SQLite) and passed back on the next message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConversationState {
    /// Patient messages handled so far.
    pub turns: u32,
    /// Key of the last input applied, so a redelivered input is not applied twice.
    pub last_input_key: Option<String>,
}

/// One thing the patient did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PatientInput {
    /// Free text.
    Text {
        /// What they wrote.
        text: String,
    },
    /// A tap on one of the choices we offered.
    Choice {
        /// The choice id we gave.
        id: String,
        /// Its visible title.
        title: String,
    },
    /// A photo or document (a medical report, usually).
    Attachment {
        /// `image`, `document`, …
        kind: String,
        /// Caption typed with it.
        caption: Option<String>,
    },
    /// Anything else (location, voice note, sticker, unsupported type).
    Other {
        /// The channel's type name.
        kind: String,
    },
}

/// Time and identity of the input, supplied by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct StepContext {
    /// Unique key of this input (e.g. the WhatsApp message id); replaying the
    /// same key against the state that already applied it is a no-op.
    pub input_key: String,
    /// Unix seconds when the patient sent it.
    pub sent_at: i64,
}

/// A choice offered to the patient (a reply button or a list row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// Id returned when chosen.
    pub id: String,
    /// Visible title.
    pub title: String,
}

/// What the agent wants done. Channels render replies within their own limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Send text.
    Reply {
        /// The text.
        text: String,
    },
    /// Ask with a few choices (rendered as buttons or a list).
    Ask {
        /// The question.
        text: String,
        /// The choices.
        choices: Vec<Choice>,
    },
}

/// The line every reply carries: not a diagnosis, and how to reach emergency help.
pub const SAFETY_LINE: &str = "This service does not give a diagnosis. If you think this is an emergency, call your local emergency number now.";

/// Applies one patient input to the conversation.
pub fn step(
    state: ConversationState,
    input: &PatientInput,
    ctx: &StepContext,
) -> (ConversationState, Vec<Action>) {
    if state.last_input_key.as_deref() == Some(ctx.input_key.as_str()) {
        // Redelivery of an input already applied: nothing new to do or say.
        return (state, Vec::new());
    }
    let text = match input {
        PatientInput::Attachment { .. } => {
            format!("Thank you, we received your file. {SAFETY_LINE}")
        }
        _ => format!(
            "Thank you, we received your message. A triage assistant will reply here. {SAFETY_LINE}"
        ),
    };
    let next = ConversationState {
        turns: state.turns.saturating_add(1),
        last_input_key: Some(ctx.input_key.clone()),
    };
    (next, vec![Action::Reply { text }])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(key: &str) -> StepContext {
        StepContext {
            input_key: key.to_owned(),
            sent_at: 1_700_000_000,
        }
    }

    #[test]
    fn every_reply_carries_the_safety_line() {
        let (state, actions) = step(
            ConversationState::default(),
            &PatientInput::Text {
                text: "my chest hurts".into(),
            },
            &ctx("m1"),
        );
        assert_eq!(state.turns, 1);
        let [Action::Reply { text }] = actions.as_slice() else {
            panic!("one reply expected: {actions:?}")
        };
        assert!(text.contains(SAFETY_LINE));
    }

    #[test]
    fn replaying_the_same_input_changes_nothing() {
        let input = PatientInput::Text {
            text: "hello".into(),
        };
        let (state, _) = step(ConversationState::default(), &input, &ctx("m1"));
        let (again, actions) = step(state.clone(), &input, &ctx("m1"));
        assert_eq!(again, state);
        assert!(actions.is_empty());
        let (next, actions) = step(state, &input, &ctx("m2"));
        assert_eq!(next.turns, 2);
        assert_eq!(actions.len(), 1);
    }
}
