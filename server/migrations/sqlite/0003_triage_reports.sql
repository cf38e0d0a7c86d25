-- Triage reports for clinicians, and the bearer tokens that guard them.

-- One report per conversation, rewritten as the conversation learns more
-- (upsert on conversation_id). `report` is the structured report; `rendered`
-- its plain-text form. `disposition` is copied out of it to sort by urgency.
CREATE TABLE triage_reports (
    id              BLOB PRIMARY KEY,
    conversation_id BLOB NOT NULL UNIQUE REFERENCES conversations (id) ON DELETE CASCADE,
    patient_ref     TEXT NOT NULL,
    disposition     TEXT NOT NULL CHECK (disposition IN
        ('emergency_ambulance', 'emergency_department', 'urgent_24h', 'routine', 'self_care')),
    rules_version   TEXT,
    report          TEXT NOT NULL,
    rendered        TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX triage_reports_created ON triage_reports (created_at DESC);

-- API tokens: only the SHA-256 (hex) of a token is stored. Tokens carry 256
-- random bits, so a fast unsalted hash is enough: there is nothing to guess.
CREATE TABLE api_tokens (
    id          BLOB PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    role        TEXT NOT NULL CHECK (role IN ('clinician', 'admin', 'ml_engineer')),
    label       TEXT,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);
