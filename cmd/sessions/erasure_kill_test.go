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

// TestBinaryErasureSurvivesSIGKILL records an erasure of a member with
// thousands of rows across tables and hundreds of files, starts the real
// binary, kills it with SIGKILL while the run shows progress, starts it
// again on the same database and folder, and waits for the run to
// finish. Then no marker of the member is left in the raw database or
// the blob folder, except where the data map keeps it by law.
func TestBinaryErasureSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the binary twice")
	}
	ctx := context.Background()
	db, target := dbtest.OpenTarget(t)
	secret := "e2e-erasure-secret-of-at-least-32-bytes"
	now := time.Now().UTC()
	m := markerscan.New()
	// Thousands of places in meetings, found by the member's address,
	// thousands of saved agendas, and hundreds of files.
	member := fillErasedMember(t, db, target, m, erasedSizes{places: 4000, agendas: 6000, files: 300, fileBody: strings.Repeat(" file body", 400)})
	id, email, other, blobDir := member.id, member.email, member.other, member.blobDir

	// The run is recorded before any process works on it: the durable
	// queue the binary takes up when it starts.
	runID, err := store.StartErasure(ctx, db, []byte(secret), rights.Person{AccountID: id}, rights.ReasonRequest, now)
	if err != nil {
		t.Fatal(err)
	}
	smtp := mailtest.Start(t)
	env := append(target.Env(), "SESSIONS_SECRET_KEY="+secret, "SESSIONS_ERASURE_LEASE=2s",
		"SESSIONS_SMTP_ADDR="+smtp.Addr, "SESSIONS_SMTP_TLS=none")
	s := startBinary(t, env...)

	run := waitRun(t, db, runID, 2*time.Minute, func(r rights.Run) bool {
		return r.State == rights.RunDone || (r.State == rights.RunWorking && r.RowsDone > 0)
	})
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-s.done
	killed, err := store.ErasureRun(ctx, db, runID)
	if err != nil {
		t.Fatal(err)
	}
	if run.State == rights.RunDone || killed.State == rights.RunDone {
		t.Fatalf("the erasure finished before the process could be killed (%+v); give the member more rows", killed)
	}
	var left int
	if err := db.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM agenda_templates WHERE account_id = ?) + (SELECT COUNT(*) FROM blobs WHERE person_id = ?)`,
		id, id).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left == 0 {
		t.Fatalf("nothing was left to erase when the process was killed (%+v)", killed)
	}
	t.Logf("killed at step %q with %d rows and %d files done, %d rows or files left", killed.Step, killed.RowsDone, killed.FilesDone, left)

	s = startBinary(t, env...)
	waitRun(t, db, runID, 2*time.Minute, func(r rights.Run) bool { return r.State == rights.RunDone })
	// The last message to the member arrives, and leaves the outbox, since
	// it repeats the address erased, at the next sweep.
	if msg := smtp.Next(t); !strings.Contains(msg.Header.Get("To"), email) {
		t.Fatalf("the erasure notice went to %q", msg.Header.Get("To"))
	}
	deadline := time.Now().Add(time.Minute)
	for {
		var queued int
		if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM erasure_runs WHERE id = ? AND notice_mail IS NOT NULL`, runID).Scan(&queued); err != nil {
			t.Fatal(err)
		}
		if queued == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the delivered erasure notice stayed in the outbox")
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.stop(t)

	done, err := store.ErasureRun(ctx, db, runID)
	if err != nil {
		t.Fatal(err)
	}
	if done.Person.AccountID != "" || done.RowsDone < 10000 || done.FilesDone < 300 {
		t.Errorf("finished run = %+v", done)
	}
	if leaks := m.Leaks(markerscan.ScanRaw(t, db, blobDir)); len(leaks) > 0 {
		t.Errorf("markers survived the erasure in %v", leaks)
	}
	var others int
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM accounts WHERE id = ?`, other).Scan(&others); err != nil || others != 1 {
		t.Errorf("the other member is gone: %d %v", others, err)
	}
}

// erasedSizes are how many rows and files fillErasedMember writes.
type erasedSizes struct {
	places, agendas, files int
	// fileBody follows the marker in every file.
	fileBody string
}

// erasedMember is a member written for an erasure test.
type erasedMember struct {
	id, email string
	// other is the member who hosts the meeting the member has places in.
	other   string
	blobDir string
}

// fillErasedMember writes, with a marker in every value of theirs, a
// member with an account and a profile, places in a meeting of another
// member found by their address, saved agendas, and stored files in the
// target's blob folder.
func fillErasedMember(t *testing.T, db *database.DB, target dbtest.Target, m *markerscan.Markers, n erasedSizes) erasedMember {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	e := erasedMember{id: account.NewID(), email: m.Email("accounts", "email"), other: account.NewID(), blobDir: filepath.Join(target.DataDir, "blobs")}
	m.Keep(e.id, "accounts", "id")
	if err := store.CreateAccount(ctx, db, account.Account{ID: e.id, Email: e.email, PasswordHash: m.Mk("accounts", "password_hash"),
		PasswordChangedAt: now, Name: m.Mk("accounts", "name"), Status: account.Active, CreatedAt: now, UpdatedAt: now, LastActiveAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateAccount(ctx, db, account.Account{ID: e.other, Email: "host@example.com", PasswordHash: "x",
		PasswordChangedAt: now, Name: "Host", Status: account.Active, CreatedAt: now, UpdatedAt: now, LastActiveAt: now}); err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// series selects the numbers 1 to ? as column i.
	series := `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) SELECT i FROM n`
	if db.Dialect() == database.Postgres {
		series = `SELECT i FROM generate_series(1, ?::int) AS i`
	}
	exec(`INSERT INTO profiles (account_id, phone, city, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
		e.id, m.Mk("profiles", "phone"), m.Mk("profiles", "city"), now, now)
	// Ids of the rows carry a tag of their own, not the member's id, which
	// would count as a marker wherever the meeting stays.
	tag := strings.TrimPrefix(account.NewID(), "acc_")
	meeting := "mtg_" + tag
	exec(`INSERT INTO meetings (id, host_id, title, starts_at, time_zone, duration_minutes, state, created_at, updated_at)
		VALUES (?, ?, 'Weekly', ?, 'UTC', 30, 'scheduled', ?, ?)`, meeting, e.other, now, now, now)
	exec(`INSERT INTO meeting_participants (id, meeting_id, email, name, role, created_at)
		SELECT 'par_' || ? || '_' || CAST(i AS TEXT), ?, ?, ? || CAST(i AS TEXT), 'participant', ? FROM (`+series+`) AS s`,
		tag, meeting, e.email, m.Mk("meeting_participants", "name")+"-", now, n.places)
	exec(`INSERT INTO agenda_templates (id, account_id, name, items, created_at)
		SELECT 'agt_' || ? || '_' || CAST(i AS TEXT), ?, ? || CAST(i AS TEXT), '[]', ? FROM (`+series+`) AS s`,
		tag, e.id, m.Mk("agenda_templates", "name")+"-", now, n.agendas)
	blobs, err := blob.New(ctx, blob.Config{Dir: e.blobDir, Index: store.NewBlobIndex(db), Clock: clock.System{}})
	if err != nil {
		t.Fatal(err)
	}
	defer blobs.Close()
	content := m.Mk("blobs", "content")
	for range n.files {
		if _, err := blobs.Put(ctx, blob.PutInput{PersonID: e.id, Kind: "upload", ContentType: "text/plain"},
			strings.NewReader(content+n.fileBody)); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// waitRun polls the run until ok holds or the deadline passes.
func waitRun(t *testing.T, db *database.DB, runID string, within time.Duration, ok func(rights.Run) bool) rights.Run {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		r, err := store.ErasureRun(context.Background(), db, runID)
		if err != nil {
			t.Fatal(err)
		}
		if ok(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("erasure run did not get there within %s: %+v", within, r)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
