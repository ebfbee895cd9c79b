-- Requests to the routes anyone may call, counted per client in windows
-- of the clock, shared by every server instance so that a limit holds
-- however many instances answer. key is a keyed digest of what is counted
-- (a client address), never the value itself. Rows whose window has ended
-- are deleted within minutes (ratelimit.prune); retention deletes any
-- left a day after their window began.
CREATE TABLE request_counts (
    name         TEXT NOT NULL,
    key          TEXT NOT NULL,
    window_start TIMESTAMPTZ NOT NULL,
    window_end   TIMESTAMPTZ NOT NULL,
    hits         INTEGER NOT NULL,
    PRIMARY KEY (name, key, window_start)
);
CREATE INDEX request_counts_window_end ON request_counts (window_end);
CREATE INDEX request_counts_window_start ON request_counts (window_start);
