package database

import (
	"context"
	"errors"
	"time"
)

// ErrCheckpointBusy reports that the write-ahead log could not be emptied
// because other connections kept using it for every attempt.
var ErrCheckpointBusy = errors.New("the SQLite write-ahead log is still in use; its old page images remain")

// checkpointTries bounds the attempts of Checkpoint. Each attempt already
// waits up to busy_timeout (10 s) for writers and readers to let go.
const checkpointTries = 3

// checkpointPause is the wait between two attempts, so that a writer
// queued behind the checkpoint can commit and let go.
const checkpointPause = 100 * time.Millisecond

// Checkpoint makes SQLite copy every page of the write-ahead log into the
// database file and then truncate the log to zero bytes, so that the
// file and the log hold only the latest image of each page. Old page
// images, in which rows deleted since the last checkpoint may still be
// read, are gone from both when it returns nil. Other connections go on
// working: writers wait for the checkpoint (busy_timeout), and the
// checkpoint waits for readers of an older snapshot to finish. When they
// keep the log in use for every one of a few attempts, it returns
// ErrCheckpointBusy and the log may still hold old images.
//
// On PostgreSQL it does nothing: its own write-ahead log and free space
// are not within reach of one connection (see the README).
func (db *DB) Checkpoint(ctx context.Context) error {
	if db.dialect != SQLite {
		return nil
	}
	for try := 1; ; try++ {
		// busy is 1 when the checkpoint could not finish (a writer or a
		// reader of an older snapshot held on past busy_timeout); log and
		// done count the frames left in the log and copied, both 0 once
		// TRUNCATE has emptied it.
		var busy, log, done int
		if err := db.sql.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &log, &done); err != nil {
			return translate(err)
		}
		if busy == 0 {
			return nil
		}
		if try == checkpointTries {
			return ErrCheckpointBusy
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(checkpointPause):
		}
	}
}
