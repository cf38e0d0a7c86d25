//! Durable records: conversations and their messages.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::StorageError;

/// Whether a conversation is still going on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    /// Receiving messages.
    Open,
    /// Finished (triaged, cancelled or expired).
    Closed,
}

impl ConversationStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationStatus::Open => "open",
            ConversationStatus::Closed => "closed",
        }
    }

    fn parse(s: &str) -> Result<Self, StorageError> {
        match s {
            "open" => Ok(ConversationStatus::Open),
            "closed" => Ok(ConversationStatus::Closed),
            other => Err(StorageError::Corrupt(format!(
                "conversation status `{other}`"
            ))),
        }
    }
}

/// One conversation with one patient on one channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    /// Id.
    pub id: Uuid,
    /// Channel name (`whatsapp`, `simulator`).
    pub channel: String,
    /// The patient's address on that channel (a WhatsApp id). PHI.
    pub patient_ref: String,
    /// Open or closed.
    pub status: ConversationStatus,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Who sent a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the patient.
    Inbound,
    /// From us.
    Outbound,
}

impl Direction {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }

    fn parse(s: &str) -> Result<Self, StorageError> {
        match s {
            "inbound" => Ok(Direction::Inbound),
            "outbound" => Ok(Direction::Outbound),
            other => Err(StorageError::Corrupt(format!(
                "message direction `{other}`"
            ))),
        }
    }
}

/// A message to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    /// The conversation.
    pub conversation_id: Uuid,
    /// Inbound or outbound.
    pub direction: Direction,
    /// The channel's id for it (WhatsApp `wamid…`); unique per direction.
    pub external_id: Option<String>,
    /// `text`, `interactive`, `image`, …
    pub kind: String,
    /// The content as received or sent.
    pub content: serde_json::Value,
}

/// A recorded message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Id.
    pub id: Uuid,
    /// The conversation.
    pub conversation_id: Uuid,
    /// Inbound or outbound.
    pub direction: Direction,
    /// The channel's id for it.
    pub external_id: Option<String>,
    /// Kind.
    pub kind: String,
    /// Content.
    pub content: serde_json::Value,
    /// Recorded.
    pub created_at: DateTime<Utc>,
}

/// What `append_message` did.
#[derive(Debug, Clone, PartialEq)]
pub enum AppendOutcome {
    /// Stored.
    Inserted(Message),
    /// A message with the same external id and direction exists: nothing
    /// stored. The external id is unique across conversations, so a message
    /// is recorded in one conversation only, wherever it was first appended.
    Duplicate {
        /// The existing message.
        existing: Uuid,
        /// The conversation it is in.
        conversation_id: Uuid,
    },
}

/// Conversations and messages.
#[async_trait]
pub trait RecordStore: Send + Sync + std::fmt::Debug {
    /// The patient's open conversation on the channel, created if there is none.
    /// Concurrent calls for the same patient return the same conversation.
    async fn open_conversation(
        &self,
        channel: &str,
        patient_ref: &str,
    ) -> Result<Conversation, StorageError>;

    /// A conversation by id.
    async fn conversation(&self, id: Uuid) -> Result<Option<Conversation>, StorageError>;

    /// Closes a conversation; the patient's next message opens a new one.
    async fn close_conversation(&self, id: Uuid) -> Result<(), StorageError>;

    /// Records a message, once per (direction, external id).
    async fn append_message(&self, message: NewMessage) -> Result<AppendOutcome, StorageError>;

    /// Makes `message` the first message of a new conversation: in one
    /// transaction, closes the conversation it is in and moves it into a new
    /// open conversation of the same patient on the same channel. A message
    /// that already is the first of its conversation stays where it is and
    /// that conversation is returned, so a replay changes nothing.
    async fn open_conversation_from(&self, message: Uuid) -> Result<Conversation, StorageError>;

    /// The conversation's messages, oldest first, at most `limit`.
    async fn messages(
        &self,
        conversation_id: Uuid,
        limit: u32,
    ) -> Result<Vec<Message>, StorageError>;

    /// Every message with the patient on the channel, across all their
    /// conversations, in the order recorded; at most the latest `limit`.
    async fn patient_messages(
        &self,
        channel: &str,
        patient_ref: &str,
        limit: u32,
    ) -> Result<Vec<Message>, StorageError>;

    /// Cheap round trip to the database (readiness).
    async fn ping(&self) -> Result<(), StorageError>;
}

/// Row shapes shared by both SQL backends.
pub(crate) type ConversationRow = (Uuid, String, String, String, DateTime<Utc>, DateTime<Utc>);
pub(crate) type MessageRow = (
    Uuid,
    Uuid,
    String,
    Option<String>,
    String,
    serde_json::Value,
    DateTime<Utc>,
);

pub(crate) fn conversation_from_row(row: ConversationRow) -> Result<Conversation, StorageError> {
    let (id, channel, patient_ref, status, created_at, updated_at) = row;
    Ok(Conversation {
        id,
        channel,
        patient_ref,
        status: ConversationStatus::parse(&status)?,
        created_at,
        updated_at,
    })
}

pub(crate) fn message_from_row(row: MessageRow) -> Result<Message, StorageError> {
    let (id, conversation_id, direction, external_id, kind, content, created_at) = row;
    Ok(Message {
        id,
        conversation_id,
        direction: Direction::parse(&direction)?,
        external_id,
        kind,
        content,
        created_at,
    })
}
