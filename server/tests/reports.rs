//! The clinician API over triage reports, on a real server bound to a random
//! port: bearer tokens from day one, reports sorted by urgency, and a report
//! produced end to end from a signed WhatsApp webhook.
// Integration tests: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use std::process::Command;
use std::time::Duration;

use agent::Disposition;
use common::whatsapp as wa;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use server::app::{self, RunningServer, StartOptions};
use server::config::StorageConfig;
use server::storage::{NewReport, Role, Storage};

const WAIT: Duration = Duration::from_secs(15);

async fn start(storage: StorageConfig) -> (RunningServer, Storage) {
    let server = app::start(common::server_config(storage), StartOptions::default())
        .await
        .unwrap();
    let storage = server.wait_for_storage(WAIT).await.unwrap();
    (server, storage)
}

/// GET with an optional bearer token: status, headers and JSON body.
async fn get(
    server: &RunningServer,
    path: &str,
    token: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = reqwest::Client::new().get(format!("http://{}{path}", server.addr));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.json().await.unwrap_or(Value::Null))
}

async fn token(storage: &Storage, role: Role) -> (String, uuid::Uuid) {
    let (secret, row) = storage.reports.create_token(role, None).await.unwrap();
    (secret.expose_secret().to_owned(), row.id)
}

async fn seed_report(storage: &Storage, patient: &str, disposition: Disposition) -> uuid::Uuid {
    let conversation = storage
        .records
        .open_conversation("whatsapp", patient)
        .await
        .unwrap();
    storage
        .reports
        .upsert_report(NewReport {
            conversation_id: conversation.id,
            patient_ref: patient.to_owned(),
            disposition,
            status: server::storage::ReportStatus::Triaged,
            handoff_reason: None,
            review_due_at: chrono::Utc::now()
                + chrono::Duration::minutes(i64::from(disposition.clinician_review_minutes())),
            rules_version: None,
            report: json!({"disposition": disposition.as_str()}),
            rendered: format!("TRIAGE REPORT\n{disposition}"),
        })
        .await
        .unwrap()
        .id
}

on_both_backends!(
    reports_need_a_clinical_token_and_come_most_urgent_first,
    an_emergency_on_whatsapp_becomes_a_report_with_its_rule_and_the_patients_words,
);

async fn reports_need_a_clinical_token_and_come_most_urgent_first(storage: StorageConfig) {
    let (server, storage) = start(storage).await;
    let routine = seed_report(&storage, "15551239001", Disposition::Routine).await;
    let ambulance = seed_report(&storage, "15551239002", Disposition::EmergencyAmbulance).await;
    let urgent = seed_report(&storage, "15551239003", Disposition::Urgent24h).await;
    let one = format!("/api/triage-reports/{ambulance}");

    // Anonymous, malformed, unknown and revoked credentials: 401 naming Bearer.
    let (revoked, revoked_id) = token(&storage, Role::Clinician).await;
    assert!(storage.reports.revoke_token(revoked_id).await.unwrap());
    for path in [
        "/api/triage-reports",
        one.as_str(),
        "/api/triage-reports/not-a-uuid",
    ] {
        for credential in [None, Some("trg_0000"), Some(revoked.as_str())] {
            let (status, headers, body) = get(&server, path, credential).await;
            assert_eq!(status, 401, "{path} {credential:?}: {body}");
            assert!(
                headers["www-authenticate"]
                    .to_str()
                    .unwrap()
                    .starts_with("Bearer"),
                "{headers:?}"
            );
            assert_eq!(body["error"]["code"], "unauthorized");
        }
    }
    let resp = reqwest::Client::new()
        .get(format!("http://{}/api/triage-reports", server.addr))
        .header("authorization", format!("Basic {revoked}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status().as_u16(),
        401,
        "only the Bearer scheme is accepted"
    );

    // A valid token whose role may not read PHI.
    let (engineer, _) = token(&storage, Role::MlEngineer).await;
    let (status, _, body) = get(&server, "/api/triage-reports", Some(&engineer)).await;
    assert_eq!((status, &body["error"]["code"]), (403, &json!("forbidden")));
    assert_eq!(get(&server, &one, Some(&engineer)).await.0, 403);

    // Clinicians and admins read them, most urgent first.
    let (clinician, _) = token(&storage, Role::Clinician).await;
    let (admin, _) = token(&storage, Role::Admin).await;
    for t in [&clinician, &admin] {
        let (status, _, body) = get(&server, "/api/triage-reports", Some(t)).await;
        assert_eq!(status, 200, "{body}");
        let listed: Vec<(String, String)> = body["reports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["id"].as_str().unwrap().to_owned(),
                    r["disposition"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            listed,
            vec![
                (ambulance.to_string(), "emergency_ambulance".to_owned()),
                (urgent.to_string(), "urgent_24h".to_owned()),
                (routine.to_string(), "routine".to_owned()),
            ]
        );
    }
    let (status, _, body) = get(
        &server,
        "/api/triage-reports?limit=1&offset=1",
        Some(&clinician),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["reports"].as_array().unwrap().len(), 1);
    assert_eq!(body["reports"][0]["id"], urgent.to_string());
    for bad in ["?limit=0", "?limit=1000", "?limit=ten", "?offset=-1"] {
        let (status, _, body) = get(
            &server,
            &format!("/api/triage-reports{bad}"),
            Some(&clinician),
        )
        .await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (400, &json!("bad_request")),
            "{bad}"
        );
    }

    let (status, _, body) = get(&server, &one, Some(&clinician)).await;
    assert_eq!(status, 200);
    assert_eq!(body["id"], ambulance.to_string());
    assert_eq!(body["disposition"], "emergency_ambulance");
    assert_eq!(body["patient_ref"], "15551239002");
    assert!(
        body["rendered"]
            .as_str()
            .unwrap()
            .starts_with("TRIAGE REPORT")
    );

    let unknown = format!("/api/triage-reports/{}", uuid::Uuid::now_v7());
    let (status, _, body) = get(&server, &unknown, Some(&clinician)).await;
    assert_eq!((status, &body["error"]["code"]), (404, &json!("not_found")));
    let (status, _, body) = get(&server, "/api/triage-reports/42", Some(&clinician)).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("bad_request"))
    );
    server.shutdown().await.unwrap();
}

async fn an_emergency_on_whatsapp_becomes_a_report_with_its_rule_and_the_patients_words(
    storage: StorageConfig,
) {
    let graph = wa::fake_graph().await;
    let mut config = common::server_config(storage);
    wa::configure(&mut config, &graph);
    let server = app::start(config, StartOptions::default()).await.unwrap();
    let storage = server.wait_for_storage(WAIT).await.unwrap();
    let (clinician, _) = token(&storage, Role::Clinician).await;

    let said = "my dad is sweaty and his chest feels tight";
    let body = wa::text(
        "15551239101",
        "wamid.HBgLMTU1NTEyMzkxMDEVAgASGBQzQUFC",
        said,
        chrono::Utc::now().timestamp(),
    );
    assert_eq!(wa::post(server.addr, &body).await, 200);
    // A redelivery of the same webhook must not make a second report.
    assert_eq!(wa::post(server.addr, &body).await, 200);

    let list = common::eventually(WAIT, || async {
        let (status, _, body) = get(&server, "/api/triage-reports", Some(&clinician)).await;
        (status == 200 && !body["reports"].as_array()?.is_empty()).then_some(body)
    })
    .await
    .expect("a report appears");
    let reports = list["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 1, "{list}");
    assert_eq!(reports[0]["disposition"], "emergency_ambulance");

    let id = reports[0]["id"].as_str().unwrap();
    let (status, _, report) = get(
        &server,
        &format!("/api/triage-reports/{id}"),
        Some(&clinician),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(report["patient_ref"], "15551239101");
    let structured = &report["report"];
    assert_eq!(structured["disposition"], "emergency_ambulance");
    assert_eq!(structured["model"], "none");
    assert_eq!(structured["excerpts"], json!([]));
    let flag = structured["red_flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "cardiac.chest_pain_with_autonomic_signs")
        .unwrap_or_else(|| panic!("the cardiac rule is in the report: {structured}"));
    assert!(!flag["source"].as_str().unwrap().is_empty(), "{flag}");
    assert!(
        structured["rationale"]
            .as_str()
            .unwrap()
            .contains("cardiac.chest_pain_with_autonomic_signs")
    );
    let words: Vec<&str> = structured["evidence_present"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["words"].as_array().unwrap())
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(!words.is_empty(), "{structured}");
    for w in &words {
        assert!(said.contains(w), "`{w}` is the patient's own words: {said}");
    }
    let rendered = report["rendered"].as_str().unwrap();
    assert!(
        rendered.contains("cardiac.chest_pain_with_autonomic_signs") && rendered.contains(words[0]),
        "{rendered}"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn tokens_are_stored_only_as_their_sha256() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::sqlite_config(&dir);
    let storage = Storage::open(&config, true).await.unwrap();
    let (plain, _) = token(&storage, Role::Clinician).await;
    let pool =
        server::storage::sqlite::connect(&format!("sqlite://{}", config.sqlite_path.display()), 1)
            .await
            .unwrap();
    let rows: Vec<(String,)> = sqlx::query_as("SELECT token_hash FROM api_tokens")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_ne!(rows[0].0, plain);
    assert!(!rows[0].0.contains(&plain[4..]));
    use sha2::Digest;
    assert_eq!(
        rows[0].0,
        hex::encode(sha2::Sha256::digest(plain.as_bytes()))
    );
}

fn triage(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_triage"));
    cmd.current_dir(dir);
    for (key, _) in std::env::vars() {
        if key.starts_with("TRIAGE__") || key == "TRIAGE_CONFIG" {
            cmd.env_remove(key);
        }
    }
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_create_prints_a_token_that_works_until_token_revoke() {
    let dir = tempfile::tempdir().unwrap();
    let out = triage(dir.path())
        .args([
            "token",
            "create",
            "--role",
            "clinician",
            "--label",
            "ward 3",
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "{stdout}{stderr}");
    let token = stdout.trim().to_owned();
    assert!(token.starts_with("trg_") && token.len() == 68, "{stdout}");
    assert!(stderr.contains("cannot be shown again"), "{stderr}");
    assert!(!stderr.contains(&token), "the token is printed once");
    let id = stderr
        .split_whitespace()
        .find_map(|w| w.trim_end_matches(';').parse::<uuid::Uuid>().ok())
        .unwrap_or_else(|| panic!("the token's id is named: {stderr}"));

    // The server on the same file (data/triage.db, the default) accepts it.
    let server = app::start(
        common::server_config(StorageConfig {
            sqlite_path: dir.path().join("data/triage.db"),
            ..StorageConfig::default()
        }),
        StartOptions::default(),
    )
    .await
    .unwrap();
    server.wait_for_storage(WAIT).await.unwrap();
    let (status, _, body) = get(&server, "/api/triage-reports", Some(&token)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reports"], json!([]));

    let out = triage(dir.path())
        .args(["token", "revoke", &id.to_string()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", out);
    assert_eq!(
        get(&server, "/api/triage-reports", Some(&token)).await.0,
        401
    );
    let again = triage(dir.path())
        .args(["token", "revoke", &id.to_string()])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));

    let bad = triage(dir.path())
        .args(["token", "create", "--role", "root"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "clap refuses an unknown role");
    server.shutdown().await.unwrap();
}
