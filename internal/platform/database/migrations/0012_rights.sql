-- Data-subject rights: erasure runs, which the erasure engine works
-- through step by step and resumes after a crash, and exports, which are
-- built in the background into a ZIP file in blob storage. Written in
-- PostgreSQL's dialect; see migrate.go for the rewrites applied on SQLite.

-- One erasure of one person. person is the JSON of who is being erased
-- (account id, addresses, participant ids), needed to resume once the
-- account row is gone; it is cleared when the run is done, and what stays
-- is the proof: person_ref (the audit log's keyed pseudonym), the reason,
-- the request it carried out and when. step is the table being worked on.
-- notice_mail is the outbox message telling the person the erasure is
-- done; it is removed from the outbox once delivered, since it repeats
-- their address. lease_until is how long the worker on the run holds it;
-- a run whose lease has lapsed (its process died) is taken up again.
-- At most one unfinished run per person.
CREATE TABLE erasure_runs (
    id          TEXT PRIMARY KEY,
    person_ref  TEXT NOT NULL,
    person      TEXT,
    reason      TEXT NOT NULL CHECK (reason IN ('request', 'inactive', 'deactivated', 'guest-expired')),
    request_id  TEXT,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'working', 'held', 'done')),
    step        TEXT NOT NULL DEFAULT '',
    rows_done   BIGINT NOT NULL DEFAULT 0,
    files_done  BIGINT NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    notice_mail TEXT,
    lease_until TIMESTAMPTZ
);
CREATE UNIQUE INDEX erasure_runs_open ON erasure_runs (person_ref) WHERE state <> 'done';
CREATE INDEX erasure_runs_state ON erasure_runs (state, updated_at);

-- Files a run has still to delete from blob storage. A key is written in
-- the same transaction that removes the row pointing at the file, and
-- deleted once the file is gone, so a crash in between loses no file.
CREATE TABLE erasure_run_files (
    run_id     TEXT NOT NULL REFERENCES erasure_runs (id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (run_id, key)
);

-- A copy of a member's data being built, or ready to download until
-- expires_at. rows_done of rows_total is the progress the privacy centre
-- shows. The ZIP file is the blob under blob_key, which belongs to the
-- member and goes with them.
CREATE TABLE export_jobs (
    id          TEXT PRIMARY KEY,
    person_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('access', 'portability')),
    state       TEXT NOT NULL CHECK (state IN ('queued', 'working', 'ready', 'failed', 'expired')),
    rows_done   BIGINT NOT NULL DEFAULT 0,
    rows_total  BIGINT NOT NULL DEFAULT 0,
    blob_key    TEXT,
    size_bytes  BIGINT NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    expires_at  TIMESTAMPTZ
);
CREATE INDEX export_jobs_person ON export_jobs (person_id, created_at);
CREATE INDEX export_jobs_state ON export_jobs (state, expires_at);
