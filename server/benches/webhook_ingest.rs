//! Webhook ingest benchmark: signed WhatsApp webhooks posted over loopback to a
//! real server (workers off, so only the ingest path is measured: signature,
//! parse, dedupe, durable enqueue, 200). Prints sustained rate and latency
//! percentiles for each backend.
//!
//! `cargo bench -p server --bench webhook_ingest` — needs Postgres and Redis
//! for the production backend (`TRIAGE_TEST_POSTGRES_URL`,
//! `TRIAGE_TEST_REDIS_URL`, as `scripts/test` sets them; defaults: this
//! machine's local services). `BENCH_REQUESTS` and `BENCH_CONCURRENCY` tune it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use server::app::{self, StartOptions};
use server::channel::whatsapp::signature::sign;
use server::config::{Config, SecretRef, StorageBackend, StorageConfig};
use sqlx::Connection;

const SECRET: &str = "bench-app-secret";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn payload(n: usize) -> Vec<u8> {
    let from = format!("1555{:07}", n % 5000);
    serde_json::to_vec(&serde_json::json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": "Bench"}, "wa_id": from}],
            "messages": [{"from": from, "id": format!("wamid.BENCH{n:012}"), "timestamp": "1732500000",
                          "type": "text", "text": {"body": "I have had a headache since yesterday"}}]
        }}]}]
    }))
    .unwrap()
}

struct Report {
    backend: &'static str,
    requests: usize,
    seconds: f64,
    p50: Duration,
    p99: Duration,
    max: Duration,
    errors: usize,
}

async fn run(
    backend: &'static str,
    storage: StorageConfig,
    requests: usize,
    concurrency: usize,
) -> Report {
    let mut config = Config::default();
    config.server.listen = "127.0.0.1:0".parse().unwrap();
    config.storage = storage;
    config.whatsapp.app_secret = Some(SecretRef::Literal(SECRET.into()));
    config.whatsapp.verify_token = Some(SecretRef::Literal("bench".into()));
    config.whatsapp.access_token = Some(SecretRef::Literal("bench".into()));
    config.whatsapp.phone_number_id = Some("106540352242922".into());
    config.whatsapp.graph_api_base = "http://127.0.0.1:9".into();
    let server = app::start(config, StartOptions { workers: false })
        .await
        .unwrap();
    server
        .wait_for_storage(Duration::from_secs(10))
        .await
        .expect("storage");
    let url = format!("http://{}/webhooks/whatsapp", server.addr);
    let bodies: Vec<(Vec<u8>, String)> = (0..requests)
        .map(|n| {
            let body = payload(n);
            let sig = sign(SECRET.as_bytes(), &body);
            (body, sig)
        })
        .collect();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    // Warm up connections and caches.
    for (body, sig) in bodies.iter().take(200) {
        let _ = client
            .post(&url)
            .header("x-hub-signature-256", sig)
            .body(body.clone())
            .send()
            .await;
    }
    let bodies = Arc::new(bodies);
    let started = Instant::now();
    let results: Vec<(Duration, bool)> = futures::stream::iter(200..requests)
        .map(|i| {
            let (client, url, bodies) = (client.clone(), url.clone(), bodies.clone());
            async move {
                let (body, sig) = &bodies[i];
                let t = Instant::now();
                let ok = client
                    .post(&url)
                    .header("x-hub-signature-256", sig)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                (t.elapsed(), ok)
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let seconds = started.elapsed().as_secs_f64();
    let mut latencies: Vec<Duration> = results.iter().map(|(d, _)| *d).collect();
    latencies.sort();
    let pick = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize];
    let report = Report {
        backend,
        requests: results.len(),
        seconds,
        p50: pick(0.50),
        p99: pick(0.99),
        max: *latencies.last().unwrap(),
        errors: results.iter().filter(|(_, ok)| !ok).count(),
    };
    server.shutdown().await.unwrap();
    report
}

#[tokio::main]
async fn main() {
    let requests = env_usize("BENCH_REQUESTS", 20_000);
    let concurrency = env_usize("BENCH_CONCURRENCY", 32);
    let mut reports = Vec::new();

    let dir = tempfile::tempdir().unwrap();
    let sqlite = StorageConfig {
        backend: StorageBackend::Sqlite,
        sqlite_path: dir.path().join("bench.db"),
        ..StorageConfig::default()
    };
    reports.push(run("sqlite", sqlite, requests, concurrency).await);

    let admin = std::env::var("TRIAGE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let redis =
        std::env::var("TRIAGE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let name = format!("triage_t_bench_{}", std::process::id());
    let only_sqlite = std::env::var("BENCH_BACKENDS").is_ok_and(|b| b == "sqlite");
    match sqlx::PgConnection::connect(&admin).await {
        _ if only_sqlite => {}
        Ok(mut conn) => {
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                .execute(&mut conn)
                .await
                .unwrap();
            let mut url = reqwest::Url::parse(&admin).unwrap();
            url.set_path(&name);
            let prefix = format!("bench{}", std::process::id());
            let pg = StorageConfig {
                backend: StorageBackend::Postgres,
                postgres_url: Some(SecretRef::Literal(url.to_string())),
                redis_url: Some(SecretRef::Literal(redis.clone())),
                redis_prefix: prefix.clone(),
                ..StorageConfig::default()
            };
            reports.push(run("postgres+redis", pg, requests, concurrency).await);
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await;
            if let Ok(client) = redis::Client::open(redis.as_str())
                && let Ok(mut c) = client.get_multiplexed_async_connection().await
            {
                let keys: Vec<String> = redis::cmd("KEYS")
                    .arg(format!("{prefix}:*"))
                    .query_async(&mut c)
                    .await
                    .unwrap_or_default();
                if !keys.is_empty() {
                    let _: Result<(), _> = redis::cmd("DEL").arg(keys).query_async(&mut c).await;
                }
            }
        }
        Err(e) => println!("postgres+redis: skipped ({e})"),
    }

    println!(
        "webhook ingest: {requests} signed webhooks (200 warm-up), concurrency {concurrency}, loopback, load generator on the same machine"
    );
    println!(
        "{:<16} {:>10} {:>10} {:>10} {:>10} {:>8}",
        "backend", "req/s", "p50 ms", "p99 ms", "max ms", "errors"
    );
    for r in &reports {
        println!(
            "{:<16} {:>10.0} {:>10.2} {:>10.2} {:>10.2} {:>8}",
            r.backend,
            r.requests as f64 / r.seconds,
            r.p50.as_secs_f64() * 1000.0,
            r.p99.as_secs_f64() * 1000.0,
            r.max.as_secs_f64() * 1000.0,
            r.errors
        );
    }
}
