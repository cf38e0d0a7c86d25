//! WhatsApp Business Cloud API: webhooks in, messages out.

pub mod event;
pub mod signature;
pub mod webhook;
