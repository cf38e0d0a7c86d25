//! Bearer tokens: the one place a request's credentials are checked. Missing
//! or unknown tokens are 401 (with `WWW-Authenticate: Bearer`); a valid token
//! whose role may not do something is 403.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use uuid::Uuid;

use super::ApiError;
use crate::app::AppState;
use crate::storage::Role;

/// Who is calling: an unrevoked API token. Tokens are never logged; their id is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    /// The token's id.
    pub token_id: Uuid,
    /// What it allows.
    pub role: Role,
}

impl Caller {
    /// Refuses callers whose role is not among `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            tracing::info!(token_id = %self.token_id, role = %self.role, "role not allowed");
            Err(ApiError::Forbidden(format!(
                "a {} token may not access this resource",
                self.role
            )))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                // The scheme is case-insensitive (RFC 7235).
                let (scheme, token) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::Unauthorized("a bearer token is required".to_owned()))?;
        let storage = state
            .storage
            .get()
            .ok_or_else(|| ApiError::Unavailable("storage is not connected".to_owned()))?;
        match storage.reports.verify_token(token).await? {
            Some((token_id, role)) => Ok(Caller { token_id, role }),
            None => Err(ApiError::Unauthorized(
                "the bearer token is invalid or revoked".to_owned(),
            )),
        }
    }
}
