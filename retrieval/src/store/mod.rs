//! Vector stores: one trait, a pgvector implementation for production and a
//! sqlite-vec one for the embedded default.
//!
//! Every search is scoped to one `owner` (the patient): a patient's chunks are
//! never returned for another patient's query, whatever the similarity.

mod pgvector_store;
mod sqlite_vec_store;

pub use pgvector_store::PgVectorStore;
pub use sqlite_vec_store::SqliteVecStore;

use async_trait::async_trait;
use serde_json::Value;
use uuid::Uuid;

/// Dimension of the stored embeddings (all-MiniLM-L6-v2). The schemas of
/// both backends are fixed to it; a different model needs a migration.
pub const EMBEDDING_DIM: usize = 384;

/// One embedded item to store.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorRecord {
    /// Stable id; inserting the same id again replaces the item.
    pub id: Uuid,
    /// Whose item this is (the patient scope searches are limited to).
    pub owner: String,
    /// The embedding, `EMBEDDING_DIM` long.
    pub embedding: Vec<f32>,
    /// What to hand back on a hit (chunk text reference, document id, page…).
    pub payload: Value,
}

/// A search result, nearest first.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorHit {
    /// The stored item's id.
    pub id: Uuid,
    /// Cosine distance (0 = same direction, 2 = opposite).
    pub distance: f32,
    /// The stored payload.
    pub payload: Value,
}

/// Why a vector operation failed.
#[derive(Debug, thiserror::Error)]
pub enum VectorError {
    /// The embedding has the wrong length for the schema.
    #[error("embedding has {actual} dimensions, the store holds {expected}")]
    Dimension {
        /// What the schema holds.
        expected: usize,
        /// What was given.
        actual: usize,
    },
    /// A NaN or infinite component: it would poison every distance.
    #[error("embedding contains a non-finite value")]
    NonFinite,
    /// The database failed.
    #[error("vector store database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored payload could not be decoded.
    #[error("stored payload is not valid JSON: {0}")]
    Payload(#[from] serde_json::Error),
}

/// A per-owner k-nearest-neighbour store.
#[async_trait]
pub trait VectorStore: Send + Sync + std::fmt::Debug {
    /// Inserts or replaces the records (all-or-nothing).
    async fn upsert(&self, records: &[VectorRecord]) -> Result<(), VectorError>;
    /// The `k` items of `owner` nearest to `query` by cosine distance.
    async fn nearest(
        &self,
        owner: &str,
        query: &[f32],
        k: usize,
    ) -> Result<Vec<VectorHit>, VectorError>;
    /// Removes everything `owner` has stored; returns how many items.
    async fn delete_owner(&self, owner: &str) -> Result<u64, VectorError>;
}

/// Rejects embeddings that cannot be stored or compared.
pub(crate) fn check_embedding(embedding: &[f32]) -> Result<(), VectorError> {
    if embedding.len() != EMBEDDING_DIM {
        return Err(VectorError::Dimension {
            expected: EMBEDDING_DIM,
            actual: embedding.len(),
        });
    }
    if embedding.iter().any(|v| !v.is_finite()) {
        return Err(VectorError::NonFinite);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeddings_of_the_wrong_size_or_with_nan_are_rejected() {
        assert!(matches!(
            check_embedding(&[0.0; 3]),
            Err(VectorError::Dimension {
                expected: 384,
                actual: 3
            })
        ));
        let mut v = vec![0.1; EMBEDDING_DIM];
        assert!(check_embedding(&v).is_ok());
        v[7] = f32::NAN;
        assert!(matches!(check_embedding(&v), Err(VectorError::NonFinite)));
    }
}
