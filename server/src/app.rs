//! Starting and stopping the server: HTTP, the storage connection (retried
//! until it succeeds), workers and housekeeping.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use anyhow::Context;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::task::TaskTracker;

use crate::channel::whatsapp::processor::EventProcessor;
use crate::channel::whatsapp::runtime::{EVENTS_QUEUE, OUTBOUND_QUEUE, TIMERS_QUEUE, WhatsApp};
use crate::channel::whatsapp::sender::OutboundSender;
use crate::channel::whatsapp::session::SessionTimers;
use crate::config::Config;
use crate::model::Model;
use crate::storage::Storage;
use crate::worker::{self, JobHandler, Shutdown, WorkerOptions};
use crate::{http, telemetry};

/// What every request handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The loaded configuration.
    pub config: Arc<Config>,
    /// Storage, once connected.
    pub storage: StorageSlot,
    /// Outbound HTTP client (probes, later the Graph API and model endpoints).
    pub http: reqwest::Client,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// The WhatsApp channel (real credentials or the simulator's sink).
    pub whatsapp: Arc<WhatsApp>,
    /// Where this server listens (the simulator posts webhooks to itself).
    pub own_addr: SocketAddr,
    /// The model consulted after the rules, if one is configured.
    pub model: Option<Model>,
    /// Why the configured model could not be loaded (the rules answer alone;
    /// `/readyz` reports it).
    pub model_error: Option<Arc<str>>,
}

/// Storage that may not be connected yet: the server starts serving (and
/// answering `/readyz` with 503) while the database is still coming up.
#[derive(Debug, Clone, Default)]
pub struct StorageSlot {
    inner: Arc<SlotInner>,
}

#[derive(Debug, Default)]
struct SlotInner {
    storage: OnceLock<Storage>,
    last_error: Mutex<String>,
}

impl StorageSlot {
    /// A slot already holding `storage`.
    pub fn ready(storage: Storage) -> Self {
        let slot = Self::default();
        slot.fill(storage);
        slot
    }

    /// The storage, if connected.
    pub fn get(&self) -> Option<&Storage> {
        self.inner.storage.get()
    }

    /// Why it is not connected yet.
    pub fn last_error(&self) -> String {
        match self.inner.last_error.lock() {
            Ok(e) if e.is_empty() => "connecting".to_owned(),
            Ok(e) => e.clone(),
            Err(_) => "connecting".to_owned(),
        }
    }

    fn fill(&self, storage: Storage) {
        let _ = self.inner.storage.set(storage);
    }

    fn record_error(&self, error: String) {
        if let Ok(mut slot) = self.inner.last_error.lock() {
            *slot = error;
        }
    }
}

/// What `start` runs besides HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartOptions {
    /// Run queue workers in this process (off for ingest benchmarks and for
    /// tests that drive workers by hand).
    pub workers: bool,
}

impl Default for StartOptions {
    fn default() -> Self {
        Self { workers: true }
    }
}

/// The workers of every queue, for a storage.
pub fn handlers(
    storage: &Storage,
    whatsapp: &Arc<WhatsApp>,
    model: Option<Model>,
) -> Vec<(WorkerOptions, Arc<dyn JobHandler>)> {
    let lease = Duration::from_secs(30);
    vec![
        (
            WorkerOptions::new(EVENTS_QUEUE, "", lease),
            Arc::new(EventProcessor::new(
                storage.clone(),
                whatsapp.clone(),
                model,
            )) as Arc<dyn JobHandler>,
        ),
        (
            // Pacing defers jobs without failing them: allow many deliveries;
            // the sender gives up on its own after repeated send failures.
            WorkerOptions::new(OUTBOUND_QUEUE, "", lease).with_max_attempts(1000),
            Arc::new(OutboundSender::new(storage.clone(), whatsapp.clone())) as Arc<dyn JobHandler>,
        ),
        (
            // Timers defer themselves until due: many deliveries are normal.
            WorkerOptions::new(TIMERS_QUEUE, "", lease).with_max_attempts(u32::MAX),
            Arc::new(SessionTimers::new(storage.clone(), whatsapp.clone())) as Arc<dyn JobHandler>,
        ),
    ]
}

/// A server running in this process.
#[derive(Debug)]
pub struct RunningServer {
    /// Where it listens (the real port when configured with port 0).
    pub addr: SocketAddr,
    /// Its state (tests reach storage through it).
    pub state: AppState,
    shutdown: Shutdown,
    task: JoinHandle<anyhow::Result<()>>,
}

impl RunningServer {
    /// Graceful shutdown: stop accepting, finish in-flight requests and jobs
    /// (releasing jobs still running after the grace period), then return.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.shutdown.stop.cancel();
        self.task.await.context("server task panicked")?
    }

    /// Waits until storage is connected (tests), up to `timeout`.
    pub async fn wait_for_storage(&self, timeout: Duration) -> Option<Storage> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(storage) = self.state.storage.get() {
                return Some(storage.clone());
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Binds the listener and starts everything in the background.
pub async fn start(config: Config, options: StartOptions) -> anyhow::Result<RunningServer> {
    // Invalid triage knowledge is a build defect: refuse to start rather
    // than answer patients without the red-flag rules.
    agent::Agent::shared().context("the bundled triage knowledge is invalid")?;
    let listener = TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {} (server.listen)", config.server.listen))?;
    let addr = listener.local_addr()?;
    let http = reqwest::Client::builder()
        .user_agent(concat!("triage/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("cannot build the HTTP client")?;
    let whatsapp = WhatsApp::from_config(&config.whatsapp, addr, http.clone())?;
    if whatsapp.sink.is_some() {
        tracing::info!(
            "no WhatsApp credentials configured: replies go to the simulator's local sink"
        );
    }
    // A model that cannot be loaded does not stop the server: the rules
    // answer every patient; `/readyz` says what is wrong.
    let loaded = {
        let model_config = config.model.clone();
        let http = http.clone();
        tokio::task::spawn_blocking(move || crate::model::from_config(&model_config, http))
            .await
            .context("model loading was interrupted")?
    };
    let (model, model_error) = match loaded {
        Ok(Some(m)) => {
            tracing::info!(
                model = m.advisor.model_name(),
                extraction = m.extraction,
                "model loaded"
            );
            (Some(m), None)
        }
        Ok(None) => (None, None),
        Err(e) => {
            tracing::error!(error = %e, "the configured model cannot be used; answering with the rules only");
            (None, Some(Arc::from(e.to_string())))
        }
    };
    let state = AppState {
        config: Arc::new(config),
        storage: StorageSlot::default(),
        http,
        metrics: telemetry::metrics_handle(),
        whatsapp: Arc::new(whatsapp),
        own_addr: addr,
        model,
        model_error,
    };
    let shutdown = Shutdown::default();
    let tracker = TaskTracker::new();

    tracker.spawn(connect_then_run(
        state.clone(),
        options,
        shutdown.clone(),
        tracker.clone(),
    ));

    // After the grace period, abandon whatever is still running.
    let grace = state.config.server.shutdown_grace();
    let abort_timer = {
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            shutdown.stop.cancelled().await;
            tokio::time::sleep(grace).await;
            shutdown.abort.cancel();
        })
    };

    let app = http::router(state.clone());
    let task = {
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let serving = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown.stop.clone().cancelled_owned());
            tokio::select! {
                result = serving => result.context("HTTP server failed")?,
                // Requests still open after the grace period are cut.
                () = async { shutdown.abort.cancelled().await; tokio::time::sleep(Duration::from_secs(1)).await } => {
                    tracing::warn!("in-flight requests outlived the shutdown grace period");
                }
            }
            tracker.close();
            tracker.wait().await;
            abort_timer.abort();
            tracing::info!("shutdown complete");
            Ok(())
        })
    };
    Ok(RunningServer {
        addr,
        state,
        shutdown,
        task,
    })
}

/// Connects storage with exponential backoff (never crash-looping on a
/// database that is still starting), then starts workers and housekeeping.
async fn connect_then_run(
    state: AppState,
    options: StartOptions,
    shutdown: Shutdown,
    tracker: TaskTracker,
) {
    let config = &state.config;
    let mut delay = Duration::from_millis(250);
    let storage = loop {
        match Storage::open(&config.storage, config.storage.auto_migrate).await {
            Ok(storage) => break storage,
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?delay, "storage not reachable yet");
                state.storage.record_error(e.to_string());
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = shutdown.stop.cancelled() => return,
                }
                delay = (delay * 2).min(Duration::from_secs(30));
            }
        }
    };
    tracing::info!(backend = ?config.storage.backend, "storage connected");
    state.storage.fill(storage.clone());

    if options.workers {
        for (template, handler) in handlers(&storage, &state.whatsapp, state.model.clone()) {
            for n in 0..config.server.workers.max(1) {
                let mut worker_options = template.clone();
                worker_options.consumer = format!(
                    "{}-{}-{}-{n}",
                    hostname(),
                    std::process::id(),
                    template.queue
                );
                worker_options.lease = config.server.lease();
                tracker.spawn(worker::run(
                    storage.queue.clone(),
                    handler.clone(),
                    worker_options,
                    shutdown.clone(),
                ));
            }
        }
    }

    let metrics = state.metrics.clone();
    tracker.spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    metrics.run_upkeep();
                    if let Err(e) = storage.maintain().await {
                        tracing::warn!(error = %e, "storage housekeeping failed");
                    }
                }
                () = shutdown.stop.cancelled() => return,
            }
        }
    });
}

/// This host's name, for consumer names in diagnostics (`$HOSTNAME` is
/// usually not exported to services; the kernel's name always exists on Linux).
fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "triage".to_owned())
}
