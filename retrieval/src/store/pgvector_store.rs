use async_trait::async_trait;
use pgvector::Vector;
use sqlx::PgPool;
use uuid::Uuid;

use super::{VectorError, VectorHit, VectorRecord, VectorStore, check_embedding};

/// pgvector-backed store over the `vector_items` table (see the server's
/// Postgres migrations: `embedding vector(384)` with an HNSW cosine index).
#[derive(Debug, Clone)]
pub struct PgVectorStore {
    pool: PgPool,
}

impl PgVectorStore {
    /// Uses an already migrated pool.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl VectorStore for PgVectorStore {
    async fn upsert(&self, records: &[VectorRecord]) -> Result<(), VectorError> {
        for r in records {
            check_embedding(&r.embedding)?;
        }
        let mut tx = self.pool.begin().await?;
        for r in records {
            sqlx::query(
                "INSERT INTO vector_items (id, owner, embedding, payload) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO UPDATE
                 SET owner = EXCLUDED.owner, embedding = EXCLUDED.embedding, payload = EXCLUDED.payload",
            )
            .bind(r.id)
            .bind(&r.owner)
            .bind(Vector::from(r.embedding.clone()))
            .bind(&r.payload)
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
        let limit = i64::try_from(k).unwrap_or(i64::MAX);
        // Ordering by the computed distance (not by the bare `<=>` operator)
        // keeps the planner off the HNSW index: an index scan filtered by
        // owner afterwards can return fewer than k rows, while one patient's
        // chunks are few enough to rank exactly from the owner index.
        let rows: Vec<(Uuid, f64, serde_json::Value)> = sqlx::query_as(
            "SELECT id, (embedding <=> $2)::float8 AS distance, payload
             FROM vector_items WHERE owner = $1
             ORDER BY distance LIMIT $3",
        )
        .bind(owner)
        .bind(Vector::from(query.to_vec()))
        .bind(limit)
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
        let done = sqlx::query("DELETE FROM vector_items WHERE owner = $1")
            .bind(owner)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
