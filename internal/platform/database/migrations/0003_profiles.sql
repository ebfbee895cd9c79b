-- Member profiles, the consent of parents and guardians for child
-- accounts, and requests members make about their account. Written in
-- PostgreSQL's dialect; see migrate.go for the rewrites applied on SQLite.

-- Everything a member may add to their account beyond sign-up; every
-- column is optional and NULL when not given. username is stored
-- lower-case, so the UNIQUE constraint ignores case (NULLs never clash).
-- birth_date is a calendar date written YYYY-MM-DD, which sorts and
-- compares the same way on both engines. interests is a JSON array of
-- strings. avatar_key is the blob key of the profile picture, whose blobs
-- row carries the person id that export and erasure follow.
-- guardian_email is where the last confirmation link for a child account
-- went; guardian_confirmed_at is set when a parent or guardian confirmed
-- (the evidence is in guardian_consents).
CREATE TABLE profiles (
    account_id            TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    username              TEXT UNIQUE,
    phone                 TEXT,
    company               TEXT,
    address_street        TEXT,
    address_city          TEXT,
    address_postcode      TEXT,
    address_region        TEXT,
    address_country       TEXT,
    birth_date            TEXT,
    gender                TEXT,
    country               TEXT,
    city                  TEXT,
    interests             TEXT,
    linkedin_url          TEXT,
    facebook_url          TEXT,
    avatar_key            TEXT,
    guardian_email        TEXT,
    guardian_confirmed_at TIMESTAMPTZ,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);

-- One row per confirmation link sent to a parent or guardian. The link's
-- token is signed and carries its own expiry; only its digest is kept,
-- and the row makes it single-use. A confirmed row is the consent
-- evidence: who confirmed (the address the link went to), when, for which
-- account, and which text they were shown (its version and SHA-256). A
-- newer link supersedes the ones still pending.
CREATE TABLE guardian_consents (
    id             TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    guardian_email TEXT NOT NULL,
    token_digest   TEXT NOT NULL UNIQUE,
    status         TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'confirmed', 'superseded')),
    requested_at   TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL,
    confirmed_at   TIMESTAMPTZ,
    notice_version TEXT,
    notice_sha256  TEXT
);
CREATE INDEX guardian_consents_account ON guardian_consents (account_id);

-- Requests a member makes about their own data, starting with "delete my
-- account". due_at is one calendar month after receipt. The rights
-- workflow adds kinds and states; account_id is cleared rather than the
-- row deleted when the account goes, so the record of how the request
-- was answered outlives the account without naming anyone.
CREATE TABLE account_requests (
    id          TEXT PRIMARY KEY,
    account_id  TEXT REFERENCES accounts (id) ON DELETE SET NULL,
    kind        TEXT NOT NULL,
    state       TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    due_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX account_requests_account ON account_requests (account_id);
CREATE INDEX account_requests_due ON account_requests (state, due_at);
