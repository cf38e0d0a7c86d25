//! The production backend: Postgres for records and vectors, Redis for the
//! queue, key-value state, idempotency keys, rate limits and locks.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use retrieval::PgVectorStore;
use sqlx::Connection;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};

use super::redis::{RedisKv, RedisQueue, connect_redis};
use super::sql_channel::{outbox_columns, sql_channel_store};
use super::sql_records::sql_record_store;
use super::sql_reports::{disposition_rank, report_columns, report_order, sql_report_store};
use super::{BackendOps, ComponentHealth, SqlStore, Storage, StorageError};

/// The Postgres migrations (the first one creates the `vector` extension).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

sql_channel_store!(SqlStore<PgPool>);

sql_record_store!(SqlStore<PgPool>);

sql_report_store!(SqlStore<PgPool>);

/// How long a readiness probe may wait for one service.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Connects to both services; when `migrate`, applies the Postgres migrations
/// (sqlx takes an advisory lock, so several nodes starting at once are safe).
pub async fn open(
    postgres_url: &str,
    redis_url: &str,
    redis_prefix: &str,
    max_connections: u32,
    migrate: bool,
) -> Result<Storage, StorageError> {
    let options: PgConnectOptions = postgres_url.parse()?;
    // One direct attempt first: a pool only reports "timed out" when the
    // server refuses connections; a direct connect says why.
    let probe =
        tokio::time::timeout(Duration::from_secs(5), PgConnection::connect_with(&options)).await;
    match probe {
        Ok(Ok(conn)) => conn.close().await?,
        Ok(Err(e)) => return Err(e.into()),
        Err(_) => return Err(StorageError::Config("postgres did not answer within 5 s")),
    }
    let pool = PgPoolOptions::new()
        .max_connections(max_connections.max(1))
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await?;
    if migrate {
        MIGRATOR.run(&pool).await?;
    }
    let redis = connect_redis(redis_url).await?;
    Ok(Storage::from_parts(
        Arc::new(SqlStore::new(pool.clone())),
        Arc::new(SqlStore::new(pool.clone())),
        Arc::new(RedisQueue::new(redis.clone(), redis_prefix)),
        Arc::new(RedisKv::new(redis.clone(), redis_prefix)),
        Arc::new(PgVectorStore::new(pool.clone())),
        Arc::new(SqlStore::new(pool.clone())),
        Arc::new(PgRedisOps { pool, redis }),
    ))
}

#[derive(Debug)]
struct PgRedisOps {
    pool: PgPool,
    redis: redis::aio::ConnectionManager,
}

#[async_trait]
impl BackendOps for PgRedisOps {
    async fn probe(&self) -> Vec<ComponentHealth> {
        let pg =
            tokio::time::timeout(PROBE_TIMEOUT, sqlx::query("SELECT 1").execute(&self.pool)).await;
        let mut redis = self.redis.clone();
        let pong = tokio::time::timeout(
            PROBE_TIMEOUT,
            redis::cmd("PING").query_async::<String>(&mut redis),
        )
        .await;
        vec![
            ComponentHealth {
                name: "database".to_owned(),
                ok: matches!(pg, Ok(Ok(_))),
                detail: match pg {
                    Ok(Ok(_)) => "postgres answering".to_owned(),
                    Ok(Err(e)) => e.to_string(),
                    Err(_) => "postgres did not answer within 2 s".to_owned(),
                },
            },
            ComponentHealth {
                name: "redis".to_owned(),
                ok: matches!(pong, Ok(Ok(_))),
                detail: match pong {
                    Ok(Ok(_)) => "redis answering".to_owned(),
                    Ok(Err(e)) => e.to_string(),
                    Err(_) => "redis did not answer within 2 s".to_owned(),
                },
            },
        ]
    }

    async fn maintain(&self) -> Result<u64, StorageError> {
        // Redis expires keys itself and Postgres holds nothing that expires.
        Ok(0)
    }
}
