//! The patient simulator: a person plays a patient in a browser page
//! (`/simulator`) or in the terminal (`triage chat`). It posts correctly
//! signed webhooks, in Meta's wire format, to our own `/webhooks/whatsapp` —
//! the exact path real traffic takes — and shows what the bot sent to the
//! local Graph API sink, buttons and lists included.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::Json;
use axum::extract::{Query, State};
use axum::response::Html;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Value, json};

use super::event::MessageContent;
use super::message::OutboundMessage;
use super::runtime::{CHANNEL, WhatsApp};
use super::signature::sign;
use crate::app::AppState;
use crate::http::ApiError;
use crate::storage::{Direction, Message};

/// `POST /simulator/api/send` body.
#[derive(Debug, Clone, Deserialize)]
pub struct SendRequest {
    /// The patient's (fictional) WhatsApp id, digits only.
    pub from: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// What they did: `text`, `button_reply` or `list_reply`, in the shape
    /// of an inbound message's content.
    pub input: MessageContent,
}

/// A webhook payload exactly as Meta would deliver it for `input`; `None`
/// for content a patient cannot produce through the simulator.
pub fn webhook_payload(
    phone_number_id: &str,
    from: &str,
    name: &str,
    wamid: &str,
    timestamp: i64,
    input: &MessageContent,
) -> Option<Value> {
    let mut message = json!({"from": from, "id": wamid, "timestamp": timestamp.to_string()});
    match input {
        MessageContent::Text { body } => {
            message["type"] = json!("text");
            message["text"] = json!({"body": body});
        }
        MessageContent::ButtonReply { id, title } => {
            message["type"] = json!("interactive");
            message["interactive"] =
                json!({"type": "button_reply", "button_reply": {"id": id, "title": title}});
        }
        MessageContent::ListReply {
            id,
            title,
            description,
        } => {
            message["type"] = json!("interactive");
            message["interactive"] = json!({"type": "list_reply", "list_reply": {"id": id, "title": title, "description": description}});
        }
        _ => return None,
    }
    Some(json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "0",
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15550000000", "phone_number_id": phone_number_id},
                    "contacts": [{"profile": {"name": name}, "wa_id": from}],
                    "messages": [message]
                }
            }]
        }]
    }))
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn valid_wa_id(from: &str) -> bool {
    (6..=15).contains(&from.len()) && from.bytes().all(|b| b.is_ascii_digit())
}

fn enabled(whatsapp: &WhatsApp) -> Result<(), ApiError> {
    if whatsapp.simulator_enabled {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

/// `GET /simulator`: the chat page.
pub async fn page(State(state): State<AppState>) -> Result<Html<&'static str>, ApiError> {
    enabled(&state.whatsapp)?;
    Ok(Html(include_str!("../../../assets/simulator.html")))
}

/// `POST /simulator/api/send`: sign and deliver a webhook to ourselves.
pub async fn send(
    State(state): State<AppState>,
    Json(request): Json<SendRequest>,
) -> Result<Json<Value>, ApiError> {
    enabled(&state.whatsapp)?;
    if !valid_wa_id(&request.from) {
        return Err(ApiError::BadRequest(
            "`from` must be 6 to 15 digits (a WhatsApp id)".to_owned(),
        ));
    }
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let wamid = format!("wamid.SIM{}{n:06}", chrono::Utc::now().timestamp_millis());
    let payload = webhook_payload(
        &state.whatsapp.phone_number_id,
        &request.from,
        request.name.as_deref().unwrap_or("Simulated patient"),
        &wamid,
        chrono::Utc::now().timestamp(),
        &request.input,
    )
    .ok_or_else(|| {
        ApiError::BadRequest(
            "the simulator sends text, button_reply and list_reply only".to_owned(),
        )
    })?;
    let body = serde_json::to_vec(&payload).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let signature = sign(state.whatsapp.app_secret.expose_secret().as_bytes(), &body);
    let url = format!("http://{}/webhooks/whatsapp", state.own_addr);
    let response = state
        .http
        .post(url)
        .header("content-type", "application/json")
        .header("x-hub-signature-256", signature)
        .body(body)
        .send()
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok(Json(
        json!({"wamid": wamid, "webhook_status": response.status().as_u16()}),
    ))
}

/// `GET /simulator/api/messages?wa_id=…` query.
#[derive(Debug, Deserialize)]
pub struct MessagesQuery {
    /// The simulated patient.
    pub wa_id: String,
}

/// `GET /simulator/api/messages`: what the bot sent to this patient.
pub async fn messages(
    State(state): State<AppState>,
    Query(query): Query<MessagesQuery>,
) -> Result<Json<Value>, ApiError> {
    enabled(&state.whatsapp)?;
    let Some(sink) = &state.whatsapp.sink else {
        return Err(ApiError::BadRequest(
            "real WhatsApp credentials are configured: messages go to Meta, not to the simulator"
                .to_owned(),
        ));
    };
    let sent: Vec<Value> = sink
        .sent_to(&query.wa_id)
        .into_iter()
        .filter(|r| r.request.get("status").is_none())
        .map(|r| json!({"wamid": r.wamid, "message": r.request}))
        .collect();
    Ok(Json(json!({"messages": sent})))
}

/// How much of a simulated patient's history the page shows.
const TRANSCRIPT_LIMIT: u32 = 500;

/// `GET /simulator/api/conversation?wa_id=…`: the whole exchange with this
/// patient from the server's own records — what they wrote and what the bot
/// sent, in order, across every conversation (episode) of the number — so a
/// reload or a `?from=` link shows what happened, not only what this browser
/// saw. Outbound messages are in Graph API request shape, as the page
/// renders them; inbound ones carry their text.
pub async fn conversation(
    State(state): State<AppState>,
    Query(query): Query<MessagesQuery>,
) -> Result<Json<Value>, ApiError> {
    enabled(&state.whatsapp)?;
    // Records of real patients are PHI: with real credentials this page is
    // not the way to read them.
    if state.whatsapp.sink.is_none() {
        return Err(ApiError::BadRequest(
            "real WhatsApp credentials are configured: conversations are not shown in the simulator"
                .to_owned(),
        ));
    }
    if !valid_wa_id(&query.wa_id) {
        return Err(ApiError::BadRequest(
            "`wa_id` must be 6 to 15 digits (a WhatsApp id)".to_owned(),
        ));
    }
    let storage = state
        .storage
        .get()
        .ok_or_else(|| ApiError::Unavailable("storage is not connected".to_owned()))?;
    let messages = storage
        .records
        .patient_messages(CHANNEL, &query.wa_id, TRANSCRIPT_LIMIT)
        .await?;
    let messages: Vec<Value> = messages.iter().map(transcript_entry).collect();
    Ok(Json(json!({"wa_id": query.wa_id, "messages": messages})))
}

/// One recorded message as the simulator page shows it.
fn transcript_entry(m: &Message) -> Value {
    let mut entry = json!({
        "id": m.id,
        "conversation_id": m.conversation_id,
        "direction": m.direction,
        "wamid": m.external_id,
        "kind": m.kind,
        "created_at": m.created_at,
    });
    match m.direction {
        Direction::Inbound => {
            let text = match serde_json::from_value::<MessageContent>(m.content.clone()) {
                Ok(MessageContent::Text { body }) => body,
                Ok(
                    MessageContent::ButtonReply { title, .. }
                    | MessageContent::ListReply { title, .. },
                ) => title,
                Ok(MessageContent::Button { text, .. }) => text,
                Ok(other) => format!("[{}]", other.kind()),
                Err(_) => format!("[{}]", m.kind),
            };
            entry["text"] = json!(text);
        }
        // The outbox row's message; the page renders the Graph request body.
        Direction::Outbound => {
            entry["message"] = match serde_json::from_value::<OutboundMessage>(m.content.clone()) {
                Ok(message) => message.to_graph_json(),
                Err(_) => m.content.clone(),
            };
        }
    }
    entry
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::whatsapp::event::ChannelEvent;
    use crate::channel::whatsapp::webhook::parse_webhook;

    #[test]
    fn simulated_payloads_parse_like_metas() {
        let cases = [
            MessageContent::Text { body: "hi".into() },
            MessageContent::ButtonReply {
                id: "yes".into(),
                title: "Yes".into(),
            },
            MessageContent::ListReply {
                id: "chest".into(),
                title: "Chest".into(),
                description: None,
            },
        ];
        for expected in cases {
            let payload = webhook_payload(
                "100",
                "15550001111",
                "Ana",
                "wamid.X",
                1_700_000_000,
                &expected,
            )
            .unwrap();
            let parsed = parse_webhook(&serde_json::to_vec(&payload).unwrap()).unwrap();
            let [ChannelEvent::Message(m)] = parsed.events.as_slice() else {
                panic!("one message expected: {parsed:?}")
            };
            assert_eq!(m.content, expected);
            assert_eq!(m.from, "15550001111");
            assert_eq!(m.profile_name.as_deref(), Some("Ana"));
        }
    }

    #[test]
    fn content_a_patient_cannot_simulate_is_refused() {
        let location = MessageContent::Location {
            latitude: 0.0,
            longitude: 0.0,
            name: None,
            address: None,
        };
        assert!(webhook_payload("100", "15550001111", "Ana", "wamid.X", 0, &location).is_none());
    }

    #[test]
    fn wa_ids_are_digits_only() {
        assert!(valid_wa_id("15550001111"));
        assert!(!valid_wa_id("+15550001111"));
        assert!(!valid_wa_id("123"));
    }
}
