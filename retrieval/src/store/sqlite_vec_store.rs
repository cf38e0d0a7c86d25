use async_trait::async_trait;
use sqlx::SqlitePool;
use uuid::Uuid;

use super::{VectorError, VectorHit, VectorRecord, VectorStore, check_embedding};

/// sqlite-vec-backed store: `vector_items` holds ids and payloads, the `vec0`
/// virtual table `vector_index` holds the embeddings partitioned by owner
/// (see the server's SQLite migrations). The sqlite-vec extension must be
/// registered before the pool opens.
#[derive(Debug, Clone)]
pub struct SqliteVecStore {
    pool: SqlitePool,
}

impl SqliteVecStore {
    /// Uses an already migrated pool.
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }
}

/// sqlite-vec takes vectors as little-endian f32 blobs.
fn as_blob(embedding: &[f32]) -> Vec<u8> {
    embedding.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[async_trait]
impl VectorStore for SqliteVecStore {
    async fn upsert(&self, records: &[VectorRecord]) -> Result<(), VectorError> {
        for r in records {
            check_embedding(&r.embedding)?;
        }
        let mut tx = self.pool.begin().await?;
        for r in records {
            // vec0 tables have no UPSERT: replace by deleting the old row first.
            let old: Option<i64> =
                sqlx::query_scalar("SELECT rowid FROM vector_items WHERE id = ?1")
                    .bind(r.id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(rowid) = old {
                sqlx::query("DELETE FROM vector_index WHERE rowid = ?1")
                    .bind(rowid)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM vector_items WHERE rowid = ?1")
                    .bind(rowid)
                    .execute(&mut *tx)
                    .await?;
            }
            let rowid: i64 = sqlx::query_scalar(
                "INSERT INTO vector_items (id, owner, payload) VALUES (?1, ?2, ?3) RETURNING rowid",
            )
            .bind(r.id)
            .bind(&r.owner)
            .bind(&r.payload)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query("INSERT INTO vector_index (rowid, owner, embedding) VALUES (?1, ?2, ?3)")
                .bind(rowid)
                .bind(&r.owner)
                .bind(as_blob(&r.embedding))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn nearest(
        &self,
        owner: &str,
        query: &[f32],
        k: usize,
    ) -> Result<Vec<VectorHit>, VectorError> {
        check_embedding(query)?;
        if k == 0 {
            return Ok(Vec::new());
        }
        let limit = i64::try_from(k).unwrap_or(i64::MAX);
        let rows: Vec<(Uuid, f64, serde_json::Value)> = sqlx::query_as(
            "SELECT i.id, v.distance, i.payload
             FROM vector_index v JOIN vector_items i ON i.rowid = v.rowid
             WHERE v.embedding MATCH ?1 AND v.k = ?2 AND v.owner = ?3
             ORDER BY v.distance",
        )
        .bind(as_blob(query))
        .bind(limit)
        .bind(owner)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, distance, payload)| VectorHit {
                id,
                distance: distance as f32,
                payload,
            })
            .collect())
    }

    async fn delete_owner(&self, owner: &str) -> Result<u64, VectorError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM vector_index WHERE owner = ?1")
            .bind(owner)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM vector_items WHERE owner = ?1")
            .bind(owner)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}
