-- Meetings ("sessions"): the meetings themselves with their recurrence,
-- the people taking part, the agenda and its reusable templates, and the
-- resources shared with the participants. Written in PostgreSQL's dialect;
-- see migrate.go for the rewrites applied on SQLite.

-- A meeting, or a series of them. starts_at is the UTC instant of the
-- first occurrence; time_zone is the IANA zone the host scheduled in, which
-- recurrence follows (a weekly 09:00 stays 09:00 across daylight saving).
-- rrule is an RFC 5545 RRULE value without the "RRULE:" prefix, NULL for a
-- single meeting; exdates is a JSON array of RFC 3339 UTC instants removed
-- from the series. host_id is cleared when the host's account is erased and
-- the meeting stays for the others. ical_sequence is the SEQUENCE of the
-- iCalendar invitations, raised on every change that is mailed.
CREATE TABLE meetings (
    id               TEXT PRIMARY KEY,
    org_id           TEXT REFERENCES organisations (id) ON DELETE CASCADE,
    host_id          TEXT REFERENCES accounts (id) ON DELETE SET NULL,
    title            TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    starts_at        TIMESTAMPTZ NOT NULL,
    time_zone        TEXT NOT NULL,
    duration_minutes INTEGER NOT NULL,
    rrule            TEXT,
    exdates          TEXT,
    follows_id       TEXT REFERENCES meetings (id) ON DELETE SET NULL,
    state            TEXT NOT NULL CHECK (state IN ('scheduled', 'cancelled')),
    locked           BOOLEAN NOT NULL DEFAULT FALSE,
    passcode_hash    TEXT,
    lobby            BOOLEAN NOT NULL DEFAULT TRUE,
    ical_sequence    INTEGER NOT NULL DEFAULT 0,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    cancelled_at     TIMESTAMPTZ
);
CREATE INDEX meetings_host ON meetings (host_id, starts_at);
CREATE INDEX meetings_org ON meetings (org_id, starts_at);
CREATE INDEX meetings_follows ON meetings (follows_id);

-- Everyone who takes part in a meeting: the host (a row made with the
-- meeting), members and guests invited by address. account_id is NULL for
-- guests; email is the address invited; name is what a guest calls
-- themselves when they join. invite_digest is the one-way digest of the
-- personal link's token, so the link cannot be rebuilt from the row.
CREATE TABLE meeting_participants (
    id                TEXT PRIMARY KEY,
    meeting_id        TEXT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    account_id        TEXT REFERENCES accounts (id) ON DELETE CASCADE,
    email             TEXT,
    name              TEXT,
    role              TEXT NOT NULL CHECK (role IN ('host', 'co-host', 'participant')),
    invite_digest     TEXT UNIQUE,
    invite_expires_at TIMESTAMPTZ,
    lobby_state       TEXT CHECK (lobby_state IN ('waiting', 'admitted', 'denied')),
    lobby_at          TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL,
    UNIQUE (meeting_id, account_id)
);
CREATE INDEX meeting_participants_account ON meeting_participants (account_id);
CREATE INDEX meeting_participants_email ON meeting_participants (email);

-- The agenda of a meeting, in position order. owner_participant_id is who
-- leads the item; created_by is cleared when its author's account is
-- erased, and the item stays with the meeting.
CREATE TABLE agenda_items (
    id                   TEXT PRIMARY KEY,
    meeting_id           TEXT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    position             INTEGER NOT NULL,
    title                TEXT NOT NULL,
    planned_minutes      INTEGER NOT NULL DEFAULT 0,
    notes                TEXT NOT NULL DEFAULT '',
    owner_participant_id TEXT REFERENCES meeting_participants (id) ON DELETE SET NULL,
    created_by           TEXT REFERENCES accounts (id) ON DELETE SET NULL,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL
);
CREATE INDEX agenda_items_meeting ON agenda_items (meeting_id, position);
CREATE INDEX agenda_items_created_by ON agenda_items (created_by);

-- Agendas saved for reuse by a member, optionally shared with their
-- organisation. items is a JSON array of {title, planned_minutes, notes}.
CREATE TABLE agenda_templates (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    org_id     TEXT REFERENCES organisations (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    items      TEXT NOT NULL DEFAULT '[]',
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX agenda_templates_account ON agenda_templates (account_id);
CREATE INDEX agenda_templates_org ON agenda_templates (org_id);

-- Files and links shared with a meeting's participants. A file's bytes are
-- in blob storage under blob_key; its blobs row names no person, because
-- the file belongs to the meeting. A link is only recognised (provider),
-- never fetched. added_by is cleared when its author's account is erased.
CREATE TABLE meeting_resources (
    id           TEXT PRIMARY KEY,
    meeting_id   TEXT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    added_by     TEXT REFERENCES accounts (id) ON DELETE SET NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('file', 'link')),
    title        TEXT NOT NULL,
    url          TEXT,
    provider     TEXT CHECK (provider IN ('google-drive', 'miro', 'onedrive', 'web')),
    blob_key     TEXT REFERENCES blobs (key) ON DELETE SET NULL,
    content_type TEXT,
    size_bytes   BIGINT,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX meeting_resources_meeting ON meeting_resources (meeting_id, created_at);
CREATE INDEX meeting_resources_added_by ON meeting_resources (added_by);

-- Files sent with a message, such as the iCalendar invitation of a
-- meeting: a JSON array of {filename, content_type, data (base64)}.
ALTER TABLE mail_outbox ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]';
