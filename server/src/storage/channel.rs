//! What the messaging channel needs durably: contacts (the 24-hour window,
//! opt-out, blocking) and the outbox of everything we send.
//!
//! Exactly-once for the patient rests on the outbox key: every outbound
//! message is keyed by the inbound event that caused it and its position
//! among that event's messages, so processing a redelivered event again finds
//! the rows already there and sends nothing new.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::StorageError;

/// Someone we talk to on a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// `whatsapp`.
    pub channel: String,
    /// Their address (WhatsApp id). PHI.
    pub address: String,
    /// Their last message: free-form replies are allowed for 24 hours after it.
    pub last_inbound_at: Option<DateTime<Utc>>,
    /// When they sent STOP; nothing is sent to them while set.
    pub opted_out_at: Option<DateTime<Utc>>,
    /// Blocked by an operator: recorded, never answered.
    pub blocked: bool,
}

/// Where an outbound message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Waiting to be sent.
    Pending,
    /// Handed to the API (outcome being recorded).
    Sending,
    /// Accepted by the API.
    Sent,
    /// On the patient's phone.
    Delivered,
    /// Read by the patient.
    Read,
    /// Will not be delivered (see the error code).
    Failed,
}

impl OutboxStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sending => "sending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Delivered => "delivered",
            OutboxStatus::Read => "read",
            OutboxStatus::Failed => "failed",
        }
    }

    /// Position in the life of a message. Status webhooks arrive out of order
    /// (a `read` can overtake its `delivered`): a status only ever moves forward.
    pub fn rank(self) -> i32 {
        match self {
            OutboxStatus::Pending => 0,
            OutboxStatus::Sending => 1,
            OutboxStatus::Sent => 2,
            OutboxStatus::Delivered => 3,
            OutboxStatus::Read => 4,
            OutboxStatus::Failed => 5,
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self, StorageError> {
        Ok(match s {
            "pending" => OutboxStatus::Pending,
            "sending" => OutboxStatus::Sending,
            "sent" => OutboxStatus::Sent,
            "delivered" => OutboxStatus::Delivered,
            "read" => OutboxStatus::Read,
            "failed" => OutboxStatus::Failed,
            other => return Err(StorageError::Corrupt(format!("outbox status `{other}`"))),
        })
    }
}

/// An outbound message to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOutbox {
    /// Key of the inbound event (or other cause) that produced it.
    pub cause_key: String,
    /// Its position among the messages of that cause.
    pub seq: i32,
    /// `whatsapp`.
    pub channel: String,
    /// Recipient address.
    pub recipient: String,
    /// The channel message (serialized).
    pub body: serde_json::Value,
    /// The conversation it belongs to, recorded when it is sent. Set by
    /// whoever writes the row: the patient may have opened a new
    /// conversation by the time a reply to the old one goes out.
    pub conversation_id: Option<Uuid>,
}

/// A stored outbound message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxRow {
    /// Id.
    pub id: Uuid,
    /// Cause key.
    pub cause_key: String,
    /// Position within the cause.
    pub seq: i32,
    /// Channel.
    pub channel: String,
    /// Recipient. PHI.
    pub recipient: String,
    /// The channel message.
    pub body: serde_json::Value,
    /// The conversation it belongs to (rows written before migration 0004
    /// have none).
    pub conversation_id: Option<Uuid>,
    /// Where it is.
    pub status: OutboxStatus,
    /// The channel's id once sent (`wamid`).
    pub external_id: Option<String>,
    /// Send attempts so far.
    pub attempts: i32,
    /// The channel's error code of the last failure.
    pub last_error_code: Option<i64>,
    /// The last failure, in words.
    pub last_error: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Contacts and the outbox.
#[async_trait]
pub trait ChannelStore: Send + Sync + std::fmt::Debug {
    /// Records an inbound message at `at` (the 24-hour window runs from the latest).
    async fn record_inbound(
        &self,
        channel: &str,
        address: &str,
        at: DateTime<Utc>,
    ) -> Result<Contact, StorageError>;

    /// The contact, if we ever heard from or wrote to them.
    async fn contact(&self, channel: &str, address: &str) -> Result<Option<Contact>, StorageError>;

    /// Sets or clears the opt-out (STOP / START).
    async fn set_opted_out(
        &self,
        channel: &str,
        address: &str,
        opted_out: bool,
    ) -> Result<(), StorageError>;

    /// Blocks or unblocks a contact.
    async fn set_blocked(
        &self,
        channel: &str,
        address: &str,
        blocked: bool,
    ) -> Result<(), StorageError>;

    /// Stores outbound messages, once per (cause, seq); returns the stored rows
    /// (new or already there) in the order given.
    async fn put_outbox(&self, rows: &[NewOutbox]) -> Result<Vec<OutboxRow>, StorageError>;

    /// One outbox row.
    async fn outbox_row(&self, id: Uuid) -> Result<Option<OutboxRow>, StorageError>;

    /// Marks a pending (or interrupted) row as being sent and counts the
    /// attempt. `None` when the row is already past sending.
    async fn begin_send(&self, id: Uuid) -> Result<Option<OutboxRow>, StorageError>;

    /// Records a successful send.
    async fn finish_send(&self, id: Uuid, external_id: &str) -> Result<(), StorageError>;

    /// Records a failed attempt: back to pending when `retry`, else failed.
    async fn fail_send(
        &self,
        id: Uuid,
        code: Option<i64>,
        error: &str,
        retry: bool,
    ) -> Result<(), StorageError>;

    /// Replaces the message of a row not yet sent (e.g. by a template outside
    /// the 24-hour window).
    async fn replace_outbox_body(
        &self,
        id: Uuid,
        body: serde_json::Value,
    ) -> Result<(), StorageError>;

    /// Applies a delivery status report, forward only. Returns the row if it changed.
    async fn apply_delivery_status(
        &self,
        external_id: &str,
        status: OutboxStatus,
        code: Option<i64>,
        error: Option<&str>,
    ) -> Result<Option<OutboxRow>, StorageError>;

    /// A recipient's outbox, oldest first.
    async fn outbox_for(
        &self,
        channel: &str,
        recipient: &str,
        limit: u32,
    ) -> Result<Vec<OutboxRow>, StorageError>;
}

pub(crate) type ContactRow = (
    String,
    String,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    bool,
);

pub(crate) fn contact_from_row(
    (channel, address, last_inbound_at, opted_out_at, blocked): ContactRow,
) -> Contact {
    Contact {
        channel,
        address,
        last_inbound_at,
        opted_out_at,
        blocked,
    }
}

pub(crate) type OutboxTuple = (
    Uuid,
    String,
    i32,
    String,
    String,
    serde_json::Value,
    Option<Uuid>,
    String,
    Option<String>,
    i32,
    Option<i64>,
    Option<String>,
    DateTime<Utc>,
    DateTime<Utc>,
);

pub(crate) fn outbox_from_row(row: OutboxTuple) -> Result<OutboxRow, StorageError> {
    let (
        id,
        cause_key,
        seq,
        channel,
        recipient,
        body,
        conversation_id,
        status,
        external_id,
        attempts,
        last_error_code,
        last_error,
        created_at,
        updated_at,
    ) = row;
    Ok(OutboxRow {
        id,
        cause_key,
        seq,
        channel,
        recipient,
        body,
        conversation_id,
        status: OutboxStatus::parse(&status)?,
        external_id,
        attempts,
        last_error_code,
        last_error,
        created_at,
        updated_at,
    })
}
