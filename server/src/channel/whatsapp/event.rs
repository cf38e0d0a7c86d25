//! What a webhook delivery means to us: one event per inbound message or
//! delivery status. Events are what the queue stores and workers process, so
//! this shape is persisted: extend it compatibly (new optional fields, new
//! variants).

use serde::{Deserialize, Serialize};

/// One thing that happened on WhatsApp.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ChannelEvent {
    /// A patient sent us a message.
    Message(InboundMessage),
    /// A message we sent changed state.
    Status(StatusUpdate),
}

impl ChannelEvent {
    /// Ordering key: the patient's WhatsApp id (sender of a message, recipient
    /// of a status), so one patient's events are processed in order.
    pub fn partition(&self) -> &str {
        match self {
            ChannelEvent::Message(m) => &m.from,
            ChannelEvent::Status(s) => &s.recipient_id,
        }
    }

    /// Idempotency key: Meta redelivers the same webhook; this key is the same
    /// for every delivery of one event and different across events.
    pub fn dedupe_key(&self) -> String {
        match self {
            ChannelEvent::Message(m) => format!("msg:{}", m.id),
            ChannelEvent::Status(s) => format!("status:{}:{}", s.message_id, s.status.as_str()),
        }
    }
}

/// An inbound message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundMessage {
    /// The business phone number id that received it (`metadata.phone_number_id`).
    pub phone_number_id: String,
    /// Sender's WhatsApp id (`messages[].from`). PHI: mask in logs.
    pub from: String,
    /// WhatsApp message id (`wamid.…`).
    pub id: String,
    /// Unix seconds, as sent by Meta.
    pub timestamp: i64,
    /// Sender's profile name from `contacts[]`, if given. PHI.
    pub profile_name: Option<String>,
    /// The message this one replies to (`context.id`), if any.
    pub context_id: Option<String>,
    /// What was sent.
    pub content: MessageContent,
}

/// The content of an inbound message, by WhatsApp message type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MessageContent {
    /// `text`.
    Text {
        /// The text.
        body: String,
    },
    /// `interactive` with `button_reply`: a tap on one of our reply buttons.
    ButtonReply {
        /// The id we gave the button.
        id: String,
        /// Its title.
        title: String,
    },
    /// `interactive` with `list_reply`: a row chosen from one of our lists.
    ListReply {
        /// The id we gave the row.
        id: String,
        /// Its title.
        title: String,
        /// Its description.
        description: Option<String>,
    },
    /// `button`: a quick-reply button of a template message.
    Button {
        /// The button's payload.
        payload: Option<String>,
        /// The button's text.
        text: String,
    },
    /// `image`.
    Image {
        /// The media.
        media: Media,
    },
    /// `document` (PDF reports, mostly).
    Document {
        /// The media.
        media: Media,
        /// The file name the patient's phone gave it.
        filename: Option<String>,
    },
    /// `audio` (voice notes).
    Audio {
        /// The media.
        media: Media,
    },
    /// `video`.
    Video {
        /// The media.
        media: Media,
    },
    /// `sticker`.
    Sticker {
        /// The media.
        media: Media,
    },
    /// `location`.
    Location {
        /// Latitude.
        latitude: f64,
        /// Longitude.
        longitude: f64,
        /// Place name.
        name: Option<String>,
        /// Address.
        address: Option<String>,
    },
    /// `reaction` to one of the messages in the chat.
    Reaction {
        /// The message reacted to.
        message_id: String,
        /// The emoji; absent when a reaction is removed.
        emoji: Option<String>,
    },
    /// `unsupported`, `unknown`, or a type we do not know yet: recorded, not an error.
    Unsupported {
        /// The `type` field as sent.
        original_type: String,
        /// Meta's explanation (`errors[].title` / `details`), if any.
        detail: Option<String>,
    },
}

impl MessageContent {
    /// The WhatsApp type name, for records and metrics.
    pub fn kind(&self) -> &str {
        match self {
            MessageContent::Text { .. } => "text",
            MessageContent::ButtonReply { .. } => "button_reply",
            MessageContent::ListReply { .. } => "list_reply",
            MessageContent::Button { .. } => "button",
            MessageContent::Image { .. } => "image",
            MessageContent::Document { .. } => "document",
            MessageContent::Audio { .. } => "audio",
            MessageContent::Video { .. } => "video",
            MessageContent::Sticker { .. } => "sticker",
            MessageContent::Location { .. } => "location",
            MessageContent::Reaction { .. } => "reaction",
            MessageContent::Unsupported { .. } => "unsupported",
        }
    }
}

/// A media attachment, to be downloaded through the Graph API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Media {
    /// Media id for `GET /{media-id}`.
    pub id: String,
    /// MIME type as declared by WhatsApp (verified again after download).
    pub mime_type: Option<String>,
    /// SHA-256 as declared by WhatsApp.
    pub sha256: Option<String>,
    /// Caption typed with it.
    pub caption: Option<String>,
}

/// A delivery status of a message we sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusUpdate {
    /// The business phone number id.
    pub phone_number_id: String,
    /// The `wamid` of our message.
    pub message_id: String,
    /// The patient's WhatsApp id.
    pub recipient_id: String,
    /// The new state.
    pub status: DeliveryStatus,
    /// Unix seconds.
    pub timestamp: i64,
    /// Why it failed (`failed` statuses).
    pub errors: Vec<GraphErrorDetail>,
}

/// Delivery states Meta reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Accepted by WhatsApp.
    Sent,
    /// On the patient's phone.
    Delivered,
    /// Opened.
    Read,
    /// Could not be delivered.
    Failed,
    /// A state we do not know (e.g. `deleted`, `warning`).
    Other(String),
}

impl DeliveryStatus {
    /// Parses Meta's status string.
    pub fn parse(s: &str) -> DeliveryStatus {
        match s {
            "sent" => DeliveryStatus::Sent,
            "delivered" => DeliveryStatus::Delivered,
            "read" => DeliveryStatus::Read,
            "failed" => DeliveryStatus::Failed,
            other => DeliveryStatus::Other(other.to_owned()),
        }
    }

    /// The name as Meta spells it.
    pub fn as_str(&self) -> &str {
        match self {
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Read => "read",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Other(s) => s,
        }
    }
}

/// One entry of an `errors` array (webhooks and Graph API error bodies).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphErrorDetail {
    /// Meta's numeric error code (e.g. 131047 = outside the 24-hour window).
    pub code: i64,
    /// Short title.
    pub title: Option<String>,
    /// Message.
    pub message: Option<String>,
    /// `error_data.details`.
    pub details: Option<String>,
}
