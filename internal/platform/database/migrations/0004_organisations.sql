-- Organisations (workspaces): their members and roles, invitations by
-- e-mail and the acceptances of the Data Processing Addendum. Written in
-- PostgreSQL's dialect; see migrate.go for the rewrites applied on SQLite.

-- A customer workspace. colour is '' or #rrggbb in lower case. logo_key
-- names the logo in the blob index; the blob row goes when the logo is
-- replaced or removed, and the reference with it.
CREATE TABLE organisations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    colour     TEXT NOT NULL DEFAULT '',
    logo_key   TEXT REFERENCES blobs (key) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- Who belongs to which organisation, in which role. The rules of who may
-- change what, and that an organisation keeps at least one owner, are in
-- internal/org; every change first locks the organisation's row so that
-- two concurrent changes cannot both remove "the other" owner.
CREATE TABLE memberships (
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'guest')),
    joined_at       TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (organisation_id, account_id)
);
CREATE INDEX memberships_account ON memberships (account_id);

-- Invitations by e-mail. The link carries a signed token naming the
-- invitation; only its digest is kept, which makes the link single-use.
-- email is normalised (trimmed, lower-case); at most one invitation per
-- address and organisation waits for an answer, and inviting again
-- replaces it. closes_at is when the invitation stopped (or will stop)
-- being usable: its expiry, or the moment it was accepted. Retention
-- deletes the row 30 days after it.
CREATE TABLE organisation_invitations (
    id              TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    email           TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'guest')),
    invited_by      TEXT REFERENCES accounts (id) ON DELETE SET NULL,
    token_digest    TEXT NOT NULL UNIQUE,
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    accepted_at     TIMESTAMPTZ,
    accepted_by     TEXT REFERENCES accounts (id) ON DELETE SET NULL,
    closes_at       TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX organisation_invitations_open ON organisation_invitations (organisation_id, email) WHERE accepted_at IS NULL;
CREATE INDEX organisation_invitations_closes ON organisation_invitations (closes_at);

-- Every acceptance of the Data Processing Addendum, append-only: a newer
-- version is a new row, and the latest row is the one in force.
-- accepted_by is cleared if the owner who accepted is erased; the
-- acceptance stays the organisation's.
CREATE TABLE dpa_acceptances (
    id              TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    version         TEXT NOT NULL,
    accepted_by     TEXT REFERENCES accounts (id) ON DELETE SET NULL,
    accepted_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX dpa_acceptances_organisation ON dpa_acceptances (organisation_id, accepted_at);
