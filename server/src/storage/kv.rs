//! Key-value with expiry: conversation state, idempotency keys, rate-limit
//! counters and locks.

use std::time::Duration;

use async_trait::async_trait;

use super::StorageError;

/// Key-value store with per-key TTL.
#[async_trait]
pub trait KvStore: Send + Sync + std::fmt::Debug {
    /// The value, unless absent or expired.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError>;

    /// Sets the value; `ttl = None` keeps it until deleted.
    async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>)
    -> Result<(), StorageError>;

    /// Sets the value only if the key is absent (or expired). True if set.
    /// This is the idempotency primitive: the first caller wins.
    async fn set_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, StorageError>;

    /// Deletes the key. True if it existed.
    async fn delete(&self, key: &str) -> Result<bool, StorageError>;

    /// Deletes the key only if it holds `expected`. True if deleted.
    async fn delete_if_equals(&self, key: &str, expected: &[u8]) -> Result<bool, StorageError>;

    /// Increments a counter that starts at 1 and expires `window` after its
    /// first increment (fixed-window rate limiting). Returns the new count.
    async fn increment_in_window(&self, key: &str, window: Duration) -> Result<u64, StorageError>;
}

/// A held lock; release it with [`LockGuard::release`]. If the holder dies the
/// lock expires after its TTL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockGuard {
    key: String,
    token: String,
}

impl LockGuard {
    /// Tries to take the lock `name` for `ttl`. `None` if someone holds it.
    pub async fn try_acquire(
        kv: &dyn KvStore,
        name: &str,
        ttl: Duration,
    ) -> Result<Option<LockGuard>, StorageError> {
        let key = format!("lock:{name}");
        let token = uuid::Uuid::new_v4().to_string();
        Ok(kv
            .set_if_absent(&key, token.as_bytes(), ttl)
            .await?
            .then_some(LockGuard { key, token }))
    }

    /// Releases the lock if it is still ours (it may have expired and been
    /// taken by someone else, whom we must not unlock). True if released.
    pub async fn release(self, kv: &dyn KvStore) -> Result<bool, StorageError> {
        kv.delete_if_equals(&self.key, self.token.as_bytes()).await
    }
}
