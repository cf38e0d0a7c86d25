//! A local stand-in for Meta's Graph API: it speaks the Cloud API wire format
//! for sending messages, read receipts and media, and keeps what it received
//! in memory.
//!
//! Two users: the built-in simulator (no WhatsApp credentials configured —
//! the server sends to this sink mounted under its own HTTP server, and the
//! simulator page shows what arrived) and tests (served on port 0, with
//! failure injection and delays). It is a fake, not a validator of every
//! Meta rule: it checks what would make Meta refuse a request outright
//! (missing bearer token, `messaging_product`, recipient, type object, the
//! interactive button/row counts) and answers in Meta's documented shapes.
//!
//! Endpoints, relative to where the router is mounted (the Graph base URL):
//! - `POST /{version}/{phone_number_id}/messages` — send, or mark as read;
//! - `POST /{version}/{phone_number_id}/media` — multipart upload → `{"id"}`;
//! - `GET /{version}/{media_id}` — `{url, mime_type, sha256, file_size, id, messaging_product}`;
//! - `GET /whatsapp_business/attachments?mid=…` — the download URL handed out above.
//!
//! Sources (Meta, WhatsApp Business Platform / Cloud API):
//! - Messages API reference and "Text messages" (request and
//!   `{messaging_product, contacts[{input, wa_id}], messages[{id, message_status?}]}` response):
//!   <https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/text-messages/>
//! - "Mark messages as read" (`status: read`, `message_id`; `{"success": true}`):
//!   <https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/mark-message-as-read/>
//! - "Media" (upload `file`/`type`/`messaging_product` → `{"id"}`; retrieve URL;
//!   download with the same bearer token; URLs expire after 5 minutes):
//!   <https://developers.facebook.com/documentation/business-messaging/whatsapp/business-phone-numbers/media/>
//! - "Error codes" (error body `{"error": {message, type, code, error_data: {messaging_product, details}, fbtrace_id}}`,
//!   titles and details used by [`meta_error`]):
//!   <https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes>

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, OriginalUri, Path, Query, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::event::GraphErrorDetail;

/// Recipient that makes an injected failure apply to any message send.
pub const ANY_RECIPIENT: &str = "*";
/// Path of the download URLs the sink hands out (Meta's are on
/// `lookaside.fbsbx.com` under the same path).
pub const DOWNLOAD_PATH: &str = "/whatsapp_business/attachments";
/// Largest upload the sink accepts. Meta allows documents up to 100 MB; the
/// sink holds media in memory, so it stays well below that.
pub const MAX_UPLOAD_BYTES: usize = 16 * 1024 * 1024;

/// Message types the Messages API accepts (each carries an object under its name).
const MESSAGE_TYPES: &[&str] = &[
    "text",
    "interactive",
    "template",
    "image",
    "document",
    "audio",
    "video",
    "sticker",
    "location",
    "contacts",
    "reaction",
];

/// One request the sink accepted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SentRecord {
    /// The recipient's WhatsApp id (`to`, digits only); `None` for read
    /// receipts, which name a message, not a person.
    pub to: Option<String>,
    /// The `wamid` the sink answered with; for a read receipt, the message marked read.
    pub wamid: String,
    /// The request body exactly as received.
    pub request: Value,
}

/// Media held by the sink.
#[derive(Clone, PartialEq, Eq)]
pub struct SinkMedia {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// MIME type given at upload.
    pub mime_type: String,
    /// File name given at upload, if any.
    pub filename: Option<String>,
}

impl std::fmt::Debug for SinkMedia {
    // Media may be a patient's photo: never print the bytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SinkMedia")
            .field("len", &self.bytes.len())
            .field("mime_type", &self.mime_type)
            .field("filename", &self.filename)
            .finish()
    }
}

/// What `GET /{media-id}` declares about a media object. By default the
/// truth; tests override it (see [`SinkState::declare_media`]) to exercise the
/// client's size and checksum checks. `None` leaves the field out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaDeclaration {
    /// `file_size`, in bytes.
    pub file_size: Option<u64>,
    /// `sha256`, as Meta sends it from this endpoint (lowercase hex).
    pub sha256: Option<String>,
}

#[derive(Debug)]
struct Failure {
    recipient: String,
    detail: GraphErrorDetail,
    status: u16,
    remaining: u32,
}

#[derive(Default)]
struct Inner {
    sent: Vec<SentRecord>,
    failures: Vec<Failure>,
    media: HashMap<String, (SinkMedia, MediaDeclaration)>,
    delay: Duration,
    sequence: u64,
}

/// The sink's memory, shared by the router and whoever inspects it.
#[derive(Clone, Default)]
pub struct SinkState {
    inner: Arc<Mutex<Inner>>,
}

impl std::fmt::Debug for SinkState {
    // Records hold message bodies (PHI in simulator mode): print counts only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("SinkState")
            .field("sent", &inner.sent.len())
            .field("media", &inner.media.len())
            .field("pending_failures", &inner.failures.len())
            .field("delay", &inner.delay)
            .finish()
    }
}

/// Digits only: Meta answers `wa_id` without `+`, spaces or dashes.
fn wa_id_of(to: &str) -> String {
    to.chars().filter(char::is_ascii_digit).collect()
}

impl SinkState {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves plain data behind,
        // still consistent enough for a fake: keep serving.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Messages sent to `wa_id`, oldest first (read receipts excluded).
    pub fn sent_to(&self, wa_id: &str) -> Vec<SentRecord> {
        let wa_id = wa_id_of(wa_id);
        self.lock()
            .sent
            .iter()
            .filter(|r| r.to.as_deref() == Some(wa_id.as_str()))
            .cloned()
            .collect()
    }

    /// Every accepted request (messages and read receipts), oldest first.
    pub fn all(&self) -> Vec<SentRecord> {
        self.lock().sent.clone()
    }

    /// Same as [`SinkState::all`]; reads naturally next to [`SinkState::sent_to`].
    pub fn sent_to_any(&self) -> Vec<SentRecord> {
        self.all()
    }

    /// The next `times` message sends to `recipient` (or [`ANY_RECIPIENT`])
    /// fail with Meta's error `code` (titles from [`meta_error`]) and HTTP
    /// `status`. Failed sends are not recorded; read receipts never fail.
    pub fn fail_next(&self, recipient: &str, code: i64, status: u16, times: u32) {
        self.fail_next_with(recipient, meta_error(code), status, times);
    }

    /// Like [`SinkState::fail_next`] with a hand-made error detail.
    pub fn fail_next_with(
        &self,
        recipient: &str,
        detail: GraphErrorDetail,
        status: u16,
        times: u32,
    ) {
        if times == 0 {
            return;
        }
        self.lock().failures.push(Failure {
            recipient: if recipient == ANY_RECIPIENT {
                ANY_RECIPIENT.to_owned()
            } else {
                wa_id_of(recipient)
            },
            detail,
            status,
            remaining: times,
        });
    }

    /// Every request waits `delay` before it is answered (zero to stop).
    pub fn set_delay(&self, delay: Duration) {
        self.lock().delay = delay;
    }

    /// Stores media as if uploaded and returns its id (what the simulator
    /// uses when the patient "sends a photo").
    pub fn put_media(&self, bytes: Vec<u8>, mime_type: &str) -> String {
        self.store_media(SinkMedia {
            bytes,
            mime_type: mime_type.to_owned(),
            filename: None,
        })
    }

    /// The media stored under `media_id`.
    pub fn media(&self, media_id: &str) -> Option<SinkMedia> {
        self.lock()
            .media
            .get(media_id)
            .map(|(media, _)| media.clone())
    }

    /// Replaces what `GET /{media-id}` says about `media_id`; false when unknown.
    pub fn declare_media(&self, media_id: &str, declaration: MediaDeclaration) -> bool {
        match self.lock().media.get_mut(media_id) {
            Some((_, declared)) => {
                *declared = declaration;
                true
            }
            None => false,
        }
    }

    fn store_media(&self, media: SinkMedia) -> String {
        let declaration = MediaDeclaration {
            file_size: u64::try_from(media.bytes.len()).ok(),
            sha256: Some(hex::encode(Sha256::digest(&media.bytes))),
        };
        let mut inner = self.lock();
        // Random 16-digit ids like Meta's: a sequential id would let anyone
        // who can reach the simulator guess other patients' media.
        let id = loop {
            let candidate = format!("{:016}", rand::random::<u64>() % 10_000_000_000_000_000);
            if !inner.media.contains_key(&candidate) {
                break candidate;
            }
        };
        inner.media.insert(id.clone(), (media, declaration));
        id
    }

    async fn pause(&self) {
        let delay = self.lock().delay;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }

    fn take_failure(&self, wa_id: &str) -> Option<(u16, GraphErrorDetail)> {
        let mut inner = self.lock();
        let index = inner
            .failures
            .iter()
            .position(|f| f.recipient == wa_id || f.recipient == ANY_RECIPIENT)?;
        let failure = &mut inner.failures[index];
        failure.remaining = failure.remaining.saturating_sub(1);
        let taken = (failure.status, failure.detail.clone());
        if failure.remaining == 0 {
            inner.failures.remove(index);
        }
        Some(taken)
    }

    fn record(&self, to: Option<String>, wamid: Option<String>, request: Value) -> String {
        let mut inner = self.lock();
        inner.sequence += 1;
        let wamid = wamid.unwrap_or_else(|| {
            format!(
                "wamid.SINK{:06}{}",
                inner.sequence,
                hex::encode_upper(rand::random::<[u8; 8]>())
            )
        });
        inner.sent.push(SentRecord {
            to,
            wamid: wamid.clone(),
            request,
        });
        wamid
    }

    fn trace_id(&self) -> String {
        format!("Sink{}", hex::encode(rand::random::<[u8; 6]>()))
    }
}

/// Meta's documented title and details for an error `code`, as they appear
/// in API error bodies and webhooks (a generic entry for codes not listed).
pub fn meta_error(code: i64) -> GraphErrorDetail {
    let (title, details) = match code {
        1 => ("API Unknown", "Invalid request or possible server error."),
        2 => (
            "API Service",
            "Temporary due to downtime or due to being overloaded.",
        ),
        4 => (
            "API Too Many Calls",
            "The app has reached its API call rate limit.",
        ),
        100 => (
            "Invalid parameter",
            "The request included one or more unsupported or misspelled parameters.",
        ),
        190 => ("Access token has expired", "Your access token has expired."),
        368 => (
            "Temporarily blocked for policies violations",
            "The WhatsApp Business Account associated with the app has been restricted or disabled for violating a platform policy.",
        ),
        80007 => (
            "Rate limit issues",
            "The WhatsApp Business Account has reached its rate limit.",
        ),
        130429 => (
            "Rate limit hit",
            "Cloud API message throughput has been reached.",
        ),
        131000 => (
            "Something went wrong",
            "Message failed to send due to an unknown error.",
        ),
        131008 => (
            "Required parameter is missing",
            "The request is missing a required parameter.",
        ),
        131009 => (
            "Parameter value is not valid",
            "One or more parameter values are invalid.",
        ),
        131026 => (
            "Message Undeliverable",
            "Unable to deliver message. The recipient may not be a WhatsApp user, may not have accepted the latest terms, or may use an old client.",
        ),
        131047 => (
            "Re-engagement message",
            "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
        ),
        131048 => (
            "Spam rate limit hit",
            "Message failed to send because there are restrictions on how many messages can be sent from this phone number.",
        ),
        131053 => (
            "Media upload error",
            "Unable to upload the media used in the message.",
        ),
        131056 => (
            "(Business Account, Consumer Account) pair rate limit hit",
            "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.",
        ),
        _ => ("Error", "Injected failure."),
    };
    GraphErrorDetail {
        code,
        title: Some(title.to_owned()),
        message: Some(format!("(#{code}) {title}")),
        details: Some(details.to_owned()),
    }
}

/// Meta's error body: `{"error": {message, type, code, error_data, fbtrace_id}}`.
fn graph_error(
    state: &SinkState,
    status: u16,
    detail: &GraphErrorDetail,
    subcode: Option<i64>,
) -> Response {
    let message = detail
        .message
        .clone()
        .or_else(|| {
            detail
                .title
                .as_ref()
                .map(|t| format!("(#{}) {t}", detail.code))
        })
        .unwrap_or_else(|| format!("(#{})", detail.code));
    let mut error = json!({
        "message": message,
        "type": "OAuthException",
        "code": detail.code,
        "fbtrace_id": state.trace_id(),
    });
    if let Some(details) = &detail.details {
        error["error_data"] = json!({"messaging_product": "whatsapp", "details": details});
    }
    if let Some(subcode) = subcode {
        error["error_subcode"] = json!(subcode);
    }
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, axum::Json(json!({ "error": error }))).into_response()
}

fn invalid(state: &SinkState, code: i64, details: &str) -> Response {
    let mut detail = meta_error(code);
    detail.details = Some(details.to_owned());
    graph_error(state, 400, &detail, None)
}

/// Meta answers a missing or unparsable token with 401 and code 190.
fn unauthorized(state: &SinkState) -> Response {
    let detail = GraphErrorDetail {
        code: 190,
        title: None,
        message: Some("Invalid OAuth access token - Cannot parse access token".to_owned()),
        details: None,
    };
    graph_error(state, 401, &detail, None)
}

fn authorized(headers: &HeaderMap) -> bool {
    headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|token| !token.trim().is_empty())
}

/// The sink's routes, with `state` as their memory. Mount it anywhere: the
/// download URLs it hands out include the mount prefix.
pub fn router(state: SinkState) -> Router {
    Router::new()
        .route("/{version}/{phone_number_id}/messages", post(messages))
        .route(
            "/{version}/{phone_number_id}/media",
            post(upload).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
        .route(DOWNLOAD_PATH, get(download))
        .route("/{version}/{media_id}", get(media_info))
        .with_state(state)
}

/// The interactive counts Meta refuses outright (the client checks the rest).
fn check_interactive(interactive: &Value) -> Result<(), &'static str> {
    match interactive["type"].as_str() {
        Some("button") => {
            let count = interactive["action"]["buttons"]
                .as_array()
                .map_or(0, Vec::len);
            if (1..=3).contains(&count) {
                Ok(())
            } else {
                Err("interactive button messages need 1 to 3 buttons")
            }
        }
        Some("list") => {
            let rows: usize = interactive["action"]["sections"]
                .as_array()
                .map_or(0, |sections| {
                    sections
                        .iter()
                        .map(|s| s["rows"].as_array().map_or(0, Vec::len))
                        .sum()
                });
            if (1..=10).contains(&rows) {
                Ok(())
            } else {
                Err("interactive list messages need 1 to 10 rows in total")
            }
        }
        Some(_) => Ok(()),
        None => Err("interactive.type is required"),
    }
}

async fn messages(State(state): State<SinkState>, headers: HeaderMap, body: Bytes) -> Response {
    state.pause().await;
    if !authorized(&headers) {
        return unauthorized(&state);
    }
    let request: Value = match serde_json::from_slice(&body) {
        Ok(value @ Value::Object(_)) => value,
        _ => return invalid(&state, 100, "The request body must be a JSON object."),
    };
    if request["messaging_product"] != "whatsapp" {
        return invalid(
            &state,
            100,
            "The parameter messaging_product is required and must be \"whatsapp\".",
        );
    }
    if let Some(status) = request.get("status") {
        return mark_read(&state, status, request.clone());
    }
    let Some(to) = request["to"].as_str().filter(|to| !wa_id_of(to).is_empty()) else {
        return invalid(&state, 131008, "The parameter to is required.");
    };
    // Meta defaults a missing type to text.
    let kind = request["type"].as_str().unwrap_or("text");
    if !MESSAGE_TYPES.contains(&kind) {
        return invalid(
            &state,
            131009,
            "The parameter type is not a supported message type.",
        );
    }
    if !request[kind].is_object() {
        return invalid(
            &state,
            131008,
            "The message object named by type is required.",
        );
    }
    if kind == "interactive"
        && let Err(details) = check_interactive(&request["interactive"])
    {
        return invalid(&state, 131009, details);
    }
    let wa_id = wa_id_of(to);
    if let Some((status, detail)) = state.take_failure(&wa_id) {
        return graph_error(&state, status, &detail, None);
    }
    let input = to.to_owned();
    let is_template = kind == "template";
    let wamid = state.record(Some(wa_id.clone()), None, request);
    let mut message = json!({ "id": wamid });
    // Meta reports pacing status for template messages only.
    if is_template {
        message["message_status"] = json!("accepted");
    }
    axum::Json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": input, "wa_id": wa_id}],
        "messages": [message],
    }))
    .into_response()
}

fn mark_read(state: &SinkState, status: &Value, request: Value) -> Response {
    if status != "read" {
        return invalid(state, 131009, "The parameter status must be \"read\".");
    }
    let Some(message_id) = request["message_id"]
        .as_str()
        .filter(|id| !id.trim().is_empty())
    else {
        return invalid(state, 131008, "The parameter message_id is required.");
    };
    let message_id = message_id.to_owned();
    state.record(None, Some(message_id), request);
    axum::Json(json!({ "success": true })).into_response()
}

/// One part of a `multipart/form-data` body.
#[derive(Debug)]
struct FormPart {
    name: String,
    filename: Option<String>,
    content_type: Option<String>,
    data: Vec<u8>,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// A minimal RFC 7578 parser (our axum build has no multipart support):
/// enough for what HTTP clients send, `None` for anything malformed.
fn parse_multipart(content_type: &str, body: &[u8]) -> Option<Vec<FormPart>> {
    let (mime, params) = content_type.split_once(';')?;
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    let boundary = params
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))?
        .trim_matches('"');
    if boundary.is_empty() {
        return None;
    }
    let first = format!("--{boundary}");
    let next = format!("\r\n--{boundary}");
    let start = find(body, first.as_bytes())?;
    let mut rest = body.get(start + first.len()..)?;
    let mut parts = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        rest = rest.strip_prefix(b"\r\n")?;
        let end = find(rest, next.as_bytes())?;
        let (part, after) = rest.split_at(end);
        let header_end = find(part, b"\r\n\r\n")?;
        let head = std::str::from_utf8(part.get(..header_end)?).ok()?;
        let mut form_part = FormPart {
            name: String::new(),
            filename: None,
            content_type: None,
            data: part.get(header_end + 4..)?.to_vec(),
        };
        for line in head.split("\r\n") {
            let Some((header, value)) = line.split_once(':') else {
                continue;
            };
            if header.trim().eq_ignore_ascii_case("content-disposition") {
                for param in value.split(';').map(str::trim) {
                    if let Some(name) = param.strip_prefix("name=") {
                        form_part.name = name.trim_matches('"').to_owned();
                    } else if let Some(filename) = param.strip_prefix("filename=") {
                        form_part.filename = Some(filename.trim_matches('"').to_owned());
                    }
                }
            } else if header.trim().eq_ignore_ascii_case("content-type") {
                form_part.content_type = Some(value.trim().to_owned());
            }
        }
        parts.push(form_part);
        rest = after.get(next.len()..)?;
    }
}

async fn upload(State(state): State<SinkState>, headers: HeaderMap, body: Bytes) -> Response {
    state.pause().await;
    if !authorized(&headers) {
        return unauthorized(&state);
    }
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(parts) = parse_multipart(content_type, &body) else {
        return invalid(&state, 100, "The request must be multipart/form-data.");
    };
    let field = |name: &str| parts.iter().find(|p| p.name == name);
    let text = |name: &str| {
        field(name)
            .and_then(|p| std::str::from_utf8(&p.data).ok())
            .map(str::trim)
    };
    if text("messaging_product") != Some("whatsapp") {
        return invalid(
            &state,
            100,
            "The parameter messaging_product is required and must be \"whatsapp\".",
        );
    }
    let Some(file) = field("file") else {
        return invalid(&state, 131008, "The parameter file is required.");
    };
    let Some(mime_type) = text("type").filter(|t| t.contains('/')) else {
        return invalid(
            &state,
            131008,
            "The parameter type (the file's MIME type) is required.",
        );
    };
    if file
        .content_type
        .as_deref()
        .is_some_and(|c| !c.eq_ignore_ascii_case(mime_type))
    {
        return invalid(
            &state,
            131053,
            "The file's content type does not match the type parameter.",
        );
    }
    let id = state.store_media(SinkMedia {
        bytes: file.data.clone(),
        mime_type: mime_type.to_owned(),
        filename: file.filename.clone(),
    });
    axum::Json(json!({ "id": id })).into_response()
}

async fn media_info(
    State(state): State<SinkState>,
    Path((_version, media_id)): Path<(String, String)>,
    OriginalUri(original): OriginalUri,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    state.pause().await;
    if !authorized(&headers) {
        return unauthorized(&state);
    }
    let declared = state
        .lock()
        .media
        .get(&media_id)
        .map(|(media, declared)| (media.mime_type.clone(), declared.clone()));
    let Some((mime_type, declared)) = declared else {
        let detail = GraphErrorDetail {
            code: 100,
            title: None,
            message: Some(format!(
                "Unsupported get request. Object with ID '{media_id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation."
            )),
            details: None,
        };
        return graph_error(&state, 400, &detail, Some(33));
    };
    // Nested under a prefix (the simulator mounts us at /simulator/graph),
    // `uri` is relative to it and `original` is not: the difference is the prefix.
    let prefix = original.path().strip_suffix(uri.path()).unwrap_or("");
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let mut info = json!({
        "messaging_product": "whatsapp",
        "url": format!("http://{host}{prefix}{DOWNLOAD_PATH}?mid={media_id}"),
        "mime_type": mime_type,
        "id": media_id,
    });
    if let Some(sha256) = declared.sha256 {
        info["sha256"] = json!(sha256);
    }
    // Meta's reference shows file_size as a string.
    if let Some(size) = declared.file_size {
        info["file_size"] = json!(size.to_string());
    }
    axum::Json(info).into_response()
}

/// `?mid=` of a download URL.
#[derive(Debug, Deserialize)]
struct DownloadQuery {
    mid: String,
}

async fn download(
    State(state): State<SinkState>,
    Query(query): Query<DownloadQuery>,
    headers: HeaderMap,
) -> Response {
    state.pause().await;
    if !authorized(&headers) {
        return unauthorized(&state);
    }
    match state.media(&query.mid) {
        Some(media) => {
            let content_type = HeaderValue::from_str(&media.mime_type)
                .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
            (StatusCode::OK, [(CONTENT_TYPE, content_type)], media.bytes).into_response()
        }
        // Meta answers 404 for expired or unknown download URLs.
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    const TOKEN: &str = "Bearer EAAG-test";

    async fn call(app: Router, request: Request<Body>) -> (StatusCode, Value) {
        let response = app.oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    fn post_json(path: &str, body: &Value, auth: Option<&str>) -> Request<Body> {
        let mut builder = Request::post(path).header(CONTENT_TYPE, "application/json");
        if let Some(auth) = auth {
            builder = builder.header(AUTHORIZATION, auth);
        }
        builder
            .body(Body::from(serde_json::to_vec(body).unwrap()))
            .unwrap()
    }

    fn text_to(to: &str) -> Value {
        json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "text", "text": {"body": "hi"}})
    }

    #[tokio::test]
    async fn a_send_is_recorded_and_answered_in_metas_shape() {
        let state = SinkState::default();
        let (status, body) = call(
            router(state.clone()),
            post_json(
                "/v23.0/106540352242922/messages",
                &text_to("+1 555 0101"),
                Some(TOKEN),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["messaging_product"], "whatsapp");
        assert_eq!(
            body["contacts"],
            json!([{"input": "+1 555 0101", "wa_id": "15550101"}])
        );
        let wamid = body["messages"][0]["id"].as_str().unwrap();
        assert!(wamid.starts_with("wamid."));
        assert!(
            body["messages"][0].get("message_status").is_none(),
            "only templates carry a status"
        );
        let sent = state.sent_to("15550101");
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].wamid, wamid);
        assert_eq!(sent[0].request, text_to("+1 555 0101"));
        assert_eq!(
            state.sent_to("+15550101").len(),
            1,
            "lookups normalise like Meta"
        );
    }

    #[tokio::test]
    async fn templates_report_their_message_status() {
        let state = SinkState::default();
        let request = json!({"messaging_product": "whatsapp", "to": "1555", "type": "template",
            "template": {"name": "t", "language": {"code": "en_US"}}});
        let (_, body) = call(
            router(state),
            post_json("/v23.0/1/messages", &request, Some(TOKEN)),
        )
        .await;
        assert_eq!(body["messages"][0]["message_status"], "accepted");
    }

    #[tokio::test]
    async fn read_receipts_are_recorded_but_not_per_recipient() {
        let state = SinkState::default();
        let request =
            json!({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN1"});
        let (status, body) = call(
            router(state.clone()),
            post_json("/v23.0/1/messages", &request, Some(TOKEN)),
        )
        .await;
        assert_eq!((status, body), (StatusCode::OK, json!({"success": true})));
        let all = state.all();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].to, None);
        assert_eq!(all[0].wamid, "wamid.IN1");
        assert_eq!(state.sent_to_any(), all);
    }

    #[tokio::test]
    async fn a_missing_token_gets_metas_401() {
        let state = SinkState::default();
        for auth in [None, Some("Bearer "), Some("Basic abc")] {
            let (status, body) = call(
                router(state.clone()),
                post_json("/v23.0/1/messages", &text_to("1555"), auth),
            )
            .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            assert_eq!(body["error"]["code"], 190);
            assert_eq!(body["error"]["type"], "OAuthException");
            assert!(body["error"]["fbtrace_id"].is_string());
        }
        assert!(state.all().is_empty());
    }

    #[tokio::test]
    async fn malformed_requests_get_metas_error_body() {
        let state = SinkState::default();
        let app = || router(state.clone());
        let mut no_product = text_to("1555");
        no_product["messaging_product"] = json!("messenger");
        let (status, body) = call(
            app(),
            post_json("/v23.0/1/messages", &no_product, Some(TOKEN)),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"]["code"], 100);
        assert_eq!(body["error"]["error_data"]["messaging_product"], "whatsapp");

        let no_to = json!({"messaging_product": "whatsapp", "type": "text", "text": {"body": "x"}});
        let (_, body) = call(app(), post_json("/v23.0/1/messages", &no_to, Some(TOKEN))).await;
        assert_eq!(body["error"]["code"], 131008);

        let four_buttons = json!({"messaging_product": "whatsapp", "to": "1555", "type": "interactive",
            "interactive": {"type": "button", "body": {"text": "q"}, "action": {"buttons": [{}, {}, {}, {}]}}});
        let (_, body) = call(
            app(),
            post_json("/v23.0/1/messages", &four_buttons, Some(TOKEN)),
        )
        .await;
        assert_eq!(body["error"]["code"], 131009);
        assert_eq!(
            body["error"]["message"],
            "(#131009) Parameter value is not valid"
        );

        let request = Request::post("/v23.0/1/messages")
            .header(AUTHORIZATION, TOKEN)
            .body(Body::from("not json"))
            .unwrap();
        let (_, body) = call(app(), request).await;
        assert_eq!(body["error"]["code"], 100);
        assert!(state.all().is_empty());
    }

    #[tokio::test]
    async fn injected_failures_are_consumed_in_order() {
        let state = SinkState::default();
        state.fail_next("15550101", 131056, 400, 2);
        state.fail_next(ANY_RECIPIENT, 131000, 500, 1);
        let send = |to: &'static str| {
            let app = router(state.clone());
            async move {
                call(
                    app,
                    post_json("/v23.0/1/messages", &text_to(to), Some(TOKEN)),
                )
                .await
            }
        };
        let (status, body) = send("15550101").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"]["code"], 131056);
        assert_eq!(
            body["error"]["message"],
            "(#131056) (Business Account, Consumer Account) pair rate limit hit"
        );
        assert!(
            body["error"]["error_data"]["details"]
                .as_str()
                .unwrap()
                .contains("too many messages")
        );
        assert_eq!(send("15550101").await.1["error"]["code"], 131056);
        // Another recipient meets the wildcard failure, once.
        let (status, body) = send("15550202").await;
        assert_eq!(
            (status, body["error"]["code"].clone()),
            (StatusCode::INTERNAL_SERVER_ERROR, json!(131000))
        );
        assert_eq!(send("15550101").await.0, StatusCode::OK);
        assert_eq!(send("15550202").await.0, StatusCode::OK);
        assert_eq!(state.all().len(), 2, "failed sends are not recorded");
    }

    /// (name, filename, content type, data)
    type TestPart<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

    fn multipart(boundary: &str, parts: &[TestPart<'_>]) -> Vec<u8> {
        let mut body = Vec::new();
        for (name, filename, content_type, data) in parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            let filename = filename
                .map(|f| format!("; filename=\"{f}\""))
                .unwrap_or_default();
            body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"{filename}\r\n").as_bytes(),
            );
            if let Some(content_type) = content_type {
                body.extend_from_slice(format!("Content-Type: {content_type}\r\n").as_bytes());
            }
            body.extend_from_slice(b"\r\n");
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        body
    }

    #[test]
    fn multipart_bodies_are_split_into_parts() {
        // Binary data containing CRLF and dashes must survive.
        let data: &[u8] = b"\x89PNG\r\n--not-the-boundary\r\n\x00";
        let body = multipart(
            "XyZ",
            &[
                ("messaging_product", None, None, b"whatsapp"),
                ("file", Some("a.png"), Some("image/png"), data),
            ],
        );
        let parts = parse_multipart("multipart/form-data; boundary=XyZ", &body).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "messaging_product");
        assert_eq!(parts[0].data, b"whatsapp");
        assert_eq!(parts[1].filename.as_deref(), Some("a.png"));
        assert_eq!(parts[1].content_type.as_deref(), Some("image/png"));
        assert_eq!(parts[1].data, data);
        assert!(parse_multipart("application/json", &body).is_none());
        assert!(parse_multipart("multipart/form-data; boundary=other", &body).is_none());
    }

    #[tokio::test]
    async fn uploads_round_trip_through_the_download_url_under_a_mount_prefix() {
        let state = SinkState::default();
        let app = || Router::new().nest("/simulator/graph", router(state.clone()));
        let body = multipart(
            "b0undary",
            &[
                ("messaging_product", None, None, b"whatsapp"),
                ("type", None, None, b"image/jpeg"),
                ("file", Some("rash.jpg"), Some("image/jpeg"), b"JPEGDATA"),
            ],
        );
        let request = Request::post("/simulator/graph/v23.0/1/media")
            .header(AUTHORIZATION, TOKEN)
            .header(CONTENT_TYPE, "multipart/form-data; boundary=b0undary")
            .body(Body::from(body))
            .unwrap();
        let (status, uploaded) = call(app(), request).await;
        assert_eq!(status, StatusCode::OK, "{uploaded}");
        let id = uploaded["id"].as_str().unwrap().to_owned();
        assert_eq!(id.len(), 16);
        assert_eq!(
            state.media(&id).unwrap().filename.as_deref(),
            Some("rash.jpg")
        );

        let request = Request::get(format!("/simulator/graph/v23.0/{id}"))
            .header(AUTHORIZATION, TOKEN)
            .header(HOST, "127.0.0.1:8080")
            .body(Body::empty())
            .unwrap();
        let (_, info) = call(app(), request).await;
        assert_eq!(info["id"], id.as_str());
        assert_eq!(info["mime_type"], "image/jpeg");
        assert_eq!(info["file_size"], "8");
        assert_eq!(info["sha256"], hex::encode(Sha256::digest(b"JPEGDATA")));
        let url = info["url"].as_str().unwrap();
        assert_eq!(
            url,
            format!("http://127.0.0.1:8080/simulator/graph/whatsapp_business/attachments?mid={id}")
        );

        let path = url.trim_start_matches("http://127.0.0.1:8080");
        let response = app()
            .oneshot(
                Request::get(path)
                    .header(AUTHORIZATION, TOKEN)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[CONTENT_TYPE], "image/jpeg");
        assert_eq!(
            &axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap()[..],
            b"JPEGDATA"
        );
        let response = app()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "downloads need the token too"
        );
    }

    #[tokio::test]
    async fn unknown_media_gets_metas_error() {
        let state = SinkState::default();
        let request = Request::get("/v23.0/999")
            .header(AUTHORIZATION, TOKEN)
            .body(Body::empty())
            .unwrap();
        let (status, body) = call(router(state.clone()), request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            (
                body["error"]["code"].clone(),
                body["error"]["error_subcode"].clone()
            ),
            (json!(100), json!(33))
        );
        let request = Request::get(format!("{DOWNLOAD_PATH}?mid=999"))
            .header(AUTHORIZATION, TOKEN)
            .body(Body::empty())
            .unwrap();
        assert_eq!(
            router(state).oneshot(request).await.unwrap().status(),
            StatusCode::NOT_FOUND
        );
    }

    #[tokio::test]
    async fn uploads_without_the_required_fields_are_refused() {
        let state = SinkState::default();
        let upload = |parts: Vec<u8>| {
            let app = router(state.clone());
            async move {
                let request = Request::post("/v23.0/1/media")
                    .header(AUTHORIZATION, TOKEN)
                    .header(CONTENT_TYPE, "multipart/form-data; boundary=B")
                    .body(Body::from(parts))
                    .unwrap();
                call(app, request).await.1["error"]["code"].clone()
            }
        };
        assert_eq!(
            upload(multipart(
                "B",
                &[
                    ("type", None, None, b"image/png"),
                    ("file", None, None, b"x")
                ]
            ))
            .await,
            json!(100)
        );
        assert_eq!(
            upload(multipart(
                "B",
                &[
                    ("messaging_product", None, None, b"whatsapp"),
                    ("type", None, None, b"image/png")
                ]
            ))
            .await,
            json!(131008)
        );
        assert_eq!(
            upload(multipart(
                "B",
                &[
                    ("messaging_product", None, None, b"whatsapp"),
                    ("file", None, None, b"x")
                ]
            ))
            .await,
            json!(131008)
        );
    }

    #[test]
    fn debug_output_holds_no_message_bodies_or_media() {
        let state = SinkState::default();
        state.record(
            Some("1555".into()),
            None,
            json!({"text": {"body": "my chest hurts"}}),
        );
        let id = state.put_media(b"secret-photo".to_vec(), "image/jpeg");
        let debug = format!("{state:?} {:?}", state.media(&id).unwrap());
        assert!(
            !debug.contains("chest") && !debug.contains("secret-photo"),
            "{debug}"
        );
    }

    #[test]
    fn declarations_can_be_overridden_for_known_media_only() {
        let state = SinkState::default();
        let id = state.put_media(vec![1, 2, 3], "application/pdf");
        assert!(state.declare_media(
            &id,
            MediaDeclaration {
                file_size: Some(1),
                sha256: None
            }
        ));
        assert!(!state.declare_media("nope", MediaDeclaration::default()));
    }
}
