-- Staff: the roles accounts hold on the staff console, the log of every
-- look staff took at a person's data, and the one-time links that create
-- the first administrator. Written in PostgreSQL's dialect; see migrate.go
-- for the rewrites applied on SQLite.

-- An account holds any number of staff roles. Who granted or revoked a
-- role is in the audit log, which keeps the history; a revoked role's row
-- is deleted.
CREATE TABLE staff_roles (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('support', 'privacy_officer', 'admin')),
    granted_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, role)
);
CREATE INDEX staff_roles_role ON staff_roles (role);

-- One row per look by staff at a person's data, written in the same
-- transaction as the read. The person sees their rows. staff_id and
-- person_id carry no foreign key on purpose: the log must outlive a staff
-- account that is closed, and it covers people addressed by mail who may
-- have no account.
CREATE TABLE staff_access_log (
    id         TEXT PRIMARY KEY,
    at         TIMESTAMPTZ NOT NULL,
    staff_id   TEXT NOT NULL,
    staff_role TEXT NOT NULL,
    person_id  TEXT NOT NULL,
    viewed     TEXT NOT NULL,
    reason     TEXT NOT NULL
);
CREATE INDEX staff_access_log_person ON staff_access_log (person_id, at);
CREATE INDEX staff_access_log_staff ON staff_access_log (staff_id);

-- Digests of the setup links printed at start while no administrator
-- exists. The token itself is signed and carries its expiry; the row makes
-- it single-use, and a newer link voids the older ones.
CREATE TABLE staff_setup_tokens (
    digest     TEXT PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
