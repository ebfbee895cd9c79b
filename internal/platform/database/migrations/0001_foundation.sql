-- The foundation: the audit log, the mail outbox, the sub-processor
-- registry and the blob index. Written in PostgreSQL's dialect; see
-- migrate.go for the rewrites applied on SQLite.

-- Append-only, hash-chained record of who did what to whom and why.
-- actor_id and subject_id are the only links to a person; they are left
-- out of the hash (actor_ref and subject_ref, keyed pseudonyms, are in it)
-- so that erasure can clear them without breaking the chain.
CREATE TABLE audit_log (
    seq         BIGSERIAL PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    actor_kind  TEXT NOT NULL,
    actor_id    TEXT,
    actor_ref   TEXT NOT NULL,
    action      TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_id  TEXT,
    subject_ref TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '{}',
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL UNIQUE
);
CREATE INDEX audit_log_subject ON audit_log (subject_id);
CREATE INDEX audit_log_actor ON audit_log (actor_id);

-- Every outgoing e-mail is written here first, in the same transaction as
-- the change that caused it, and delivered by a background job.
CREATE TABLE mail_outbox (
    id              TEXT PRIMARY KEY,
    created_at      TIMESTAMPTZ NOT NULL,
    person_id       TEXT,
    category        TEXT NOT NULL CHECK (category IN ('transactional', 'marketing')),
    template        TEXT NOT NULL,
    to_address      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    body_html       TEXT NOT NULL DEFAULT '',
    headers         TEXT NOT NULL DEFAULT '{}',
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'held')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    sent_at         TIMESTAMPTZ
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);
CREATE INDEX mail_outbox_person ON mail_outbox (person_id);

-- Third parties that process personal data on our behalf.
CREATE TABLE subprocessors (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    activity           TEXT NOT NULL,
    purpose            TEXT NOT NULL DEFAULT '',
    country            TEXT NOT NULL,
    transfer_mechanism TEXT NOT NULL,
    data_categories    TEXT NOT NULL DEFAULT '[]',
    website            TEXT NOT NULL DEFAULT '',
    active             BOOLEAN NOT NULL DEFAULT TRUE,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);

-- Index of stored files, so that export and erasure can find every blob
-- that belongs to a person without listing the bucket.
CREATE TABLE blobs (
    key          TEXT PRIMARY KEY,
    person_id    TEXT,
    kind         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes   BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX blobs_person ON blobs (person_id);
