//! Data the agent speaks from: triage protocols, prompt templates and
//! patient-facing messages, one set per supported language.
//!
//! The protocols and message catalogues arrive with the triage-agent issue;
//! this crate already owns the language list because every other crate keys
//! its text by it.

mod language;

pub use language::{Language, UnknownLanguage};
