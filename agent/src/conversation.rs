//! The seam between channels and the agent: `Agent::step(state, input, ctx)`.
//!
//! The core is pure: no I/O, no clock reads (time comes in `StepContext`), so
//! the same function runs in the server's workers, in `triage chat` and in
//! `evals`, and a redelivered message replayed against the same state gives
//! the same actions.
//!
//! What it does: commands (HELP, CANCEL, RESTART, language codes), language
//! detection, evidence and numbers from free text, the red-flag engine and
//! the complaint protocols on every turn — an emergency found at turn 1 is
//! answered at turn 1, in the patient's language, without any model — and
//! the interview until nothing could change the disposition.

use std::sync::OnceLock;

use prompts::{Disposition, Knowledge, KnowledgeError, Language};
use serde::{Deserialize, Serialize};

use crate::extract::{Evidence, Extractor, Mention};
use crate::interview::{self, ProtocolMatch, Question};
use crate::red_flags::{self, FiredRule};

/// Where the conversation is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Listening to the patient.
    #[default]
    CollectingSymptoms,
    /// A red flag sent the patient to emergency care.
    Escalated,
    /// The interview reached a disposition.
    Completed,
}

/// What the agent remembers between turns. Stored by the server (Redis with a
/// TTL, or SQLite) and passed back on the next message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConversationState {
    /// Patient messages handled so far.
    pub turns: u32,
    /// Key of the last input applied, so a redelivered input is not applied twice.
    pub last_input_key: Option<String>,
    /// The patient's language, once known.
    #[serde(default)]
    pub language: Option<Language>,
    /// What the patient has reported.
    #[serde(default)]
    pub evidence: Evidence,
    /// Red flags that fired, most urgent first.
    #[serde(default)]
    pub fired: Vec<FiredRule>,
    /// Where the conversation is.
    #[serde(default)]
    pub stage: Stage,
    /// Version of the rule set the flags come from.
    #[serde(default)]
    pub rules_version: Option<String>,
    /// The last question asked, awaiting an answer.
    #[serde(default)]
    pub pending_question: Option<Question>,
    /// Questions asked so far, in order.
    #[serde(default)]
    pub asked: Vec<Question>,
    /// The disposition once decided.
    #[serde(default)]
    pub disposition: Option<Disposition>,
    /// A model's rationale, when one contributed.
    #[serde(default)]
    pub model_rationale: Option<String>,
    /// A model's clinical summary for the clinician, when one contributed.
    #[serde(default)]
    pub model_summary: Option<String>,
    /// Which model contributed, if any.
    #[serde(default)]
    pub model: Option<String>,
    /// Severity the patient gave (0–10): the highest, as evidence only
    /// accumulates.
    #[serde(default)]
    pub severity: Option<u8>,
    /// Durations the patient mentioned, in order.
    #[serde(default)]
    pub durations: Vec<String>,
    /// Age of the person described, latest mention.
    #[serde(default)]
    pub age_years: Option<f32>,
    /// Every age mentioned, in years.
    #[serde(default)]
    pub ages_years: Vec<f32>,
    /// The highest temperature mentioned, °C.
    #[serde(default)]
    pub temperature_c: Option<f32>,
    /// Protocols of the complaints reported so far.
    #[serde(default)]
    pub protocols: Vec<String>,
    /// Protocol rules that matched on any turn.
    #[serde(default)]
    pub protocol_rules: Vec<ProtocolMatch>,
}

impl ConversationState {
    /// The disposition floor the red flags impose so far.
    pub fn floor(&self) -> Option<Disposition> {
        red_flags::floor(&self.fired)
    }
}

/// One thing the patient did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PatientInput {
    /// Free text.
    Text {
        /// What they wrote.
        text: String,
    },
    /// A tap on one of the choices we offered.
    Choice {
        /// The choice id we gave.
        id: String,
        /// Its visible title.
        title: String,
    },
    /// A photo or document (a medical report, usually).
    Attachment {
        /// `image`, `document`, …
        kind: String,
        /// Caption typed with it.
        caption: Option<String>,
    },
    /// Anything else (location, voice note, sticker, unsupported type).
    Other {
        /// The channel's type name.
        kind: String,
    },
}

/// Time and identity of the input, supplied by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct StepContext {
    /// Unique key of this input (e.g. the WhatsApp message id); replaying the
    /// same key against the state that already applied it is a no-op.
    pub input_key: String,
    /// Unix seconds when the patient sent it.
    pub sent_at: i64,
}

/// A choice offered to the patient (a reply button or a list row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// Id returned when chosen.
    pub id: String,
    /// Visible title.
    pub title: String,
}

/// What the agent wants done. Channels render replies within their own limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Send text.
    Reply {
        /// The text.
        text: String,
    },
    /// Ask with a few choices (rendered as buttons or a list).
    Ask {
        /// The question.
        text: String,
        /// The choices.
        choices: Vec<Choice>,
    },
}

/// The agent: validated knowledge plus the compiled extractor.
#[derive(Debug)]
pub struct Agent {
    knowledge: &'static Knowledge,
    extractor: Extractor,
}

/// A command typed by the patient.
enum Command {
    Help,
    Cancel,
    Restart,
    Language(Language),
}

fn command(text: &str) -> Option<Command> {
    let word = text.trim().trim_end_matches(['.', '!']).to_uppercase();
    match word.as_str() {
        "HELP" | "AYUDA" | "AIDE" | "AJUDA" | "MSAADA" | "मदद" => Some(Command::Help),
        "CANCEL" | "CANCELAR" | "ANNULER" | "GHAIRI" | "रद्द" | "रद्द करें" => {
            Some(Command::Cancel)
        }
        "RESTART" | "REINICIAR" | "RECOMMENCER" | "ANZA UPYA" | "फिर से शुरू करें" => {
            Some(Command::Restart)
        }
        code if code.len() == 2 => code.parse().ok().map(Command::Language),
        _ => None,
    }
}

impl Agent {
    /// The agent over the knowledge bundled in this binary (built once).
    pub fn shared() -> Result<&'static Agent, KnowledgeError> {
        static AGENT: OnceLock<Result<Agent, KnowledgeError>> = OnceLock::new();
        AGENT
            .get_or_init(|| {
                let knowledge = Knowledge::bundled()?;
                Ok(Agent {
                    knowledge,
                    extractor: Extractor::new(&knowledge.lexicons),
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The knowledge it runs on.
    pub fn knowledge(&self) -> &Knowledge {
        self.knowledge
    }

    fn say(&self, lang: Language, key: &str) -> String {
        format!(
            "{}\n\n{}",
            self.knowledge.message(lang, key),
            self.knowledge.message(lang, "safety_line")
        )
    }

    /// Closes an interview the patient stopped answering, with the
    /// safety-net message. `None` when there is nothing to close (no
    /// conversation yet, or it already reached a disposition).
    pub fn expire(&self, state: &ConversationState) -> Option<(ConversationState, Vec<Action>)> {
        if state.stage != Stage::CollectingSymptoms || state.turns == 0 {
            return None;
        }
        let lang = state.language.unwrap_or(Language::En);
        let fresh = ConversationState {
            language: state.language,
            last_input_key: state.last_input_key.clone(),
            ..ConversationState::default()
        };
        Some((
            fresh,
            vec![Action::Reply {
                text: self.say(lang, "session_expired"),
            }],
        ))
    }

    /// Applies one patient input to the conversation.
    pub fn step(
        &self,
        state: ConversationState,
        input: &PatientInput,
        ctx: &StepContext,
    ) -> (ConversationState, Vec<Action>) {
        if state.last_input_key.as_deref() == Some(ctx.input_key.as_str()) {
            // Redelivery of an input already applied: nothing new to do or say.
            return (state, Vec::new());
        }
        let mut next = state;
        next.turns = next.turns.saturating_add(1);
        next.last_input_key = Some(ctx.input_key.clone());
        next.rules_version = Some(self.knowledge.rules.version.clone());

        let text = match input {
            PatientInput::Text { text } => Some(text.as_str()),
            PatientInput::Choice { title, .. } => Some(title.as_str()),
            PatientInput::Attachment { caption, .. } => caption.as_deref(),
            PatientInput::Other { .. } => None,
        };
        if let (Some(text), PatientInput::Text { .. }) = (text, input)
            && let Some(cmd) = command(text)
        {
            let lang = next.language.unwrap_or(Language::En);
            return match cmd {
                Command::Help => (
                    next,
                    vec![Action::Reply {
                        text: self.say(lang, "help"),
                    }],
                ),
                // Both start over; only the language is kept.
                Command::Cancel | Command::Restart => {
                    let key = if matches!(cmd, Command::Cancel) {
                        "cancelled"
                    } else {
                        "restarted"
                    };
                    let fresh = ConversationState {
                        language: next.language,
                        last_input_key: next.last_input_key,
                        ..ConversationState::default()
                    };
                    (
                        fresh,
                        vec![Action::Reply {
                            text: self.say(lang, key),
                        }],
                    )
                }
                Command::Language(l) => {
                    next.language = Some(l);
                    (
                        next,
                        vec![Action::Reply {
                            text: self.say(l, "acknowledge"),
                        }],
                    )
                }
            };
        }

        if next.language.is_none() {
            next.language = text.and_then(|t| self.extractor.detect_language(t));
        }
        let lang = next.language.unwrap_or(Language::En);
        if let Some(text) = text {
            self.observe(&mut next, text, lang);
        }
        if let Some(question) = next.pending_question.take() {
            self.apply_answer(&mut next, &question, input, text, lang);
        }
        // Red flags and protocols on every turn, before anything else is said.
        let fired = red_flags::evaluate(&self.knowledge.rules, &next.evidence);
        let new: Vec<&FiredRule> = fired
            .iter()
            .filter(|f| !next.fired.iter().any(|old| old.id == f.id))
            .collect();
        let crisis = new.iter().any(|f| f.crisis);
        let was_escalated = next.stage == Stage::Escalated;
        next.fired = fired.clone();
        let outcome = interview::assess_protocols(self.knowledge, &next);
        for id in outcome.protocols {
            if !next.protocols.contains(&id) {
                next.protocols.push(id);
            }
        }
        for m in outcome.matched {
            if !next.protocol_rules.iter().any(|old| old.id == m.id) {
                next.protocol_rules.push(m);
            }
        }
        // A protocol rule can reach an emergency too (an infant's
        // temperature, a sudden confusion): it is said at once, like a red flag.
        let level = interview::level(self.knowledge, &next);

        let mut actions = Vec::new();
        if crisis {
            actions.push(Action::Reply {
                text: self.say(lang, "crisis"),
            });
        }
        if let Some(f) = level.filter(|f| f.is_emergency()) {
            // Repeat the instruction on every message until they are in
            // care: a patient still writing may not have acted on it.
            if !new.is_empty() || was_escalated || !crisis {
                let key = if f == Disposition::EmergencyAmbulance {
                    "emergency_ambulance"
                } else {
                    "emergency_department"
                };
                actions.push(Action::Reply {
                    text: self.say(lang, key),
                });
            }
            next.stage = Stage::Escalated;
            next.disposition = Some(f);
            return (next, actions);
        }
        if matches!(input, PatientInput::Attachment { .. }) && next.evidence.present.is_empty() {
            actions.push(Action::Reply {
                text: self.say(lang, "acknowledge_file"),
            });
            return (next, actions);
        }
        // The interview: the question whose answer could raise urgency most.
        if let Some(asked) = interview::next_question(self.knowledge, &next)
            && let Some(question) = self.question_text(lang, &asked)
        {
            next.stage = Stage::CollectingSymptoms;
            next.pending_question = Some(asked.clone());
            next.asked.push(asked.clone());
            // The first thing we ever say carries the safety line, even when it is a question.
            let text = if next.turns == 1 {
                format!(
                    "{question}\n\n{}",
                    self.knowledge.message(lang, "safety_line")
                )
            } else {
                question.to_owned()
            };
            // Yes/no gets reply buttons; a severity or a duration is typed.
            let answers: &[&str] = if asked.is_yes_no() {
                &["yes", "no", "unsure"]
            } else {
                &[]
            };
            actions.push(Action::Ask {
                text,
                choices: answers
                    .iter()
                    .map(|answer| Choice {
                        id: format!("{answer}:{asked}"),
                        title: self
                            .knowledge
                            .message(lang, &format!("answer_{answer}"))
                            .to_owned(),
                    })
                    .collect(),
            });
            return (next, actions);
        }
        if next.evidence.present.is_empty() {
            // Nothing clinical heard yet: keep listening.
            actions.push(Action::Reply {
                text: self.say(lang, "acknowledge"),
            });
            return (next, actions);
        }
        // Nothing left that could change the outcome: the most urgent of the
        // red-flag floor and the chief complaints' protocols. Without either,
        // a regular appointment — self-care needs a protocol that supports it.
        let disposition = level.unwrap_or(Disposition::Routine);
        next.disposition = Some(disposition);
        next.stage = Stage::Completed;
        actions.push(Action::Reply {
            text: format!(
                "{} {}",
                self.knowledge.message(lang, "thanks_answers"),
                self.say(lang, disposition.as_str())
            ),
        });
        (next, actions)
    }

    /// Reads what one message says: concepts (negation judged in the
    /// message's language, else the conversation's), severity, durations,
    /// ages and temperature. An age also says which age group the person is
    /// in (an infant, a child), which protocols and red flags use.
    fn observe(&self, state: &mut ConversationState, text: &str, lang: Language) {
        state
            .evidence
            .absorb(self.extractor.extract_in(text, state.language));
        let q = crate::quantities::quantities(text);
        state.severity = q.severity.max(state.severity);
        state.age_years = q.age_years.or(state.age_years);
        state.temperature_c = match (q.temperature_c, state.temperature_c) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        state.durations.extend(q.durations);
        for age in &q.ages_years {
            // NICE NG143 age bands: under 3 months, under 1 year; a child
            // is under 16 (NHS paediatric services).
            let groups = [(0.25, "young_infant"), (1.0, "infant"), (16.0, "child")];
            let derived = groups
                .iter()
                .filter(|(under, _)| *age < *under)
                .map(|(_, concept)| Mention {
                    concept: (*concept).to_owned(),
                    words: format!("age {age:.2} years"),
                    negated: false,
                    language: lang,
                })
                .collect();
            state.evidence.absorb(derived);
        }
        state.ages_years.extend(q.ages_years);
    }

    /// The text of a question in `lang`.
    fn question_text(&self, lang: Language, question: &Question) -> Option<&str> {
        match question {
            Question::Concept(c) => self.knowledge.question(lang, c),
            Question::Severity => Some(self.knowledge.message(lang, "ask_severity")),
            Question::Duration => Some(self.knowledge.message(lang, "ask_duration")),
        }
    }

    /// Applies the answer to the pending question: buttons (`yes:…`,
    /// `no:…`, `unsure:…`) or typed yes/no for a concept — "not sure"
    /// counts as yes: when in doubt about a red flag, assume it is there —
    /// and a typed number for a severity. A typed duration was already read
    /// with the message's other numbers; an answer that cannot be read is
    /// left unanswered (the question is not asked again).
    fn apply_answer(
        &self,
        state: &mut ConversationState,
        question: &Question,
        input: &PatientInput,
        text: Option<&str>,
        lang: Language,
    ) {
        let concept = match question {
            Question::Concept(c) => c.as_str(),
            Question::Severity => {
                if let (PatientInput::Text { .. }, Some(text)) = (input, text)
                    && let Some(n) = interview::severity_answer(text)
                {
                    state.severity = Some(n).max(state.severity);
                }
                return;
            }
            Question::Duration => return,
        };
        let typed = match input {
            PatientInput::Choice { id, .. } => match id.split_once(':') {
                Some(("no", c)) if c == concept => Some(interview::TypedAnswer::No),
                Some(("yes", c)) if c == concept => Some(interview::TypedAnswer::Yes),
                Some((_, c)) if c == concept => Some(interview::TypedAnswer::Unsure),
                _ => None,
            },
            PatientInput::Text { text } => {
                let mentioned =
                    state.evidence.has(concept) || state.evidence.absent.contains(concept);
                if mentioned {
                    None
                } else {
                    interview::typed_answer(text, self.knowledge)
                }
            }
            _ => None,
        };
        // Doubt counts as yes where the red flag is plausible for the story.
        let answer = match typed {
            Some(interview::TypedAnswer::Yes) => Some(true),
            Some(interview::TypedAnswer::No) => Some(false),
            Some(interview::TypedAnswer::Unsure) => {
                interview::doubt_counts(self.knowledge, &state.evidence, concept).then_some(true)
            }
            None => None,
        };
        if let Some(yes) = answer {
            state.evidence.absorb(vec![Mention {
                concept: concept.to_owned(),
                words: format!(
                    "answered {} to: {}",
                    if yes { "yes" } else { "no" },
                    self.knowledge.question(lang, concept).unwrap_or(concept)
                ),
                negated: !yes,
                language: lang,
            }]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(key: &str) -> StepContext {
        StepContext {
            input_key: key.to_owned(),
            sent_at: 1_700_000_000,
        }
    }

    fn text(t: &str) -> PatientInput {
        PatientInput::Text { text: t.to_owned() }
    }

    fn reply(actions: &[Action]) -> String {
        actions
            .iter()
            .map(|a| match a {
                Action::Reply { text } | Action::Ask { text, .. } => text.clone(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn agent() -> &'static Agent {
        Agent::shared().unwrap()
    }

    #[test]
    fn every_reply_carries_the_safety_line() {
        let safety = agent()
            .knowledge()
            .message(Language::En, "safety_line")
            .to_owned();
        let (state, actions) = agent().step(
            ConversationState::default(),
            &text("I have a sore throat"),
            &ctx("m1"),
        );
        assert_eq!(state.turns, 1);
        assert!(reply(&actions).contains(&safety));
        assert_eq!(state.floor(), None);
    }

    #[test]
    fn an_emergency_in_the_first_message_is_answered_at_once() {
        let (state, actions) = agent().step(
            ConversationState::default(),
            &text("my dad is sweaty and his chest feels tight"),
            &ctx("m1"),
        );
        assert_eq!(state.stage, Stage::Escalated);
        assert_eq!(state.floor(), Some(Disposition::EmergencyAmbulance));
        assert!(reply(&actions).contains("Call an ambulance"), "{actions:?}");
        assert!(
            state
                .fired
                .iter()
                .any(|f| f.id == "cardiac.chest_pain_with_autonomic_signs")
        );
    }

    #[test]
    fn the_reply_is_in_the_patients_language() {
        let (state, actions) = agent().step(
            ConversationState::default(),
            &text("tengo dolor de pecho y estoy sudando"),
            &ctx("m1"),
        );
        assert_eq!(state.language, Some(Language::Es));
        assert_eq!(
            reply(&actions),
            agent().say(Language::Es, "emergency_ambulance")
        );
    }

    #[test]
    fn self_harm_always_gets_the_crisis_message() {
        let (state, actions) = agent().step(
            ConversationState::default(),
            &text("I want to kill myself"),
            &ctx("m1"),
        );
        let said = reply(&actions);
        assert!(said.contains(agent().knowledge().message(Language::En, "crisis")));
        assert!(state.floor() >= Some(Disposition::EmergencyDepartment));
    }

    #[test]
    fn red_flags_found_on_a_later_turn_escalate_then() {
        let (s, _) = agent().step(
            ConversationState::default(),
            &text("my chest hurts"),
            &ctx("m1"),
        );
        assert_eq!(s.stage, Stage::CollectingSymptoms);
        let (s, actions) = agent().step(s, &text("and now I'm sweating a lot"), &ctx("m2"));
        assert_eq!(s.stage, Stage::Escalated);
        assert!(reply(&actions).contains("Call an ambulance"));
    }

    #[test]
    fn the_interview_asks_what_could_raise_urgency_and_concludes() {
        let (s, actions) = agent().step(
            ConversationState::default(),
            &text("my chest hurts"),
            &ctx("m1"),
        );
        let Some(Action::Ask { choices, .. }) = actions.first() else {
            panic!("a question expected: {actions:?}")
        };
        assert_eq!(choices.len(), 3);
        let Some(Action::Ask { text: question, .. }) = actions.first() else {
            unreachable!()
        };
        assert!(
            question.contains(agent().knowledge().message(Language::En, "safety_line")),
            "first message carries the safety line"
        );
        let first = s.pending_question.clone().unwrap();
        // Tapping "No" on every question ends the interview at a disposition.
        let mut s = s;
        let mut n = 2;
        while let Some(concept) = s.pending_question.clone() {
            let (next, _) = agent().step(
                s,
                &PatientInput::Choice {
                    id: format!("no:{concept}"),
                    title: "No".into(),
                },
                &ctx(&format!("m{n}")),
            );
            s = next;
            n += 1;
            assert!(n < 20, "the interview must end");
        }
        assert_eq!(s.stage, Stage::Completed);
        // Chest pain without red flags: the protocol asks for review within 24 hours.
        assert_eq!(s.disposition, Some(Disposition::Urgent24h));
        assert!(s.evidence.absent.contains(first.key()));

        // A typed "yes" to the sweating question is an emergency.
        let (s, _) = agent().step(
            ConversationState::default(),
            &text("my chest hurts"),
            &ctx("x1"),
        );
        let concept = s.pending_question.clone().unwrap();
        let (s, actions) = agent().step(s, &text("yes"), &ctx("x2"));
        assert!(s.evidence.has(concept.key()));
        assert_eq!(s.stage, Stage::Escalated, "{actions:?}");
    }

    /// Answers "No" to every question (and nothing to typed ones) until
    /// the interview concludes.
    fn answer_no_to_everything(mut s: ConversationState) -> (ConversationState, Vec<Action>) {
        let mut actions = Vec::new();
        let mut n = 100;
        while let Some(q) = s.pending_question.clone() {
            n += 1;
            assert!(n < 120, "the interview must end");
            let input = if q.is_yes_no() {
                PatientInput::Choice {
                    id: format!("no:{q}"),
                    title: "No".into(),
                }
            } else {
                text("I don't know")
            };
            (s, actions) = agent().step(s, &input, &ctx(&format!("m{n}")));
        }
        (s, actions)
    }

    #[test]
    fn a_cough_without_red_flags_gets_self_care_advice() {
        let (s, _) = agent().step(
            ConversationState::default(),
            &text("I have had a dry cough for 3 days"),
            &ctx("m1"),
        );
        // The duration is known: the interview asks only yes/no questions
        // that could raise it (coughing blood, breathlessness).
        assert!(!s.asked.contains(&Question::Duration), "{:?}", s.asked);
        let (s, actions) = answer_no_to_everything(s);
        assert_eq!(s.disposition, Some(Disposition::SelfCare), "{actions:?}");
        assert!(reply(&actions).contains(agent().knowledge().message(Language::En, "self_care")));
    }

    #[test]
    fn a_complaint_no_answer_could_raise_concludes_at_once() {
        // Insomnia has no rule above its routine default and touches no red flag.
        let (s, actions) = agent().step(
            ConversationState::default(),
            &text("I can't sleep at night"),
            &ctx("m1"),
        );
        assert_eq!(s.stage, Stage::Completed, "{actions:?}");
        assert_eq!(s.disposition, Some(Disposition::Routine));
        assert!(s.pending_question.is_none());
    }

    #[test]
    fn a_cough_for_a_month_gets_a_regular_appointment() {
        let (s, _) = agent().step(
            ConversationState::default(),
            &text("I have a cough"),
            &ctx("m1"),
        );
        // Asked how long, typed in Spanish: "un mes" is more than 3 weeks.
        let mut s = s;
        let mut n = 1;
        while let Some(q) = s.pending_question.clone() {
            n += 1;
            let input = match q {
                Question::Duration => text("desde hace un mes"),
                _ => PatientInput::Choice {
                    id: format!("no:{q}"),
                    title: "No".into(),
                },
            };
            s = agent().step(s, &input, &ctx(&format!("m{n}"))).0;
        }
        assert!(s.asked.contains(&Question::Duration), "{:?}", s.asked);
        assert_eq!(s.disposition, Some(Disposition::Routine));
        assert!(
            s.protocol_rules
                .iter()
                .any(|m| m.id == "cough.longer_than_3_weeks"),
            "{:?}",
            s.protocol_rules
        );
    }

    #[test]
    fn a_severity_question_is_typed_and_can_raise_the_outcome() {
        let (s, actions) = agent().step(
            ConversationState::default(),
            &text("I have a headache"),
            &ctx("m1"),
        );
        let mut s = s;
        let mut last = actions;
        let mut n = 1;
        while let Some(q) = s.pending_question.clone() {
            n += 1;
            let input = match q {
                Question::Severity => {
                    let Some(Action::Ask {
                        text: asked,
                        choices,
                    }) = last.first()
                    else {
                        panic!("{last:?}")
                    };
                    assert!(choices.is_empty(), "a 0-10 answer is typed: {choices:?}");
                    assert!(asked.contains("0 to 10"), "{asked}");
                    text("9")
                }
                _ => PatientInput::Choice {
                    id: format!("no:{q}"),
                    title: "No".into(),
                },
            };
            (s, last) = agent().step(s, &input, &ctx(&format!("m{n}")));
        }
        assert_eq!(s.severity, Some(9));
        assert_eq!(s.disposition, Some(Disposition::Urgent24h), "{last:?}");
        assert!(s.asked.len() <= interview::MAX_QUESTIONS);
    }

    #[test]
    fn an_emergency_from_a_protocol_rule_is_said_at_once() {
        // NICE NG143: 3 to 6 months old with 39 °C or more is a red feature.
        let (s, actions) = agent().step(
            ConversationState::default(),
            &text("my 4 month old baby has a temperature of 39.4"),
            &ctx("m1"),
        );
        assert_eq!(s.stage, Stage::Escalated, "{actions:?}");
        assert_eq!(s.disposition, Some(Disposition::EmergencyDepartment));
        assert!(
            reply(&actions).contains(
                agent()
                    .knowledge()
                    .message(Language::En, "emergency_department")
            )
        );
        assert!(
            s.protocol_rules
                .iter()
                .any(|m| m.id == "fever_infant.3_to_6_months_39c")
        );
        // An age under 3 months fires the infant-fever red flag, in words or in numbers.
        let (s, _) = agent().step(
            ConversationState::default(),
            &text("my baby is 6 weeks and has a fever"),
            &ctx("m1"),
        );
        assert!(
            s.fired
                .iter()
                .any(|f| f.id == "infant_fever.under_3_months"),
            "{:?}",
            s.fired
        );
    }

    #[test]
    fn clinical_review_floors_call_an_ambulance() {
        for (message, rule) in [
            (
                "my husband just had his first ever seizure",
                "seizure.first_fit",
            ),
            (
                "worst headache of my life, it came on suddenly",
                "thunderclap_headache.sudden_worst_headache",
            ),
            ("my son was bitten by a snake", "bites.snake_bite"),
        ] {
            let (s, actions) =
                agent().step(ConversationState::default(), &text(message), &ctx("m1"));
            assert!(
                s.fired.iter().any(|f| f.id == rule),
                "{message}: {:?}",
                s.fired
            );
            assert_eq!(
                s.disposition,
                Some(Disposition::EmergencyAmbulance),
                "{message}"
            );
            assert!(reply(&actions).contains("Call an ambulance"), "{message}");
        }
        let (s, _) = agent().step(
            ConversationState::default(),
            &text("I can't swallow my own saliva"),
            &ctx("m1"),
        );
        assert!(
            s.fired.iter().any(|f| f.id == "airway.cannot_swallow"),
            "{:?}",
            s.fired
        );
        assert!(s.disposition >= Some(Disposition::EmergencyDepartment));
    }

    /// Every example phrase written beside a protocol rule behaves as
    /// written, through the real extractor, quantity reader and protocols.
    #[test]
    fn every_protocol_rule_example_matches_as_written() {
        let mut failures = Vec::new();
        for (_, rule) in agent().knowledge().protocols.rules() {
            for example in &rule.examples {
                let (s, _) = agent().step(
                    ConversationState::default(),
                    &text(&example.text),
                    &ctx("m1"),
                );
                let matched = s.protocol_rules.iter().any(|m| m.id == rule.id);
                if matched != example.matches {
                    failures.push(format!(
                        "{} [{}] {:?}: expected matches={}, protocols={:?}, present={:?}, absent={:?}, severity={:?}, durations={:?}, ages={:?}, temperature={:?}",
                        rule.id,
                        example.lang,
                        example.text,
                        example.matches,
                        s.protocols,
                        s.evidence.present,
                        s.evidence.absent,
                        s.severity,
                        s.durations,
                        s.ages_years,
                        s.temperature_c
                    ));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} example(s) misbehave:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn a_french_denial_is_judged_in_french() {
        for (message, concept) in [
            ("il ne vomit plus", "vomiting"),
            ("je n'ai pas de fièvre", "fever"),
        ] {
            let (s, _) = agent().step(ConversationState::default(), &text(message), &ctx("m1"));
            assert!(!s.evidence.has(concept), "{message}: {:?}", s.evidence);
            assert!(s.evidence.absent.contains(concept), "{message}");
        }
    }

    #[test]
    fn an_unfinished_interview_expires_with_the_safety_net() {
        let (s, _) = agent().step(
            ConversationState::default(),
            &text("my chest hurts"),
            &ctx("m1"),
        );
        let (fresh, actions) = agent().expire(&s).unwrap();
        assert_eq!(fresh.turns, 0);
        assert!(
            reply(&actions).contains(agent().knowledge().message(Language::En, "session_expired"))
        );
        // Nothing to close once a disposition was given.
        let (done, _) = agent().step(
            ConversationState::default(),
            &text("chest pain and sweating"),
            &ctx("m1"),
        );
        assert!(agent().expire(&done).is_none());
        assert!(agent().expire(&ConversationState::default()).is_none());
    }

    #[test]
    fn severity_duration_and_age_are_remembered() {
        let (s, _) = agent().step(
            ConversationState::default(),
            &text("I'm 58, headache for 2 days, 7/10"),
            &ctx("m1"),
        );
        assert_eq!((s.severity, s.age_years), (Some(7), Some(58.0)));
        assert_eq!(s.durations, vec!["2 days"]);
    }

    #[test]
    fn commands_switch_language_cancel_and_help() {
        let (s, actions) = agent().step(ConversationState::default(), &text("FR"), &ctx("m1"));
        assert_eq!(s.language, Some(Language::Fr));
        assert!(reply(&actions).contains(agent().knowledge().message(Language::Fr, "acknowledge")));
        let (s, actions) = agent().step(s, &text("help"), &ctx("m2"));
        assert!(reply(&actions).contains(agent().knowledge().message(Language::Fr, "help")));
        let (s, _) = agent().step(s, &text("chest pain and sweating"), &ctx("m3"));
        assert_eq!(s.stage, Stage::Escalated);
        let (s, actions) = agent().step(s, &text("CANCEL"), &ctx("m4"));
        assert_eq!(s.stage, Stage::CollectingSymptoms);
        assert!(s.fired.is_empty());
        assert_eq!(
            s.language,
            Some(Language::Fr),
            "the language survives a cancel"
        );
        assert!(reply(&actions).contains(agent().knowledge().message(Language::Fr, "cancelled")));
    }

    #[test]
    fn replaying_the_same_input_changes_nothing() {
        let input = text("hello");
        let (state, _) = agent().step(ConversationState::default(), &input, &ctx("m1"));
        let (again, actions) = agent().step(state.clone(), &input, &ctx("m1"));
        assert_eq!(again, state);
        assert!(actions.is_empty());
        let (next, actions) = agent().step(state, &input, &ctx("m2"));
        assert_eq!(next.turns, 2);
        assert_eq!(actions.len(), 1);
    }
}
