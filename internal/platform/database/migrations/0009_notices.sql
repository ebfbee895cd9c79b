-- The privacy notice's published versions, members' acknowledgements of
-- significant versions, and the e-mails that announced them. Written in
-- PostgreSQL's dialect; see migrate.go for the rewrites applied on SQLite.

-- One row per published version, numbered from 1 without gaps; a row is
-- never changed after it is written, except that mailed_at is set once
-- the announcement of a significant version has gone to every member,
-- and published_by is cleared when that staff member's account is
-- erased. body is the notice's Markdown as published and sha256 its
-- digest; sections is the same text as JSON, for the pages. published_by
-- has no foreign key: the public history outlives staff accounts.
CREATE TABLE notice_versions (
    version      INTEGER PRIMARY KEY,
    published_at TIMESTAMPTZ NOT NULL,
    published_by TEXT,
    significant  BOOLEAN NOT NULL,
    summary      TEXT NOT NULL,
    body         TEXT NOT NULL,
    sections     TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    mailed_at    TIMESTAMPTZ
);
CREATE INDEX notice_versions_unmailed ON notice_versions (significant, mailed_at);

-- A member confirmed they had seen a version. Acknowledging a version
-- covers every earlier one, so the banner looks for any row at or after
-- the latest significant version.
CREATE TABLE notice_acknowledgements (
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    version         INTEGER NOT NULL REFERENCES notice_versions (version),
    acknowledged_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, version)
);

-- One row per member an announcement was queued for, written in the
-- transaction that puts the e-mail in the outbox. The primary key is what
-- makes the announcement go once per version and member, however often
-- the job runs or restarts.
CREATE TABLE notice_mailings (
    version    INTEGER NOT NULL REFERENCES notice_versions (version),
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    outbox_id  TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (version, account_id)
);
CREATE INDEX notice_mailings_account ON notice_mailings (account_id);
