package store

import (
	"context"
	"time"

	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/ratelimit"
)

// RequestCounts implements ratelimit.Counter on the database, so that
// every server instance counts in the same rows.
type RequestCounts struct{ db *database.DB }

// NewRequestCounts returns the request counts on db.
func NewRequestCounts(db *database.DB) *RequestCounts { return &RequestCounts{db: db} }

var _ ratelimit.Counter = (*RequestCounts)(nil)

// Hit adds one to the count in one statement, outside any transaction:
// the row's lock (PostgreSQL) or the write lock (SQLite) orders
// concurrent hits, and each returns its own count.
//
// On PostgreSQL the statement commits without waiting for its WAL to
// reach the disk (synchronous_commit off for this transaction alone,
// set in the statement itself, so still one round trip). That wait was
// most of a hit's cost, several milliseconds per request on a busy
// server, and what a crash could lose is the last fraction of a second of
// counts: a few more requests admitted once. SQLite in WAL mode with
// synchronous=NORMAL already commits without that wait.
func (c *RequestCounts) Hit(ctx context.Context, name, key string, start, end time.Time) (int, error) {
	values := `VALUES (?, ?, ?, ?, 1)`
	if c.db.Dialect() == database.Postgres {
		values = `SELECT ?, ?, ?, ?, 1 FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit`
	}
	var n int
	err := c.db.QueryRow(ctx, `INSERT INTO request_counts (name, key, window_start, window_end, hits) `+values+`
		ON CONFLICT (name, key, window_start) DO UPDATE SET hits = request_counts.hits + 1
		RETURNING hits`, name, key, start.UTC(), end.UTC()).Scan(&n)
	return n, err
}

// PruneRequestCounts deletes the counts whose window has ended by now,
// and returns how many.
func PruneRequestCounts(ctx context.Context, q database.Querier, now time.Time) (int64, error) {
	res, err := q.Exec(ctx, `DELETE FROM request_counts WHERE window_end <= ?`, now.UTC())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
