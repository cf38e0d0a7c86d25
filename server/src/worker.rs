//! The worker loop: claim a job, handle it while keeping its lease alive, ack.
//!
//! Shutdown has two steps: `stop` makes workers finish the job in hand and
//! claim no more; `abort` (fired after the grace period) abandons the job in
//! hand and releases it, so another node picks it up at once instead of after
//! the lease runs out.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::storage::{ClaimedJob, JobQueue, StorageError};

/// What went wrong handling a job.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Worth retrying (a dependency is down): redelivered after a backoff.
    #[error("transient failure: {0}")]
    Transient(String),
    /// Will never succeed (malformed payload): dead-lettered at once.
    #[error("permanent failure: {0}")]
    Permanent(String),
    /// Not now (rate limit, pacing): redelivered after exactly this delay.
    #[error("deferred for {0:?}: {1}")]
    RetryAfter(Duration, String),
}

/// Processes the jobs of one queue.
#[async_trait]
pub trait JobHandler: Send + Sync {
    /// Handles one job. It may be a redelivery (`job.attempts > 1`): handlers
    /// must be idempotent.
    async fn handle(&self, job: &ClaimedJob) -> Result<(), HandlerError>;
}

/// How a worker behaves.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Queue to consume.
    pub queue: String,
    /// Consumer name (for diagnostics).
    pub consumer: String,
    /// Lease per claim; renewed every third of it while the handler runs.
    pub lease: Duration,
    /// Deliveries before a failing job is dead-lettered.
    pub max_attempts: u32,
    /// Longest sleep when the queue is empty.
    pub max_idle: Duration,
}

impl WorkerOptions {
    /// The same options with another delivery limit.
    pub fn with_max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts;
        self
    }
}

impl WorkerOptions {
    /// Defaults for `queue`.
    pub fn new(queue: &str, consumer: &str, lease: Duration) -> Self {
        Self {
            queue: queue.to_owned(),
            consumer: consumer.to_owned(),
            lease,
            max_attempts: 8,
            max_idle: Duration::from_millis(200),
        }
    }
}

/// Shutdown signals for workers.
#[derive(Debug, Clone, Default)]
pub struct Shutdown {
    /// Stop claiming; finish the job in hand.
    pub stop: CancellationToken,
    /// Abandon the job in hand and release it.
    pub abort: CancellationToken,
}

/// Backoff before a transient failure is retried: 1 s, 2 s, 4 s … 256 s at most.
fn retry_delay(attempts: u32) -> Duration {
    Duration::from_secs(1u64 << attempts.saturating_sub(1).min(8)).min(Duration::from_secs(300))
}

/// Runs until `shutdown.stop` fires.
pub async fn run(
    queue: Arc<dyn JobQueue>,
    handler: Arc<dyn JobHandler>,
    options: WorkerOptions,
    shutdown: Shutdown,
) {
    let mut idle = Duration::from_millis(5);
    while !shutdown.stop.is_cancelled() {
        match queue
            .claim(&options.queue, &options.consumer, options.lease)
            .await
        {
            Ok(Some(job)) => {
                idle = Duration::from_millis(5);
                process(queue.as_ref(), handler.as_ref(), &options, &shutdown, job).await;
            }
            Ok(None) => {
                tokio::select! {
                    () = tokio::time::sleep(idle) => {}
                    () = shutdown.stop.cancelled() => {}
                }
                idle = (idle * 2).min(options.max_idle);
            }
            Err(e) => {
                tracing::warn!(queue = %options.queue, error = %e, "claim failed; backing off");
                tokio::select! {
                    () = tokio::time::sleep(options.max_idle.max(Duration::from_millis(500))) => {}
                    () = shutdown.stop.cancelled() => {}
                }
            }
        }
    }
}

async fn process(
    queue: &dyn JobQueue,
    handler: &dyn JobHandler,
    options: &WorkerOptions,
    shutdown: &Shutdown,
    job: ClaimedJob,
) {
    let started = Instant::now();
    let queue_label = options.queue.clone();
    if job.attempts > options.max_attempts {
        let reason = format!("gave up after {} deliveries", options.max_attempts);
        report(queue.dead_letter(&job, &reason).await, &job, "dead-letter");
        metrics::counter!("triage_jobs_total", "queue" => queue_label, "outcome" => "dead_lettered").increment(1);
        return;
    }
    let outcome = {
        let handling = handler.handle(&job);
        tokio::pin!(handling);
        let mut heartbeat = tokio::time::interval(options.lease / 3);
        heartbeat.tick().await;
        loop {
            tokio::select! {
                result = &mut handling => break Some(result),
                () = shutdown.abort.cancelled() => break None,
                _ = heartbeat.tick() => {
                    if let Err(e) = queue.extend(&job, options.lease).await {
                        tracing::warn!(queue = %options.queue, job = %job.id, error = %e, "could not extend lease");
                    }
                }
            }
        }
    };
    let label = match outcome {
        Some(Ok(())) => {
            report(queue.ack(&job).await, &job, "ack");
            "ok"
        }
        Some(Err(HandlerError::Permanent(reason))) => {
            tracing::warn!(queue = %options.queue, job = %job.id, %reason, "job failed permanently");
            report(queue.dead_letter(&job, &reason).await, &job, "dead-letter");
            "dead_lettered"
        }
        Some(Err(HandlerError::Transient(reason))) => {
            let delay = retry_delay(job.attempts);
            tracing::warn!(queue = %options.queue, job = %job.id, attempts = job.attempts, %reason, retry_in = ?delay, "job failed; will retry");
            report(queue.release(&job, delay).await, &job, "release");
            "retried"
        }
        Some(Err(HandlerError::RetryAfter(delay, reason))) => {
            tracing::debug!(queue = %options.queue, job = %job.id, %reason, retry_in = ?delay, "job deferred");
            report(queue.release(&job, delay).await, &job, "release");
            "deferred"
        }
        None => {
            tracing::info!(queue = %options.queue, job = %job.id, "shutting down: releasing job in hand");
            report(queue.release(&job, Duration::ZERO).await, &job, "release");
            "released"
        }
    };
    metrics::counter!("triage_jobs_total", "queue" => queue_label.clone(), "outcome" => label)
        .increment(1);
    metrics::histogram!("triage_job_duration_seconds", "queue" => queue_label)
        .record(started.elapsed().as_secs_f64());
}

fn report(result: Result<(), StorageError>, job: &ClaimedJob, what: &str) {
    match result {
        Ok(()) => {}
        // Another consumer owns the job now; it will do the work again, and
        // handlers are idempotent, so nothing is lost.
        Err(StorageError::LeaseLost { .. }) => {
            tracing::warn!(queue = %job.queue, job = %job.id, what, "lease was lost before finishing");
        }
        Err(e) => {
            tracing::error!(queue = %job.queue, job = %job.id, what, error = %e, "queue update failed")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_grow_and_are_capped() {
        assert_eq!(retry_delay(1), Duration::from_secs(1));
        assert_eq!(retry_delay(2), Duration::from_secs(2));
        assert_eq!(retry_delay(4), Duration::from_secs(8));
        assert_eq!(retry_delay(40), Duration::from_secs(256));
    }
}
