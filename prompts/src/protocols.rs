//! Protocols per chief complaint: the disposition a complaint warrants when
//! no red flag and no interview answer raises it. A protocol can only set
//! the starting level; red-flag floors always win (the maximum is taken).

use serde::Deserialize;

use crate::Disposition;

/// The protocol file (`data/protocols.toml`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolSet {
    /// Version, recorded with the dispositions it produced.
    pub version: String,
    /// The protocols.
    #[serde(rename = "protocol")]
    pub protocols: Vec<Protocol>,
}

/// One chief complaint.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Protocol {
    /// Stable id (e.g. `cough`).
    pub id: String,
    /// Concepts that make this the (or a) chief complaint.
    pub concepts: Vec<String>,
    /// The disposition without red flags.
    pub default: Disposition,
    /// Why, for clinicians.
    pub summary: String,
    /// The guidance it follows.
    pub source: String,
}

impl ProtocolSet {
    /// The most urgent default among the protocols the present concepts select.
    pub fn disposition(&self, present: impl Fn(&str) -> bool) -> Option<(Disposition, &Protocol)> {
        self.protocols
            .iter()
            .filter(|p| p.concepts.iter().any(|c| present(c)))
            .map(|p| (p.default, p))
            .max_by_key(|(d, _)| *d)
    }
}
