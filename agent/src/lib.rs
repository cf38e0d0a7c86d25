//! The triage agent: interview state machine, red-flag safety engine,
//! dispositions and model backends.
//!
//! The agent core is pure: every side effect sits behind a trait, so the same
//! code runs in the server and in `evals`.

mod disposition;

pub use disposition::{Disposition, UnknownDisposition};
