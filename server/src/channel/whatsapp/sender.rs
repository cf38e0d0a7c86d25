//! The outbound side: one job per outbox row (or read receipt), sent through
//! the Graph API with the window, pacing and retry rules Meta imposes.
//!
//! Jobs are partitioned by recipient, so one patient's messages go out in
//! order; a row already past `sending` is never sent again, so a redelivered
//! job is harmless. The one unavoidable gap: a crash after Meta accepted a
//! message but before the row says so resends it (Meta has no idempotency key).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::graph::{FailureClass, GraphError};
use super::message::{OutboundBody, OutboundMessage};
use super::runtime::{CHANNEL, OUTBOUND_QUEUE, WhatsApp};
use crate::storage::queue::Dedupe;
use crate::storage::{
    ClaimedJob, Direction, NewJob, NewMessage, NewOutbox, OutboxRow, OutboxStatus, Storage,
    StorageError,
};
use crate::telemetry::mask_phone;
use crate::worker::{HandlerError, JobHandler};

/// Meta's error code for a free-form message outside the 24-hour window.
pub const OUTSIDE_WINDOW: i64 = 131047;
/// The customer-service window: free-form replies are allowed this long after
/// the patient's last message; after it, only approved templates.
pub const SERVICE_WINDOW: chrono::TimeDelta = chrono::TimeDelta::hours(24);
/// Give up on a message after this many send attempts.
const MAX_SEND_ATTEMPTS: i32 = 10;
/// Back-off for a recipient Meta says we are flooding (131056).
const RECIPIENT_COOL_DOWN: Duration = Duration::from_secs(30);

/// Work on `whatsapp.outbound`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "job", rename_all = "snake_case")]
pub enum OutboundJob {
    /// Send one outbox row.
    Send {
        /// The row.
        outbox_id: Uuid,
    },
    /// Mark an inbound message as read.
    MarkRead {
        /// Its `wamid`.
        wamid: String,
    },
}

/// Enqueues outbound work for `recipient` once per `dedupe_key`.
pub async fn enqueue_outbound(
    storage: &Storage,
    job: &OutboundJob,
    recipient: &str,
    dedupe_key: &str,
    retention: Duration,
) -> Result<(), StorageError> {
    let payload = serde_json::to_vec(job).map_err(|e| StorageError::Corrupt(e.to_string()))?;
    storage
        .queue
        .enqueue(NewJob {
            queue: OUTBOUND_QUEUE,
            partition: recipient,
            payload: &payload,
            dedupe: Some(Dedupe {
                key: dedupe_key,
                ttl: retention,
            }),
        })
        .await?;
    Ok(())
}

/// A re-engagement template to `recipient`, if one is configured.
fn reengagement_message(whatsapp: &WhatsApp, recipient: &str) -> Option<OutboundMessage> {
    let (name, language) = whatsapp.settings.reengagement_template.as_ref()?;
    let body = OutboundBody::template(name, language, Vec::new()).ok()?;
    Some(OutboundMessage {
        to: recipient.to_owned(),
        body,
        reply_to: None,
    })
}

/// After Meta refused `row` as outside the window: queue the re-engagement
/// template once (keyed by the failed row), or leave the row failed.
pub async fn reengage(
    storage: &Storage,
    whatsapp: &WhatsApp,
    row: &OutboxRow,
) -> Result<(), StorageError> {
    let Some(message) = reengagement_message(whatsapp, &row.recipient) else {
        tracing::warn!(patient = %mask_phone(&row.recipient), "outside the 24-hour window and no re-engagement template configured");
        metrics::counter!("triage_whatsapp_window_closed_total", "outcome" => "failed")
            .increment(1);
        return Ok(());
    };
    let body = serde_json::to_value(&message).map_err(|e| StorageError::Corrupt(e.to_string()))?;
    let stored = storage
        .channel
        .put_outbox(&[NewOutbox {
            cause_key: format!("reengage:{}", row.id),
            seq: 0,
            channel: CHANNEL.to_owned(),
            recipient: row.recipient.clone(),
            body,
            conversation_id: row.conversation_id,
        }])
        .await?;
    for new in stored {
        enqueue_outbound(
            storage,
            &OutboundJob::Send { outbox_id: new.id },
            &new.recipient,
            &format!("send:{}", new.id),
            whatsapp.settings.dedupe_retention,
        )
        .await?;
    }
    metrics::counter!("triage_whatsapp_window_closed_total", "outcome" => "template").increment(1);
    Ok(())
}

/// Handles `whatsapp.outbound` jobs.
#[derive(Debug, Clone)]
pub struct OutboundSender {
    storage: Storage,
    whatsapp: Arc<WhatsApp>,
}

/// Exponential back-off with ±25 % jitter: 1 s, 2 s, 4 s … capped at 5 min.
fn backoff(attempts: i32) -> Duration {
    let exp = u32::try_from(attempts.clamp(1, 9) - 1).unwrap_or(0);
    let base = Duration::from_secs(1u64 << exp).min(Duration::from_secs(300));
    base.mul_f64(0.75 + rand::random::<f64>() * 0.5)
}

fn error_code(e: &GraphError) -> Option<i64> {
    match e {
        GraphError::Api { detail, .. } => Some(detail.code),
        _ => None,
    }
}

impl OutboundSender {
    /// A sender over `storage` through `whatsapp`.
    pub fn new(storage: Storage, whatsapp: Arc<WhatsApp>) -> Self {
        Self { storage, whatsapp }
    }

    /// Business-number throughput and per-recipient pacing, shared by every
    /// worker through the key-value store. `Some(delay)` when we must wait.
    async fn pace(&self, recipient: &str) -> Result<Option<Duration>, StorageError> {
        let kv = &self.storage.kv;
        if kv.get(&format!("wa:cool:{recipient}")).await?.is_some() {
            return Ok(Some(RECIPIENT_COOL_DOWN / 3));
        }
        let second = Utc::now().timestamp();
        let key = format!("wa:tput:{}:{second}", self.whatsapp.phone_number_id);
        if kv.increment_in_window(&key, Duration::from_secs(2)).await?
            > u64::from(self.whatsapp.settings.max_messages_per_second)
        {
            return Ok(Some(Duration::from_millis(
                200 + rand::random::<u64>() % 800,
            )));
        }
        let interval = self.whatsapp.settings.recipient_interval;
        if !interval.is_zero()
            && !kv
                .set_if_absent(&format!("wa:pace:{recipient}"), b"1", interval)
                .await?
        {
            return Ok(Some(interval));
        }
        Ok(None)
    }

    async fn send(&self, outbox_id: Uuid) -> Result<(), HandlerError> {
        let s = &self.storage;
        let Some(row) = s.channel.outbox_row(outbox_id).await? else {
            return Err(HandlerError::Permanent(format!(
                "outbox row {outbox_id} does not exist"
            )));
        };
        if !matches!(row.status, OutboxStatus::Pending | OutboxStatus::Sending) {
            return Ok(()); // already sent (a redelivered job)
        }
        let patient = mask_phone(&row.recipient);
        let mut message: OutboundMessage = match serde_json::from_value(row.body.clone()) {
            Ok(m) => m,
            Err(e) => {
                s.channel
                    .fail_send(row.id, None, &format!("undecodable message: {e}"), false)
                    .await?;
                return Err(HandlerError::Permanent(format!(
                    "undecodable outbox body: {e}"
                )));
            }
        };
        let contact = s.channel.contact(CHANNEL, &row.recipient).await?;
        if contact
            .as_ref()
            .is_some_and(|c| c.opted_out_at.is_some() || c.blocked)
        {
            s.channel
                .fail_send(row.id, None, "recipient opted out or is blocked", false)
                .await?;
            return Ok(());
        }
        let is_template = matches!(message.body, OutboundBody::Template { .. });
        let window_open = contact
            .and_then(|c| c.last_inbound_at)
            .is_some_and(|last| Utc::now() - last < SERVICE_WINDOW);
        if !is_template && !window_open {
            match reengagement_message(&self.whatsapp, &row.recipient) {
                Some(template) => {
                    let body = serde_json::to_value(&template)
                        .map_err(|e| HandlerError::Permanent(e.to_string()))?;
                    s.channel.replace_outbox_body(row.id, body).await?;
                    message = template;
                    metrics::counter!("triage_whatsapp_window_closed_total", "outcome" => "template").increment(1);
                }
                None => {
                    tracing::warn!(%patient, "not sent: outside the 24-hour window and no re-engagement template configured");
                    metrics::counter!("triage_whatsapp_window_closed_total", "outcome" => "failed")
                        .increment(1);
                    s.channel
                        .fail_send(
                            row.id,
                            Some(OUTSIDE_WINDOW),
                            "outside the 24-hour customer service window",
                            false,
                        )
                        .await?;
                    return Ok(());
                }
            }
        }
        if let Some(delay) = self.pace(&row.recipient).await? {
            return Err(HandlerError::RetryAfter(delay, "pacing".to_owned()));
        }
        let Some(row) = s.channel.begin_send(row.id).await? else {
            return Ok(());
        };
        match self.whatsapp.graph.send(&message).await {
            Ok(sent) => {
                s.channel.finish_send(row.id, &sent.wamid).await?;
                // In the conversation the reply belongs to, which the patient
                // may have closed since (CANCEL, a new problem); rows from
                // before migration 0004 go to the open one.
                let conversation_id = match row.conversation_id {
                    Some(id) => id,
                    None => {
                        s.records
                            .open_conversation(CHANNEL, &row.recipient)
                            .await?
                            .id
                    }
                };
                s.records
                    .append_message(NewMessage {
                        conversation_id,
                        direction: Direction::Outbound,
                        external_id: Some(sent.wamid),
                        kind: "outbound".to_owned(),
                        content: row.body.clone(),
                    })
                    .await?;
                metrics::counter!("triage_whatsapp_sent_total", "outcome" => "sent").increment(1);
                Ok(())
            }
            Err(e) => self.on_send_error(&row, e).await,
        }
    }

    async fn on_send_error(&self, row: &OutboxRow, e: GraphError) -> Result<(), HandlerError> {
        let s = &self.storage;
        let code = error_code(&e);
        let class = e.class();
        let patient = mask_phone(&row.recipient);
        tracing::warn!(%patient, ?class, code = ?code, attempts = row.attempts, error = %e, "send failed");
        metrics::counter!("triage_whatsapp_send_errors_total", "class" => format!("{class:?}"))
            .increment(1);
        let text = e.to_string();
        match class {
            FailureClass::Retryable | FailureClass::ThroughputRateLimited
                if row.attempts < MAX_SEND_ATTEMPTS =>
            {
                s.channel.fail_send(row.id, code, &text, true).await?;
                Err(HandlerError::RetryAfter(backoff(row.attempts), text))
            }
            FailureClass::RecipientRateLimited if row.attempts < MAX_SEND_ATTEMPTS => {
                s.kv.set(
                    &format!("wa:cool:{}", row.recipient),
                    b"1",
                    Some(RECIPIENT_COOL_DOWN),
                )
                .await?;
                s.channel.fail_send(row.id, code, &text, true).await?;
                Err(HandlerError::RetryAfter(RECIPIENT_COOL_DOWN, text))
            }
            FailureClass::OutsideWindow => {
                s.channel.fail_send(row.id, code, &text, false).await?;
                reengage(s, &self.whatsapp, row).await?;
                Ok(())
            }
            _ => {
                // Undeliverable, permanent, or out of retries: recorded with Meta's code.
                s.channel.fail_send(row.id, code, &text, false).await?;
                metrics::counter!("triage_whatsapp_sent_total", "outcome" => "failed").increment(1);
                Ok(())
            }
        }
    }
}

#[async_trait]
impl JobHandler for OutboundSender {
    async fn handle(&self, job: &ClaimedJob) -> Result<(), HandlerError> {
        let work: OutboundJob = serde_json::from_slice(&job.payload)
            .map_err(|e| HandlerError::Permanent(format!("undecodable job: {e}")))?;
        match work {
            OutboundJob::Send { outbox_id } => self.send(outbox_id).await,
            OutboundJob::MarkRead { wamid } => match self.whatsapp.graph.mark_read(&wamid).await {
                Ok(()) => Ok(()),
                Err(e) if e.class() == FailureClass::Retryable && job.attempts < 3 => {
                    Err(HandlerError::RetryAfter(
                        backoff(i32::try_from(job.attempts).unwrap_or(1)),
                        e.to_string(),
                    ))
                }
                // Read receipts are courtesy: never worth a dead letter.
                Err(e) => {
                    tracing::debug!(error = %e, "read receipt not sent");
                    Ok(())
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        for _ in 0..50 {
            let first = backoff(1);
            assert!(first >= Duration::from_millis(750) && first <= Duration::from_millis(1250));
            let capped = backoff(40);
            assert!(capped <= Duration::from_secs(375) && capped >= Duration::from_secs(192));
        }
    }
}
