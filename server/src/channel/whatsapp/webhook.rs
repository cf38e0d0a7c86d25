//! Meta's webhook JSON (`object` → `entry[]` → `changes[]` → `value`) turned
//! into [`ChannelEvent`]s.
//!
//! Only bytes that are not a JSON object are an error: Meta keeps retrying a
//! non-2xx delivery with backoff, so a payload we cannot use is recorded in
//! [`ParsedWebhook::ignored`] and acknowledged. A message whose content we
//! cannot read still becomes an event ([`MessageContent::Unsupported`]) so the
//! patient gets an answer. Nothing here logs, and ignore reasons never carry
//! message content (PHI).

use serde::Serialize;
use serde_json::{Map, Value};

use super::event::{
    ChannelEvent, DeliveryStatus, GraphErrorDetail, InboundMessage, Media, MessageContent,
    StatusUpdate,
};

/// `object` of WhatsApp Business Account webhooks.
const WABA_OBJECT: &str = "whatsapp_business_account";
/// The only `changes[].field` that carries messages and statuses.
const MESSAGES_FIELD: &str = "messages";
/// Cap on Meta-supplied strings echoed into ignore reasons (they go to logs and metric labels).
const ECHO_LIMIT: usize = 64;

/// Everything one delivery contained.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ParsedWebhook {
    /// Events in payload order (entries, then changes, then messages before statuses).
    pub events: Vec<ChannelEvent>,
    /// Parts we did not turn into events; acknowledged all the same.
    pub ignored: Vec<IgnoredPart>,
}

/// A part of a valid payload that is not a message or status we can read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IgnoredPart {
    /// The webhook field it came under (`account_update`, `messages`, `statuses`, `entry`, …).
    pub field: String,
    /// Why, without any message content.
    pub reason: String,
}

/// A delivery we cannot read at all (answered 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// Not JSON, or JSON whose top level is not an object.
    #[error("webhook body is not a JSON object: {0}")]
    MalformedJson(String),
}

impl ParsedWebhook {
    fn ignore(&mut self, field: &str, reason: impl Into<String>) {
        self.ignored.push(IgnoredPart {
            field: echo(field),
            reason: reason.into(),
        });
    }
}

/// Parses one webhook delivery. Lenient to unknown and missing fields; see the
/// module docs for what counts as an error.
pub fn parse_webhook(raw_body: &[u8]) -> Result<ParsedWebhook, WebhookError> {
    // serde_json's messages give a position, never the input, so no PHI leaks.
    let root: Value =
        serde_json::from_slice(raw_body).map_err(|e| WebhookError::MalformedJson(e.to_string()))?;
    let root = match root {
        Value::Object(root) => root,
        other => {
            return Err(WebhookError::MalformedJson(format!(
                "top level is {}",
                kind_of(&other)
            )));
        }
    };
    let mut parsed = ParsedWebhook::default();
    // Absent `object` is tolerated (only `entry` matters to us); another
    // product's object (`page`, `instagram`) means none of it is ours.
    if let Some(object) = root.get("object")
        && object.as_str() != Some(WABA_OBJECT)
    {
        parsed.ignore(
            "object",
            format!("object is {}, not {WABA_OBJECT}", describe(object)),
        );
        return Ok(parsed);
    }
    let Some(entries) = root.get("entry").and_then(Value::as_array) else {
        parsed.ignore("entry", "payload has no entry array");
        return Ok(parsed);
    };
    for entry in entries {
        match entry.get("changes").and_then(Value::as_array) {
            Some(changes) if !changes.is_empty() => {
                for change in changes {
                    parse_change(change, &mut parsed);
                }
            }
            _ => parsed.ignore("entry", "entry without changes"),
        }
    }
    Ok(parsed)
}

fn parse_change(change: &Value, parsed: &mut ParsedWebhook) {
    let field = change
        .get("field")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if field != MESSAGES_FIELD {
        let name = if field.is_empty() { "(none)" } else { field };
        parsed.ignore(name, "webhook field not handled");
        return;
    }
    let Some(value) = change.get("value").and_then(Value::as_object) else {
        parsed.ignore(MESSAGES_FIELD, "change without a value object");
        return;
    };
    // Always present in Meta's payloads. A missing one is not a reason to drop
    // a patient's message: replies go out through the configured number.
    let phone_number_id = str_at(value, &["metadata", "phone_number_id"]).unwrap_or_default();
    let contacts = array(value, "contacts");
    let messages = value.get("messages").and_then(Value::as_array);
    let statuses = value.get("statuses").and_then(Value::as_array);

    // Value-level errors describe a delivery problem on Meta's side (no
    // message to attach them to); surface them, code and title only.
    for error in array(value, "errors") {
        parsed.ignore(
            MESSAGES_FIELD,
            format!("value.errors: {}", error_summary(error)),
        );
    }
    if messages.is_none() && statuses.is_none() && value.get("errors").is_none() {
        parsed.ignore(MESSAGES_FIELD, "value without messages or statuses");
    }
    for message in messages.into_iter().flatten() {
        match parse_message(message, phone_number_id, contacts) {
            Ok(m) => parsed.events.push(ChannelEvent::Message(m)),
            Err(reason) => parsed.ignore("messages", reason),
        }
    }
    for status in statuses.into_iter().flatten() {
        match parse_status(status, phone_number_id) {
            Ok(s) => parsed.events.push(ChannelEvent::Status(s)),
            Err(reason) => parsed.ignore("statuses", reason),
        }
    }
}

fn parse_message(
    message: &Value,
    phone_number_id: &str,
    contacts: &[Value],
) -> Result<InboundMessage, &'static str> {
    let message = message.as_object().ok_or("message is not an object")?;
    let from = non_empty(message, "from").ok_or("message without from")?;
    let id = non_empty(message, "id").ok_or("message without id")?;
    // `contacts[]` may describe several senders when Meta batches.
    let profile_name = contacts
        .iter()
        .filter_map(Value::as_object)
        .find(|c| c.get("wa_id").and_then(Value::as_str) == Some(from))
        .and_then(|c| str_at(c, &["profile", "name"]))
        .map(str::to_owned);
    Ok(InboundMessage {
        phone_number_id: phone_number_id.to_owned(),
        from: from.to_owned(),
        id: id.to_owned(),
        timestamp: timestamp(message.get("timestamp")),
        profile_name,
        context_id: str_at(message, &["context", "id"]).map(str::to_owned),
        content: content(message),
    })
}

/// The message's content; anything we cannot read becomes `Unsupported` with
/// a structural explanation (never the content itself).
fn content(message: &Map<String, Value>) -> MessageContent {
    let original_type = message
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let known = match original_type {
        "text" => text(message),
        "interactive" => interactive(message),
        "button" => button(message),
        "image" => media(message, "image").map(|media| MessageContent::Image { media }),
        "document" => document(message),
        "audio" => media(message, "audio").map(|media| MessageContent::Audio { media }),
        "video" => media(message, "video").map(|media| MessageContent::Video { media }),
        "sticker" => media(message, "sticker").map(|media| MessageContent::Sticker { media }),
        "location" => location(message),
        "reaction" => reaction(message),
        // `unsupported`, `unknown`, and types we do not map (contacts, order,
        // system, request_welcome, …): Meta's own explanation, if any.
        _ => {
            return MessageContent::Unsupported {
                original_type: original_type.to_owned(),
                detail: unsupported_detail(message),
            };
        }
    };
    known.unwrap_or_else(|detail| MessageContent::Unsupported {
        original_type: original_type.to_owned(),
        detail: Some(detail),
    })
}

fn text(message: &Map<String, Value>) -> Result<MessageContent, String> {
    let body = str_at(message, &["text", "body"]).ok_or("text without body")?;
    Ok(MessageContent::Text {
        body: body.to_owned(),
    })
}

fn interactive(message: &Map<String, Value>) -> Result<MessageContent, String> {
    let interactive =
        object(message, "interactive").ok_or("interactive without an interactive object")?;
    match interactive
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
    {
        "button_reply" => {
            let reply =
                object(interactive, "button_reply").ok_or("button_reply without a reply object")?;
            let id = non_empty(reply, "id").ok_or("button_reply without id")?;
            Ok(MessageContent::ButtonReply {
                id: id.to_owned(),
                title: string(reply, "title").unwrap_or_default(),
            })
        }
        "list_reply" => {
            let reply =
                object(interactive, "list_reply").ok_or("list_reply without a reply object")?;
            let id = non_empty(reply, "id").ok_or("list_reply without id")?;
            Ok(MessageContent::ListReply {
                id: id.to_owned(),
                title: string(reply, "title").unwrap_or_default(),
                description: string(reply, "description"),
            })
        }
        // Flow replies (`nfm_reply`) and future kinds.
        other => Err(format!("interactive type {:?} not handled", echo(other))),
    }
}

fn button(message: &Map<String, Value>) -> Result<MessageContent, String> {
    let button = object(message, "button").ok_or("button without a button object")?;
    let text = string(button, "text");
    let payload = string(button, "payload");
    if text.is_none() && payload.is_none() {
        return Err("button without text or payload".to_owned());
    }
    Ok(MessageContent::Button {
        payload,
        text: text.unwrap_or_default(),
    })
}

fn media(message: &Map<String, Value>, kind: &str) -> Result<Media, String> {
    let media = object(message, kind).ok_or_else(|| format!("{kind} without a {kind} object"))?;
    let id = non_empty(media, "id").ok_or_else(|| format!("{kind} without media id"))?;
    Ok(Media {
        id: id.to_owned(),
        mime_type: string(media, "mime_type"),
        sha256: string(media, "sha256"),
        caption: string(media, "caption"),
    })
}

fn document(message: &Map<String, Value>) -> Result<MessageContent, String> {
    let media = media(message, "document")?;
    let filename = object(message, "document").and_then(|d| string(d, "filename"));
    Ok(MessageContent::Document { media, filename })
}

fn location(message: &Map<String, Value>) -> Result<MessageContent, String> {
    let location = object(message, "location").ok_or("location without a location object")?;
    let latitude =
        coordinate(location.get("latitude")).ok_or("location without a usable latitude")?;
    let longitude =
        coordinate(location.get("longitude")).ok_or("location without a usable longitude")?;
    Ok(MessageContent::Location {
        latitude,
        longitude,
        name: string(location, "name"),
        address: string(location, "address"),
    })
}

fn reaction(message: &Map<String, Value>) -> Result<MessageContent, String> {
    let reaction = object(message, "reaction").ok_or("reaction without a reaction object")?;
    let message_id = non_empty(reaction, "message_id").ok_or("reaction without message_id")?;
    // Meta omits `emoji` when the reaction is removed; treat "" the same.
    let emoji = string(reaction, "emoji").filter(|e| !e.is_empty());
    Ok(MessageContent::Reaction {
        message_id: message_id.to_owned(),
        emoji,
    })
}

/// `errors[0]` title and `error_data.details`, plus `unsupported.type` (what
/// the patient actually sent, e.g. `poll_creation`), as
/// "Message type unknown: Message type is currently not supported. (sent as poll_creation)".
fn unsupported_detail(message: &Map<String, Value>) -> Option<String> {
    let error = array(message, "errors").first().and_then(Value::as_object);
    let title = error.and_then(|e| string(e, "title").or_else(|| string(e, "message")));
    // Older payloads put `details` on the error itself.
    let details = error.and_then(|e| {
        str_at(e, &["error_data", "details"])
            .map(str::to_owned)
            .or_else(|| string(e, "details"))
    });
    let explanation = match (title, details) {
        (Some(title), Some(details)) if title != details => Some(format!("{title}: {details}")),
        (title, details) => title.or(details),
    };
    let sent_as = str_at(message, &["unsupported", "type"]).map(|t| format!("sent as {}", echo(t)));
    match (explanation, sent_as) {
        (Some(explanation), Some(sent_as)) => Some(format!("{explanation} ({sent_as})")),
        (explanation, sent_as) => explanation.or(sent_as),
    }
}

fn parse_status(status: &Value, phone_number_id: &str) -> Result<StatusUpdate, &'static str> {
    let status = status.as_object().ok_or("status is not an object")?;
    let message_id = non_empty(status, "id").ok_or("status without id")?;
    let recipient_id = non_empty(status, "recipient_id").ok_or("status without recipient_id")?;
    let state = non_empty(status, "status").ok_or("status without status")?;
    Ok(StatusUpdate {
        phone_number_id: phone_number_id.to_owned(),
        message_id: message_id.to_owned(),
        recipient_id: recipient_id.to_owned(),
        status: DeliveryStatus::parse(state),
        timestamp: timestamp(status.get("timestamp")),
        errors: array(status, "errors")
            .iter()
            .filter_map(Value::as_object)
            .map(graph_error)
            .collect(),
    })
}

fn graph_error(error: &Map<String, Value>) -> GraphErrorDetail {
    GraphErrorDetail {
        code: error.get("code").and_then(integer).unwrap_or_default(),
        title: string(error, "title"),
        message: string(error, "message"),
        details: str_at(error, &["error_data", "details"]).map(str::to_owned),
    }
}

fn error_summary(error: &Value) -> String {
    let code = error.get("code").and_then(integer).unwrap_or_default();
    match error.get("title").and_then(Value::as_str) {
        Some(title) => format!("{code} {}", echo(title)),
        None => code.to_string(),
    }
}

/// Meta sends Unix seconds as a string; a number is accepted too. Anything
/// else is 0 rather than a lost event.
fn timestamp(value: Option<&Value>) -> i64 {
    value.and_then(integer).unwrap_or_default()
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Coordinates arrive as JSON numbers; numeric strings are accepted. Non-finite
/// values are refused: they would not survive the JSON round trip through the queue.
fn coordinate(value: Option<&Value>) -> Option<f64> {
    let parsed = match value? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }?;
    parsed.is_finite().then_some(parsed)
}

fn object<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Map<String, Value>> {
    map.get(key).and_then(Value::as_object)
}

fn array<'a>(map: &'a Map<String, Value>, key: &str) -> &'a [Value] {
    map.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn string(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn non_empty<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn str_at<'a>(map: &'a Map<String, Value>, path: &[&str]) -> Option<&'a str> {
    let (last, parents) = path.split_last()?;
    let mut current = map;
    for key in parents {
        current = object(current, key)?;
    }
    current.get(*last).and_then(Value::as_str)
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A Meta-supplied value for an ignore reason: short strings quoted, anything
/// else by its JSON kind.
fn describe(value: &Value) -> String {
    match value.as_str() {
        Some(s) => format!("{:?}", echo(s)),
        None => kind_of(value).to_owned(),
    }
}

fn echo(s: &str) -> String {
    match s.char_indices().nth(ECHO_LIMIT) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHONE_NUMBER_ID: &str = "109876543210987";
    const ANA: &str = "15555550123";
    const BEN: &str = "15555550145";

    /// Every fixture under `tests/fixtures/whatsapp/`, in Meta's documented shape.
    const FIXTURES: &[&str] = &[
        "text",
        "interactive_button_reply",
        "interactive_list_reply",
        "button",
        "image",
        "document",
        "audio",
        "video",
        "sticker",
        "location",
        "reaction",
        "reaction_removed",
        "unsupported",
        "status_sent",
        "status_delivered",
        "status_read",
        "status_failed",
        "multi",
        "account_update",
    ];

    fn fixture_bytes(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/tests/fixtures/whatsapp/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn fixture(name: &str) -> ParsedWebhook {
        parse_webhook(&fixture_bytes(name)).unwrap()
    }

    fn parse_json(value: serde_json::Value) -> ParsedWebhook {
        parse_webhook(&serde_json::to_vec(&value).unwrap()).unwrap()
    }

    fn only_message(parsed: &ParsedWebhook) -> &InboundMessage {
        match parsed.events.as_slice() {
            [ChannelEvent::Message(m)] => m,
            other => panic!("one message expected, got {other:?}"),
        }
    }

    fn only_status(parsed: &ParsedWebhook) -> &StatusUpdate {
        match parsed.events.as_slice() {
            [ChannelEvent::Status(s)] => s,
            other => panic!("one status expected, got {other:?}"),
        }
    }

    fn content_of(name: &str) -> MessageContent {
        let parsed = fixture(name);
        assert!(parsed.ignored.is_empty(), "{name}: {:?}", parsed.ignored);
        only_message(&parsed).content.clone()
    }

    /// A `messages` change around `messages`, as Meta nests it.
    fn with_messages(messages: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "object": "whatsapp_business_account",
            "entry": [{"id": "112233445566778", "changes": [{
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15555550100", "phone_number_id": PHONE_NUMBER_ID},
                    "contacts": [{"profile": {"name": "Ana Sousa"}, "wa_id": ANA}],
                    "messages": messages
                },
                "field": "messages"
            }]}]
        })
    }

    #[test]
    fn fixtures_match_snapshots() {
        for name in FIXTURES {
            insta::assert_json_snapshot!(*name, fixture(name));
        }
    }

    #[test]
    fn fixtures_survive_the_queue_round_trip() {
        // Events are persisted as JSON and read back by workers.
        for name in FIXTURES {
            for event in fixture(name).events {
                let stored = serde_json::to_vec(&event).unwrap();
                let loaded: ChannelEvent = serde_json::from_slice(&stored).unwrap();
                assert_eq!(loaded, event, "{name}");
            }
        }
    }

    #[test]
    fn text_message() {
        let parsed = fixture("text");
        assert!(parsed.ignored.is_empty());
        let m = only_message(&parsed);
        assert_eq!(m.phone_number_id, PHONE_NUMBER_ID);
        assert_eq!(m.from, ANA);
        assert_eq!(
            m.id,
            "wamid.HBgLMTU1NTU1NTAxMjMVAgASGBRBNEMxMjNCMTYxMkREMjcyRDEzNwA="
        );
        assert_eq!(m.timestamp, 1_749_416_383);
        assert_eq!(m.profile_name.as_deref(), Some("Ana Sousa"));
        assert_eq!(m.context_id, None);
        assert_eq!(
            m.content,
            MessageContent::Text {
                body: "I have had a headache since yesterday".into()
            }
        );
    }

    #[test]
    fn interactive_button_reply_carries_our_button_id_and_context() {
        let parsed = fixture("interactive_button_reply");
        let m = only_message(&parsed);
        assert_eq!(
            m.content,
            MessageContent::ButtonReply {
                id: "fever-yes".into(),
                title: "Yes".into()
            }
        );
        assert_eq!(
            m.context_id.as_deref(),
            Some("wamid.HBgLMTU1NTU1NTAxMjMVAgARGBJBMkNFQzI1NTQwNEU0RkI0NDAA")
        );
    }

    #[test]
    fn interactive_list_reply() {
        assert_eq!(
            content_of("interactive_list_reply"),
            MessageContent::ListReply {
                id: "pain-severe".into(),
                title: "Severe (7-10)".into(),
                description: Some("Pain stops normal activities".into()),
            }
        );
    }

    #[test]
    fn template_quick_reply_button() {
        assert_eq!(
            content_of("button"),
            MessageContent::Button {
                payload: Some("CONSENT_ACCEPT".into()),
                text: "I agree".into()
            }
        );
    }

    #[test]
    fn image_with_caption() {
        let MessageContent::Image { media } = content_of("image") else {
            panic!("image expected")
        };
        assert_eq!(media.id, "1598420967635012");
        assert_eq!(media.mime_type.as_deref(), Some("image/jpeg"));
        assert_eq!(
            media.sha256.as_deref(),
            Some("Dj5mQ0Lo5cS0zPWqFj7PEpNxUv3k0H9a2Yb2t1PSV6A=")
        );
        assert_eq!(media.caption.as_deref(), Some("Rash on my forearm"));
    }

    #[test]
    fn document_with_filename() {
        let MessageContent::Document { media, filename } = content_of("document") else {
            panic!("document expected")
        };
        assert_eq!(media.id, "1062871459398198");
        assert_eq!(media.mime_type.as_deref(), Some("application/pdf"));
        assert_eq!(filename.as_deref(), Some("lab-results-2025-06.pdf"));
    }

    #[test]
    fn voice_note_audio_video_and_sticker() {
        let MessageContent::Audio { media } = content_of("audio") else {
            panic!("audio expected")
        };
        assert_eq!(media.mime_type.as_deref(), Some("audio/ogg; codecs=opus"));
        assert_eq!(media.caption, None);
        let MessageContent::Video { media } = content_of("video") else {
            panic!("video expected")
        };
        assert_eq!(media.id, "1845209374650211");
        let MessageContent::Sticker { media } = content_of("sticker") else {
            panic!("sticker expected")
        };
        assert_eq!(media.mime_type.as_deref(), Some("image/webp"));
    }

    #[test]
    fn location() {
        assert_eq!(
            content_of("location"),
            MessageContent::Location {
                latitude: 37.44216251868683,
                longitude: -122.16153582049394,
                name: Some("Main Street Clinic".into()),
                address: Some("123 Main St, Springfield".into()),
            }
        );
    }

    #[test]
    fn reaction_and_its_removal() {
        let our_message = "wamid.HBgLMTU1NTU1NTAxNDUVAgARGBJFRTBDQTkyMzczMjg4MTU4NEQA";
        assert_eq!(
            content_of("reaction"),
            MessageContent::Reaction {
                message_id: our_message.into(),
                emoji: Some("\u{1F44D}".into())
            }
        );
        assert_eq!(
            content_of("reaction_removed"),
            MessageContent::Reaction {
                message_id: our_message.into(),
                emoji: None
            }
        );
        // An escaped non-ASCII profile name is decoded.
        assert_eq!(
            only_message(&fixture("reaction")).profile_name.as_deref(),
            Some("Benedita Araújo")
        );
    }

    #[test]
    fn unsupported_message_keeps_metas_explanation() {
        assert_eq!(
            content_of("unsupported"),
            MessageContent::Unsupported {
                original_type: "unsupported".into(),
                detail: Some(
                    "Message type unknown: Message type is currently not supported. (sent as poll_creation)".into()
                ),
            }
        );
    }

    #[test]
    fn statuses_sent_delivered_read() {
        let wamid = "wamid.HBgLMTU1NTU1NTAxMjMVAgARGBI2ODEzRTAyRUE2OEVGNzg2RTQA";
        for (name, expected, timestamp) in [
            ("status_sent", DeliveryStatus::Sent, 1_749_416_388),
            ("status_delivered", DeliveryStatus::Delivered, 1_749_416_389),
            ("status_read", DeliveryStatus::Read, 1_749_416_425),
        ] {
            let parsed = fixture(name);
            assert!(parsed.ignored.is_empty(), "{name}");
            let s = only_status(&parsed);
            assert_eq!(s.status, expected, "{name}");
            assert_eq!(s.message_id, wamid);
            assert_eq!(s.recipient_id, ANA);
            assert_eq!(s.phone_number_id, PHONE_NUMBER_ID);
            assert_eq!(s.timestamp, timestamp);
            assert!(s.errors.is_empty());
        }
    }

    #[test]
    fn failed_status_carries_graph_errors() {
        let parsed = fixture("status_failed");
        let s = only_status(&parsed);
        assert_eq!(s.status, DeliveryStatus::Failed);
        assert_eq!(
            s.errors,
            vec![GraphErrorDetail {
                code: 131_047,
                title: Some("Re-engagement message".into()),
                message: Some("Re-engagement message".into()),
                details: Some(
                    "Message failed to send because more than 24 hours have passed since the customer last replied to this number.".into()
                ),
            }]
        );
    }

    #[test]
    fn multi_payload_yields_events_in_order_with_each_senders_name() {
        let parsed = fixture("multi");
        assert!(parsed.ignored.is_empty());
        let [
            ChannelEvent::Message(first),
            ChannelEvent::Message(second),
            ChannelEvent::Status(status),
        ] = parsed.events.as_slice()
        else {
            panic!("message, message, status expected: {:?}", parsed.events)
        };
        assert_eq!(
            (first.from.as_str(), first.profile_name.as_deref()),
            (ANA, Some("Ana Sousa"))
        );
        assert_eq!(
            (second.from.as_str(), second.profile_name.as_deref()),
            (BEN, Some("Benedita Araújo"))
        );
        assert_eq!(status.status, DeliveryStatus::Delivered);
        let partitions: Vec<&str> = parsed.events.iter().map(ChannelEvent::partition).collect();
        assert_eq!(partitions, [ANA, BEN, ANA]);
    }

    #[test]
    fn account_update_is_ignored_not_an_error() {
        let parsed = fixture("account_update");
        assert!(parsed.events.is_empty());
        assert_eq!(
            parsed.ignored,
            [IgnoredPart {
                field: "account_update".into(),
                reason: "webhook field not handled".into()
            }]
        );
    }

    #[test]
    fn partition_and_dedupe_key() {
        let message = ChannelEvent::Message(only_message(&fixture("text")).clone());
        assert_eq!(message.partition(), ANA);
        assert_eq!(
            message.dedupe_key(),
            "msg:wamid.HBgLMTU1NTU1NTAxMjMVAgASGBRBNEMxMjNCMTYxMkREMjcyRDEzNwA="
        );

        let sent = ChannelEvent::Status(only_status(&fixture("status_sent")).clone());
        let read = ChannelEvent::Status(only_status(&fixture("status_read")).clone());
        assert_eq!(sent.partition(), ANA);
        assert_eq!(
            sent.dedupe_key(),
            "status:wamid.HBgLMTU1NTU1NTAxMjMVAgARGBI2ODEzRTAyRUE2OEVGNzg2RTQA:sent"
        );
        // Same message, new state: a distinct event, not a duplicate.
        assert_eq!(
            read.dedupe_key(),
            "status:wamid.HBgLMTU1NTU1NTAxMjMVAgARGBI2ODEzRTAyRUE2OEVGNzg2RTQA:read"
        );
        // A redelivery parses to the same key.
        assert_eq!(
            fixture("status_sent").events[0].dedupe_key(),
            sent.dedupe_key()
        );
    }

    #[test]
    fn not_json_is_malformed_and_the_error_does_not_echo_the_body() {
        let err = parse_webhook(b"{\"messages\": [chest pain").unwrap_err();
        assert!(matches!(err, WebhookError::MalformedJson(_)));
        assert!(!err.to_string().contains("chest pain"), "{err}");
        assert!(matches!(
            parse_webhook(b""),
            Err(WebhookError::MalformedJson(_))
        ));
        assert!(matches!(
            parse_webhook(&[0xff, 0xfe]),
            Err(WebhookError::MalformedJson(_))
        ));
    }

    #[test]
    fn non_object_top_level_is_malformed() {
        for body in [
            &b"[]"[..],
            b"[{\"object\":\"whatsapp_business_account\"}]",
            b"null",
            b"42",
            b"\"text\"",
        ] {
            assert!(
                matches!(parse_webhook(body), Err(WebhookError::MalformedJson(_))),
                "{body:?}"
            );
        }
    }

    #[test]
    fn empty_object_is_ok_and_records_why() {
        let parsed = parse_webhook(b"{}").unwrap();
        assert!(parsed.events.is_empty());
        assert_eq!(
            parsed.ignored,
            [IgnoredPart {
                field: "entry".into(),
                reason: "payload has no entry array".into()
            }]
        );
    }

    #[test]
    fn unknown_field_is_ignored() {
        let parsed = parse_json(serde_json::json!({
            "object": "whatsapp_business_account",
            "entry": [{"id": "112233445566778", "time": 1749416383, "changes": [{
                "value": {"event": "APPROVED", "message_template_id": 594425479261596_i64,
                          "message_template_name": "appointment_reminder", "message_template_language": "en_US",
                          "reason": "NONE"},
                "field": "message_template_status_update"
            }]}]
        }));
        assert!(parsed.events.is_empty());
        assert_eq!(parsed.ignored.len(), 1);
        assert_eq!(parsed.ignored[0].field, "message_template_status_update");
    }

    #[test]
    fn other_products_and_empty_entries_are_ignored() {
        let page = parse_json(
            serde_json::json!({"object": "page", "entry": [{"id": "1", "changes": []}]}),
        );
        assert!(page.events.is_empty());
        assert_eq!(page.ignored[0].field, "object");

        let no_changes = parse_json(serde_json::json!({
            "object": "whatsapp_business_account", "entry": [{"id": "1"}, {"id": "2", "changes": []}]
        }));
        assert_eq!(no_changes.ignored.len(), 2);
        assert!(no_changes.ignored.iter().all(|p| p.field == "entry"));
    }

    #[test]
    fn message_without_id_or_from_is_ignored_and_the_rest_still_parse() {
        let parsed = parse_json(with_messages(serde_json::json!([
            {"from": ANA, "timestamp": "1749416383", "type": "text", "text": {"body": "chest pain"}},
            {"id": "wamid.B", "timestamp": "1749416383", "type": "text", "text": {"body": "chest pain"}},
            {"from": ANA, "id": "wamid.C", "timestamp": "1749416384", "type": "text", "text": {"body": "ok"}},
            "not an object"
        ])));
        assert_eq!(only_message(&parsed).id, "wamid.C");
        let reasons: Vec<&str> = parsed.ignored.iter().map(|p| p.reason.as_str()).collect();
        assert_eq!(
            reasons,
            [
                "message without id",
                "message without from",
                "message is not an object"
            ]
        );
        assert!(
            parsed
                .ignored
                .iter()
                .all(|p| p.field == "messages" && !p.reason.contains("chest"))
        );
    }

    #[test]
    fn bad_timestamps_become_zero_and_numeric_ones_are_read() {
        let parsed = parse_json(with_messages(serde_json::json!([
            {"from": ANA, "id": "wamid.A", "timestamp": "yesterday", "type": "text", "text": {"body": "a"}},
            {"from": ANA, "id": "wamid.B", "type": "text", "text": {"body": "b"}},
            {"from": ANA, "id": "wamid.C", "timestamp": 1749416383, "type": "text", "text": {"body": "c"}}
        ])));
        let timestamps: Vec<i64> = parsed
            .events
            .iter()
            .map(|e| match e {
                ChannelEvent::Message(m) => m.timestamp,
                ChannelEvent::Status(s) => s.timestamp,
            })
            .collect();
        assert_eq!(timestamps, [0, 0, 1_749_416_383]);
    }

    #[test]
    fn unreadable_content_becomes_unsupported_not_a_lost_message() {
        let cases = [
            (
                serde_json::json!({"type": "text", "text": {}}),
                "text",
                Some("text without body"),
            ),
            (
                serde_json::json!({"type": "image", "image": {"mime_type": "image/jpeg"}}),
                "image",
                Some("image without media id"),
            ),
            (
                serde_json::json!({"type": "interactive", "interactive": {"type": "nfm_reply", "nfm_reply": {}}}),
                "interactive",
                Some("interactive type \"nfm_reply\" not handled"),
            ),
            (
                serde_json::json!({"type": "location", "location": {"latitude": "north", "longitude": 1.0}}),
                "location",
                Some("location without a usable latitude"),
            ),
            (
                serde_json::json!({"type": "order", "order": {"catalog_id": "1"}}),
                "order",
                None,
            ),
            (serde_json::json!({}), "", None),
        ];
        for (body, original_type, detail) in cases {
            let mut message =
                serde_json::json!({"from": ANA, "id": "wamid.A", "timestamp": "1749416383"});
            if let (Some(target), Some(extra)) = (message.as_object_mut(), body.as_object()) {
                target.extend(extra.clone());
            }
            let parsed = parse_json(with_messages(serde_json::json!([message])));
            assert_eq!(
                only_message(&parsed).content,
                MessageContent::Unsupported {
                    original_type: original_type.into(),
                    detail: detail.map(Into::into)
                },
                "{body}"
            );
        }
    }

    #[test]
    fn legacy_unknown_type_uses_error_details() {
        let parsed = parse_json(with_messages(serde_json::json!([{
            "from": ANA, "id": "wamid.A", "timestamp": "1749416383", "type": "unknown",
            "errors": [{"code": 131051, "details": "Message type is not currently supported", "title": "Unsupported message type"}]
        }])));
        assert_eq!(
            only_message(&parsed).content,
            MessageContent::Unsupported {
                original_type: "unknown".into(),
                detail: Some(
                    "Unsupported message type: Message type is not currently supported".into()
                ),
            }
        );
    }

    #[test]
    fn profile_name_only_from_the_matching_contact() {
        let mut payload = with_messages(serde_json::json!([
            {"from": BEN, "id": "wamid.A", "timestamp": "1749416383", "type": "text", "text": {"body": "hi"}}
        ]));
        // The only contact is Ana: Ben's message must not borrow her name.
        let parsed = parse_json(payload.clone());
        assert_eq!(only_message(&parsed).profile_name, None);
        payload["entry"][0]["changes"][0]["value"]["contacts"] = serde_json::json!("garbage");
        assert_eq!(only_message(&parse_json(payload)).profile_name, None);
    }

    #[test]
    fn statuses_with_unknown_state_or_missing_ids() {
        let parsed = parse_json(serde_json::json!({
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
                "metadata": {"phone_number_id": PHONE_NUMBER_ID},
                "statuses": [
                    {"id": "wamid.A", "status": "deleted", "timestamp": "1749416383", "recipient_id": ANA},
                    {"id": "wamid.B", "status": "sent", "timestamp": "1749416383"},
                    {"id": "wamid.C", "status": "failed", "timestamp": "1749416383", "recipient_id": ANA,
                     "errors": [{"code": "131026", "title": "Message undeliverable"}, "junk"]}
                ]
            }}]}]
        }));
        let [ChannelEvent::Status(deleted), ChannelEvent::Status(failed)] =
            parsed.events.as_slice()
        else {
            panic!("two statuses expected: {:?}", parsed.events)
        };
        assert_eq!(deleted.status, DeliveryStatus::Other("deleted".into()));
        assert_eq!(parsed.events[0].dedupe_key(), "status:wamid.A:deleted");
        assert_eq!(failed.errors.len(), 1);
        assert_eq!(failed.errors[0].code, 131_026);
        assert_eq!(failed.errors[0].details, None);
        assert_eq!(
            parsed.ignored,
            [IgnoredPart {
                field: "statuses".into(),
                reason: "status without recipient_id".into()
            }]
        );
    }

    #[test]
    fn value_level_errors_and_empty_values_are_recorded() {
        let parsed = parse_json(serde_json::json!({
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [
                {"field": "messages", "value": {"metadata": {"phone_number_id": PHONE_NUMBER_ID},
                    "errors": [{"code": 131000, "title": "Something went wrong"}]}},
                {"field": "messages", "value": {"metadata": {"phone_number_id": PHONE_NUMBER_ID}}},
                {"field": "messages"}
            ]}]
        }));
        assert!(parsed.events.is_empty());
        let reasons: Vec<&str> = parsed.ignored.iter().map(|p| p.reason.as_str()).collect();
        assert_eq!(
            reasons,
            [
                "value.errors: 131000 Something went wrong",
                "value without messages or statuses",
                "change without a value object",
            ]
        );
    }

    #[test]
    fn long_meta_strings_are_truncated_in_ignore_reasons() {
        let field = "x".repeat(500);
        let parsed = parse_json(serde_json::json!({
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": field, "value": {}}]}]
        }));
        assert_eq!(parsed.ignored[0].field.chars().count(), ECHO_LIMIT + 1);
    }
}
