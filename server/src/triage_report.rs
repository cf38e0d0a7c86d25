//! The triage report a clinician reads: what the patient reported (in their
//! own words), which red-flag rules fired and where they come from, the
//! disposition and why. Built from the agent's conversation state; stored as
//! JSON (structured) plus plain text (`render`).
//!
//! A report exists only once a disposition is decided: a red-flag rule fired
//! (its floor is final) or the interview concluded. Before that the agent has
//! decided nothing, so there is nothing a clinician should act on.

use std::fmt::Write as _;

use agent::{ConversationState, Disposition};
use prompts::Language;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::storage::NewReport;

/// The `model` of a report decided by rules and lexicon alone.
pub const NO_MODEL: &str = "none";

/// The structured report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriageReport {
    /// The conversation it describes.
    pub conversation_id: Uuid,
    /// The patient's address on the channel. PHI.
    pub patient_ref: String,
    /// The five-level disposition.
    pub disposition: Disposition,
    /// How soon a clinician must review this report (the level's SLA).
    #[serde(default)]
    pub review_within_minutes: u32,
    /// The first concept the patient reported, if any.
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
    /// The report for a conversation whose disposition is decided; `None`
    /// while it is not (no red flag fired and no interview concluded).
    pub fn from_state(
        state: &ConversationState,
        conversation_id: Uuid,
        patient_ref: &str,
    ) -> Option<TriageReport> {
        // The red-flag floor is final: never report less urgent than it.
        let disposition = state.disposition.max(state.floor())?;
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
        let chief = evidence_present
            .first()
            .map(|e| e.concept.clone())
            .unwrap_or_default();
        let durations = state
            .durations
            .iter()
            .map(|words| ReportedDuration {
                concept: chief.clone(),
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
        let mut rationale_text =
            rationale(disposition, &red_flags, &state.protocols, &protocol_rules);
        match (&state.model, &state.model_rationale) {
            (Some(model), Some(model_says)) => {
                rationale_text.push_str(&format!(" Model consulted ({model}): {model_says}"));
            }
            _ => rationale_text.push_str(" Decided by rules alone; no model contributed."),
        }
        Some(TriageReport {
            conversation_id,
            patient_ref: patient_ref.to_owned(),
            disposition,
            review_within_minutes: disposition.clinician_review_minutes(),
            chief_complaint: evidence_present.first().map(|e| e.concept.clone()),
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
            rules_version: state.rules_version.clone(),
            language: state.language,
            model: state.model.clone().unwrap_or_else(|| NO_MODEL.to_owned()),
            model_summary: state.model_summary.clone(),
            excerpts: Vec::new(),
        })
    }

    /// The row to store.
    pub fn to_record(&self) -> Result<NewReport, serde_json::Error> {
        Ok(NewReport {
            conversation_id: self.conversation_id,
            patient_ref: self.patient_ref.clone(),
            disposition: self.disposition,
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
        writeln!(out, "TRIAGE REPORT")?;
        writeln!(
            out,
            "Disposition: {} ({})",
            self.disposition.as_str().replace('_', " ").to_uppercase(),
            self.disposition
        )?;
        writeln!(
            out,
            "Clinician review within: {}",
            match self.review_within_minutes {
                m if m < 60 => format!("{m} minutes"),
                m if m < 24 * 60 => format!("{} hours", m / 60),
                m => format!("{} days", m / (24 * 60)),
            }
        )?;
        writeln!(out, "Patient: {}", self.patient_ref)?;
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
    use agent::red_flags::FiredRule;

    fn mention(concept: &str, words: &str, negated: bool) -> Mention {
        Mention {
            concept: concept.to_owned(),
            words: words.to_owned(),
            negated,
            language: Language::En,
        }
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

    #[test]
    fn no_report_before_a_disposition_is_decided() {
        let mut s = state();
        s.fired.clear();
        assert_eq!(
            TriageReport::from_state(&s, Uuid::nil(), "15551230001"),
            None
        );
    }

    #[test]
    fn the_report_carries_the_patients_words_and_the_rules_with_sources() {
        let report = TriageReport::from_state(&state(), Uuid::nil(), "15551230001").unwrap();
        assert_eq!(report.disposition, Disposition::EmergencyAmbulance);
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
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["disposition"], "emergency_ambulance");
        assert_eq!(json["excerpts"], serde_json::json!([]));
        assert_eq!(report.to_record().unwrap().rendered, report.render());
    }

    #[test]
    fn a_concluded_interview_without_red_flags_is_reported_too() {
        let mut s = state();
        s.fired.clear();
        s.disposition = Some(Disposition::Routine);
        let report = TriageReport::from_state(&s, Uuid::nil(), "15551230001").unwrap();
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
        let report = TriageReport::from_state(&s, Uuid::nil(), "15551230001").unwrap();
        assert_eq!(report.disposition, Disposition::EmergencyAmbulance);
    }

    #[test]
    fn the_rendered_text_reads_as_a_clinical_note() {
        let report = TriageReport::from_state(&state(), Uuid::nil(), "15551230001").unwrap();
        insta::assert_snapshot!("rendered_report", report.render());
    }

    #[test]
    fn a_protocol_rule_is_named_in_the_rationale() {
        use agent::{Agent, PatientInput, StepContext};
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
        let report = TriageReport::from_state(&state, Uuid::nil(), "1555").unwrap();
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
