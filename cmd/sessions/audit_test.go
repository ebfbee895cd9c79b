package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/store"
)

// The real command, on the real database: exit 0 on an intact log, 1 with
// the broken entry named once a row is edited behind the product's back.
func TestAuditVerifyCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, target := dbtest.OpenTarget(t)
	const secret = "audit-command-test-secret-0123456789"
	vars := map[string]string{"SESSIONS_SECRET_KEY": secret}
	for _, kv := range target.Env() {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	getenv := func(k string) string { return vars[k] }
	verify := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(ctx, append([]string{"audit", "verify"}, args...), getenv, &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}

	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for i, action := range []string{"profile.read", "profile.update", "export.create"} {
		err := store.AppendAudit(ctx, db, []byte(secret), audit.Entry{
			At:      at.Add(time.Duration(i) * time.Minute),
			Actor:   audit.Party{Kind: "member", ID: "mbr_1"},
			Action:  action,
			Subject: audit.Party{Kind: "member", ID: "mbr_1"},
			Purpose: "account",
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	code, out, errOut := verify()
	if code != 0 || !strings.Contains(out, "audit log intact: 3 entries") {
		t.Fatalf("intact log: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	head, err := store.AuditHead(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "head: "+head.String()) {
		t.Errorf("head not printed for anchoring: %s", out)
	}

	// Anchored at the head, the same log passes; cutting its last entry
	// then fails, which nothing but the anchor could show.
	if code, out, _ := verify(head.String()); code != 0 {
		t.Fatalf("anchored: exit %d: %s", code, out)
	}
	if code, _, errOut := verify("not-a-checkpoint"); code != 2 || !strings.Contains(errOut, "SEQ:HASH") {
		t.Errorf("bad anchor: exit %d: %s", code, errOut)
	}

	if _, err := db.Exec(ctx, "UPDATE audit_log SET action = 'profile.delete' WHERE seq = 2"); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = verify()
	if code != 1 || !strings.Contains(out, "audit log broken at seq 2 (edited)") {
		t.Fatalf("edited log: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}

	if _, err := db.Exec(ctx, "UPDATE audit_log SET action = 'profile.update' WHERE seq = 2"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, "DELETE FROM audit_log WHERE seq = 3"); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := verify(); code != 0 {
		t.Fatalf("restored, tail cut, no anchor: exit %d: %s", code, out)
	}
	code, out, _ = verify(head.String())
	if code != 1 || !strings.Contains(out, "audit log broken at seq 3 (truncated)") {
		t.Fatalf("tail cut, anchored: exit %d: %s", code, out)
	}

	// Retention removes the first entry: the log still verifies, from the
	// anchor. Removing the next one by hand is tampering, named as such.
	if _, err := store.PruneAuditHead(ctx, db, []byte(secret), 1, store.AuditPrune{RunID: "ret_cli", Rule: "audit-5y", At: at.AddDate(5, 0, 1)}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = verify()
	if code != 0 || !strings.Contains(out, "audit log intact: 2 entries") || !strings.Contains(out, "entries up to 1 were removed by retention") {
		t.Fatalf("pruned log: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if _, err := db.Exec(ctx, "DELETE FROM audit_log WHERE seq = 2"); err != nil {
		t.Fatal(err)
	}
	code, out, _ = verify()
	if code != 1 || !strings.Contains(out, "audit log broken at seq 3 (missing)") || !strings.Contains(out, "entry 2 is missing") {
		t.Fatalf("first entry after the anchor removed: exit %d: %s", code, out)
	}
}
