//! Hand-off to a clinician: when the agent cannot understand the patient,
//! when the patient asks for a person, or when a possibly serious sign stays
//! in doubt after a concrete follow-up. The conversation is then in the
//! `escalated_to_clinician` stage, listed for clinicians with its reason and
//! a review deadline, and the patient is told honestly when someone will
//! reply, with safety-netting.

use prompts::Disposition;
use serde::{Deserialize, Serialize};

/// Why a clinician was asked to take over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffReason {
    /// Two messages in a row that the agent could not read as a problem.
    NotUnderstood,
    /// The patient asked for a nurse, a doctor or a person.
    PatientAsked,
    /// A possibly serious sign stayed unclear after a concrete follow-up.
    UnresolvedDoubt,
}

impl HandoffReason {
    /// The stable name used in reports and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            HandoffReason::NotUnderstood => "not_understood",
            HandoffReason::PatientAsked => "patient_asked",
            HandoffReason::UnresolvedDoubt => "unresolved_doubt",
        }
    }
}

/// A request for a clinician to take over the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handoff {
    /// Why.
    pub reason: HandoffReason,
    /// The disposition the hand-off carries: at least the level whose
    /// clinician-review time is the promised reply time, so the report sorts
    /// where its deadline says it must.
    pub disposition: Disposition,
    /// Minutes within which a clinician is to reply (told to the patient).
    pub review_minutes: u32,
    /// The patient turn that asked for it.
    pub at_turn: u32,
    /// Concepts left in doubt (for `unresolved_doubt`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub concepts: Vec<String>,
}

impl Handoff {
    /// A hand-off for `reason` at `disposition`, reviewed within that
    /// level's clinician-review time.
    pub fn new(reason: HandoffReason, disposition: Disposition, at_turn: u32) -> Handoff {
        Handoff {
            reason,
            disposition,
            review_minutes: disposition.clinician_review_minutes(),
            at_turn,
            concepts: Vec::new(),
        }
    }
}
