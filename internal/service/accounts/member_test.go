package accounts_test

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/service/accounts"
	"github.com/sessionshq/sessions/internal/service/wire"
	"github.com/sessionshq/sessions/internal/store"
)

// These tests hold the use cases of the member area to what the store
// tests held them before the use cases moved here: what is written, what
// is audited, what is mailed, and what a refusal leaves untouched.

var profileSecret = []byte("profile-test-secret-0123456789abcdef")

var profileNow = time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)

const testPassword = "correct horse battery staple"

type fixture struct {
	db  *database.DB
	clk *clock.Fake
	svc *accounts.Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := dbtest.Open(t)
	clk := clock.NewFake(profileNow)
	s, err := wire.New(wire.Parts{DB: db, Clock: clk, Secret: profileSecret,
		Passwords: account.NewHasher(account.HashParams{Memory: 1024, Time: 1, Threads: 1}, nil)})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db, clk: clk, svc: s.Accounts}
}

// account creates an active account with testPassword and returns its id.
func (f *fixture) account(t *testing.T, email string) string {
	t.Helper()
	hash, err := account.NewHasher(account.HashParams{Memory: 1024, Time: 1, Threads: 1}, nil).Hash(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	id := account.NewID()
	err = store.CreateAccount(context.Background(), f.db, account.Account{
		ID: id, Email: email, PasswordHash: hash, PasswordChangedAt: profileNow, Name: "Member " + email,
		Status: account.Active, CreatedAt: profileNow, UpdatedAt: profileNow, LastActiveAt: profileNow,
	})
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	return id
}

func (f *fixture) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := f.db.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func (f *fixture) audits(t *testing.T) int { return f.count(t, `SELECT COUNT(*) FROM audit_log`) }

func fullEdit() account.ProfileEdit {
	return account.ProfileEdit{
		Name: "Ada Lovelace", Username: "Ada", Phone: "+44 20 7946 0958", Company: "Engines Ltd",
		Address:   account.Address{Street: "1 Main St", City: "London", Postcode: "N1 9GU", Region: "London", Country: "GB"},
		BirthDate: "1990-12-10", Gender: "Woman", Country: "GB", City: "London",
		Interests: []string{"maths", "poetry"}, LinkedIn: "https://www.linkedin.com/in/ada", Facebook: "https://facebook.com/ada",
	}
}

func TestProfileRoundTripAndAudit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	id := f.account(t, "ada@example.com")

	empty, err := store.GetProfile(ctx, f.db, id)
	if err != nil || empty.AccountID != id || empty.Username != "" {
		t.Fatalf("profile of a new member = %+v, %v", empty, err)
	}

	changed, err := f.svc.SaveProfile(ctx, id, fullEdit())
	if err != nil {
		t.Fatalf("SaveProfile: %v", err)
	}
	if len(changed) != 16 {
		t.Errorf("changed %d fields (%v), want 16", len(changed), changed)
	}
	p, err := store.GetProfile(ctx, f.db, id)
	if err != nil {
		t.Fatal(err)
	}
	if p.Username != "ada" || p.Phone != "+442079460958" || p.Address.Postcode != "N1 9GU" || account.FormatDate(p.BirthDate) != "1990-12-10" ||
		strings.Join(p.Interests, ",") != "maths,poetry" || p.Facebook != "https://facebook.com/ada" || p.Country != "GB" {
		t.Errorf("stored profile = %+v", p)
	}
	acc, err := store.AccountByID(ctx, f.db, id)
	if err != nil || acc.Name != "Ada Lovelace" {
		t.Errorf("the name did not reach the account: %q, %v", acc.Name, err)
	}

	// Change two fields: the entry names them and keeps digests only.
	edit := fullEdit()
	edit.Phone = "+40 721 234 567"
	edit.Company = ""
	before := f.audits(t)
	f.clk.Advance(time.Minute)
	changed, err = f.svc.SaveProfile(ctx, id, edit)
	if err != nil || strings.Join(changed, ",") != "phone,company" {
		t.Fatalf("second edit changed %v, %v", changed, err)
	}
	if got := f.audits(t); got != before+1 {
		t.Fatalf("audit entries %d, want %d", got, before+1)
	}
	recs, err := store.AuditForSubject(ctx, f.db, id, 0, 1)
	if err != nil || len(recs) != 1 {
		t.Fatalf("audit for subject: %v, %v", recs, err)
	}
	r := recs[0]
	if r.Action != "profile.update" || r.ActorID != id {
		t.Errorf("entry = %+v", r)
	}
	d, err := audit.DecodeDetail(r.Detail)
	if err != nil {
		t.Fatal(err)
	}
	if d["fields"] != "phone,company" || d["old.phone"] != account.OldValueDigest(profileSecret, "phone", "+442079460958") ||
		d["old.company"] != account.OldValueDigest(profileSecret, "company", "Engines Ltd") {
		t.Errorf("detail = %v", d)
	}
	for _, old := range []string{"+442079460958", "Engines Ltd", "7946"} {
		if strings.Contains(r.Detail, old) {
			t.Errorf("the audit entry holds the old value %q", old)
		}
	}

	// Saving the same values again changes nothing and audits nothing.
	before = f.audits(t)
	f.clk.Advance(time.Minute)
	if changed, err := f.svc.SaveProfile(ctx, id, edit); err != nil || len(changed) != 0 {
		t.Errorf("unchanged edit: %v, %v", changed, err)
	}
	if got := f.audits(t); got != before {
		t.Errorf("an unchanged edit was audited")
	}
}

func TestProfileRefusedEditChangesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	ada := f.account(t, "ada@example.com")
	bob := f.account(t, "bob@example.com")
	if _, err := f.svc.SaveProfile(ctx, ada, fullEdit()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SaveProfile(ctx, bob, account.ProfileEdit{Name: "Bob", Phone: "+40721234567"}); err != nil {
		t.Fatal(err)
	}
	snapshot := func() (account.Profile, string, int) {
		p, err := store.GetProfile(ctx, f.db, bob)
		if err != nil {
			t.Fatal(err)
		}
		acc, err := store.AccountByID(ctx, f.db, bob)
		if err != nil {
			t.Fatal(err)
		}
		return p, acc.Name, f.audits(t)
	}
	p0, name0, n0 := snapshot()
	f.clk.Advance(time.Hour)

	cases := map[string]struct {
		edit  account.ProfileEdit
		field string
	}{
		"username taken, other case": {account.ProfileEdit{Name: "Bobby", Username: "ADA", Phone: "+40721234567"}, "username"},
		"future birth date":          {account.ProfileEdit{Name: "Bobby", BirthDate: "2027-01-01"}, "birth_date"},
		"unknown country":            {account.ProfileEdit{Name: "Bobby", Country: "ZZ"}, "country"},
	}
	for what, tc := range cases {
		_, err := f.svc.SaveProfile(ctx, bob, tc.edit)
		e, ok := errs.As(err)
		if !ok || e.Code != errs.Invalid || e.Fields[tc.field] == "" {
			t.Errorf("%s: err = %v, want a message for %s", what, err, tc.field)
		}
		p, name, n := snapshot()
		if name != name0 || p.Phone != p0.Phone || p.Username != p0.Username || !p.UpdatedAt.Equal(p0.UpdatedAt) || n != n0 {
			t.Errorf("%s: the refused edit changed something: name %q, profile %+v, audit %d→%d", what, name, p, n0, n)
		}
	}
}

// childProfile makes id a 12-year-old German resident.
func (f *fixture) childProfile(t *testing.T, id string) {
	t.Helper()
	if _, err := f.svc.SaveProfile(context.Background(), id, account.ProfileEdit{Name: "Kim", BirthDate: "2013-06-01", Country: "DE"}); err != nil {
		t.Fatal(err)
	}
}

var guardianLinkPattern = regexp.MustCompile(`/guardian/confirm\?token=(\S+)`)

// lastGuardianToken reads the token of the link last mailed to to.
func (f *fixture) lastGuardianToken(t *testing.T, to string) string {
	t.Helper()
	var text string
	if err := f.db.QueryRow(context.Background(), `SELECT body_text FROM mail_outbox WHERE to_address = ? ORDER BY created_at DESC, id DESC LIMIT 1`, to).Scan(&text); err != nil {
		t.Fatalf("guardian mail to %s: %v", to, err)
	}
	m := guardianLinkPattern.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no link in %q", text)
	}
	token, err := url.QueryUnescape(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// TestGuardianMailNeedsAConfirmedAddress: the guardian's mail goes to
// someone else and carries the account's name, so an account that never
// proved its own address cannot have it sent.
func TestGuardianMailNeedsAConfirmedAddress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	child := f.account(t, "kim@example.com")
	f.childProfile(t, child)
	if err := f.svc.AskGuardian(ctx, child, "parent@example.com"); errs.CodeOf(err) != errs.Forbidden {
		t.Fatalf("an account that never confirmed its address had mail sent to someone else: %v", err)
	}
	if n := f.count(t, `SELECT COUNT(*) FROM mail_outbox WHERE to_address = ?`, "parent@example.com"); n != 0 {
		t.Fatalf("%d messages to the guardian before the child confirmed their address", n)
	}
	if _, err := store.MarkEmailVerified(ctx, f.db, child, profileNow); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.AskGuardian(ctx, child, "parent@example.com"); err != nil {
		t.Fatalf("a confirmed child account: %v", err)
	}
}

func TestGuardianConsentFlow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	adult := f.account(t, "adult@example.com")
	child := f.account(t, "kim@example.com")
	f.childProfile(t, child)

	if err := f.svc.AskGuardian(ctx, adult, "p@example.com"); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("an adult account asked for a guardian: %v", err)
	}
	if _, err := store.MarkEmailVerified(ctx, f.db, child, profileNow); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.AskGuardian(ctx, child, "old-parent@example.com"); err != nil {
		t.Fatalf("request: %v", err)
	}
	first := f.lastGuardianToken(t, "old-parent@example.com")
	f.clk.Advance(time.Minute)
	if err := f.svc.AskGuardian(ctx, child, "parent@example.com"); err != nil {
		t.Fatalf("request: %v", err)
	}
	second := f.lastGuardianToken(t, "parent@example.com")
	f.clk.Advance(time.Minute)

	if _, err := f.svc.ConfirmGuardian(ctx, first); !errors.Is(err, store.ErrGuardianLink) {
		t.Fatalf("a superseded link confirmed: %v", err)
	}
	if _, err := f.svc.ConfirmGuardian(ctx, "forged"); !errors.Is(err, store.ErrGuardianLink) {
		t.Fatalf("an unknown link confirmed: %v", err)
	}
	p, _ := store.GetProfile(ctx, f.db, child)
	if r := account.RestrictionsFor(p, f.clk.Now()); !r.Child || r.Marketing || r.Recording {
		t.Fatalf("before confirmation: %+v", r)
	}

	f.clk.Advance(time.Minute)
	at := f.clk.Now()
	name, err := f.svc.ConfirmGuardian(ctx, second)
	if err != nil {
		t.Fatalf("confirm: %v", err)
	}
	if name != "Kim" {
		t.Errorf("confirmed the account of %q", name)
	}
	if _, err := f.svc.ConfirmGuardian(ctx, second); !errors.Is(err, store.ErrGuardianLink) {
		t.Fatalf("a used link confirmed again: %v", err)
	}

	// The evidence: who, when, what was shown, for which account.
	list, err := store.GuardianRequests(ctx, f.db, child)
	if err != nil || len(list) != 2 {
		t.Fatalf("requests = %v, %v", list, err)
	}
	ev := list[0]
	if ev.Status != "confirmed" || ev.GuardianEmail != "parent@example.com" || ev.ConfirmedAt == nil || !ev.ConfirmedAt.Equal(at) ||
		ev.NoticeVersion != account.GuardianNoticeVersion || ev.NoticeSHA256 != account.GuardianNoticeDigest() {
		t.Errorf("evidence = %+v", ev)
	}
	if list[1].Status != "superseded" {
		t.Errorf("the first link is %s, want superseded", list[1].Status)
	}
	p, _ = store.GetProfile(ctx, f.db, child)
	if r := account.RestrictionsFor(p, at); !r.Child || !r.Marketing || !r.Analytics || !r.Recording || !r.AI {
		t.Errorf("after confirmation: %+v", r)
	}
	if err := f.svc.AskGuardian(ctx, child, "p@example.com"); errs.CodeOf(err) != errs.Conflict {
		t.Errorf("a confirmed account asked again: %v", err)
	}
	recs, _ := store.AuditForSubject(ctx, f.db, child, 0, 1)
	if len(recs) != 1 || recs[0].Action != "guardian.confirm" || recs[0].ActorKind != "guardian" {
		t.Errorf("last audit entry = %+v", recs)
	}
}

func (f *fixture) session(t *testing.T, id string) {
	t.Helper()
	s := account.Session{ID: account.NewSessionID(), AccountID: id, CreatedAt: f.clk.Now(), LastSeenAt: f.clk.Now(), ExpiresAt: f.clk.Now().Add(24 * time.Hour)}
	if err := store.CreateSession(context.Background(), f.db, s, "digest-"+s.ID); err != nil {
		t.Fatal(err)
	}
}

func TestDeactivateAndReactivate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	id := f.account(t, "ada@example.com")
	f.session(t, id)
	f.session(t, id)

	if _, err := f.svc.Deactivate(ctx, id); err != nil {
		t.Fatalf("deactivate: %v", err)
	}
	if n := f.count(t, `SELECT COUNT(*) FROM mail_outbox WHERE person_id = ? AND template = 'account.deactivated'`, id); n != 1 {
		t.Errorf("%d deactivation mails", n)
	}
	acc, _ := store.AccountByID(ctx, f.db, id)
	if acc.Status != account.Deactivated || acc.DeactivatedAt == nil {
		t.Errorf("account = %+v", acc)
	}
	if n := f.count(t, `SELECT COUNT(*) FROM account_sessions WHERE account_id = ?`, id); n != 0 {
		t.Errorf("%d sessions survived deactivation", n)
	}
	if _, err := f.svc.Deactivate(ctx, id); errs.CodeOf(err) != errs.Conflict {
		t.Errorf("deactivating twice: %v", err)
	}

	// Within the grace period signing in brings it back.
	f.clk.Advance(29 * 24 * time.Hour)
	if _, err := f.svc.SignIn(ctx, "ada@example.com", testPassword, accounts.Browser{IP: "192.0.2.1"}); err != nil {
		t.Fatalf("sign-in within grace: %v", err)
	}
	if acc, _ := store.AccountByID(ctx, f.db, id); acc.Status != account.Active {
		t.Errorf("status after reactivation = %s", acc.Status)
	}
	recs, _ := store.AuditForSubject(ctx, f.db, id, 0, 2)
	if len(recs) != 2 || recs[1].Action != "account.reactivate" {
		t.Errorf("audit = %+v", recs)
	}

	// Past the grace period it does not.
	f.clk.Advance(11 * 24 * time.Hour)
	if _, err := f.svc.Deactivate(ctx, id); err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(31 * 24 * time.Hour)
	_, err := f.svc.SignIn(ctx, "ada@example.com", testPassword, accounts.Browser{IP: "192.0.2.1"})
	if errs.CodeOf(err) != errs.Forbidden {
		t.Errorf("sign-in after the grace period: %v", err)
	}
	if acc, _ := store.AccountByID(ctx, f.db, id); acc.Status != account.Deactivated {
		t.Errorf("status = %s", acc.Status)
	}
}

func TestErasureRequest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	id := f.account(t, "ada@example.com")
	f.session(t, id)
	req, err := f.svc.RequestErasure(ctx, id)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if want := time.Date(2026, 2, 28, 10, 0, 0, 0, time.UTC); !req.DueAt.Equal(want) {
		t.Errorf("due %s, want %s", req.DueAt, want)
	}
	list, err := store.AccountRequests(ctx, f.db, id)
	if err != nil || len(list) != 1 || list[0].Kind != "erasure" || list[0].State != "received" ||
		!list[0].ReceivedAt.Equal(profileNow) || !list[0].DueAt.Equal(req.DueAt) {
		t.Fatalf("requests = %+v, %v", list, err)
	}
	var text string
	if err := f.db.QueryRow(ctx, `SELECT body_text FROM mail_outbox WHERE person_id = ? AND template = 'account.erasure-received'`, id).Scan(&text); err != nil ||
		!strings.Contains(text, "28 February 2026") || !strings.Contains(text, req.ID) {
		t.Errorf("confirmation mail = %q, %v", text, err)
	}
	acc, _ := store.AccountByID(ctx, f.db, id)
	if acc.Status != account.ErasurePending || acc.DeactivatedAt == nil {
		t.Errorf("account = %+v", acc)
	}
	if n := f.count(t, `SELECT COUNT(*) FROM account_sessions WHERE account_id = ?`, id); n != 0 {
		t.Errorf("%d sessions survived", n)
	}
	if _, err := f.svc.RequestErasure(ctx, id); errs.CodeOf(err) != errs.Conflict {
		t.Errorf("second request: %v", err)
	}
	f.clk.Advance(time.Hour)
	if _, err := f.svc.SignIn(ctx, "ada@example.com", testPassword, accounts.Browser{IP: "192.0.2.1"}); errs.CodeOf(err) != errs.Forbidden {
		t.Errorf("signing in reactivated an account waiting for erasure: %v", err)
	}
}
