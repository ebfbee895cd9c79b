-- The consent ledger and the restriction of processing. Written in
-- PostgreSQL's dialect; see migrate.go for the rewrites applied on SQLite.

-- One row per choice a member or visitor made, in the shape of an
-- ISO/IEC TS 27560 consent record. Rows are only ever inserted: a change
-- of mind is a new row, so the table is the history and the evidence.
-- seq orders records made in the same instant (a Global Privacy Control
-- refusal and the explicit opt-in that follows it). subject_id is an
-- account id for members and the random id of the consent cookie for
-- visitors, without a foreign key: the evidence outlives the account for
-- its retention period, as the law on proving consent asks. purposes is a
-- JSON array of data map purpose ids. ip is truncated (IPv4 /24, IPv6 /48)
-- before it arrives here; user_agent is refused above 256 bytes, never
-- cut. linked_from is the visitor record a member record carries over at
-- sign-in.
CREATE TABLE consent_records (
    seq            BIGSERIAL PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    subject_kind   TEXT NOT NULL CHECK (subject_kind IN ('member', 'visitor')),
    subject_id     TEXT NOT NULL,
    notice_id      TEXT NOT NULL,
    notice_version TEXT NOT NULL,
    notice_hash    TEXT NOT NULL,
    purposes       TEXT NOT NULL,
    legal_basis    TEXT NOT NULL,
    method         TEXT NOT NULL CHECK (method IN ('banner', 'settings', 'gpc', 'api', 'guardian')),
    at             TIMESTAMPTZ NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('given', 'refused', 'withdrawn', 'expired')),
    ip             TEXT,
    user_agent     TEXT CHECK (length(user_agent) <= 256),
    gpc            BOOLEAN NOT NULL DEFAULT FALSE,
    linked_from    TEXT
);
CREATE INDEX consent_records_subject ON consent_records (subject_kind, subject_id, seq);
CREATE INDEX consent_records_linked ON consent_records (linked_from);

-- People who asked us to restrict the processing of their data (Art. 18
-- GDPR). While a row exists only storage and what the service and the
-- law cannot do without go on; the purpose gate refuses the rest. Lifting
-- the restriction deletes the row; the audit log keeps who set and lifted
-- it and when. person_id has no foreign key so that the rights workflow
-- can restrict the data of people without an account.
CREATE TABLE person_restrictions (
    person_id     TEXT PRIMARY KEY,
    restricted_at TIMESTAMPTZ NOT NULL
);
