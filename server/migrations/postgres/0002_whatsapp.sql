-- WhatsApp channel: who we talk to (24-hour window, opt-out, block) and the
-- durable outbox of everything we send.
CREATE TABLE contacts (
    channel         TEXT NOT NULL,
    address         TEXT NOT NULL,
    last_inbound_at TIMESTAMPTZ,
    opted_out_at    TIMESTAMPTZ,
    blocked         BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (channel, address)
);

CREATE TABLE outbox (
    id              UUID PRIMARY KEY,
    -- The inbound event that caused this message and its position among the
    -- messages that event caused: a redelivered event maps to the same rows.
    cause_key       TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    channel         TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    body            JSONB NOT NULL,
    status          TEXT NOT NULL,
    external_id     TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error_code BIGINT,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (cause_key, seq)
);
CREATE UNIQUE INDEX outbox_external ON outbox (external_id) WHERE external_id IS NOT NULL;
CREATE INDEX outbox_recipient ON outbox (channel, recipient, created_at);
