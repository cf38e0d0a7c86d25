-- WhatsApp channel: who we talk to (24-hour window, opt-out, block) and the
-- durable outbox of everything we send.
CREATE TABLE contacts (
    channel         TEXT NOT NULL,
    address         TEXT NOT NULL,
    last_inbound_at TEXT,
    opted_out_at    TEXT,
    blocked         BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (channel, address)
);

CREATE TABLE outbox (
    id              BLOB PRIMARY KEY,
    cause_key       TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    channel         TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL,
    external_id     TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error_code INTEGER,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (cause_key, seq)
);
CREATE UNIQUE INDEX outbox_external ON outbox (external_id) WHERE external_id IS NOT NULL;
CREATE INDEX outbox_recipient ON outbox (channel, recipient, created_at);
