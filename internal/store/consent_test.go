package store_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/consent"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/store"
)

var consentTestNow = time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)

func consentRecord(kind, id string, state consent.State, at time.Time, purposes ...string) consent.Record {
	return consent.Record{
		ID: consent.NewID(), SubjectKind: kind, SubjectID: id, NoticeID: "cookies", NoticeVersion: "1",
		NoticeHash: strings.Repeat("0f", 32), Purposes: purposes, Basis: datamap.Consent, Method: consent.Banner,
		At: at, State: state, IP: "192.0.2.0", UserAgent: "Mozilla/5.0",
	}
}

func countConsents(t *testing.T, db *database.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), `SELECT COUNT(*) FROM consent_records`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestConsentLedgerLatestPerPurpose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	const vis = "vis_abc"
	first := consentRecord(consent.Visitor, vis, consent.Given, consentTestNow, "analytics", "personalisation")
	second := consentRecord(consent.Visitor, vis, consent.Withdrawn, consentTestNow.Add(time.Minute), "analytics")
	// Appended out of order: the ledger orders by the time of the choice.
	for _, r := range []consent.Record{second, first} {
		if err := store.AppendConsent(ctx, db, r); err != nil {
			t.Fatal(err)
		}
	}
	other := consentRecord(consent.Visitor, "vis_other", consent.Given, consentTestNow, "behaviour-tracking")
	if err := store.AppendConsent(ctx, db, other); err != nil {
		t.Fatal(err)
	}
	cur, err := store.CurrentConsents(ctx, db, consent.Visitor, vis)
	if err != nil {
		t.Fatal(err)
	}
	if len(cur) != 2 || cur["analytics"].ID != second.ID || cur["personalisation"].ID != first.ID {
		t.Fatalf("current = %+v", cur)
	}
	got := cur["personalisation"]
	if got.State != consent.Given || !got.At.Equal(first.At) || got.IP != "192.0.2.0" || got.UserAgent != "Mozilla/5.0" ||
		got.NoticeHash != first.NoticeHash || got.Method != consent.Banner || got.Basis != datamap.Consent || len(got.Purposes) != 2 {
		t.Errorf("round trip changed the record: %+v", got)
	}
	hist, err := store.ConsentHistory(ctx, db, consent.Visitor, vis)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].ID != first.ID || hist[1].ID != second.ID {
		t.Errorf("history = %+v", hist)
	}
}

func TestConsentSameInstantKeepsWriteOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	refusal := consentRecord(consent.Member, "acc_1", consent.Refused, consentTestNow, "behaviour-tracking")
	refusal.Method, refusal.GPC = consent.GPC, true
	optIn := consentRecord(consent.Member, "acc_1", consent.Given, consentTestNow, "behaviour-tracking")
	optIn.Method, optIn.GPC = consent.Settings, true
	for _, r := range []consent.Record{refusal, optIn} {
		if err := store.AppendConsent(ctx, db, r); err != nil {
			t.Fatal(err)
		}
	}
	cur, err := store.CurrentConsents(ctx, db, consent.Member, "acc_1")
	if err != nil {
		t.Fatal(err)
	}
	if cur["behaviour-tracking"].ID != optIn.ID || !cur["behaviour-tracking"].GPC {
		t.Errorf("the opt-in made after the signal must be current: %+v", cur["behaviour-tracking"])
	}
	has, err := store.HasGPCRecord(ctx, db, consent.Member, "acc_1", "cookies", "1")
	if err != nil || !has {
		t.Errorf("HasGPCRecord = %v, %v", has, err)
	}
	if has, _ := store.HasGPCRecord(ctx, db, consent.Member, "acc_1", "cookies", "2"); has {
		t.Error("a new notice version needs a new GPC record")
	}
}

func TestConsentInvalidRecordWritesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	bad := []func(*consent.Record){
		func(r *consent.Record) { r.Purposes = []string{"selling-data"} },
		func(r *consent.Record) { r.UserAgent = strings.Repeat("x", consent.MaxUserAgent+1) },
		func(r *consent.Record) { r.IP = "192.0.2.55" },
		func(r *consent.Record) { r.State = "" },
	}
	for i, change := range bad {
		r := consentRecord(consent.Visitor, "vis_x", consent.Given, consentTestNow, "analytics")
		change(&r)
		if err := store.AppendConsent(ctx, db, r); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("case %d: AppendConsent = %v, want invalid", i, err)
		}
	}
	if n := countConsents(t, db); n != 0 {
		t.Errorf("%d records written", n)
	}
}

func TestLinkVisitorConsents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	acc := staffTestAccount(t, db, "linker@example.com")
	const vis = "vis_link"
	given := consentRecord(consent.Visitor, vis, consent.Given, consentTestNow, "analytics")
	if err := store.AppendConsent(ctx, db, given); err != nil {
		t.Fatal(err)
	}
	// The member withdrew on another device after the visitor's choice;
	// carrying the older choice over must not undo that.
	withdrawn := consentRecord(consent.Member, acc, consent.Withdrawn, consentTestNow.Add(time.Hour), "analytics")
	withdrawn.Method = consent.Settings
	if err := store.AppendConsent(ctx, db, withdrawn); err != nil {
		t.Fatal(err)
	}
	refused := consentRecord(consent.Visitor, vis, consent.Refused, consentTestNow.Add(time.Minute), "behaviour-tracking")
	if err := store.AppendConsent(ctx, db, refused); err != nil {
		t.Fatal(err)
	}
	signIn := consentTestNow.Add(2 * time.Hour)
	for range 2 { // a second sign-in carries nothing twice
		if err := store.LinkVisitorConsents(ctx, db, vis, acc, signIn); err != nil {
			t.Fatal(err)
		}
	}
	if n := countConsents(t, db); n != 5 {
		t.Fatalf("%d records, want 3 plus 2 carried over", n)
	}
	hist, err := store.ConsentHistory(ctx, db, consent.Member, acc)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 3 || hist[0].LinkedFrom != given.ID || hist[1].LinkedFrom != refused.ID || hist[2].ID != withdrawn.ID {
		t.Fatalf("member history = %+v", hist)
	}
	if !hist[0].At.Equal(given.At) || hist[0].ID == given.ID || hist[0].SubjectKind != consent.Member {
		t.Errorf("carried-over record = %+v", hist[0])
	}
	cur, err := store.CurrentConsents(ctx, db, consent.Member, acc)
	if err != nil {
		t.Fatal(err)
	}
	if cur["analytics"].State != consent.Withdrawn || cur["behaviour-tracking"].State != consent.Refused {
		t.Errorf("current = %+v", cur)
	}
	// The visitor's own records are untouched.
	vhist, err := store.ConsentHistory(ctx, db, consent.Visitor, vis)
	if err != nil {
		t.Fatal(err)
	}
	if len(vhist) != 2 || vhist[0].ID != given.ID || vhist[0].LinkedFrom != "" {
		t.Errorf("visitor history = %+v", vhist)
	}
}

func TestSetRestrictedIsAudited(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	acc := staffTestAccount(t, db, "restricted@example.com")
	po := audit.Party{Kind: "staff", ID: "acc_po"}
	auditCount := func() int {
		var n int
		if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action LIKE 'restriction.%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	steps := []struct {
		restricted bool
		entries    int
	}{{true, 1}, {true, 1}, {false, 2}, {false, 2}, {true, 3}}
	for i, s := range steps {
		if err := store.SetRestricted(ctx, db, staffTestSecret, po, acc, s.restricted, consentTestNow); err != nil {
			t.Fatal(err)
		}
		got, err := store.Restricted(ctx, db, acc)
		if err != nil || got != s.restricted {
			t.Errorf("step %d: Restricted = %v, %v", i, got, err)
		}
		if n := auditCount(); n != s.entries {
			t.Errorf("step %d: %d audit entries, want %d", i, n, s.entries)
		}
	}
	// Inside a caller's transaction that rolls back, nothing stays.
	_ = db.InTx(ctx, func(tx *database.Tx) error {
		if err := store.SetRestricted(ctx, tx, staffTestSecret, po, acc, false, consentTestNow); err != nil {
			t.Fatal(err)
		}
		return errors.New("roll back")
	})
	if got, _ := store.Restricted(ctx, db, acc); !got {
		t.Error("a rolled-back lift took effect")
	}
}

// consentWrite matches a statement that would change or remove ledger
// rows. It is assembled here so that this file does not match itself.
var consentWrite = regexp.MustCompile(`(?i)\b(update\s+consent_records|delete\s+from\s+consent_records|truncate\s+(table\s+)?consent_records|drop\s+table\s+(if\s+exists\s+)?consent_records)\b`)

// TestConsentLedgerIsAppendOnly reads every Go file and migration of the
// module and fails on any statement that updates, deletes, truncates or
// drops consent records. Only the generic erasure and retention of the
// data map, which build their statements from table names, remove rows
// at the end of the evidence's retention period.
func TestConsentLedgerIsAppendOnly(t *testing.T) {
	t.Parallel()
	if !consentWrite.MatchString("x := `DELETE  FROM consent_records WHERE id = ?`") ||
		!consentWrite.MatchString(`UPDATE consent_records SET state = 'given'`) {
		t.Fatal("the pattern misses a write it must catch")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s", root)
	}
	scanned := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name != "." && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, ".sql") {
			return nil
		}
		if strings.HasSuffix(path, "consent_test.go") && strings.Contains(path, "internal/store") {
			return nil
		}
		// Erasure and retention are the one sanctioned way rows leave. The
		// one migration that cut the stored User-Agents down to their
		// browser family changed no choice: it kept less of the evidence.
		if strings.HasSuffix(path, "_consent_client.sql") {
			return nil
		}
		if base := filepath.Base(path); strings.Contains(base, "erasure") || strings.Contains(base, "retention") ||
			strings.Contains(filepath.ToSlash(path), "/erasure/") || strings.Contains(filepath.ToSlash(path), "/retention/") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		scanned++
		for i, line := range strings.Split(string(b), "\n") {
			if consentWrite.MatchString(line) {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s:%d changes or removes consent records: %s", rel, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if scanned < 50 {
		t.Fatalf("scanned only %d files", scanned)
	}
}

// TestConsentClientMigrationReducesStoredUserAgents runs the migration
// that reduces the User-Agents the ledger kept before it stored only the
// browser family, over records made the old way, and checks that it
// agrees with account.DescribeClient, which reduces them now.
func TestConsentClientMigrationReducesStoredUserAgents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	var reduce string
	all, err := database.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		if m.Name == "consent_client" {
			reduce = m.SQL
		}
	}
	if reduce == "" {
		t.Fatal("no consent_client migration")
	}
	agents := []string{
		"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
		"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 OPR/111.0.0.0",
		"curl/8.5.0",
		"mozilla/5.0 (x11; linux) firefox/128.0",
		"Mozilla/5.0",
	}
	ids := map[string]string{}
	for _, ua := range agents {
		r := consentRecord(consent.Visitor, "vis_"+consent.NewID(), consent.Given, consentTestNow, "analytics")
		r.UserAgent = ua
		if err := store.AppendConsent(ctx, db, r); err != nil {
			t.Fatal(err)
		}
		ids[r.ID] = ua
	}
	if _, err := db.Exec(ctx, reduce); err != nil {
		t.Fatalf("the migration: %v", err)
	}
	for id, ua := range ids {
		var got string
		if err := db.QueryRow(ctx, `SELECT user_agent FROM consent_records WHERE id = ?`, id).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := account.DescribeClient(ua); got != want {
			t.Errorf("%q became %q, want %q", ua, got, want)
		}
	}
}
