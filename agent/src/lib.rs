//! The triage agent: interview state machine, red-flag safety engine,
//! dispositions and model backends.
//!
//! The agent core is pure: every side effect sits behind a trait, so the same
//! code runs in the server and in `evals`.

pub mod conversation;
pub mod extract;
pub mod interview;
pub mod model;
pub mod quantities;
pub mod red_flags;

pub use conversation::{
    Action, Agent, Choice, ConversationState, PatientInput, Stage, StepContext,
};
pub use prompts::{Disposition, UnknownDisposition};
