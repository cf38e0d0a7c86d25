//! Redis half of the production backend: the queue and the key-value store.
//!
//! Queue layout, all under `{prefix}:q:{<queue>}` (the braces are a cluster
//! hash tag: one queue lives in one slot, so its Lua scripts are atomic there):
//! - `:seq` job id counter; `:depth` jobs not yet acked;
//! - `:job:<id>` hash {partition, payload, attempts, enqueued_at};
//! - `:p:<partition>` list of job ids, oldest first;
//! - `:ready` zset of partitions free to claim, scored by their head job id;
//! - `:leases` zset of held partitions, scored by lease expiry (ms);
//! - `:owners` hash partition → `<token>|<job id>`;
//! - `:dedupe:<key>` idempotency keys with TTL;
//! - `:dead` list of dead-lettered job ids, `:deadjob:<id>` their hashes.
//!
//! Invariant: a partition with jobs is in exactly one of `:ready` or `:leases`.
//! Every state change is one Lua script; time comes from Redis' own clock so
//! consumers on hosts with skewed clocks agree on lease expiry.

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};

use super::queue::Dedupe;
use super::{ClaimedJob, Enqueued, JobQueue, KvStore, NewJob, StorageError, millis};

/// Connects a self-healing connection (reconnects after Redis restarts).
pub async fn connect_redis(url: &str) -> Result<ConnectionManager, StorageError> {
    let client = redis::Client::open(url)?;
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_response_timeout(Some(Duration::from_secs(5)));
    Ok(ConnectionManager::new_with_config(client, config).await?)
}

const NOW_MS: &str = "local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)";

/// The queue over Redis.
#[derive(Clone)]
pub struct RedisQueue {
    conn: ConnectionManager,
    prefix: String,
    enqueue: Script,
    claim: Script,
    finish: Script,
    release: Script,
    extend: Script,
}

impl std::fmt::Debug for RedisQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisQueue")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisQueue {
    /// A queue namespace under `prefix`.
    pub fn new(conn: ConnectionManager, prefix: &str) -> Self {
        Self {
            conn,
            prefix: prefix.to_owned(),
            // ARGV: partition, payload, dedupe key ('' for none), dedupe ttl ms
            enqueue: Script::new(&format!(
                r"
                local base = KEYS[1]
                if ARGV[3] ~= '' then
                  if not redis.call('SET', base .. ':dedupe:' .. ARGV[3], '1', 'NX', 'PX', ARGV[4]) then
                    return {{0, ''}}
                  end
                end
                {NOW_MS}
                local id = redis.call('INCR', base .. ':seq')
                redis.call('HSET', base .. ':job:' .. id, 'partition', ARGV[1], 'payload', ARGV[2],
                           'attempts', 0, 'enqueued_at', now)
                redis.call('INCR', base .. ':depth')
                local len = redis.call('RPUSH', base .. ':p:' .. ARGV[1], id)
                if len == 1 and not redis.call('ZSCORE', base .. ':leases', ARGV[1]) then
                  redis.call('ZADD', base .. ':ready', id, ARGV[1])
                end
                return {{1, tostring(id)}}
                "
            )),
            // ARGV: lease ms, token. Frees expired leases (a bounded batch), then
            // takes the partition with the oldest head job.
            claim: Script::new(&format!(
                r"
                local base = KEYS[1]
                {NOW_MS}
                local expired = redis.call('ZRANGEBYSCORE', base .. ':leases', '-inf', now, 'LIMIT', 0, 100)
                for _, p in ipairs(expired) do
                  redis.call('ZREM', base .. ':leases', p)
                  redis.call('HDEL', base .. ':owners', p)
                  local head = redis.call('LINDEX', base .. ':p:' .. p, 0)
                  if head then redis.call('ZADD', base .. ':ready', tonumber(head), p) end
                end
                while true do
                  local first = redis.call('ZPOPMIN', base .. ':ready')
                  if #first == 0 then return false end
                  local p = first[1]
                  local head = redis.call('LINDEX', base .. ':p:' .. p, 0)
                  if head then
                    local job = base .. ':job:' .. head
                    local attempts = redis.call('HINCRBY', job, 'attempts', 1)
                    redis.call('ZADD', base .. ':leases', now + tonumber(ARGV[1]), p)
                    redis.call('HSET', base .. ':owners', p, ARGV[2] .. '|' .. head)
                    local f = redis.call('HMGET', job, 'payload', 'enqueued_at')
                    return {{head, p, f[1], attempts, f[2]}}
                  end
                end
                "
            )),
            // ARGV: partition, job id, token, dead-letter reason ('' = plain ack).
            finish: Script::new(
                r"
                local base = KEYS[1]
                local p, id = ARGV[1], ARGV[2]
                if redis.call('HGET', base .. ':owners', p) ~= ARGV[3] .. '|' .. id then return 0 end
                redis.call('HDEL', base .. ':owners', p)
                redis.call('ZREM', base .. ':leases', p)
                redis.call('LREM', base .. ':p:' .. p, 1, id)
                if ARGV[4] ~= '' then
                  redis.call('RENAME', base .. ':job:' .. id, base .. ':deadjob:' .. id)
                  redis.call('HSET', base .. ':deadjob:' .. id, 'reason', ARGV[4])
                  redis.call('LPUSH', base .. ':dead', id)
                else
                  redis.call('DEL', base .. ':job:' .. id)
                end
                redis.call('DECR', base .. ':depth')
                local head = redis.call('LINDEX', base .. ':p:' .. p, 0)
                if head then redis.call('ZADD', base .. ':ready', tonumber(head), p) end
                return 1
                ",
            ),
            // ARGV: partition, job id, token, delay ms. The partition stays
            // leased (by nobody) until the delay is over, keeping the order.
            release: Script::new(&format!(
                r"
                local base = KEYS[1]
                local p, id = ARGV[1], ARGV[2]
                if redis.call('HGET', base .. ':owners', p) ~= ARGV[3] .. '|' .. id then return 0 end
                {NOW_MS}
                redis.call('HSET', base .. ':owners', p, '')
                redis.call('ZADD', base .. ':leases', now + tonumber(ARGV[4]), p)
                return 1
                "
            )),
            // ARGV: partition, job id, token, lease ms.
            extend: Script::new(&format!(
                r"
                local base = KEYS[1]
                local p, id = ARGV[1], ARGV[2]
                if redis.call('HGET', base .. ':owners', p) ~= ARGV[3] .. '|' .. id then return 0 end
                {NOW_MS}
                redis.call('ZADD', base .. ':leases', 'XX', now + tonumber(ARGV[4]), p)
                return 1
                "
            )),
        }
    }

    fn base(&self, queue: &str) -> String {
        format!("{}:q:{{{queue}}}", self.prefix)
    }

    async fn run_owned(
        &self,
        script: &Script,
        job: &ClaimedJob,
        last: &str,
    ) -> Result<(), StorageError> {
        let mut conn = self.conn.clone();
        let held: i64 = script
            .key(self.base(&job.queue))
            .arg(&job.partition)
            .arg(&job.id)
            .arg(&job.lease_token)
            .arg(last)
            .invoke_async(&mut conn)
            .await?;
        if held == 1 {
            Ok(())
        } else {
            Err(StorageError::LeaseLost {
                job: job.id.clone(),
            })
        }
    }
}

#[async_trait]
impl JobQueue for RedisQueue {
    async fn enqueue(&self, job: NewJob<'_>) -> Result<Enqueued, StorageError> {
        let mut conn = self.conn.clone();
        let (key, ttl) = match job.dedupe {
            Some(Dedupe { key, ttl }) => (key, millis(ttl)),
            None => ("", 0),
        };
        let (stored, id): (i64, String) = self
            .enqueue
            .key(self.base(job.queue))
            .arg(job.partition)
            .arg(job.payload)
            .arg(key)
            .arg(ttl)
            .invoke_async(&mut conn)
            .await?;
        Ok(if stored == 1 {
            Enqueued::Accepted(id)
        } else {
            Enqueued::Duplicate
        })
    }

    async fn claim(
        &self,
        queue: &str,
        _consumer: &str,
        lease: Duration,
    ) -> Result<Option<ClaimedJob>, StorageError> {
        let mut conn = self.conn.clone();
        let token = uuid::Uuid::new_v4().to_string();
        let claimed: Option<(String, String, Vec<u8>, u32, i64)> = self
            .claim
            .key(self.base(queue))
            .arg(millis(lease))
            .arg(&token)
            .invoke_async(&mut conn)
            .await?;
        Ok(claimed.map(
            |(id, partition, payload, attempts, enqueued_at_ms)| ClaimedJob {
                queue: queue.to_owned(),
                id,
                partition,
                payload,
                attempts,
                lease_token: token,
                enqueued_at_ms,
            },
        ))
    }

    async fn ack(&self, job: &ClaimedJob) -> Result<(), StorageError> {
        self.run_owned(&self.finish, job, "").await
    }

    async fn release(&self, job: &ClaimedJob, delay: Duration) -> Result<(), StorageError> {
        let delay_ms = if delay.is_zero() { 0 } else { millis(delay) };
        self.run_owned(&self.release, job, &delay_ms.to_string())
            .await
    }

    async fn extend(&self, job: &ClaimedJob, lease: Duration) -> Result<(), StorageError> {
        self.run_owned(&self.extend, job, &millis(lease).to_string())
            .await
    }

    async fn dead_letter(&self, job: &ClaimedJob, reason: &str) -> Result<(), StorageError> {
        // An empty reason would read as a plain ack to the script.
        let reason = if reason.is_empty() {
            "unspecified"
        } else {
            reason
        };
        self.run_owned(&self.finish, job, reason).await
    }

    async fn depth(&self, queue: &str) -> Result<u64, StorageError> {
        let mut conn = self.conn.clone();
        let depth: Option<i64> = conn.get(format!("{}:depth", self.base(queue))).await?;
        Ok(u64::try_from(depth.unwrap_or(0)).unwrap_or(0))
    }

    async fn dead_letters(
        &self,
        queue: &str,
        limit: usize,
    ) -> Result<Vec<(String, String)>, StorageError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut conn = self.conn.clone();
        let base = self.base(queue);
        let stop = isize::try_from(limit).unwrap_or(isize::MAX) - 1;
        let ids: Vec<String> = conn.lrange(format!("{base}:dead"), 0, stop).await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let reason: Option<String> =
                conn.hget(format!("{base}:deadjob:{id}"), "reason").await?;
            out.push((id, reason.unwrap_or_default()));
        }
        Ok(out)
    }
}

/// Key-value over Redis strings with native expiry.
#[derive(Clone)]
pub struct RedisKv {
    conn: ConnectionManager,
    prefix: String,
    delete_if_equals: Script,
    increment: Script,
}

impl std::fmt::Debug for RedisKv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisKv")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisKv {
    /// Keys live under `{prefix}:kv:`.
    pub fn new(conn: ConnectionManager, prefix: &str) -> Self {
        Self {
            conn,
            prefix: prefix.to_owned(),
            delete_if_equals: Script::new(
                "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end",
            ),
            // The window starts with the first increment: expiry is set only then.
            increment: Script::new(
                "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return n",
            ),
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}:kv:{key}", self.prefix)
    }
}

#[async_trait]
impl KvStore for RedisKv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let mut conn = self.conn.clone();
        Ok(conn.get(self.key(key)).await?)
    }

    async fn set(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<(), StorageError> {
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(key)).arg(value);
        if let Some(ttl) = ttl {
            cmd.arg("PX").arg(millis(ttl));
        }
        cmd.query_async::<()>(&mut conn).await?;
        Ok(())
    }

    async fn set_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, StorageError> {
        let mut conn = self.conn.clone();
        let set: Option<String> = redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl))
            .query_async(&mut conn)
            .await?;
        Ok(set.is_some())
    }

    async fn delete(&self, key: &str) -> Result<bool, StorageError> {
        let mut conn = self.conn.clone();
        let n: i64 = conn.del(self.key(key)).await?;
        Ok(n > 0)
    }

    async fn delete_if_equals(&self, key: &str, expected: &[u8]) -> Result<bool, StorageError> {
        let mut conn = self.conn.clone();
        let n: i64 = self
            .delete_if_equals
            .key(self.key(key))
            .arg(expected)
            .invoke_async(&mut conn)
            .await?;
        Ok(n > 0)
    }

    async fn increment_in_window(&self, key: &str, window: Duration) -> Result<u64, StorageError> {
        let mut conn = self.conn.clone();
        let n: i64 = self
            .increment
            .key(self.key(key))
            .arg(millis(window))
            .invoke_async(&mut conn)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
