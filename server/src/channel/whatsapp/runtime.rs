//! The WhatsApp channel as configured: real Graph API credentials, or — with
//! none configured — the built-in local sink the simulator reads from.

use std::net::SocketAddr;
use std::time::Duration;

use secrecy::SecretString;

use super::graph::GraphClient;
use super::sink::SinkState;
use crate::config::{SecretRef, WhatsAppConfig};

/// Queue of inbound events (messages, statuses).
pub const EVENTS_QUEUE: &str = "whatsapp.events";
/// Queue of outbound work (sends, read receipts).
pub const OUTBOUND_QUEUE: &str = "whatsapp.outbound";
/// Queue of session timers (idle interviews).
pub const TIMERS_QUEUE: &str = "whatsapp.timers";
/// Channel name in records.
pub const CHANNEL: &str = "whatsapp";
/// Where the sink is mounted on our own server in simulator mode.
pub const SINK_PATH: &str = "/simulator/graph";
/// Business phone number id used in simulator mode.
pub const SIMULATOR_PHONE_NUMBER_ID: &str = "100000000000001";

/// Policy knobs of the channel.
#[derive(Debug, Clone)]
pub struct ChannelSettings {
    /// Template for re-engaging outside the 24-hour window: (name, language).
    pub reengagement_template: Option<(String, String)>,
    /// Business-number throughput limit.
    pub max_messages_per_second: u32,
    /// Gap between two messages to one patient.
    pub recipient_interval: Duration,
    /// How long message ids are remembered for dedupe.
    pub dedupe_retention: Duration,
    /// Idle time after which an unfinished interview is closed.
    pub session_timeout: Duration,
}

/// Everything the webhook routes and workers need to talk WhatsApp.
#[derive(Debug, Clone)]
pub struct WhatsApp {
    /// HMAC key of `X-Hub-Signature-256`.
    pub app_secret: SecretString,
    /// Token of the verification handshake.
    pub verify_token: SecretString,
    /// Our business number id.
    pub phone_number_id: String,
    /// Graph API client (Meta's, or the local sink's).
    pub graph: GraphClient,
    /// The local sink, in simulator mode.
    pub sink: Option<SinkState>,
    /// Policy.
    pub settings: ChannelSettings,
    /// Serve `/simulator`.
    pub simulator_enabled: bool,
}

/// A configured secret that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("whatsapp.{key}: {reason}")]
pub struct ChannelConfigError {
    key: &'static str,
    reason: String,
}

fn secret(
    key: &'static str,
    value: Option<&SecretRef>,
) -> Result<SecretString, ChannelConfigError> {
    value
        .ok_or_else(|| ChannelConfigError {
            key,
            reason: "is required".to_owned(),
        })?
        .resolve()
        .map_err(|e| ChannelConfigError {
            key,
            reason: e.to_string(),
        })
}

impl WhatsApp {
    /// Builds the channel. `own_addr` is where this server listens: in
    /// simulator mode the Graph client points at the sink mounted there.
    pub fn from_config(
        config: &WhatsAppConfig,
        own_addr: SocketAddr,
        http: reqwest::Client,
    ) -> Result<WhatsApp, ChannelConfigError> {
        let settings = ChannelSettings {
            reengagement_template: config
                .reengagement_template
                .clone()
                .map(|name| (name, config.reengagement_template_language.clone())),
            max_messages_per_second: config.max_messages_per_second.max(1),
            recipient_interval: Duration::from_millis(config.recipient_interval_ms),
            dedupe_retention: Duration::from_secs(config.dedupe_retention_hours.max(1) * 3600),
            session_timeout: Duration::from_secs(config.session_timeout_secs.max(1)),
        };
        if config.is_configured() {
            let phone_number_id = config.phone_number_id.clone().ok_or(ChannelConfigError {
                key: "phone_number_id",
                reason: "is required".to_owned(),
            })?;
            let access_token = secret("access_token", config.access_token.as_ref())?;
            let graph = GraphClient::new(
                http,
                &config.graph_api_base,
                &config.api_version,
                &phone_number_id,
                access_token,
            );
            return Ok(WhatsApp {
                app_secret: secret("app_secret", config.app_secret.as_ref())?,
                verify_token: secret("verify_token", config.verify_token.as_ref())?,
                phone_number_id,
                graph,
                sink: None,
                settings,
                simulator_enabled: config.simulator.unwrap_or(false),
            });
        }
        // Simulator mode: a fresh random app secret per process; only our own
        // simulator (which signs with it) can post webhooks.
        let app_secret = SecretString::from(hex::encode(rand::random::<[u8; 32]>()));
        let token = SecretString::from("simulator".to_owned());
        let base = format!("http://{own_addr}{SINK_PATH}");
        let graph = GraphClient::new(
            http,
            &base,
            &config.api_version,
            SIMULATOR_PHONE_NUMBER_ID,
            token,
        );
        Ok(WhatsApp {
            app_secret,
            verify_token: SecretString::from(hex::encode(rand::random::<[u8; 16]>())),
            phone_number_id: SIMULATOR_PHONE_NUMBER_ID.to_owned(),
            graph,
            sink: Some(SinkState::default()),
            settings,
            simulator_enabled: config.simulator.unwrap_or(true),
        })
    }
}
