//! A durable work queue with per-partition ordering.
//!
//! Jobs are enqueued under a partition key (the conversation). A consumer
//! claims the oldest job of a partition nobody holds, with a lease; until it
//! acks, releases or the lease expires, no one else gets any job of that
//! partition. So two messages of one patient are never processed concurrently
//! or out of order, while different patients spread over any number of workers.
//! A consumer that dies leaves its lease to expire, and the job is redelivered
//! (with `attempts` counting deliveries). An ack from a consumer whose lease
//! was taken over is refused with `LeaseLost`, so a job is never acknowledged
//! twice by two consumers that both believed they held it.
//!
//! Redis Streams consumer groups were considered (DESIGN.md names them), but
//! they spread a stream's entries over consumers without regard to the
//! conversation, so ordering would need a second lock per conversation anyway;
//! a lease per partition gives ordering, redelivery and fan-out in one place,
//! and the same semantics on both backends.

use std::time::Duration;

use async_trait::async_trait;

use super::StorageError;

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    /// Queue name (e.g. `events`).
    pub queue: &'a str,
    /// Ordering key: jobs with the same key run one at a time, in order.
    pub partition: &'a str,
    /// Opaque payload.
    pub payload: &'a [u8],
    /// Drop the job if this key was seen within `ttl` (e.g. a WhatsApp message id).
    pub dedupe: Option<Dedupe<'a>>,
}

/// Idempotent enqueue: the key is remembered atomically with the job.
#[derive(Debug, Clone, Copy)]
pub struct Dedupe<'a> {
    /// Idempotency key.
    pub key: &'a str,
    /// How long the key is remembered.
    pub ttl: Duration,
}

/// What `enqueue` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enqueued {
    /// Stored durably under this job id.
    Accepted(String),
    /// The dedupe key was already seen: nothing was stored.
    Duplicate,
}

/// A job held by one consumer under a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    /// Queue name.
    pub queue: String,
    /// Job id (unique within the queue).
    pub id: String,
    /// Its partition.
    pub partition: String,
    /// The payload as enqueued.
    pub payload: Vec<u8>,
    /// Deliveries so far, this one included (1 on first delivery).
    pub attempts: u32,
    /// Proof of the lease; required to ack, release or extend.
    pub lease_token: String,
    /// When the job was enqueued (ms since epoch).
    pub enqueued_at_ms: i64,
}

/// A durable queue with per-partition leases.
#[async_trait]
pub trait JobQueue: Send + Sync + std::fmt::Debug {
    /// Stores a job durably (or reports a duplicate). Returns only after the
    /// job would survive a crash of this process.
    async fn enqueue(&self, job: NewJob<'_>) -> Result<Enqueued, StorageError>;

    /// Claims the oldest job of a partition that nobody holds, leased to
    /// `consumer` for `lease`. `None` when there is nothing to do.
    async fn claim(
        &self,
        queue: &str,
        consumer: &str,
        lease: Duration,
    ) -> Result<Option<ClaimedJob>, StorageError>;

    /// Marks the job done and frees its partition. `LeaseLost` if the lease
    /// expired and another consumer has claimed the job since.
    async fn ack(&self, job: &ClaimedJob) -> Result<(), StorageError>;

    /// Gives the job back without finishing it: it is redelivered after
    /// `delay` (zero for at once, e.g. on graceful shutdown).
    async fn release(&self, job: &ClaimedJob, delay: Duration) -> Result<(), StorageError>;

    /// Extends the lease of a job still being worked on.
    async fn extend(&self, job: &ClaimedJob, lease: Duration) -> Result<(), StorageError>;

    /// Removes a job that keeps failing so its partition can move on; it is
    /// kept in the queue's dead-letter list with the reason.
    async fn dead_letter(&self, job: &ClaimedJob, reason: &str) -> Result<(), StorageError>;

    /// Jobs enqueued and not yet acked or dead-lettered.
    async fn depth(&self, queue: &str) -> Result<u64, StorageError>;

    /// Dead-lettered jobs of a queue, newest first: (job id, reason).
    async fn dead_letters(
        &self,
        queue: &str,
        limit: usize,
    ) -> Result<Vec<(String, String)>, StorageError>;
}
