//! One conformance suite, run against both backends: the embedded SQLite file
//! and Postgres + Redis. A behaviour either backend lacks fails here.
// Integration tests: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use retrieval::{EMBEDDING_DIM, VectorError, VectorRecord};
use serde_json::json;
use server::storage::queue::Dedupe;
use server::storage::{
    AppendOutcome, ClaimedJob, ConversationStatus, Direction, Enqueued, LockGuard, NewJob,
    NewMessage, NewOutbox, NewReport, OutboxStatus, ReportStatus, Role, Storage, StorageError,
};
use server::worker::{self, HandlerError, JobHandler, Shutdown, WorkerOptions};

macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let t = crate::common::sqlite().await;
                    crate::$case(&t.storage).await;
                }
            )*
        }
        mod postgres_redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let t = crate::common::postgres().await;
                    crate::$case(&t.storage).await;
                }
            )*
        }
    };
}

conformance!(
    conversations_converge_per_patient,
    messages_are_recorded_once_per_external_id,
    a_message_can_open_the_next_conversation,
    kv_values_expire,
    set_if_absent_lets_the_first_caller_win,
    locks_exclude_and_release_only_by_their_holder,
    counters_reset_after_their_window,
    queue_delivers_fifo_and_acks,
    enqueue_dedupes_atomically_with_the_job,
    one_partition_is_never_held_twice,
    expired_lease_is_redelivered_and_the_old_holder_cannot_ack,
    release_returns_a_job_now_or_after_a_delay,
    extend_keeps_a_slow_job_leased,
    dead_letters_unblock_the_partition,
    concurrent_consumers_process_each_job_once_in_order,
    killed_worker_mid_item_is_redelivered_after_its_lease,
    graceful_worker_shutdown_releases_the_job_in_hand,
    vectors_are_scoped_to_their_owner_and_ranked,
    health_reports_every_service,
    contacts_keep_the_latest_inbound_time_and_flags,
    outbox_rows_are_stored_once_per_cause_and_position,
    send_lifecycle_and_delivery_status_only_move_forward,
    reports_are_one_per_conversation_and_listed_by_urgency,
    a_reports_urgency_never_goes_down_and_an_escalation_stays,
    hand_offs_are_listed_by_status_most_urgent_then_earliest_deadline,
    tokens_verify_by_hash_until_revoked,
);

const Q: &str = "events";

fn job<'a>(partition: &'a str, payload: &'a [u8]) -> NewJob<'a> {
    NewJob {
        queue: Q,
        partition,
        payload,
        dedupe: None,
    }
}

async fn claim(s: &Storage, consumer: &str, lease: Duration) -> Option<ClaimedJob> {
    s.queue.claim(Q, consumer, lease).await.unwrap()
}

const LONG: Duration = Duration::from_secs(30);
/// Short TTLs and leases, with enough slack that a loaded CI machine does not
/// hit them before the assertion that they are still running.
const SHORT: Duration = Duration::from_millis(700);
/// Comfortably past `SHORT`.
const PAST_SHORT: Duration = Duration::from_millis(1000);

// ---------------------------------------------------------------- records

async fn conversations_converge_per_patient(s: &Storage) {
    let mut handles = Vec::new();
    for _ in 0..8 {
        let records = s.records.clone();
        handles.push(tokio::spawn(async move {
            records
                .open_conversation("whatsapp", "15551230001")
                .await
                .unwrap()
                .id
        }));
    }
    let mut ids = HashSet::new();
    for h in handles {
        ids.insert(h.await.unwrap());
    }
    assert_eq!(
        ids.len(),
        1,
        "concurrent first messages must share one conversation"
    );
    let id = *ids.iter().next().unwrap();

    let other = s
        .records
        .open_conversation("whatsapp", "15551230002")
        .await
        .unwrap();
    assert_ne!(other.id, id);
    let fetched = s.records.conversation(id).await.unwrap().unwrap();
    assert_eq!(fetched.patient_ref, "15551230001");
    assert_eq!(fetched.status, ConversationStatus::Open);

    s.records.close_conversation(id).await.unwrap();
    assert_eq!(
        s.records.conversation(id).await.unwrap().unwrap().status,
        ConversationStatus::Closed
    );
    let next = s
        .records
        .open_conversation("whatsapp", "15551230001")
        .await
        .unwrap();
    assert_ne!(
        next.id, id,
        "after closing, the next message opens a new conversation"
    );
    assert!(
        s.records
            .conversation(uuid::Uuid::new_v4())
            .await
            .unwrap()
            .is_none()
    );
}

async fn messages_are_recorded_once_per_external_id(s: &Storage) {
    let c = s
        .records
        .open_conversation("whatsapp", "15551230003")
        .await
        .unwrap();
    let msg = |dir, ext: Option<&str>, text: &str| NewMessage {
        conversation_id: c.id,
        direction: dir,
        external_id: ext.map(str::to_owned),
        kind: "text".to_owned(),
        content: json!({"body": text}),
    };
    let first = s
        .records
        .append_message(msg(Direction::Inbound, Some("wamid.A"), "chest pain"))
        .await
        .unwrap();
    let AppendOutcome::Inserted(first) = first else {
        panic!("first append must insert")
    };
    let again = s
        .records
        .append_message(msg(Direction::Inbound, Some("wamid.A"), "chest pain"))
        .await
        .unwrap();
    assert_eq!(
        again,
        AppendOutcome::Duplicate {
            existing: first.id,
            conversation_id: c.id
        }
    );
    // The same id in the other direction and messages without ids are distinct.
    assert!(matches!(
        s.records
            .append_message(msg(Direction::Outbound, Some("wamid.A"), "reply"))
            .await
            .unwrap(),
        AppendOutcome::Inserted(_)
    ));
    for text in ["a", "b"] {
        assert!(matches!(
            s.records
                .append_message(msg(Direction::Outbound, None, text))
                .await
                .unwrap(),
            AppendOutcome::Inserted(_)
        ));
    }
    let all = s.records.messages(c.id, 100).await.unwrap();
    let bodies: Vec<_> = all
        .iter()
        .map(|m| m.content["body"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        bodies,
        ["chest pain", "reply", "a", "b"],
        "oldest first, no duplicate"
    );
    assert_eq!(all[0].direction, Direction::Inbound);
    assert_eq!(all[0].external_id.as_deref(), Some("wamid.A"));
    assert_eq!(s.records.messages(c.id, 2).await.unwrap().len(), 2);
}

async fn a_message_can_open_the_next_conversation(s: &Storage) {
    let who = "15551230020";
    let a = s.records.open_conversation("whatsapp", who).await.unwrap();
    let msg = |c: uuid::Uuid, dir, ext: Option<&str>, text: &str| NewMessage {
        conversation_id: c,
        direction: dir,
        external_id: ext.map(str::to_owned),
        kind: "text".to_owned(),
        content: json!({"body": text}),
    };
    let inserted = |o: AppendOutcome| match o {
        AppendOutcome::Inserted(m) => m,
        other => panic!("expected an insert: {other:?}"),
    };
    let m1 = inserted(
        s.records
            .append_message(msg(
                a.id,
                Direction::Inbound,
                Some("wamid.N1"),
                "I can't sleep",
            ))
            .await
            .unwrap(),
    );
    s.records
        .append_message(msg(a.id, Direction::Outbound, None, "reply"))
        .await
        .unwrap();
    let m3 = inserted(
        s.records
            .append_message(msg(
                a.id,
                Direction::Inbound,
                Some("wamid.N2"),
                "now my chest hurts",
            ))
            .await
            .unwrap(),
    );

    // The message moves into a new open conversation; the old one closes.
    let b = s.records.open_conversation_from(m3.id).await.unwrap();
    assert_ne!(b.id, a.id);
    assert_eq!(
        (b.status, b.patient_ref.as_str(), b.channel.as_str()),
        (ConversationStatus::Open, who, "whatsapp")
    );
    let status = |id| async move { s.records.conversation(id).await.unwrap().unwrap().status };
    assert_eq!(status(a.id).await, ConversationStatus::Closed);
    let bodies = |messages: Vec<server::storage::Message>| {
        messages
            .iter()
            .map(|m| m.content["body"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        bodies(s.records.messages(a.id, 10).await.unwrap()),
        ["I can't sleep", "reply"]
    );
    assert_eq!(
        bodies(s.records.messages(b.id, 10).await.unwrap()),
        ["now my chest hurts"]
    );
    assert_eq!(
        s.records
            .open_conversation("whatsapp", who)
            .await
            .unwrap()
            .id,
        b.id
    );

    // A replay: the message already opens its conversation, nothing moves.
    let again = s.records.open_conversation_from(m3.id).await.unwrap();
    assert_eq!((again.id, again.status), (b.id, ConversationStatus::Open));
    assert_eq!(s.records.messages(b.id, 10).await.unwrap().len(), 1);
    // The wamid is recorded once, across conversations: a redelivery
    // appended to any conversation finds it where it now is.
    assert_eq!(
        s.records
            .append_message(msg(
                a.id,
                Direction::Inbound,
                Some("wamid.N2"),
                "now my chest hurts"
            ))
            .await
            .unwrap(),
        AppendOutcome::Duplicate {
            existing: m3.id,
            conversation_id: b.id
        }
    );
    // The first message of a conversation opens nothing new.
    let c = s
        .records
        .open_conversation("whatsapp", "15551230021")
        .await
        .unwrap();
    let first = inserted(
        s.records
            .append_message(msg(c.id, Direction::Inbound, Some("wamid.N3"), "hello"))
            .await
            .unwrap(),
    );
    let same = s.records.open_conversation_from(first.id).await.unwrap();
    assert_eq!((same.id, same.status), (c.id, ConversationStatus::Open));
    assert!(
        s.records
            .open_conversation_from(uuid::Uuid::now_v7())
            .await
            .is_err()
    );

    // The patient's whole history, across conversations, in order; the
    // latest `limit` when cut.
    let history = s
        .records
        .patient_messages("whatsapp", who, 100)
        .await
        .unwrap();
    assert_eq!(
        bodies(history.clone()),
        ["I can't sleep", "reply", "now my chest hurts"]
    );
    assert_eq!(
        history
            .iter()
            .map(|m| m.conversation_id)
            .collect::<Vec<_>>(),
        [a.id, a.id, b.id]
    );
    assert_eq!(history[0].id, m1.id);
    assert_eq!(
        bodies(
            s.records
                .patient_messages("whatsapp", who, 2)
                .await
                .unwrap()
        ),
        ["reply", "now my chest hurts"]
    );

    // Outbox rows say which conversation their message belongs to.
    let mut row = outbox("reply-to-N1", 0, "reply");
    row.conversation_id = Some(a.id);
    let stored = s.channel.put_outbox(&[row]).await.unwrap().remove(0);
    assert_eq!(stored.conversation_id, Some(a.id));
    assert_eq!(
        s.channel
            .outbox_row(stored.id)
            .await
            .unwrap()
            .unwrap()
            .conversation_id,
        Some(a.id)
    );
}

// ---------------------------------------------------------------- key-value

async fn kv_values_expire(s: &Storage) {
    s.kv.set("state:a", b"one", None).await.unwrap();
    s.kv.set("state:b", b"two", Some(SHORT)).await.unwrap();
    assert_eq!(
        s.kv.get("state:a").await.unwrap().as_deref(),
        Some(&b"one"[..])
    );
    assert_eq!(
        s.kv.get("state:b").await.unwrap().as_deref(),
        Some(&b"two"[..])
    );
    s.kv.set("state:a", b"uno", None).await.unwrap();
    assert_eq!(
        s.kv.get("state:a").await.unwrap().as_deref(),
        Some(&b"uno"[..])
    );
    tokio::time::sleep(PAST_SHORT).await;
    assert_eq!(
        s.kv.get("state:b").await.unwrap(),
        None,
        "expired values read as absent"
    );
    assert!(
        !s.kv.delete("state:b").await.unwrap(),
        "an expired key no longer exists"
    );
    assert!(s.kv.delete("state:a").await.unwrap());
    assert!(!s.kv.delete("state:a").await.unwrap());
    assert_eq!(s.kv.get("state:a").await.unwrap(), None);
    // Housekeeping never removes live keys.
    s.kv.set("state:c", b"live", Some(LONG)).await.unwrap();
    s.maintain().await.unwrap();
    assert!(s.kv.get("state:c").await.unwrap().is_some());
}

async fn set_if_absent_lets_the_first_caller_win(s: &Storage) {
    let ttl = SHORT;
    let wins = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for i in 0..10 {
        let kv = s.kv.clone();
        let wins = wins.clone();
        handles.push(tokio::spawn(async move {
            if kv
                .set_if_absent("idem:wamid.X", format!("{i}").as_bytes(), ttl)
                .await
                .unwrap()
            {
                wins.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    assert_eq!(
        wins.load(Ordering::SeqCst),
        1,
        "exactly one concurrent caller wins"
    );
    tokio::time::sleep(PAST_SHORT).await;
    assert!(
        s.kv.set_if_absent("idem:wamid.X", b"later", ttl)
            .await
            .unwrap(),
        "free again after the TTL"
    );
}

async fn locks_exclude_and_release_only_by_their_holder(s: &Storage) {
    let kv = s.kv.as_ref();
    let held = LockGuard::try_acquire(kv, "conversation:1", LONG)
        .await
        .unwrap()
        .unwrap();
    assert!(
        LockGuard::try_acquire(kv, "conversation:1", LONG)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !kv.delete_if_equals("lock:conversation:1", b"someone-else")
            .await
            .unwrap()
    );
    assert!(held.release(kv).await.unwrap());
    let short = LockGuard::try_acquire(kv, "conversation:1", SHORT)
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(PAST_SHORT).await;
    let next = LockGuard::try_acquire(kv, "conversation:1", LONG)
        .await
        .unwrap();
    assert!(next.is_some(), "a lock whose holder died expires");
    assert!(
        !short.release(kv).await.unwrap(),
        "an expired holder must not unlock the new holder"
    );
    assert!(
        LockGuard::try_acquire(kv, "conversation:1", LONG)
            .await
            .unwrap()
            .is_none()
    );
}

async fn counters_reset_after_their_window(s: &Storage) {
    let window = SHORT;
    for expected in 1..=3 {
        assert_eq!(
            s.kv.increment_in_window("rate:15550001", window)
                .await
                .unwrap(),
            expected
        );
    }
    assert_eq!(
        s.kv.get("rate:15550001").await.unwrap().as_deref(),
        Some(&b"3"[..])
    );
    tokio::time::sleep(PAST_SHORT).await;
    assert_eq!(
        s.kv.increment_in_window("rate:15550001", window)
            .await
            .unwrap(),
        1
    );
}

// ---------------------------------------------------------------- queue

async fn queue_delivers_fifo_and_acks(s: &Storage) {
    assert!(claim(s, "c1", LONG).await.is_none(), "empty queue");
    for (p, body) in [("a", "1"), ("b", "2"), ("c", "3")] {
        assert!(matches!(
            s.queue.enqueue(job(p, body.as_bytes())).await.unwrap(),
            Enqueued::Accepted(_)
        ));
    }
    assert_eq!(s.queue.depth(Q).await.unwrap(), 3);
    let mut seen = Vec::new();
    while let Some(j) = claim(s, "c1", LONG).await {
        assert_eq!(j.attempts, 1);
        assert_eq!(j.queue, Q);
        assert!(j.enqueued_at_ms > 0);
        seen.push(String::from_utf8(j.payload.clone()).unwrap());
        s.queue.ack(&j).await.unwrap();
    }
    assert_eq!(seen, ["1", "2", "3"], "oldest first across partitions");
    assert_eq!(s.queue.depth(Q).await.unwrap(), 0);
    assert!(
        s.queue
            .claim("other-queue", "c1", LONG)
            .await
            .unwrap()
            .is_none(),
        "queues are separate"
    );
}

async fn enqueue_dedupes_atomically_with_the_job(s: &Storage) {
    let ttl = SHORT;
    let with_key = |key| NewJob {
        queue: Q,
        partition: "p",
        payload: b"webhook",
        dedupe: Some(Dedupe { key, ttl }),
    };
    let mut handles = Vec::new();
    for _ in 0..5 {
        let queue = s.queue.clone();
        handles.push(tokio::spawn(async move {
            queue
                .enqueue(NewJob {
                    queue: Q,
                    partition: "p",
                    payload: b"webhook",
                    dedupe: Some(Dedupe {
                        key: "wamid.1",
                        ttl: SHORT,
                    }),
                })
                .await
                .unwrap()
        }));
    }
    let mut accepted = 0;
    for h in handles {
        if matches!(h.await.unwrap(), Enqueued::Accepted(_)) {
            accepted += 1;
        }
    }
    assert_eq!(
        accepted, 1,
        "five concurrent deliveries of one message store one job"
    );
    assert!(matches!(
        s.queue.enqueue(with_key("wamid.2")).await.unwrap(),
        Enqueued::Accepted(_)
    ));
    assert_eq!(s.queue.depth(Q).await.unwrap(), 2);
    tokio::time::sleep(PAST_SHORT).await;
    assert!(matches!(
        s.queue.enqueue(with_key("wamid.1")).await.unwrap(),
        Enqueued::Accepted(_)
    ));
}

async fn one_partition_is_never_held_twice(s: &Storage) {
    s.queue.enqueue(job("alice", b"a1")).await.unwrap();
    s.queue.enqueue(job("alice", b"a2")).await.unwrap();
    s.queue.enqueue(job("bob", b"b1")).await.unwrap();
    let first = claim(s, "w1", LONG).await.unwrap();
    assert_eq!(first.payload, b"a1");
    let second = claim(s, "w2", LONG).await.unwrap();
    assert_eq!(
        second.payload, b"b1",
        "alice's second message waits for her first"
    );
    assert!(claim(s, "w3", LONG).await.is_none());
    // New work for a held partition also waits.
    s.queue.enqueue(job("bob", b"b2")).await.unwrap();
    assert!(claim(s, "w3", LONG).await.is_none());
    s.queue.ack(&first).await.unwrap();
    let third = claim(s, "w3", LONG).await.unwrap();
    assert_eq!(third.payload, b"a2");
    s.queue.ack(&second).await.unwrap();
    assert_eq!(claim(s, "w1", LONG).await.unwrap().payload, b"b2");
}

async fn expired_lease_is_redelivered_and_the_old_holder_cannot_ack(s: &Storage) {
    s.queue.enqueue(job("p", b"x")).await.unwrap();
    let dead = claim(s, "crashed", SHORT).await.unwrap();
    assert!(
        claim(s, "w2", LONG).await.is_none(),
        "held while the lease runs"
    );
    tokio::time::sleep(SHORT).await;
    let again = claim(s, "w2", LONG)
        .await
        .expect("redelivered after the lease");
    assert_eq!(again.id, dead.id);
    assert_eq!(again.attempts, 2);
    assert_ne!(again.lease_token, dead.lease_token);
    assert!(matches!(
        s.queue.ack(&dead).await,
        Err(StorageError::LeaseLost { .. })
    ));
    assert!(matches!(
        s.queue.extend(&dead, LONG).await,
        Err(StorageError::LeaseLost { .. })
    ));
    assert!(matches!(
        s.queue.release(&dead, Duration::ZERO).await,
        Err(StorageError::LeaseLost { .. })
    ));
    s.queue.ack(&again).await.unwrap();
    assert_eq!(s.queue.depth(Q).await.unwrap(), 0);
    assert!(claim(s, "w3", LONG).await.is_none());
}

async fn release_returns_a_job_now_or_after_a_delay(s: &Storage) {
    s.queue.enqueue(job("p", b"x")).await.unwrap();
    let j = claim(s, "w1", LONG).await.unwrap();
    s.queue.release(&j, Duration::ZERO).await.unwrap();
    let j2 = claim(s, "w2", LONG)
        .await
        .expect("released job is claimable at once");
    assert_eq!((j2.id.as_str(), j2.attempts), (j.id.as_str(), 2));
    assert!(
        matches!(s.queue.ack(&j).await, Err(StorageError::LeaseLost { .. })),
        "released means given up"
    );
    s.queue.release(&j2, SHORT).await.unwrap();
    assert!(claim(s, "w3", LONG).await.is_none(), "not before the delay");
    tokio::time::sleep(PAST_SHORT).await;
    let j3 = claim(s, "w3", LONG).await.unwrap();
    assert_eq!(j3.attempts, 3);
    s.queue.ack(&j3).await.unwrap();
}

async fn extend_keeps_a_slow_job_leased(s: &Storage) {
    s.queue.enqueue(job("p", b"x")).await.unwrap();
    let j = claim(s, "slow", SHORT).await.unwrap();
    for _ in 0..3 {
        tokio::time::sleep(SHORT / 2).await;
        s.queue.extend(&j, SHORT).await.unwrap();
    }
    assert!(
        claim(s, "w2", LONG).await.is_none(),
        "an extended lease is still held"
    );
    s.queue.ack(&j).await.unwrap();
}

async fn dead_letters_unblock_the_partition(s: &Storage) {
    s.queue.enqueue(job("p", b"poison")).await.unwrap();
    s.queue.enqueue(job("p", b"fine")).await.unwrap();
    let poison = claim(s, "w1", LONG).await.unwrap();
    s.queue
        .dead_letter(&poison, "payload is not JSON")
        .await
        .unwrap();
    let next = claim(s, "w1", LONG).await.unwrap();
    assert_eq!(next.payload, b"fine");
    s.queue.ack(&next).await.unwrap();
    assert_eq!(s.queue.depth(Q).await.unwrap(), 0);
    let dead = s.queue.dead_letters(Q, 10).await.unwrap();
    assert_eq!(
        dead,
        vec![(poison.id.clone(), "payload is not JSON".to_owned())]
    );
}

/// Many consumers, many partitions: every job exactly once, each partition in
/// order, never two jobs of one partition at the same time.
async fn concurrent_consumers_process_each_job_once_in_order(s: &Storage) {
    const PARTITIONS: usize = 12;
    const PER_PARTITION: usize = 15;
    for n in 0..PER_PARTITION {
        for p in 0..PARTITIONS {
            s.queue
                .enqueue(job(&format!("patient-{p}"), format!("{n}").as_bytes()))
                .await
                .unwrap();
        }
    }
    let processed: Arc<Mutex<HashMap<String, Vec<usize>>>> = Arc::default();
    let in_flight: Arc<Mutex<HashSet<String>>> = Arc::default();
    let overlaps = Arc::new(AtomicUsize::new(0));
    let mut consumers = Vec::new();
    for c in 0..4 {
        let (s, processed, in_flight, overlaps) = (
            s.clone(),
            processed.clone(),
            in_flight.clone(),
            overlaps.clone(),
        );
        consumers.push(tokio::spawn(async move {
            let mut idle = 0;
            while idle < 20 {
                let Some(j) = s.queue.claim(Q, &format!("c{c}"), LONG).await.unwrap() else {
                    idle += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                idle = 0;
                if !in_flight.lock().unwrap().insert(j.partition.clone()) {
                    overlaps.fetch_add(1, Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
                let n: usize = String::from_utf8(j.payload.clone())
                    .unwrap()
                    .parse()
                    .unwrap();
                processed
                    .lock()
                    .unwrap()
                    .entry(j.partition.clone())
                    .or_default()
                    .push(n);
                in_flight.lock().unwrap().remove(&j.partition);
                s.queue.ack(&j).await.unwrap();
            }
        }));
    }
    for c in consumers {
        c.await.unwrap();
    }
    assert_eq!(
        overlaps.load(Ordering::SeqCst),
        0,
        "a partition was processed by two consumers at once"
    );
    let processed = processed.lock().unwrap().clone();
    assert_eq!(processed.len(), PARTITIONS);
    let expected: Vec<usize> = (0..PER_PARTITION).collect();
    for (partition, order) in processed.iter() {
        assert_eq!(order, &expected, "{partition} out of order or duplicated");
    }
    assert_eq!(s.queue.depth(Q).await.unwrap(), 0);
}

/// Records what it handled; optionally hangs on the first job forever, like a
/// worker that dies mid-item.
struct Recorder {
    handled: Mutex<Vec<(String, u32)>>,
    hang_first: bool,
    started: tokio::sync::Notify,
}

#[async_trait::async_trait]
impl JobHandler for Recorder {
    async fn handle(&self, job: &ClaimedJob) -> Result<(), HandlerError> {
        self.started.notify_one();
        if self.hang_first && job.attempts == 1 {
            std::future::pending::<()>().await;
        }
        self.handled.lock().unwrap().push((
            String::from_utf8_lossy(&job.payload).into_owned(),
            job.attempts,
        ));
        Ok(())
    }
}

fn recorder(hang_first: bool) -> Arc<Recorder> {
    Arc::new(Recorder {
        handled: Mutex::new(Vec::new()),
        hang_first,
        started: tokio::sync::Notify::new(),
    })
}

async fn killed_worker_mid_item_is_redelivered_after_its_lease(s: &Storage) {
    s.queue.enqueue(job("patient", b"hello")).await.unwrap();
    let lease = Duration::from_millis(600);

    let doomed = recorder(true);
    let task = tokio::spawn(worker::run(
        s.queue.clone(),
        doomed.clone(),
        WorkerOptions::new(Q, "doomed", lease),
        Shutdown::default(),
    ));
    doomed.started.notified().await;
    // Kill it mid-item: no ack, no release, the lease just stops being renewed.
    task.abort();
    let _ = task.await;

    let survivor = recorder(false);
    let shutdown = Shutdown::default();
    let task = tokio::spawn(worker::run(
        s.queue.clone(),
        survivor.clone(),
        WorkerOptions::new(Q, "survivor", lease),
        shutdown.clone(),
    ));
    let handled = common::eventually(Duration::from_secs(5), || {
        let survivor = survivor.clone();
        async move {
            let h = survivor.handled.lock().unwrap().clone();
            (!h.is_empty()).then_some(h)
        }
    })
    .await
    .expect("the job must be redelivered to the surviving worker");
    assert_eq!(handled, vec![("hello".to_owned(), 2)]);
    shutdown.stop.cancel();
    task.await.unwrap();
    assert_eq!(s.queue.depth(Q).await.unwrap(), 0, "the survivor acked it");
    assert!(doomed.handled.lock().unwrap().is_empty());
}

async fn graceful_worker_shutdown_releases_the_job_in_hand(s: &Storage) {
    s.queue.enqueue(job("patient", b"slow")).await.unwrap();
    let hanging = recorder(true);
    let shutdown = Shutdown::default();
    let task = tokio::spawn(worker::run(
        s.queue.clone(),
        hanging.clone(),
        WorkerOptions::new(Q, "stopping", LONG),
        shutdown.clone(),
    ));
    hanging.started.notified().await;
    shutdown.stop.cancel();
    shutdown.abort.cancel();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    // Released, not left to a 30 s lease: another consumer gets it at once.
    let again = claim(s, "next", LONG).await.expect("released on shutdown");
    assert_eq!(again.payload, b"slow");
    assert_eq!(again.attempts, 2);
}

// ---------------------------------------------------------------- vectors

fn unit(axis: usize, wobble: f32) -> Vec<f32> {
    let mut v = vec![0.0; EMBEDDING_DIM];
    v[axis] = 1.0;
    v[(axis + 1) % EMBEDDING_DIM] = wobble;
    v
}

async fn vectors_are_scoped_to_their_owner_and_ranked(s: &Storage) {
    let rec = |owner: &str, axis, wobble, label: &str| VectorRecord {
        id: uuid::Uuid::new_v4(),
        owner: owner.to_owned(),
        embedding: unit(axis, wobble),
        payload: json!({"label": label}),
    };
    let near = rec("alice", 0, 0.1, "near");
    let far = rec("alice", 5, 0.0, "far");
    let mid = rec("alice", 0, 1.0, "mid");
    let bobs = rec("bob", 0, 0.0, "bob-exact");
    s.vectors
        .upsert(&[near.clone(), far.clone(), mid.clone(), bobs.clone()])
        .await
        .unwrap();

    let hits = s.vectors.nearest("alice", &unit(0, 0.0), 10).await.unwrap();
    let labels: Vec<_> = hits
        .iter()
        .map(|h| h.payload["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        ["near", "mid", "far"],
        "nearest first, and never another patient's"
    );
    assert!(
        hits[0].distance < 0.01 && hits[2].distance > 0.99,
        "cosine distances: {hits:?}"
    );
    assert_eq!(hits[0].id, near.id);
    assert_eq!(
        s.vectors
            .nearest("alice", &unit(0, 0.0), 1)
            .await
            .unwrap()
            .len(),
        1
    );

    // Upsert replaces by id.
    let moved = VectorRecord {
        embedding: unit(0, 0.0),
        payload: json!({"label": "far-moved"}),
        ..far.clone()
    };
    s.vectors.upsert(&[moved]).await.unwrap();
    let top = s.vectors.nearest("alice", &unit(0, 0.0), 3).await.unwrap();
    assert_eq!(top.len(), 3);
    assert_eq!(top[0].payload["label"], "far-moved");

    assert!(matches!(
        s.vectors
            .upsert(&[rec("alice", 0, 0.0, "x")].map(|mut r| {
                r.embedding.truncate(10);
                r
            }))
            .await,
        Err(VectorError::Dimension {
            expected: 384,
            actual: 10
        })
    ));
    assert_eq!(s.vectors.delete_owner("alice").await.unwrap(), 3);
    assert!(
        s.vectors
            .nearest("alice", &unit(0, 0.0), 5)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.vectors
            .nearest("bob", &unit(0, 0.0), 5)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn health_reports_every_service(s: &Storage) {
    let health = s.health().await;
    assert!(!health.is_empty());
    assert!(health.iter().all(|c| c.ok), "{health:?}");
    assert!(health.iter().any(|c| c.name == "database"));
}

// ---------------------------------------------------------------- channel

async fn contacts_keep_the_latest_inbound_time_and_flags(s: &Storage) {
    let t1 = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
    let t0 = chrono::DateTime::from_timestamp(1_699_999_000, 0).unwrap();
    assert!(
        s.channel
            .contact("whatsapp", "15550100")
            .await
            .unwrap()
            .is_none()
    );
    let c = s
        .channel
        .record_inbound("whatsapp", "15550100", t1)
        .await
        .unwrap();
    assert_eq!(c.last_inbound_at, Some(t1));
    // A late-arriving older message does not move the window back.
    let c = s
        .channel
        .record_inbound("whatsapp", "15550100", t0)
        .await
        .unwrap();
    assert_eq!(c.last_inbound_at, Some(t1));
    assert!(c.opted_out_at.is_none() && !c.blocked);
    s.channel
        .set_opted_out("whatsapp", "15550100", true)
        .await
        .unwrap();
    s.channel
        .set_blocked("whatsapp", "15550100", true)
        .await
        .unwrap();
    let c = s
        .channel
        .contact("whatsapp", "15550100")
        .await
        .unwrap()
        .unwrap();
    assert!(c.opted_out_at.is_some() && c.blocked);
    assert_eq!(c.last_inbound_at, Some(t1), "flags leave the window alone");
    s.channel
        .set_opted_out("whatsapp", "15550100", false)
        .await
        .unwrap();
    assert!(
        s.channel
            .contact("whatsapp", "15550100")
            .await
            .unwrap()
            .unwrap()
            .opted_out_at
            .is_none()
    );
    // Flags can be set before we ever heard from someone.
    s.channel
        .set_blocked("whatsapp", "15550199", true)
        .await
        .unwrap();
    assert!(
        s.channel
            .contact("whatsapp", "15550199")
            .await
            .unwrap()
            .unwrap()
            .blocked
    );
}

fn outbox(cause: &str, seq: i32, text: &str) -> NewOutbox {
    NewOutbox {
        cause_key: cause.to_owned(),
        seq,
        channel: "whatsapp".to_owned(),
        recipient: "15550200".to_owned(),
        body: json!({"type": "text", "body": text}),
        conversation_id: None,
    }
}

async fn outbox_rows_are_stored_once_per_cause_and_position(s: &Storage) {
    let first = s
        .channel
        .put_outbox(&[outbox("msg:A", 0, "hello"), outbox("msg:A", 1, "question")])
        .await
        .unwrap();
    assert_eq!(first.len(), 2);
    assert!(
        first
            .iter()
            .all(|r| r.status == OutboxStatus::Pending && r.attempts == 0)
    );
    // Processing the same event again (even producing different text) stores nothing new.
    let again = s
        .channel
        .put_outbox(&[outbox("msg:A", 0, "hello again"), outbox("msg:A", 1, "q")])
        .await
        .unwrap();
    assert_eq!(
        again.iter().map(|r| r.id).collect::<Vec<_>>(),
        first.iter().map(|r| r.id).collect::<Vec<_>>()
    );
    assert_eq!(again[0].body["body"], "hello");
    s.channel
        .put_outbox(&[outbox("msg:B", 0, "later")])
        .await
        .unwrap();
    let all = s
        .channel
        .outbox_for("whatsapp", "15550200", 10)
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(
        s.channel
            .outbox_row(first[1].id)
            .await
            .unwrap()
            .unwrap()
            .body["body"],
        "question"
    );
}

async fn send_lifecycle_and_delivery_status_only_move_forward(s: &Storage) {
    let row = s
        .channel
        .put_outbox(&[outbox("msg:C", 0, "hi")])
        .await
        .unwrap()
        .remove(0);
    let sending = s.channel.begin_send(row.id).await.unwrap().unwrap();
    assert_eq!(
        (sending.status, sending.attempts),
        (OutboxStatus::Sending, 1)
    );
    s.channel
        .fail_send(row.id, Some(131000), "temporary", true)
        .await
        .unwrap();
    let retry = s.channel.outbox_row(row.id).await.unwrap().unwrap();
    assert_eq!(
        (retry.status, retry.last_error_code),
        (OutboxStatus::Pending, Some(131000))
    );
    s.channel
        .replace_outbox_body(row.id, json!({"type": "template"}))
        .await
        .unwrap();
    assert_eq!(
        s.channel
            .begin_send(row.id)
            .await
            .unwrap()
            .unwrap()
            .attempts,
        2
    );
    s.channel.finish_send(row.id, "wamid.C1").await.unwrap();
    assert!(
        s.channel.begin_send(row.id).await.unwrap().is_none(),
        "a sent row is never sent again"
    );

    let read = s
        .channel
        .apply_delivery_status("wamid.C1", OutboxStatus::Read, None, None)
        .await
        .unwrap();
    assert_eq!(read.unwrap().status, OutboxStatus::Read);
    // `delivered` arriving after `read` changes nothing.
    assert!(
        s.channel
            .apply_delivery_status("wamid.C1", OutboxStatus::Delivered, None, None)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.channel
            .apply_delivery_status("wamid.unknown", OutboxStatus::Sent, None, None)
            .await
            .unwrap()
            .is_none()
    );
    let row = s.channel.outbox_row(row.id).await.unwrap().unwrap();
    assert_eq!(
        (row.status, row.body["type"].as_str()),
        (OutboxStatus::Read, Some("template"))
    );
    assert_eq!(
        row.last_error_code, None,
        "a successful send clears the last error"
    );

    let other = s
        .channel
        .put_outbox(&[outbox("msg:D", 0, "x")])
        .await
        .unwrap()
        .remove(0);
    s.channel.begin_send(other.id).await.unwrap();
    s.channel.finish_send(other.id, "wamid.D1").await.unwrap();
    let failed = s
        .channel
        .apply_delivery_status(
            "wamid.D1",
            OutboxStatus::Failed,
            Some(131026),
            Some("undeliverable"),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (failed.status, failed.last_error_code),
        (OutboxStatus::Failed, Some(131026))
    );
    s.channel
        .fail_send(other.id, None, "late", true)
        .await
        .unwrap();
    assert_eq!(
        s.channel
            .outbox_row(other.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        OutboxStatus::Failed
    );
}

// ---------------------------------------------------------------- reports

/// A fixed time the reports' deadlines count from.
fn t0() -> chrono::DateTime<chrono::Utc> {
    "2026-01-01T12:00:00Z".parse().unwrap()
}

fn report_for(
    conversation_id: uuid::Uuid,
    disposition: agent::Disposition,
    note: &str,
) -> NewReport {
    NewReport {
        conversation_id,
        patient_ref: "15551230009".to_owned(),
        disposition,
        status: ReportStatus::Triaged,
        handoff_reason: None,
        review_due_at: t0()
            + chrono::Duration::minutes(i64::from(disposition.clinician_review_minutes())),
        rules_version: Some("test-1".to_owned()),
        report: json!({"disposition": disposition.as_str(), "note": note}),
        rendered: format!("TRIAGE REPORT\n{note}"),
    }
}

async fn reports_are_one_per_conversation_and_listed_by_urgency(s: &Storage) {
    use agent::Disposition::*;
    let mut conversations = Vec::new();
    for n in 0..4 {
        let c = s
            .records
            .open_conversation("whatsapp", &format!("1555123100{n}"))
            .await
            .unwrap();
        conversations.push(c.id);
    }
    let first = s
        .reports
        .upsert_report(report_for(conversations[0], Urgent24h, "first"))
        .await
        .unwrap();
    assert_eq!(first.disposition, Urgent24h);
    assert_eq!(first.report["note"], "first");

    // The same content again: nothing changes, not even the update time.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let again = s
        .reports
        .upsert_report(report_for(conversations[0], Urgent24h, "first"))
        .await
        .unwrap();
    assert_eq!(again, first);

    // New content for the same conversation replaces the report in place.
    let replaced = s
        .reports
        .upsert_report(report_for(conversations[0], EmergencyDepartment, "worse"))
        .await
        .unwrap();
    assert_eq!(replaced.id, first.id);
    assert_eq!(replaced.created_at, first.created_at);
    assert!(replaced.updated_at > first.updated_at);
    assert_eq!(
        (replaced.disposition, replaced.rendered.as_str()),
        (EmergencyDepartment, "TRIAGE REPORT\nworse")
    );

    for (c, d) in [
        (conversations[1], Routine),
        (conversations[2], EmergencyAmbulance),
        (conversations[3], Routine),
    ] {
        tokio::time::sleep(Duration::from_millis(5)).await;
        s.reports
            .upsert_report(report_for(c, d, d.as_str()))
            .await
            .unwrap();
    }
    let listed = s.reports.list_reports(None, 10, 0).await.unwrap();
    let order: Vec<_> = listed
        .iter()
        .map(|r| (r.disposition, r.conversation_id))
        .collect();
    assert_eq!(
        order,
        vec![
            (EmergencyAmbulance, conversations[2]),
            (EmergencyDepartment, conversations[0]),
            // Equal urgency and deadline: newest first.
            (Routine, conversations[3]),
            (Routine, conversations[1]),
        ]
    );
    let page = s.reports.list_reports(None, 2, 1).await.unwrap();
    assert_eq!(
        page.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![listed[1].id, listed[2].id]
    );
    assert_eq!(
        s.reports.report(listed[0].id).await.unwrap().unwrap(),
        listed[0]
    );
    assert!(
        s.reports
            .report(uuid::Uuid::now_v7())
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_reports_urgency_never_goes_down_and_an_escalation_stays(s: &Storage) {
    use agent::Disposition::*;
    use agent::HandoffReason;
    let c = s
        .records
        .open_conversation("whatsapp", "15551231010")
        .await
        .unwrap()
        .id;
    let emergency = s
        .reports
        .upsert_report(report_for(c, EmergencyAmbulance, "emergency"))
        .await
        .unwrap();
    assert_eq!(emergency.disposition, EmergencyAmbulance);
    assert_eq!(
        emergency.review_due_at,
        t0() + chrono::Duration::minutes(15)
    );

    // A later, lower disposition: the rest of the report updates, the
    // disposition and the deadline stay.
    let mut calmer = report_for(c, SelfCare, "calmer");
    calmer.review_due_at = t0() + chrono::Duration::hours(2);
    let after = s.reports.upsert_report(calmer).await.unwrap();
    assert_eq!(after.id, emergency.id);
    assert_eq!(
        after.disposition, EmergencyAmbulance,
        "the most urgent level reached stays"
    );
    assert_eq!(after.review_due_at, emergency.review_due_at);
    assert_eq!(after.report["note"], "calmer");
    assert_eq!(after.rendered, "TRIAGE REPORT\ncalmer");
    let middle = s
        .reports
        .upsert_report(report_for(c, EmergencyDepartment, "middle"))
        .await
        .unwrap();
    assert_eq!(middle.disposition, EmergencyAmbulance);
    assert_eq!(
        s.reports.report_for_conversation(c).await.unwrap().unwrap(),
        middle
    );

    // A hand-off escalates with its reason and an earlier deadline, and
    // stays escalated when a later version says nothing of it.
    let other = s
        .records
        .open_conversation("whatsapp", "15551231011")
        .await
        .unwrap()
        .id;
    assert!(
        s.reports
            .report_for_conversation(other)
            .await
            .unwrap()
            .is_none()
    );
    s.reports
        .upsert_report(report_for(other, Routine, "routine"))
        .await
        .unwrap();
    let mut handoff = report_for(other, Urgent24h, "handed off");
    handoff.status = ReportStatus::EscalatedToClinician;
    handoff.handoff_reason = Some(HandoffReason::PatientAsked);
    handoff.review_due_at = t0() + chrono::Duration::minutes(60);
    let escalated = s.reports.upsert_report(handoff.clone()).await.unwrap();
    assert_eq!(
        (
            escalated.status,
            escalated.handoff_reason,
            escalated.disposition,
            escalated.review_due_at
        ),
        (
            ReportStatus::EscalatedToClinician,
            Some(HandoffReason::PatientAsked),
            Urgent24h,
            t0() + chrono::Duration::minutes(60)
        )
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        s.reports.upsert_report(handoff).await.unwrap(),
        escalated,
        "the same content again changes nothing"
    );
    let later = s
        .reports
        .upsert_report(report_for(other, Routine, "later"))
        .await
        .unwrap();
    assert_eq!(
        (later.status, later.handoff_reason, later.disposition),
        (
            ReportStatus::EscalatedToClinician,
            Some(HandoffReason::PatientAsked),
            Urgent24h
        )
    );
    assert_eq!(later.report["note"], "later");
}

async fn hand_offs_are_listed_by_status_most_urgent_then_earliest_deadline(s: &Storage) {
    use agent::Disposition::*;
    use agent::HandoffReason;
    let mut ids = Vec::new();
    // (disposition, escalated, minutes after t0 the review is due)
    let cases = [
        (Urgent24h, true, 240),
        (Urgent24h, true, 30),
        (Routine, false, 10),
        (EmergencyDepartment, true, 300),
        (Urgent24h, false, 5),
    ];
    for (n, (disposition, escalated, due)) in cases.into_iter().enumerate() {
        let c = s
            .records
            .open_conversation("whatsapp", &format!("1555123200{n}"))
            .await
            .unwrap()
            .id;
        let mut report = report_for(c, disposition, "x");
        if escalated {
            report.status = ReportStatus::EscalatedToClinician;
            report.handoff_reason = Some(HandoffReason::UnresolvedDoubt);
        }
        report.review_due_at = t0() + chrono::Duration::minutes(due);
        ids.push(s.reports.upsert_report(report).await.unwrap().id);
    }
    let listed = |status| async move {
        s.reports
            .list_reports(status, 10, 0)
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        listed(Some(ReportStatus::EscalatedToClinician)).await,
        [ids[3], ids[1], ids[0]],
        "most urgent first, then the earliest deadline"
    );
    assert_eq!(listed(Some(ReportStatus::Triaged)).await, [ids[4], ids[2]]);
    assert_eq!(listed(None).await, [ids[3], ids[4], ids[1], ids[0], ids[2]]);
}

async fn tokens_verify_by_hash_until_revoked(s: &Storage) {
    use secrecy::ExposeSecret;
    let (clinician, row) = s
        .reports
        .create_token(Role::Clinician, Some("Dr Osei"))
        .await
        .unwrap();
    let clinician = clinician.expose_secret().to_owned();
    assert!(
        clinician.starts_with("trg_") && clinician.len() == 68,
        "{clinician}"
    );
    assert_eq!(
        (row.role, row.label.as_deref(), row.revoked_at),
        (Role::Clinician, Some("Dr Osei"), None)
    );
    let (engineer, engineer_row) = s
        .reports
        .create_token(Role::MlEngineer, None)
        .await
        .unwrap();
    assert_ne!(engineer.expose_secret(), clinician);

    assert_eq!(
        s.reports.verify_token(&clinician).await.unwrap(),
        Some((row.id, Role::Clinician))
    );
    assert_eq!(
        s.reports
            .verify_token(engineer.expose_secret())
            .await
            .unwrap(),
        Some((engineer_row.id, Role::MlEngineer))
    );
    let mut altered = clinician.clone();
    altered.pop();
    altered.push('x');
    for wrong in [altered.as_str(), "", "trg_", "Bearer"] {
        assert_eq!(
            s.reports.verify_token(wrong).await.unwrap(),
            None,
            "{wrong}"
        );
    }

    assert!(s.reports.revoke_token(row.id).await.unwrap());
    assert!(
        !s.reports.revoke_token(row.id).await.unwrap(),
        "revoking twice reports nothing to revoke"
    );
    assert!(!s.reports.revoke_token(uuid::Uuid::now_v7()).await.unwrap());
    assert_eq!(s.reports.verify_token(&clinician).await.unwrap(), None);
    assert!(
        s.reports
            .verify_token(engineer.expose_secret())
            .await
            .unwrap()
            .is_some(),
        "other tokens keep working"
    );
}
