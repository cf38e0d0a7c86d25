//! Runs cases through the agent (and a model, when one is configured), the
//! same way the WhatsApp workers do: the rules answer each turn, then the
//! model may add findings and, at the conclusion, propose a disposition.

use std::time::Instant;

use agent::{Action, Agent, ConversationState, PatientInput, Stage, StepContext};
use llm::Advisor;
use prompts::Disposition;
use retrieval::Embedder;
use serde::{Deserialize, Serialize};

use crate::patient::{AnswerSource, Mode, SimulatedPatient};
use crate::suite::Case;

/// One line of a transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    /// `patient` or `agent`.
    pub role: String,
    /// What was said.
    pub text: String,
    /// For patient answers: where the answer came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// The result of one case run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    /// Case id.
    pub id: String,
    /// Suite name.
    pub suite: String,
    /// Repetition index (0-based).
    pub repeat: usize,
    /// Scheme of the suite's labels.
    pub scheme: crate::suite::Scheme,
    /// Correct label.
    pub gold: String,
    /// The prediction in the suite's scheme.
    pub predicted: String,
    /// The agent's five-level disposition (`null` when it never concluded).
    pub predicted_disposition: Option<Disposition>,
    /// Whether the conversation reached a disposition.
    pub concluded: bool,
    /// `predicted == gold`.
    pub correct: bool,
    /// Less urgent than gold.
    pub under_triage: bool,
    /// More urgent than gold.
    pub over_triage: bool,
    /// Questions the agent asked.
    pub questions_asked: usize,
    /// The conversation.
    pub transcript: Vec<Turn>,
    /// Red-flag rule ids that fired.
    pub rules_fired: Vec<String>,
    /// Red-flag categories the case presents.
    pub red_flags: Vec<String>,
    /// Language of the case.
    pub language: String,
    /// Wall-clock time of the whole conversation.
    pub latency_ms: f64,
    /// Model calls that failed (the rules' answer stood).
    pub model_errors: Vec<String>,
    /// The model's rationale, when one contributed.
    pub model_rationale: Option<String>,
    /// Why the conversation was handed off to a clinician, if it was.
    #[serde(default)]
    pub handoff: Option<String>,
    /// `expect` checks of the case that failed.
    #[serde(default)]
    pub expect_failures: Vec<String>,
    /// Whether the case has `expect` checks.
    #[serde(default)]
    pub has_expectations: bool,
}

/// How to run.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// Patient mode.
    pub mode: Mode,
    /// Patient messages at most (the opening included).
    pub max_turns: usize,
    /// Ask the model for findings on every message.
    pub extraction: bool,
    /// A chat model that role-plays the patient (conversation mode), if any.
    pub role_play: Option<std::sync::Arc<dyn llm::ChatModel>>,
}

/// Why a case could not be run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The agent's knowledge did not load.
    #[error("triage knowledge invalid: {0}")]
    Knowledge(String),
    /// The simulated patient's embedder failed.
    #[error("simulated patient: {0}")]
    Patient(#[from] retrieval::EmbedError),
}

fn action_text(a: &Action) -> &str {
    match a {
        Action::Reply { text } | Action::Ask { text, .. } => text,
    }
}

/// Runs one case.
#[expect(
    clippy::explicit_counter_loop,
    reason = "`open_answers` counts open questions only; the lint misreads the let-else branch"
)]
pub async fn run_case(
    case: &Case,
    suite: &str,
    repeat: usize,
    settings: &RunSettings,
    advisor: Option<&Advisor>,
    embedder: Option<&Embedder>,
) -> Result<CaseResult, RunError> {
    let agent = Agent::shared().map_err(|e| RunError::Knowledge(e.to_string()))?;
    let patient = SimulatedPatient::new(case, settings.mode, embedder)?;
    let started = Instant::now();
    let mut state = ConversationState::default();
    let mut transcript = Vec::new();
    let mut model_errors = Vec::new();
    let mut text = case.opening.clone();
    let mut source: Option<AnswerSource> = None;
    let mut open_answers = 0;
    let mut first_language = None;
    for turn in 0..settings.max_turns.max(1) {
        transcript.push(Turn {
            role: "patient".to_owned(),
            text: text.clone(),
            source: source.map(AnswerSource::as_str).map(str::to_owned),
        });
        let (next, actions) = agent.step(
            state,
            &PatientInput::Text { text: text.clone() },
            &StepContext {
                input_key: format!("{}:{repeat}:{turn}", case.id),
                sent_at: 0,
            },
        );
        state = next;
        let mut said: Vec<Action> = actions;
        if let Some(advisor) = advisor {
            let c = advisor
                .consult(agent, state, Some(text.as_str()), settings.extraction)
                .await;
            state = c.state;
            said.extend(c.actions);
            model_errors.extend(
                c.failures
                    .into_iter()
                    .map(|(call, e)| format!("{call}: {e}")),
            );
        }
        let question = said.iter().rev().find_map(|a| match a {
            Action::Ask { text, .. } => Some(text.clone()),
            Action::Reply { .. } => None,
        });
        for a in &said {
            transcript.push(Turn {
                role: "agent".to_owned(),
                text: action_text(a).to_owned(),
                source: None,
            });
        }
        if turn == 0 {
            first_language = state.language;
        }
        if state.stage != Stage::CollectingSymptoms {
            break;
        }
        let (Some(concept), Some(question)) = (state.pending_question.clone(), question) else {
            // A welcome, an open question or a menu: the patient goes on
            // with their story, or says they do not know.
            let (answer, from) = patient.open_answer(open_answers);
            open_answers += 1;
            text = answer;
            source = Some(from);
            continue;
        };
        let topic = concept.topic().to_owned();
        let (answer, from) = match (&settings.role_play, settings.mode) {
            (Some(model), Mode::Conversation) => {
                match crate::patient::role_play(model.as_ref(), case, &transcript, &question).await
                {
                    Ok(answer) => (answer, AnswerSource::RolePlay),
                    Err(e) => {
                        model_errors.push(format!("role_play: {e}"));
                        patient.answer(&topic, &question)?
                    }
                }
            }
            _ => patient.answer(&topic, &question)?,
        };
        text = answer;
        source = Some(from);
    }
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let scheme = case.scheme;
    let handoff = state.handoff.as_ref().map(|h| h.reason.as_str().to_owned());
    // A hand-off carries the disposition its review deadline stands for.
    let disposition = state
        .disposition
        .max(state.handoff.as_ref().map(|h| h.disposition));
    let concluded = disposition.is_some();
    let expect_failures = expectation_failures(case, &state, first_language, handoff.is_some());
    // A conversation that never concluded gave the patient no instruction:
    // scored as the least urgent outcome.
    let predicted = scheme.map(disposition.unwrap_or(Disposition::SelfCare));
    let gold_rank = scheme.rank(&case.gold).unwrap_or(0);
    let predicted_rank = scheme.rank(predicted).unwrap_or(usize::MAX);
    Ok(CaseResult {
        id: case.id.clone(),
        suite: suite.to_owned(),
        repeat,
        scheme,
        gold: case.gold.clone(),
        predicted: predicted.to_owned(),
        predicted_disposition: disposition,
        concluded,
        correct: predicted == case.gold,
        under_triage: predicted_rank > gold_rank,
        over_triage: predicted_rank < gold_rank,
        questions_asked: state.asked.len(),
        transcript,
        rules_fired: state.fired.iter().map(|f| f.id.clone()).collect(),
        red_flags: case.red_flags.clone(),
        language: case.language.clone().unwrap_or_else(|| "en".to_owned()),
        latency_ms,
        model_errors,
        model_rationale: state.model_rationale.clone(),
        handoff,
        expect_failures,
        has_expectations: case.expect != crate::suite::Expectations::default(),
    })
}

/// The case's `expect` checks that failed, in words.
fn expectation_failures(
    case: &Case,
    state: &ConversationState,
    first_language: Option<prompts::Language>,
    handed_off: bool,
) -> Vec<String> {
    let mut out = Vec::new();
    let expect = &case.expect;
    if let Some(want) = expect.handoff
        && want != handed_off
    {
        out.push(format!("handoff: expected {want}, got {handed_off}"));
    }
    if let Some(want) = &expect.reply_language {
        let got = first_language.map_or("en", prompts::Language::code);
        if got != want {
            out.push(format!("reply_language: expected {want}, got {got}"));
        }
    }
    for topic in &expect.never_asked {
        if state.asked.iter().any(|q| q.topic() == topic) {
            out.push(format!("never_asked: {topic} was asked"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::parse_suite;

    fn settings(mode: Mode) -> RunSettings {
        RunSettings {
            mode,
            max_turns: 12,
            extraction: false,
            role_play: None,
        }
    }

    #[tokio::test]
    async fn an_emergency_opening_is_predicted_emergent_on_the_first_turn() {
        let s = parse_suite(
            "t",
            "t",
            r#"{"id":"a","scheme":"coarse3","gold":"emergent","opening":"crushing chest pain and I'm sweating","red_flags":["acs"]}"#,
        );
        let r = run_case(&s.cases[0], "t", 0, &settings(Mode::Single), None, None)
            .await
            .unwrap();
        assert!(r.correct, "{r:?}");
        assert_eq!(r.predicted, "emergent");
        assert!(!r.rules_fired.is_empty());
        assert_eq!(r.transcript[0].role, "patient");
        assert_eq!(r.questions_asked, 0);
    }

    #[tokio::test]
    async fn conversation_mode_answers_from_facts() {
        let s = parse_suite(
            "t",
            "t",
            r#"{"id":"b","scheme":"five","gold":"emergency_ambulance","opening":"my chest hurts","facts":[{"topic":"sweating","answer":"yes"},{"topic":"breathless","answer":"yes"}]}"#,
        );
        let single = run_case(&s.cases[0], "t", 0, &settings(Mode::Single), None, None)
            .await
            .unwrap();
        let conv = run_case(
            &s.cases[0],
            "t",
            0,
            &settings(Mode::Conversation),
            None,
            None,
        )
        .await
        .unwrap();
        assert!(single.questions_asked > 0);
        // Single mode answers "I don't know", which the agent treats as a possible yes.
        assert!(
            single
                .transcript
                .iter()
                .any(|t| t.source.as_deref() == Some("unknown") && t.text == "I don't know"),
            "{single:?}"
        );
        assert!(conv.correct, "{conv:?}");
        assert!(
            conv.transcript
                .iter()
                .any(|t| t.source.as_deref() == Some("fact"))
        );
    }
}
