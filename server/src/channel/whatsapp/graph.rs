//! The Graph API client for the WhatsApp Cloud API: send messages, mark
//! inbound messages read, upload and download media. One concrete client
//! with a configurable base URL: Meta's `https://graph.facebook.com`, or the
//! local [`sink`](super::sink) in simulator mode and tests.
//!
//! Every request carries a timeout (10 s unless configured), and every
//! failure is a [`GraphError`] whose [`class`](GraphError::class) tells the
//! sender what to do about it. Nothing here logs: the token is a
//! [`SecretString`] (redacted in `Debug`), and message bodies and media never
//! appear in errors.
//!
//! Sources (Meta, WhatsApp Business Platform / Cloud API):
//! - Messages API — `POST /{Version}/{Phone-Number-ID}/messages`, response
//!   `{messaging_product, contacts[{input, wa_id}], messages[{id, message_status?}]}`:
//!   <https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/text-messages/>
//! - "Mark messages as read" — `{"messaging_product": "whatsapp", "status": "read", "message_id": …}`:
//!   <https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/mark-message-as-read/>
//! - "Media" — upload (`POST /{Phone-Number-ID}/media`, multipart `file`, `type`,
//!   `messaging_product` → `{"id"}`), retrieve URL (`GET /{Media-ID}` →
//!   `{url, mime_type, sha256, file_size, id, messaging_product}`), download
//!   (GET the URL with the same bearer token; it expires after 5 minutes):
//!   <https://developers.facebook.com/documentation/business-messaging/whatsapp/business-phone-numbers/media/>
//! - "Error codes" — error body `{"error": {message, type, code, error_subcode,
//!   error_data: {messaging_product, details}, fbtrace_id}}`; build on `code`
//!   and `details`, not on titles or subcodes (deprecated since v16.0):
//!   <https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes>

use std::time::Duration;

use reqwest::header::RETRY_AFTER;
use reqwest::multipart::{Form, Part};
use reqwest::{RequestBuilder, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::event::GraphErrorDetail;
use super::message::{MessageError, OutboundMessage};

/// Per-request timeout unless [`GraphClient::with_timeout`] says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// JSON responses (sends, media URLs, errors) are small; refuse anything bigger.
const MAX_JSON_BYTES: u64 = 1024 * 1024;

/// What a failure means for whoever retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureClass {
    /// Transient: try again with back-off.
    Retryable,
    /// Too many messages to this one patient (131056): wait before the next.
    RecipientRateLimited,
    /// Our number or app is over its rate (130429, 131048, 80007, 4, 613, HTTP 429): slow down.
    ThroughputRateLimited,
    /// More than 24 hours since the patient's last message (131047): only a
    /// template may be sent.
    OutsideWindow,
    /// WhatsApp cannot deliver to this number (131026): do not retry.
    Undeliverable,
    /// A request Meta will never accept as it is: do not retry.
    Permanent,
}

/// Meta's error codes, by what to do about them. One table, the only place
/// a code is interpreted:
///
/// | code | Meta's title | class |
/// |---|---|---|
/// | 131056 | (Business Account, Consumer Account) pair rate limit hit | `RecipientRateLimited` |
/// | 130429 | Rate limit hit (throughput) | `ThroughputRateLimited` |
/// | 131048 | Spam rate limit hit | `ThroughputRateLimited` |
/// | 80007 | Rate limit issues (WABA) | `ThroughputRateLimited` |
/// | 4, 613 | API Too Many Calls / call rate limit (app) | `ThroughputRateLimited` |
/// | 131047 | Re-engagement message | `OutsideWindow` |
/// | 131026 | Message Undeliverable | `Undeliverable` |
/// | 1, 2 | API Unknown / API Service (downtime, overload) | `Retryable` |
/// | 131000, 131016, 133004 | Something went wrong / Service unavailable / Server temporarily unavailable | `Retryable` |
/// | 100, 190, 368, 131008, 131009, 131053 | Invalid parameter / token expired / policy block / missing or invalid parameter / media upload error | `Permanent` |
/// | any other code | — | HTTP 429 → `ThroughputRateLimited`; 5xx → `Retryable`; else `Permanent` |
fn classify(status: u16, code: i64) -> FailureClass {
    match code {
        131056 => FailureClass::RecipientRateLimited,
        130429 | 131048 | 80007 | 4 | 613 => FailureClass::ThroughputRateLimited,
        131047 => FailureClass::OutsideWindow,
        131026 => FailureClass::Undeliverable,
        1 | 2 | 131000 | 131016 | 133004 => FailureClass::Retryable,
        // Listed so that an odd HTTP status cannot make them retryable.
        100 | 190 | 368 | 131008 | 131009 | 131053 => FailureClass::Permanent,
        _ if status == 429 => FailureClass::ThroughputRateLimited,
        _ if status >= 500 => FailureClass::Retryable,
        _ => FailureClass::Permanent,
    }
}

/// A Graph API call that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// Meta answered with an error body (or a non-2xx status without one: code 0).
    #[error("Graph API error {} (HTTP {}): {}", .detail.code, .status, describe(.detail))]
    Api {
        /// HTTP status.
        status: u16,
        /// `code`, title, `message` and `error_data.details`.
        detail: GraphErrorDetail,
        /// `error_subcode`, when Meta still sends one.
        subcode: Option<i64>,
        /// `Retry-After`, when given.
        retry_after: Option<Duration>,
    },
    /// No complete answer within the timeout.
    #[error("Graph API request timed out")]
    Timeout,
    /// Connection, TLS or protocol failure.
    #[error("Graph API unreachable: {0}")]
    Transport(String),
    /// A 2xx answer we cannot use. Not retried: the request may have succeeded.
    #[error("unexpected Graph API response: {0}")]
    InvalidResponse(String),
    /// Media over the caller's limit; refused before reading the rest.
    #[error("media exceeds the {max}-byte limit{}", .declared.map(|d| format!(" (declared {d} bytes)")).unwrap_or_default())]
    TooLarge {
        /// `file_size` as declared by Meta, when that is what gave it away.
        declared: Option<u64>,
        /// The caller's limit.
        max: u64,
    },
    /// The downloaded bytes do not hash to the declared SHA-256.
    #[error("downloaded media does not match its declared SHA-256")]
    ChecksumMismatch,
    /// The message breaks a documented limit; nothing was sent.
    #[error("message refused before sending: {0}")]
    InvalidMessage(#[from] MessageError),
    /// Arguments no request can be built from (media id, MIME type); nothing was sent.
    #[error("request refused before sending: {0}")]
    InvalidRequest(String),
}

fn describe(detail: &GraphErrorDetail) -> String {
    match (&detail.message, &detail.details) {
        (Some(message), Some(details)) => format!("{message}: {details}"),
        (Some(text), None) | (None, Some(text)) => text.clone(),
        (None, None) => "no message".to_owned(),
    }
}

impl GraphError {
    /// What to do about this failure (see the table on `classify`).
    pub fn class(&self) -> FailureClass {
        match self {
            GraphError::Api { status, detail, .. } => classify(*status, detail.code),
            GraphError::Timeout | GraphError::Transport(_) => FailureClass::Retryable,
            GraphError::InvalidResponse(_)
            | GraphError::TooLarge { .. }
            | GraphError::ChecksumMismatch
            | GraphError::InvalidMessage(_)
            | GraphError::InvalidRequest(_) => FailureClass::Permanent,
        }
    }
}

/// A message Meta accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    /// Its WhatsApp message id; delivery statuses refer to it.
    pub wamid: String,
}

/// Downloaded media, size-capped and checksum-verified.
#[derive(Clone, PartialEq, Eq)]
pub struct DownloadedMedia {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// MIME type as declared by Meta.
    pub mime_type: String,
    /// SHA-256 as declared by Meta (verified when present).
    pub sha256_declared: Option<String>,
}

impl std::fmt::Debug for DownloadedMedia {
    // A patient's photo or report: never print the bytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DownloadedMedia")
            .field("len", &self.bytes.len())
            .field("mime_type", &self.mime_type)
            .field("sha256_declared", &self.sha256_declared)
            .finish()
    }
}

/// Client for one business phone number.
#[derive(Debug, Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    base_url: String,
    api_version: String,
    phone_number_id: String,
    /// `Debug` prints `[REDACTED]`.
    access_token: SecretString,
    timeout: Duration,
}

#[derive(Deserialize)]
struct SendResponse {
    #[serde(default)]
    messages: Vec<SentId>,
}

#[derive(Deserialize)]
struct SentId {
    id: String,
}

#[derive(Deserialize)]
struct SuccessResponse {
    #[serde(default)]
    success: bool,
}

#[derive(Deserialize)]
struct UploadResponse {
    id: String,
}

/// `file_size` is a string in Meta's reference and a number in some answers.
#[derive(Deserialize)]
#[serde(untagged)]
enum FileSize {
    Number(u64),
    Text(String),
}

impl FileSize {
    fn bytes(&self) -> Option<u64> {
        match self {
            FileSize::Number(n) => Some(*n),
            FileSize::Text(s) => s.trim().parse().ok(),
        }
    }
}

#[derive(Deserialize)]
struct MediaInfo {
    url: String,
    mime_type: String,
    #[serde(default)]
    sha256: Option<String>,
    #[serde(default)]
    file_size: Option<FileSize>,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    code: i64,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    error_subcode: Option<i64>,
    #[serde(default)]
    error_user_title: Option<String>,
    #[serde(default)]
    error_data: Option<Value>,
}

fn transport(error: reqwest::Error) -> GraphError {
    if error.is_timeout() {
        GraphError::Timeout
    } else {
        // The URL may carry media ids; the message is enough.
        GraphError::Transport(error.without_url().to_string())
    }
}

/// Reads a body, stopping as soon as it exceeds `max` bytes (`None`).
async fn read_capped(mut response: Response, max: u64) -> Result<Option<Vec<u8>>, GraphError> {
    if response.content_length().is_some_and(|len| len > max) {
        return Ok(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        let total = u64::try_from(body.len() + chunk.len()).unwrap_or(u64::MAX);
        if total > max {
            // Dropping the response closes the connection: the rest is never read.
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

async fn read_json<T: DeserializeOwned>(response: Response) -> Result<T, GraphError> {
    let body = read_capped(response, MAX_JSON_BYTES)
        .await?
        .ok_or_else(|| {
            GraphError::InvalidResponse(format!("response body over {MAX_JSON_BYTES} bytes"))
        })?;
    serde_json::from_slice(&body)
        .map_err(|e| GraphError::InvalidResponse(format!("undecodable JSON: {e}")))
}

/// Turns an error answer into [`GraphError::Api`].
fn parse_api_error(status: u16, retry_after: Option<Duration>, body: &[u8]) -> GraphError {
    match serde_json::from_slice::<ErrorEnvelope>(body) {
        Ok(ErrorEnvelope { error }) => {
            // Meta puts the code's title in `message` as "(#code) Title".
            let title = error.error_user_title.clone().or_else(|| {
                error
                    .message
                    .as_deref()
                    .and_then(|m| m.strip_prefix(&format!("(#{}) ", error.code)))
                    .map(str::to_owned)
            });
            let details = error
                .error_data
                .as_ref()
                .and_then(|d| d.get("details"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            GraphError::Api {
                status,
                detail: GraphErrorDetail {
                    code: error.code,
                    title,
                    message: error.message,
                    details,
                },
                subcode: error.error_subcode,
                retry_after,
            }
        }
        // A proxy's HTML 502 still says something: the status decides the class.
        Err(_) => GraphError::Api {
            status,
            detail: GraphErrorDetail {
                code: 0,
                title: None,
                message: Some(format!("HTTP {status} without a Graph API error body")),
                details: None,
            },
            subcode: None,
            retry_after,
        },
    }
}

async fn api_error(response: Response) -> GraphError {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    match read_capped(response, MAX_JSON_BYTES).await {
        Ok(body) => parse_api_error(status, retry_after, &body.unwrap_or_default()),
        Err(e) => e,
    }
}

/// Meta's media ids are digits; anything that could change the path (or
/// send our token elsewhere) is refused.
fn check_media_id(media_id: &str) -> Result<(), GraphError> {
    if !media_id.is_empty()
        && media_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        Ok(())
    } else {
        Err(GraphError::InvalidRequest(
            "media id must be letters, digits, `_` or `-`".to_owned(),
        ))
    }
}

/// Standard base64 without padding.
fn base64_unpadded(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | (u32::from(b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// The media URL endpoint declares lowercase hex; webhook payloads carry the
/// same hash base64-encoded. Either is accepted.
fn sha256_matches(bytes: &[u8], declared: &str) -> bool {
    let digest = Sha256::digest(bytes);
    let declared = declared.trim();
    if declared.len() == 64 && declared.bytes().all(|b| b.is_ascii_hexdigit()) {
        return declared.eq_ignore_ascii_case(&hex::encode(digest));
    }
    let standard = declared
        .trim_end_matches('=')
        .replace('-', "+")
        .replace('_', "/");
    standard == base64_unpadded(&digest[..])
}

impl GraphClient {
    /// A client for `phone_number_id` at `base_url` (e.g. `https://graph.facebook.com`)
    /// and `api_version` (e.g. `v23.0`), with the default timeout.
    pub fn new(
        http: reqwest::Client,
        base_url: &str,
        api_version: &str,
        phone_number_id: &str,
        access_token: SecretString,
    ) -> Self {
        Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_version: api_version.trim_matches('/').to_owned(),
            phone_number_id: phone_number_id.to_owned(),
            access_token,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The same client with another per-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}/{path}", self.base_url, self.api_version)
    }

    async fn execute(&self, request: RequestBuilder) -> Result<Response, GraphError> {
        let response = request
            .bearer_auth(self.access_token.expose_secret())
            .timeout(self.timeout)
            .send()
            .await
            .map_err(transport)?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(api_error(response).await)
        }
    }

    /// Sends `message` (checked against the documented limits first).
    pub async fn send(&self, message: &OutboundMessage) -> Result<SentMessage, GraphError> {
        message.validate()?;
        let url = self.url(&format!("{}/messages", self.phone_number_id));
        let response = self
            .execute(self.http.post(url).json(&message.to_graph_json()))
            .await?;
        let sent: SendResponse = read_json(response).await?;
        sent.messages
            .into_iter()
            .next()
            .map(|m| m.id)
            .filter(|id| !id.is_empty())
            .map(|wamid| SentMessage { wamid })
            .ok_or_else(|| {
                GraphError::InvalidResponse("no `messages[0].id` in the send response".to_owned())
            })
    }

    /// Marks the inbound message `wamid` (and earlier ones) as read.
    pub async fn mark_read(&self, wamid: &str) -> Result<(), GraphError> {
        let url = self.url(&format!("{}/messages", self.phone_number_id));
        let body = json!({"messaging_product": "whatsapp", "status": "read", "message_id": wamid});
        let response = self.execute(self.http.post(url).json(&body)).await?;
        let answer: SuccessResponse = read_json(response).await?;
        if answer.success {
            Ok(())
        } else {
            Err(GraphError::InvalidResponse(
                "mark-as-read answered without `success: true`".to_owned(),
            ))
        }
    }

    /// Uploads media for sending; returns its media id (valid for 30 days).
    pub async fn upload_media(
        &self,
        bytes: Vec<u8>,
        mime_type: &str,
        filename: &str,
    ) -> Result<String, GraphError> {
        let invalid_mime =
            || GraphError::InvalidRequest(format!("`{mime_type}` is not a MIME type"));
        if !mime_type.contains('/') {
            return Err(invalid_mime());
        }
        let file = Part::bytes(bytes)
            .file_name(filename.to_owned())
            .mime_str(mime_type)
            .map_err(|_| invalid_mime())?;
        let form = Form::new()
            .text("messaging_product", "whatsapp")
            .text("type", mime_type.to_owned())
            .part("file", file);
        let url = self.url(&format!("{}/media", self.phone_number_id));
        let response = self.execute(self.http.post(url).multipart(form)).await?;
        let uploaded: UploadResponse = read_json(response).await?;
        if uploaded.id.is_empty() {
            return Err(GraphError::InvalidResponse(
                "empty media id in the upload response".to_owned(),
            ));
        }
        Ok(uploaded.id)
    }

    /// Downloads media by id, refusing more than `max_bytes` (by the declared
    /// `file_size`, then by counting the body) and verifying the declared SHA-256.
    pub async fn download_media(
        &self,
        media_id: &str,
        max_bytes: u64,
    ) -> Result<DownloadedMedia, GraphError> {
        check_media_id(media_id)?;
        let info: MediaInfo =
            read_json(self.execute(self.http.get(self.url(media_id))).await?).await?;
        let declared = info.file_size.as_ref().and_then(FileSize::bytes);
        if let Some(size) = declared.filter(|size| *size > max_bytes) {
            return Err(GraphError::TooLarge {
                declared: Some(size),
                max: max_bytes,
            });
        }
        // Meta's download URL wants the same bearer token as the API.
        let response = self.execute(self.http.get(&info.url)).await?;
        let bytes = read_capped(response, max_bytes)
            .await?
            .ok_or(GraphError::TooLarge {
                declared: None,
                max: max_bytes,
            })?;
        if let Some(sha256) = &info.sha256
            && !sha256_matches(&bytes, sha256)
        {
            return Err(GraphError::ChecksumMismatch);
        }
        Ok(DownloadedMedia {
            bytes,
            mime_type: info.mime_type,
            sha256_declared: info.sha256,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::whatsapp::message::{ListRow, ListSection, OutboundBody, ReplyButton};
    use crate::channel::whatsapp::sink::{self, MediaDeclaration, SinkState};

    const TOKEN: &str = "EAAG-secret-test-token";
    const PATIENT: &str = "15551230101";

    struct Fake {
        state: SinkState,
        base: String,
        task: tokio::task::JoinHandle<()>,
    }

    impl Drop for Fake {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    async fn fake() -> Fake {
        let state = SinkState::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = sink::router(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Fake { state, base, task }
    }

    fn client(fake: &Fake) -> GraphClient {
        client_with_token(fake, TOKEN)
    }

    fn client_with_token(fake: &Fake, token: &str) -> GraphClient {
        GraphClient::new(
            reqwest::Client::new(),
            &format!("{}/", fake.base),
            "v23.0",
            "106540352242922",
            SecretString::from(token.to_owned()),
        )
    }

    fn text(body: &str) -> OutboundMessage {
        OutboundMessage::new(PATIENT, OutboundBody::text(body).unwrap()).unwrap()
    }

    fn api_code(error: &GraphError) -> Option<i64> {
        match error {
            GraphError::Api { detail, .. } => Some(detail.code),
            _ => None,
        }
    }

    #[tokio::test]
    async fn every_message_type_arrives_exactly_as_rendered() {
        let fake = fake().await;
        let client = client(&fake);
        let image_id = client
            .upload_media(b"PNGDATA".to_vec(), "image/png", "map.png")
            .await
            .unwrap();
        let document_id = client
            .upload_media(b"%PDF-1.7".to_vec(), "application/pdf", "summary.pdf")
            .await
            .unwrap();
        let bodies = vec![
            OutboundBody::text("Hello").unwrap(),
            OutboundBody::buttons(
                Some("Check".into()),
                "Any fever?",
                None,
                vec![ReplyButton::new("yes", "Yes"), ReplyButton::new("no", "No")],
            )
            .unwrap(),
            OutboundBody::list(
                None,
                "Where does it hurt?",
                Some("Pick one".into()),
                "Choose",
                vec![ListSection::new(
                    "Body",
                    vec![ListRow::new("head", "Head", None)],
                )],
            )
            .unwrap(),
            OutboundBody::template("triage_follow_up", "en_US", Vec::new()).unwrap(),
            OutboundBody::image(image_id, Some("Clinic map".into())).unwrap(),
            OutboundBody::document(document_id, Some("summary.pdf".into()), None).unwrap(),
        ];
        let mut expected = Vec::new();
        for body in bodies {
            let message = OutboundMessage::new(PATIENT, body)
                .unwrap()
                .replying_to("wamid.IN");
            let sent = client.send(&message).await.unwrap();
            assert!(sent.wamid.starts_with("wamid."), "{sent:?}");
            expected.push((sent.wamid, message.to_graph_json()));
        }
        let received: Vec<_> = fake
            .state
            .sent_to(PATIENT)
            .into_iter()
            .map(|r| (r.wamid, r.request))
            .collect();
        assert_eq!(received, expected);
    }

    #[tokio::test]
    async fn read_receipts_reach_the_sink() {
        let fake = fake().await;
        client(&fake).mark_read("wamid.INBOUND1").await.unwrap();
        let all = fake.state.all();
        assert_eq!(all.len(), 1);
        assert_eq!(
            all[0].request,
            json!({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.INBOUND1"})
        );
    }

    #[tokio::test]
    async fn meta_error_codes_map_to_their_failure_class() {
        let fake = fake().await;
        let client = client(&fake);
        let cases = [
            (131047, 400, FailureClass::OutsideWindow),
            (131026, 400, FailureClass::Undeliverable),
            (130429, 400, FailureClass::ThroughputRateLimited),
            (131056, 400, FailureClass::RecipientRateLimited),
            (131000, 500, FailureClass::Retryable),
            (2, 503, FailureClass::Retryable),
            (190, 401, FailureClass::Permanent),
            (131009, 400, FailureClass::Permanent),
        ];
        for (code, status, class) in cases {
            fake.state.fail_next(PATIENT, code, status, 1);
            let error = client.send(&text("hello")).await.unwrap_err();
            match &error {
                GraphError::Api {
                    status: got,
                    detail,
                    ..
                } => {
                    assert_eq!((*got, detail.code), (status, code));
                    assert!(
                        detail.details.is_some(),
                        "error_data.details is read: {detail:?}"
                    );
                }
                other => panic!("expected an API error, got {other:?}"),
            }
            assert_eq!(error.class(), class, "code {code}");
        }
        // Each injection was consumed once: the next send goes through.
        client.send(&text("hello")).await.unwrap();
        assert_eq!(fake.state.sent_to(PATIENT).len(), 1);
    }

    #[tokio::test]
    async fn a_slow_answer_is_a_retryable_timeout() {
        let fake = fake().await;
        fake.state.set_delay(Duration::from_millis(500));
        let client = client(&fake).with_timeout(Duration::from_millis(50));
        let error = client.send(&text("hello")).await.unwrap_err();
        assert!(matches!(error, GraphError::Timeout), "{error:?}");
        assert_eq!(error.class(), FailureClass::Retryable);
    }

    #[tokio::test]
    async fn a_missing_token_is_metas_401_code_190_and_permanent() {
        let fake = fake().await;
        let error = client_with_token(&fake, "")
            .send(&text("hello"))
            .await
            .unwrap_err();
        match &error {
            GraphError::Api { status, detail, .. } => {
                assert_eq!((*status, detail.code), (401, 190))
            }
            other => panic!("expected an API error, got {other:?}"),
        }
        assert_eq!(error.class(), FailureClass::Permanent);
        // And without any Authorization header at all, straight from the wire.
        let response = reqwest::Client::new()
            .post(format!("{}/v23.0/106540352242922/messages", fake.base))
            .json(&text("hello").to_graph_json())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 401);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], 190);
        assert_eq!(body["error"]["type"], "OAuthException");
        assert!(fake.state.all().is_empty());
    }

    #[tokio::test]
    async fn media_round_trips_with_its_checksum() {
        let fake = fake().await;
        let client = client(&fake);
        let bytes = b"%PDF-1.7 lab results".to_vec();
        let id = client
            .upload_media(bytes.clone(), "application/pdf", "labs.pdf")
            .await
            .unwrap();
        let stored = fake.state.media(&id).unwrap();
        assert_eq!(
            (stored.mime_type.as_str(), stored.filename.as_deref()),
            ("application/pdf", Some("labs.pdf"))
        );
        let max = u64::try_from(bytes.len()).unwrap();
        let media = client.download_media(&id, max).await.unwrap();
        assert_eq!(media.bytes, bytes);
        assert_eq!(media.mime_type, "application/pdf");
        assert_eq!(
            media.sha256_declared,
            Some(hex::encode(Sha256::digest(&bytes)))
        );
        // The simulator's path: media put straight into the sink.
        let photo = fake.state.put_media(vec![7; 64], "image/jpeg");
        assert_eq!(
            client.download_media(&photo, 64).await.unwrap().bytes,
            vec![7; 64]
        );
    }

    #[tokio::test]
    async fn oversized_media_is_refused_by_declaration_and_by_counting() {
        let fake = fake().await;
        let client = client(&fake);
        let id = fake.state.put_media(vec![0; 1000], "image/jpeg");
        let error = client.download_media(&id, 999).await.unwrap_err();
        assert!(
            matches!(
                error,
                GraphError::TooLarge {
                    declared: Some(1000),
                    max: 999
                }
            ),
            "{error:?}"
        );
        assert_eq!(error.class(), FailureClass::Permanent);
        // A declaration that lies (or is missing) is caught while reading.
        fake.state.declare_media(
            &id,
            MediaDeclaration {
                file_size: Some(10),
                sha256: None,
            },
        );
        let error = client.download_media(&id, 999).await.unwrap_err();
        assert!(
            matches!(
                error,
                GraphError::TooLarge {
                    declared: None,
                    max: 999
                }
            ),
            "{error:?}"
        );
        fake.state.declare_media(&id, MediaDeclaration::default());
        assert!(matches!(
            client.download_media(&id, 999).await,
            Err(GraphError::TooLarge { .. })
        ));
        assert_eq!(
            client.download_media(&id, 1000).await.unwrap().bytes.len(),
            1000
        );
    }

    #[tokio::test]
    async fn a_checksum_mismatch_is_refused() {
        let fake = fake().await;
        let client = client(&fake);
        let id = fake.state.put_media(b"photo".to_vec(), "image/jpeg");
        let wrong = hex::encode(Sha256::digest(b"another photo"));
        fake.state.declare_media(
            &id,
            MediaDeclaration {
                file_size: Some(5),
                sha256: Some(wrong),
            },
        );
        let error = client.download_media(&id, 1024).await.unwrap_err();
        assert!(matches!(error, GraphError::ChecksumMismatch), "{error:?}");
        // The base64 form webhooks use is verified too.
        let base64 = format!("{}=", base64_unpadded(&Sha256::digest(b"photo")[..]));
        fake.state.declare_media(
            &id,
            MediaDeclaration {
                file_size: None,
                sha256: Some(base64),
            },
        );
        client.download_media(&id, 1024).await.unwrap();
    }

    #[tokio::test]
    async fn unknown_media_is_a_permanent_api_error() {
        let fake = fake().await;
        let error = client(&fake)
            .download_media("404404", 10)
            .await
            .unwrap_err();
        assert_eq!(api_code(&error), Some(100));
        assert_eq!(error.class(), FailureClass::Permanent);
    }

    #[tokio::test]
    async fn bad_arguments_never_reach_the_network() {
        let fake = fake().await;
        let client = client(&fake);
        let mut message = text("hello");
        message.body = OutboundBody::Buttons {
            header: None,
            body: "q".into(),
            footer: None,
            buttons: (0..4)
                .map(|i| ReplyButton::new(format!("{i}"), format!("{i}")))
                .collect(),
        };
        let error = client.send(&message).await.unwrap_err();
        assert!(
            matches!(
                error,
                GraphError::InvalidMessage(MessageError::Count { count: 4, .. })
            ),
            "{error:?}"
        );
        assert_eq!(error.class(), FailureClass::Permanent);
        for id in ["", "../106540352242922/messages", "1?x=y", "a/b"] {
            assert!(
                matches!(
                    client.download_media(id, 10).await,
                    Err(GraphError::InvalidRequest(_))
                ),
                "{id}"
            );
        }
        assert!(matches!(
            client.upload_media(vec![1], "not a mime", "x").await,
            Err(GraphError::InvalidRequest(_))
        ));
        assert!(fake.state.all().is_empty());
    }

    #[tokio::test]
    async fn an_unreachable_graph_is_a_retryable_transport_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let client = GraphClient::new(
            reqwest::Client::new(),
            &base,
            "v23.0",
            "1",
            SecretString::from(TOKEN.to_owned()),
        );
        let error = client.send(&text("hello")).await.unwrap_err();
        assert!(matches!(error, GraphError::Transport(_)), "{error:?}");
        assert_eq!(error.class(), FailureClass::Retryable);
    }

    #[test]
    fn the_token_never_appears_in_debug_output() {
        let client = GraphClient::new(
            reqwest::Client::new(),
            "https://graph.facebook.com",
            "v23.0",
            "1",
            SecretString::from(TOKEN.to_owned()),
        );
        let debug = format!("{client:?}");
        assert!(!debug.contains(TOKEN), "{debug}");
        assert!(debug.contains("REDACTED"), "{debug}");
    }

    #[test]
    fn error_bodies_are_read_like_meta_writes_them() {
        let body = br#"{"error": {"message": "(#131047) Re-engagement message", "type": "OAuthException",
            "code": 131047, "error_subcode": 2494010,
            "error_data": {"messaging_product": "whatsapp", "details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."},
            "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam"}}"#;
        let error = parse_api_error(400, Some(Duration::from_secs(3)), body);
        let GraphError::Api {
            status,
            detail,
            subcode,
            retry_after,
        } = &error
        else {
            panic!("expected an API error, got {error:?}");
        };
        assert_eq!(
            (*status, *subcode, *retry_after),
            (400, Some(2_494_010), Some(Duration::from_secs(3)))
        );
        assert_eq!(detail.code, 131047);
        assert_eq!(detail.title.as_deref(), Some("Re-engagement message"));
        assert_eq!(
            detail.message.as_deref(),
            Some("(#131047) Re-engagement message")
        );
        assert!(detail.details.as_deref().unwrap().contains("24 hours"));
        assert_eq!(error.class(), FailureClass::OutsideWindow);
        assert!(
            error.to_string().starts_with(
                "Graph API error 131047 (HTTP 400): (#131047) Re-engagement message: "
            )
        );
    }

    #[test]
    fn non_graph_error_bodies_are_classified_by_status() {
        for (status, class) in [
            (502, FailureClass::Retryable),
            (429, FailureClass::ThroughputRateLimited),
            (404, FailureClass::Permanent),
        ] {
            let error = parse_api_error(status, None, b"<html>Bad Gateway</html>");
            assert_eq!(api_code(&error), Some(0));
            assert_eq!(error.class(), class, "HTTP {status}");
        }
    }

    #[test]
    fn the_classification_table() {
        let cases = [
            (131056, 400, FailureClass::RecipientRateLimited),
            (130429, 400, FailureClass::ThroughputRateLimited),
            (131048, 400, FailureClass::ThroughputRateLimited),
            (80007, 400, FailureClass::ThroughputRateLimited),
            (4, 400, FailureClass::ThroughputRateLimited),
            (613, 400, FailureClass::ThroughputRateLimited),
            (131047, 400, FailureClass::OutsideWindow),
            (131026, 400, FailureClass::Undeliverable),
            (1, 400, FailureClass::Retryable),
            (2, 503, FailureClass::Retryable),
            (131000, 500, FailureClass::Retryable),
            (131016, 503, FailureClass::Retryable),
            (100, 500, FailureClass::Permanent),
            (190, 401, FailureClass::Permanent),
            (368, 403, FailureClass::Permanent),
            (131008, 400, FailureClass::Permanent),
            (131009, 400, FailureClass::Permanent),
            (131053, 400, FailureClass::Permanent),
            (131049, 400, FailureClass::Permanent),
            (999_999, 429, FailureClass::ThroughputRateLimited),
            (999_999, 500, FailureClass::Retryable),
        ];
        for (code, status, class) in cases {
            assert_eq!(classify(status, code), class, "code {code}, HTTP {status}");
        }
        assert_eq!(GraphError::Timeout.class(), FailureClass::Retryable);
        assert_eq!(
            GraphError::InvalidResponse(String::new()).class(),
            FailureClass::Permanent
        );
        assert_eq!(
            GraphError::ChecksumMismatch.class(),
            FailureClass::Permanent
        );
    }

    #[test]
    fn checksums_are_compared_as_hex_or_base64() {
        let digest = Sha256::digest(b"abc");
        let hex = hex::encode(digest);
        assert!(sha256_matches(b"abc", &hex));
        assert!(sha256_matches(b"abc", &hex.to_uppercase()));
        // RFC 4648 test vector for SHA-256("abc").
        assert!(sha256_matches(
            b"abc",
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        ));
        assert!(sha256_matches(
            b"abc",
            "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
        ));
        assert!(!sha256_matches(b"abd", &hex));
        assert!(!sha256_matches(b"abc", "not a hash"));
        assert_eq!(base64_unpadded(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_unpadded(b"fo"), "Zm8");
        assert_eq!(base64_unpadded(b"f"), "Zg");
    }

    #[test]
    fn file_size_may_be_a_string_or_a_number() {
        let info: MediaInfo =
            serde_json::from_value(json!({"url": "u", "mime_type": "m", "file_size": "303833"}))
                .unwrap();
        assert_eq!(info.file_size.and_then(|f| f.bytes()), Some(303_833));
        let info: MediaInfo =
            serde_json::from_value(json!({"url": "u", "mime_type": "m", "file_size": 12})).unwrap();
        assert_eq!(info.file_size.and_then(|f| f.bytes()), Some(12));
    }
}
