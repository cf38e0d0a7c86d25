//! Storage behind one interface with two real backends:
//! - production: Postgres (records, vectors) + Redis (queue, key-value, locks);
//! - embedded default: one SQLite file (WAL) with sqlite-vec doing all of it.
//!
//! The conformance suite in `server/tests/storage_conformance.rs` runs the same
//! cases against both, so they cannot drift apart.

pub mod channel;
mod error;
pub mod kv;
pub mod postgres;
pub mod queue;
pub mod records;
pub mod redis;
pub mod reports;
mod sql_channel;
mod sql_records;
mod sql_reports;
pub mod sqlite;

pub use channel::{ChannelStore, Contact, NewOutbox, OutboxRow, OutboxStatus};
pub use error::StorageError;
pub use kv::{KvStore, LockGuard};
pub use queue::{ClaimedJob, Enqueued, JobQueue, NewJob};
pub use records::{
    AppendOutcome, Conversation, ConversationStatus, Direction, Message, NewMessage, RecordStore,
};
pub use reports::{ApiToken, NewReport, ReportStatus, ReportStore, Role, StoredReport};

use std::sync::Arc;

use retrieval::VectorStore;
use secrecy::ExposeSecret;

use crate::config::{StorageBackend, StorageConfig};

/// Every store the server uses, for one backend.
#[derive(Debug, Clone)]
pub struct Storage {
    /// Patients' conversations and messages.
    pub records: Arc<dyn RecordStore>,
    /// Contacts and the outbox.
    pub channel: Arc<dyn ChannelStore>,
    /// Durable work queue with per-partition ordering.
    pub queue: Arc<dyn JobQueue>,
    /// Key-value with TTL: state, idempotency keys, rate limits, locks.
    pub kv: Arc<dyn KvStore>,
    /// Per-patient embeddings.
    pub vectors: Arc<dyn VectorStore>,
    /// Triage reports and the API tokens that guard them.
    pub reports: Arc<dyn ReportStore>,
    ops: Arc<dyn BackendOps>,
}

/// The state of one dependency, as `/readyz` reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ComponentHealth {
    /// `database`, `redis`, …
    pub name: String,
    /// Reachable and answering.
    pub ok: bool,
    /// What was seen (an error message when not ok).
    pub detail: String,
}

/// Backend-wide operations: health and housekeeping.
#[async_trait::async_trait]
pub trait BackendOps: Send + Sync + std::fmt::Debug {
    /// Asks each backing service whether it answers; one entry per service.
    async fn probe(&self) -> Vec<ComponentHealth>;
    /// Periodic housekeeping (sweeping expired rows); returns rows removed.
    async fn maintain(&self) -> Result<u64, StorageError>;
}

impl Storage {
    /// Connects (and migrates when `migrate`): SQLite creates its file; Postgres
    /// and Redis must be reachable.
    pub async fn open(config: &StorageConfig, migrate: bool) -> Result<Storage, StorageError> {
        match config.backend {
            StorageBackend::Sqlite => sqlite::open(config, migrate).await,
            StorageBackend::Postgres => {
                let pg_url = config
                    .postgres_url
                    .as_ref()
                    .ok_or(StorageError::Config("storage.postgres_url is not set"))?
                    .resolve()
                    .map_err(|e| StorageError::Secret(format!("storage.postgres_url: {e}")))?;
                let redis_url = config
                    .redis_url
                    .as_ref()
                    .ok_or(StorageError::Config("storage.redis_url is not set"))?
                    .resolve()
                    .map_err(|e| StorageError::Secret(format!("storage.redis_url: {e}")))?;
                postgres::open(
                    pg_url.expose_secret(),
                    redis_url.expose_secret(),
                    &config.redis_prefix,
                    config.max_connections,
                    migrate,
                )
                .await
            }
        }
    }

    /// Assembles a storage from its parts (used by the backends).
    pub(crate) fn from_parts(
        records: Arc<dyn RecordStore>,
        channel: Arc<dyn ChannelStore>,
        queue: Arc<dyn JobQueue>,
        kv: Arc<dyn KvStore>,
        vectors: Arc<dyn VectorStore>,
        reports: Arc<dyn ReportStore>,
        ops: Arc<dyn BackendOps>,
    ) -> Storage {
        Storage {
            records,
            channel,
            queue,
            kv,
            vectors,
            reports,
            ops,
        }
    }

    /// Probes every backing service.
    pub async fn health(&self) -> Vec<ComponentHealth> {
        self.ops.probe().await
    }

    /// Periodic housekeeping; returns how many expired rows were removed.
    pub async fn maintain(&self) -> Result<u64, StorageError> {
        self.ops.maintain().await
    }
}

/// The record, channel and report stores of one SQL backend, over its pool
/// (the trait impls are written once for both drivers, in `sql_*.rs`).
#[derive(Debug, Clone)]
pub struct SqlStore<P> {
    pool: P,
}

impl<P> SqlStore<P> {
    /// Uses an already migrated pool.
    pub fn new(pool: P) -> Self {
        Self { pool }
    }
}

/// Milliseconds since the Unix epoch, the time unit of leases and expiries.
pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A duration in milliseconds, saturating, at least 1 (a zero TTL would mean "forever" to Redis).
pub(crate) fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX).max(1)
}
