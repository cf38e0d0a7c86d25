//! The channel store (contacts, outbox), written once for both SQL backends,
//! like `sql_records`.

/// Columns of an outbox row, in the order `outbox_from_row` reads them.
macro_rules! outbox_columns {
    () => {
        "id, cause_key, seq, channel, recipient, body, conversation_id, status, external_id, attempts, last_error_code, last_error, created_at, updated_at"
    };
}

/// Implements [`ChannelStore`](super::ChannelStore) for `$name` (a [`SqlStore`](super::SqlStore) over one backend's pool).
macro_rules! sql_channel_store {
    ($name:ty) => {

        #[async_trait::async_trait]
        impl $crate::storage::ChannelStore for $name {
            async fn record_inbound(
                &self,
                channel: &str,
                address: &str,
                at: chrono::DateTime<chrono::Utc>,
            ) -> Result<$crate::storage::Contact, $crate::storage::StorageError> {
                let row: $crate::storage::channel::ContactRow = sqlx::query_as(
                    "INSERT INTO contacts (channel, address, last_inbound_at, created_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (channel, address) DO UPDATE SET last_inbound_at =
                         CASE WHEN contacts.last_inbound_at IS NULL OR contacts.last_inbound_at < excluded.last_inbound_at
                              THEN excluded.last_inbound_at ELSE contacts.last_inbound_at END
                     RETURNING channel, address, last_inbound_at, opted_out_at, blocked",
                )
                .bind(channel)
                .bind(address)
                .bind(at)
                .bind(chrono::Utc::now())
                .fetch_one(&self.pool)
                .await?;
                Ok($crate::storage::channel::contact_from_row(row))
            }

            async fn contact(
                &self,
                channel: &str,
                address: &str,
            ) -> Result<Option<$crate::storage::Contact>, $crate::storage::StorageError> {
                let row: Option<$crate::storage::channel::ContactRow> = sqlx::query_as(
                    "SELECT channel, address, last_inbound_at, opted_out_at, blocked FROM contacts
                     WHERE channel = $1 AND address = $2",
                )
                .bind(channel)
                .bind(address)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map($crate::storage::channel::contact_from_row))
            }

            async fn set_opted_out(
                &self,
                channel: &str,
                address: &str,
                opted_out: bool,
            ) -> Result<(), $crate::storage::StorageError> {
                let now = chrono::Utc::now();
                let at = opted_out.then_some(now);
                sqlx::query(
                    "INSERT INTO contacts (channel, address, opted_out_at, created_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (channel, address) DO UPDATE SET opted_out_at = excluded.opted_out_at",
                )
                .bind(channel)
                .bind(address)
                .bind(at)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn set_blocked(
                &self,
                channel: &str,
                address: &str,
                blocked: bool,
            ) -> Result<(), $crate::storage::StorageError> {
                sqlx::query(
                    "INSERT INTO contacts (channel, address, blocked, created_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (channel, address) DO UPDATE SET blocked = excluded.blocked",
                )
                .bind(channel)
                .bind(address)
                .bind(blocked)
                .bind(chrono::Utc::now())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn put_outbox(
                &self,
                rows: &[$crate::storage::NewOutbox],
            ) -> Result<Vec<$crate::storage::OutboxRow>, $crate::storage::StorageError> {
                let mut tx = self.pool.begin().await?;
                let mut stored = Vec::with_capacity(rows.len());
                for row in rows {
                    let now = chrono::Utc::now();
                    sqlx::query(
                        "INSERT INTO outbox (id, cause_key, seq, channel, recipient, body, conversation_id, status, created_at, updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $8)
                         ON CONFLICT (cause_key, seq) DO NOTHING",
                    )
                    .bind(uuid::Uuid::now_v7())
                    .bind(&row.cause_key)
                    .bind(row.seq)
                    .bind(&row.channel)
                    .bind(&row.recipient)
                    .bind(&row.body)
                    .bind(row.conversation_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    let found: $crate::storage::channel::OutboxTuple = sqlx::query_as(concat!(
                        "SELECT ",
                        outbox_columns!(),
                        " FROM outbox WHERE cause_key = $1 AND seq = $2"
                    ))
                    .bind(&row.cause_key)
                    .bind(row.seq)
                    .fetch_one(&mut *tx)
                    .await?;
                    stored.push($crate::storage::channel::outbox_from_row(found)?);
                }
                tx.commit().await?;
                Ok(stored)
            }

            async fn outbox_row(
                &self,
                id: uuid::Uuid,
            ) -> Result<Option<$crate::storage::OutboxRow>, $crate::storage::StorageError> {
                let row: Option<$crate::storage::channel::OutboxTuple> =
                    sqlx::query_as(concat!("SELECT ", outbox_columns!(), " FROM outbox WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?;
                row.map($crate::storage::channel::outbox_from_row).transpose()
            }

            async fn begin_send(
                &self,
                id: uuid::Uuid,
            ) -> Result<Option<$crate::storage::OutboxRow>, $crate::storage::StorageError> {
                let row: Option<$crate::storage::channel::OutboxTuple> = sqlx::query_as(concat!(
                    "UPDATE outbox SET status = 'sending', attempts = attempts + 1, updated_at = $2
                     WHERE id = $1 AND status IN ('pending', 'sending') RETURNING ",
                    outbox_columns!()
                ))
                .bind(id)
                .bind(chrono::Utc::now())
                .fetch_optional(&self.pool)
                .await?;
                row.map($crate::storage::channel::outbox_from_row).transpose()
            }

            async fn finish_send(&self, id: uuid::Uuid, external_id: &str) -> Result<(), $crate::storage::StorageError> {
                // A status webhook may already have moved the row on; never move it back.
                sqlx::query(
                    "UPDATE outbox SET status = CASE WHEN status IN ('pending', 'sending') THEN 'sent' ELSE status END,
                         external_id = $2, last_error_code = NULL, last_error = NULL, updated_at = $3
                     WHERE id = $1",
                )
                .bind(id)
                .bind(external_id)
                .bind(chrono::Utc::now())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn fail_send(
                &self,
                id: uuid::Uuid,
                code: Option<i64>,
                error: &str,
                retry: bool,
            ) -> Result<(), $crate::storage::StorageError> {
                sqlx::query(
                    "UPDATE outbox SET status = $2, last_error_code = $3, last_error = $4, updated_at = $5
                     WHERE id = $1 AND status IN ('pending', 'sending')",
                )
                .bind(id)
                .bind(if retry { "pending" } else { "failed" })
                .bind(code)
                .bind(error)
                .bind(chrono::Utc::now())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn replace_outbox_body(
                &self,
                id: uuid::Uuid,
                body: serde_json::Value,
            ) -> Result<(), $crate::storage::StorageError> {
                sqlx::query(
                    "UPDATE outbox SET body = $2, updated_at = $3 WHERE id = $1 AND status IN ('pending', 'sending')",
                )
                .bind(id)
                .bind(&body)
                .bind(chrono::Utc::now())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn apply_delivery_status(
                &self,
                external_id: &str,
                status: $crate::storage::OutboxStatus,
                code: Option<i64>,
                error: Option<&str>,
            ) -> Result<Option<$crate::storage::OutboxRow>, $crate::storage::StorageError> {
                let row: Option<$crate::storage::channel::OutboxTuple> = sqlx::query_as(concat!(
                    "UPDATE outbox SET status = $2, updated_at = $5,
                         last_error_code = COALESCE($3, last_error_code), last_error = COALESCE($4, last_error)
                     WHERE external_id = $1 AND $6 > CASE status
                         WHEN 'pending' THEN 0 WHEN 'sending' THEN 1 WHEN 'sent' THEN 2
                         WHEN 'delivered' THEN 3 WHEN 'read' THEN 4 ELSE 5 END
                     RETURNING ",
                    outbox_columns!()
                ))
                .bind(external_id)
                .bind(status.as_str())
                .bind(code)
                .bind(error)
                .bind(chrono::Utc::now())
                .bind(status.rank())
                .fetch_optional(&self.pool)
                .await?;
                row.map($crate::storage::channel::outbox_from_row).transpose()
            }

            async fn outbox_for(
                &self,
                channel: &str,
                recipient: &str,
                limit: u32,
            ) -> Result<Vec<$crate::storage::OutboxRow>, $crate::storage::StorageError> {
                let rows: Vec<$crate::storage::channel::OutboxTuple> = sqlx::query_as(concat!(
                    "SELECT ",
                    outbox_columns!(),
                    " FROM outbox WHERE channel = $1 AND recipient = $2 ORDER BY created_at, seq LIMIT $3"
                ))
                .bind(channel)
                .bind(recipient)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map($crate::storage::channel::outbox_from_row).collect()
            }
        }
    };
}

pub(crate) use {outbox_columns, sql_channel_store};
