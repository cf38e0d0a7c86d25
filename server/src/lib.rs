//! The `triage` server: configuration, storage, HTTP, workers.
//!
//! The binary (`main.rs`) only parses the command line; everything it does is
//! here so tests can run the same code in-process on a random port.

pub mod app;
pub mod channel;
pub mod chat;
pub mod cli;
pub mod config;
pub mod http;
pub mod model;
pub mod readiness;
pub mod storage;
pub mod telemetry;
pub mod triage_report;
pub mod worker;
