-- Retention: legal holds, the record of every retention run with its
-- counts per rule, and the warnings sent before an inactive account is
-- erased. Written in PostgreSQL's dialect; see migrate.go for the
-- rewrites applied on SQLite.

-- A legal hold keeps one person's data past its retention, and out of
-- erasure, while a legal claim needs it. person_id is an account id or,
-- for a guest, a participant id; there is no foreign key, since a guest
-- has no account row to point at.
-- reason is the privacy officer's note (free text, shown only to staff
-- who manage holds). A hold is in force from starts_at until ends_at (NULL:
-- until released); releasing it sets released_at and moves ends_at to
-- the release, from which the hold's own record ages out.
CREATE TABLE legal_holds (
    id          TEXT PRIMARY KEY,
    person_id   TEXT NOT NULL,
    reason      TEXT NOT NULL,
    starts_at   TIMESTAMPTZ NOT NULL,
    ends_at     TIMESTAMPTZ,
    released_at TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX legal_holds_person ON legal_holds (person_id, starts_at);
CREATE INDEX legal_holds_ends ON legal_holds (ends_at);

-- One run of the retention engine, real or dry. A run that never reached
-- finished_at was cut short (the next run redoes its work, which is
-- idempotent). error is a short code, never personal data.
CREATE TABLE retention_runs (
    id          TEXT PRIMARY KEY,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    dry_run     BOOLEAN NOT NULL,
    trigger     TEXT NOT NULL CHECK (trigger IN ('schedule', 'command', 'staff')),
    state       TEXT NOT NULL CHECK (state IN ('running', 'done', 'partial', 'failed')),
    error       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX retention_runs_started ON retention_runs (started_at);

-- What one run did (or, dry, would do) under one rule to one table: how
-- many rows it deleted or cleared, people it warned or handed to the
-- erasure engine, and how many it left alone because of a legal hold.
-- Counts only: no ids, so the report keeps no trace of who went.
CREATE TABLE retention_run_rules (
    run_id     TEXT NOT NULL REFERENCES retention_runs (id) ON DELETE CASCADE,
    rule       TEXT NOT NULL,
    table_name TEXT NOT NULL,
    action     TEXT NOT NULL CHECK (action IN ('delete', 'anonymise', 'warn', 'erase')),
    row_count  BIGINT NOT NULL DEFAULT 0,
    held_count BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, rule, table_name, action)
);

-- The warning mailed to a member whose account is about to be erased for
-- inactivity. It holds for the last_active_at it was sent about: any use
-- of the account moves last_active_at, which voids the warning and the
-- erasure with it. The erasure waits until erase_after, so the member
-- always has the notice period, however late the warning went out.
CREATE TABLE inactivity_warnings (
    account_id     TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    last_active_at TIMESTAMPTZ NOT NULL,
    warned_at      TIMESTAMPTZ NOT NULL,
    erase_after    TIMESTAMPTZ NOT NULL
);
