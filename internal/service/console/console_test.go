package console_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/platform/ratelimit"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/vendors"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/service/console"
	"github.com/sessionshq/sessions/internal/service/wire"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

var staffTestSecret = []byte("staff-test-secret-0123456789abcdef")

var staffTestNow = time.Date(2026, 4, 2, 10, 0, 0, 0, time.UTC)

// world is one database with the console service over it.
type world struct {
	db  *database.DB
	clk *clock.Fake
	svc *console.Service
}

func newWorld(t *testing.T) world {
	t.Helper()
	db := dbtest.Open(t)
	clk := clock.NewFake(staffTestNow)
	m, err := mail.New(mail.Config{From: "Sessions <no-reply@example.com>", Outbox: store.NewOutbox(db), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	s, err := wire.New(wire.Parts{DB: db, Clock: clk, Secret: staffTestSecret, Mail: m})
	if err != nil {
		t.Fatal(err)
	}
	return world{db: db, clk: clk, svc: s.Console}
}

// account inserts an active, verified account.
func (w world) account(t *testing.T, email string) string {
	t.Helper()
	now := staffTestNow
	a := account.Account{
		ID: account.NewID(), Email: email, EmailVerifiedAt: &now, PasswordHash: "x", PasswordChangedAt: now,
		Name: "Name of " + email, Status: account.Active, CreatedAt: now, UpdatedAt: now, LastActiveAt: now,
	}
	if err := store.CreateAccount(context.Background(), w.db, a); err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// audit returns the audit log, oldest first.
func (w world) audit(t *testing.T) []audit.Record {
	t.Helper()
	recs, err := store.RecentAudit(context.Background(), w.db, 0, 500)
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(recs)
	return recs
}

func TestLookUpAndViewPersonWriteTheLogs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t)
	person := w.account(t, "person@example.com")
	agent := w.account(t, "agent@example.com")
	if _, err := w.db.Exec(ctx, `INSERT INTO profiles (account_id, phone, created_at, updated_at) VALUES (?, ?, ?, ?)`,
		person, "+40712345678", staffTestNow, staffTestNow); err != nil {
		t.Fatal(err)
	}
	actor := service.Actor{AccountID: agent, Roles: []staff.Role{staff.Support}}

	for _, q := range []string{"  PERSON@example.com ", person} {
		id, err := w.svc.LookUp(ctx, actor, q)
		if err != nil || id != person {
			t.Fatalf("look up %q: %q, %v", q, id, err)
		}
	}
	if id, err := w.svc.LookUp(ctx, actor, "nobody@example.com"); err != nil || id != "" {
		t.Fatalf("looking up an unknown address: %q, %v", id, err)
	}
	if _, err := w.svc.LookUp(ctx, actor, strings.Repeat("a", console.MaxLookup+1)); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("an overlong lookup: %v, want invalid", err)
	}

	// Lock sign-in for the person's address, as failed sign-ins would.
	key := ratelimit.Key(staffTestSecret, "signin-account", "person@example.com")
	if _, err := w.db.Exec(ctx, `INSERT INTO auth_throttle (key, failures, window_start, locked_until) VALUES (?, 0, ?, ?)`,
		key, staffTestNow, staffTestNow.Add(15*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.svc.ViewPerson(ctx, actor, person, "no"); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("a look without a real reason: %v, want invalid", err)
	}
	p, a, err := w.svc.ViewPerson(ctx, actor, person, "ticket 881: cannot sign in")
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != person || p.Email != "person@example.com" || p.Phone != "+40712345678" || !p.EmailVerified ||
		p.Status != "active" || !p.Locked || p.LockedUntil == nil || !p.CreatedAt.Equal(staffTestNow) {
		t.Fatalf("person = %+v", p)
	}

	// A look at an account that does not exist records nothing.
	if _, _, err := w.svc.ViewPerson(ctx, actor, "acc_missing", "ticket 881: cannot sign in"); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("viewing an unknown account: %v", err)
	}

	log, err := w.svc.AccessLog(ctx, person)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 1 || log[0].ID != a.ID || log[0].StaffID != agent || log[0].Role != staff.Support ||
		log[0].View != staff.ViewPerson || log[0].Reason != "ticket 881: cannot sign in" || !log[0].At.Equal(staffTestNow) {
		t.Fatalf("access log = %+v", log)
	}
	if other, _ := w.svc.AccessLog(ctx, agent); len(other) != 0 {
		t.Fatalf("the staff member's own log holds %d entries", len(other))
	}

	var actions []string
	for _, r := range w.audit(t) {
		if strings.Contains(r.Detail, "881") {
			t.Fatalf("the reason reached the audit log: %s", r.Detail)
		}
		actions = append(actions, r.Action+":"+r.ActorID+":"+r.SubjectID)
	}
	want := []string{"staff.lookup:" + agent + ":" + person, "staff.lookup:" + agent + ":" + person, "staff.read:" + agent + ":" + person}
	if !slices.Equal(actions, want) {
		t.Fatalf("audit = %q, want %q", actions, want)
	}
}

func TestViewMailMessage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t)
	person := w.account(t, "person@example.com")
	toPerson, err := store.EnqueueMail(ctx, w.db, staffTestNow, mail.Message{PersonID: person, Category: mail.Transactional,
		Template: "account.verify", To: "person@example.com", Subject: "Confirm", Text: "Hello"})
	if err != nil {
		t.Fatal(err)
	}
	toGuest, err := store.EnqueueMail(ctx, w.db, staffTestNow, mail.Message{Category: mail.Transactional,
		Template: "session.invite", To: "guest@example.com", Subject: "Invite", Text: "Join"})
	if err != nil {
		t.Fatal(err)
	}
	admin := service.Actor{AccountID: "acc_admin", Roles: []staff.Role{staff.Admin}}
	if _, _, err := w.svc.ReadOutboxMessage(ctx, admin, toPerson, "bounce report from the provider"); errs.CodeOf(err) != errs.Forbidden {
		t.Fatalf("an administrator read mail: %v", err)
	}
	officer := service.Actor{AccountID: "acc_po", Roles: []staff.Role{staff.PrivacyOfficer}}
	rec, got, err := w.svc.ReadOutboxMessage(ctx, officer, toPerson, "bounce report from the provider")
	if err != nil || rec.Text != "Hello" || got.PersonID != person {
		t.Fatalf("view: %+v, %+v, %v", rec, got, err)
	}
	if _, got, err := w.svc.ReadOutboxMessage(ctx, officer, toGuest, "bounce report from the provider"); err != nil || got.PersonID != "" {
		t.Fatalf("view a guest's message: %+v, %v", got, err)
	}
	log, _ := store.AccessLogOf(ctx, w.db, person, 50)
	if len(log) != 1 || log[0].View != staff.ViewMailMessage || log[0].Role != staff.PrivacyOfficer {
		t.Fatalf("access log = %+v", log)
	}
	recs := w.audit(t)
	if len(recs) != 2 || recs[0].SubjectID != person || recs[1].SubjectKind != "mail" || recs[1].SubjectID != toGuest {
		t.Fatalf("audit = %+v", recs)
	}
}

func TestStaffRegisterIsAudited(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t)
	boss := w.account(t, "boss@example.com")
	ada := w.account(t, "ada@example.com")
	if _, err := store.GrantStaffRole(ctx, w.db, staffTestSecret, audit.Party{Kind: "operator"}, boss, staff.Admin, staffTestNow); err != nil {
		t.Fatal(err)
	}
	admin := service.Actor{AccountID: boss, Roles: []staff.Role{staff.Admin}}

	m, granted, err := w.svc.GrantRole(ctx, admin, " ADA@example.com", string(staff.Support))
	if err != nil || !granted || m.AccountID != ada || !slices.Equal(m.Roles, []staff.Role{staff.Support}) {
		t.Fatalf("grant: %+v, %v, %v", m, granted, err)
	}
	if _, granted, err := w.svc.GrantRole(ctx, admin, "ada@example.com", string(staff.Support)); err != nil || granted {
		t.Fatalf("granting a held role again: %v, %v; want no change", granted, err)
	}
	if _, _, err := w.svc.GrantRole(ctx, admin, "nobody@example.com", string(staff.Support)); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("granting to an unknown address: %v, want invalid", err)
	}
	if _, err := w.svc.RevokeRole(ctx, admin, ada, string(staff.PrivacyOfficer)); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("revoking a role not held: %v, want not found", err)
	}
	// An administrator's own roles are another administrator's to change.
	if _, err := w.svc.RevokeRole(ctx, admin, boss, string(staff.Admin)); !errors.Is(err, console.ErrOwnRoles) {
		t.Fatalf("revoking one's own role: %v, want ErrOwnRoles", err)
	}
	if _, _, err := w.svc.GrantRole(ctx, admin, "boss@example.com", string(staff.PrivacyOfficer)); !errors.Is(err, console.ErrOwnRoles) {
		t.Fatalf("granting oneself a role: %v, want ErrOwnRoles", err)
	}
	m, err = w.svc.RevokeRole(ctx, admin, ada, string(staff.Support))
	if err != nil || m.AccountID != ada || len(m.Roles) != 0 {
		t.Fatalf("revoke: %+v, %v", m, err)
	}

	var actions []string
	for _, r := range w.audit(t) {
		d, _ := audit.DecodeDetail(r.Detail)
		actions = append(actions, r.Action+":"+r.ActorKind+":"+d["role"]+":"+r.SubjectID)
	}
	want := []string{"staff.grant:operator:admin:" + boss, "staff.grant:staff:support:" + ada, "staff.revoke:staff:support:" + ada}
	if !slices.Equal(actions, want) {
		t.Fatalf("audit = %q, want %q: only changes are recorded", actions, want)
	}
}

func TestUpdateSubprocessorIsAudited(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t)
	if _, err := store.SeedSubprocessors(ctx, w.db, vendors.Seed(), staffTestNow); err != nil {
		t.Fatal(err)
	}
	officer := service.Actor{AccountID: w.account(t, "dpo@example.com"), Roles: []staff.Role{staff.PrivacyOfficer}}
	before, err := w.svc.Subprocessor(ctx, officer, vendors.Mailjet)
	if err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(time.Hour)
	edit := vendors.Update{Activity: "Marketing e-mail", Country: "be", Mechanism: vendors.WithinEEA, DataCategories: []string{"contact.email"}, Active: false}
	edited, err := w.svc.UpdateSubprocessor(ctx, officer, vendors.Mailjet, edit)
	if err != nil {
		t.Fatal(err)
	}
	if edited.Country != "BE" || edited.Active || !edited.UpdatedAt.Equal(w.clk.Now()) {
		t.Fatalf("edit returned %+v", edited)
	}
	// The edit and its audit entry committed together.
	entries, err := store.AuditForSubject(ctx, w.db, vendors.Mailjet, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("%d audit entries after the edit, want 1", len(entries))
	}
	detail, err := audit.DecodeDetail(entries[0].Detail)
	if err != nil || entries[0].Action != "subprocessor.update" || entries[0].ActorKind != "staff" ||
		detail["country"] != before.Country+" -> BE" || detail["active"] != "true -> false" {
		t.Fatalf("audit entries after the edit: %+v", entries)
	}
	// A refused edit changes nothing and records nothing.
	bad := edit
	bad.DataCategories = []string{"no.such-category"}
	if _, err := w.svc.UpdateSubprocessor(ctx, officer, vendors.Mailjet, bad); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("an unknown category: %v, want invalid", err)
	}
	if _, err := w.svc.UpdateSubprocessor(ctx, officer, "nobody", edit); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("an unknown entry: %v, want not found", err)
	}
	if entries, _ := store.AuditForSubject(ctx, w.db, vendors.Mailjet, 0, 10); len(entries) != 1 {
		t.Fatalf("%d audit entries after a refused edit, want 1", len(entries))
	}
}

func TestRecipientContactIsAudited(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t)
	if _, err := store.SeedSubprocessors(ctx, w.db, vendors.Seed(), staffTestNow); err != nil {
		t.Fatal(err)
	}
	officer := service.Actor{AccountID: w.account(t, "dpo@example.com"), Roles: []staff.Role{staff.PrivacyOfficer}}
	got, err := w.svc.SetRecipientContact(ctx, officer, vendors.GoogleCloud, " Privacy@Cloud.example ", "")
	if err != nil || got.ID != vendors.GoogleCloud || got.PrivacyEmail != "privacy@cloud.example" || got.WebhookURL != "" || got.Notices == nil {
		t.Fatalf("saved %+v, %v", got, err)
	}
	if _, err := w.svc.SetRecipientContact(ctx, officer, vendors.GoogleCloud, "", "http://plain.example"); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("a plain http webhook: %v, want invalid", err)
	}
	entries, _ := store.AuditForSubject(ctx, w.db, vendors.GoogleCloud, 0, 10)
	if len(entries) != 1 || entries[0].Action != "rights.recipient_contact" || entries[0].ActorID != officer.AccountID {
		t.Fatalf("audit = %+v", entries)
	}
	if d, _ := audit.DecodeDetail(entries[0].Detail); d["email"] != "true" || d["webhook"] != "false" {
		t.Fatalf("detail = %v", d)
	}
}

// TestStaffUseCasesRequireTheirPermission calls every staff use case as
// a member without staff roles and as nobody: the service refuses both,
// whatever the web's route wrappers did first.
func TestStaffUseCasesRequireTheirPermission(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t)
	member := service.Actor{AccountID: w.account(t, "member@example.com")}
	support := service.Actor{AccountID: member.AccountID, Roles: []staff.Role{staff.Support}}
	calls := map[string]func(a service.Actor) error{
		"instance": func(a service.Actor) error { _, err := w.svc.Instance(ctx, a); return err },
		"look up":  func(a service.Actor) error { _, err := w.svc.LookUp(ctx, a, "x@example.com"); return err },
		"view person": func(a service.Actor) error {
			_, _, err := w.svc.ViewPerson(ctx, a, member.AccountID, "ticket 1: a reason")
			return err
		},
		"staff": func(a service.Actor) error { _, err := w.svc.Staff(ctx, a); return err },
		"grant": func(a service.Actor) error {
			_, _, err := w.svc.GrantRole(ctx, a, "member@example.com", "admin")
			return err
		},
		"revoke": func(a service.Actor) error { _, err := w.svc.RevokeRole(ctx, a, member.AccountID, "admin"); return err },
		"outbox": func(a service.Actor) error { _, err := w.svc.Outbox(ctx, a, mail.Filter{}); return err },
		"outbox message": func(a service.Actor) error {
			_, _, err := w.svc.OutboxMessage(ctx, a, "mail_x")
			return err
		},
		"read mail": func(a service.Actor) error {
			_, _, err := w.svc.ReadOutboxMessage(ctx, a, "mail_x", "ticket 1: a reason")
			return err
		},
		"retry":         func(a service.Actor) error { _, err := w.svc.RetryOutbox(ctx, a, "mail_x"); return err },
		"audit log":     func(a service.Actor) error { _, err := w.svc.AuditLog(ctx, a, 0, 10); return err },
		"verify audit":  func(a service.Actor) error { _, err := w.svc.VerifyAudit(ctx, a, nil); return err },
		"registry":      func(a service.Actor) error { _, err := w.svc.Subprocessors(ctx, a); return err },
		"registry item": func(a service.Actor) error { _, err := w.svc.Subprocessor(ctx, a, vendors.Mailjet); return err },
		"edit registry": func(a service.Actor) error {
			_, err := w.svc.UpdateSubprocessor(ctx, a, vendors.Mailjet, vendors.Update{})
			return err
		},
		"recipients": func(a service.Actor) error { _, err := w.svc.Recipients(ctx, a); return err },
		"recipient":  func(a service.Actor) error { _, err := w.svc.Recipient(ctx, a, vendors.Mailjet); return err },
		"set contact": func(a service.Actor) error {
			_, err := w.svc.SetRecipientContact(ctx, a, vendors.Mailjet, "", "")
			return err
		},
	}
	for name, call := range calls {
		if err := call(service.Actor{}); errs.CodeOf(err) != errs.Unauthorized {
			t.Errorf("%s as nobody: %v, want unauthorized", name, err)
		}
		if err := call(member); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("%s as a plain member: %v, want forbidden", name, err)
		}
	}
	// Support looks people up, and nothing else here.
	for _, name := range []string{"staff", "outbox", "read mail", "audit log", "registry", "set contact"} {
		if err := calls[name](support); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("%s as support: %v, want forbidden", name, err)
		}
	}
	if len(w.audit(t)) != 0 {
		t.Fatal("a refused use case wrote to the audit log")
	}
}
