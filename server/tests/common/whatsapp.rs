//! WhatsApp test kit: webhook payloads in Meta's documented shape, signing,
//! and a fake Graph API (the product's own sink, served on its own port).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use server::channel::whatsapp::signature::sign;
use server::channel::whatsapp::sink::{self, SinkState};
use server::config::{Config, SecretRef};

pub const APP_SECRET: &str = "test-app-secret";
pub const VERIFY_TOKEN: &str = "verify-me-please";
pub const PHONE_NUMBER_ID: &str = "106540352242922";

/// A fake Graph API on a random port.
pub struct FakeGraph {
    pub state: SinkState,
    pub base: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeGraph {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn fake_graph() -> FakeGraph {
    let state = SinkState::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = sink::router(state.clone());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    FakeGraph {
        state,
        base: format!("http://{addr}"),
        task,
    }
}

/// Points a server config at the fake with real-looking credentials.
pub fn configure(config: &mut Config, graph: &FakeGraph) {
    config.whatsapp.app_secret = Some(SecretRef::Literal(APP_SECRET.into()));
    config.whatsapp.verify_token = Some(SecretRef::Literal(VERIFY_TOKEN.into()));
    config.whatsapp.access_token = Some(SecretRef::Literal("EAAG-test-token".into()));
    config.whatsapp.phone_number_id = Some(PHONE_NUMBER_ID.into());
    config.whatsapp.graph_api_base = graph.base.clone();
    config.whatsapp.recipient_interval_ms = 0;
}

fn envelope(value: Value) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "102290129340398",
            "changes": [{
                "value": value,
                "field": "messages"
            }]
        }]
    })
}

fn metadata() -> Value {
    json!({"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID})
}

/// A text message webhook, as Meta sends it.
pub fn text(from: &str, wamid: &str, body: &str, timestamp: i64) -> Vec<u8> {
    let value = json!({
        "messaging_product": "whatsapp",
        "metadata": metadata(),
        "contacts": [{"profile": {"name": "Test Patient"}, "wa_id": from}],
        "messages": [{
            "from": from,
            "id": wamid,
            "timestamp": timestamp.to_string(),
            "type": "text",
            "text": {"body": body}
        }]
    });
    serde_json::to_vec(&envelope(value)).unwrap()
}

/// A status webhook for one of our messages.
pub fn status(recipient: &str, wamid: &str, status: &str, error_code: Option<i64>) -> Vec<u8> {
    let mut entry = json!({
        "id": wamid,
        "status": status,
        "timestamp": chrono::Utc::now().timestamp().to_string(),
        "recipient_id": recipient
    });
    if let Some(code) = error_code {
        entry["errors"] = json!([{
            "code": code,
            "title": "Message failed",
            "message": "Message failed",
            "error_data": {"details": "test failure"}
        }]);
    }
    let value =
        json!({"messaging_product": "whatsapp", "metadata": metadata(), "statuses": [entry]});
    serde_json::to_vec(&envelope(value)).unwrap()
}

/// Posts a webhook signed with the test app secret.
pub async fn post(addr: std::net::SocketAddr, body: &[u8]) -> u16 {
    post_with_signature(addr, body, Some(&sign(APP_SECRET.as_bytes(), body))).await
}

pub async fn post_with_signature(
    addr: std::net::SocketAddr,
    body: &[u8],
    signature: Option<&str>,
) -> u16 {
    let mut req = reqwest::Client::new()
        .post(format!("http://{addr}/webhooks/whatsapp"))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(sig) = signature {
        req = req.header("x-hub-signature-256", sig);
    }
    req.send().await.unwrap().status().as_u16()
}

/// Messages (not read receipts) the fake received for `wa_id`, as request JSON.
pub fn replies(graph: &FakeGraph, wa_id: &str) -> Vec<Value> {
    graph
        .state
        .sent_to(wa_id)
        .into_iter()
        .map(|r| r.request)
        .filter(|r| r.get("status").is_none())
        .collect()
}

/// A tap on one of our reply buttons, as Meta sends it.
pub fn button_reply(from: &str, wamid: &str, id: &str, title: &str, timestamp: i64) -> Vec<u8> {
    let value = json!({
        "messaging_product": "whatsapp",
        "metadata": metadata(),
        "contacts": [{"profile": {"name": "Test Patient"}, "wa_id": from}],
        "messages": [{
            "from": from,
            "id": wamid,
            "timestamp": timestamp.to_string(),
            "type": "interactive",
            "interactive": {"type": "button_reply", "button_reply": {"id": id, "title": title}}
        }]
    });
    serde_json::to_vec(&envelope(value)).unwrap()
}
