-- Data-subject rights, continued: direct transfers of a member's
-- portability package to another service, and what Art. 19 GDPR asks
-- for: who received a person's data, and the notices sent to those
-- recipients when the data is rectified, erased or restricted. Written in
-- PostgreSQL's dialect; see migrate.go for the rewrites applied on SQLite.

-- A member's request to send their portability package to another
-- service's https address. It waits for the member's confirmation
-- (confirming), then for the worker (queued); status_code is the
-- receiving service's answer and error a short fixed reason, never the
-- service's own text.
CREATE TABLE data_transfers (
    id           TEXT PRIMARY KEY,
    person_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    url          TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('confirming', 'queued', 'sent', 'failed')),
    status_code  INTEGER,
    size_bytes   BIGINT NOT NULL DEFAULT 0,
    error        TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    created_at   TIMESTAMPTZ NOT NULL,
    confirmed_at TIMESTAMPTZ,
    finished_at  TIMESTAMPTZ
);
CREATE INDEX data_transfers_person ON data_transfers (person_id, created_at);
CREATE INDEX data_transfers_state ON data_transfers (state, created_at);

-- Where each recipient (a sub-processor of the registry) takes notices
-- about people's data: its privacy contact's address, or a webhook.
CREATE TABLE recipient_contacts (
    recipient     TEXT PRIMARY KEY,
    privacy_email TEXT,
    webhook_url   TEXT,
    updated_at    TIMESTAMPTZ NOT NULL
);

-- Deliveries of a person's data to a recipient beyond what the data map
-- declares for every row, such as a direct transfer.
CREATE TABLE recipient_deliveries (
    id           TEXT PRIMARY KEY,
    person_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    recipient    TEXT NOT NULL,
    categories   TEXT NOT NULL DEFAULT '[]',
    what         TEXT NOT NULL,
    delivered_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX recipient_deliveries_person ON recipient_deliveries (person_id, delivered_at);

-- A notice to one recipient that a person's data was rectified, erased or
-- restricted. The person is named by the audit log's keyed pseudonym; the
-- webhook body, which names them so the recipient can act, is cleared
-- once delivered, and the outbox message is removed once delivered.
CREATE TABLE recipient_notices (
    id          TEXT PRIMARY KEY,
    person_ref  TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    change      TEXT NOT NULL CHECK (change IN ('rectification', 'erasure', 'restriction')),
    channel     TEXT NOT NULL CHECK (channel IN ('mail', 'webhook', 'none')),
    state       TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'failed', 'no-contact')),
    mail_id     TEXT,
    payload     TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL,
    sent_at     TIMESTAMPTZ
);
CREATE INDEX recipient_notices_state ON recipient_notices (state, created_at);
