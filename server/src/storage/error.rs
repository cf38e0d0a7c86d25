/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// SQL database (Postgres or SQLite) error.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations failed to apply.
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// Redis error.
    #[error("redis error: {0}")]
    Redis(#[from] redis::RedisError),
    /// The vector store failed.
    #[error(transparent)]
    Vector(#[from] retrieval::VectorError),
    /// The configuration does not allow opening the store.
    #[error("storage configuration: {0}")]
    Config(&'static str),
    /// A secret could not be read.
    #[error("{0}")]
    Secret(String),
    /// The claim on a queue item expired and another consumer took it: the
    /// work must not be acknowledged by this consumer.
    #[error("the lease on job {job} was lost (it expired and the job was redelivered)")]
    LeaseLost {
        /// The job id.
        job: String,
    },
    /// Stored data does not have the expected shape.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// I/O error (creating the database folder).
    #[error("storage I/O error: {0}")]
    Io(#[from] std::io::Error),
}
