//! Triage reports for clinicians, and the API tokens that guard them.
//!
//! Reports hold PHI, so every route that serves them needs a bearer token.
//! Only the SHA-256 of a token is stored: a leaked database does not leak
//! working credentials, and a token is shown once, when it is created.

use std::fmt;
use std::str::FromStr;

use agent::{Disposition, HandoffReason};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::StorageError;

/// Where a report is in the clinicians' work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    /// The agent reached a disposition and told the patient.
    #[default]
    Triaged,
    /// A clinician was asked to take over (see `handoff_reason`), and the
    /// patient was promised a reply by `review_due_at`.
    EscalatedToClinician,
}

/// A report status name that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown report status `{0}` (expected triaged or escalated_to_clinician)")]
pub struct UnknownReportStatus(pub String);

impl ReportStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Triaged => "triaged",
            ReportStatus::EscalatedToClinician => "escalated_to_clinician",
        }
    }
}

impl fmt::Display for ReportStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReportStatus {
    type Err = UnknownReportStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "triaged" => Ok(ReportStatus::Triaged),
            "escalated_to_clinician" => Ok(ReportStatus::EscalatedToClinician),
            other => Err(UnknownReportStatus(other.to_owned())),
        }
    }
}

/// A report to store (or to update: one report per conversation).
#[derive(Debug, Clone, PartialEq)]
pub struct NewReport {
    /// The conversation it describes.
    pub conversation_id: Uuid,
    /// The patient's address on the channel. PHI.
    pub patient_ref: String,
    /// The five-level disposition.
    pub disposition: Disposition,
    /// Triaged, or handed to a clinician.
    pub status: ReportStatus,
    /// Why a clinician was asked to take over, when one was.
    pub handoff_reason: Option<HandoffReason>,
    /// When a clinician must have reviewed it.
    pub review_due_at: DateTime<Utc>,
    /// Version of the red-flag rules it was decided with.
    pub rules_version: Option<String>,
    /// The structured report.
    pub report: serde_json::Value,
    /// Its plain-text rendering for clinicians.
    pub rendered: String,
}

/// A stored report, as the clinician API serves it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredReport {
    /// Id.
    pub id: Uuid,
    /// The conversation.
    pub conversation_id: Uuid,
    /// The patient. PHI.
    pub patient_ref: String,
    /// The most urgent disposition the conversation reached.
    pub disposition: Disposition,
    /// Triaged, or handed to a clinician.
    pub status: ReportStatus,
    /// Why a clinician was asked to take over, when one was.
    pub handoff_reason: Option<HandoffReason>,
    /// When a clinician must have reviewed it: the earliest deadline any
    /// version of the report set.
    pub review_due_at: DateTime<Utc>,
    /// Rule set version.
    pub rules_version: Option<String>,
    /// The structured report.
    pub report: serde_json::Value,
    /// Plain text.
    pub rendered: String,
    /// First stored.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// What a token lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads triage reports (PHI).
    Clinician,
    /// Everything a clinician can, plus administration.
    Admin,
    /// Evals and model work: no access to patients' reports.
    MlEngineer,
}

/// A role name that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}` (expected clinician, admin or ml_engineer)")]
pub struct UnknownRole(pub String);

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Clinician => "clinician",
            Role::Admin => "admin",
            Role::MlEngineer => "ml_engineer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "clinician" => Ok(Role::Clinician),
            "admin" => Ok(Role::Admin),
            "ml_engineer" | "ml-engineer" => Ok(Role::MlEngineer),
            other => Err(UnknownRole(other.to_owned())),
        }
    }
}

/// A stored API token (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    /// Id (what `triage token revoke` takes).
    pub id: Uuid,
    /// What it allows.
    pub role: Role,
    /// Who or what it is for.
    pub label: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Prefix of every token: recognisable in a leaked log or by secret scanners.
pub const TOKEN_PREFIX: &str = "trg_";

/// A fresh token: the prefix and 32 random bytes in hex.
pub(crate) fn generate_token() -> String {
    format!("{TOKEN_PREFIX}{}", hex::encode(rand::random::<[u8; 32]>()))
}

/// What is stored for a token: SHA-256 of its text, in hex.
pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Reports and tokens.
#[async_trait]
pub trait ReportStore: Send + Sync + std::fmt::Debug {
    /// Stores the conversation's report, updating the one it had. Storing the
    /// same content again changes nothing (not even `updated_at`), so a
    /// redelivered message is harmless. What clinicians act on never
    /// weakens: the stored disposition is the most urgent ever stored for
    /// the conversation, the review deadline the earliest, and a report
    /// once escalated to a clinician stays escalated with its reason.
    async fn upsert_report(&self, report: NewReport) -> Result<StoredReport, StorageError>;

    /// A report by id.
    async fn report(&self, id: Uuid) -> Result<Option<StoredReport>, StorageError>;

    /// The report of a conversation, if it has one.
    async fn report_for_conversation(
        &self,
        conversation_id: Uuid,
    ) -> Result<Option<StoredReport>, StorageError>;

    /// Reports (only those in `status`, when given) most urgent first, then
    /// earliest review deadline first.
    async fn list_reports(
        &self,
        status: Option<ReportStatus>,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<StoredReport>, StorageError>;

    /// Creates a token; its text is returned once and only its hash is kept.
    async fn create_token(
        &self,
        role: Role,
        label: Option<&str>,
    ) -> Result<(SecretString, ApiToken), StorageError>;

    /// The id and role of an unrevoked token with this text.
    async fn verify_token(&self, token: &str) -> Result<Option<(Uuid, Role)>, StorageError>;

    /// Revokes a token; false when there is no such unrevoked token.
    async fn revoke_token(&self, id: Uuid) -> Result<bool, StorageError>;
}

pub(crate) type ReportRow = (
    Uuid,
    Uuid,
    String,
    String,
    String,
    Option<String>,
    DateTime<Utc>,
    Option<String>,
    serde_json::Value,
    String,
    DateTime<Utc>,
    DateTime<Utc>,
);

pub(crate) fn report_from_row(row: ReportRow) -> Result<StoredReport, StorageError> {
    let (
        id,
        conversation_id,
        patient_ref,
        disposition,
        status,
        handoff_reason,
        review_due_at,
        rules_version,
        report,
        rendered,
        created_at,
        updated_at,
    ) = row;
    Ok(StoredReport {
        id,
        conversation_id,
        patient_ref,
        disposition: disposition
            .parse()
            .map_err(|e: agent::UnknownDisposition| StorageError::Corrupt(e.to_string()))?,
        status: status
            .parse()
            .map_err(|e: UnknownReportStatus| StorageError::Corrupt(e.to_string()))?,
        handoff_reason: handoff_reason
            .map(|r| parse_handoff_reason(&r))
            .transpose()?,
        review_due_at,
        rules_version,
        report,
        rendered,
        created_at,
        updated_at,
    })
}

/// A stored hand-off reason, by the agent's own names for them.
pub(crate) fn parse_handoff_reason(reason: &str) -> Result<HandoffReason, StorageError> {
    serde_json::from_value(serde_json::Value::String(reason.to_owned()))
        .map_err(|_| StorageError::Corrupt(format!("hand-off reason `{reason}`")))
}

pub(crate) type TokenRow = (
    Uuid,
    String,
    Option<String>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

pub(crate) fn token_from_row(row: TokenRow) -> Result<ApiToken, StorageError> {
    let (id, role, label, created_at, revoked_at) = row;
    Ok(ApiToken {
        id,
        role: parse_role(&role)?,
        label,
        created_at,
        revoked_at,
    })
}

pub(crate) fn parse_role(role: &str) -> Result<Role, StorageError> {
    role.parse()
        .map_err(|e: UnknownRole| StorageError::Corrupt(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_hashed_to_sha256_hex() {
        let a = generate_token();
        let b = generate_token();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 64);
        let hash = token_hash(&a);
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, a);
        // The well-known digest of the empty string.
        assert_eq!(
            token_hash(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn statuses_and_handoff_reasons_round_trip() {
        for status in [ReportStatus::Triaged, ReportStatus::EscalatedToClinician] {
            assert_eq!(status.as_str().parse::<ReportStatus>(), Ok(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(status.as_str())
            );
        }
        assert!("escalated".parse::<ReportStatus>().is_err());
        for reason in [
            HandoffReason::NotUnderstood,
            HandoffReason::PatientAsked,
            HandoffReason::UnresolvedDoubt,
        ] {
            assert_eq!(parse_handoff_reason(reason.as_str()).unwrap(), reason);
        }
        assert!(parse_handoff_reason("bored").is_err());
    }

    #[test]
    fn roles_round_trip() {
        for role in [Role::Clinician, Role::Admin, Role::MlEngineer] {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("root".parse::<Role>().is_err());
    }
}
