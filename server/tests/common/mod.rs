//! Test fixtures: a fresh, isolated store per test on each backend, and an
//! in-process server on a random port.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod whatsapp;

/// Runs each `async fn case(storage: StorageConfig)` as two tests: on a fresh
/// SQLite file and on a fresh Postgres database with its own Redis prefix.
#[allow(unused_macros)]
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let dir = tempfile::tempdir().unwrap();
                    crate::$case(crate::common::sqlite_config(&dir)).await;
                }
            )*
        }
        mod postgres_redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let (storage, _guard) = crate::common::postgres_config().await;
                    crate::$case(storage).await;
                }
            )*
        }
    };
}

use std::time::Duration;

use server::config::{Config, SecretRef, StorageBackend, StorageConfig};
use server::storage::Storage;
use sqlx::Connection;

/// Admin connection for creating per-test databases (scripts/test sets it to
/// its scratch database; the default matches this machine's Postgres).
pub fn postgres_admin_url() -> String {
    std::env::var("TRIAGE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Redis for tests; every test uses its own key prefix.
pub fn redis_url() -> String {
    std::env::var("TRIAGE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A store that cleans up after itself.
pub struct TestStorage {
    pub storage: Storage,
    pub config: StorageConfig,
    _dir: Option<tempfile::TempDir>,
    _db: Option<DbGuard>,
}

/// Drops a per-test Postgres database and deletes its Redis keys.
pub struct DbGuard {
    admin_url: String,
    name: String,
    redis_prefix: String,
}

impl Drop for DbGuard {
    fn drop(&mut self) {
        {
            let (admin_url, name, prefix) = (
                self.admin_url.clone(),
                self.name.clone(),
                self.redis_prefix.clone(),
            );
            // Async work cannot run in Drop: use a short-lived runtime on a thread.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                        let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                            .execute(&mut conn)
                            .await;
                    }
                    if let Ok(client) = redis::Client::open(redis_url())
                        && let Ok(mut conn) = client.get_multiplexed_async_connection().await
                    {
                        let keys: Vec<String> = redis::cmd("KEYS")
                            .arg(format!("{prefix}:*"))
                            .query_async(&mut conn)
                            .await
                            .unwrap_or_default();
                        if !keys.is_empty() {
                            let _: Result<(), _> =
                                redis::cmd("DEL").arg(keys).query_async(&mut conn).await;
                        }
                    }
                });
            })
            .join();
        }
    }
}

/// Embedded backend in a temp dir.
pub async fn sqlite() -> TestStorage {
    let dir = tempfile::tempdir().unwrap();
    let config = sqlite_config(&dir);
    let storage = Storage::open(&config, true)
        .await
        .expect("open sqlite storage");
    TestStorage {
        storage,
        config,
        _dir: Some(dir),
        _db: None,
    }
}

pub fn sqlite_config(dir: &tempfile::TempDir) -> StorageConfig {
    StorageConfig {
        backend: StorageBackend::Sqlite,
        sqlite_path: dir.path().join("triage.db"),
        ..StorageConfig::default()
    }
}

/// A fresh Postgres database (named `triage_t_<uuid>`) and a fresh Redis prefix.
pub async fn postgres_config() -> (StorageConfig, DbGuard) {
    let admin_url = postgres_admin_url();
    let name = format!("triage_t_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| {
            panic!("Postgres is required for this test ({admin_url}): {e}. Run scripts/test.")
        });
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut admin)
        .await
        .unwrap();
    let mut url = reqwest::Url::parse(&admin_url).unwrap();
    url.set_path(&name);
    let config = StorageConfig {
        backend: StorageBackend::Postgres,
        postgres_url: Some(SecretRef::Literal(url.to_string())),
        redis_url: Some(SecretRef::Literal(redis_url())),
        redis_prefix: format!("t{}", uuid::Uuid::new_v4().simple()),
        ..StorageConfig::default()
    };
    let guard = DbGuard {
        admin_url,
        name,
        redis_prefix: config.redis_prefix.clone(),
    };
    (config, guard)
}

/// Production backend on a fresh database and Redis prefix.
pub async fn postgres() -> TestStorage {
    let (config, guard) = postgres_config().await;
    let storage = Storage::open(&config, true)
        .await
        .expect("open postgres storage");
    TestStorage {
        storage,
        config,
        _dir: None,
        _db: Some(guard),
    }
}

/// A config for an in-process server on a random port with the given storage.
pub fn server_config(storage: StorageConfig) -> Config {
    let mut config = Config::default();
    config.server.listen = "127.0.0.1:0".parse().unwrap();
    config.server.shutdown_grace_secs = 2;
    config.storage = storage;
    config
}

/// Polls `f` until it returns `Some`, for at most `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return Some(v);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
