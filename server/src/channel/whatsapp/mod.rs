//! WhatsApp Business Cloud API: webhooks in, messages out.

pub mod event;
pub mod graph;
pub mod message;
pub mod processor;
pub mod render;
pub mod routes;
pub mod runtime;
pub mod sender;
pub mod session;
pub mod signature;
pub mod simulator;
pub mod sink;
pub mod webhook;
