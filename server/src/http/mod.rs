//! The HTTP surface: one route table, the layers every request goes through,
//! and the single mapping from errors to responses (`error`).

mod auth;
mod error;
mod ops;
mod reports;

pub use auth::Caller;
pub use error::ApiError;

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnFailure, TraceLayer};

use crate::app::AppState;
use crate::channel::whatsapp;

/// Largest request body accepted (Meta's webhooks are far smaller).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The full router with its layers.
pub fn router(state: AppState) -> Router {
    let sink = state.whatsapp.sink.clone();
    let mut app = Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/api/triage-reports", get(reports::list))
        .route("/api/triage-reports/{id}", get(reports::get))
        .route(
            "/webhooks/whatsapp",
            get(whatsapp::routes::verify).post(whatsapp::routes::receive),
        )
        .route("/simulator", get(whatsapp::simulator::page))
        .route(
            "/simulator/api/send",
            axum::routing::post(whatsapp::simulator::send),
        )
        .route(
            "/simulator/api/conversation",
            get(whatsapp::simulator::conversation),
        )
        .route(
            "/simulator/api/messages",
            get(whatsapp::simulator::messages),
        )
        .fallback(ops::not_found)
        .with_state(state);
    if let Some(sink) = sink {
        // Simulator mode: our own Graph API stand-in, reached over HTTP by the
        // same client code that talks to Meta in production.
        app = app.nest_service(whatsapp::runtime::SINK_PATH, whatsapp::sink::router(sink));
    }
    app.layer(middleware::from_fn(record_metrics))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(middleware::map_response(json_errors_from_layers))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            // Spans carry method, route and request id; never bodies or query
            // strings (they can hold phone numbers).
            TraceLayer::new_for_http()
                // A 503 from /readyz on a node that is starting is expected:
                // warn, do not page.
                .on_failure(DefaultOnFailure::new().level(tracing::Level::WARN))
                .make_span_with(|req: &Request| {
                    let route = req
                        .extensions()
                        .get::<MatchedPath>()
                        .map_or("unmatched", MatchedPath::as_str)
                        .to_owned();
                    let request_id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-")
                        .to_owned();
                    tracing::info_span!("http", method = %req.method(), route, request_id)
                }),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// Counts requests and records latency per route and status.
async fn record_metrics(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().to_string();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("triage_http_requests_total", &labels).increment(1);
    metrics::histogram!("triage_http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    response
}

/// Layers (body limit, timeout, method routing) answer errors in plain text;
/// give them the same JSON error body as every handler error.
async fn json_errors_from_layers(response: Response) -> Response {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let replacement = match response.status() {
        _ if is_json => None,
        StatusCode::PAYLOAD_TOO_LARGE => {
            Some(("payload_too_large", "request body is larger than 1 MiB"))
        }
        StatusCode::METHOD_NOT_ALLOWED => {
            Some(("method_not_allowed", "method not allowed on this route"))
        }
        StatusCode::REQUEST_TIMEOUT => Some(("timeout", "the request took too long")),
        _ => None,
    };
    match replacement {
        Some((code, message)) => {
            let status = response.status();
            (
                status,
                axum::Json(serde_json::json!({"error": {"code": code, "message": message}})),
            )
                .into_response()
        }
        None => response,
    }
}
