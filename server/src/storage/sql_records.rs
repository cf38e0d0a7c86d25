//! The record store, written once for both SQL backends: the statements use
//! `$N` placeholders, which Postgres and sqlx's SQLite driver both accept, and
//! only types both drivers encode (UUID, text, JSON, UTC timestamps).

/// Implements [`RecordStore`](super::RecordStore) for `$name` (a [`SqlStore`](super::SqlStore) over one backend's pool).
macro_rules! sql_record_store {
    ($name:ty) => {

        #[async_trait::async_trait]
        impl $crate::storage::RecordStore for $name {
            async fn open_conversation(
                &self,
                channel: &str,
                patient_ref: &str,
            ) -> Result<$crate::storage::Conversation, $crate::storage::StorageError> {
                // Insert-or-nothing against the partial unique index, then read:
                // concurrent first messages converge on the same row. A close
                // between the two statements is retried once.
                for _ in 0..3 {
                    let now = chrono::Utc::now();
                    sqlx::query(
                        "INSERT INTO conversations (id, channel, patient_ref, status, created_at, updated_at)
                         VALUES ($1, $2, $3, 'open', $4, $4)
                         ON CONFLICT (channel, patient_ref) WHERE status = 'open' DO NOTHING",
                    )
                    .bind(uuid::Uuid::now_v7())
                    .bind(channel)
                    .bind(patient_ref)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                    let row: Option<$crate::storage::records::ConversationRow> = sqlx::query_as(
                        "SELECT id, channel, patient_ref, status, created_at, updated_at
                         FROM conversations WHERE channel = $1 AND patient_ref = $2 AND status = 'open'",
                    )
                    .bind(channel)
                    .bind(patient_ref)
                    .fetch_optional(&self.pool)
                    .await?;
                    if let Some(row) = row {
                        return $crate::storage::records::conversation_from_row(row);
                    }
                }
                Err($crate::storage::StorageError::Corrupt(
                    "the open conversation kept closing while it was being opened".to_owned(),
                ))
            }

            async fn conversation(
                &self,
                id: uuid::Uuid,
            ) -> Result<Option<$crate::storage::Conversation>, $crate::storage::StorageError> {
                let row: Option<$crate::storage::records::ConversationRow> = sqlx::query_as(
                    "SELECT id, channel, patient_ref, status, created_at, updated_at FROM conversations WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.map($crate::storage::records::conversation_from_row).transpose()
            }

            async fn close_conversation(&self, id: uuid::Uuid) -> Result<(), $crate::storage::StorageError> {
                sqlx::query("UPDATE conversations SET status = 'closed', updated_at = $2 WHERE id = $1")
                    .bind(id)
                    .bind(chrono::Utc::now())
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn append_message(
                &self,
                message: $crate::storage::NewMessage,
            ) -> Result<$crate::storage::AppendOutcome, $crate::storage::StorageError> {
                let id = uuid::Uuid::now_v7();
                let now = chrono::Utc::now();
                let mut tx = self.pool.begin().await?;
                let inserted = sqlx::query(
                    "INSERT INTO messages (id, conversation_id, direction, external_id, kind, content, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)
                     ON CONFLICT (direction, external_id) WHERE external_id IS NOT NULL DO NOTHING",
                )
                .bind(id)
                .bind(message.conversation_id)
                .bind(message.direction.as_str())
                .bind(message.external_id.as_deref())
                .bind(&message.kind)
                .bind(&message.content)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if inserted == 0 {
                    let (existing, conversation_id): (uuid::Uuid, uuid::Uuid) = sqlx::query_as(
                        "SELECT id, conversation_id FROM messages WHERE direction = $1 AND external_id = $2",
                    )
                    .bind(message.direction.as_str())
                    .bind(message.external_id.as_deref())
                    .fetch_one(&mut *tx)
                    .await?;
                    tx.rollback().await?;
                    return Ok($crate::storage::AppendOutcome::Duplicate {
                        existing,
                        conversation_id,
                    });
                }
                sqlx::query("UPDATE conversations SET updated_at = $2 WHERE id = $1")
                    .bind(message.conversation_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok($crate::storage::AppendOutcome::Inserted($crate::storage::Message {
                    id,
                    conversation_id: message.conversation_id,
                    direction: message.direction,
                    external_id: message.external_id,
                    kind: message.kind,
                    content: message.content,
                    created_at: now,
                }))
            }

            async fn open_conversation_from(
                &self,
                message: uuid::Uuid,
            ) -> Result<$crate::storage::Conversation, $crate::storage::StorageError> {
                let now = chrono::Utc::now();
                let mut tx = self.pool.begin().await?;
                // A write first, so that SQLite takes its write lock at the
                // start of the transaction rather than failing to upgrade a
                // read later. It closes the message's conversation unless the
                // message already opens it (a replay: nothing to do).
                let closed = sqlx::query(
                    "UPDATE conversations SET status = 'closed', updated_at = $2
                     WHERE id = (SELECT conversation_id FROM messages WHERE id = $1)
                       AND (SELECT first.id FROM messages first
                            WHERE first.conversation_id = conversations.id
                            ORDER BY first.seq LIMIT 1) <> $1",
                )
                .bind(message)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                let home: Option<$crate::storage::records::ConversationRow> = sqlx::query_as(
                    "SELECT c.id, c.channel, c.patient_ref, c.status, c.created_at, c.updated_at
                     FROM conversations c JOIN messages m ON m.conversation_id = c.id WHERE m.id = $1",
                )
                .bind(message)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(home) = home else {
                    return Err($crate::storage::StorageError::Corrupt(format!(
                        "no message {message} to open a conversation from"
                    )));
                };
                if closed == 0 {
                    tx.commit().await?;
                    return $crate::storage::records::conversation_from_row(home);
                }
                let (_, channel, patient_ref, ..) = &home;
                // The partial unique index allows one open conversation per
                // patient: should another have been opened meanwhile, the
                // message joins that one.
                sqlx::query(
                    "INSERT INTO conversations (id, channel, patient_ref, status, created_at, updated_at)
                     VALUES ($1, $2, $3, 'open', $4, $4)
                     ON CONFLICT (channel, patient_ref) WHERE status = 'open' DO NOTHING",
                )
                .bind(uuid::Uuid::now_v7())
                .bind(channel)
                .bind(patient_ref)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let opened: $crate::storage::records::ConversationRow = sqlx::query_as(
                    "SELECT id, channel, patient_ref, status, created_at, updated_at
                     FROM conversations WHERE channel = $1 AND patient_ref = $2 AND status = 'open'",
                )
                .bind(channel)
                .bind(patient_ref)
                .fetch_one(&mut *tx)
                .await?;
                sqlx::query("UPDATE messages SET conversation_id = $2 WHERE id = $1")
                    .bind(message)
                    .bind(opened.0)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                $crate::storage::records::conversation_from_row(opened)
            }

            async fn patient_messages(
                &self,
                channel: &str,
                patient_ref: &str,
                limit: u32,
            ) -> Result<Vec<$crate::storage::Message>, $crate::storage::StorageError> {
                // The latest `limit`, returned oldest first.
                let rows: Vec<$crate::storage::records::MessageRow> = sqlx::query_as(
                    "SELECT id, conversation_id, direction, external_id, kind, content, created_at FROM (
                         SELECT m.seq, m.id, m.conversation_id, m.direction, m.external_id, m.kind, m.content, m.created_at
                         FROM messages m JOIN conversations c ON c.id = m.conversation_id
                         WHERE c.channel = $1 AND c.patient_ref = $2
                         ORDER BY m.seq DESC LIMIT $3
                     ) latest ORDER BY seq",
                )
                .bind(channel)
                .bind(patient_ref)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map($crate::storage::records::message_from_row).collect()
            }

            async fn messages(
                &self,
                conversation_id: uuid::Uuid,
                limit: u32,
            ) -> Result<Vec<$crate::storage::Message>, $crate::storage::StorageError> {
                let rows: Vec<$crate::storage::records::MessageRow> = sqlx::query_as(
                    "SELECT id, conversation_id, direction, external_id, kind, content, created_at
                     FROM messages WHERE conversation_id = $1 ORDER BY seq LIMIT $2",
                )
                .bind(conversation_id)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map($crate::storage::records::message_from_row).collect()
            }

            async fn ping(&self) -> Result<(), $crate::storage::StorageError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }
        }
    };
}

pub(crate) use sql_record_store;
