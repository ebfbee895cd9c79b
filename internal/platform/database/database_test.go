package database_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
)

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	applied, err := db.Migrate(context.Background(), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 0 {
		t.Fatalf("second migrate applied %v, want nothing", applied)
	}
	schema, err := db.Schema(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"audit_log", "mail_outbox", "schema_migrations", "river_job"} {
		if len(schema[table]) == 0 {
			t.Errorf("table %s missing from the live schema", table)
		}
	}
}

func TestSentinelErrors(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
	insert := "INSERT INTO blobs (key, kind, content_type, size_bytes, sha256, created_at) VALUES (?, 'upload', 'text/plain', 1, 'x', ?)"
	if _, err := db.Exec(ctx, insert, "a", now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, insert, "a", now); !errors.Is(err, database.ErrDuplicate) {
		t.Fatalf("duplicate insert: got %v, want ErrDuplicate", err)
	}
	var got time.Time
	if err := db.QueryRow(ctx, "SELECT created_at FROM blobs WHERE key = ?", "a").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if !got.Equal(now) {
		t.Fatalf("time round trip: got %v, want %v", got, now)
	}
	if err := db.QueryRow(ctx, "SELECT created_at FROM blobs WHERE key = ?", "nope").Scan(&got); !errors.Is(err, database.ErrNotFound) {
		t.Fatalf("missing row: got %v, want ErrNotFound", err)
	}
	_, err := db.Exec(ctx, "INSERT INTO mail_outbox (id, created_at, category, template, to_address, subject, body_text, next_attempt_at) VALUES ('m', ?, 'spam', 't', 'a@b', 's', 'b', ?)", now, now)
	if !errors.Is(err, database.ErrConstraint) {
		t.Fatalf("check violation: got %v, want ErrConstraint", err)
	}
}

func TestInTxRollsBackOnError(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	ctx := context.Background()
	boom := errors.New("boom")
	err := db.InTx(ctx, func(tx *database.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO blobs (key, kind, content_type, size_bytes, sha256, created_at) VALUES ('r', 'upload', 'text/plain', 1, 'x', ?)", time.Now().UTC()); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	var n int
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM blobs").Scan(&n); err != nil || n != 0 {
		t.Fatalf("rows after rollback: %d (%v)", n, err)
	}
}
