//! The WhatsApp channel end to end: signed webhooks into a real server on a
//! random port, workers, and replies arriving at a fake Graph API that speaks
//! Meta's wire format.

// Integration tests: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use std::time::Duration;

use common::whatsapp::{self as wa, FakeGraph};
use server::app::{self, RunningServer, StartOptions};
use server::channel::whatsapp::runtime::{EVENTS_QUEUE, OUTBOUND_QUEUE};
use server::config::StorageConfig;
use server::storage::{OutboxStatus, Storage};
use server::worker::{self, Shutdown};

const WAIT: Duration = Duration::from_secs(15);

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn start(
    storage: StorageConfig,
    graph: &FakeGraph,
    options: StartOptions,
) -> (RunningServer, Storage) {
    let mut config = common::server_config(storage);
    wa::configure(&mut config, graph);
    start_with(config, options).await
}

async fn start_with(
    config: server::config::Config,
    options: StartOptions,
) -> (RunningServer, Storage) {
    let server = app::start(config, options).await.unwrap();
    let storage = server
        .wait_for_storage(Duration::from_secs(10))
        .await
        .unwrap();
    (server, storage)
}

/// Waits until the fake has `n` replies for `wa_id`, then a little longer to
/// catch any extra one.
async fn expect_replies(graph: &FakeGraph, wa_id: &str, n: usize) -> Vec<serde_json::Value> {
    common::eventually(WAIT, || async {
        (wa::replies(graph, wa_id).len() >= n).then_some(())
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "expected {n} replies to {wa_id}, got {:?}",
            wa::replies(graph, wa_id)
        )
    });
    tokio::time::sleep(Duration::from_millis(600)).await;
    wa::replies(graph, wa_id)
}

async fn queues_drained(storage: &Storage) {
    common::eventually(WAIT, || async {
        let events = storage.queue.depth(EVENTS_QUEUE).await.unwrap();
        let outbound = storage.queue.depth(OUTBOUND_QUEUE).await.unwrap();
        (events == 0 && outbound == 0).then_some(())
    })
    .await
    .expect("queues drain");
}

on_both_backends!(
    a_text_message_gets_one_reply_with_the_safety_line,
    five_concurrent_deliveries_of_one_webhook_give_one_reply,
    a_worker_killed_between_processing_and_ack_still_gives_one_reply,
    bad_signatures_and_bad_bodies_are_refused_and_nothing_is_stored,
);

async fn a_text_message_gets_one_reply_with_the_safety_line(storage: StorageConfig) {
    let graph = wa::fake_graph().await;
    let (server, storage) = start(storage, &graph, StartOptions::default()).await;
    let body = wa::text(
        "15551230101",
        "wamid.HBgLMTU1NTEyMzAxMDEVAgASGBQzQUFB",
        "my chest feels tight",
        now(),
    );
    assert_eq!(wa::post(server.addr, &body).await, 200);
    let replies = expect_replies(&graph, "15551230101", 1).await;
    assert_eq!(replies.len(), 1, "{replies:?}");
    let reply = &replies[0];
    assert_eq!(reply["messaging_product"], "whatsapp");
    assert_eq!(reply["to"], "15551230101");
    // Chest tightness alone: the agent asks the question that could reveal
    // an emergency, as reply buttons, with the safety line.
    assert_eq!(reply["type"], "interactive", "{reply}");
    assert_eq!(reply["interactive"]["type"], "button");
    assert_eq!(
        reply["interactive"]["action"]["buttons"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let text = reply["interactive"]["body"]["text"].as_str().unwrap();
    assert!(
        text.contains("not give a diagnosis") && text.contains("emergency"),
        "{text}"
    );
    // The inbound message is marked read.
    let receipts: Vec<_> = graph
        .state
        .sent_to_any()
        .into_iter()
        .filter(|r| r.request.get("status").and_then(|s| s.as_str()) == Some("read"))
        .collect();
    assert_eq!(receipts.len(), 1);

    queues_drained(&storage).await;
    let conversation = storage
        .records
        .open_conversation("whatsapp", "15551230101")
        .await
        .unwrap();
    let messages = storage.records.messages(conversation.id, 10).await.unwrap();
    assert_eq!(
        messages.len(),
        2,
        "inbound and outbound recorded: {messages:?}"
    );
    let outbox = storage
        .channel
        .outbox_for("whatsapp", "15551230101", 10)
        .await
        .unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].status, OutboxStatus::Sent);
    assert!(
        outbox[0]
            .external_id
            .as_deref()
            .unwrap()
            .starts_with("wamid.")
    );
    server.shutdown().await.unwrap();
}

async fn five_concurrent_deliveries_of_one_webhook_give_one_reply(storage: StorageConfig) {
    let graph = wa::fake_graph().await;
    let (server, storage) = start(storage, &graph, StartOptions::default()).await;
    let body = wa::text(
        "15551230102",
        "wamid.DUPLICATE0001",
        "I have a fever",
        now(),
    );
    let posts: Vec<_> = (0..5).map(|_| wa::post(server.addr, &body)).collect();
    let statuses = futures::future::join_all(posts).await;
    assert!(
        statuses.iter().all(|s| *s == 200),
        "every delivery is acknowledged: {statuses:?}"
    );
    let replies = expect_replies(&graph, "15551230102", 1).await;
    assert_eq!(
        replies.len(),
        1,
        "exactly one reply for five deliveries: {replies:?}"
    );
    queues_drained(&storage).await;
    // And once more, later, after everything was processed.
    assert_eq!(wa::post(server.addr, &body).await, 200);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(wa::replies(&graph, "15551230102").len(), 1);
    server.shutdown().await.unwrap();
}

async fn a_worker_killed_between_processing_and_ack_still_gives_one_reply(storage: StorageConfig) {
    let graph = wa::fake_graph().await;
    let (server, storage) = start(storage, &graph, StartOptions { workers: false }).await;
    let body = wa::text("15551230103", "wamid.KILLED0001", "my head hurts", now());
    assert_eq!(wa::post(server.addr, &body).await, 200);

    // A worker claims the event and processes it completely, then dies
    // before its ack: the lease is simply never renewed or released.
    let handlers = app::handlers(&storage, &server.state.whatsapp, None);
    let (_, processor) = handlers
        .iter()
        .find(|(o, _)| o.queue == EVENTS_QUEUE)
        .unwrap();
    let job = storage
        .queue
        .claim(EVENTS_QUEUE, "doomed", Duration::from_millis(700))
        .await
        .unwrap()
        .unwrap();
    processor.handle(&job).await.unwrap();

    // Healthy workers take over; the event is redelivered after the lease.
    let shutdown = Shutdown::default();
    let mut tasks = Vec::new();
    for (options, handler) in handlers {
        let mut options = options.clone();
        options.consumer = format!("survivor-{}", options.queue);
        tasks.push(tokio::spawn(worker::run(
            storage.queue.clone(),
            handler,
            options,
            shutdown.clone(),
        )));
    }
    queues_drained(&storage).await;
    let replies = expect_replies(&graph, "15551230103", 1).await;
    assert_eq!(
        replies.len(),
        1,
        "the redelivered event must not send a second reply: {replies:?}"
    );
    shutdown.stop.cancel();
    for t in tasks {
        t.await.unwrap();
    }
    server.shutdown().await.unwrap();
}

async fn bad_signatures_and_bad_bodies_are_refused_and_nothing_is_stored(storage: StorageConfig) {
    let graph = wa::fake_graph().await;
    let (server, storage) = start(storage, &graph, StartOptions { workers: false }).await;
    let body = wa::text("15551230104", "wamid.FORGED0001", "hello", now());
    let forged = server::channel::whatsapp::signature::sign(b"not-the-app-secret", &body);
    assert_eq!(
        wa::post_with_signature(server.addr, &body, Some(&forged)).await,
        401
    );
    assert_eq!(wa::post_with_signature(server.addr, &body, None).await, 401);
    assert_eq!(
        wa::post_with_signature(server.addr, &body, Some("sha256=zz")).await,
        401
    );
    // Signed for another body (a replayed signature on an edited payload).
    let other = wa::text("15551230104", "wamid.FORGED0001", "hello!", now());
    let stale = server::channel::whatsapp::signature::sign(wa::APP_SECRET.as_bytes(), &other);
    assert_eq!(
        wa::post_with_signature(server.addr, &body, Some(&stale)).await,
        401
    );
    // Validly signed, but not JSON.
    assert_eq!(wa::post(server.addr, b"{not json").await, 400);
    // Validly signed JSON of a shape we do not process: acknowledged, not queued.
    let account_update = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"account_update","value":{"event":"VERIFIED_ACCOUNT"}}]}]}"#;
    assert_eq!(wa::post(server.addr, account_update).await, 200);
    assert_eq!(
        storage.queue.depth(EVENTS_QUEUE).await.unwrap(),
        0,
        "nothing stored for refused input"
    );
    // Over 1 MiB.
    let huge = vec![b' '; 1024 * 1024 + 10];
    assert_eq!(wa::post(server.addr, &huge).await, 413);
    server.shutdown().await.unwrap();
}

async fn sqlite_server(graph: &FakeGraph) -> (RunningServer, Storage, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (server, storage) =
        start(common::sqlite_config(&dir), graph, StartOptions::default()).await;
    (server, storage, dir)
}

#[tokio::test]
async fn verification_handshake_echoes_the_challenge_only_for_our_token() {
    let graph = wa::fake_graph().await;
    let (server, _storage, _dir) = sqlite_server(&graph).await;
    let url = |token: &str| {
        format!(
            "http://{}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444",
            server.addr
        )
    };
    let ok = reqwest::get(url(wa::VERIFY_TOKEN)).await.unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    assert_eq!(
        reqwest::get(url("wrong")).await.unwrap().status().as_u16(),
        403
    );
    let no_mode = format!(
        "http://{}/webhooks/whatsapp?hub.verify_token={}&hub.challenge=1",
        server.addr,
        wa::VERIFY_TOKEN
    );
    assert_eq!(reqwest::get(no_mode).await.unwrap().status().as_u16(), 403);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn stop_silences_the_bot_until_start() {
    let graph = wa::fake_graph().await;
    let (server, storage, _dir) = sqlite_server(&graph).await;
    let who = "15551230105";
    assert_eq!(
        wa::post(server.addr, &wa::text(who, "wamid.S1", "STOP", now())).await,
        200
    );
    assert_eq!(
        wa::post(server.addr, &wa::text(who, "wamid.S2", "hello?", now())).await,
        200
    );
    queues_drained(&storage).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(wa::replies(&graph, who).is_empty(), "no reply after STOP");
    let conversation = storage
        .records
        .open_conversation("whatsapp", who)
        .await
        .unwrap();
    assert_eq!(
        storage
            .records
            .messages(conversation.id, 10)
            .await
            .unwrap()
            .len(),
        2,
        "but both are recorded"
    );
    assert_eq!(
        wa::post(server.addr, &wa::text(who, "wamid.S3", "START", now())).await,
        200
    );
    assert_eq!(expect_replies(&graph, who, 1).await.len(), 1);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn blocked_numbers_are_recorded_and_never_answered() {
    let graph = wa::fake_graph().await;
    let (server, storage, _dir) = sqlite_server(&graph).await;
    let who = "15551230106";
    storage
        .channel
        .set_blocked("whatsapp", who, true)
        .await
        .unwrap();
    assert_eq!(
        wa::post(server.addr, &wa::text(who, "wamid.B1", "hello", now())).await,
        200
    );
    queues_drained(&storage).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(wa::replies(&graph, who).is_empty());
    let conversation = storage
        .records
        .open_conversation("whatsapp", who)
        .await
        .unwrap();
    assert_eq!(
        storage
            .records
            .messages(conversation.id, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn status_webhooks_move_the_outbox_row_forward() {
    let graph = wa::fake_graph().await;
    let (server, storage, _dir) = sqlite_server(&graph).await;
    let who = "15551230107";
    wa::post(server.addr, &wa::text(who, "wamid.ST1", "hi", now())).await;
    expect_replies(&graph, who, 1).await;
    queues_drained(&storage).await;
    let row = storage
        .channel
        .outbox_for("whatsapp", who, 1)
        .await
        .unwrap()
        .remove(0);
    let wamid = row.external_id.clone().unwrap();
    assert_eq!(
        wa::post(server.addr, &wa::status(who, &wamid, "read", None)).await,
        200
    );
    assert_eq!(
        wa::post(server.addr, &wa::status(who, &wamid, "delivered", None)).await,
        200
    );
    queues_drained(&storage).await;
    let row = storage.channel.outbox_row(row.id).await.unwrap().unwrap();
    assert_eq!(
        row.status,
        OutboxStatus::Read,
        "a late `delivered` does not undo `read`"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn outside_the_24_hour_window_a_template_is_sent_or_the_row_fails() {
    let graph = wa::fake_graph().await;
    let two_days_ago = now() - 48 * 3600;

    // No template configured: nothing is sent, the row records why.
    let (server, storage, _dir) = sqlite_server(&graph).await;
    wa::post(
        server.addr,
        &wa::text("15551230108", "wamid.W1", "late message", two_days_ago),
    )
    .await;
    queues_drained(&storage).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(wa::replies(&graph, "15551230108").is_empty());
    let row = storage
        .channel
        .outbox_for("whatsapp", "15551230108", 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        (row.status, row.last_error_code),
        (OutboxStatus::Failed, Some(131047))
    );
    server.shutdown().await.unwrap();

    // With a re-engagement template: the template goes out instead.
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::server_config(common::sqlite_config(&dir));
    wa::configure(&mut config, &graph);
    config.whatsapp.reengagement_template = Some("triage_follow_up".into());
    let (server, storage) = start_with(config, StartOptions::default()).await;
    wa::post(
        server.addr,
        &wa::text("15551230109", "wamid.W2", "late message", two_days_ago),
    )
    .await;
    let replies = expect_replies(&graph, "15551230109", 1).await;
    assert_eq!(replies[0]["type"], "template");
    assert_eq!(replies[0]["template"]["name"], "triage_follow_up");
    queues_drained(&storage).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn meta_errors_are_retried_or_recorded_by_their_code() {
    let graph = wa::fake_graph().await;
    let (server, storage, _dir) = sqlite_server(&graph).await;

    // A transient 500 is retried and the patient still gets the reply.
    graph.state.fail_next("15551230110", 131000, 500, 1);
    wa::post(
        server.addr,
        &wa::text("15551230110", "wamid.E1", "hello", now()),
    )
    .await;
    assert_eq!(expect_replies(&graph, "15551230110", 1).await.len(), 1);

    // Undeliverable (131026) is final and recorded with Meta's code.
    graph.state.fail_next("15551230111", 131026, 400, 1);
    wa::post(
        server.addr,
        &wa::text("15551230111", "wamid.E2", "hello", now()),
    )
    .await;
    let failed = common::eventually(WAIT, || async {
        let rows = storage
            .channel
            .outbox_for("whatsapp", "15551230111", 1)
            .await
            .unwrap();
        rows.into_iter().find(|r| r.status == OutboxStatus::Failed)
    })
    .await
    .expect("row marked failed");
    assert_eq!(failed.last_error_code, Some(131026));
    assert!(wa::replies(&graph, "15551230111").is_empty());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn one_patients_messages_are_answered_in_order() {
    let graph = wa::fake_graph().await;
    let (server, storage, _dir) = sqlite_server(&graph).await;
    let who = "15551230112";
    for n in 0..4 {
        wa::post(
            server.addr,
            &wa::text(who, &format!("wamid.O{n}"), &format!("message {n}"), now()),
        )
        .await;
    }
    expect_replies(&graph, who, 4).await;
    queues_drained(&storage).await;
    let rows = storage
        .channel
        .outbox_for("whatsapp", who, 10)
        .await
        .unwrap();
    let causes: Vec<_> = rows.iter().map(|r| r.cause_key.clone()).collect();
    assert_eq!(
        causes,
        [
            "msg:wamid.O0",
            "msg:wamid.O1",
            "msg:wamid.O2",
            "msg:wamid.O3"
        ]
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn webhooks_get_503_while_storage_is_down_so_meta_retries() {
    let graph = wa::fake_graph().await;
    let (mut storage, _guard) = common::postgres_config().await;
    storage.postgres_url = Some(server::config::SecretRef::Literal(
        "postgres://postgres@127.0.0.1:1/none".into(),
    ));
    let mut config = common::server_config(storage);
    wa::configure(&mut config, &graph);
    let server = app::start(config, StartOptions::default()).await.unwrap();
    let body = wa::text("15551230113", "wamid.D1", "hello", now());
    assert_eq!(wa::post(server.addr, &body).await, 503);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_simulator_drives_the_real_webhook_and_shows_the_reply() {
    // No WhatsApp credentials: simulator mode with the built-in sink.
    let dir = tempfile::tempdir().unwrap();
    let config = common::server_config(common::sqlite_config(&dir));
    let (server, _storage) = start_with(config, StartOptions::default()).await;
    let base = format!("http://{}", server.addr);
    let page = reqwest::get(format!("{base}/simulator")).await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("Patient simulator"));

    let client = reqwest::Client::new();
    let sent: serde_json::Value = client
        .post(format!("{base}/simulator/api/send"))
        .json(&serde_json::json!({"from": "15550009999", "input": {"type": "text", "body": "my chest hurts"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        sent["webhook_status"], 200,
        "the signed webhook was accepted: {sent}"
    );
    let reply = common::eventually(WAIT, || async {
        let body: serde_json::Value = client
            .get(format!("{base}/simulator/api/messages?wa_id=15550009999"))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        body["messages"]
            .as_array()
            .filter(|m| !m.is_empty())
            .cloned()
    })
    .await
    .expect("the bot's reply appears in the simulator");
    assert_eq!(reply.len(), 1);
    let body = reply[0]["message"]["interactive"]["body"]["text"]
        .as_str()
        .or(reply[0]["message"]["text"]["body"].as_str())
        .unwrap();
    assert!(body.contains("emergency"), "{body}");

    // Bad input to the simulator is refused with a clear error.
    let bad = client
        .post(format!("{base}/simulator/api/send"))
        .json(&serde_json::json!({"from": "+1 555", "input": {"type": "text", "body": "x"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    // A forged webhook (the simulator's secret is random per process) is refused.
    let body = wa::text("15550009999", "wamid.FORGE", "hi", now());
    assert_eq!(wa::post(server.addr, &body).await, 401);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_simulator_is_off_when_real_credentials_are_configured() {
    let graph = wa::fake_graph().await;
    let (server, _storage, _dir) = sqlite_server(&graph).await;
    let page = reqwest::get(format!("http://{}/simulator", server.addr))
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 404);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn chest_pain_with_sweating_gets_the_ambulance_message_as_the_first_reply() {
    let graph = wa::fake_graph().await;
    let (server, storage, _dir) = sqlite_server(&graph).await;
    let cases = [
        (
            "15551230120",
            "my dad is sweaty and his chest feels tight",
            "Call an ambulance",
        ),
        (
            "15551230121",
            "tengo dolor de pecho y estoy sudando",
            "ambulancia",
        ),
    ];
    for (n, (who, text, expected)) in cases.iter().enumerate() {
        wa::post(
            server.addr,
            &wa::text(who, &format!("wamid.EMERG{n}"), text, now()),
        )
        .await;
        let replies = expect_replies(&graph, who, 1).await;
        let first = replies[0]["text"]["body"].as_str().unwrap();
        assert!(first.contains(expected), "{who}: {first}");
    }
    queues_drained(&storage).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_unanswered_interview_is_closed_with_the_safety_net_message() {
    let graph = wa::fake_graph().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::server_config(common::sqlite_config(&dir));
    wa::configure(&mut config, &graph);
    config.whatsapp.session_timeout_secs = 1;
    let (server, storage) = start_with(config, StartOptions::default()).await;

    // A question is asked, then the patient goes silent.
    wa::post(
        server.addr,
        &wa::text("15551230130", "wamid.T1", "my chest hurts", now()),
    )
    .await;
    let replies = expect_replies(&graph, "15551230130", 2).await;
    assert_eq!(replies[0]["type"], "interactive");
    let last = replies[1]["text"]["body"].as_str().unwrap();
    assert!(last.contains("did not hear back"), "{last}");

    // A conversation that reached a disposition is not chased.
    wa::post(
        server.addr,
        &wa::text("15551230131", "wamid.T2", "I can't sleep at night", now()),
    )
    .await;
    expect_replies(&graph, "15551230131", 1).await;
    tokio::time::sleep(Duration::from_millis(1800)).await;
    assert_eq!(wa::replies(&graph, "15551230131").len(), 1);
    queues_drained(&storage).await;
    server.shutdown().await.unwrap();
}
