-- Production schema. Queues, idempotency keys, state and locks live in Redis;
-- this database holds what must last.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE conversations (
    id          UUID PRIMARY KEY,
    channel     TEXT NOT NULL,
    patient_ref TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- At most one open conversation per patient and channel: concurrent first
-- messages converge on one row instead of racing to create two.
CREATE UNIQUE INDEX conversations_one_open
    ON conversations (channel, patient_ref) WHERE status = 'open';
CREATE INDEX conversations_patient ON conversations (channel, patient_ref, created_at DESC);

CREATE TABLE messages (
    id              UUID PRIMARY KEY,
    seq             BIGSERIAL NOT NULL,
    conversation_id UUID NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    direction       TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    external_id     TEXT,
    kind            TEXT NOT NULL,
    content         JSONB NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- WhatsApp redelivers webhooks: a message id is recorded once.
CREATE UNIQUE INDEX messages_external ON messages (direction, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX messages_conversation ON messages (conversation_id, seq);

CREATE TABLE vector_items (
    id         UUID PRIMARY KEY,
    owner      TEXT NOT NULL,
    embedding  vector(384) NOT NULL,
    payload    JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX vector_items_owner ON vector_items (owner);
CREATE INDEX vector_items_embedding ON vector_items USING hnsw (embedding vector_cosine_ops);
