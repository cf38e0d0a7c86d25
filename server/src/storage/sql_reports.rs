//! The report store (triage reports, API tokens), written once for both SQL
//! backends, like `sql_records`.

/// Columns of a report row, in the order `report_from_row` reads them.
macro_rules! report_columns {
    () => {
        "id, conversation_id, patient_ref, disposition, status, handoff_reason, review_due_at, rules_version, report, rendered, created_at, updated_at"
    };
}

/// The rank of a disposition column (the five levels, most urgent highest),
/// as `Disposition`'s order has it.
macro_rules! disposition_rank {
    ($column:literal) => {
        concat!(
            "(CASE ",
            $column,
            " WHEN 'emergency_ambulance' THEN 4 WHEN 'emergency_department' THEN 3
               WHEN 'urgent_24h' THEN 2 WHEN 'routine' THEN 1 ELSE 0 END)"
        )
    };
}

/// Sorts reports most urgent first, then by the earliest review deadline;
/// the time-ordered id breaks ties.
macro_rules! report_order {
    () => {
        concat!(
            " ORDER BY ",
            disposition_rank!("disposition"),
            " DESC, review_due_at ASC, created_at DESC, id DESC"
        )
    };
}

/// Implements [`ReportStore`](super::ReportStore) for `$name` (a [`SqlStore`](super::SqlStore) over one backend's pool).
macro_rules! sql_report_store {
    ($name:ty) => {

        #[async_trait::async_trait]
        impl $crate::storage::ReportStore for $name {
            async fn upsert_report(
                &self,
                report: $crate::storage::NewReport,
            ) -> Result<$crate::storage::StoredReport, $crate::storage::StorageError> {
                // The update is skipped when nothing changed, so a replayed
                // message leaves `updated_at` alone; the row is then re-read.
                // What clinicians act on only ever gets more urgent: the
                // disposition keeps its highest rank, the deadline its
                // earliest time, an escalation stays (whatever the writer
                // computed, so two racing writers cannot weaken it either).
                let now = chrono::Utc::now();
                sqlx::query(concat!(
                    "INSERT INTO triage_reports
                         (id, conversation_id, patient_ref, disposition, status, handoff_reason,
                          review_due_at, rules_version, report, rendered, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
                     ON CONFLICT (conversation_id) DO UPDATE SET
                         patient_ref = excluded.patient_ref,
                         disposition = CASE WHEN ",
                    disposition_rank!("excluded.disposition"),
                    " > ",
                    disposition_rank!("triage_reports.disposition"),
                    " THEN excluded.disposition ELSE triage_reports.disposition END,
                         status = CASE WHEN triage_reports.status = 'escalated_to_clinician'
                             THEN triage_reports.status ELSE excluded.status END,
                         handoff_reason = COALESCE(excluded.handoff_reason, triage_reports.handoff_reason),
                         review_due_at = CASE WHEN excluded.review_due_at < triage_reports.review_due_at
                             THEN excluded.review_due_at ELSE triage_reports.review_due_at END,
                         rules_version = excluded.rules_version, report = excluded.report,
                         rendered = excluded.rendered, updated_at = excluded.updated_at
                     WHERE ",
                    disposition_rank!("excluded.disposition"),
                    " > ",
                    disposition_rank!("triage_reports.disposition"),
                    "
                        OR (excluded.status = 'escalated_to_clinician'
                            AND triage_reports.status <> 'escalated_to_clinician')
                        OR (excluded.handoff_reason IS NOT NULL
                            AND triage_reports.handoff_reason IS DISTINCT FROM excluded.handoff_reason)
                        OR excluded.review_due_at < triage_reports.review_due_at
                        OR triage_reports.rules_version IS DISTINCT FROM excluded.rules_version
                        OR triage_reports.report IS DISTINCT FROM excluded.report
                        OR triage_reports.rendered IS DISTINCT FROM excluded.rendered
                        OR triage_reports.patient_ref IS DISTINCT FROM excluded.patient_ref",
                ))
                .bind(uuid::Uuid::now_v7())
                .bind(report.conversation_id)
                .bind(&report.patient_ref)
                .bind(report.disposition.as_str())
                .bind(report.status.as_str())
                .bind(report.handoff_reason.map(agent::HandoffReason::as_str))
                .bind(report.review_due_at)
                .bind(report.rules_version.as_deref())
                .bind(&report.report)
                .bind(&report.rendered)
                .bind(now)
                .execute(&self.pool)
                .await?;
                let row: $crate::storage::reports::ReportRow = sqlx::query_as(concat!(
                    "SELECT ",
                    report_columns!(),
                    " FROM triage_reports WHERE conversation_id = $1"
                ))
                .bind(report.conversation_id)
                .fetch_one(&self.pool)
                .await?;
                $crate::storage::reports::report_from_row(row)
            }

            async fn report(
                &self,
                id: uuid::Uuid,
            ) -> Result<Option<$crate::storage::StoredReport>, $crate::storage::StorageError> {
                let row: Option<$crate::storage::reports::ReportRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    report_columns!(),
                    " FROM triage_reports WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.map($crate::storage::reports::report_from_row).transpose()
            }

            async fn report_for_conversation(
                &self,
                conversation_id: uuid::Uuid,
            ) -> Result<Option<$crate::storage::StoredReport>, $crate::storage::StorageError> {
                let row: Option<$crate::storage::reports::ReportRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    report_columns!(),
                    " FROM triage_reports WHERE conversation_id = $1"
                ))
                .bind(conversation_id)
                .fetch_optional(&self.pool)
                .await?;
                row.map($crate::storage::reports::report_from_row).transpose()
            }

            async fn list_reports(
                &self,
                status: Option<$crate::storage::ReportStatus>,
                limit: u32,
                offset: u32,
            ) -> Result<Vec<$crate::storage::StoredReport>, $crate::storage::StorageError> {
                let rows: Vec<$crate::storage::reports::ReportRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    report_columns!(),
                    " FROM triage_reports WHERE (CAST($3 AS TEXT) IS NULL OR status = $3)",
                    report_order!(),
                    " LIMIT $1 OFFSET $2"
                ))
                .bind(i64::from(limit))
                .bind(i64::from(offset))
                .bind(status.map($crate::storage::ReportStatus::as_str))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map($crate::storage::reports::report_from_row).collect()
            }

            async fn create_token(
                &self,
                role: $crate::storage::Role,
                label: Option<&str>,
            ) -> Result<(secrecy::SecretString, $crate::storage::ApiToken), $crate::storage::StorageError> {
                let token = $crate::storage::reports::generate_token();
                let row: $crate::storage::reports::TokenRow = sqlx::query_as(
                    "INSERT INTO api_tokens (id, token_hash, role, label, created_at)
                     VALUES ($1, $2, $3, $4, $5)
                     RETURNING id, role, label, created_at, revoked_at",
                )
                .bind(uuid::Uuid::now_v7())
                .bind($crate::storage::reports::token_hash(&token))
                .bind(role.as_str())
                .bind(label)
                .bind(chrono::Utc::now())
                .fetch_one(&self.pool)
                .await?;
                Ok((
                    secrecy::SecretString::from(token),
                    $crate::storage::reports::token_from_row(row)?,
                ))
            }

            async fn verify_token(
                &self,
                token: &str,
            ) -> Result<Option<(uuid::Uuid, $crate::storage::Role)>, $crate::storage::StorageError> {
                // Looked up by hash: the comparison never sees the token, so
                // its timing reveals nothing useful about it.
                let row: Option<(uuid::Uuid, String)> = sqlx::query_as(
                    "SELECT id, role FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
                )
                .bind($crate::storage::reports::token_hash(token))
                .fetch_optional(&self.pool)
                .await?;
                row.map(|(id, role)| Ok((id, $crate::storage::reports::parse_role(&role)?)))
                    .transpose()
            }

            async fn revoke_token(&self, id: uuid::Uuid) -> Result<bool, $crate::storage::StorageError> {
                let done = sqlx::query(
                    "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                )
                .bind(id)
                .bind(chrono::Utc::now())
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }
        }
    };
}

pub(crate) use {disposition_rank, report_columns, report_order, sql_report_store};
