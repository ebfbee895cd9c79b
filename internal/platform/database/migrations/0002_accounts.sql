-- Accounts and how members prove who they are: sessions, personal API
-- tokens, e-mailed link digests, the TOTP second factor with its recovery
-- codes, pending two-step sign-ins and sign-in throttling. Written in
-- PostgreSQL's dialect; see migrate.go for the rewrites applied on SQLite.

-- One row per member. email is stored normalised (trimmed, lower-case) so
-- that the UNIQUE constraint is what stops two accounts sharing an address.
-- totp_secret is sealed with AES-GCM under a key derived from the server
-- secret; it is never stored in clear. totp_last_step is the last accepted
-- RFC 6238 time step, so that one code cannot be used twice.
CREATE TABLE accounts (
    id                  TEXT PRIMARY KEY,
    email               TEXT NOT NULL UNIQUE,
    email_verified_at   TIMESTAMPTZ,
    password_hash       TEXT NOT NULL,
    password_changed_at TIMESTAMPTZ NOT NULL,
    name                TEXT NOT NULL,
    status              TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deactivated', 'erasure_pending')),
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    last_active_at      TIMESTAMPTZ NOT NULL,
    deactivated_at      TIMESTAMPTZ,
    totp_secret         BYTEA,
    totp_enabled_at     TIMESTAMPTZ,
    totp_last_step      BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX accounts_last_active ON accounts (last_active_at);

-- Browser sessions. Only a SHA-256 digest of the cookie's token is kept, so
-- a copy of the database opens no session. A session ends at expires_at
-- whatever its use, or earlier when idle past the server's idle limit.
-- client is a coarse description ("Firefox on Linux") for the list of
-- active sessions, never the raw User-Agent.
CREATE TABLE account_sessions (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    client       TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX account_sessions_account ON account_sessions (account_id);
CREATE INDEX account_sessions_expires ON account_sessions (expires_at);

-- Personal API tokens, shown once at creation; only their digest is kept.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ
);
CREATE INDEX api_tokens_account ON api_tokens (account_id);

-- Links sent by e-mail (verification, password reset, change of address).
-- The token itself is signed and carries its own expiry; the row makes it
-- single-use and lets a newer link or a password change void older ones.
-- new_email is the address being confirmed by a change-of-address link.
CREATE TABLE email_tokens (
    digest     TEXT PRIMARY KEY,
    purpose    TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    new_email  TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX email_tokens_account ON email_tokens (account_id, purpose);
CREATE INDEX email_tokens_expires ON email_tokens (expires_at);

-- One-time recovery codes for members with TOTP; only digests are kept.
CREATE TABLE recovery_codes (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    PRIMARY KEY (account_id, code_hash)
);

-- A sign-in whose password was right and whose second factor is still to
-- come. It is not a session: it opens nothing but the code form, and it
-- lapses within minutes.
CREATE TABLE signin_challenges (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX signin_challenges_expires ON signin_challenges (expires_at);

-- Failed sign-in counters, shared by every server instance. key is a keyed
-- digest of what is counted (a normalised e-mail address or an IP address),
-- never the value itself, and it is the same whether or not an account
-- exists.
CREATE TABLE auth_throttle (
    key          TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    window_start TIMESTAMPTZ NOT NULL,
    locked_until TIMESTAMPTZ
);
CREATE INDEX auth_throttle_window ON auth_throttle (window_start);
