//! The clinician API over triage reports. Reports hold PHI: every route takes
//! a `Caller` (a valid bearer token) and admits clinicians and admins only.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ApiError;
use super::auth::Caller;
use crate::app::AppState;
use crate::storage::{ReportStatus, Role, Storage, StoredReport};

/// Roles that may read reports.
const READERS: &[Role] = &[Role::Clinician, Role::Admin];
/// Reports per page unless `limit` says otherwise.
const DEFAULT_LIMIT: u32 = 50;
/// The most reports one page may hold.
const MAX_LIMIT: u32 = 200;

/// `?status=&limit=&offset=`.
#[derive(Debug, Deserialize)]
pub struct Page {
    /// `triaged` or `escalated_to_clinician` (hand-offs); all when absent.
    status: Option<ReportStatus>,
    limit: Option<u32>,
    offset: Option<u32>,
}

/// One page of reports.
#[derive(Debug, Serialize)]
pub struct ReportPage {
    /// Most urgent first, then earliest review deadline first.
    pub reports: Vec<StoredReport>,
    /// The status filter applied, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ReportStatus>,
    /// The page size used.
    pub limit: u32,
    /// Reports skipped.
    pub offset: u32,
}

fn storage(state: &AppState) -> Result<&Storage, ApiError> {
    state
        .storage
        .get()
        .ok_or_else(|| ApiError::Unavailable("storage is not connected".to_owned()))
}

/// `GET /api/triage-reports?status=&limit=&offset=`: reports, most urgent
/// first, then the earliest review deadline (hand-offs carry the reply time
/// the patient was promised).
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    page: Result<Query<Page>, QueryRejection>,
) -> Result<Json<ReportPage>, ApiError> {
    caller.require(READERS)?;
    let Query(page) = page.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let limit = page.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let offset = page.offset.unwrap_or(0);
    let reports = storage(&state)?
        .reports
        .list_reports(page.status, limit, offset)
        .await?;
    tracing::info!(token_id = %caller.token_id, count = reports.len(), "triage reports listed");
    Ok(Json(ReportPage {
        reports,
        status: page.status,
        limit,
        offset,
    }))
}

/// `GET /api/triage-reports/{id}`: one report.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<StoredReport>, ApiError> {
    caller.require(READERS)?;
    let id: Uuid = id
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("`{id}` is not a report id (a UUID)")))?;
    let report = storage(&state)?
        .reports
        .report(id)
        .await?
        .ok_or(ApiError::NotFound)?;
    tracing::info!(token_id = %caller.token_id, report = %id, "triage report read");
    Ok(Json(report))
}
