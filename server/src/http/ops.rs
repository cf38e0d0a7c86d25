//! Operational endpoints: liveness, readiness, metrics.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::json;

use super::ApiError;
use crate::app::AppState;
use crate::readiness;

/// `GET /healthz`: the process is up and serving HTTP.
pub async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

/// `GET /readyz`: 200 when every dependency the configuration requires
/// answers, else 503 naming what does not.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let readiness = readiness::assess(
        &state.config,
        &state.storage,
        &state.http,
        state.model_error.as_deref(),
    )
    .await;
    let status = if readiness.is_ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(readiness))
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

/// Unknown routes answer with the standard error body.
pub async fn not_found() -> ApiError {
    ApiError::NotFound
}
