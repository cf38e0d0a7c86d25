//! Retrieval over patients' own documents: vector stores now; chunking,
//! embeddings and hybrid search arrive with the document-ingestion issue.

pub mod embed;
pub mod store;

pub use embed::{EmbedError, Embedder, cosine};
pub use store::{
    EMBEDDING_DIM, PgVectorStore, SqliteVecStore, VectorError, VectorHit, VectorRecord, VectorStore,
};
