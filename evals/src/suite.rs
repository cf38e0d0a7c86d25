//! The suite format: JSONL, one case per line. Unknown fields are ignored; a
//! malformed line is reported with its line number and the rest still load.

use std::path::Path;

use prompts::Disposition;
use serde::{Deserialize, Serialize};

/// A labelling scheme; predictions are mapped down to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// The agent's five dispositions.
    Five,
    /// `emergent`, `non_emergent`, `self_care`.
    Coarse3,
    /// `D` (emergencies), `C` (urgent 24 h), `B` (routine), `A` (self-care).
    Acuity4,
}

impl Scheme {
    /// Labels from most to least urgent.
    pub fn labels(self) -> &'static [&'static str] {
        match self {
            Scheme::Five => &[
                "emergency_ambulance",
                "emergency_department",
                "urgent_24h",
                "routine",
                "self_care",
            ],
            Scheme::Coarse3 => &["emergent", "non_emergent", "self_care"],
            Scheme::Acuity4 => &["D", "C", "B", "A"],
        }
    }

    /// The label a five-level disposition maps to.
    pub fn map(self, d: Disposition) -> &'static str {
        match (self, d) {
            (Scheme::Five, d) => d.as_str(),
            (
                Scheme::Coarse3,
                Disposition::EmergencyAmbulance | Disposition::EmergencyDepartment,
            ) => "emergent",
            (Scheme::Coarse3, Disposition::Urgent24h | Disposition::Routine) => "non_emergent",
            (Scheme::Coarse3, Disposition::SelfCare) => "self_care",
            (
                Scheme::Acuity4,
                Disposition::EmergencyAmbulance | Disposition::EmergencyDepartment,
            ) => "D",
            (Scheme::Acuity4, Disposition::Urgent24h) => "C",
            (Scheme::Acuity4, Disposition::Routine) => "B",
            (Scheme::Acuity4, Disposition::SelfCare) => "A",
        }
    }

    /// Urgency rank of a label (0 = most urgent), if it belongs to the scheme.
    pub fn rank(self, label: &str) -> Option<usize> {
        self.labels().iter().position(|l| *l == label)
    }

    /// Whether `label` is an emergency in this scheme.
    pub fn is_emergency(self, label: &str) -> bool {
        match self {
            Scheme::Five => label.starts_with("emergency_"),
            Scheme::Coarse3 => label == "emergent",
            Scheme::Acuity4 => label == "D",
        }
    }

    /// The name used in files (`five`, `coarse3`, `acuity4`).
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Five => "five",
            Scheme::Coarse3 => "coarse3",
            Scheme::Acuity4 => "acuity4",
        }
    }
}

/// Who the case is about.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PatientFacts {
    /// Age in years (0 for babies).
    #[serde(default)]
    pub age: Option<f64>,
    /// `male`, `female`, …
    #[serde(default)]
    pub sex: Option<String>,
    /// Pregnancy.
    #[serde(default)]
    pub pregnant: Option<bool>,
}

/// An answer the simulated patient gives when asked about `topic`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fact {
    /// A concept id (`sweating`) or a free topic (`onset`).
    pub topic: String,
    /// The answer in the patient's words.
    pub answer: String,
}

/// One case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Unique id.
    pub id: String,
    /// Labelling scheme of `gold`.
    pub scheme: Scheme,
    /// The correct label in `scheme`.
    pub gold: String,
    /// The first message (or a whole vignette).
    pub opening: String,
    /// Language code (`en`, `es`, …).
    #[serde(default)]
    pub language: Option<String>,
    /// Demographics.
    #[serde(default)]
    pub patient: Option<PatientFacts>,
    /// Answers by topic.
    #[serde(default)]
    pub facts: Vec<Fact>,
    /// Longer text the simulated patient may answer from.
    #[serde(default)]
    pub vignette: Option<String>,
    /// Red-flag categories the case presents (non-empty = a red-flag case).
    #[serde(default)]
    pub red_flags: Vec<String>,
    /// Free labels.
    #[serde(default)]
    pub tags: Vec<String>,
    /// What the patient writes next, in order, whenever the agent says
    /// something other than a question about a topic (a welcome, an open
    /// question, a menu): the rest of a patient's opening sequence.
    #[serde(default)]
    pub then: Vec<String>,
    /// Checks beyond the disposition.
    #[serde(default)]
    pub expect: Expectations,
}

/// Checks a case makes beyond its gold disposition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Expectations {
    /// Whether the conversation should end handed off to a clinician.
    #[serde(default)]
    pub handoff: Option<bool>,
    /// The language the first reply must be in.
    #[serde(default)]
    pub reply_language: Option<String>,
    /// Topics that must never be asked (a testicle to a woman…).
    #[serde(default)]
    pub never_asked: Vec<String>,
}

/// A line that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineError {
    /// Suite file.
    pub file: String,
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// A loaded suite.
#[derive(Debug, Clone)]
pub struct Suite {
    /// Name (the file stem).
    pub name: String,
    /// Usable cases.
    pub cases: Vec<Case>,
    /// Lines that were skipped.
    pub errors: Vec<LineError>,
}

/// Why a suite could not be read at all.
#[derive(Debug, thiserror::Error)]
#[error("cannot read suite {path}: {source}")]
pub struct SuiteError {
    /// The file.
    pub path: String,
    /// The I/O error.
    #[source]
    pub source: std::io::Error,
}

/// Parses suite text; `file` names it in errors.
pub fn parse_suite(name: &str, file: &str, text: &str) -> Suite {
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with("//") {
            continue;
        }
        let err = |message: String| LineError {
            file: file.to_owned(),
            line: line_no,
            message,
        };
        match serde_json::from_str::<Case>(trimmed) {
            Ok(case) => {
                if case.scheme.rank(&case.gold).is_none() {
                    errors.push(err(format!(
                        "gold {:?} is not a label of scheme {} (labels: {})",
                        case.gold,
                        case.scheme.as_str(),
                        case.scheme.labels().join(", ")
                    )));
                } else if case.id.trim().is_empty() || case.opening.trim().is_empty() {
                    errors.push(err("id and opening must not be empty".to_owned()));
                } else {
                    cases.push(case);
                }
            }
            Err(e) => errors.push(err(e.to_string())),
        }
    }
    Suite {
        name: name.to_owned(),
        cases,
        errors,
    }
}

/// Reads a suite file.
pub fn load_suite(path: &Path) -> Result<Suite, SuiteError> {
    let text = std::fs::read_to_string(path).map_err(|source| SuiteError {
        path: path.display().to_string(),
        source,
    })?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "suite".to_owned());
    Ok(parse_suite(&name, &path.display().to_string(), &text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_lines_are_reported_and_the_rest_load() {
        let text = r#"{"id":"a","scheme":"five","gold":"routine","opening":"back pain","extra":1}
not json
{"id":"b","scheme":"five","gold":"urgent","opening":"x"}

{"id":"c","scheme":"coarse3","gold":"emergent","opening":"chest pain"}
{"id":"d","scheme":"five","opening":"missing gold"}"#;
        let s = parse_suite("t", "t.jsonl", text);
        let ids: Vec<&str> = s.cases.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, vec!["a", "c"]);
        let lines: Vec<usize> = s.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 3, 6]);
        assert!(s.errors[1].message.contains("urgent"));
    }

    #[test]
    fn predictions_map_down_to_each_scheme() {
        use Disposition::*;
        assert_eq!(Scheme::Coarse3.map(EmergencyDepartment), "emergent");
        assert_eq!(Scheme::Coarse3.map(Routine), "non_emergent");
        assert_eq!(Scheme::Acuity4.map(Urgent24h), "C");
        assert_eq!(Scheme::Acuity4.map(SelfCare), "A");
        for scheme in [Scheme::Five, Scheme::Coarse3, Scheme::Acuity4] {
            for d in Disposition::ALL {
                assert!(scheme.rank(scheme.map(d)).is_some());
            }
        }
        assert!(Scheme::Acuity4.is_emergency("D"));
        assert!(!Scheme::Five.is_emergency("urgent_24h"));
    }
}
