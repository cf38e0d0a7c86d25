//! `GET/POST /webhooks/whatsapp`: Meta's verification handshake, and webhook
//! deliveries — verified, parsed, deduplicated and durably enqueued before the
//! 200. No processing happens in the request: Meta re-sends when we are slow.

use std::collections::HashMap;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use super::runtime::EVENTS_QUEUE;
use super::signature::verify_signature;
use super::webhook::parse_webhook;
use crate::app::AppState;
use crate::http::ApiError;
use crate::storage::queue::Dedupe;
use crate::storage::{Enqueued, NewJob};

/// `GET /webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`:
/// echo the challenge when the token is ours.
pub async fn verify(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<String, ApiError> {
    let whatsapp = &state.whatsapp;
    let mode = params.get("hub.mode").map(String::as_str);
    let token = params
        .get("hub.verify_token")
        .map(String::as_str)
        .unwrap_or_default();
    let expected = whatsapp.verify_token.expose_secret();
    let token_ok = bool::from(token.as_bytes().ct_eq(expected.as_bytes()));
    match (mode, token_ok, params.get("hub.challenge")) {
        (Some("subscribe"), true, Some(challenge)) => Ok(challenge.clone()),
        (Some("subscribe"), true, None) => {
            Err(ApiError::BadRequest("hub.challenge is missing".to_owned()))
        }
        _ => {
            tracing::warn!("webhook verification refused: wrong mode or verify token");
            Err(ApiError::Forbidden(
                "verification token does not match".to_owned(),
            ))
        }
    }
}

/// `POST /webhooks/whatsapp`.
pub async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let started = Instant::now();
    let whatsapp = &state.whatsapp;
    let header = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if let Err(e) = verify_signature(
        whatsapp.app_secret.expose_secret().as_bytes(),
        &body,
        header,
    ) {
        // Never log the body: it is an unverified patient message.
        tracing::warn!(reason = %e, bytes = body.len(), "webhook refused: bad signature");
        metrics::counter!("triage_whatsapp_webhooks_total", "outcome" => "bad_signature")
            .increment(1);
        return Err(ApiError::Unauthorized(
            "invalid X-Hub-Signature-256".to_owned(),
        ));
    }
    let parsed = parse_webhook(&body).map_err(|e| {
        metrics::counter!("triage_whatsapp_webhooks_total", "outcome" => "malformed").increment(1);
        ApiError::BadRequest(e.to_string())
    })?;
    for part in &parsed.ignored {
        // Answered 200 all the same: Meta would re-send a 4xx forever.
        tracing::warn!(field = %part.field, reason = %part.reason, "webhook part not understood; recorded and skipped");
        metrics::counter!("triage_whatsapp_ignored_total", "field" => part.field.clone())
            .increment(1);
    }
    // Never 200 for something we did not store: 503 makes Meta retry.
    let storage = state
        .storage
        .get()
        .ok_or_else(|| ApiError::Unavailable("storage is not connected".to_owned()))?;
    let ttl = whatsapp.settings.dedupe_retention;
    let (mut accepted, mut duplicates) = (0u64, 0u64);
    for event in &parsed.events {
        let payload = serde_json::to_vec(event).map_err(|e| ApiError::BadRequest(e.to_string()))?;
        let key = event.dedupe_key();
        let job = NewJob {
            queue: EVENTS_QUEUE,
            partition: event.partition(),
            payload: &payload,
            dedupe: Some(Dedupe { key: &key, ttl }),
        };
        match storage.queue.enqueue(job).await {
            Ok(Enqueued::Accepted(_)) => accepted += 1,
            Ok(Enqueued::Duplicate) => duplicates += 1,
            Err(e) => {
                tracing::error!(error = %e, "could not enqueue webhook event");
                return Err(ApiError::Unavailable("queue unavailable".to_owned()));
            }
        }
    }
    metrics::counter!("triage_whatsapp_events_total", "outcome" => "accepted").increment(accepted);
    metrics::counter!("triage_whatsapp_events_total", "outcome" => "duplicate")
        .increment(duplicates);
    metrics::counter!("triage_whatsapp_webhooks_total", "outcome" => "ok").increment(1);
    metrics::histogram!("triage_whatsapp_webhook_ingest_seconds")
        .record(started.elapsed().as_secs_f64());
    Ok(StatusCode::OK)
}
