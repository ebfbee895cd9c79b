package store_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/org"
	"github.com/sessionshq/sessions/internal/platform/blob"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/config"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/platform/mail/mailtest"
	"github.com/sessionshq/sessions/internal/platform/picture/picturetest"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/retention"
	"github.com/sessionshq/sessions/internal/privacy/rights"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/service/retain"
	"github.com/sessionshq/sessions/internal/service/wire"
	"github.com/sessionshq/sessions/internal/store"
)

var ownerlessT0 = time.Date(2026, 4, 14, 9, 0, 0, 0, time.UTC)

// ownershipWorld is the server's services over a database, a fake clock,
// a blob folder and a real SMTP server.
type ownershipWorld struct {
	db     *database.DB
	clk    *clock.Fake
	blobs  *blob.Store
	s      *wire.Services
	smtp   *mailtest.Server
	mailer *mail.Service
}

func newOwnershipWorld(t *testing.T) *ownershipWorld {
	t.Helper()
	ctx := context.Background()
	db := dbtest.Open(t)
	clk := clock.NewFake(ownerlessT0)
	blobs, err := blob.New(ctx, blob.Config{Dir: t.TempDir(), Index: store.NewBlobIndex(db), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	smtp := mailtest.Start(t)
	mailer, err := mail.New(mail.Config{From: "Sessions <no-reply@sessions.test>", Outbox: store.NewOutbox(db), Clock: clk,
		Sender: mail.NewSMTP(mail.SMTPConfig{Addr: smtp.Addr, Security: "none"})})
	if err != nil {
		t.Fatal(err)
	}
	s, err := wire.New(wire.Parts{Config: config.Config{BaseURL: "https://meet.example.com"}, DB: db, Clock: clk,
		Secret: rightsSecret, Blobs: blobs, Mail: mailer})
	if err != nil {
		t.Fatal(err)
	}
	return &ownershipWorld{db: db, clk: clk, blobs: blobs, s: s, smtp: smtp, mailer: mailer}
}

// member creates an account with a confirmed address.
func (w *ownershipWorld) member(t *testing.T, name, email string) string {
	t.Helper()
	id, now := account.NewID(), w.clk.Now()
	if err := store.CreateAccount(context.Background(), w.db, account.Account{
		ID: id, Email: email, PasswordHash: "x", PasswordChangedAt: now, Name: name, EmailVerifiedAt: &now,
		Status: account.Active, CreatedAt: now, UpdatedAt: now, LastActiveAt: now,
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

// join invites the account as role and has it accept, a day after the
// last one joined, so that who joined first is clear.
func (w *ownershipWorld) join(t *testing.T, owner, orgID, memberID, email string, role org.Role) {
	t.Helper()
	ctx := context.Background()
	w.clk.Advance(24 * time.Hour)
	sent, err := w.s.Orgs.Invite(ctx, service.Member(owner), orgID, email, string(role))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.s.Orgs.Accept(ctx, service.Member(memberID), sent.Token); err != nil {
		t.Fatal(err)
	}
}

// erase has the account erased on request, to the end.
func (w *ownershipWorld) erase(t *testing.T, accountID string) {
	t.Helper()
	ctx := context.Background()
	var run string
	if err := w.s.Env.InTx(ctx, func(tx *service.Tx) error {
		var err error
		run, err = w.s.Rights.StartErasure(ctx, tx, rights.Person{AccountID: accountID}, rights.ReasonRequest, "")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	w.s.Rights.SetErasureBatch(2)
	if err := w.s.Rights.RunErasure(ctx, run); err != nil {
		t.Fatal(err)
	}
	if r, err := w.s.Rights.ErasureRun(ctx, run); err != nil || r.State != rights.RunDone {
		t.Fatalf("erasure run: %+v %v", r, err)
	}
}

func (w *ownershipWorld) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	return countRows(t, w.db, query, args...)
}

// audited returns the details of the audit entries with the action about
// the organisation.
func (w *ownershipWorld) audited(t *testing.T, action, orgID string) []map[string]string {
	t.Helper()
	rows, err := w.db.Query(context.Background(), `SELECT detail FROM audit_log WHERE action = ? AND subject_kind = 'organisation' AND subject_id = ?`, action, orgID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []map[string]string
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			t.Fatal(err)
		}
		d := map[string]string{}
		if err := json.Unmarshal([]byte(raw), &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

// TestErasingTheLastOwnerHandsTheOrganisationOn erases the only owner of
// an organisation with two admins and a member: the admin who joined
// first becomes its owner, is told by e-mail that names the organisation
// and not the erased owner, and the audit log says so.
func TestErasingTheLastOwnerHandsTheOrganisationOn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newOwnershipWorld(t)
	owner := w.member(t, "Ownerly Erasedperson", "owner.erased@example.com")
	o, err := w.s.Orgs.Create(ctx, service.Member(owner), "Handover Works", "")
	if err != nil {
		t.Fatal(err)
	}
	member := w.member(t, "Early Member", "member@example.com")
	first := w.member(t, "First Admin", "first.admin@example.com")
	second := w.member(t, "Second Admin", "second.admin@example.com")
	w.join(t, owner, o.ID, member, "member@example.com", org.Member)
	w.join(t, owner, o.ID, first, "first.admin@example.com", org.Admin)
	w.join(t, owner, o.ID, second, "second.admin@example.com", org.Admin)

	w.erase(t, owner)

	roles := map[string]org.Role{}
	members, err := store.OrganisationMembers(ctx, w.db, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		roles[m.AccountID] = m.Role
	}
	if len(roles) != 3 || roles[first] != org.Owner || roles[second] != org.Admin || roles[member] != org.Member {
		t.Fatalf("after the erasure: %v (first admin %s)", roles, first)
	}
	if n := w.count(t, `SELECT COUNT(*) FROM organisations WHERE id = ? AND ownerless_since IS NULL`, o.ID); n != 1 {
		t.Error("an organisation with a new owner is marked for deletion")
	}
	entries := w.audited(t, "org.owner.succession", o.ID)
	if len(entries) != 1 || entries[0]["owner"] != first || entries[0]["mail"] == "" {
		t.Fatalf("audit: %v", entries)
	}
	if _, err := w.mailer.Deliver(ctx, entries[0]["mail"]); err != nil {
		t.Fatal(err)
	}
	msg := w.smtp.Next(t)
	if len(msg.EnvelopeTo) != 1 || msg.EnvelopeTo[0] != "first.admin@example.com" {
		t.Fatalf("the notice went to %v", msg.EnvelopeTo)
	}
	if !strings.Contains(msg.Text, `"Handover Works"`) || !strings.Contains(msg.Text, "https://meet.example.com/orgs/"+o.ID) {
		t.Errorf("the notice does not say which organisation:\n%s", msg.Text)
	}
	for _, erased := range []string{"Ownerly", "owner.erased@example.com", owner} {
		if strings.Contains(string(msg.Raw), erased) {
			t.Errorf("the notice names the erased owner (%q)", erased)
		}
	}
}

// TestOrganisationWithNobodyLeftIsDeletedAfterItsGracePeriod erases the
// only owner of an organisation that has a guest, a logo, an accepted
// addendum and invitations: its open invitation is withdrawn at once, it
// stays through the grace period of the data map's rule, and the first
// retention run after it deletes the organisation, its logo file, its
// invitations, its acceptances and the guest's membership.
func TestOrganisationWithNobodyLeftIsDeletedAfterItsGracePeriod(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newOwnershipWorld(t)
	owner := w.member(t, "Lonely Owner", "lonely@example.com")
	o, err := w.s.Orgs.Create(ctx, service.Member(owner), "Nobody Left", "")
	if err != nil {
		t.Fatal(err)
	}
	asOwner := service.Member(owner)
	guest := w.member(t, "Visiting Guest", "guest@example.com")
	w.join(t, owner, o.ID, guest, "guest@example.com", org.Guest)
	withLogo, err := w.s.Orgs.SetLogo(ctx, asOwner, o.ID, strings.NewReader(string(picturetest.PNGWithText("logo"))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.Orgs.AcceptDPA(ctx, asOwner, o.ID, org.DPAVersion, true); err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.Orgs.Invite(ctx, asOwner, o.ID, "someone.new@example.org", string(org.Member)); err != nil {
		t.Fatal(err)
	}
	children := func() map[string]int {
		out := map[string]int{}
		for _, table := range []string{"memberships", "organisation_invitations", "dpa_acceptances"} {
			out[table] = w.count(t, `SELECT COUNT(*) FROM `+table+` WHERE organisation_id = ?`, o.ID)
		}
		out["organisations"] = w.count(t, `SELECT COUNT(*) FROM organisations WHERE id = ?`, o.ID)
		out["logo"] = w.count(t, `SELECT COUNT(*) FROM blobs WHERE key = ?`, withLogo.LogoKey)
		return out
	}

	w.clk.Advance(time.Hour)
	erasedAt := w.clk.Now()
	w.erase(t, owner)

	got := children()
	if got["organisations"] != 1 || got["memberships"] != 1 || got["logo"] != 1 || got["dpa_acceptances"] != 1 {
		t.Fatalf("right after the erasure: %v", got)
	}
	if n := w.count(t, `SELECT COUNT(*) FROM organisation_invitations WHERE organisation_id = ? AND accepted_at IS NULL`, o.ID); n != 0 {
		t.Errorf("%d invitations of an organisation nobody runs are still open", n)
	}
	var since time.Time
	if err := w.db.QueryRow(ctx, `SELECT ownerless_since FROM organisations WHERE id = ?`, o.ID).Scan(&since); err != nil || !since.Equal(erasedAt) {
		t.Fatalf("ownerless since %v (%v), want %v", since, err, erasedAt)
	}
	if entries := w.audited(t, "org.ownerless", o.ID); len(entries) != 1 || entries[0]["rule"] != org.OwnerlessRule || entries[0]["invitations_withdrawn"] != "1" {
		t.Fatalf("audit: %v", entries)
	}

	rule, ok := datamap.Default().Rule(org.OwnerlessRule)
	if !ok || rule.Period.IsZero() {
		t.Fatalf("the data map has no period for %s", org.OwnerlessRule)
	}
	run := func() retention.Run {
		t.Helper()
		r, err := w.s.Retention.Run(ctx, retain.Options{Trigger: retention.ByCommand, Record: true, Batch: 2})
		if err != nil || r.State != retention.Done {
			t.Fatalf("retention run: %+v %v", r, err)
		}
		return r
	}
	w.clk.Set(rule.Period.After(erasedAt).Add(-time.Minute))
	run()
	if got := children(); got["organisations"] != 1 || got["logo"] != 1 {
		t.Fatalf("deleted within its grace period: %v", got)
	}

	w.clk.Set(rule.Period.After(erasedAt).Add(time.Minute))
	r := run()
	for table, n := range children() {
		if n != 0 {
			t.Errorf("%s: %d left after the grace period", table, n)
		}
	}
	if res := result(r, org.OwnerlessRule, "organisations", retention.Delete); res.Rows != 1 {
		t.Errorf("the run reports %+v", res)
	}
	if _, _, err := w.blobs.Get(ctx, withLogo.LogoKey); err == nil {
		t.Error("the logo file is still stored")
	}
	if list, err := w.s.Orgs.Mine(ctx, service.Member(guest)); err != nil || len(list) != 0 {
		t.Errorf("the guest still sees %+v (%v)", list, err)
	}
}
