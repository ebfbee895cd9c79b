-- Audit anchors: what retention keeps when it removes the oldest entries
-- of the audit log. Written in PostgreSQL's dialect; see migrate.go for
-- the rewrites applied on SQLite.

-- seq and hash name the last entry removed; verification then starts from
-- them instead of the genesis hash, and entry seq + 1 must link to hash.
-- mac seals the row with a key derived from the server's secret, which the
-- database does not hold, so a row written by hand does not verify.
-- run_id is the retention run that pruned (no foreign key: a run is kept
-- in retention_runs only when recorded). Only the newest row is needed;
-- each prune replaces the ones before it. No personal data.
CREATE TABLE audit_anchors (
    seq       BIGINT PRIMARY KEY,
    hash      TEXT NOT NULL,
    pruned_at TIMESTAMPTZ NOT NULL,
    run_id    TEXT NOT NULL,
    mac       TEXT NOT NULL
);
