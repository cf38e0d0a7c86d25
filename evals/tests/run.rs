//! End-to-end eval runs: real agent, real embeddings for the simulated
//! patient, a local fake of the OpenAI chat-completions wire format for the
//! model backend.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use axum::Json;
use axum::routing::post;
use evals::compare::{Thresholds, compare};
use evals::patient::Mode;
use evals::runner::RunSettings;
use evals::suite::parse_suite;
use evals::{RunPlan, read_cases, read_metrics, run, write_outputs};
use serde_json::{Value, json};

const SUITE: &str = r#"{"id":"e1","scheme":"five","gold":"emergency_ambulance","opening":"my dad is sweaty and his chest feels tight","red_flags":["acs"]}
{"id":"r1","scheme":"five","gold":"routine","opening":"I've had back pain for two weeks","facts":[{"topic":"saddle_numbness","answer":"no"},{"topic":"bladder_bowel_loss","answer":"no"},{"topic":"fever","answer":"no"}]}
this line is broken
{"id":"s1","scheme":"five","gold":"self_care","opening":"I have a runny nose and I keep sneezing"}
"#;

fn plan(text: &str, mode: Mode, backend: &str) -> RunPlan {
    RunPlan {
        suites: vec![parse_suite("mini", "mini.jsonl", text)],
        settings: RunSettings {
            mode,
            max_turns: 12,
            extraction: true,
            role_play: None,
        },
        repeat: 1,
        seed: 7,
        concurrency: 2,
        backend: backend.to_owned(),
    }
}

fn workspace_path(p: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(p)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_writes_every_file_with_the_documented_fields() {
    let p = plan(SUITE, Mode::Single, "none");
    assert_eq!(p.suites[0].errors.len(), 1);
    assert_eq!(p.suites[0].errors[0].line, 3);
    let out = run(&p, None, None, Arc::new(AtomicBool::new(false)), &|_| {})
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_outputs(dir.path(), &out).unwrap();
    let metrics: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("metrics.json")).unwrap())
            .unwrap();
    for key in [
        "cases",
        "accuracy",
        "accuracy_ci95",
        "under_triage_rate",
        "over_triage_rate",
        "emergency_recall",
        "emergency_cases",
        "red_flag_recall",
        "mean_questions",
        "latency_ms_p50",
        "latency_ms_p95",
        "by_gold",
        "confusion",
    ] {
        assert!(metrics.get(key).is_some(), "metrics.json lacks {key}");
    }
    assert_eq!(metrics["cases"], 3);
    assert_eq!(metrics["emergency_recall"], 1.0);
    assert_eq!(metrics["errors"][0]["line"], 3);
    let cases = read_cases(dir.path()).unwrap();
    assert_eq!(
        cases.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        vec!["e1", "r1", "s1"]
    );
    let e1 = &cases[0];
    assert_eq!(e1.predicted, "emergency_ambulance");
    assert!(!e1.rules_fired.is_empty());
    assert!(e1.transcript.len() >= 2);
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(md.contains("Confusion"), "{md}");
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("confusion matrix"));
    // Comparing a run with itself finds nothing.
    let m = read_metrics(dir.path()).unwrap();
    let c = compare(
        &m,
        &m,
        &cases,
        &cases,
        Thresholds {
            max_accuracy_drop: 0.0,
            min_emergency_recall: Some(1.0),
        },
    );
    assert!(c.regressions.is_empty(), "{}", c.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn compare_flags_accuracy_drops_and_missed_emergencies() {
    let base = run(
        &plan(SUITE, Mode::Single, "none"),
        None,
        None,
        Arc::new(AtomicBool::new(false)),
        &|_| {},
    )
    .await
    .unwrap();
    let mut worse_cases = base.cases.clone();
    worse_cases[0].predicted = "routine".into();
    worse_cases[0].correct = false;
    worse_cases[0].under_triage = true;
    let mut worse = base.metrics.clone();
    worse.metrics = evals::metrics::compute(&worse_cases);
    worse
        .by_suite
        .insert("mini".into(), evals::metrics::compute(&worse_cases));
    let c = compare(
        &base.metrics,
        &worse,
        &base.cases,
        &worse_cases,
        Thresholds {
            max_accuracy_drop: 0.05,
            min_emergency_recall: Some(1.0),
        },
    );
    assert!(
        c.regressions.iter().any(|r| r.contains("emergency recall")),
        "{}",
        c.text
    );
    assert!(c.regressions.iter().any(|r| r.contains("accuracy fell")));
    assert!(c.text.contains("BROKE mini/e1"), "{}", c.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn conversation_mode_answers_from_the_vignette_by_similarity() {
    let embedder = retrieval::Embedder::load(&workspace_path("models/all-MiniLM-L6-v2")).unwrap();
    let text = r#"{"id":"v1","scheme":"five","gold":"emergency_ambulance","opening":"my chest hurts","vignette":"He has been sweating heavily and feels cold and clammy. He is a smoker."}"#;
    let out = run(
        &plan(text, Mode::Conversation, "none"),
        None,
        Some(&embedder),
        Arc::new(AtomicBool::new(false)),
        &|_| {},
    )
    .await
    .unwrap();
    let case = &out.cases[0];
    assert!(
        case.transcript
            .iter()
            .any(|t| t.source.as_deref() == Some("similar")),
        "{:#?}",
        case.transcript
    );
    assert_eq!(
        case.predicted, "emergency_ambulance",
        "{:#?}",
        case.transcript
    );
}

/// A fake `/v1/chat/completions`: `respond` gives the message content for a
/// request body. Returns the base URL.
async fn fake_chat(respond: impl Fn(&Value) -> String + Clone + Send + Sync + 'static) -> String {
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        post(move |Json(body): Json<Value>| {
            let respond = respond.clone();
            async move {
                let content = respond(&body);
                Json(json!({
                    "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "medgemma",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]
                }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/v1")
}

/// A fake answering `content` to proposals and no findings to extractions.
async fn fake_openai(content: String) -> String {
    fake_chat(move |body| {
        if body["response_format"]["json_schema"]["name"] == "triage_extraction" {
            json!({"findings": []}).to_string()
        } else {
            content.clone()
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_openai_backend_can_raise_but_garbage_leaves_the_rules_result() {
    let text = r#"{"id":"c1","scheme":"five","gold":"urgent_24h","opening":"I have a cough"}"#;
    let none = run(
        &plan(text, Mode::Single, "none"),
        None,
        None,
        Arc::new(AtomicBool::new(false)),
        &|_| {},
    )
    .await
    .unwrap();
    let rules = none.cases[0].predicted.clone();
    for (content, expect_raised) in [
        (
            json!({"disposition": "urgent_24h", "rationale": "Cough with risk factors.", "concepts": []})
                .to_string(),
            true,
        ),
        ("I cannot answer that".to_owned(), false),
    ] {
        let base = fake_openai(content).await;
        let model = llm::OpenAiCompatible::new(reqwest::Client::new(), &base, "medgemma", None);
        let advisor = llm::Advisor::new(Arc::new(model));
        let out = run(
            &plan(text, Mode::Single, "openai"),
            Some(&advisor),
            None,
            Arc::new(AtomicBool::new(false)),
            &|_| {},
        )
        .await
        .unwrap();
        let case = &out.cases[0];
        assert_eq!(out.metrics.run.model.as_deref(), Some("medgemma"));
        if expect_raised {
            assert_eq!(case.predicted, "urgent_24h", "{case:#?}");
            assert!(case.model_rationale.is_some());
        } else {
            assert_eq!(case.predicted, rules, "{case:#?}");
            assert!(!case.model_errors.is_empty());
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_role_playing_patient_answers_through_the_chat_endpoint() {
    let base = fake_chat(|body| {
        assert_eq!(
            body["response_format"]["json_schema"]["name"],
            "patient_answer"
        );
        json!({"answer": "yes, I'm sweating a lot"}).to_string()
    })
    .await;
    let patient = llm::OpenAiCompatible::new(reqwest::Client::new(), &base, "patient", None);
    let mut p = plan(
        r#"{"id":"rp1","scheme":"five","gold":"emergency_ambulance","opening":"my chest hurts","vignette":"Crushing chest pain with sweating."}"#,
        Mode::Conversation,
        "none",
    );
    p.settings.role_play = Some(Arc::new(patient));
    let out = run(&p, None, None, Arc::new(AtomicBool::new(false)), &|_| {})
        .await
        .unwrap();
    let case = &out.cases[0];
    assert!(
        case.transcript
            .iter()
            .any(|t| t.source.as_deref() == Some("role_play")),
        "{:#?}",
        case.transcript
    );
    assert_eq!(
        case.predicted, "emergency_ambulance",
        "{:#?}",
        case.transcript
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_run_keeps_what_it_has_and_says_it_is_partial() {
    let mut p = plan(SUITE, Mode::Single, "none");
    p.concurrency = 1;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    // Ctrl-C sets the same flag: here, after the first case.
    let out = run(&p, None, None, stop, &move |_| {
        flag.store(true, std::sync::atomic::Ordering::SeqCst)
    })
    .await
    .unwrap();
    assert!(out.metrics.partial);
    assert_eq!(out.cases.len(), 1);
    assert_eq!(out.metrics.metrics.cases, 1);
}
