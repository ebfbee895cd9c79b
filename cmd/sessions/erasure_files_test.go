package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/platform/blob"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/platform/mail/mailtest"
	"github.com/sessionshq/sessions/internal/privacy/rights"
	"github.com/sessionshq/sessions/internal/privacy/rights/markerscan"
	"github.com/sessionshq/sessions/internal/store"
)

// TestBinaryErasureLeavesNoMarkerInTheRunningFiles erases a member with
// rows in several tables and stored files while the real binary runs,
// and reads the database as a copy of the data folder would hold it, the
// server still running, the moment the erasure reports done: on SQLite
// the file, its write-ahead log and the log's index, as they are on
// disk. No marker of the member is there, but for the address on the
// message saying the erasure is done; once that message is delivered and
// swept, not even that.
func TestBinaryErasureLeavesNoMarkerInTheRunningFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	ctx := context.Background()
	db, target := dbtest.OpenTarget(t)
	secret := "e2e-erasure-files-secret-of-at-least-32-bytes"
	now := time.Now().UTC()
	m := markerscan.New()

	id := account.NewID()
	email := m.Email("accounts", "email")
	m.Keep(id, "accounts", "id")
	if err := store.CreateAccount(ctx, db, account.Account{ID: id, Email: email, PasswordHash: m.Mk("accounts", "password_hash"),
		PasswordChangedAt: now, Name: m.Mk("accounts", "name"), Status: account.Active, CreatedAt: now, UpdatedAt: now, LastActiveAt: now}); err != nil {
		t.Fatal(err)
	}
	other := account.NewID()
	if err := store.CreateAccount(ctx, db, account.Account{ID: other, Email: "host@example.com", PasswordHash: "x",
		PasswordChangedAt: now, Name: "Host", Status: account.Active, CreatedAt: now, UpdatedAt: now, LastActiveAt: now}); err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	series := `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) SELECT i FROM n`
	if db.Dialect() == database.Postgres {
		series = `SELECT i FROM generate_series(1, ?::int) AS i`
	}
	exec(`INSERT INTO profiles (account_id, phone, city, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
		id, m.Mk("profiles", "phone"), m.Mk("profiles", "city"), now, now)
	exec(`INSERT INTO meetings (id, host_id, title, starts_at, time_zone, duration_minutes, state, created_at, updated_at)
		VALUES (?, ?, 'Weekly', ?, 'UTC', 30, 'scheduled', ?, ?)`, "mtg_files", other, now, now, now)
	// Enough rows to span many pages of the file, each page image of which
	// the write-ahead log may still hold.
	exec(`INSERT INTO meeting_participants (id, meeting_id, email, name, role, created_at)
		SELECT 'par_files_' || CAST(i AS TEXT), ?, ?, ? || CAST(i AS TEXT), 'participant', ? FROM (`+series+`) AS s`,
		"mtg_files", email, m.Mk("meeting_participants", "name")+"-", now, 300)
	exec(`INSERT INTO agenda_templates (id, account_id, name, items, created_at)
		SELECT 'agt_files_' || CAST(i AS TEXT), ?, ? || CAST(i AS TEXT), '[]', ? FROM (`+series+`) AS s`,
		id, m.Mk("agenda_templates", "name")+"-", now, 500)
	blobDir := filepath.Join(target.DataDir, "blobs")
	blobs, err := blob.New(ctx, blob.Config{Dir: blobDir, Index: store.NewBlobIndex(db), Clock: clock.System{}})
	if err != nil {
		t.Fatal(err)
	}
	content := m.Mk("blobs", "content")
	for range 10 {
		if _, err := blobs.Put(ctx, blob.PutInput{PersonID: id, Kind: "upload", ContentType: "text/plain"},
			strings.NewReader(content+" file body")); err != nil {
			t.Fatal(err)
		}
	}
	blobs.Close()

	runID, err := store.StartErasure(ctx, db, []byte(secret), rights.Person{AccountID: id}, rights.ReasonRequest, now)
	if err != nil {
		t.Fatal(err)
	}
	smtp := mailtest.Start(t)
	s := startBinary(t, append(target.Env(), "SESSIONS_SECRET_KEY="+secret, "SESSIONS_ERASURE_LEASE=2s",
		"SESSIONS_SMTP_ADDR="+smtp.Addr, "SESSIONS_SMTP_TLS=none")...)

	waitRun(t, db, runID, 2*time.Minute, func(r rights.Run) bool { return r.State == rights.RunDone })
	// The copy of the files is read straight away, while the server runs;
	// ScanLive makes no checkpoint of its own.
	if leaks := m.Except(email).Leaks(markerscan.ScanLive(t, db, blobDir)); len(leaks) > 0 {
		t.Errorf("when the erasure reported done, the running server's files held %v", leaks)
	}

	if msg := smtp.Next(t); !strings.Contains(msg.Header.Get("To"), email) {
		t.Fatalf("the erasure notice went to %q", msg.Header.Get("To"))
	}
	// The sweep after the delivery deletes the message and then truncates
	// the log; the files are read until both are done.
	deadline := time.Now().Add(time.Minute)
	for {
		leaks := m.Leaks(markerscan.ScanLive(t, db, blobDir))
		if len(leaks) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a minute after the notice was delivered, the running server's files held %v", leaks)
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.stop(t)
}
