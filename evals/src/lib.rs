//! Eval suites for triage accuracy and safety: suite format, runner, patient
//! simulator, metrics and the CI gate.
//!
//! Empty until the evals issue; it already depends on `agent` and `prompts`,
//! the two crates it measures.
