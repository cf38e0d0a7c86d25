//! Data the agent speaks from: triage protocols, prompt templates and
//! patient-facing messages, one set per supported language.
//!
//! Everything here is data compiled into the binary and validated at load
//! ([`Knowledge::bundled`]); the agent reads it, never the other way round.

pub mod applicability;
mod disposition;
pub mod doubt;
pub mod intents;
pub mod knowledge;
mod language;
pub mod lexicon;
pub mod messages;
pub mod protocols;
pub mod questions;
pub mod red_flags;
pub mod vitals;

pub use knowledge::{Knowledge, KnowledgeError, Sources, TRIAGE_SYSTEM_PROMPT};

pub use disposition::{Disposition, UnknownDisposition};
pub use language::{Language, UnknownLanguage};
