package main

import (
	"context"
	"strings"
	"testing"
	"time"

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
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the binary")
	}
	ctx := context.Background()
	db, target := dbtest.OpenTarget(t)
	secret := "e2e-erasure-files-secret-of-at-least-32-bytes"
	now := time.Now().UTC()
	m := markerscan.New()
	// Enough rows to span many pages of the file, each page image of which
	// the write-ahead log may still hold.
	member := fillErasedMember(t, db, target, m, erasedSizes{places: 300, agendas: 500, files: 10, fileBody: " file body"})
	id, email, blobDir := member.id, member.email, member.blobDir

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
