//! The worker side of inbound events: record, apply opt-out and blocking, run
//! the agent, and turn its actions into outbox rows and send jobs.
//!
//! Every step is idempotent, because a job is redelivered whenever a worker
//! dies before its ack: the message is recorded once per `wamid`, outbox rows
//! are keyed by (event, position), send jobs are deduplicated by outbox id,
//! and the agent state is saved last and remembers the input it applied.

use std::sync::Arc;

use agent::{Agent, ConversationState, PatientInput, StepContext};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::event::{ChannelEvent, DeliveryStatus, InboundMessage, MessageContent, StatusUpdate};
use super::render::render_action;
use super::runtime::{CHANNEL, WhatsApp};
use super::sender::{OutboundJob, enqueue_outbound};
use crate::model::Model;
use crate::storage::{
    AppendOutcome, ClaimedJob, Direction, NewMessage, NewOutbox, OutboxStatus, Storage,
    StorageError,
};
use crate::telemetry::mask_phone;
use crate::triage_report::TriageReport;
use crate::worker::{HandlerError, JobHandler};

/// How long the agent remembers an idle conversation.
const STATE_TTL: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// Handles `whatsapp.events` jobs.
#[derive(Debug, Clone)]
pub struct EventProcessor {
    storage: Storage,
    whatsapp: Arc<WhatsApp>,
    model: Option<Model>,
}

impl From<StorageError> for HandlerError {
    fn from(e: StorageError) -> Self {
        HandlerError::Transient(e.to_string())
    }
}

/// Opt-out keywords (WhatsApp's own convention plus common translations).
fn opt_keyword(content: &MessageContent) -> Option<bool> {
    let MessageContent::Text { body } = content else {
        return None;
    };
    match body.trim().to_uppercase().as_str() {
        "STOP" | "UNSUBSCRIBE" | "PARAR" | "ARRÊT" | "ARRET" | "ACHA" => Some(true),
        "START" | "UNSTOP" | "INICIAR" | "COMMENCER" | "ANZA" => Some(false),
        _ => None,
    }
}

fn patient_input(content: &MessageContent) -> PatientInput {
    match content {
        MessageContent::Text { body } => PatientInput::Text { text: body.clone() },
        MessageContent::ButtonReply { id, title } | MessageContent::ListReply { id, title, .. } => {
            PatientInput::Choice {
                id: id.clone(),
                title: title.clone(),
            }
        }
        MessageContent::Button { payload, text } => PatientInput::Choice {
            id: payload.clone().unwrap_or_else(|| text.clone()),
            title: text.clone(),
        },
        MessageContent::Image { media } => PatientInput::Attachment {
            kind: "image".to_owned(),
            caption: media.caption.clone(),
        },
        MessageContent::Document { media, .. } => PatientInput::Attachment {
            kind: "document".to_owned(),
            caption: media.caption.clone(),
        },
        other => PatientInput::Other {
            kind: other.kind().to_owned(),
        },
    }
}

impl EventProcessor {
    /// A processor over `storage`, sending through `whatsapp`.
    pub fn new(storage: Storage, whatsapp: Arc<WhatsApp>, model: Option<Model>) -> Self {
        Self {
            storage,
            whatsapp,
            model,
        }
    }

    /// Asks the configured model, after the rules' reply has gone out; its
    /// answers can only add evidence and raise urgency, its failure changes
    /// nothing.
    async fn consult(
        &self,
        model: &Model,
        state: ConversationState,
        m: &InboundMessage,
        conversation_id: Uuid,
        cause: &str,
        sent: usize,
    ) -> Result<ConversationState, HandlerError> {
        let agent = Agent::shared()
            .map_err(|e| HandlerError::Transient(format!("triage knowledge invalid: {e}")))?;
        let text = match &m.content {
            MessageContent::Text { body } => Some(body.as_str()),
            _ => None,
        };
        let c = model
            .advisor
            .consult(agent, state, text, model.extraction)
            .await;
        for call in &c.successes {
            metrics::counter!("triage_model_calls_total", "call" => *call, "outcome" => "ok")
                .increment(1);
        }
        for (call, e) in &c.failures {
            tracing::warn!(call, error = %e, "model unavailable; the rules' answer stands");
            metrics::counter!("triage_model_calls_total", "call" => *call, "outcome" => "failed")
                .increment(1);
        }
        store_and_send(
            &self.storage,
            &self.whatsapp,
            &m.from,
            Some(conversation_id),
            cause,
            &c.actions,
            sent,
        )
        .await?;
        Ok(c.state)
    }

    async fn on_message(&self, m: &InboundMessage) -> Result<(), HandlerError> {
        let s = &self.storage;
        let sent_at = DateTime::<Utc>::from_timestamp(m.timestamp, 0).unwrap_or_else(Utc::now);
        let contact = s.channel.record_inbound(CHANNEL, &m.from, sent_at).await?;
        let open = s.records.open_conversation(CHANNEL, &m.from).await?;
        let content =
            serde_json::to_value(&m.content).map_err(|e| HandlerError::Permanent(e.to_string()))?;
        // Recorded once per wamid, in whichever conversation first took it:
        // on a redelivery that is where it already is (perhaps a conversation
        // it opened itself, below), not the one open now.
        let (message_id, home) = match s
            .records
            .append_message(NewMessage {
                conversation_id: open.id,
                direction: Direction::Inbound,
                external_id: Some(m.id.clone()),
                kind: m.content.kind().to_owned(),
                content,
            })
            .await?
        {
            AppendOutcome::Inserted(message) => (message.id, message.conversation_id),
            AppendOutcome::Duplicate {
                existing,
                conversation_id,
            } => (existing, conversation_id),
        };
        let patient = mask_phone(&m.from);
        if contact.blocked {
            tracing::info!(%patient, "message from a blocked number recorded; no reply");
            metrics::counter!("triage_whatsapp_unanswered_total", "reason" => "blocked")
                .increment(1);
            return Ok(());
        }
        match opt_keyword(&m.content) {
            Some(true) => {
                s.channel.set_opted_out(CHANNEL, &m.from, true).await?;
                tracing::info!(%patient, "patient opted out");
                metrics::counter!("triage_whatsapp_unanswered_total", "reason" => "opted_out")
                    .increment(1);
                return Ok(());
            }
            Some(false) => s.channel.set_opted_out(CHANNEL, &m.from, false).await?,
            None if contact.opted_out_at.is_some() => {
                metrics::counter!("triage_whatsapp_unanswered_total", "reason" => "opted_out")
                    .increment(1);
                return Ok(());
            }
            None => {}
        }
        // Blue ticks: best effort, deduplicated like every outbound job.
        enqueue_outbound(
            s,
            &OutboundJob::MarkRead {
                wamid: m.id.clone(),
            },
            &m.from,
            &format!("read:{}", m.id),
            self.whatsapp.settings.dedupe_retention,
        )
        .await?;

        let state_key = agent_state_key(&m.from);
        let state: ConversationState = match s.kv.get(&state_key).await? {
            Some(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
            None => ConversationState::default(),
        };
        let ctx = StepContext {
            input_key: m.id.clone(),
            sent_at: m.timestamp,
        };
        let agent = Agent::shared()
            .map_err(|e| HandlerError::Transient(format!("triage knowledge invalid: {e}")))?;
        let previous_episode = state.episode;
        let (mut next, actions) = agent.step(state, &patient_input(&m.content), &ctx);
        if let Some(floor) = next.floor() {
            let rules: Vec<&str> = next.fired.iter().map(|f| f.id.as_str()).collect();
            tracing::info!(%patient, %floor, ?rules, "red flags fired");
        }
        // One conversation (transcript and report) per episode of the agent.
        // CANCEL or RESTART closes the episode with this message in it, and
        // the patient's next message opens a new conversation. A new problem
        // after a finished triage opens the new episode with this very
        // message: it moves into a new conversation, which its words begin.
        let new_episode = next.episode > previous_episode;
        let conversation_id = if new_episode && next.turns > 0 {
            let opened = s.records.open_conversation_from(message_id).await?;
            tracing::info!(%patient, episode = next.episode, "a new problem opened a new conversation");
            opened.id
        } else {
            home
        };
        // The rules' answer goes out first: a model is never waited for.
        let cause = format!("msg:{}", m.id);
        store_and_send(
            s,
            &self.whatsapp,
            &m.from,
            Some(conversation_id),
            &cause,
            &actions,
            0,
        )
        .await?;
        if let Some(model) = &self.model {
            next = self
                .consult(model, next, m, conversation_id, &cause, actions.len())
                .await?;
        }
        // The clinician's report, once there is something to act on (a red
        // flag fired, the interview concluded, a clinician was asked to take
        // over), against the conversation of the episode it describes.
        // Before the state is saved, so a crash replays `step` and stores it
        // then; the upsert keeps one report per conversation.
        if let Some(report) =
            TriageReport::from_state(&next, agent.knowledge(), conversation_id, &m.from, sent_at)
        {
            let stored = s.reports.report_for_conversation(conversation_id).await?;
            let record = report
                .settle(stored.as_ref())
                .to_record()
                .map_err(|e| HandlerError::Permanent(e.to_string()))?;
            s.reports.upsert_report(record).await?;
        }
        if new_episode && next.turns == 0 {
            s.records.close_conversation(home).await?;
            tracing::info!(%patient, episode = next.episode, "the patient closed the conversation");
        }
        let state_bytes =
            serde_json::to_vec(&next).map_err(|e| HandlerError::Permanent(e.to_string()))?;
        s.kv.set(&state_key, &state_bytes, Some(STATE_TTL)).await?;
        // Only an interview in progress expires: a disposition needs no
        // closing, and a hand-off waits for its clinician.
        if super::session::expires(&next) {
            super::session::arm(s, &self.whatsapp, &m.from, &m.id).await?;
        }
        Ok(())
    }

    async fn on_status(&self, update: &StatusUpdate) -> Result<(), HandlerError> {
        let status = match update.status {
            DeliveryStatus::Sent => OutboxStatus::Sent,
            DeliveryStatus::Delivered => OutboxStatus::Delivered,
            DeliveryStatus::Read => OutboxStatus::Read,
            DeliveryStatus::Failed => OutboxStatus::Failed,
            DeliveryStatus::Other(_) => return Ok(()),
        };
        let error = update.errors.first();
        let code = error.map(|e| e.code);
        let text = error.map(|e| {
            e.title
                .clone()
                .or_else(|| e.message.clone())
                .unwrap_or_default()
        });
        let changed = self
            .storage
            .channel
            .apply_delivery_status(&update.message_id, status, code, text.as_deref())
            .await?;
        metrics::counter!("triage_whatsapp_delivery_total", "status" => status.as_str())
            .increment(1);
        if let Some(row) = changed
            && status == OutboxStatus::Failed
        {
            tracing::warn!(patient = %mask_phone(&row.recipient), code = ?code, "message delivery failed");
            // Sent while the window looked open, refused after: re-engage by template.
            if code == Some(super::sender::OUTSIDE_WINDOW) {
                super::sender::reengage(&self.storage, &self.whatsapp, &row).await?;
            }
        }
        Ok(())
    }
}

/// The key of a patient's agent state in the key-value store.
pub(crate) fn agent_state_key(wa_id: &str) -> String {
    format!("agent-state:{CHANNEL}:{wa_id}")
}

/// Stores replies to `recipient` in `conversation` as outbox rows keyed by
/// `cause` and numbered from `first_seq`, and queues their sends. Order
/// matters for crash safety: rows, then send jobs, then (in the caller, last)
/// the agent state. A crash before the state is saved replays `step` on the
/// old state, which yields the same rows (same keys), so nothing is sent twice.
pub(crate) async fn store_and_send(
    s: &Storage,
    whatsapp: &WhatsApp,
    recipient: &str,
    conversation: Option<Uuid>,
    cause: &str,
    actions: &[agent::Action],
    first_seq: usize,
) -> Result<(), HandlerError> {
    let mut rows = Vec::with_capacity(actions.len());
    for (n, action) in actions.iter().enumerate() {
        let message =
            render_action(action, recipient).map_err(|e| HandlerError::Permanent(e.to_string()))?;
        rows.push(NewOutbox {
            cause_key: cause.to_owned(),
            seq: i32::try_from(first_seq + n).unwrap_or(i32::MAX),
            channel: CHANNEL.to_owned(),
            recipient: recipient.to_owned(),
            body: serde_json::to_value(&message)
                .map_err(|e| HandlerError::Permanent(e.to_string()))?,
            conversation_id: conversation,
        });
    }
    let stored = s.channel.put_outbox(&rows).await?;
    for row in stored
        .iter()
        .filter(|r| matches!(r.status, OutboxStatus::Pending | OutboxStatus::Sending))
    {
        enqueue_outbound(
            s,
            &OutboundJob::Send { outbox_id: row.id },
            &row.recipient,
            &format!("send:{}", row.id),
            whatsapp.settings.dedupe_retention,
        )
        .await?;
    }
    Ok(())
}

#[async_trait]
impl JobHandler for EventProcessor {
    async fn handle(&self, job: &ClaimedJob) -> Result<(), HandlerError> {
        let event: ChannelEvent = serde_json::from_slice(&job.payload)
            .map_err(|e| HandlerError::Permanent(format!("undecodable event: {e}")))?;
        match &event {
            ChannelEvent::Message(m) => self.on_message(m).await,
            ChannelEvent::Status(s) => self.on_status(s).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_and_start_are_recognised_in_several_languages() {
        let text = |s: &str| MessageContent::Text { body: s.to_owned() };
        assert_eq!(opt_keyword(&text(" stop ")), Some(true));
        assert_eq!(opt_keyword(&text("Parar")), Some(true));
        assert_eq!(opt_keyword(&text("START")), Some(false));
        assert_eq!(opt_keyword(&text("stop the pain please")), None);
    }

    #[test]
    fn button_and_list_replies_become_choices() {
        let input = patient_input(&MessageContent::ButtonReply {
            id: "yes".into(),
            title: "Yes".into(),
        });
        assert_eq!(
            input,
            PatientInput::Choice {
                id: "yes".into(),
                title: "Yes".into()
            }
        );
    }
}
