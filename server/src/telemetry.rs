//! Logs and metrics. Logs never carry message bodies at info level, and phone
//! numbers only masked ([`mask_phone`]).

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Installs the global log subscriber (once; later calls are no-ops).
/// `RUST_LOG` wins over `log.level`.
pub fn init_logging(config: &LogConfig) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // Err means a subscriber is already installed (tests start many servers).
    let _ = match config.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Latency buckets (seconds) for every `*_seconds` histogram: webhook ingest
/// targets single-digit milliseconds, model calls take seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The process-wide Prometheus recorder, installed on first use.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), LATENCY_BUCKETS)
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder was installed first; then our
            // handle renders an empty page rather than crashing the server.
            let _ = metrics::set_global_recorder(recorder);
            metrics::gauge!("triage_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
            handle
        })
        .clone()
}

/// Masks a phone number or WhatsApp id for logs: keeps the country-code end
/// and the last two digits (`+4915…67` → `+49*******67`).
pub fn mask_phone(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 6 {
        return "*".repeat(digits.len().max(3));
    }
    let head: String = digits[..2].iter().collect();
    let tail: String = digits[digits.len() - 2..].iter().collect();
    format!("+{head}{}{tail}", "*".repeat(digits.len() - 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_keep_only_prefix_and_last_two_digits() {
        assert_eq!(mask_phone("+15551234567"), "+15*******67");
        assert_eq!(mask_phone("4915112345678"), "+49*********78");
        assert_eq!(mask_phone("123"), "***");
        assert!(!mask_phone("+447700900123").contains("7700900"));
    }
}
