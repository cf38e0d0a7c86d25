//! Retrieval over patients' own documents: vector stores now; chunking,
//! embeddings and hybrid search arrive with the document-ingestion issue.

pub mod store;

pub use store::{
    EMBEDDING_DIM, PgVectorStore, SqliteVecStore, VectorError, VectorHit, VectorRecord, VectorStore,
};
