//! The operational HTTP surface, on a real server bound to a random port.
// Integration tests: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use axum::routing::get;
use serde_json::Value;
use server::app::{self, RunningServer, StartOptions};
use server::config::{Config, ModelBackend, SecretRef, StorageBackend, StorageConfig};
use tokio::net::TcpListener;

async fn start(config: Config) -> RunningServer {
    app::start(config, StartOptions::default())
        .await
        .expect("server starts")
}

async fn get_json(server: &RunningServer, path: &str) -> (u16, Value, reqwest::header::HeaderMap) {
    let resp = reqwest::get(format!("http://{}{path}", server.addr))
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, resp.json().await.unwrap_or(Value::Null), headers)
}

#[tokio::test]
async fn healthz_answers_with_a_request_id_and_propagates_a_given_one() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(common::server_config(common::sqlite_config(&dir))).await;
    let (status, body, headers) = get_json(&server, "/healthz").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    assert!(headers.contains_key("x-request-id"));

    let resp = reqwest::Client::new()
        .get(format!("http://{}/healthz", server.addr))
        .header("x-request-id", "req-from-proxy-42")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "req-from-proxy-42");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn readyz_is_ready_on_the_embedded_default_without_any_service() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(common::server_config(common::sqlite_config(&dir))).await;
    server
        .wait_for_storage(Duration::from_secs(5))
        .await
        .expect("sqlite connects");
    let (status, body, _) = get_json(&server, "/readyz").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"][0]["name"], "database");
    assert!(
        dir.path().join("triage.db").exists(),
        "the database file is created"
    );
    server.shutdown().await.unwrap();
}

/// A TCP port nobody listens on (yet).
async fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().port()
}

/// Forwards `port` to Postgres, like a database that finished starting.
async fn start_proxy_to_postgres(port: u16) -> tokio::task::JoinHandle<()> {
    let target = reqwest::Url::parse(&common::postgres_admin_url()).unwrap();
    let upstream = format!(
        "{}:{}",
        target.host_str().unwrap_or("127.0.0.1"),
        target.port().unwrap_or(5432)
    );
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let upstream = upstream.clone();
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    })
}

#[tokio::test]
async fn a_database_that_is_down_at_start_gives_503_until_it_comes_up() {
    let (mut storage, _db) = common::postgres_config().await;
    let port = free_port().await;
    let mut url = reqwest::Url::parse(&common::postgres_admin_url()).unwrap();
    url.set_port(Some(port)).unwrap();
    let real = match &storage.postgres_url {
        Some(SecretRef::Literal(u)) => reqwest::Url::parse(u).unwrap(),
        _ => unreachable!(),
    };
    url.set_path(real.path());
    storage.postgres_url = Some(SecretRef::Literal(url.to_string()));
    let server = start(common::server_config(storage)).await;

    let (status, body, headers) = get_json(&server, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "not_ready");
    let db = &body["checks"][0];
    assert_eq!(db["name"], "database");
    assert_eq!(db["ok"], false);
    assert!(
        db["detail"].as_str().unwrap().contains("not connected"),
        "{db}"
    );
    let _ = headers;
    // The process stays up and live meanwhile.
    assert_eq!(get_json(&server, "/healthz").await.0, 200);

    let proxy = start_proxy_to_postgres(port).await;
    let ready = common::eventually(Duration::from_secs(10), || async {
        (get_json(&server, "/readyz").await.0 == 200).then_some(())
    })
    .await;
    assert!(
        ready.is_some(),
        "readyz must turn 200 once the database is reachable"
    );
    let (_, body, _) = get_json(&server, "/readyz").await;
    let names: Vec<_> = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].clone())
        .collect();
    assert_eq!(names, ["database", "redis"]);
    server.shutdown().await.unwrap();
    proxy.abort();
}

#[tokio::test]
async fn readyz_names_missing_model_files_and_an_unreachable_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::server_config(common::sqlite_config(&dir));
    config.model.backend = ModelBackend::Candle;
    config.model.gguf_path = Some(dir.path().join("absent.gguf"));
    let server = start(config).await;
    server
        .wait_for_storage(Duration::from_secs(5))
        .await
        .unwrap();
    let (status, body, _) = get_json(&server, "/readyz").await;
    assert_eq!(status, 503);
    let model = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "model")
        .unwrap();
    assert!(
        model["detail"].as_str().unwrap().contains("absent.gguf"),
        "{model}"
    );
    server.shutdown().await.unwrap();

    // An OpenAI-compatible endpoint: down, then up.
    let dir = tempfile::tempdir().unwrap();
    let port = free_port().await;
    let mut config = common::server_config(common::sqlite_config(&dir));
    config.model.backend = ModelBackend::Openai;
    config.model.base_url = Some(format!("http://127.0.0.1:{port}/v1"));
    config.model.name = Some("medgemma".into());
    let server = start(config).await;
    server
        .wait_for_storage(Duration::from_secs(5))
        .await
        .unwrap();
    let (status, body, _) = get_json(&server, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    let fake = axum::Router::new().route("/v1/models", get(|| async { axum::Json(serde_json::json!({"object": "list", "data": [{"id": "medgemma", "object": "model"}]})) }));
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let fake = tokio::spawn(async move { axum::serve(listener, fake).await });
    let (status, body, _) = get_json(&server, "/readyz").await;
    assert_eq!(status, 200, "{body}");
    server.shutdown().await.unwrap();
    fake.abort();
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(common::server_config(common::sqlite_config(&dir))).await;
    for _ in 0..3 {
        get_json(&server, "/healthz").await;
    }
    let text = reqwest::get(format!("http://{}/metrics", server.addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("triage_http_requests_total")
                && l.contains("route=\"/healthz\"")
                && l.contains("status=\"200\"")
        })
        .unwrap_or_else(|| panic!("no healthz counter in:\n{text}"));
    let count: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 3.0, "{line}");
    assert!(text.contains("triage_http_request_duration_seconds_bucket"));
    assert!(text.contains("triage_build_info"));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn unknown_routes_and_oversized_bodies_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(common::server_config(common::sqlite_config(&dir))).await;
    let (status, body, _) = get_json(&server, "/no/such/route").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");

    let resp = reqwest::Client::new()
        .post(format!("http://{}/no/such/route", server.addr))
        .body(vec![b'x'; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 413);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn postgres_backend_serves_readyz_with_both_services() {
    let (storage, _db) = common::postgres_config().await;
    let server = start(common::server_config(storage)).await;
    server
        .wait_for_storage(Duration::from_secs(10))
        .await
        .expect("postgres + redis connect");
    let (status, body, _) = get_json(&server, "/readyz").await;
    assert_eq!(status, 200, "{body}");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_unreachable_redis_is_named_in_readyz() {
    let port = free_port().await;
    let (storage, _db) = common::postgres_config().await;
    let storage = StorageConfig {
        backend: StorageBackend::Postgres,
        redis_url: Some(SecretRef::Literal(format!("redis://127.0.0.1:{port}"))),
        ..storage
    };
    let server = start(common::server_config(storage)).await;
    let body = common::eventually(Duration::from_secs(10), || async {
        let (status, body, _) = get_json(&server, "/readyz").await;
        let detail = body["checks"][0]["detail"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        (status == 503 && detail.contains("redis")).then_some(body)
    })
    .await;
    assert!(
        body.is_some(),
        "readyz must say that redis is what is missing"
    );
    server.shutdown().await.unwrap();
}
