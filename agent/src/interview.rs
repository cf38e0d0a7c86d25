//! The interview: which question to ask next, and what the protocols of the
//! reported complaints conclude.
//!
//! A question is worth asking when some answer to it could raise the
//! disposition above the current one — the red-flag floor or a protocol
//! rule. Among those, the interview asks the one leading to the biggest
//! raise, then the one closest to it (fewest other answers still needed),
//! then the first in file order: deterministic, and pure (a function of the
//! knowledge and the conversation state). It stops when no answer could
//! change the disposition, or after [`MAX_QUESTIONS`].
//!
//! Questions are yes/no about a concept, "how bad is it from 0 to 10?", or
//! "how long has this been going on?". Red-flag rules are considered when
//! the story touches one of their concepts, or when a protocol that applies
//! screens for one (a sudden onset for a headache); protocol rules when
//! their protocol applies.

use std::collections::BTreeSet;
use std::fmt;

use prompts::protocols::{Facts, Protocol, ProtocolRule};
use prompts::{Disposition, Knowledge, Language};
use serde::{Deserialize, Serialize};

use crate::conversation::ConversationState;
use crate::extract::Evidence;
use crate::quantities;

/// Never ask more than this many questions.
pub const MAX_QUESTIONS: usize = 8;

/// A question the interview asks. Kept in the conversation state as a
/// string: the concept id, `followup:<concept>`, `reading:<vital kind>`, or
/// the reserved `severity` / `duration` (no concept may use those ids;
/// loading checks it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Question {
    /// Yes/no: is this concept present? Answered with buttons or typed.
    Concept(String),
    /// Yes/no: a concrete check a lay person can do ("can you touch your
    /// chin to your chest?"), asked after "I don't know" about the concept.
    Followup(String),
    /// A reading from a device the patient has (`spo2`, `heart_rate`, …). Typed.
    Reading(String),
    /// How bad is it, 0–10? Typed.
    Severity,
    /// How long has it been going on? Typed.
    Duration,
}

impl Question {
    /// The key stored in the state and used in reply-button ids.
    pub fn key(&self) -> String {
        match self {
            Question::Concept(c) => c.clone(),
            Question::Followup(c) => format!("followup:{c}"),
            Question::Reading(k) => format!("reading:{k}"),
            Question::Severity => "severity".to_owned(),
            Question::Duration => "duration".to_owned(),
        }
    }

    /// What the question is about: the concept (also of a follow-up), the
    /// vital sign, or `severity` / `duration`. Eval patients answer by it.
    pub fn topic(&self) -> &str {
        match self {
            Question::Concept(c) | Question::Followup(c) | Question::Reading(c) => c,
            Question::Severity => "severity",
            Question::Duration => "duration",
        }
    }

    /// The concept asked about, for a yes/no question (a follow-up included).
    pub fn concept(&self) -> Option<&str> {
        match self {
            Question::Concept(c) | Question::Followup(c) => Some(c),
            _ => None,
        }
    }

    /// Whether the answer is yes/no (reply buttons); the others are typed.
    pub fn is_yes_no(&self) -> bool {
        matches!(self, Question::Concept(_) | Question::Followup(_))
    }
}

impl From<String> for Question {
    fn from(key: String) -> Self {
        if let Some(c) = key.strip_prefix("followup:") {
            return Question::Followup(c.to_owned());
        }
        if let Some(k) = key.strip_prefix("reading:") {
            return Question::Reading(k.to_owned());
        }
        match key.as_str() {
            "severity" => Question::Severity,
            "duration" => Question::Duration,
            _ => Question::Concept(key),
        }
    }
}

impl From<&str> for Question {
    fn from(key: &str) -> Self {
        Question::from(key.to_owned())
    }
}

impl From<Question> for String {
    fn from(q: Question) -> Self {
        match q {
            Question::Concept(c) => c,
            other => other.key(),
        }
    }
}

impl fmt::Display for Question {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

impl PartialEq<str> for Question {
    fn eq(&self, other: &str) -> bool {
        self.key() == other
    }
}

/// A protocol rule that matched at some turn. Kept for the rest of the
/// conversation, like evidence: what once raised the disposition stays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolMatch {
    /// Rule id (`<protocol>.<name>`).
    pub id: String,
    /// Its protocol.
    pub protocol: String,
    /// The disposition it gives.
    pub disposition: Disposition,
    /// Clinician-facing summary.
    pub summary: String,
    /// Guidance it comes from.
    pub source: String,
}

/// Durations and ages of a conversation in the units rules use.
struct Numbers {
    durations: Vec<f64>,
    ages: Vec<f64>,
}

impl Numbers {
    fn of(state: &ConversationState) -> Numbers {
        Numbers {
            durations: state
                .durations
                .iter()
                .filter_map(|d| quantities::duration_hours(d))
                .collect(),
            ages: state
                .ages_years
                .iter()
                .chain(state.age_years.as_ref())
                .map(|a| f64::from(*a))
                .collect(),
        }
    }
}

/// Evaluates `f` on the facts of `state`.
fn with_facts<R>(state: &ConversationState, f: impl FnOnce(&Facts<'_>) -> R) -> R {
    let numbers = Numbers::of(state);
    let evidence = &state.evidence;
    let present = |c: &str| evidence.has(c);
    let denied = |c: &str| evidence.absent.contains(c);
    f(&Facts {
        present: &present,
        denied: &denied,
        severity: state.severity,
        durations_hours: &numbers.durations,
        ages_years: &numbers.ages,
        temperature_c: state.temperature_c.map(f64::from),
    })
}

/// What the protocols conclude on this turn.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProtocolOutcome {
    /// Ids of the protocols that apply.
    pub protocols: Vec<String>,
    /// The most urgent of their defaults and matching rules.
    pub level: Option<Disposition>,
    /// Rules matching now.
    pub matched: Vec<ProtocolMatch>,
}

/// Evaluates the protocols on the conversation so far (rules matched on
/// earlier turns are not included; the state keeps those).
pub fn assess_protocols(knowledge: &Knowledge, state: &ConversationState) -> ProtocolOutcome {
    with_facts(state, |facts| {
        let results = knowledge.protocols.evaluate(facts);
        ProtocolOutcome {
            protocols: results.iter().map(|r| r.protocol.id.clone()).collect(),
            level: results.iter().map(|r| r.disposition).max(),
            matched: results
                .iter()
                .flat_map(|r| {
                    r.matched.iter().map(|rule| ProtocolMatch {
                        id: rule.id.clone(),
                        protocol: r.protocol.id.clone(),
                        disposition: rule.disposition,
                        summary: rule.summary.clone(),
                        source: rule.source.clone(),
                    })
                })
                .collect(),
        }
    })
}

/// The disposition the conversation warrants so far: the most urgent of the
/// red-flag floor, the defaults of the protocols that apply and every
/// protocol rule that matched on any turn.
pub fn level(knowledge: &Knowledge, state: &ConversationState) -> Option<Disposition> {
    let defaults = knowledge
        .protocols
        .protocols
        .iter()
        .filter(|p| p.applies(|c| state.evidence.has(c)))
        .map(|p| p.default)
        .max();
    let matched = state.protocol_rules.iter().map(|m| m.disposition).max();
    [state.floor(), defaults, matched]
        .into_iter()
        .flatten()
        .max()
}

/// The answers still needed for one rule to match: a list of groups, each
/// satisfied by a "yes" (or "no", for a denial) to any of its questions.
type Plan = Vec<Vec<Question>>;

/// Plans the answers the interview would need for a rule to match.
struct Planner<'a> {
    knowledge: &'a Knowledge,
    state: &'a ConversationState,
    numbers: Numbers,
}

impl Planner<'_> {
    fn evidence(&self) -> &Evidence {
        &self.state.evidence
    }

    fn askable(&self, q: &Question) -> bool {
        if self.state.asked.contains(q) {
            return false;
        }
        match q {
            Question::Concept(c) => {
                !self.evidence().has(c)
                    && !self.evidence().absent.contains(c)
                    && self.knowledge.question(Language::En, c).is_some()
                    // Never a question that cannot apply to this patient
                    // (a testicle to a woman, pregnancy to a man or a child).
                    && crate::demographics::question_applies(c, &self.state.demographics)
                    && self
                        .knowledge
                        .protocols
                        .may_ask(c, |other| self.evidence().has(other))
            }
            Question::Severity => self.state.severity.is_none(),
            Question::Duration => self.numbers.durations.is_empty(),
            // Follow-ups and readings are asked by their own policies, not planned.
            Question::Followup(_) | Question::Reading(_) => false,
        }
    }

    /// Adds what `all`, `any` and `denied` still need; false if they can no
    /// longer hold.
    fn concepts(&self, all: &[String], any: &[String], denied: &[String], plan: &mut Plan) -> bool {
        for c in all {
            if self.evidence().has(c) {
                continue;
            }
            let q = Question::Concept(c.clone());
            if !self.askable(&q) {
                return false;
            }
            plan.push(vec![q]);
        }
        if !any.is_empty() && !any.iter().any(|c| self.evidence().has(c)) {
            let options: Vec<Question> = any
                .iter()
                .map(|c| Question::Concept(c.clone()))
                .filter(|q| self.askable(q))
                .collect();
            if options.is_empty() {
                return false;
            }
            plan.push(options);
        }
        for c in denied {
            if self.evidence().absent.contains(c) {
                continue;
            }
            let q = Question::Concept(c.clone());
            if !self.askable(&q) {
                return false;
            }
            plan.push(vec![q]);
        }
        true
    }

    fn protocol_rule(&self, rule: &ProtocolRule) -> Option<Plan> {
        let mut plan = Plan::new();
        let pregnant = if rule.pregnant {
            vec!["pregnant".to_owned()]
        } else {
            Vec::new()
        };
        let all: Vec<String> = rule.all.iter().chain(&pregnant).cloned().collect();
        if !self.concepts(&all, &rule.any, &rule.denied, &mut plan) {
            return None;
        }
        let facts_hold = with_facts(self.state, |facts| {
            (rule.severity_holds(facts), rule.duration_holds(facts))
        });
        if !facts_hold.0 {
            if !self.askable(&Question::Severity) {
                return None;
            }
            plan.push(vec![Question::Severity]);
        }
        if !facts_hold.1 {
            if !self.askable(&Question::Duration) {
                return None;
            }
            plan.push(vec![Question::Duration]);
        }
        // Age and temperature are taken from what the patient writes, never asked.
        let age_holds = !rule.has_age() || self.numbers.ages.iter().any(|&a| rule.age_fits(a));
        let temperature_holds = rule.temperature_at_least.is_none_or(|t| {
            self.state
                .temperature_c
                .is_some_and(|c| f64::from(c) >= f64::from(t) - 1e-6)
        });
        (age_holds && temperature_holds).then_some(plan)
    }
}

/// The best question found so far: (raise, answers needed, order).
struct Best {
    potential: Disposition,
    steps: usize,
    question: Question,
}

/// The next question, if any answer to one could change the disposition.
pub fn next_question(knowledge: &Knowledge, state: &ConversationState) -> Option<Question> {
    if state.asked.len() >= MAX_QUESTIONS {
        return None;
    }
    let current = level(knowledge, state);
    let planner = Planner {
        knowledge,
        state,
        numbers: Numbers::of(state),
    };
    let evidence = &state.evidence;
    let applicable: Vec<&Protocol> = knowledge
        .protocols
        .protocols
        .iter()
        .filter(|p| p.applies(|c| evidence.has(c)))
        .collect();
    let screened: BTreeSet<&str> = applicable
        .iter()
        .flat_map(|p| p.screen.iter().map(String::as_str))
        .collect();
    let mut best: Option<Best> = None;
    let mut consider = |potential: Disposition, plan: Plan| {
        let Some(question) = plan.first().and_then(|group| group.first()).cloned() else {
            return; // nothing left to ask: it already holds
        };
        let better = best.as_ref().is_none_or(|b| {
            potential > b.potential || (potential == b.potential && plan.len() < b.steps)
        });
        if better {
            best = Some(Best {
                potential,
                steps: plan.len(),
                question,
            });
        }
    };
    // Protocol rules first: at an equal raise, the complaint's own
    // questions come before those of red flags the story merely touches.
    for protocol in applicable {
        for rule in &protocol.rules {
            if current.is_some_and(|c| c >= rule.disposition) {
                continue;
            }
            if let Some(plan) = planner.protocol_rule(rule) {
                consider(rule.disposition, plan);
            }
        }
    }
    for rule in &knowledge.rules.rules {
        // Any concept of the rule touches it, not only its anchor: measured
        // on the eval suites, anchoring alone lowered emergency recall in
        // conversation mode from 0.835 to 0.725.
        let touched = rule
            .concepts()
            .any(|c| evidence.has(c) || screened.contains(c));
        if !touched || current.is_some_and(|c| c >= rule.floor) {
            continue;
        }
        let mut plan = Plan::new();
        if planner.concepts(&rule.all, &rule.any, &[], &mut plan) {
            consider(rule.floor, plan);
        }
    }
    best.map(|b| b.question)
}

/// Whether doubt about `concept` counts as a yes: when the patient has
/// already reported another concept of a rule (red flag or protocol rule)
/// that `concept` belongs to, the red flag is plausible for this story and
/// "not sure" must not rule it out. A question asked only as a screen
/// (nothing else of its rule reported) stays unanswered on doubt.
///
/// Measured on the eval suites (368 five-level cases): doubt always yes gave
/// single-mode accuracy 0.554, under-triage 0.068, over-triage 0.378;
/// doubt never yes 0.774 / 0.160 / 0.065; see docs/triage.md for this rule.
pub fn doubt_counts(knowledge: &Knowledge, evidence: &Evidence, concept: &str) -> bool {
    doubt_in_rules(knowledge, evidence, concept, true)
}

/// Whether doubt about `concept` leaves a red flag of this story open at
/// all (any rule, confirm-only ones included): then a concrete follow-up is
/// worth asking, and unresolved doubt is worth telling the clinician.
pub fn doubt_plausible(knowledge: &Knowledge, evidence: &Evidence, concept: &str) -> bool {
    doubt_in_rules(knowledge, evidence, concept, false)
}

/// Doubt about `concept` is plausible for a rule when the patient reported
/// another of its concepts. With `counting`, red-flag rules whose signs must
/// be confirmed (`prompts/data/doubt.toml`) do not count.
fn doubt_in_rules(
    knowledge: &Knowledge,
    evidence: &Evidence,
    concept: &str,
    counting: bool,
) -> bool {
    let policy = prompts::doubt::DoubtPolicy::bundled().ok();
    let other_reported = |mut concepts: Box<dyn Iterator<Item = &str> + '_>| {
        let mut belongs = false;
        let mut other = false;
        for c in concepts.by_ref() {
            if c == concept {
                belongs = true;
            } else if evidence.has(c) {
                other = true;
            }
        }
        belongs && other
    };
    knowledge
        .rules
        .rules
        .iter()
        .filter(|r| !counting || !policy.is_some_and(|p| p.must_confirm(&r.id)))
        .any(|r| other_reported(Box::new(r.concepts())))
        || knowledge.protocols.protocols.iter().any(|p| {
            p.rules
                .iter()
                .any(|r| other_reported(Box::new(r.all.iter().chain(&r.any).map(String::as_str))))
        })
}

/// A typed reply to a yes/no question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypedAnswer {
    /// Yes.
    Yes,
    /// No.
    No,
    /// Doubt ("not sure", "I don't know", "no sé", "sijui").
    Unsure,
}

/// Short replies that mean "I don't know" (folded: lower case, no accents).
const UNSURE_ANSWERS: &[&str] = &[
    "i dont know",
    "i don't know",
    "dont know",
    "don't know",
    "not sure",
    "im not sure",
    "i'm not sure",
    "i am not sure",
    "no idea",
    "no se",
    "no lo se",
    "no estoy seguro",
    "no estoy segura",
    "je ne sais pas",
    "je sais pas",
    "sais pas",
    "pas sur",
    "pas sure",
    "je ne suis pas sur",
    "je ne suis pas sure",
    "nao sei",
    "nao tenho certeza",
    "pata nahi",
    "pata nahin",
    "पता नहीं",
    "मुझे नहीं पता",
    "पक्का नहीं पता",
    "sijui",
    "sina uhakika",
];

const YES: &[&str] = &[
    "yes",
    "y",
    "yeah",
    "yep",
    "yup",
    "ya",
    "si",
    "oui",
    "sim",
    "haan",
    "han",
    "ha",
    "हाँ",
    "हां",
    "जी",
    "ndiyo",
    "ndio",
    "naam",
];
const NO: &[&str] = &[
    "no",
    "n",
    "nope",
    "nah",
    "non",
    "nao",
    "nahi",
    "nahin",
    "नहीं",
    "नही",
    "hapana",
    "la",
];

/// Reads a typed yes/no reply in any supported language: the whole reply
/// ("Yes", a button title typed), doubt anywhere at its start ("I'm not
/// sure", "no sé"), or its first word ("yes, since this morning", "no, not
/// at all").
pub fn typed_answer(text: &str, knowledge: &Knowledge) -> Option<TypedAnswer> {
    let t = text.trim().trim_end_matches(['.', '!']).to_lowercase();
    let catalog_says = |key: &str| {
        knowledge
            .messages
            .values()
            .any(|c| c.messages.get(key).is_some_and(|m| m.to_lowercase() == t))
    };
    if catalog_says("answer_unsure") {
        return Some(TypedAnswer::Unsure);
    }
    if catalog_says("answer_yes") {
        return Some(TypedAnswer::Yes);
    }
    if catalog_says("answer_no") {
        return Some(TypedAnswer::No);
    }
    let tokens: Vec<String> = crate::extract::tokenize(text)
        .into_iter()
        .filter(|t| t.chars().any(char::is_alphanumeric))
        .collect();
    let starts_with = |phrase: &str| {
        let p: Vec<String> = crate::extract::tokenize(phrase)
            .into_iter()
            .filter(|t| t.chars().any(char::is_alphanumeric))
            .collect();
        !p.is_empty() && tokens.len() >= p.len() && tokens[..p.len()] == p[..]
    };
    // Doubt first: "no sé" must not read as "no".
    if UNSURE_ANSWERS.iter().any(|u| starts_with(u)) {
        return Some(TypedAnswer::Unsure);
    }
    let first = tokens.first()?;
    let folded = |w: &str| crate::extract::tokenize(w).into_iter().next();
    if YES
        .iter()
        .any(|y| folded(y).as_deref() == Some(first.as_str()))
    {
        Some(TypedAnswer::Yes)
    } else if NO
        .iter()
        .any(|n| folded(n).as_deref() == Some(first.as_str()))
    {
        Some(TypedAnswer::No)
    } else {
        None
    }
}

/// Reads a typed answer to "how bad is it from 0 to 10?": "7", "7/10",
/// "about 8 out of 10".
pub fn severity_answer(text: &str) -> Option<u8> {
    quantities::quantities(text).severity.or_else(|| {
        crate::extract::tokenize(text)
            .iter()
            .find_map(|t| t.parse::<u8>().ok())
            .filter(|n| *n <= 10)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Extractor;
    use crate::red_flags;

    fn knowledge() -> &'static Knowledge {
        Knowledge::bundled().unwrap()
    }

    /// A state holding what `text` says, as the agent would build it.
    fn story(text: &str) -> ConversationState {
        let k = knowledge();
        let mut s = ConversationState::default();
        s.evidence.absorb(Extractor::new(&k.lexicons).extract(text));
        let q = quantities::quantities(text);
        s.severity = q.severity;
        s.durations = q.durations;
        s.ages_years = q.ages_years;
        s.temperature_c = q.temperature_c;
        s.fired = red_flags::evaluate(&k.rules, &s.evidence);
        s
    }

    fn ask(text: &str) -> Option<String> {
        next_question(knowledge(), &story(text)).map(String::from)
    }

    #[test]
    fn asks_what_would_raise_urgency_given_the_story() {
        let q = ask("my chest hurts");
        assert!(
            matches!(q.as_deref(), Some("sweating" | "breathless")),
            "{q:?}"
        );
        // Nothing touched by any rule or protocol: nothing to ask.
        assert_eq!(ask("hello"), None);
    }

    #[test]
    fn stops_when_no_answer_could_change_the_disposition() {
        // Already at the top floor for this story: no question is worth asking.
        assert_eq!(ask("chest pain and sweating"), None);
        let mut s = story("my chest hurts");
        s.asked = (0..MAX_QUESTIONS)
            .map(|i| Question::from(format!("q{i}")))
            .collect();
        assert_eq!(next_question(knowledge(), &s), None);
    }

    #[test]
    fn protocol_rules_bring_severity_and_duration_questions() {
        // A headache: after the sudden-onset screen (a red flag), the
        // protocol asks how bad it is (severity >= 8 raises it).
        let mut s = story("I have a headache");
        let mut asked = Vec::new();
        while let Some(q) = next_question(knowledge(), &s) {
            asked.push(q.clone());
            s.asked.push(q.clone());
            if let Some(c) = q.concept() {
                s.evidence.absent.insert(c.to_owned());
            }
        }
        assert_eq!(
            asked.first(),
            Some(&Question::from("thunderclap_headache")),
            "{asked:?}"
        );
        assert!(asked.contains(&Question::Severity), "{asked:?}");
        assert!(asked.len() <= MAX_QUESTIONS);
        // A cough: how long? (more than 3 weeks raises it to routine).
        let cough: Vec<Question> = {
            let mut s = story("I have a dry cough");
            let mut out = Vec::new();
            while let Some(q) = next_question(knowledge(), &s) {
                out.push(q.clone());
                s.asked.push(q);
            }
            out
        };
        assert!(cough.contains(&Question::Duration), "{cough:?}");
        // Once the duration is known it is not asked again.
        let told = story("I have had a dry cough for 4 days");
        let mut s = told.clone();
        while let Some(q) = next_question(knowledge(), &s) {
            assert_ne!(q, Question::Duration);
            s.asked.push(q);
        }
    }

    #[test]
    fn a_denial_can_be_what_raises_it() {
        // Sore throat with fever: the Centor-style rule needs the cough denied.
        // The red-flag screens come first (a stiff neck would be an
        // ambulance); the cough question is asked before the interview ends.
        let mut s = story("sore throat and a fever");
        let mut asked = Vec::new();
        while let Some(q) = next_question(knowledge(), &s) {
            asked.push(q.clone());
            s.asked.push(q.clone());
            if let Some(c) = q.concept() {
                s.evidence.absent.insert(c.to_owned());
            }
        }
        assert!(asked.contains(&Question::from("cough")), "{asked:?}");
        // Once denied, the rule matches.
        let outcome = assess_protocols(knowledge(), &s);
        assert!(
            outcome
                .matched
                .iter()
                .any(|m| m.id == "sore_throat.fever_without_cough"),
            "{outcome:?}"
        );
    }

    #[test]
    fn the_biggest_raise_comes_first_and_the_choice_is_deterministic() {
        let s = story("my head hurts");
        let first = next_question(knowledge(), &s);
        for _ in 0..10 {
            assert_eq!(next_question(knowledge(), &s), first);
        }
        // Thunderclap headache (an ambulance) before severity (urgent).
        assert_eq!(first, Some(Question::from("thunderclap_headache")));
    }

    #[test]
    fn protocols_conclude_with_the_most_urgent_rule() {
        let k = knowledge();
        let mut s = story("I have had a cough for 4 weeks");
        let outcome = assess_protocols(k, &s);
        assert!(outcome.protocols.contains(&"cough".to_owned()));
        assert_eq!(outcome.level, Some(Disposition::Routine));
        assert!(
            outcome
                .matched
                .iter()
                .any(|m| m.id == "cough.longer_than_3_weeks")
        );
        s.protocol_rules = outcome.matched;
        assert_eq!(level(k, &s), Some(Disposition::Routine));
        let baby = story("my 4 month old baby has a fever of 39.5");
        assert_eq!(
            assess_protocols(k, &baby).level,
            Some(Disposition::EmergencyDepartment)
        );
    }

    #[test]
    fn questions_are_stored_as_their_keys() {
        for q in [
            Question::Severity,
            Question::Duration,
            Question::from("fever"),
        ] {
            let json = serde_json::to_string(&q).unwrap();
            assert_eq!(json, format!("\"{}\"", q.key()));
            assert_eq!(serde_json::from_str::<Question>(&json).unwrap(), q);
        }
        assert_eq!(Question::from("severity"), Question::Severity);
    }

    #[test]
    fn typed_severities_are_read() {
        assert_eq!(severity_answer("7"), Some(7));
        assert_eq!(severity_answer("about 8 out of 10"), Some(8));
        assert_eq!(severity_answer("9/10"), Some(9));
        assert_eq!(severity_answer("it's bad"), None);
        assert_eq!(severity_answer("42"), None);
    }

    #[test]
    fn yes_and_no_are_understood_in_every_language() {
        let k = knowledge();
        for yes in ["Yes", "sí", "Oui", "sim", "हाँ", "Ndiyo", "Not sure"] {
            assert!(
                matches!(
                    typed_answer(yes, k),
                    Some(TypedAnswer::Yes | TypedAnswer::Unsure)
                ),
                "{yes}"
            );
        }
        for no in ["no", "Non", "não", "नहीं", "hapana"] {
            assert_eq!(typed_answer(no, k), Some(TypedAnswer::No), "{no}");
        }
        assert_eq!(typed_answer("my chest hurts", k), None);
        // First words and doubt in free replies.
        assert_eq!(typed_answer("yes, I'm drenched", k), Some(TypedAnswer::Yes));
        assert_eq!(typed_answer("No, not at all", k), Some(TypedAnswer::No));
        assert_eq!(typed_answer("não, nada disso", k), Some(TypedAnswer::No));
        assert_eq!(typed_answer("No sé", k), Some(TypedAnswer::Unsure));
        assert_eq!(typed_answer("I don't know", k), Some(TypedAnswer::Unsure));
        assert_eq!(
            typed_answer("sijui kwa kweli", k),
            Some(TypedAnswer::Unsure)
        );
        assert_eq!(typed_answer("nothing else", k), None);
    }
}
