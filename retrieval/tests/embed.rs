#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The MiniLM embedder against the real model files in `models/`.
//! Relative similarity checks stand in for reference vectors (no torch here).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use retrieval::{EMBEDDING_DIM, EmbedError, Embedder, cosine};

fn model_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/all-MiniLM-L6-v2")
}

/// Loading takes ~0.5 s; share one embedder across the tests in this binary.
fn embedder() -> &'static Embedder {
    static EMBEDDER: OnceLock<Embedder> = OnceLock::new();
    EMBEDDER.get_or_init(|| Embedder::load(&model_dir()).expect("load all-MiniLM-L6-v2"))
}

fn sim(a: &str, b: &str) -> f32 {
    let v = embedder().embed(&[a, b]).unwrap();
    cosine(&v[0], &v[1])
}

fn assert_close(a: &[f32], b: &[f32], tol: f32) {
    assert_eq!(a.len(), b.len());
    let worst = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    assert!(worst <= tol, "max abs difference {worst} > {tol}");
}

#[test]
fn embedder_is_send_sync_debug() {
    fn check<T: Send + Sync + std::fmt::Debug>() {}
    check::<Embedder>();
    let shown = format!("{:?}", embedder());
    assert!(shown.contains("dimension: 384"), "{shown}");
}

#[test]
fn embeddings_are_unit_length_and_384_dimensional() {
    let e = embedder();
    assert_eq!(e.dimension(), 384);
    assert_eq!(e.dimension(), EMBEDDING_DIM);
    assert_eq!(e.max_seq_length(), 256);
    let vectors = e
        .embed(&["When did the pain start?", "", "Fever and a stiff neck."])
        .unwrap();
    assert_eq!(vectors.len(), 3);
    for v in &vectors {
        assert_eq!(v.len(), 384);
        assert!(v.iter().all(|x| x.is_finite()));
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "norm {norm}");
    }
}

#[test]
fn empty_input_gives_empty_output() {
    assert!(embedder().embed(&[]).unwrap().is_empty());
}

/// Published sentence-transformers outputs for all-MiniLM-L6-v2 (4 decimals):
/// sbert.net "Semantic Textual Similarity" and "Usage" pages. We match to
/// within 3e-4; 5e-4 leaves room for float reassociation across CPUs.
#[test]
fn matches_published_sentence_transformers_similarities() {
    let left = [
        "The new movie is awesome",
        "The cat sits outside",
        "A man is playing guitar",
    ];
    let right = [
        "The dog plays in the garden",
        "The new movie is so great",
        "A woman watches TV",
    ];
    let expected = [
        [0.0543, 0.8939, -0.0502],
        [0.2838, -0.0029, 0.1310],
        [0.2277, -0.0136, -0.0327],
    ];
    let e = embedder();
    let l = e.embed(&left).unwrap();
    let r = e.embed(&right).unwrap();
    for i in 0..3 {
        for j in 0..3 {
            let got = cosine(&l[i], &r[j]);
            assert!(
                (got - expected[i][j]).abs() < 5e-4,
                "{:?} vs {:?}: {got} != {}",
                left[i],
                right[j],
                expected[i][j]
            );
        }
    }

    let usage = e
        .embed(&[
            "The weather is lovely today.",
            "It's so sunny outside!",
            "He drove to the stadium.",
        ])
        .unwrap();
    for (a, b, want) in [(0, 1, 0.6660), (0, 2, 0.1046), (1, 2, 0.1411)] {
        let got = cosine(&usage[a], &usage[b]);
        assert!((got - want).abs() < 5e-4, "{a},{b}: {got} != {want}");
    }
}

#[test]
fn related_sentences_score_higher_than_unrelated() {
    let q = "When did the pain start?";
    let related = sim(q, "The pain began two hours ago");
    let unrelated = sim(q, "I have two cats");
    assert!(related > unrelated + 0.2, "{related} vs {unrelated}");

    let q = "Do you have a fever?";
    let related = sim(q, "My temperature was 39 degrees this morning");
    let unrelated = sim(q, "The bus was late again today");
    assert!(related > unrelated + 0.1, "{related} vs {unrelated}");

    let q = "Are you having trouble breathing?";
    let related = sim(q, "I get short of breath when I climb the stairs");
    let unrelated = sim(q, "My favourite colour is blue");
    assert!(related > unrelated + 0.2, "{related} vs {unrelated}");
}

#[test]
fn identical_text_has_cosine_one_and_paraphrase_is_high() {
    assert!((sim("chest pain", "chest pain") - 1.0).abs() < 1e-5);
    // all-MiniLM-L6-v2 puts close paraphrases well above 0.6.
    let s = sim("A man is eating food.", "A man is eating a piece of bread.");
    assert!(s > 0.6, "{s}");
    let s = sim("A man is eating food.", "A monkey is playing drums.");
    assert!(s < 0.2, "{s}");
}

#[test]
fn simulated_patient_finds_the_answering_sentence() {
    // The eval runner's use: pick the vignette sentence nearest the question.
    let vignette = [
        "I am 34 years old.",
        "The headache started suddenly this afternoon.",
        "It is the worst headache of my life.",
        "I have no allergies to medicines.",
        "I vomited twice.",
    ];
    let e = embedder();
    let sentences = e.embed(&vignette).unwrap();
    let nearest = |question: &str| {
        let q = &e.embed(&[question]).unwrap()[0];
        let (best, _) = sentences
            .iter()
            .enumerate()
            .map(|(i, s)| (i, cosine(q, s)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        vignette[best]
    };
    assert_eq!(nearest("How old are you?"), vignette[0]);
    assert_eq!(nearest("When did the headache begin?"), vignette[1]);
    assert_eq!(nearest("Are you allergic to any drugs?"), vignette[3]);
    assert_eq!(nearest("Have you been sick or thrown up?"), vignette[4]);
}

#[test]
fn batch_equals_one_by_one() {
    // Very different lengths, so most rows of a batch are padded: a mask or
    // pooling bug shows up as a difference from the unpadded single run.
    let texts = [
        "Hi",
        "",
        "When did the pain start?",
        "The pain began two hours ago after lunch, spreading from the centre of my chest \
         into my left arm and jaw, and I have been sweating and feeling sick since then.",
        "I have two cats",
        "Fever",
    ];
    let e = embedder();
    let batched = e.embed(&texts).unwrap();
    for (text, b) in texts.iter().zip(&batched) {
        let single = e.embed(&[*text]).unwrap();
        assert_close(b, &single[0], 1e-4);
    }
}

#[test]
fn more_than_one_internal_batch_keeps_input_order() {
    // 70 texts cross the 32-text internal batches and get reordered by length.
    let texts: Vec<String> = (0..70)
        .map(|i| format!("Symptom report number {i}: {}", "cough ".repeat(i % 7)))
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let e = embedder();
    let all = e.embed(&refs).unwrap();
    assert_eq!(all.len(), 70);
    for i in [0, 31, 32, 45, 69] {
        let single = e.embed(&[refs[i]]).unwrap();
        assert_close(&all[i], &single[0], 1e-4);
    }
}

#[test]
fn long_input_is_truncated_at_256_tokens() {
    let long = "The patient reports intermittent abdominal pain. ".repeat(100);
    let e = embedder();
    let out = e.embed(&[&long, "short"]).unwrap();
    assert_eq!(out[0].len(), 384);
    let norm = out[0].iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-5);
    // Everything past token 256 is dropped, so extra text changes nothing.
    let longer = format!("{long} Completely different trailing content about cats.");
    let out2 = e.embed(&[&longer]).unwrap();
    assert_close(&out[0], &out2[0], 1e-5);
}

#[test]
fn embedder_works_across_threads() {
    let e = Arc::new(Embedder::load(&model_dir()).unwrap());
    let expected = e.embed(&["Is the rash spreading?"]).unwrap();
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let e = Arc::clone(&e);
            std::thread::spawn(move || e.embed(&["Is the rash spreading?"]).unwrap())
        })
        .collect();
    for h in handles {
        assert_close(&h.join().unwrap()[0], &expected[0], 1e-6);
    }
}

#[test]
fn cosine_handles_edge_cases() {
    assert_eq!(cosine(&[1.0, 0.0], &[0.0, 1.0]), 0.0);
    assert!((cosine(&[1.0, 2.0], &[2.0, 4.0]) - 1.0).abs() < 1e-6);
    assert!((cosine(&[1.0, 0.0], &[-1.0, 0.0]) + 1.0).abs() < 1e-6);
    assert_eq!(cosine(&[0.0, 0.0], &[1.0, 1.0]), 0.0);
    assert_eq!(cosine(&[1.0], &[1.0, 0.0]), 0.0);
    assert_eq!(cosine(&[], &[]), 0.0);
}

#[test]
fn missing_directory_is_an_error_naming_the_file() {
    let err = Embedder::load(Path::new("/nonexistent/minilm")).unwrap_err();
    match &err {
        EmbedError::Read { path, .. } => assert!(path.ends_with("config.json")),
        other => panic!("unexpected error {other:?}"),
    }
    assert!(err.to_string().contains("/nonexistent/minilm/config.json"));
}

/// Copies the model directory into a temp dir so one file can be broken.
fn copy_model(name: &str) -> PathBuf {
    let dst = std::env::temp_dir().join(format!("embed-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dst);
    std::fs::create_dir_all(dst.join("1_Pooling")).unwrap();
    let src = model_dir();
    for f in [
        "config.json",
        "tokenizer.json",
        "sentence_bert_config.json",
        "1_Pooling/config.json",
    ] {
        std::fs::copy(src.join(f), dst.join(f)).unwrap();
    }
    dst
}

#[test]
fn missing_weights_name_the_file() {
    let dir = copy_model("no-weights");
    let err = Embedder::load(&dir).unwrap_err();
    assert!(
        matches!(&err, EmbedError::Read { path, .. } if path.ends_with("model.safetensors")),
        "{err:?}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn corrupt_weights_are_an_error() {
    let dir = copy_model("bad-weights");
    std::fs::write(dir.join("model.safetensors"), b"not a safetensors file").unwrap();
    let err = Embedder::load(&dir).unwrap_err();
    assert!(matches!(&err, EmbedError::Weights { .. }), "{err:?}");
    assert!(err.to_string().contains("model.safetensors"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn corrupt_tokenizer_and_config_are_errors() {
    let dir = copy_model("bad-tokenizer");
    std::fs::write(dir.join("tokenizer.json"), b"{\"not\": \"a tokenizer\"}").unwrap();
    let err = Embedder::load(&dir).unwrap_err();
    assert!(matches!(&err, EmbedError::Tokenizer { .. }), "{err:?}");
    assert!(err.to_string().contains("tokenizer.json"), "{err}");

    std::fs::write(dir.join("config.json"), b"{ truncated").unwrap();
    let err = Embedder::load(&dir).unwrap_err();
    assert!(matches!(&err, EmbedError::Config { path, .. } if path.ends_with("config.json")));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn non_mean_pooling_is_unsupported() {
    let dir = copy_model("cls-pooling");
    std::fs::write(
        dir.join("1_Pooling/config.json"),
        br#"{"word_embedding_dimension": 384, "pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false}"#,
    )
    .unwrap();
    let err = Embedder::load(&dir).unwrap_err();
    assert!(matches!(&err, EmbedError::Unsupported { .. }), "{err:?}");
    std::fs::remove_dir_all(dir).unwrap();
}
