//! The triage report a clinician reads: what the patient reported (in their
//! own words), which red-flag rules fired and where they come from, the
//! disposition and why, and — when the agent handed the conversation to a
//! clinician — why, and by when someone must reply. Built from the agent's
//! conversation state; stored as JSON (structured) plus plain text (`render`).
//!
//! A report exists only once there is something for a clinician to act on: a
//! red-flag rule fired (its floor is final), the interview concluded, or the
//! agent asked a clinician to take over. Before that the agent has decided
//! nothing. There is one report per conversation, and a conversation is one
//! episode of the agent's (CANCEL, RESTART or a new problem start another).

use std::fmt::Write as _;

use agent::{ConversationState, Disposition, HandoffReason, Stage};
use chrono::{DateTime, Utc};
use prompts::{Knowledge, Language};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::storage::{NewReport, ReportStatus, StoredReport};

/// The `model` of a report decided by rules and lexicon alone.
pub const NO_MODEL: &str = "none";

/// Concepts that say who the patient is rather than what is wrong (the age
/// groups the agent derives from an age, a pregnancy, a long-term
/// condition): a red-flag rule needs them, but they are not a complaint.
const CONTEXT_CONCEPTS: &[&str] = &["young_infant", "infant", "child", "pregnant", "diabetes"];

/// The structured report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriageReport {
    /// The conversation it describes.
    pub conversation_id: Uuid,
    /// The patient's address on the channel. PHI.
    pub patient_ref: String,
    /// The five-level disposition: the most urgent the conversation reached.
    pub disposition: Disposition,
    /// Triaged, or handed to a clinician.
    #[serde(default)]
    pub status: ReportStatus,
    /// The hand-off to a clinician, when the agent asked for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff: Option<agent::Handoff>,
    /// How soon a clinician must review this report: the level's SLA, or
    /// the reply time promised to the patient on a hand-off if sooner.
    #[serde(default)]
    pub review_within_minutes: u32,
    /// When the review is due: the report's (or the hand-off's) time plus
    /// the review time, the earliest any version of the report set.
    pub review_due_at: DateTime<Utc>,
    /// The complaint driving the disposition (see `chief_complaint`).
    pub chief_complaint: Option<String>,
    /// Concepts reported present, in the order first reported.
    pub evidence_present: Vec<ReportedEvidence>,
    /// Concepts the patient denied (and never reported).
    pub evidence_absent: Vec<ReportedEvidence>,
    /// How long each symptom has lasted (filled by the interview; empty today).
    #[serde(default)]
    pub durations: Vec<ReportedDuration>,
    /// Overall severity as the patient rates it (filled by the interview).
    #[serde(default)]
    pub severity: Option<String>,
    /// Risk factors (filled by the interview; empty today).
    #[serde(default)]
    pub risk_factors: Vec<ReportedEvidence>,
    /// Red-flag rules that fired, most urgent first.
    pub red_flags: Vec<ReportedRedFlag>,
    /// Chief-complaint protocols that apply (ids).
    #[serde(default)]
    pub protocols: Vec<String>,
    /// Protocol rules that matched (each raises its protocol's default).
    #[serde(default)]
    pub protocol_rules: Vec<ReportedProtocolRule>,
    /// Temperature the patient gave, °C.
    #[serde(default)]
    pub temperature_c: Option<f32>,
    /// Ages mentioned (years).
    #[serde(default)]
    pub ages_years: Vec<f32>,
    /// Vital signs and other readings the patient gave, in the order given.
    #[serde(default)]
    pub measurements: Vec<agent::vitals::Measurement>,
    /// Who the patient is, as far as their words say.
    #[serde(default)]
    pub demographics: agent::demographics::Demographics,
    /// Warning signs the patient could not tell even after a concrete
    /// check, which did not count (the clinician should ask).
    #[serde(default)]
    pub unresolved_signs: Vec<String>,
    /// Why this disposition, in one or two sentences.
    pub rationale: String,
    /// Version of the rule set.
    pub rules_version: Option<String>,
    /// The patient's language.
    pub language: Option<Language>,
    /// The model consulted (`none`: rules only).
    pub model: String,
    /// The model's clinical summary, when one contributed.
    #[serde(default)]
    pub model_summary: Option<String>,
    /// Passages of the patient's own medical reports that support the
    /// decision (filled by retrieval; empty today).
    #[serde(default)]
    pub excerpts: Vec<ReportExcerpt>,
}

/// One concept with the words the patient used for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportedEvidence {
    /// Concept id (`chest_pain`).
    pub concept: String,
    /// The patient's words that matched, distinct, in order.
    pub words: Vec<String>,
}

/// How long a symptom has lasted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportedDuration {
    /// Concept id.
    pub concept: String,
    /// The duration as the patient said it.
    pub words: String,
}

/// A red-flag rule that fired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportedRedFlag {
    /// Rule id.
    pub id: String,
    /// Category.
    pub category: String,
    /// The disposition floor it imposes.
    pub floor: Disposition,
    /// Clinician-facing summary.
    pub summary: String,
    /// The guidance it comes from.
    pub source: String,
    /// The concepts that made it fire.
    pub evidence: Vec<String>,
}

/// A protocol rule that matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportedProtocolRule {
    /// Rule id (`<protocol>.<name>`).
    pub id: String,
    /// Its protocol.
    pub protocol: String,
    /// The disposition it gives.
    pub disposition: Disposition,
    /// Clinician-facing summary.
    pub summary: String,
    /// The guidance it comes from.
    pub source: String,
}

/// A passage from one of the patient's documents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportExcerpt {
    /// The document it comes from.
    pub document: String,
    /// The passage.
    pub text: String,
}

impl TriageReport {
    /// The report for a conversation with something for a clinician to act
    /// on, as of a patient message sent `at`; `None` while there is nothing
    /// (no red flag fired, no interview concluded, no hand-off).
    pub fn from_state(
        state: &ConversationState,
        knowledge: &Knowledge,
        conversation_id: Uuid,
        patient_ref: &str,
        at: DateTime<Utc>,
    ) -> Option<TriageReport> {
        let handoff = state.handoff.clone();
        let escalated = handoff.is_some() || state.stage == Stage::EscalatedToClinician;
        // The red-flag floor is final: never report less urgent than it, nor
        // than the level a hand-off carries. A hand-off without a level
        // still reaches a clinician, within a day.
        let decided = state
            .disposition
            .max(state.floor())
            .max(handoff.as_ref().map(|h| h.disposition));
        let disposition = match decided {
            Some(d) => d,
            None if escalated => Disposition::Urgent24h,
            None => return None,
        };
        let evidence = &state.evidence;
        let collect = |concepts: &std::collections::BTreeSet<String>, negated: bool| {
            let mut items: Vec<ReportedEvidence> = Vec::new();
            for m in evidence
                .mentions
                .iter()
                .filter(|m| m.negated == negated && concepts.contains(&m.concept))
            {
                match items.iter_mut().find(|i| i.concept == m.concept) {
                    Some(item) if !item.words.contains(&m.words) => {
                        item.words.push(m.words.clone())
                    }
                    Some(_) => {}
                    None => items.push(ReportedEvidence {
                        concept: m.concept.clone(),
                        words: vec![m.words.clone()],
                    }),
                }
            }
            // A concept known without a recorded mention still appears.
            for concept in concepts {
                if !items.iter().any(|i| &i.concept == concept) {
                    items.push(ReportedEvidence {
                        concept: concept.clone(),
                        words: Vec::new(),
                    });
                }
            }
            items
        };
        let evidence_present = collect(&evidence.present, false);
        let evidence_absent = collect(&evidence.absent, true);
        let red_flags: Vec<ReportedRedFlag> = state
            .fired
            .iter()
            .map(|f| ReportedRedFlag {
                id: f.id.clone(),
                category: f.category.clone(),
                floor: f.floor,
                summary: f.summary.clone(),
                source: f.source.clone(),
                evidence: f.evidence.clone(),
            })
            .collect();
        let chief = chief_complaint(state, knowledge);
        let durations = state
            .durations
            .iter()
            .map(|words| ReportedDuration {
                concept: chief.clone().unwrap_or_default(),
                words: words.clone(),
            })
            .collect();
        let protocol_rules: Vec<ReportedProtocolRule> = state
            .protocol_rules
            .iter()
            .map(|m| ReportedProtocolRule {
                id: m.id.clone(),
                protocol: m.protocol.clone(),
                disposition: m.disposition,
                summary: m.summary.clone(),
                source: m.source.clone(),
            })
            .collect();
        let mut rationale_text = match &handoff {
            Some(h) => handoff_rationale(h, disposition, &red_flags),
            None => rationale(disposition, &red_flags, &state.protocols, &protocol_rules),
        };
        match (&state.model, &state.model_rationale) {
            (Some(model), Some(model_says)) => {
                rationale_text.push_str(&format!(" Model consulted ({model}): {model_says}"));
            }
            _ => rationale_text.push_str(" Decided by rules alone; no model contributed."),
        }
        let review_within_minutes = handoff
            .as_ref()
            .map_or(u32::MAX, |h| h.review_minutes)
            .min(disposition.clinician_review_minutes());
        Some(TriageReport {
            conversation_id,
            patient_ref: patient_ref.to_owned(),
            disposition,
            status: if escalated {
                ReportStatus::EscalatedToClinician
            } else {
                ReportStatus::Triaged
            },
            handoff,
            review_within_minutes,
            review_due_at: at + chrono::Duration::minutes(i64::from(review_within_minutes)),
            chief_complaint: chief,
            rationale: rationale_text,
            evidence_present,
            evidence_absent,
            durations,
            severity: state.severity.map(|n| format!("{n}/10")),
            risk_factors: Vec::new(),
            red_flags,
            protocols: state.protocols.clone(),
            protocol_rules,
            temperature_c: state.temperature_c,
            ages_years: state.ages_years.clone(),
            measurements: state.measurements.clone(),
            demographics: state.demographics.clone(),
            unresolved_signs: state.unresolved.clone(),
            rules_version: state.rules_version.clone(),
            language: state.language,
            model: state.model.clone().unwrap_or_else(|| NO_MODEL.to_owned()),
            model_summary: state.model_summary.clone(),
            excerpts: Vec::new(),
        })
    }

    /// This report as an update of `previous` (the conversation's stored
    /// report): what clinicians act on never weakens within a conversation.
    /// The disposition stays at the most urgent reached, the deadline at the
    /// earliest set, and an escalation stays escalated. The store enforces
    /// the same; doing it here keeps the text and the columns in agreement.
    pub fn settle(mut self, previous: Option<&StoredReport>) -> TriageReport {
        let Some(previous) = previous else {
            return self;
        };
        if previous.disposition > self.disposition {
            self.disposition = previous.disposition;
            self.review_within_minutes = self
                .review_within_minutes
                .min(previous.disposition.clinician_review_minutes());
            self.rationale.push_str(&format!(
                " Kept at {}: the most urgent level this conversation reached.",
                previous.disposition
            ));
        }
        self.review_due_at = self.review_due_at.min(previous.review_due_at);
        if previous.status == ReportStatus::EscalatedToClinician {
            self.status = ReportStatus::EscalatedToClinician;
            if self.handoff.is_none() {
                self.handoff = previous
                    .report
                    .get("handoff")
                    .and_then(|h| serde_json::from_value(h.clone()).ok());
            }
        }
        self
    }

    /// The row to store.
    pub fn to_record(&self) -> Result<NewReport, serde_json::Error> {
        Ok(NewReport {
            conversation_id: self.conversation_id,
            patient_ref: self.patient_ref.clone(),
            disposition: self.disposition,
            status: self.status,
            handoff_reason: self.handoff.as_ref().map(|h| h.reason),
            review_due_at: self.review_due_at,
            rules_version: self.rules_version.clone(),
            report: serde_json::to_value(self)?,
            rendered: self.render(),
        })
    }

    /// Plain text for clinicians. Deterministic (no clock), so storing the
    /// same state twice stores the same text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = self.write_text(&mut out);
        out
    }

    fn write_text(&self, out: &mut String) -> std::fmt::Result {
        let or_none = |v: Option<String>| v.unwrap_or_else(|| "not recorded".to_owned());
        let shout = |name: &str| name.replace('_', " ").to_uppercase();
        writeln!(out, "TRIAGE REPORT")?;
        writeln!(
            out,
            "Status: {} ({})",
            shout(self.status.as_str()),
            self.status
        )?;
        writeln!(
            out,
            "Disposition: {} ({})",
            shout(self.disposition.as_str()),
            self.disposition
        )?;
        writeln!(
            out,
            "Clinician review within: {}; due by {}",
            minutes_in_words(self.review_within_minutes),
            self.review_due_at.format("%Y-%m-%d %H:%M UTC")
        )?;
        if let Some(h) = &self.handoff {
            writeln!(
                out,
                "Hand-off: {} ({}) at turn {}; the patient was told to expect a reply within {}",
                reason_in_words(h.reason),
                h.reason.as_str(),
                h.at_turn,
                minutes_in_words(h.review_minutes)
            )?;
            if !h.concepts.is_empty() {
                writeln!(out, "  In doubt: {}", h.concepts.join(", "))?;
            }
        }
        writeln!(out, "Patient: {}", self.patient_ref)?;
        let d = &self.demographics;
        let mut who: Vec<String> = Vec::new();
        if let Some(relation) = &d.relation {
            who.push(format!("the writer's {relation}"));
        } else if d.about_someone_else {
            who.push("someone the writer cares for".to_owned());
        }
        if let Some(age) = d.age_years {
            who.push(age_in_words(age));
        }
        if let Some(sex) = d.sex {
            who.push(
                match sex {
                    agent::demographics::Sex::Female => "female",
                    agent::demographics::Sex::Male => "male",
                }
                .to_owned(),
            );
        }
        if !who.is_empty() {
            let words: Vec<String> = d.words.iter().map(|w| format!("\"{w}\"")).collect();
            writeln!(
                out,
                "Person described: {} ({})",
                who.join(", "),
                words.join(", ")
            )?;
        }
        writeln!(out, "Conversation: {}", self.conversation_id)?;
        writeln!(
            out,
            "Language: {}",
            or_none(self.language.map(|l| l.to_string()))
        )?;
        writeln!(
            out,
            "Chief complaint: {}",
            or_none(self.chief_complaint.clone())
        )?;
        writeln!(out)?;
        writeln!(out, "Red flags:")?;
        for f in &self.red_flags {
            writeln!(out, "  - {} [floor {}]: {}", f.id, f.floor, f.summary)?;
            writeln!(out, "    Source: {}", f.source)?;
            writeln!(out, "    Evidence: {}", f.evidence.join(", "))?;
        }
        if !self.protocol_rules.is_empty() || !self.protocols.is_empty() {
            writeln!(out, "Protocols: {}", self.protocols.join(", "))?;
            for r in &self.protocol_rules {
                writeln!(out, "  - {} [{}]: {}", r.id, r.disposition, r.summary)?;
                writeln!(out, "    Source: {}", r.source)?;
            }
        }
        writeln!(out)?;
        for (title, items) in [
            ("Reported", &self.evidence_present),
            ("Denied", &self.evidence_absent),
            ("Risk factors", &self.risk_factors),
        ] {
            writeln!(out, "{title}:")?;
            if items.is_empty() {
                writeln!(out, "  (none)")?;
            }
            for e in items {
                let words: Vec<String> = e.words.iter().map(|w| format!("\"{w}\"")).collect();
                writeln!(out, "  - {}: {}", e.concept, words.join(", "))?;
            }
        }
        if !self.durations.is_empty() {
            writeln!(out, "Durations:")?;
            for d in &self.durations {
                writeln!(out, "  - {}: {}", d.concept, d.words)?;
            }
        }
        writeln!(out, "Severity: {}", or_none(self.severity.clone()))?;
        if let Some(t) = self.temperature_c {
            writeln!(out, "Temperature: {t:.1} °C")?;
        }
        if !self.measurements.is_empty() {
            writeln!(out, "Measurements (patient's own devices):")?;
            for m in &self.measurements {
                let value = match m.second {
                    Some(second) => format!("{}/{}", m.value, second),
                    None => m.value.to_string(),
                };
                let unit = unit_of(m.kind.as_str());
                writeln!(
                    out,
                    "  - {}: {value}{unit} (\"{}\")",
                    m.kind.as_str(),
                    m.words
                )?;
            }
        }
        if !self.unresolved_signs.is_empty() {
            writeln!(
                out,
                "Not sure, even after a check (ask): {}",
                self.unresolved_signs.join(", ")
            )?;
        }
        writeln!(out)?;
        if let Some(summary) = &self.model_summary {
            writeln!(out, "Summary ({}): {summary}", self.model)?;
        }
        writeln!(out, "Rationale: {}", self.rationale)?;
        writeln!(
            out,
            "Rules: {}; model: {}",
            or_none(self.rules_version.clone()),
            self.model
        )?;
        if !self.excerpts.is_empty() {
            writeln!(out, "From the patient's documents:")?;
            for x in &self.excerpts {
                writeln!(out, "  - {}: {}", x.document, x.text)?;
            }
        }
        Ok(())
    }
}

/// The canonical unit of a measurement kind, as the agent reads them.
fn unit_of(kind: &str) -> &'static str {
    match kind {
        "spo2" => "%",
        "heart_rate" | "respiratory_rate" => "/min",
        "blood_pressure" => " mmHg",
        "temperature" => " °C",
        "glucose" | "ketones" => " mmol/L",
        "consciousness" => " (GCS)",
        "weight_kg" => " kg",
        _ => "",
    }
}

/// "3 years", "8 months", "2 weeks".
fn age_in_words(years: f32) -> String {
    if years >= 2.0 {
        format!("{} years", years.floor())
    } else if years >= 1.0 / 12.0 {
        format!("{} months", (years * 12.0).round())
    } else {
        format!("{} weeks", (years * 52.0).round())
    }
}

/// "15 minutes", "4 hours", "3 days".
fn minutes_in_words(minutes: u32) -> String {
    match minutes {
        m if m < 60 => format!("{m} minutes"),
        m if m < 24 * 60 => format!("{} hours", m / 60),
        m => format!("{} days", m / (24 * 60)),
    }
}

fn reason_in_words(reason: HandoffReason) -> &'static str {
    match reason {
        HandoffReason::NotUnderstood => "the agent could not understand the patient",
        HandoffReason::PatientAsked => "the patient asked for a person",
        HandoffReason::UnresolvedDoubt => "a possibly serious sign stayed in doubt",
    }
}

/// The complaint driving the disposition, for a clinician scanning a list:
/// in a long message about several problems the first one mentioned is
/// often not the one that matters. It is the symptom of the most urgent red
/// flag, unless a protocol reached a higher level; then the complaint of
/// the protocol with the highest level; else the first concept reported.
fn chief_complaint(state: &ConversationState, knowledge: &Knowledge) -> Option<String> {
    let present = &state.evidence.present;
    // `fired` is most urgent first.
    let flag = state.fired.first().and_then(|f| {
        let concept = f
            .evidence
            .iter()
            .find(|c| !CONTEXT_CONCEPTS.contains(&c.as_str()))
            .or_else(|| f.evidence.first())?;
        Some((f.floor, concept.clone()))
    });
    // A protocol's level: its default, raised by its rules that matched.
    // Ties go to the complaint reported first.
    let mut protocol: Option<(Disposition, String)> = None;
    for id in &state.protocols {
        let known = knowledge.protocols.protocols.iter().find(|p| &p.id == id);
        let level = state
            .protocol_rules
            .iter()
            .filter(|r| &r.protocol == id)
            .map(|r| r.disposition)
            .chain(known.map(|p| p.default))
            .max();
        let Some(level) = level else { continue };
        if protocol.as_ref().is_some_and(|(best, _)| *best >= level) {
            continue;
        }
        let concept = known
            .and_then(|p| {
                p.concepts
                    .iter()
                    .find(|c| present.contains(*c))
                    .or_else(|| p.concepts.first())
            })
            .cloned()
            .unwrap_or_else(|| id.clone());
        protocol = Some((level, concept));
    }
    match (flag, protocol) {
        (Some((floor, concept)), Some((level, _))) if floor >= level => Some(concept),
        (_, Some((_, concept))) => Some(concept),
        (Some((_, concept)), None) => Some(concept),
        (None, None) => state
            .evidence
            .mentions
            .iter()
            .find(|m| !m.negated && present.contains(&m.concept))
            .map(|m| m.concept.clone())
            .or_else(|| present.iter().next().cloned()),
    }
}

/// Why a hand-off report is at its level.
fn handoff_rationale(
    handoff: &agent::Handoff,
    disposition: Disposition,
    red_flags: &[ReportedRedFlag],
) -> String {
    let mut text = format!(
        "Handed to a clinician at turn {}: {}",
        handoff.at_turn,
        reason_in_words(handoff.reason)
    );
    if !handoff.concepts.is_empty() {
        text.push_str(&format!(" ({})", handoff.concepts.join(", ")));
    }
    text.push_str(&format!(
        "; the patient was told to expect a reply within {}. {disposition}",
        minutes_in_words(handoff.review_minutes)
    ));
    if red_flags.is_empty() {
        text.push_str(" is the level the hand-off carries; no red-flag rule fired.");
    } else {
        let ids: Vec<&str> = red_flags.iter().map(|f| f.id.as_str()).collect();
        text.push_str(&format!(
            " is the most urgent of the hand-off's level and the red-flag rules that fired: {}.",
            ids.join(", ")
        ));
    }
    text
}

/// One or two sentences naming the rules behind the disposition.
fn rationale(
    disposition: Disposition,
    red_flags: &[ReportedRedFlag],
    protocols: &[String],
    protocol_rules: &[ReportedProtocolRule],
) -> String {
    let highest_floor = red_flags.iter().map(|f| f.floor).max();
    if highest_floor.is_none_or(|f| f < disposition) {
        let floors = if red_flags.is_empty() {
            "no red-flag rule fired".to_owned()
        } else {
            let ids: Vec<&str> = red_flags.iter().map(|f| f.id.as_str()).collect();
            format!("less urgent red-flag rules fired: {}", ids.join(", "))
        };
        let raised: Vec<String> = protocol_rules
            .iter()
            .filter(|r| r.disposition == disposition)
            .map(|r| {
                let summary = r.summary.trim().trim_end_matches('.');
                format!("{} ({summary})", r.id)
            })
            .collect();
        let by = if !raised.is_empty() {
            format!("protocol rule {}", raised.join(", "))
        } else if !protocols.is_empty() {
            format!("the default of protocol {}", protocols.join(", "))
        } else {
            "the default for a complaint no protocol covers".to_owned()
        };
        return format!(
            "{disposition}: set by {by}; the interview concluded with no open question that \
             could raise urgency, and {floors}."
        );
    }
    let named: Vec<String> = red_flags
        .iter()
        .map(|f| {
            let summary = f.summary.trim().trim_end_matches('.');
            format!("{} ({summary}; floor {})", f.id, f.floor)
        })
        .collect();
    let rules = if named.len() == 1 {
        "red-flag rule"
    } else {
        "red-flag rules"
    };
    format!(
        "{disposition} is the most urgent floor of the {rules} that fired: {}.",
        named.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use agent::extract::{Evidence, Mention};
    use agent::interview::ProtocolMatch;
    use agent::red_flags::FiredRule;
    use agent::{Agent, Handoff, PatientInput, StepContext};

    fn mention(concept: &str, words: &str, negated: bool) -> Mention {
        Mention {
            concept: concept.to_owned(),
            words: words.to_owned(),
            negated,
            language: Language::En,
        }
    }

    fn knowledge() -> &'static Knowledge {
        Agent::shared().unwrap().knowledge()
    }

    /// A fixed time, so reports (and their deadlines) are deterministic.
    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn report(state: &ConversationState) -> Option<TriageReport> {
        TriageReport::from_state(state, knowledge(), Uuid::nil(), "15551230001", at())
    }

    fn state() -> ConversationState {
        let mut evidence = Evidence::default();
        evidence.absorb(vec![
            mention("chest_pain", "chest feels tight", false),
            mention("sweating", "sweaty", false),
            mention("fever", "no fever", true),
            mention("chest_pain", "chest feels tight", false),
        ]);
        ConversationState {
            turns: 1,
            language: Some(Language::En),
            evidence,
            fired: vec![FiredRule {
                id: "cardiac.chest_pain_with_autonomic_signs".to_owned(),
                category: "cardiac".to_owned(),
                floor: Disposition::EmergencyAmbulance,
                summary: "Chest pain with sweating".to_owned(),
                source: "NICE CG95".to_owned(),
                crisis: false,
                evidence: vec!["chest_pain".to_owned(), "sweating".to_owned()],
            }],
            rules_version: Some("2025.1".to_owned()),
            ..ConversationState::default()
        }
    }

    fn handed_off(reason: HandoffReason, level: Disposition) -> ConversationState {
        let mut s = state();
        s.fired.clear();
        s.turns = 3;
        s.stage = Stage::EscalatedToClinician;
        s.handoff = Some(Handoff::new(reason, level, 3));
        s
    }

    fn stored(report: &TriageReport) -> StoredReport {
        let record = report.to_record().unwrap();
        StoredReport {
            id: Uuid::nil(),
            conversation_id: record.conversation_id,
            patient_ref: record.patient_ref,
            disposition: record.disposition,
            status: record.status,
            handoff_reason: record.handoff_reason,
            review_due_at: record.review_due_at,
            rules_version: record.rules_version,
            report: record.report,
            rendered: record.rendered,
            created_at: at(),
            updated_at: at(),
        }
    }

    #[test]
    fn no_report_before_a_disposition_is_decided() {
        let mut s = state();
        s.fired.clear();
        assert_eq!(report(&s), None);
    }

    #[test]
    fn the_report_carries_the_patients_words_and_the_rules_with_sources() {
        let report = report(&state()).unwrap();
        assert_eq!(report.disposition, Disposition::EmergencyAmbulance);
        assert_eq!(report.status, ReportStatus::Triaged);
        assert_eq!(report.handoff, None);
        assert_eq!(report.chief_complaint.as_deref(), Some("chest_pain"));
        assert_eq!(
            report.evidence_present,
            vec![
                ReportedEvidence {
                    concept: "chest_pain".into(),
                    words: vec!["chest feels tight".into()]
                },
                ReportedEvidence {
                    concept: "sweating".into(),
                    words: vec!["sweaty".into()]
                },
            ]
        );
        assert_eq!(report.evidence_absent[0].words, vec!["no fever".to_owned()]);
        assert_eq!(report.red_flags[0].source, "NICE CG95");
        assert!(
            report
                .rationale
                .contains("cardiac.chest_pain_with_autonomic_signs")
        );
        assert_eq!(report.model, "none");
        // An emergency is reviewed within its level's 15 minutes.
        assert_eq!(report.review_due_at, at() + chrono::Duration::minutes(15));
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["disposition"], "emergency_ambulance");
        assert_eq!(json["status"], "triaged");
        assert_eq!(json["excerpts"], serde_json::json!([]));
        let record = report.to_record().unwrap();
        assert_eq!(record.rendered, report.render());
        assert_eq!(
            (record.status, record.handoff_reason, record.review_due_at),
            (ReportStatus::Triaged, None, report.review_due_at)
        );
    }

    #[test]
    fn a_concluded_interview_without_red_flags_is_reported_too() {
        let mut s = state();
        s.fired.clear();
        s.disposition = Some(Disposition::Routine);
        let report = report(&s).unwrap();
        assert_eq!(report.disposition, Disposition::Routine);
        assert!(report.red_flags.is_empty());
        assert!(
            report.rationale.contains("no red-flag rule fired"),
            "{}",
            report.rationale
        );
    }

    #[test]
    fn the_red_flag_floor_wins_over_a_less_urgent_conclusion() {
        let mut s = state();
        s.disposition = Some(Disposition::Routine);
        let report = report(&s).unwrap();
        assert_eq!(report.disposition, Disposition::EmergencyAmbulance);
    }

    #[test]
    fn a_hand_off_is_reported_with_its_reason_and_the_promised_reply_time() {
        let s = handed_off(HandoffReason::PatientAsked, Disposition::Urgent24h);
        assert_eq!(s.disposition, None, "nothing else decided a level");
        let report = report(&s).unwrap();
        assert_eq!(report.status, ReportStatus::EscalatedToClinician);
        assert_eq!(report.disposition, Disposition::Urgent24h);
        let handoff = report.handoff.clone().unwrap();
        assert_eq!(
            (handoff.reason, handoff.at_turn),
            (HandoffReason::PatientAsked, 3)
        );
        assert_eq!(report.review_within_minutes, 240);
        assert_eq!(report.review_due_at, at() + chrono::Duration::hours(4));
        assert!(
            report.rationale.contains("asked for a person"),
            "{}",
            report.rationale
        );
        let record = report.to_record().unwrap();
        assert_eq!(record.status, ReportStatus::EscalatedToClinician);
        assert_eq!(record.handoff_reason, Some(HandoffReason::PatientAsked));
        let text = report.render();
        assert!(text.contains("Status: ESCALATED TO CLINICIAN"), "{text}");
        assert!(text.contains("(patient_asked) at turn 3"), "{text}");
        assert!(text.contains("due by 2026-01-01 16:00 UTC"), "{text}");
    }

    #[test]
    fn a_hand_off_reports_the_more_urgent_of_its_level_and_the_agents() {
        let mut s = handed_off(HandoffReason::UnresolvedDoubt, Disposition::Urgent24h);
        s.disposition = Some(Disposition::EmergencyDepartment);
        if let Some(h) = s.handoff.as_mut() {
            h.concepts = vec!["stiff_neck".to_owned()];
        }
        let report = report(&s).unwrap();
        assert_eq!(report.disposition, Disposition::EmergencyDepartment);
        assert_eq!(report.review_within_minutes, 30, "the sooner of the two");
        assert!(report.render().contains("In doubt: stiff_neck"));
        // The stage alone is enough to reach a clinician.
        let mut bare = state();
        bare.fired.clear();
        bare.stage = Stage::EscalatedToClinician;
        let bare = report_of(&bare);
        assert_eq!(
            (bare.status, bare.disposition),
            (ReportStatus::EscalatedToClinician, Disposition::Urgent24h)
        );
    }

    fn report_of(s: &ConversationState) -> TriageReport {
        report(s).unwrap()
    }

    #[test]
    fn a_later_version_never_weakens_what_clinicians_act_on() {
        let emergency = report_of(&state());
        let mut calmer = state();
        calmer.fired.clear();
        calmer.disposition = Some(Disposition::SelfCare);
        let later = TriageReport::from_state(
            &calmer,
            knowledge(),
            Uuid::nil(),
            "15551230001",
            at() + chrono::Duration::hours(1),
        )
        .unwrap()
        .settle(Some(&stored(&emergency)));
        assert_eq!(later.disposition, Disposition::EmergencyAmbulance);
        assert_eq!(later.review_due_at, emergency.review_due_at);
        assert!(
            later.rationale.contains("Kept at emergency_ambulance"),
            "{}",
            later.rationale
        );

        // An escalation stays, with its hand-off.
        let handoff = report_of(&handed_off(
            HandoffReason::NotUnderstood,
            Disposition::Urgent24h,
        ));
        let mut after = state();
        after.fired.clear();
        after.disposition = Some(Disposition::Routine);
        let after = report_of(&after).settle(Some(&stored(&handoff)));
        assert_eq!(after.status, ReportStatus::EscalatedToClinician);
        assert_eq!(after.handoff, handoff.handoff);
        assert_eq!(after.disposition, Disposition::Urgent24h);
        assert_eq!(report_of(&state()).settle(None), report_of(&state()));
    }

    #[test]
    fn the_chief_complaint_is_the_one_driving_the_disposition() {
        let agent = Agent::shared().unwrap();
        let mut s = ConversationState::default();
        for (n, text) in [
            "I have had a cough and a sore throat for a few days, and my ear hurts",
            "and since this morning my chest feels tight and I am sweating",
        ]
        .into_iter()
        .enumerate()
        {
            s = agent
                .step(
                    s,
                    &PatientInput::Text { text: text.into() },
                    &StepContext {
                        input_key: format!("k{n}"),
                        sent_at: 0,
                    },
                )
                .0;
        }
        let report = report_of(&s);
        assert_eq!(report.disposition, Disposition::EmergencyAmbulance);
        assert_ne!(
            report.evidence_present.first().map(|e| e.concept.as_str()),
            Some("chest_pain"),
            "the test needs the emergency to be mentioned late: {report:?}"
        );
        assert_eq!(report.chief_complaint.as_deref(), Some("chest_pain"));

        // A context concept (an infant) is not the complaint: its symptom is.
        let mut infant = state();
        infant.fired[0].evidence = vec!["young_infant".to_owned(), "fever".to_owned()];
        assert_eq!(report_of(&infant).chief_complaint.as_deref(), Some("fever"));

        // Without red flags, the protocol with the highest level wins.
        let mut evidence = Evidence::default();
        evidence.absorb(vec![
            mention("cough", "a cough", false),
            mention("ear_pain", "my ear hurts", false),
        ]);
        let protocols = ConversationState {
            turns: 2,
            evidence,
            disposition: Some(Disposition::Urgent24h),
            protocols: vec!["cough".to_owned(), "earache".to_owned()],
            protocol_rules: vec![ProtocolMatch {
                id: "earache.with_discharge".to_owned(),
                protocol: "earache".to_owned(),
                disposition: Disposition::Urgent24h,
                summary: "Ear discharge".to_owned(),
                source: "NICE CKS".to_owned(),
            }],
            ..ConversationState::default()
        };
        assert_eq!(
            report_of(&protocols).chief_complaint.as_deref(),
            Some("ear_pain")
        );
        // Else the first concept reported.
        let mut plain = protocols.clone();
        plain.protocols.clear();
        plain.protocol_rules.clear();
        assert_eq!(report_of(&plain).chief_complaint.as_deref(), Some("cough"));
    }

    #[test]
    fn readings_and_the_person_described_are_in_the_report() {
        let mut s = state();
        s.measurements = vec![
            agent::vitals::Measurement {
                kind: agent::vitals::VitalKind::Spo2,
                value: 88.0,
                second: None,
                words: "my oxygen is 88%".to_owned(),
            },
            agent::vitals::Measurement {
                kind: agent::vitals::VitalKind::BloodPressure,
                value: 82.0,
                second: Some(48.0),
                words: "BP 82/48".to_owned(),
            },
        ];
        s.demographics.age_years = Some(67.0);
        s.demographics.sex = Some(agent::demographics::Sex::Male);
        s.demographics.about_someone_else = true;
        s.demographics.relation = Some("father".to_owned());
        s.demographics.words = vec!["my dad".to_owned(), "67".to_owned()];
        let report = report_of(&s);
        assert_eq!(report.measurements.len(), 2);
        assert_eq!(report.measurements[1].kind.as_str(), "blood_pressure");
        assert_eq!(report.measurements[1].second, Some(48.0));
        assert_eq!(report.demographics.relation.as_deref(), Some("father"));
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["measurements"][0]["kind"], "spo2");
        assert_eq!(json["demographics"]["sex"], "male");
        let text = report.render();
        assert!(
            text.contains("  - spo2: 88% (\"my oxygen is 88%\")"),
            "{text}"
        );
        assert!(text.contains("  - blood_pressure: 82/48 mmHg"), "{text}");
        assert!(
            text.contains("Person described: the writer's father, 67 years, male"),
            "{text}"
        );
        // Nothing said, nothing printed.
        assert!(!report_of(&state()).render().contains("Measurements"));
    }

    #[test]
    fn the_rendered_text_reads_as_a_clinical_note() {
        insta::assert_snapshot!("rendered_report", report_of(&state()).render());
    }

    #[test]
    fn a_rendered_hand_off_reads_as_a_clinical_note() {
        let mut s = handed_off(HandoffReason::UnresolvedDoubt, Disposition::Urgent24h);
        if let Some(h) = s.handoff.as_mut() {
            h.concepts = vec!["stiff_neck".to_owned()];
        }
        insta::assert_snapshot!("rendered_handoff_report", report_of(&s).render());
    }

    #[test]
    fn a_protocol_rule_is_named_in_the_rationale() {
        let agent = Agent::shared().unwrap();
        let ctx = |n: usize| StepContext {
            input_key: format!("k{n}"),
            sent_at: 0,
        };
        let (mut state, _) = agent.step(
            ConversationState::default(),
            &PatientInput::Text {
                text: "I've had a cough for 4 weeks".into(),
            },
            &ctx(0),
        );
        let mut n = 1;
        while state.pending_question.is_some() && n < 12 {
            state = agent
                .step(state, &PatientInput::Text { text: "no".into() }, &ctx(n))
                .0;
            n += 1;
        }
        let report = report_of(&state);
        assert!(report.protocols.iter().any(|p| p == "cough"), "{report:?}");
        assert!(
            report.rationale.contains("protocol"),
            "{}",
            report.rationale
        );
        assert!(report.rationale.contains("no model contributed"));
        if !report.protocol_rules.is_empty() {
            assert!(report.render().contains(&report.protocol_rules[0].id));
        }
    }
}
