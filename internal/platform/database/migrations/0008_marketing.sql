-- Marketing: members' choices per channel, objections (to direct
-- marketing, to profiling, and to legitimate-interest processing in
-- general), the suppression list that outlives accounts, and campaigns
-- with their deliveries. Written in PostgreSQL's dialect; see migrate.go
-- for the rewrites applied on SQLite.

-- A member's explicit choice for one channel. No row means the default,
-- which is worked out when it is read (on for members who are customers,
-- off for child accounts), so that it follows the member's age and status
-- instead of freezing what it was on the day the account was opened.
CREATE TABLE marketing_preferences (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    channel    TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'phone', 'social')),
    enabled    BOOLEAN NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, channel)
);

-- Objections. One to direct marketing or to profiling is in force the
-- moment it is made and for good (status 'upheld' from the start), so a
-- person has at most one of each. One to legitimate-interest processing in
-- general waits ('pending') until staff weigh it: 'upheld' stops the
-- processing, 'overridden' records the compelling grounds in grounds.
-- purpose is the data map purpose objected to, '' for all of them.
-- statement is the person's own reasons, given with the objection.
-- campaign_id names the message whose unsubscribe link was used. Which
-- staff member decided is in the audit log, not here.
CREATE TABLE objections (
    id          TEXT PRIMARY KEY,
    person_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('marketing', 'profiling', 'legitimate-interest')),
    method      TEXT NOT NULL CHECK (method IN ('settings', 'api', 'unsubscribe', 'link')),
    campaign_id TEXT,
    purpose     TEXT NOT NULL DEFAULT '',
    statement   TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL CHECK (status IN ('upheld', 'pending', 'overridden')),
    created_at  TIMESTAMPTZ NOT NULL,
    decided_at  TIMESTAMPTZ,
    grounds     TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX objections_absolute ON objections (person_id, kind) WHERE kind IN ('marketing', 'profiling');
CREATE INDEX objections_pending ON objections (status, created_at);

-- Addresses that must never receive marketing again. Only a keyed digest
-- (HMAC-SHA-256 under the server secret) of the normalised address is
-- kept, so the entry reveals nothing without the secret. account_id is the
-- member who objected, for their export; it is cleared when the account
-- is erased, and the entry stays, so the objection outlives the account.
CREATE TABLE marketing_suppressions (
    address_digest TEXT PRIMARY KEY,
    account_id     TEXT REFERENCES accounts (id) ON DELETE SET NULL,
    reason         TEXT NOT NULL CHECK (reason IN ('objection', 'unsubscribe')),
    created_at     TIMESTAMPTZ NOT NULL
);

-- Campaigns composed by staff. They are written for everyone alike and
-- name nobody; which staff member composed and sent one is in the audit
-- log.
-- While a campaign is 'sending', the job walks the accounts in id order;
-- resume_after is the last id it finished, so a restarted job resumes there.
CREATE TABLE marketing_campaigns (
    id           TEXT PRIMARY KEY,
    subject      TEXT NOT NULL,
    body_text    TEXT NOT NULL,
    body_html    TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL CHECK (status IN ('draft', 'sending', 'sent')),
    created_at   TIMESTAMPTZ NOT NULL,
    started_at   TIMESTAMPTZ,
    finished_at  TIMESTAMPTZ,
    resume_after TEXT NOT NULL DEFAULT '',
    queued       INTEGER NOT NULL DEFAULT 0,
    skipped      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX marketing_campaigns_status ON marketing_campaigns (status);

-- One row per message a campaign put in the outbox, written in the same
-- transaction as the message: the primary key is what makes a campaign
-- send at most once to each member, however often the job is retried.
CREATE TABLE marketing_deliveries (
    campaign_id TEXT NOT NULL REFERENCES marketing_campaigns (id) ON DELETE CASCADE,
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    mail_id     TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (campaign_id, account_id)
);
CREATE INDEX marketing_deliveries_account ON marketing_deliveries (account_id);
CREATE INDEX marketing_suppressions_account ON marketing_suppressions (account_id);
