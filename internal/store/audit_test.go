package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/store"
)

var auditTestSecret = []byte("audit-test-secret-0123456789abcdef")

// auditTestClock starts at a time with microseconds, so that every test
// also proves the time survives the database round trip into the hash.
func auditTestClock() *clock.Fake {
	return clock.NewFake(time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.UTC))
}

func auditTestEntry(clk *clock.Fake, i int) audit.Entry {
	clk.Advance(time.Second + 1234*time.Nanosecond)
	return audit.Entry{
		At:      clk.Now(),
		Actor:   audit.Party{Kind: "staff", ID: "stf_1"},
		Action:  "profile.read",
		Subject: audit.Party{Kind: "member", ID: fmt.Sprintf("mbr_%d", i%3)},
		Purpose: "support",
		Detail:  map[string]string{"n": fmt.Sprint(i), "fields": "email"},
	}
}

// auditTestLog appends n entries, each in its own transaction.
func auditTestLog(t *testing.T, db *database.DB, n int) {
	t.Helper()
	clk := auditTestClock()
	for i := range n {
		if err := store.AppendAudit(context.Background(), db, auditTestSecret, auditTestEntry(clk, i)); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
}

func auditVerify(t *testing.T, db *database.DB, anchor *audit.Checkpoint) audit.Result {
	t.Helper()
	res, err := store.VerifyAudit(context.Background(), db, auditTestSecret, anchor)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestAuditAppendVerifyIntact(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	if res := auditVerify(t, db, nil); !res.Intact || res.Entries != 0 || res.Head != audit.Genesis() {
		t.Fatalf("empty log: %+v", res)
	}
	auditTestLog(t, db, 4)
	// One more inside a caller's transaction, next to the change it records.
	clk := auditTestClock()
	clk.Advance(time.Hour)
	err := db.InTx(ctx, func(tx *database.Tx) error {
		return store.AppendAudit(ctx, tx, auditTestSecret, auditTestEntry(clk, 9))
	})
	if err != nil {
		t.Fatal(err)
	}
	res := auditVerify(t, db, nil)
	head, err := store.AuditHead(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Intact || res.Entries != 5 || res.Head != head || head.Seq != 5 {
		t.Fatalf("result %+v, head %v", res, head)
	}
	// The head, published, anchors the next check.
	if res := auditVerify(t, db, &head); !res.Intact {
		t.Fatalf("anchored at the head: %+v", res)
	}
}

// A rolled-back transaction must leave no trace in the chain: neither an
// entry nor a gap in the sequence that would read as a deletion.
func TestAuditRollbackLeavesNoGap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	clk := auditTestClock()
	if err := store.AppendAudit(ctx, db, auditTestSecret, auditTestEntry(clk, 0)); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("the change failed")
	err := db.InTx(ctx, func(tx *database.Tx) error {
		if err := store.AppendAudit(ctx, tx, auditTestSecret, auditTestEntry(clk, 1)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if err := store.AppendAudit(ctx, db, auditTestSecret, auditTestEntry(clk, 2)); err != nil {
		t.Fatal(err)
	}
	if res := auditVerify(t, db, nil); !res.Intact || res.Entries != 2 || res.Head.Seq != 2 {
		t.Fatalf("%+v", res)
	}
}

func TestAuditRefusesBadEntry(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	e := auditTestEntry(auditTestClock(), 0)
	e.Detail = map[string]string{"Free Text": "x"}
	if err := store.AppendAudit(context.Background(), db, auditTestSecret, e); err == nil {
		t.Fatal("appended an entry with a bad detail key")
	}
	if res := auditVerify(t, db, nil); res.Entries != 0 {
		t.Fatalf("%+v", res)
	}
}

// Each case tampers with a log of five entries the way someone with write
// access to the database could, and checks verification names the entry.
func TestAuditVerifyNamesTampering(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		sql    string
		args   []any
		anchor bool // verify against the head published before tampering
		seq    int64
		reason audit.Reason
	}{
		{name: "action edited", sql: "UPDATE audit_log SET action = 'profile.update' WHERE seq = 3", seq: 3, reason: audit.ReasonEdited},
		{name: "detail edited", sql: `UPDATE audit_log SET detail = '{"fields":"email","n":"99"}' WHERE seq = 2`, seq: 2, reason: audit.ReasonEdited},
		{name: "time edited", sql: "UPDATE audit_log SET at = ? WHERE seq = 4", args: []any{time.Date(2025, 6, 1, 11, 0, 0, 0, time.UTC)}, seq: 4, reason: audit.ReasonEdited},
		{name: "purpose edited", sql: "UPDATE audit_log SET purpose = 'marketing' WHERE seq = 1", seq: 1, reason: audit.ReasonEdited},
		{name: "subject pseudonym edited", sql: "UPDATE audit_log SET subject_ref = (SELECT subject_ref FROM audit_log WHERE seq = 2) WHERE seq = 1", seq: 1, reason: audit.ReasonEdited},
		{name: "subject id swapped", sql: "UPDATE audit_log SET subject_id = 'mbr_7' WHERE seq = 5", seq: 5, reason: audit.ReasonPseudonym},
		{name: "middle deleted", sql: "DELETE FROM audit_log WHERE seq = 3", seq: 4, reason: audit.ReasonMissing},
		{name: "first deleted", sql: "DELETE FROM audit_log WHERE seq = 1", seq: 2, reason: audit.ReasonMissing},
		{name: "middle deleted and the rest renumbered", // Through negative numbers, so that no step collides with the key.
			sql: "DELETE FROM audit_log WHERE seq = 2; UPDATE audit_log SET seq = -seq WHERE seq > 2; UPDATE audit_log SET seq = -seq - 1 WHERE seq < 0",
			seq: 2, reason: audit.ReasonUnlinked},
		{name: "last deleted, anchored", sql: "DELETE FROM audit_log WHERE seq = 5", anchor: true, seq: 5, reason: audit.ReasonTruncated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			db := dbtest.Open(t)
			auditTestLog(t, db, 5)
			head, err := store.AuditHead(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(ctx, c.sql, c.args...); err != nil {
				t.Fatal(err)
			}
			var anchor *audit.Checkpoint
			if c.anchor {
				anchor = &head
			}
			res := auditVerify(t, db, anchor)
			if res.Intact || res.FirstBroken == nil {
				t.Fatalf("tampering not noticed: %+v", res)
			}
			if b := res.FirstBroken; b.Seq != c.seq || b.Reason != c.reason {
				t.Errorf("first broken = %+v, want seq %d, %s", *b, c.seq, c.reason)
			}
		})
	}
}

// Removing the newest entries leaves a shorter chain that is valid in
// itself; only an anchor published elsewhere reveals it.
func TestAuditTailCutNeedsAnchor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	auditTestLog(t, db, 5)
	if _, err := db.Exec(ctx, "DELETE FROM audit_log WHERE seq >= 4"); err != nil {
		t.Fatal(err)
	}
	if res := auditVerify(t, db, nil); !res.Intact || res.Entries != 3 {
		t.Fatalf("without an anchor: %+v", res)
	}
}

func TestAuditClearPersonKeepsChain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	auditTestLog(t, db, 6) // subjects mbr_0, mbr_1, mbr_2, mbr_0, mbr_1, mbr_2
	before, err := store.AuditForSubject(ctx, db, "mbr_1", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != 2 || before[0].Seq != 5 || before[1].Seq != 2 {
		t.Fatalf("entries about mbr_1: %+v", before)
	}
	n, err := store.ClearAuditPerson(ctx, db, "mbr_1")
	if err != nil || n != 2 {
		t.Fatalf("cleared %d, %v", n, err)
	}
	// The staff member is the actor everywhere; clearing them too.
	if n, err := store.ClearAuditPerson(ctx, db, "stf_1"); err != nil || n != 6 {
		t.Fatalf("cleared %d, %v", n, err)
	}
	if res := auditVerify(t, db, nil); !res.Intact || res.Entries != 6 {
		t.Fatalf("chain broken by erasure: %+v", res)
	}
	after, err := store.AuditForSubject(ctx, db, "mbr_1", 0, 100)
	if err != nil || len(after) != 0 {
		t.Fatalf("still found by id: %+v, %v", after, err)
	}
	all, err := store.RecentAudit(ctx, db, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range all {
		if r.ActorID != "" {
			t.Errorf("seq %d keeps actor id %q", r.Seq, r.ActorID)
		}
		erased := r.Seq == 2 || r.Seq == 5
		if erased != (r.SubjectID == "") {
			t.Errorf("seq %d subject id %q", r.Seq, r.SubjectID)
		}
	}
	// The erased person's entries stay linked to each other by pseudonym.
	if all[1].SubjectRef != all[4].SubjectRef || all[1].SubjectRef == all[0].SubjectRef {
		t.Error("pseudonyms do not link the erased person's entries")
	}
}

func TestAuditListing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	auditTestLog(t, db, 7)
	page, err := store.RecentAudit(ctx, db, 0, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 3 || page[0].Seq != 7 || page[2].Seq != 5 {
		t.Fatalf("first page: %+v", page)
	}
	next, err := store.RecentAudit(ctx, db, page[2].Seq, 3)
	if err != nil || len(next) != 3 || next[0].Seq != 4 {
		t.Fatalf("next page: %+v, %v", next, err)
	}
	r := page[0]
	if r.ActorKind != "staff" || r.ActorID != "stf_1" || r.Action != "profile.read" || r.Purpose != "support" || r.Detail != `{"fields":"email","n":"6"}` {
		t.Errorf("record read back: %+v", r)
	}
	if r.At.Location() != time.UTC || r.At.Nanosecond()%1000 != 0 {
		t.Errorf("time read back as %v", r.At)
	}
}

// Twenty writers at once must still leave one straight chain.
func TestAuditConcurrentAppenders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	clk := auditTestClock()
	const writers = 20
	entries := make([]audit.Entry, writers)
	for i := range entries {
		entries[i] = auditTestEntry(clk, i)
	}
	var wg sync.WaitGroup
	errc := make(chan error, writers)
	start := make(chan struct{})
	for i := range writers {
		wg.Go(func() {
			<-start
			// Half append on their own, half inside a transaction that
			// also reads, as a module would.
			if i%2 == 0 {
				errc <- store.AppendAudit(ctx, db, auditTestSecret, entries[i])
				return
			}
			errc <- db.InTx(ctx, func(tx *database.Tx) error {
				if _, err := store.AuditHead(ctx, tx); err != nil {
					return err
				}
				return store.AppendAudit(ctx, tx, auditTestSecret, entries[i])
			})
		})
	}
	close(start)
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	if res := auditVerify(t, db, nil); !res.Intact || res.Entries != writers {
		t.Fatalf("%+v", res)
	}
}

// Verification reads in batches; a break past the first batch must be found
// and an intact long log must be counted whole.
func TestAuditVerifyAcrossBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	clk := auditTestClock()
	const n = 2345
	err := db.InTx(ctx, func(tx *database.Tx) error {
		for i := range n {
			if err := store.AppendAudit(ctx, tx, auditTestSecret, auditTestEntry(clk, i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res := auditVerify(t, db, nil); !res.Intact || res.Entries != n {
		t.Fatalf("%+v", res)
	}
	if _, err := db.Exec(ctx, "UPDATE audit_log SET action = 'x.y' WHERE seq = 2001"); err != nil {
		t.Fatal(err)
	}
	res := auditVerify(t, db, nil)
	if res.Intact || res.FirstBroken.Seq != 2001 || res.Entries != 2000 {
		t.Fatalf("%+v", res)
	}
}

// Pruning the whole log leaves only the entry that records it, chained to
// the anchor, so the next entry still has a head to follow.
func TestPruneWholeAuditLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	auditTestLog(t, db, 3)
	last, err := store.AuditHead(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	n, err := store.PruneAuditHead(ctx, db, auditTestSecret, 3, store.AuditPrune{RunID: "ret_all", Rule: "audit-5y", At: at})
	if err != nil || n != 3 {
		t.Fatalf("pruned %d (%v), want 3", n, err)
	}
	recs, err := store.RecentAudit(ctx, db, 0, 10)
	if err != nil || len(recs) != 1 || recs[0].Seq != 4 || recs[0].PrevHash != last.Hash || recs[0].Action != "audit.pruned" {
		t.Fatalf("log after pruning all = %+v (%v)", recs, err)
	}
	res := auditVerify(t, db, nil)
	if !res.Intact || res.Entries != 1 || res.Pruned == nil || *res.Pruned != last {
		t.Fatalf("verify = %+v", res)
	}
	if _, err := store.PruneAuditHead(ctx, db, auditTestSecret, 3, store.AuditPrune{RunID: "ret_all", Rule: "audit-5y", At: at}); err == nil {
		t.Error("pruned up to an entry that is gone")
	}
}
