package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/store"
)

// Without SMTP the operator reads the outbox from the command line.
func TestMailCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, target := dbtest.OpenTarget(t)
	vars := map[string]string{}
	for _, kv := range target.Env() {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	sessions := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(ctx, args, func(k string) string { return vars[k] }, &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}

	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	id, err := store.EnqueueMail(ctx, db, at, mail.Message{
		PersonID: "person-3", Category: mail.Transactional, Template: "account.verify",
		To: "lin@example.com", Subject: "Confirm your address", Text: "Your code is 123456.\x1b]0;owned\x07",
		HTML: "<p>Your code is <b>123456</b>.</p>", Headers: map[string]string{"X-Entity-Ref-ID": "acct_1"},
	})
	if err != nil {
		t.Fatal(err)
	}

	code, out, errOut := sessions("mail", "list")
	if code != 0 {
		t.Fatalf("mail list: exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[0], "RECIPIENT") {
		t.Fatalf("no table:\n%s", out)
	}
	for _, want := range []string{id, "2026-01-02 03:04:05", "transactional", "account.verify", "lin@example.com", "Confirm your address", "pending", "no SMTP server is configured"} {
		if !strings.Contains(out, want) {
			t.Errorf("mail list lacks %q:\n%s", want, out)
		}
	}

	// Flags of the command itself follow "--", which ends the server's own.
	if code, out, _ := sessions("mail", "list", "--", "--status", "sent"); code != 0 || strings.Contains(out, id) {
		t.Errorf("--status sent: exit %d\n%s", code, out)
	}
	if code, out, _ := sessions("mail", "list", "--", "--status=pending", "--limit=1"); code != 0 || !strings.Contains(out, id) {
		t.Errorf("--status pending: exit %d\n%s", code, out)
	}
	if code, _, errOut := sessions("mail", "list", "--", "--status", "bogus"); code != 2 || !strings.Contains(errOut, "--status") {
		t.Errorf("bad status: exit %d: %s", code, errOut)
	}

	code, out, errOut = sessions("mail", "show", id)
	if code != 0 {
		t.Fatalf("mail show: exit %d: %s", code, errOut)
	}
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Error("a control character from the body reached the terminal")
	}
	for _, want := range []string{"To:", "lin@example.com", "person-3", "Your code is 123456.", "<p>Your code is <b>123456</b>.</p>", "X-Entity-Ref-ID: acct_1"} {
		if !strings.Contains(out, want) {
			t.Errorf("mail show lacks %q:\n%s", want, out)
		}
	}

	code, out, _ = sessions("mail", "show", id, "--raw")
	if code != 0 || !strings.Contains(out, "Message-ID: <"+id+"@") || !strings.Contains(out, "Content-Type: multipart/alternative") {
		t.Errorf("mail show --raw: exit %d\n%s", code, out)
	}

	if code, _, errOut := sessions("mail", "show", "mail_missing"); code != 1 || !strings.Contains(errOut, "no such message") {
		t.Errorf("unknown id: exit %d: %s", code, errOut)
	}
	if code, _, _ := sessions("mail", "show"); code != 2 {
		t.Errorf("no id: exit %d", code)
	}
}
