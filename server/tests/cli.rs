//! The `triage` binary as an operator runs it.
// Integration tests: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn triage(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_triage"));
    cmd.current_dir(dir);
    // The test process' own overrides must not leak into the child.
    for (key, _) in std::env::vars() {
        if key.starts_with("TRIAGE__") || key == "TRIAGE_CONFIG" {
            cmd.env_remove(key);
        }
    }
    cmd.env("NO_COLOR", "1");
    cmd
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn version_prints_the_crate_version() {
    let dir = tempfile::tempdir().unwrap();
    let out = triage(dir.path()).arg("version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        text(&out).0.trim(),
        format!("triage {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn config_check_passes_on_the_defaults_without_creating_anything() {
    let dir = tempfile::tempdir().unwrap();
    let out = triage(dir.path())
        .args(["config", "check"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("embedded SQLite at data/triage.db"),
        "{stdout}"
    );
    assert!(stdout.contains("does not exist yet"), "{stdout}");
    assert!(stdout.contains("0 error(s)"), "{stdout}");
    assert!(
        !dir.path().join("data").exists(),
        "checking must not create the database"
    );

    // Once it exists, the check opens it and says it answers.
    assert!(
        triage(dir.path())
            .arg("migrate")
            .output()
            .unwrap()
            .status
            .success()
    );
    let out = triage(dir.path())
        .args(["config", "check"])
        .output()
        .unwrap();
    let (stdout, _) = text(&out);
    assert!(
        stdout.contains("reachable database: sqlite answering"),
        "{stdout}"
    );
}

#[test]
fn unknown_keys_and_bad_values_are_named_by_config_check_and_serve() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[storage]\nbakend = \"sqlite\"\n",
    )
    .unwrap();
    for args in [
        &["--config", "bad.toml", "config", "check"][..],
        &["serve", "--config", "bad.toml"][..],
    ] {
        let out = triage(dir.path()).args(args).output().unwrap();
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("storage.bakend"), "{args:?}: {stderr}");
    }

    let out = triage(dir.path())
        .args(["config", "check"])
        .env("TRIAGE__SERVER__LISTEN", "not-an-address")
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("server.listen") && stderr.contains("TRIAGE__SERVER__LISTEN"),
        "{stderr}"
    );
}

#[test]
fn config_check_says_what_the_postgres_backend_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let out = triage(dir.path())
        .args(["config", "check"])
        .env("TRIAGE__STORAGE__BACKEND", "postgres")
        .env(
            "TRIAGE__STORAGE__REDIS_URL",
            "env:TRIAGE_TEST_UNSET_REDIS_URL",
        )
        .output()
        .unwrap();
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains("error   storage.postgres_url: is required"),
        "{stdout}"
    );
    assert!(
        stdout.contains("storage.redis_url: set to environment variable TRIAGE_TEST_UNSET_REDIS_URL, but environment variable TRIAGE_TEST_UNSET_REDIS_URL is not set"),
        "{stdout}"
    );
    // `serve` refuses the same configuration instead of starting half-broken.
    let out = triage(dir.path())
        .arg("serve")
        .env("TRIAGE__STORAGE__BACKEND", "postgres")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn config_check_reports_unreachable_services_with_a_distinct_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let out = triage(dir.path())
        .args(["config", "check"])
        .env("TRIAGE__STORAGE__BACKEND", "postgres")
        .env(
            "TRIAGE__STORAGE__POSTGRES_URL",
            "postgres://postgres@127.0.0.1:1/none",
        )
        .env("TRIAGE__STORAGE__REDIS_URL", "redis://127.0.0.1:1")
        .output()
        .unwrap();
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("error   reachable storage:"), "{stdout}");
}

#[test]
fn migrate_creates_the_embedded_database() {
    let dir = tempfile::tempdir().unwrap();
    let out = triage(dir.path()).arg("migrate").output().unwrap();
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(dir.path().join("data/triage.db").exists());
    // Idempotent.
    assert!(
        triage(dir.path())
            .arg("migrate")
            .output()
            .unwrap()
            .status
            .success()
    );
}

#[tokio::test]
async fn migrate_applies_the_postgres_schema_with_pgvector() {
    let (storage, _guard) = common::postgres_config().await;
    let url = match storage.postgres_url.as_ref().unwrap() {
        server::config::SecretRef::Literal(u) => u.clone(),
        _ => unreachable!(),
    };
    let dir = tempfile::tempdir().unwrap();
    let out = triage(dir.path())
        .arg("migrate")
        .env("TRIAGE__STORAGE__BACKEND", "postgres")
        .env("TRIAGE_TEST_PG_URL", &url)
        .env("TRIAGE__STORAGE__POSTGRES_URL", "env:TRIAGE_TEST_PG_URL")
        .env("TRIAGE__STORAGE__REDIS_URL", common::redis_url())
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", text(&out));
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let ext: String =
        sqlx::query_scalar("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert!(!ext.is_empty());
    let hnsw: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_indexes WHERE indexdef LIKE '%USING hnsw%'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(hnsw, 1);
}

#[test]
fn serve_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = triage(dir.path())
        .arg("serve")
        .env("TRIAGE__SERVER__LISTEN", "127.0.0.1:0")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("serve exited before listening")
            .unwrap();
        if let Some(rest) = line.split("addr=").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    let health = reqwest::blocking_get(&format!("http://{addr}/healthz"));
    assert_eq!(health, 200);

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "serve ignored SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        rest.iter().any(|l| l.contains("shutdown complete")),
        "{rest:?}"
    );
}

/// Minimal blocking GET returning the status code (no blocking reqwest feature needed).
mod reqwest {
    pub fn blocking_get(url: &str) -> u16 {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async { ::reqwest::get(url).await.unwrap().status().as_u16() })
    }
}

#[test]
fn eval_run_reports_skipped_lines_and_compare_gates() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("mini.jsonl");
    std::fs::write(
        &suite,
        concat!(
            r#"{"id":"a","scheme":"five","gold":"emergency_ambulance","opening":"chest pain and sweating","red_flags":["acs"]}"#,
            "\n{broken\n",
            r#"{"id":"b","scheme":"acuity4","gold":"A","opening":"I have a runny nose"}"#,
            "\n"
        ),
    )
    .unwrap();
    let out = triage(dir.path())
        .args([
            "eval",
            "run",
            "--suite",
            "mini.jsonl",
            "--out",
            "run1",
            "--quiet",
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(stderr.contains("mini.jsonl:2"), "{stderr}");
    assert!(stdout.contains("2 cases"), "{stdout}");
    for f in ["metrics.json", "cases.jsonl", "report.md", "report.html"] {
        assert!(dir.path().join("run1").join(f).is_file(), "{f}");
    }
    let out = triage(dir.path())
        .args([
            "eval",
            "compare",
            "run1",
            "run1",
            "--min-emergency-recall",
            "1.0",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(text(&out).0.contains("gate: ok"));
    let out = triage(dir.path())
        .args(["eval", "run", "--suite", "missing.jsonl", "--out", "run2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("missing.jsonl"));
}
