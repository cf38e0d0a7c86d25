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

use crate::demographics::{self, Demographics};
use crate::extract::{Evidence, Extractor, Mention};
use crate::handoff::{Handoff, HandoffReason};
use crate::intent::{self, Command, Intent};
use crate::interview::{self, ProtocolMatch, Question};
use crate::language;
use crate::red_flags::{self, FiredRule};
use crate::vitals::{self, Measurement, VitalKind};

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
    /// A clinician was asked to take over (see [`Handoff`]); red flags are
    /// still checked on every message.
    EscalatedToClinician,
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
    /// Episode number: CANCEL, RESTART or a new problem after a finished
    /// triage closes the episode and the next one starts at `episode + 1`.
    /// Channels keep one conversation (and one report) per episode.
    #[serde(default)]
    pub episode: u32,
    /// A hand-off to a clinician, once asked for.
    #[serde(default)]
    pub handoff: Option<Handoff>,
    /// Open questions asked in a row because nothing could be used.
    #[serde(default)]
    pub not_understood: u32,
    /// Messages in a row with nothing clinical in them (greetings, thanks,
    /// unreadable answers): past two, intents get no more canned replies.
    #[serde(default)]
    pub idle_turns: u32,
    /// Vital signs and other readings the patient gave, in the order given.
    #[serde(default)]
    pub measurements: Vec<Measurement>,
    /// Measuring devices the patient has (a pulse oximeter, a BP cuff…).
    #[serde(default)]
    pub devices: Vec<VitalKind>,
    /// Who the patient is: age, sex, and whether a carer is writing.
    #[serde(default)]
    pub demographics: Demographics,
    /// Possibly serious signs the patient could not tell, even after a
    /// concrete check, and that did not count (shown to the clinician).
    #[serde(default)]
    pub unresolved: Vec<String>,
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

/// The complaint menu offered when a message is not understood: message key
/// suffix (`menu_<key>`) and the concept a tap reports. `None`: the row
/// leads elsewhere (a person; an injury, which needs its own words).
/// WhatsApp lists take at most 10 rows.
const MENU: &[(&str, Option<&str>)] = &[
    ("chest_pain", Some("chest_pain")),
    ("breathing", Some("breathless")),
    ("fever", Some("fever")),
    ("headache", Some("headache")),
    ("abdominal_pain", Some("abdominal_pain")),
    ("cough_cold", Some("cough")),
    ("injury", None),
    ("rash_skin", Some("rash")),
    ("mental_health", Some("anxiety_low_mood")),
    ("person", None),
];

/// The concept of a problem the lexicons could not match (protocol `unwell`).
const UNWELL: &str = "unwell";

/// Whether `text` reads as someone describing a problem: at least four
/// words of a script we read. Shorter messages ("??", "ok", "test") get the
/// open question and the menu instead.
fn describes_a_problem(text: &str) -> bool {
    !language::unsupported_script(text)
        && crate::extract::tokenize(text)
            .iter()
            .filter(|t| t.chars().filter(|c| c.is_alphabetic()).count() >= 2)
            .count()
            >= 4
}

/// The first words of `text`, for the clinician's report.
fn excerpt(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().take(12).collect();
    words.join(" ")
}

/// Fills `{name}` placeholders.
fn fill(text: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(text.to_owned(), |t, (k, v)| {
        t.replace(&format!("{{{k}}}"), v)
    })
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
            episode: state.episode.saturating_add(1),
            ..ConversationState::default()
        };
        Some((
            fresh,
            vec![Action::Reply {
                text: self.say(lang, "session_expired"),
            }],
        ))
    }

    /// Applies one patient input to the conversation. Every input gets a
    /// reply that moves the conversation on: an instruction, a question, an
    /// open question with a menu, or a hand-off to a clinician.
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
            && let Some(cmd) = intent::command(text)
        {
            return self.command(next, cmd);
        }
        let mut actions = Vec::new();
        // Language: set from a greeting or the words on the first message,
        // switched later only when the words say so with confidence.
        let intents = text.map(intent::detect).unwrap_or_default();
        let unsupported = text.is_some_and(language::unsupported_script);
        let confident = text.and_then(language::detect_confident);
        let greeting_language = intents
            .iter()
            .find(|m| m.intent == Intent::Greeting)
            .and_then(|m| m.language);
        match next.language {
            None => {
                next.language = greeting_language
                    .or(confident)
                    .or_else(|| text.and_then(|t| self.extractor.detect_language(t)));
            }
            Some(current) => {
                if let Some(l) = confident.filter(|l| *l != current) {
                    next.language = Some(l);
                }
            }
        }
        if unsupported && next.language.is_none() {
            // Replied to in English with the safety text; numbers in the
            // message are still read below.
            actions.push(Action::Reply {
                text: self.say(Language::En, "unsupported_language"),
            });
        }
        let lang = next.language.unwrap_or(Language::En);

        // A new problem after a finished triage opens a new episode.
        if next.stage == Stage::Completed
            && let Some(text) = text
            && self.is_new_problem(&next, text)
        {
            next = ConversationState {
                turns: 1,
                last_input_key: next.last_input_key,
                language: next.language,
                episode: next.episode.saturating_add(1),
                ..ConversationState::default()
            };
            actions.push(Action::Reply {
                text: self.knowledge.message(lang, "new_episode").to_owned(),
            });
        }

        let before = (
            next.evidence.present.len(),
            next.measurements.len(),
            next.evidence.absent.len(),
        );
        if let Some(text) = text {
            self.observe(&mut next, text, lang);
        }
        if let PatientInput::Choice { id, title } = input
            && let Some((_, Some(concept))) = id
                .strip_prefix("menu:")
                .and_then(|key| MENU.iter().find(|(k, _)| *k == key))
        {
            next.evidence.absorb(vec![Mention {
                concept: (*concept).to_owned(),
                words: format!("chose from the menu: {title}"),
                negated: false,
                language: lang,
            }]);
        }
        let pending_before = next.pending_question.clone();
        let answered = next
            .pending_question
            .take()
            .map(|question| self.apply_answer(&mut next, &question, input, text, lang));
        let mut heard_something = (
            next.evidence.present.len(),
            next.measurements.len(),
            next.evidence.absent.len(),
        ) != before
            || answered
                .as_ref()
                .is_some_and(|a| *a != Answered::Unreadable);
        // A real description of a problem that matches no complaint (an
        // intent aside) is assessed as "unwell": how bad, how long, the
        // commonest emergencies screened, and a clinician sees it.
        // Red flags once per turn: the `unwell` concept below is in no rule.
        let mut fired = red_flags::evaluate(&self.knowledge.rules, &next.evidence);
        // So is a recognised symptom that no complaint protocol covers.
        let uncovered = !next.evidence.present.is_empty()
            && !next.evidence.has(UNWELL)
            && !self
                .knowledge
                .protocols
                .protocols
                .iter()
                .any(|p| p.applies(|c| next.evidence.has(c)))
            && fired.is_empty();
        if (uncovered
            || (!heard_something && next.evidence.present.is_empty() && intents.is_empty()))
            && pending_before.is_none()
            && next.stage == Stage::CollectingSymptoms
            && let Some(text) = text
            && describes_a_problem(text)
        {
            next.evidence.absorb(vec![Mention {
                concept: UNWELL.to_owned(),
                words: format!("not matched to a complaint: {}", excerpt(text)),
                negated: false,
                language: lang,
            }]);
            heard_something = true;
        }

        // Red flags, vital signs and protocols on every turn, before anything
        // else is said, whatever the stage.
        fired.extend(self.vital_findings(&next));
        let new: Vec<FiredRule> = fired
            .into_iter()
            .filter(|f| !next.fired.iter().any(|old| old.id == f.id))
            .collect();
        let crisis = new.iter().any(|f| f.crisis);
        let was_escalated = next.stage == Stage::Escalated;
        // What once fired stays: the floor never goes down in an episode.
        next.fired.extend(new.iter().cloned());
        next.fired
            .sort_by(|a, b| b.floor.cmp(&a.floor).then_with(|| a.id.cmp(&b.id)));
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
            next.disposition = next.disposition.max(Some(f));
            next.not_understood = 0;
            return (next, actions);
        }

        match next.stage {
            Stage::EscalatedToClinician => {
                // The clinician has it; the patient is told again when, and
                // what to do if it gets worse.
                let minutes = next
                    .handoff
                    .as_ref()
                    .map_or(Disposition::Urgent24h.clinician_review_minutes(), |h| {
                        h.review_minutes
                    });
                actions.push(Action::Reply {
                    text: fill(
                        &self.say(lang, "handoff_waiting"),
                        &[("minutes", &minutes.to_string())],
                    ),
                });
                return (next, actions);
            }
            Stage::Completed | Stage::Escalated => {
                return self.after_conclusion(next, level, &intents, actions, lang);
            }
            Stage::CollectingSymptoms => {}
        }

        if let PatientInput::Attachment { .. } = input {
            actions.push(Action::Reply {
                text: self.knowledge.message(lang, "acknowledge_file").to_owned(),
            });
        }
        if heard_something {
            next.not_understood = 0;
            next.idle_turns = 0;
        } else {
            next.idle_turns = next.idle_turns.saturating_add(1);
            // Not a clinical message: what else it is.
            let wants_person = matches!(input, PatientInput::Choice { id, .. } if id == "menu:person")
                || intents.first().is_some_and(|m| m.intent == Intent::Person);
            if wants_person {
                return self.person_asked(next, level, pending_before, actions, lang);
            }
            if let PatientInput::Choice { id, .. } = input
                && id == "menu:injury"
            {
                actions.push(Action::Reply {
                    text: self.knowledge.message(lang, "ask_injury").to_owned(),
                });
                return (next, actions);
            }
            // An answer we could not read is not taken for an intent unless
            // it is nothing else ("thanks!"), and canned replies stop after
            // two in a row: then the open question and a clinician.
            let usable = intents
                .first()
                .is_some_and(|m| pending_before.is_none() || m.covers_message);
            if usable
                && next.idle_turns <= 2
                && let Some(reply) = self.intent_reply(
                    &mut next,
                    &intents,
                    pending_before.as_ref(),
                    &mut actions,
                    lang,
                )
            {
                return reply;
            }
        }

        // A device the patient has: its reading could change the outcome.
        if let Some(kind) = self.reading_to_ask(&next, text, level)
            && let Some(question) = vitals::question(kind, lang)
        {
            let asked = Question::Reading(kind_key(kind));
            next.pending_question = Some(asked.clone());
            next.asked.push(asked);
            actions.push(Action::Ask {
                text: question.to_owned(),
                choices: Vec::new(),
            });
            return (next, actions);
        }
        // "I don't know" to a serious sign: a concrete check first.
        if let Some(Answered::Doubt(concept)) = &answered
            && let Some(followup) = self.followup(lang, concept)
        {
            let asked = Question::Followup(concept.clone());
            if !next.asked.contains(&asked) && next.asked.len() < interview::MAX_QUESTIONS {
                next.pending_question = Some(asked.clone());
                next.asked.push(asked.clone());
                actions.push(self.yes_no(lang, followup.to_owned(), &asked));
                return (next, actions);
            }
        }
        // The interview: the question whose answer could raise urgency most.
        if let Some(asked) = interview::next_question(self.knowledge, &next)
            && let Some(question) = self.question_text(lang, &asked)
        {
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
            actions.push(self.ask(lang, text, &asked));
            return (next, actions);
        }
        if next.evidence.present.is_empty() && next.measurements.is_empty() {
            // Nothing clinical heard yet: an open question with the menu,
            // then a clinician.
            return self.not_understood(next, level, actions, lang);
        }
        // Nothing left that could change the outcome: the most urgent of the
        // red-flag floor and the chief complaints' protocols. Without either,
        // a regular appointment — self-care needs a protocol that supports it.
        let mut disposition = level
            .unwrap_or(Disposition::Routine)
            .max(next.disposition.unwrap_or(Disposition::SelfCare));
        // Only "unwell", and neither how bad nor how long could be learnt:
        // nothing to assess on, so a clinician.
        let unassessable = next.protocols.iter().all(|p| p == UNWELL)
            && next.evidence.has(UNWELL)
            && next.severity.is_none()
            && next.durations.is_empty();
        if unassessable && !disposition.is_emergency() {
            if next.evidence.present.iter().all(|c| c == UNWELL) {
                return self.hand_off(next, HandoffReason::NotUnderstood, level, actions, lang);
            }
            // A recognised symptom without a protocol, and nothing learnt
            // about it: a regular appointment, as without the assessment.
            disposition = disposition.max(Disposition::Routine);
        }
        if next.unresolved.len() >= UNRESOLVED_FOR_HANDOFF && !disposition.is_emergency() {
            let mut handoff = Handoff::new(
                HandoffReason::UnresolvedDoubt,
                disposition.max(Disposition::Urgent24h),
                next.turns,
            );
            handoff.concepts = next.unresolved.clone();
            return self.hand_off_with(next, handoff, actions, lang);
        }
        next.disposition = Some(disposition);
        next.stage = Stage::Completed;
        let mut text = format!(
            "{} {}",
            self.knowledge.message(lang, "thanks_answers"),
            self.knowledge.message(lang, disposition.as_str())
        );
        // Signs left in doubt: which ones mean calling for help at once.
        let unsure: Vec<&str> = next
            .unresolved
            .iter()
            .filter_map(|c| self.knowledge.question(lang, c))
            .collect();
        if !unsure.is_empty() && !disposition.is_emergency() {
            text.push_str("\n\n");
            text.push_str(self.knowledge.message(lang, "doubt_safety_net"));
            for q in unsure {
                text.push_str(&format!("\n- {q}"));
            }
        }
        text.push_str(&format!(
            "\n\n{}",
            self.knowledge.message(lang, "safety_line")
        ));
        actions.push(Action::Reply { text });
        (next, actions)
    }

    /// HELP, CANCEL, RESTART and language commands.
    fn command(
        &self,
        mut next: ConversationState,
        cmd: Command,
    ) -> (ConversationState, Vec<Action>) {
        let lang = next.language.unwrap_or(Language::En);
        match cmd {
            Command::Help => (
                next,
                vec![Action::Reply {
                    text: self.say(lang, "help"),
                }],
            ),
            // Both close the episode; only the language is kept. What was
            // decided in it stays decided (the channel keeps its report).
            Command::Cancel | Command::Restart => {
                let key = if matches!(cmd, Command::Cancel) {
                    "cancelled"
                } else {
                    "restarted"
                };
                let fresh = ConversationState {
                    language: next.language,
                    last_input_key: next.last_input_key,
                    episode: next.episode.saturating_add(1),
                    ..ConversationState::default()
                };
                (
                    fresh,
                    vec![Action::Reply {
                        text: self.say(lang, key),
                    }],
                )
            }
            Command::Person => {
                let level = interview::level(self.knowledge, &next);
                let pending = next.pending_question.take();
                self.person_asked(next, level, pending, Vec::new(), lang)
            }
            Command::Language(l) => {
                next.language = Some(l);
                let mut actions = vec![Action::Reply {
                    text: self.say(l, "language_set"),
                }];
                // The pending question again, in the new language.
                if let Some(q) = next.pending_question.clone()
                    && let Some(text) = self.question_text(l, &q)
                {
                    actions.push(self.ask(l, text.to_owned(), &q));
                }
                (next, actions)
            }
        }
    }

    /// A question as the patient sees it: yes/no ones with their three
    /// reply buttons, typed ones (a severity, a duration, a reading) bare.
    fn ask(&self, lang: Language, text: String, asked: &Question) -> Action {
        if asked.is_yes_no() {
            self.yes_no(lang, text, asked)
        } else {
            Action::Ask {
                text,
                choices: Vec::new(),
            }
        }
    }

    /// A yes/no question with its three reply buttons.
    fn yes_no(&self, lang: Language, text: String, asked: &Question) -> Action {
        Action::Ask {
            text,
            choices: ["yes", "no", "unsure"]
                .iter()
                .map(|answer| Choice {
                    id: format!("{answer}:{asked}"),
                    title: self
                        .knowledge
                        .message(lang, &format!("answer_{answer}"))
                        .to_owned(),
                })
                .collect(),
        }
    }

    /// The open question with the complaint menu; the second time in a row,
    /// a clinician.
    fn not_understood(
        &self,
        mut next: ConversationState,
        level: Option<Disposition>,
        mut actions: Vec<Action>,
        lang: Language,
    ) -> (ConversationState, Vec<Action>) {
        next.not_understood = next.not_understood.saturating_add(1);
        if next.not_understood >= 2 {
            return self.hand_off(next, HandoffReason::NotUnderstood, level, actions, lang);
        }
        let mut text = self.knowledge.message(lang, "open_question").to_owned();
        if next.turns == 1 {
            text = format!("{text}\n\n{}", self.knowledge.message(lang, "safety_line"));
        }
        actions.push(self.menu(lang, text));
        (next, actions)
    }

    /// An open question with the complaint menu as a list.
    fn menu(&self, lang: Language, text: String) -> Action {
        Action::Ask {
            text,
            choices: MENU
                .iter()
                .map(|(key, _)| Choice {
                    id: format!("menu:{key}"),
                    title: self
                        .knowledge
                        .message(lang, &format!("menu_{key}"))
                        .to_owned(),
                })
                .collect(),
        }
    }

    /// The patient asked for a person: a clinician is asked to reply within
    /// 4 hours at most, and the triage goes on meanwhile so that the
    /// clinician finds the story ready (a person request is a service
    /// request: the clinical level stays what the triage says).
    fn person_asked(
        &self,
        mut next: ConversationState,
        level: Option<Disposition>,
        pending: Option<Question>,
        mut actions: Vec<Action>,
        lang: Language,
    ) -> (ConversationState, Vec<Action>) {
        let review = level
            .or(next.disposition)
            .map_or(Disposition::Urgent24h.clinician_review_minutes(), |d| {
                d.clinician_review_minutes()
            })
            .min(Disposition::Urgent24h.clinician_review_minutes());
        let mut handoff = Handoff::new(
            HandoffReason::PatientAsked,
            level.or(next.disposition).unwrap_or(Disposition::SelfCare),
            next.turns,
        );
        handoff.review_minutes = review;
        actions.push(Action::Reply {
            text: fill(
                &self.say(lang, "handoff_person"),
                &[("minutes", &review.to_string())],
            ),
        });
        next.handoff = Some(handoff);
        if next.stage != Stage::CollectingSymptoms {
            return (next, actions);
        }
        if let Some(q) = pending
            && let Some(text) = self.question_text(lang, &q)
        {
            actions.push(self.ask(lang, text.to_owned(), &q));
            next.pending_question = Some(q);
            return (next, actions);
        }
        if next.evidence.present.is_empty() && next.measurements.is_empty() {
            actions.push(Action::Reply {
                text: self.knowledge.message(lang, "handoff_meanwhile").to_owned(),
            });
            return (next, actions);
        }
        match interview::next_question(self.knowledge, &next) {
            Some(q) => {
                if let Some(text) = self.question_text(lang, &q) {
                    next.pending_question = Some(q.clone());
                    next.asked.push(q.clone());
                    actions.push(self.ask(lang, text.to_owned(), &q));
                }
                (next, actions)
            }
            None => (next, actions),
        }
    }

    /// Hands the conversation to a clinician for `reason`.
    fn hand_off(
        &self,
        next: ConversationState,
        reason: HandoffReason,
        level: Option<Disposition>,
        actions: Vec<Action>,
        lang: Language,
    ) -> (ConversationState, Vec<Action>) {
        let handoff = match reason {
            // A person asked for: the clinical level stands, and someone
            // replies within 4 hours at most.
            // Someone we could not assess: a call-back within hours.
            HandoffReason::PatientAsked
            | HandoffReason::NotUnderstood
            | HandoffReason::UnresolvedDoubt => Handoff::new(
                reason,
                level
                    .max(next.disposition)
                    .max(Some(Disposition::Urgent24h))
                    .unwrap_or(Disposition::Urgent24h),
                next.turns,
            ),
        };
        self.hand_off_with(next, handoff, actions, lang)
    }

    fn hand_off_with(
        &self,
        mut next: ConversationState,
        handoff: Handoff,
        mut actions: Vec<Action>,
        lang: Language,
    ) -> (ConversationState, Vec<Action>) {
        let key = match handoff.reason {
            HandoffReason::NotUnderstood => "handoff_not_understood",
            HandoffReason::PatientAsked => "handoff_person",
            HandoffReason::UnresolvedDoubt => "handoff_doubt",
        };
        actions.push(Action::Reply {
            text: fill(
                &self.say(lang, key),
                &[("minutes", &handoff.review_minutes.to_string())],
            ),
        });
        next.disposition = next.disposition.max(Some(handoff.disposition));
        next.stage = Stage::EscalatedToClinician;
        next.pending_question = None;
        next.handoff = Some(handoff);
        (next, actions)
    }

    /// The reply to a message that is not about symptoms, if it is one of
    /// the intents the agent knows.
    fn intent_reply(
        &self,
        next: &mut ConversationState,
        intents: &[intent::IntentMatch],
        pending: Option<&Question>,
        actions: &mut Vec<Action>,
        lang: Language,
    ) -> Option<(ConversationState, Vec<Action>)> {
        let first = intents.first()?;
        let key = match first.intent {
            // Handled before: a person is a hand-off.
            Intent::Person => return None,
            Intent::Greeting => "welcome",
            Intent::Thanks => "thanks_reply",
            Intent::Goodbye => "goodbye_reply",
            Intent::Booking => "booking_triage_first",
            Intent::Medication => "medication_question",
            Intent::AboutService => "about_service",
            Intent::Document => "document_intent",
        };
        // A hello in the middle of the interview needs no welcome.
        if !(first.intent == Intent::Greeting && pending.is_some()) {
            actions.push(Action::Reply {
                text: self.say(lang, key),
            });
        }
        // A question still open is asked again, so the patient knows what
        // we are waiting for.
        if let Some(q) = pending
            && let Some(text) = self.question_text(lang, q)
        {
            actions.push(self.ask(lang, text.to_owned(), q));
            next.pending_question = Some(q.clone());
        }
        Some((std::mem::take(next), std::mem::take(actions)))
    }

    /// A message after the disposition was given (same episode): a raise
    /// is said; otherwise what the patient asks for, or where they stand.
    fn after_conclusion(
        &self,
        mut next: ConversationState,
        level: Option<Disposition>,
        intents: &[intent::IntentMatch],
        mut actions: Vec<Action>,
        lang: Language,
    ) -> (ConversationState, Vec<Action>) {
        let current = next.disposition.unwrap_or(Disposition::Routine);
        if let Some(raised) = level.filter(|l| *l > current) {
            next.disposition = Some(raised);
            actions.push(Action::Reply {
                text: self.say(lang, raised.as_str()),
            });
            return (next, actions);
        }
        if let Some(first) = intents.first() {
            let key = match first.intent {
                Intent::Person => {
                    return self.person_asked(next, level, None, actions, lang);
                }
                Intent::Thanks => Some("thanks_reply"),
                Intent::Goodbye => Some("goodbye_reply"),
                Intent::AboutService => Some("about_service"),
                Intent::Medication => Some("medication_question"),
                Intent::Greeting | Intent::Booking | Intent::Document => None,
            };
            if let Some(key) = key {
                actions.push(Action::Reply {
                    text: self.say(lang, key),
                });
                return (next, actions);
            }
        }
        let advice = self.knowledge.message(lang, current.as_str());
        actions.push(Action::Reply {
            text: fill(&self.say(lang, "followup_done"), &[("advice", advice)]),
        });
        (next, actions)
    }

    /// Whether `text` raises a problem the finished episode did not cover:
    /// a concept reported present that is new, belonging to a protocol the
    /// episode did not apply.
    fn is_new_problem(&self, state: &ConversationState, text: &str) -> bool {
        let mentions = self.extractor.extract_in(text, state.language);
        let mut fresh = Evidence::default();
        fresh.absorb(
            mentions
                .into_iter()
                .filter(|m| !m.negated && !state.evidence.has(&m.concept))
                .collect(),
        );
        if fresh.present.is_empty() {
            return false;
        }
        let protocols: Vec<&str> = self
            .knowledge
            .protocols
            .protocols
            .iter()
            .filter(|p| p.applies(|c| fresh.has(c)))
            .map(|p| p.id.as_str())
            .collect();
        !protocols.is_empty()
            && protocols
                .iter()
                .all(|p| !state.protocols.iter().any(|q| q == p))
    }

    /// Vital-sign thresholds crossed by what the patient measured, as
    /// fired rules (category `vital_signs`).
    fn vital_findings(&self, state: &ConversationState) -> Vec<FiredRule> {
        if state.measurements.is_empty() {
            return Vec::new();
        }
        let present = |c: &str| state.evidence.has(c);
        vitals::assess(&state.measurements, state.age_years, &present)
            .into_iter()
            .map(|f| FiredRule {
                id: f.id,
                category: "vital_signs".to_owned(),
                floor: f.disposition,
                summary: f.summary,
                source: f.source,
                crisis: false,
                evidence: f.evidence,
            })
            .collect()
    }

    /// The device reading to ask for: the patient has the device, has not
    /// given its reading, and a reading could still raise the disposition.
    fn reading_to_ask(
        &self,
        state: &ConversationState,
        text: Option<&str>,
        level: Option<Disposition>,
    ) -> Option<VitalKind> {
        if level.is_some_and(|l| l.is_emergency()) || state.asked.len() >= interview::MAX_QUESTIONS
        {
            return None;
        }
        let devices = state
            .devices
            .iter()
            .copied()
            .chain(text.map(vitals::devices).unwrap_or_default());
        devices.into_iter().find(|kind| {
            !state.measurements.iter().any(|m| m.kind == *kind)
                && !state.asked.contains(&Question::Reading(kind_key(*kind)))
        })
    }

    /// Reads what one message says: concepts (negation judged in the
    /// message's language, else the conversation's), severity, durations,
    /// temperature, vital signs, devices and who the patient is. An age
    /// also says which age group the person is in (an infant, a child),
    /// which protocols and red flags use.
    fn observe(&self, state: &mut ConversationState, text: &str, lang: Language) {
        state
            .evidence
            .absorb(self.extractor.extract_in(text, state.language));
        let q = crate::quantities::quantities(text);
        state.severity = q.severity.max(state.severity);
        let measured = vitals::read(text);
        // A thermometer reading as the vital-sign reader saw it; the looser
        // quantity reader only when no other reading could be mistaken for
        // a Fahrenheit temperature ("fever and pulse 104").
        let temperature = measured
            .iter()
            .filter(|m| m.kind == VitalKind::Temperature)
            .map(|m| m.value)
            .reduce(f32::max)
            .or(q.temperature_c.filter(|_| measured.is_empty()));
        state.temperature_c = match (temperature, state.temperature_c) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        state.durations.extend(q.durations);
        state.measurements.extend(measured);
        for kind in vitals::devices(text) {
            if !state.devices.contains(&kind) {
                state.devices.push(kind);
            }
        }
        state.demographics.merge(demographics::read(text));
        // The patient's age: who the message is about, else any age given.
        let age = state.demographics.age_years.or(q.age_years);
        let ages: Vec<f32> = match state.demographics.age_years {
            Some(a) => vec![a],
            None => q.ages_years,
        };
        state.age_years = age.or(state.age_years);
        for age in &ages {
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
        for age in ages {
            if !state.ages_years.contains(&age) {
                state.ages_years.push(age);
            }
        }
    }

    /// The text of a question in `lang`.
    fn question_text(&self, lang: Language, question: &Question) -> Option<&str> {
        match question {
            Question::Concept(c) => self.knowledge.question(lang, c),
            Question::Followup(c) => self.followup(lang, c),
            Question::Reading(k) => parse_kind(k).and_then(|k| vitals::question(k, lang)),
            Question::Severity => Some(self.knowledge.message(lang, "ask_severity")),
            Question::Duration => Some(self.knowledge.message(lang, "ask_duration")),
        }
    }

    /// The concrete follow-up for doubt about `concept`, in `lang`.
    fn followup(&self, lang: Language, concept: &str) -> Option<&str> {
        self.knowledge
            .questions
            .get(&lang)
            .or_else(|| self.knowledge.questions.get(&Language::En))
            .and_then(|q| q.followup(concept))
            .map(|f| f.text.as_str())
    }

    /// Whether "yes" to the follow-up for `concept` means the sign is present.
    fn followup_yes_means_present(&self, concept: &str) -> bool {
        self.knowledge
            .questions
            .get(&Language::En)
            .and_then(|q| q.followup(concept))
            .is_none_or(|f| f.yes_means_present())
    }

    /// Applies the answer to the pending question: buttons (`yes:…`,
    /// `no:…`, `unsure:…`) or typed yes/no for a concept or its follow-up,
    /// a typed number for a severity or a reading. Doubt is returned for
    /// the caller's policy (a concrete follow-up, then a clinician); after
    /// a follow-up it counts as yes only where [`interview::doubt_counts`] says so. A
    /// typed duration was already read with the message's other numbers.
    fn apply_answer(
        &self,
        state: &mut ConversationState,
        question: &Question,
        input: &PatientInput,
        text: Option<&str>,
        lang: Language,
    ) -> Answered {
        let (concept, followup) = match question {
            Question::Concept(c) => (c.as_str(), false),
            Question::Followup(c) => (c.as_str(), true),
            Question::Severity => {
                if let (PatientInput::Text { .. }, Some(text)) = (input, text)
                    && let Some(n) = interview::severity_answer(text)
                {
                    state.severity = Some(n).max(state.severity);
                    return Answered::Yes;
                }
                return Answered::Unreadable;
            }
            Question::Duration => {
                return if text
                    .is_some_and(|t| !crate::quantities::quantities(t).durations.is_empty())
                {
                    Answered::Yes
                } else {
                    Answered::Unreadable
                };
            }
            Question::Reading(kind) => {
                let Some(kind) = parse_kind(kind) else {
                    return Answered::Unreadable;
                };
                if state.measurements.iter().any(|m| m.kind == kind) {
                    return Answered::Yes;
                }
                // A bare number answers the question asked.
                if let Some(text) = text {
                    let read = vitals::read(&format!("{} {text}", cue(kind)));
                    if !read.is_empty() {
                        state
                            .measurements
                            .extend(read.into_iter().filter(|m| m.kind == kind));
                        return Answered::Yes;
                    }
                }
                return Answered::Unreadable;
            }
        };
        let typed = match input {
            PatientInput::Choice { id, .. } => {
                let key = question.key();
                match id.split_once(':') {
                    Some(("no", c)) if c == key => Some(interview::TypedAnswer::No),
                    Some(("yes", c)) if c == key => Some(interview::TypedAnswer::Yes),
                    Some((_, c)) if c == key => Some(interview::TypedAnswer::Unsure),
                    _ => None,
                }
            }
            PatientInput::Text { text } => {
                let mentioned =
                    state.evidence.has(concept) || state.evidence.absent.contains(concept);
                if mentioned && !followup {
                    None
                } else {
                    interview::typed_answer(text, self.knowledge)
                }
            }
            _ => None,
        };
        // (the typed word, whether the sign is present)
        let (said, present) = match typed {
            Some(interview::TypedAnswer::Yes) => ("yes", Some(true)),
            Some(interview::TypedAnswer::No) => ("no", Some(false)),
            Some(interview::TypedAnswer::Unsure) => {
                // Doubt matters where the red flag is plausible for the story
                // (another of its signs is reported); a screen answered
                // "not sure" is left open, as before.
                let plausible =
                    interview::doubt_plausible(self.knowledge, &state.evidence, concept);
                if !plausible {
                    return Answered::Doubt(concept.to_owned());
                }
                // A concrete check first, while the question budget allows.
                let can_follow_up = !followup
                    && self.followup(lang, concept).is_some()
                    && !state
                        .asked
                        .contains(&Question::Followup(concept.to_owned()))
                    && state.asked.len() < interview::MAX_QUESTIONS;
                if can_follow_up {
                    return Answered::Doubt(concept.to_owned());
                }
                if interview::doubt_counts(self.knowledge, &state.evidence, concept) {
                    ("not sure", Some(true))
                } else {
                    // Left open: the clinician sees it, the patient gets
                    // the warning signs with the outcome.
                    if !state.unresolved.iter().any(|c| c == concept) {
                        state.unresolved.push(concept.to_owned());
                    }
                    return Answered::Doubt(concept.to_owned());
                }
            }
            None => ("", None),
        };
        let Some(yes_or_present) = present else {
            return Answered::Unreadable;
        };
        // A follow-up may be phrased so that "yes" means the sign is absent
        // ("can you touch your chin to your chest?"); doubt is never inverted.
        let present = if followup && said != "not sure" && !self.followup_yes_means_present(concept)
        {
            !yes_or_present
        } else {
            yes_or_present
        };
        let asked = self
            .question_text(lang, question)
            .unwrap_or(concept)
            .to_owned();
        state.evidence.absorb(vec![Mention {
            concept: concept.to_owned(),
            words: format!("answered {said} to: {asked}"),
            negated: !present,
            language: lang,
        }]);
        if present { Answered::Yes } else { Answered::No }
    }
}

/// What an answer to the pending question did.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Answered {
    Yes,
    No,
    /// "I don't know" about this concept, left open.
    Doubt(String),
    /// Not an answer we could read.
    Unreadable,
}

/// Warning signs left in doubt after their concrete checks that make the
/// agent hand the patient to a clinician call-back rather than conclude.
const UNRESOLVED_FOR_HANDOFF: usize = 2;

/// The name of a vital kind as stored in question keys (`spo2`).
fn kind_key(kind: VitalKind) -> String {
    kind.as_str().to_owned()
}

fn parse_kind(key: &str) -> Option<VitalKind> {
    VitalKind::ALL.into_iter().find(|k| k.as_str() == key)
}

/// Words that make a bare number typed in answer to a reading question
/// read as that reading.
fn cue(kind: VitalKind) -> &'static str {
    match kind {
        VitalKind::Spo2 => "oxygen saturation",
        VitalKind::HeartRate => "pulse",
        VitalKind::RespiratoryRate => "breathing rate",
        VitalKind::BloodPressure => "blood pressure",
        VitalKind::Temperature => "temperature",
        VitalKind::Glucose => "blood sugar",
        VitalKind::Ketones => "ketones",
        VitalKind::WeightKg => "weight",
        VitalKind::Consciousness => "GCS",
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
        assert!(s.evidence.absent.contains(first.topic()));

        // A typed "yes" to the sweating question is an emergency.
        let (s, _) = agent().step(
            ConversationState::default(),
            &text("my chest hurts"),
            &ctx("x1"),
        );
        let concept = s.pending_question.clone().unwrap();
        let (s, actions) = agent().step(s, &text("yes"), &ctx("x2"));
        assert!(s.evidence.has(concept.topic()));
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
        let (s, actions) = agent().step(
            ConversationState::default(),
            &text("LANGUAGE FR"),
            &ctx("m1"),
        );
        assert_eq!(s.language, Some(Language::Fr));
        assert!(
            reply(&actions).contains(agent().knowledge().message(Language::Fr, "language_set"))
        );
        let (s, actions) = agent().step(s, &text("help"), &ctx("m2"));
        assert!(reply(&actions).contains(agent().knowledge().message(Language::Fr, "help")));
        let (s, _) = agent().step(s, &text("chest pain and sweating"), &ctx("m3"));
        assert_eq!(s.stage, Stage::Escalated);
        let (s, actions) = agent().step(s, &text("CANCEL"), &ctx("m4"));
        assert_eq!(s.stage, Stage::CollectingSymptoms);
        assert!(s.fired.is_empty());
        assert_eq!(s.episode, 1, "CANCEL closes the episode");
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

    #[test]
    fn a_greeting_is_answered_in_its_language_with_a_question() {
        for (greeting, lang) in [
            ("hi", Language::En),
            ("Hello!", Language::En),
            ("hola", Language::Es),
            ("bonjour", Language::Fr),
            ("olá", Language::Pt),
            ("नमस्ते", Language::Hi),
            ("habari", Language::Sw),
            ("jambo", Language::Sw),
        ] {
            let (s, actions) =
                agent().step(ConversationState::default(), &text(greeting), &ctx("m1"));
            assert_eq!(s.language, Some(lang), "{greeting}");
            let said = reply(&actions);
            assert!(
                said.contains(agent().knowledge().message(lang, "welcome")),
                "{greeting}: {said}"
            );
            assert!(said.contains('?'), "{greeting}: a question: {said}");
            assert!(said.contains(agent().knowledge().message(lang, "safety_line")));
        }
    }

    #[test]
    fn an_unreadable_message_gets_the_menu_then_a_clinician() {
        let (s, actions) = agent().step(
            ConversationState::default(),
            &text("asdf qwerty"),
            &ctx("m1"),
        );
        let Some(Action::Ask { choices, .. }) = actions.last() else {
            panic!("an open question with a menu: {actions:?}")
        };
        assert!(choices.len() >= 5 && choices.len() <= 10, "{choices:?}");
        assert!(choices.iter().all(|c| c.title.chars().count() <= 24));
        assert_eq!(s.stage, Stage::CollectingSymptoms);
        let (s, actions) = agent().step(s, &text("zzzz"), &ctx("m2"));
        assert_eq!(s.stage, Stage::EscalatedToClinician, "{actions:?}");
        let handoff = s.handoff.clone().unwrap();
        assert_eq!(handoff.reason, HandoffReason::NotUnderstood);
        assert!(s.disposition >= Some(Disposition::Urgent24h));
        let said = reply(&actions);
        assert!(said.contains(&handoff.review_minutes.to_string()), "{said}");
        // A red flag while waiting is still an emergency at once.
        let (s, actions) =
            agent().step(s, &text("now crushing chest pain and sweating"), &ctx("m3"));
        assert_eq!(s.stage, Stage::Escalated);
        assert!(reply(&actions).contains("Call an ambulance"));
    }

    #[test]
    fn a_menu_choice_reports_its_complaint() {
        let (s, _) = agent().step(ConversationState::default(), &text("??"), &ctx("m1"));
        let (s, actions) = agent().step(
            s,
            &PatientInput::Choice {
                id: "menu:chest_pain".into(),
                title: "Chest pain".into(),
            },
            &ctx("m2"),
        );
        assert!(s.evidence.has("chest_pain"), "{actions:?}");
        assert!(
            s.pending_question.is_some(),
            "the interview goes on: {actions:?}"
        );
    }

    #[test]
    fn asking_for_a_person_hands_off_with_an_honest_time() {
        let (s, actions) = agent().step(
            ConversationState::default(),
            &text("can I talk to a nurse please"),
            &ctx("m1"),
        );
        let h = s.handoff.clone().unwrap();
        assert_eq!(h.reason, HandoffReason::PatientAsked);
        assert!(h.review_minutes <= 240);
        assert!(reply(&actions).contains(&h.review_minutes.to_string()));
        // The triage goes on meanwhile, so the clinician finds the story ready.
        assert_eq!(s.stage, Stage::CollectingSymptoms);
        let (s, actions) = agent().step(s, &text("I have had a dry cough for 3 days"), &ctx("m2"));
        assert!(s.evidence.has("cough"), "{actions:?}");
        assert!(s.handoff.is_some());
    }

    #[test]
    fn cancel_after_an_emergency_never_lowers_what_was_decided() {
        let (s, _) = agent().step(
            ConversationState::default(),
            &text("crushing chest pain and I'm sweating"),
            &ctx("m1"),
        );
        assert_eq!(s.disposition, Some(Disposition::EmergencyAmbulance));
        // Within the episode, a later message cannot lower it.
        let (s2, _) = agent().step(
            s.clone(),
            &text("actually it's fine now, just a cough"),
            &ctx("m2"),
        );
        assert_eq!(s2.disposition, Some(Disposition::EmergencyAmbulance));
        assert!(s2.fired.len() >= s.fired.len());
        // CANCEL closes the episode; the next problem is a new episode.
        let (s3, _) = agent().step(s2, &text("CANCEL"), &ctx("m3"));
        assert_eq!(s3.episode, s.episode + 1);
        assert_eq!(s3.disposition, None);
        let (s4, _) = agent().step(s3, &text("I have had a dry cough for 3 days"), &ctx("m4"));
        assert_eq!(s4.episode, s.episode + 1);
        assert!(s4.fired.is_empty());
    }

    #[test]
    fn after_a_triage_a_new_problem_opens_an_episode_and_thanks_is_answered() {
        let (s, _) = agent().step(
            ConversationState::default(),
            &text("I can't sleep at night"),
            &ctx("m1"),
        );
        assert_eq!(s.stage, Stage::Completed);
        let (s2, actions) = agent().step(s.clone(), &text("thank you!"), &ctx("m2"));
        let thanks = reply(&actions);
        assert!(
            !thanks.contains(agent().knowledge().message(Language::En, "thanks_answers")),
            "{thanks}"
        );
        assert_eq!(s2.episode, s.episode);
        let (s3, actions) = agent().step(s2, &text("ok"), &ctx("m3"));
        assert!(
            reply(&actions).contains(agent().knowledge().message(Language::En, "routine")),
            "{actions:?}"
        );
        let (s4, actions) = agent().step(
            s3,
            &text("also I cut my finger and it won't stop bleeding"),
            &ctx("m4"),
        );
        assert_eq!(s4.episode, s.episode + 1, "{actions:?}");
        assert!(!s4.evidence.present.is_empty());
    }

    #[test]
    fn a_vital_sign_alone_can_call_an_ambulance() {
        let (s, actions) = agent().step(
            ConversationState::default(),
            &text("my oximeter says 86% and I'm short of breath"),
            &ctx("m1"),
        );
        assert_eq!(
            s.disposition,
            Some(Disposition::EmergencyAmbulance),
            "{actions:?} {:?}",
            s.fired
        );
        assert!(s.fired.iter().any(|f| f.category == "vital_signs"));
        assert!(!s.measurements.is_empty());
        let (s, _) = agent().step(
            ConversationState::default(),
            &text("my oximeter says 98% and I have a runny nose"),
            &ctx("m1"),
        );
        assert!(
            !s.fired.iter().any(|f| f.category == "vital_signs"),
            "{:?}",
            s.fired
        );
    }

    #[test]
    fn a_woman_is_never_asked_about_a_testicle() {
        let (mut s, _) = agent().step(
            ConversationState::default(),
            &text("19F sudden pain low in my tummy on one side"),
            &ctx("m1"),
        );
        let mut n = 1;
        while let Some(q) = s.pending_question.clone() {
            n += 1;
            assert!(n < 20);
            assert_ne!(q.topic(), "testicular_pain");
            s = agent().step(s, &text("no"), &ctx(&format!("m{n}"))).0;
        }
        assert!(
            !s.asked.iter().any(|q| q.topic() == "testicular_pain"),
            "{:?}",
            s.asked
        );
    }

    #[test]
    fn a_problem_no_complaint_matches_is_assessed_not_dropped() {
        let (s, actions) = agent().step(
            ConversationState::default(),
            &text("there is a strange clicking feeling behind my kneecap when I climb stairs"),
            &ctx("m1"),
        );
        assert!(s.evidence.has(UNWELL), "{:?}", s.evidence);
        assert!(
            s.pending_question.is_some(),
            "a question, not a dead end: {actions:?}"
        );
        // Answered: how bad and how long decide.
        let mut s = s;
        let mut n = 1;
        while let Some(q) = s.pending_question.clone() {
            n += 1;
            assert!(n < 20);
            let answer = match q {
                Question::Severity => text("2"),
                Question::Duration => text("3 days"),
                _ => text("no"),
            };
            s = agent().step(s, &answer, &ctx(&format!("m{n}"))).0;
        }
        assert_eq!(s.disposition, Some(Disposition::SelfCare));
        // Nothing learnt about it at all: a clinician, not a guess.
        let (mut s, _) = agent().step(
            ConversationState::default(),
            &text("there is a strange clicking feeling behind my kneecap when I climb stairs"),
            &ctx("x1"),
        );
        let mut n = 1;
        while s.pending_question.is_some() {
            n += 1;
            assert!(n < 20);
            s = agent()
                .step(s, &text("I don't know"), &ctx(&format!("x{n}")))
                .0;
        }
        assert_eq!(s.stage, Stage::EscalatedToClinician);
        assert_eq!(
            s.handoff.map(|h| h.reason),
            Some(HandoffReason::NotUnderstood)
        );
    }

    #[test]
    fn doubt_about_a_stiff_neck_with_a_fever_is_checked_not_assumed() {
        let (mut s, _) = agent().step(
            ConversationState::default(),
            &text("I have a fever and a headache"),
            &ctx("m1"),
        );
        let mut n = 1;
        let mut checked = false;
        while let Some(q) = s.pending_question.clone() {
            n += 1;
            assert!(n < 20);
            checked |= q == Question::Followup("stiff_neck".into());
            let input = if q.is_yes_no() {
                PatientInput::Choice {
                    id: format!("unsure:{q}"),
                    title: "Not sure".into(),
                }
            } else {
                text("I don't know")
            };
            s = agent().step(s, &input, &ctx(&format!("m{n}"))).0;
        }
        assert!(checked, "the chin-to-chest check was asked: {:?}", s.asked);
        assert!(
            !s.fired
                .iter()
                .any(|f| f.id == "meningitis.fever_with_stiff_neck"),
            "doubt alone is no meningitis: {:?}",
            s.fired
        );
        assert!(
            s.unresolved.iter().any(|c| c == "stiff_neck"),
            "{:?}",
            s.unresolved
        );
    }
}
