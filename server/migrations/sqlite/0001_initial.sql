-- Embedded schema: the same records as Postgres, plus the queue and the
-- key-value store that Redis provides in production. Times in the queue and
-- key-value tables are milliseconds since the Unix epoch.

CREATE TABLE conversations (
    id          BLOB PRIMARY KEY,
    channel     TEXT NOT NULL,
    patient_ref TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX conversations_one_open
    ON conversations (channel, patient_ref) WHERE status = 'open';
CREATE INDEX conversations_patient ON conversations (channel, patient_ref, created_at DESC);

CREATE TABLE messages (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              BLOB NOT NULL UNIQUE,
    conversation_id BLOB NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    direction       TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    external_id     TEXT,
    kind            TEXT NOT NULL,
    content         TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX messages_external ON messages (direction, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX messages_conversation ON messages (conversation_id, seq);

CREATE TABLE queue_jobs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    queue         TEXT NOT NULL,
    partition_key TEXT NOT NULL,
    payload       BLOB NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    enqueued_at   INTEGER NOT NULL
);
CREATE INDEX queue_jobs_next ON queue_jobs (queue, id);
CREATE INDEX queue_jobs_partition ON queue_jobs (queue, partition_key, id);

-- One row per partition someone holds (or held: an expired row is free).
CREATE TABLE queue_leases (
    queue         TEXT NOT NULL,
    partition_key TEXT NOT NULL,
    job_id        INTEGER NOT NULL,
    token         TEXT NOT NULL,
    consumer      TEXT NOT NULL,
    lease_until   INTEGER NOT NULL,
    PRIMARY KEY (queue, partition_key)
);

CREATE TABLE queue_dead_letters (
    queue         TEXT NOT NULL,
    job_id        INTEGER NOT NULL,
    partition_key TEXT NOT NULL,
    payload       BLOB NOT NULL,
    reason        TEXT NOT NULL,
    failed_at     INTEGER NOT NULL,
    PRIMARY KEY (queue, job_id)
);

CREATE TABLE kv (
    key        TEXT PRIMARY KEY,
    value      BLOB NOT NULL,
    expires_at INTEGER
);
CREATE INDEX kv_expiry ON kv (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE vector_items (
    rowid      INTEGER PRIMARY KEY AUTOINCREMENT,
    id         BLOB NOT NULL UNIQUE,
    owner      TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX vector_items_owner ON vector_items (owner);
CREATE VIRTUAL TABLE vector_index USING vec0 (
    owner TEXT PARTITION KEY,
    embedding float[384] distance_metric=cosine
);
