//! Episodes, hand-offs and reports end to end: signed webhooks into a real
//! server on a random port, a fake Graph API, and the clinician API. One
//! conversation (transcript and report) per episode of the agent; a report
//! never gets less urgent; a hand-off is listed with its reason and deadline
//! and never expires.

// Integration tests: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use std::time::Duration;

use common::whatsapp::{self as wa, FakeGraph};
use secrecy::ExposeSecret;
use serde_json::Value;
use server::app::{self, RunningServer, StartOptions};
use server::channel::whatsapp::runtime::{EVENTS_QUEUE, OUTBOUND_QUEUE, TIMERS_QUEUE};
use server::config::StorageConfig;
use server::storage::{ConversationStatus, Direction, Message, Role, Storage};

const WAIT: Duration = Duration::from_secs(15);

struct Harness {
    server: RunningServer,
    storage: Storage,
    graph: FakeGraph,
    token: String,
    sent: usize,
}

async fn harness(storage: StorageConfig, session_timeout_secs: Option<u64>) -> Harness {
    let graph = wa::fake_graph().await;
    let mut config = common::server_config(storage);
    wa::configure(&mut config, &graph);
    if let Some(secs) = session_timeout_secs {
        config.whatsapp.session_timeout_secs = secs;
    }
    let server = app::start(config, StartOptions::default()).await.unwrap();
    let storage = server.wait_for_storage(WAIT).await.unwrap();
    let (token, _) = storage
        .reports
        .create_token(Role::Clinician, None)
        .await
        .unwrap();
    Harness {
        server,
        storage,
        graph,
        token: token.expose_secret().to_owned(),
        sent: 0,
    }
}

impl Harness {
    /// Waits until every event and send job is acked.
    async fn drained(&self) {
        common::eventually(WAIT, || async {
            let events = self.storage.queue.depth(EVENTS_QUEUE).await.unwrap();
            let outbound = self.storage.queue.depth(OUTBOUND_QUEUE).await.unwrap();
            (events == 0 && outbound == 0).then_some(())
        })
        .await
        .expect("queues drain");
    }

    /// Posts one webhook and returns the replies it caused.
    async fn post(&mut self, who: &str, body: Vec<u8>) -> Vec<Value> {
        let before = wa::replies(&self.graph, who).len();
        assert_eq!(wa::post(self.server.addr, &body).await, 200);
        self.drained().await;
        wa::replies(&self.graph, who).split_off(before)
    }

    async fn say(&mut self, who: &str, text: &str) -> Vec<Value> {
        self.sent += 1;
        let wamid = format!("wamid.EP{who}{:04}", self.sent);
        let body = wa::text(who, &wamid, text, chrono::Utc::now().timestamp());
        self.post(who, body).await
    }

    /// Answers the interview ("no" to every yes/no question, a number to
    /// the rest) until `done` holds or `turns` answers were given.
    async fn answer_until(
        &mut self,
        who: &str,
        mut last: Vec<Value>,
        turns: usize,
        done: impl Fn(&[Value]) -> bool,
    ) {
        for _ in 0..turns {
            if done(&self.reports(None).await) {
                return;
            }
            let no = last.iter().rev().find_map(|r| {
                r["interactive"]["action"]["buttons"]
                    .as_array()?
                    .iter()
                    .find(|b| {
                        b["reply"]["id"]
                            .as_str()
                            .is_some_and(|id| id.starts_with("no:"))
                    })
                    .cloned()
            });
            last = match no {
                Some(button) => {
                    self.sent += 1;
                    let wamid = format!("wamid.EP{who}{:04}", self.sent);
                    let body = wa::button_reply(
                        who,
                        &wamid,
                        button["reply"]["id"].as_str().unwrap(),
                        button["reply"]["title"].as_str().unwrap(),
                        chrono::Utc::now().timestamp(),
                    );
                    self.post(who, body).await
                }
                None => self.say(who, "2 days").await,
            };
        }
        assert!(
            done(&self.reports(None).await),
            "the interview did not conclude: {:?}",
            wa::replies(&self.graph, who)
        );
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let resp = reqwest::Client::new()
            .get(format!("http://{}{path}", self.server.addr))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn reports(&self, status: Option<&str>) -> Vec<Value> {
        let path = match status {
            Some(s) => format!("/api/triage-reports?status={s}"),
            None => "/api/triage-reports".to_owned(),
        };
        let (code, body) = self.get(&path).await;
        assert_eq!(code, 200, "{body}");
        body["reports"].as_array().unwrap().clone()
    }

    async fn transcript(&self, who: &str) -> Vec<Message> {
        self.storage
            .records
            .patient_messages("whatsapp", who, 100)
            .await
            .unwrap()
    }
}

fn of_patient<'a>(reports: &'a [Value], who: &str) -> Vec<&'a Value> {
    reports.iter().filter(|r| r["patient_ref"] == who).collect()
}

fn inbound_text(m: &Message) -> Option<&str> {
    (m.direction == Direction::Inbound)
        .then(|| m.content["body"].as_str())
        .flatten()
}

/// Messages of one conversation, in order.
fn in_conversation(messages: &[Message], id: &str) -> Vec<Message> {
    messages
        .iter()
        .filter(|m| m.conversation_id.to_string() == id)
        .cloned()
        .collect()
}

on_both_backends!(
    cancel_after_an_emergency_keeps_its_report_and_the_next_problem_gets_its_own,
    a_new_problem_after_a_finished_triage_opens_a_conversation_that_starts_with_it,
    a_hand_off_is_listed_with_its_reason_and_deadline_and_never_expires,
    the_simulator_shows_both_sides_of_every_conversation_from_the_server,
);

async fn cancel_after_an_emergency_keeps_its_report_and_the_next_problem_gets_its_own(
    storage: StorageConfig,
) {
    let mut h = harness(storage, None).await;
    let who = "15551239201";
    h.say(who, "chest pain and sweating").await;
    let first = of_patient(&h.reports(None).await, who)
        .first()
        .map(|r| (*r).clone())
        .expect("an emergency report");
    assert_eq!(first["disposition"], "emergency_ambulance");
    let first_conversation = first["conversation_id"].as_str().unwrap().to_owned();

    let cancelled = h.say(who, "CANCEL").await;
    assert!(!cancelled.is_empty(), "CANCEL is acknowledged");
    let last = h.say(who, "I can't sleep at night").await;
    h.answer_until(who, last, 10, |all| of_patient(all, who).len() == 2)
        .await;

    let reports = h.reports(None).await;
    let mine = of_patient(&reports, who);
    assert_eq!(mine.len(), 2, "{reports:?}");
    let old = mine
        .iter()
        .find(|r| r["conversation_id"] == first_conversation.as_str())
        .expect("the emergency report is still there");
    assert_eq!(
        old["disposition"], "emergency_ambulance",
        "a later, milder episode never lowers the emergency's report"
    );
    assert_eq!(old["id"], first["id"]);
    let new = mine
        .iter()
        .find(|r| r["conversation_id"] != first_conversation.as_str())
        .unwrap();
    assert_ne!(new["disposition"], "emergency_ambulance", "{new}");
    assert_eq!(new["status"], "triaged");

    // Two conversations: the first (closed) holds the emergency and the
    // CANCEL with its reply; the second starts with the patient's words.
    let transcript = h.transcript(who).await;
    let closed = in_conversation(&transcript, &first_conversation);
    let texts: Vec<_> = closed.iter().filter_map(inbound_text).collect();
    assert_eq!(texts, ["chest pain and sweating", "CANCEL"]);
    assert_eq!(
        closed.last().unwrap().direction,
        Direction::Outbound,
        "the reply to CANCEL is in the conversation it closed"
    );
    let first_id = closed[0].conversation_id;
    assert_eq!(
        h.storage
            .records
            .conversation(first_id)
            .await
            .unwrap()
            .unwrap()
            .status,
        ConversationStatus::Closed
    );
    let second = in_conversation(&transcript, new["conversation_id"].as_str().unwrap());
    assert_eq!(
        inbound_text(&second[0]),
        Some("I can't sleep at night"),
        "{second:?}"
    );
    h.server.shutdown().await.unwrap();
}

async fn a_new_problem_after_a_finished_triage_opens_a_conversation_that_starts_with_it(
    storage: StorageConfig,
) {
    let mut h = harness(storage, None).await;
    let who = "15551239202";
    let last = h.say(who, "I can't sleep at night").await;
    h.answer_until(who, last, 10, |all| !of_patient(all, who).is_empty())
        .await;
    let first = of_patient(&h.reports(None).await, who)[0].clone();
    let first_conversation = first["conversation_id"].as_str().unwrap().to_owned();
    let before = h.transcript(who).await.len();

    let new_problem = "now my chest hurts and I am sweating a lot";
    h.say(who, new_problem).await;
    let reports = h.reports(None).await;
    let mine = of_patient(&reports, who);
    assert_eq!(mine.len(), 2, "{reports:?}");
    let new = mine
        .iter()
        .find(|r| r["conversation_id"] != first_conversation.as_str())
        .unwrap();
    assert_eq!(new["disposition"], "emergency_ambulance");
    let old = mine
        .iter()
        .find(|r| r["conversation_id"] == first_conversation.as_str())
        .unwrap();
    assert_eq!(old["disposition"], first["disposition"], "the first stays");

    let transcript = h.transcript(who).await;
    let closed = in_conversation(&transcript, &first_conversation);
    assert_eq!(
        closed.len(),
        before,
        "nothing of the new problem in the old"
    );
    let opened = in_conversation(&transcript, new["conversation_id"].as_str().unwrap());
    assert_eq!(inbound_text(&opened[0]), Some(new_problem), "{opened:?}");
    assert!(
        opened[1..]
            .iter()
            .all(|m| m.direction == Direction::Outbound),
        "then the replies to it: {opened:?}"
    );
    for (id, expected) in [
        (closed[0].conversation_id, ConversationStatus::Closed),
        (opened[0].conversation_id, ConversationStatus::Open),
    ] {
        let c = h.storage.records.conversation(id).await.unwrap().unwrap();
        assert_eq!(c.status, expected);
    }

    // A redelivery of the message that opened the episode changes nothing.
    let redelivered = wa::text(
        who,
        &format!("wamid.EP{who}{:04}", h.sent),
        new_problem,
        chrono::Utc::now().timestamp(),
    );
    assert!(h.post(who, redelivered).await.is_empty());
    assert_eq!(h.transcript(who).await, transcript);
    assert_eq!(of_patient(&h.reports(None).await, who).len(), 2);
    h.server.shutdown().await.unwrap();
}

async fn a_hand_off_is_listed_with_its_reason_and_deadline_and_never_expires(
    storage: StorageConfig,
) {
    let mut h = harness(storage, Some(1)).await;
    let who = "15551239203";
    let before = chrono::Utc::now();
    let replies = h.say(who, "I want to talk to a nurse please").await;
    assert!(!replies.is_empty());

    let listed = h.reports(Some("escalated_to_clinician")).await;
    let handoff = of_patient(&listed, who)
        .first()
        .map(|r| (*r).clone())
        .unwrap_or_else(|| panic!("the hand-off is listed: {listed:?}"));
    assert_eq!(handoff["status"], "escalated_to_clinician");
    assert_eq!(handoff["handoff_reason"], "patient_asked");
    let due: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(handoff["review_due_at"].clone()).unwrap();
    let minutes = handoff["report"]["handoff"]["review_minutes"]
        .as_i64()
        .unwrap();
    assert!(minutes > 0, "{handoff}");
    // The deadline is the patient's message time plus the promised reply time.
    let promised = before + chrono::Duration::minutes(minutes);
    assert!(
        (due - promised).num_seconds().abs() <= 5,
        "{due} vs {promised}"
    );
    assert!(
        handoff["rendered"]
            .as_str()
            .unwrap()
            .contains("patient_asked"),
        "{handoff}"
    );
    assert!(of_patient(&h.reports(Some("triaged")).await, who).is_empty());
    let (code, body) = h.get("/api/triage-reports?status=closed").await;
    assert_eq!((code, &body["error"]["code"]), (400, &"bad_request".into()));

    // An interview in progress expires after the 1 s timeout; the hand-off,
    // sent before it, does not.
    let control = "15551239204";
    h.say(control, "my chest hurts").await;
    common::eventually(WAIT, || async {
        wa::replies(&h.graph, control)
            .iter()
            .any(|r| {
                r["text"]["body"]
                    .as_str()
                    .is_some_and(|t| t.contains("did not hear back"))
            })
            .then_some(())
    })
    .await
    .expect("the unanswered interview is closed");
    common::eventually(WAIT, || async {
        (h.storage.queue.depth(TIMERS_QUEUE).await.unwrap() == 0).then_some(())
    })
    .await
    .expect("no timer left");
    h.drained().await;
    assert_eq!(
        wa::replies(&h.graph, who).len(),
        replies.len(),
        "nothing more to the patient waiting for a clinician"
    );
    let transcript = h.transcript(who).await;
    let conversation = h
        .storage
        .records
        .conversation(transcript[0].conversation_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(conversation.status, ConversationStatus::Open);
    let still = of_patient(&h.reports(Some("escalated_to_clinician")).await, who).len();
    assert_eq!(still, 1);
    h.server.shutdown().await.unwrap();
}

async fn the_simulator_shows_both_sides_of_every_conversation_from_the_server(
    storage: StorageConfig,
) {
    // No WhatsApp credentials: simulator mode with the built-in sink.
    let config = common::server_config(storage);
    let server = app::start(config, StartOptions::default()).await.unwrap();
    server.wait_for_storage(WAIT).await.unwrap();
    let base = format!("http://{}", server.addr);
    let client = reqwest::Client::new();
    let who = "15550009801";
    let transcript = || async {
        let resp = client
            .get(format!("{base}/simulator/api/conversation?wa_id={who}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        let body: Value = resp.json().await.unwrap();
        body["messages"].as_array().unwrap().clone()
    };
    for (n, text) in ["my chest hurts", "CANCEL", "I can't sleep at night"]
        .into_iter()
        .enumerate()
    {
        let sent = n + 1;
        let resp: Value = client
            .post(format!("{base}/simulator/api/send"))
            .json(&serde_json::json!({"from": who, "input": {"type": "text", "body": text}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(resp["webhook_status"], 200, "{resp}");
        // Each message is answered before the next is typed.
        common::eventually(WAIT, || async {
            let messages = transcript().await;
            let inbound = messages
                .iter()
                .filter(|m| m["direction"] == "inbound")
                .count();
            (inbound == sent && messages.last()?["direction"] == "outbound").then_some(())
        })
        .await
        .unwrap_or_else(|| panic!("`{text}` and its reply are recorded"));
    }
    // As a reload (or a `?from=` link) would fetch it: everything, in order.
    let messages = transcript().await;
    let said: Vec<&str> = messages
        .iter()
        .filter(|m| m["direction"] == "inbound")
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(said, ["my chest hurts", "CANCEL", "I can't sleep at night"]);
    for m in messages.iter().filter(|m| m["direction"] == "outbound") {
        let message = &m["message"];
        assert_eq!(message["messaging_product"], "whatsapp", "Graph shape: {m}");
        assert_eq!(message["to"], who);
    }
    // The patient's first message is followed by the bot's reply, and the
    // conversation changes with the episode: CANCEL ends the first.
    assert_eq!(messages[0]["direction"], "inbound");
    assert_eq!(messages[1]["direction"], "outbound");
    let conversation_of = |text: &str| {
        messages
            .iter()
            .find(|m| m["text"] == text)
            .map(|m| m["conversation_id"].clone())
            .unwrap()
    };
    assert_eq!(conversation_of("my chest hurts"), conversation_of("CANCEL"));
    assert_ne!(
        conversation_of("CANCEL"),
        conversation_of("I can't sleep at night")
    );
    let page = reqwest::get(format!("{base}/simulator?from={who}"))
        .await
        .unwrap();
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("/simulator/api/conversation")
    );
    let bad = client
        .get(format!("{base}/simulator/api/conversation?wa_id=+1555"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_simulators_transcript_is_closed_to_real_patients() {
    let graph = wa::fake_graph().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::server_config(common::sqlite_config(&dir));
    wa::configure(&mut config, &graph);
    config.whatsapp.simulator = Some(true);
    let server = app::start(config, StartOptions::default()).await.unwrap();
    server.wait_for_storage(WAIT).await.unwrap();
    let resp = reqwest::get(format!(
        "http://{}/simulator/api/conversation?wa_id=15551239205",
        server.addr
    ))
    .await
    .unwrap();
    assert_eq!(
        resp.status().as_u16(),
        400,
        "real credentials: the records are PHI"
    );
    server.shutdown().await.unwrap();
}
