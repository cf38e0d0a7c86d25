//! Channels patients reach us through. WhatsApp is the one channel; the
//! simulator speaks the same wire format to the same endpoint.

pub mod whatsapp;
