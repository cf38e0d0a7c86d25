//! Session timers: an interview the patient stops answering is closed after
//! `whatsapp.session_timeout_secs` with a safety-net message ("if you still
//! feel unwell, write again; in an emergency call…").
//!
//! Every inbound message queues one timer job on `whatsapp.timers` (partition:
//! the patient). A job that is not yet due defers itself until it is; when
//! due, it acts only if the patient has said nothing since the message that
//! set it, so a newer message silently cancels older timers.

use std::sync::Arc;
use std::time::Duration;

use agent::{Agent, ConversationState, Stage};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::processor::{agent_state_key, store_and_send};
use super::runtime::{CHANNEL, TIMERS_QUEUE, WhatsApp};
use crate::storage::queue::Dedupe;
use crate::storage::{ClaimedJob, NewJob, Storage, StorageError};
use crate::worker::{HandlerError, JobHandler};

/// A timer set by one inbound message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionTimer {
    /// The patient.
    pub wa_id: String,
    /// The message that set it.
    pub message_id: String,
    /// When it fires (ms since the epoch).
    pub due_at_ms: i64,
}

/// Whether a conversation in this state is closed when the patient stops
/// answering: only an interview in progress. A disposition needs no
/// closing, and a hand-off must stay open until a clinician replies.
pub fn expires(state: &ConversationState) -> bool {
    state.stage == Stage::CollectingSymptoms && state.turns > 0 && state.handoff.is_none()
}

/// Queues the timer for `message_id` (once per message).
pub async fn arm(
    storage: &Storage,
    whatsapp: &WhatsApp,
    wa_id: &str,
    message_id: &str,
) -> Result<(), StorageError> {
    let timeout_ms =
        i64::try_from(whatsapp.settings.session_timeout.as_millis()).unwrap_or(i64::MAX);
    let timer = SessionTimer {
        wa_id: wa_id.to_owned(),
        message_id: message_id.to_owned(),
        due_at_ms: chrono::Utc::now()
            .timestamp_millis()
            .saturating_add(timeout_ms),
    };
    let payload = serde_json::to_vec(&timer).map_err(|e| StorageError::Corrupt(e.to_string()))?;
    let key = format!("timer:{message_id}");
    storage
        .queue
        .enqueue(NewJob {
            queue: TIMERS_QUEUE,
            partition: wa_id,
            payload: &payload,
            dedupe: Some(Dedupe {
                key: &key,
                ttl: whatsapp.settings.dedupe_retention,
            }),
        })
        .await?;
    Ok(())
}

/// Handles `whatsapp.timers` jobs.
#[derive(Debug, Clone)]
pub struct SessionTimers {
    storage: Storage,
    whatsapp: Arc<WhatsApp>,
}

impl SessionTimers {
    /// Timers over `storage`, replying through `whatsapp`.
    pub fn new(storage: Storage, whatsapp: Arc<WhatsApp>) -> Self {
        Self { storage, whatsapp }
    }
}

#[async_trait]
impl JobHandler for SessionTimers {
    async fn handle(&self, job: &ClaimedJob) -> Result<(), HandlerError> {
        let timer: SessionTimer = serde_json::from_slice(&job.payload)
            .map_err(|e| HandlerError::Permanent(format!("undecodable timer: {e}")))?;
        let wait = timer
            .due_at_ms
            .saturating_sub(chrono::Utc::now().timestamp_millis());
        if wait > 0 {
            let delay = Duration::from_millis(u64::try_from(wait).unwrap_or(0));
            return Err(HandlerError::RetryAfter(
                delay,
                "session timer not due".to_owned(),
            ));
        }
        let s = &self.storage;
        let key = agent_state_key(&timer.wa_id);
        let Some(bytes) = s.kv.get(&key).await? else {
            return Ok(());
        };
        let state: ConversationState = serde_json::from_slice(&bytes).unwrap_or_default();
        if state.last_input_key.as_deref() != Some(timer.message_id.as_str()) {
            return Ok(()); // the patient wrote again: a newer timer owns the session
        }
        // Checked here too, not only when arming: the state may have moved
        // on (a hand-off) under the same last input.
        if !expires(&state) {
            return Ok(());
        }
        let agent = Agent::shared().map_err(|e| HandlerError::Transient(e.to_string()))?;
        let Some((fresh, actions)) = agent.expire(&state) else {
            return Ok(());
        };
        let conversation = s.records.open_conversation(CHANNEL, &timer.wa_id).await?;
        store_and_send(
            s,
            &self.whatsapp,
            &timer.wa_id,
            Some(conversation.id),
            &format!("expire:{}", timer.message_id),
            &actions,
            0,
        )
        .await?;
        s.records.close_conversation(conversation.id).await?;
        let bytes =
            serde_json::to_vec(&fresh).map_err(|e| HandlerError::Permanent(e.to_string()))?;
        s.kv.set(&key, &bytes, Some(Duration::from_secs(7 * 24 * 3600)))
            .await?;
        metrics::counter!("triage_sessions_expired_total").increment(1);
        Ok(())
    }
}
