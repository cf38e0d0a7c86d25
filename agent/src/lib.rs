//! The triage agent: interview state machine, red-flag safety engine,
//! dispositions and model backends.
//!
//! The agent core is pure: every side effect sits behind a trait, so the same
//! code runs in the server and in `evals`.

pub mod conversation;
pub mod demographics;
pub mod extract;
pub mod handoff;
pub mod intent;
pub mod interview;
pub mod language;
pub mod model;
pub mod normalize;
pub mod quantities;
pub mod red_flags;
pub mod vitals;

pub use conversation::{
    Action, Agent, Choice, ConversationState, PatientInput, Stage, StepContext,
};
pub use handoff::{Handoff, HandoffReason};
pub use prompts::{Disposition, UnknownDisposition};
