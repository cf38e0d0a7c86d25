//! The embedded backend: one SQLite file in WAL mode does the work of Postgres
//! and Redis, with sqlite-vec for vectors.

use std::str::FromStr;
use std::sync::{Arc, Once};
use std::time::Duration;

use async_trait::async_trait;
use retrieval::SqliteVecStore;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::queue::Dedupe;
use super::sql_channel::{outbox_columns, sql_channel_store};
use super::sql_records::sql_record_store;
use super::sql_reports::{disposition_rank, report_columns, report_order, sql_report_store};
use super::{
    BackendOps, ClaimedJob, ComponentHealth, Enqueued, JobQueue, KvStore, NewJob, SqlStore,
    Storage, StorageError, millis, now_ms,
};
use crate::config::StorageConfig;

/// The embedded migrations.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

sql_channel_store!(SqlStore<SqlitePool>);

sql_record_store!(SqlStore<SqlitePool>);

sql_report_store!(SqlStore<SqlitePool>);

/// Makes sqlite-vec available to every SQLite connection this process opens.
#[expect(
    unsafe_code,
    reason = "registering a statically linked SQLite extension is an FFI call"
)]
fn register_sqlite_vec() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        type ExtensionInit = unsafe extern "C" fn(
            *mut libsqlite3_sys::sqlite3,
            *mut *mut std::os::raw::c_char,
            *const libsqlite3_sys::sqlite3_api_routines,
        ) -> std::os::raw::c_int;
        // SAFETY: sqlite3_vec_init has the standard extension entry-point
        // signature; the crate declares it without arguments, hence the cast.
        // sqlite3_auto_extension only stores the pointer.
        unsafe {
            let init = std::mem::transmute::<*const (), ExtensionInit>(
                sqlite_vec::sqlite3_vec_init as *const (),
            );
            libsqlite3_sys::sqlite3_auto_extension(Some(init));
        }
    });
}

/// Opens (creating if needed) the database file and, when `migrate`, applies migrations.
pub async fn open(config: &StorageConfig, migrate: bool) -> Result<Storage, StorageError> {
    if let Some(parent) = config
        .sqlite_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)?;
    }
    let url = format!("sqlite://{}", config.sqlite_path.display());
    let pool = connect(&url, config.max_connections).await?;
    if migrate {
        MIGRATOR.run(&pool).await?;
    }
    // The queue and key-value store are write-heavy and on the webhook's hot
    // path: one dedicated connection queues their writers fairly in the pool
    // instead of letting them collide on SQLite's lock and sleep in its busy
    // handler (which showed up as 60 ms p99 spikes in the ingest benchmark).
    let writer = connect(&url, 1).await?;
    Ok(from_pools(pool, writer))
}

/// A pool on `url` with the pragmas the queue relies on.
pub async fn connect(url: &str, max_connections: u32) -> Result<SqlitePool, StorageError> {
    register_sqlite_vec();
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // WAL + NORMAL survives a process crash (every commit is in the WAL);
        // only an OS crash can lose the last transactions.
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true);
    Ok(SqlitePoolOptions::new()
        .max_connections(max_connections.max(1))
        .connect_with(options)
        .await?)
}

/// Every store over a migrated pool, with the queue and key-value store on
/// `writer` (a single-connection pool on the same file).
pub fn from_pools(pool: SqlitePool, writer: SqlitePool) -> Storage {
    Storage::from_parts(
        Arc::new(SqlStore::new(pool.clone())),
        Arc::new(SqlStore::new(pool.clone())),
        Arc::new(SqliteQueue {
            pool: writer.clone(),
        }),
        Arc::new(SqliteKv { pool: writer }),
        Arc::new(SqliteVecStore::new(pool.clone())),
        Arc::new(SqlStore::new(pool.clone())),
        Arc::new(SqliteOps { pool }),
    )
}

#[derive(Debug)]
struct SqliteOps {
    pool: SqlitePool,
}

#[async_trait]
impl BackendOps for SqliteOps {
    async fn probe(&self) -> Vec<ComponentHealth> {
        let result = sqlx::query("SELECT 1").execute(&self.pool).await;
        vec![ComponentHealth {
            name: "database".to_owned(),
            ok: result.is_ok(),
            detail: match result {
                Ok(_) => "sqlite answering".to_owned(),
                Err(e) => e.to_string(),
            },
        }]
    }

    async fn maintain(&self) -> Result<u64, StorageError> {
        // Redis expires keys by itself; here expired rows are swept.
        let done = sqlx::query("DELETE FROM kv WHERE expires_at IS NOT NULL AND expires_at <= $1")
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

/// The queue in SQLite tables. Every state change runs in a `BEGIN IMMEDIATE`
/// transaction, so SQLite's single writer serialises claims.
#[derive(Debug, Clone)]
pub struct SqliteQueue {
    pool: SqlitePool,
}

fn job_id(job: &ClaimedJob) -> Result<i64, StorageError> {
    job.id
        .parse()
        .map_err(|_| StorageError::Corrupt(format!("sqlite job id `{}`", job.id)))
}

fn lease_lost(job: &ClaimedJob) -> StorageError {
    StorageError::LeaseLost {
        job: job.id.clone(),
    }
}

#[async_trait]
impl JobQueue for SqliteQueue {
    async fn enqueue(&self, job: NewJob<'_>) -> Result<Enqueued, StorageError> {
        let now = now_ms();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        if let Some(Dedupe { key, ttl }) = job.dedupe {
            let fresh = sqlx::query(
                "INSERT INTO kv (key, value, expires_at) VALUES ($1, x'31', $2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
                 WHERE kv.expires_at IS NOT NULL AND kv.expires_at <= $3",
            )
            .bind(format!("dedupe:{}:{key}", job.queue))
            .bind(now.saturating_add(millis(ttl)))
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if fresh == 0 {
                tx.rollback().await?;
                return Ok(Enqueued::Duplicate);
            }
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO queue_jobs (queue, partition_key, payload, enqueued_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(job.queue)
        .bind(job.partition)
        .bind(job.payload)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Enqueued::Accepted(id.to_string()))
    }

    async fn claim(
        &self,
        queue: &str,
        consumer: &str,
        lease: Duration,
    ) -> Result<Option<ClaimedJob>, StorageError> {
        let now = now_ms();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        // The first job (by id) whose partition is not held is necessarily
        // the head of its partition: any older job of it would come first.
        let next: Option<(i64, String, Vec<u8>, i64, i64)> = sqlx::query_as(
            "SELECT j.id, j.partition_key, j.payload, j.attempts, j.enqueued_at FROM queue_jobs j
             WHERE j.queue = $1 AND NOT EXISTS (
                 SELECT 1 FROM queue_leases l
                 WHERE l.queue = j.queue AND l.partition_key = j.partition_key AND l.lease_until > $2)
             ORDER BY j.id LIMIT 1",
        )
        .bind(queue)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((id, partition, payload, attempts, enqueued_at_ms)) = next else {
            tx.rollback().await?;
            return Ok(None);
        };
        let token = uuid::Uuid::new_v4().to_string();
        sqlx::query(
            "INSERT INTO queue_leases (queue, partition_key, job_id, token, consumer, lease_until)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (queue, partition_key) DO UPDATE SET job_id = excluded.job_id, token = excluded.token,
                 consumer = excluded.consumer, lease_until = excluded.lease_until",
        )
        .bind(queue)
        .bind(&partition)
        .bind(id)
        .bind(&token)
        .bind(consumer)
        .bind(now.saturating_add(millis(lease)))
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE queue_jobs SET attempts = attempts + 1 WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(ClaimedJob {
            queue: queue.to_owned(),
            id: id.to_string(),
            partition,
            payload,
            attempts: u32::try_from(attempts.saturating_add(1)).unwrap_or(u32::MAX),
            lease_token: token,
            enqueued_at_ms,
        }))
    }

    async fn ack(&self, job: &ClaimedJob) -> Result<(), StorageError> {
        let id = job_id(job)?;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let held = sqlx::query(
            "DELETE FROM queue_leases WHERE queue = $1 AND partition_key = $2 AND job_id = $3 AND token = $4",
        )
        .bind(&job.queue)
        .bind(&job.partition)
        .bind(id)
        .bind(&job.lease_token)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if held == 0 {
            tx.rollback().await?;
            return Err(lease_lost(job));
        }
        sqlx::query("DELETE FROM queue_jobs WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn release(&self, job: &ClaimedJob, delay: Duration) -> Result<(), StorageError> {
        let id = job_id(job)?;
        // Keep the partition held (by nobody: empty token) until the delay is
        // over, so the job stays at the head and order is kept.
        let until = if delay.is_zero() {
            now_ms()
        } else {
            now_ms().saturating_add(millis(delay))
        };
        let held = sqlx::query(
            "UPDATE queue_leases SET token = '', lease_until = $5
             WHERE queue = $1 AND partition_key = $2 AND job_id = $3 AND token = $4",
        )
        .bind(&job.queue)
        .bind(&job.partition)
        .bind(id)
        .bind(&job.lease_token)
        .bind(until)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if held == 0 {
            return Err(lease_lost(job));
        }
        Ok(())
    }

    async fn extend(&self, job: &ClaimedJob, lease: Duration) -> Result<(), StorageError> {
        let id = job_id(job)?;
        let held = sqlx::query(
            "UPDATE queue_leases SET lease_until = $5
             WHERE queue = $1 AND partition_key = $2 AND job_id = $3 AND token = $4",
        )
        .bind(&job.queue)
        .bind(&job.partition)
        .bind(id)
        .bind(&job.lease_token)
        .bind(now_ms().saturating_add(millis(lease)))
        .execute(&self.pool)
        .await?
        .rows_affected();
        if held == 0 {
            return Err(lease_lost(job));
        }
        Ok(())
    }

    async fn dead_letter(&self, job: &ClaimedJob, reason: &str) -> Result<(), StorageError> {
        let id = job_id(job)?;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let held = sqlx::query(
            "DELETE FROM queue_leases WHERE queue = $1 AND partition_key = $2 AND job_id = $3 AND token = $4",
        )
        .bind(&job.queue)
        .bind(&job.partition)
        .bind(id)
        .bind(&job.lease_token)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if held == 0 {
            tx.rollback().await?;
            return Err(lease_lost(job));
        }
        sqlx::query(
            "INSERT INTO queue_dead_letters (queue, job_id, partition_key, payload, reason, failed_at)
             SELECT queue, id, partition_key, payload, $2, $3 FROM queue_jobs WHERE id = $1",
        )
        .bind(id)
        .bind(reason)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM queue_jobs WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn depth(&self, queue: &str) -> Result<u64, StorageError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM queue_jobs WHERE queue = $1")
            .bind(queue)
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn dead_letters(
        &self,
        queue: &str,
        limit: usize,
    ) -> Result<Vec<(String, String)>, StorageError> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT job_id, reason FROM queue_dead_letters WHERE queue = $1 ORDER BY failed_at DESC, job_id DESC LIMIT $2",
        )
        .bind(queue)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, reason)| (id.to_string(), reason))
            .collect())
    }
}

/// Key-value rows with expiry timestamps; expired rows read as absent and are
/// swept by `maintain`.
#[derive(Debug, Clone)]
pub struct SqliteKv {
    pool: SqlitePool,
}

#[async_trait]
impl KvStore for SqliteKv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(sqlx::query_scalar(
            "SELECT value FROM kv WHERE key = $1 AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(key)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn set(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<(), StorageError> {
        let expires = ttl.map(|t| now_ms().saturating_add(millis(t)));
        sqlx::query(
            "INSERT INTO kv (key, value, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
        )
        .bind(key)
        .bind(value)
        .bind(expires)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn set_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, StorageError> {
        let now = now_ms();
        let done = sqlx::query(
            "INSERT INTO kv (key, value, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
             WHERE kv.expires_at IS NOT NULL AND kv.expires_at <= $4",
        )
        .bind(key)
        .bind(value)
        .bind(now.saturating_add(millis(ttl)))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete(&self, key: &str) -> Result<bool, StorageError> {
        let live: Option<i64> = sqlx::query_scalar(
            "DELETE FROM kv WHERE key = $1 RETURNING CASE WHEN expires_at IS NULL OR expires_at > $2 THEN 1 ELSE 0 END",
        )
        .bind(key)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?;
        Ok(live == Some(1))
    }

    async fn delete_if_equals(&self, key: &str, expected: &[u8]) -> Result<bool, StorageError> {
        let done = sqlx::query(
            "DELETE FROM kv WHERE key = $1 AND value = $2 AND (expires_at IS NULL OR expires_at > $3)",
        )
        .bind(key)
        .bind(expected)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn increment_in_window(&self, key: &str, window: Duration) -> Result<u64, StorageError> {
        let now = now_ms();
        // Counters are stored as decimal text, as Redis stores them.
        let count: i64 = sqlx::query_scalar(
            "INSERT INTO kv (key, value, expires_at) VALUES ($1, CAST('1' AS BLOB), $2)
             ON CONFLICT (key) DO UPDATE SET
                 value = CASE WHEN kv.expires_at IS NOT NULL AND kv.expires_at <= $3 THEN CAST('1' AS BLOB)
                         ELSE CAST(CAST(CAST(CAST(kv.value AS TEXT) AS INTEGER) + 1 AS TEXT) AS BLOB) END,
                 expires_at = CASE WHEN kv.expires_at IS NOT NULL AND kv.expires_at <= $3 THEN $2
                              ELSE kv.expires_at END
             RETURNING CAST(CAST(value AS TEXT) AS INTEGER)",
        )
        .bind(key)
        .bind(now.saturating_add(millis(window)))
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}
