package orgs_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	pngenc "image/png"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/org"
	"github.com/sessionshq/sessions/internal/platform/blob"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/config"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/service/orgs"
	"github.com/sessionshq/sessions/internal/service/wire"
	"github.com/sessionshq/sessions/internal/store"
)

var testSecret = []byte("org-test-secret-0123456789abcdefghij")

var testNow = time.Date(2026, 2, 10, 9, 30, 0, 0, time.UTC)

// env is one database with the organisations service over it, and the
// clock the service reads, which a test moves instead of sleeping.
type env struct {
	db   *database.DB
	clk  *clock.Fake
	orgs *orgs.Service
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := dbtest.Open(t)
	clk := clock.NewFake(testNow)
	s, err := wire.New(wire.Parts{Config: config.Config{BaseURL: "http://sessions.test"}, DB: db, Clock: clk, Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	return &env{db: db, clk: clk, orgs: s.Orgs}
}

func (e *env) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.db.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// account creates an active account, verified or not, and returns its id.
func (e *env) account(t *testing.T, email string, verified bool) string {
	t.Helper()
	id := account.NewID()
	a := account.Account{
		ID: id, Email: email, PasswordHash: "not-a-real-hash", PasswordChangedAt: testNow, Name: "Name of " + email,
		Status: account.Active, CreatedAt: testNow, UpdatedAt: testNow, LastActiveAt: testNow,
	}
	if verified {
		at := testNow
		a.EmailVerifiedAt = &at
	}
	if err := store.CreateAccount(context.Background(), e.db, a); err != nil {
		t.Fatalf("create account: %v", err)
	}
	return id
}

// org creates the organisation "Acme" with a verified owner, the start of
// most scenarios here, and returns the owner's id and it.
func (e *env) org(t *testing.T) (string, org.Organisation) {
	t.Helper()
	owner := e.account(t, "owner@example.com", true)
	o, err := e.orgs.Create(context.Background(), service.Member(owner), "Acme", "")
	if err != nil {
		t.Fatal(err)
	}
	return owner, o
}

// addMember invites and accepts, so the member arrives the way members do.
func (e *env) addMember(t *testing.T, ownerID, orgID, memberID string, role org.Role) {
	t.Helper()
	ctx := context.Background()
	var email string
	if err := e.db.QueryRow(ctx, `SELECT email FROM accounts WHERE id = ?`, memberID).Scan(&email); err != nil {
		t.Fatal(err)
	}
	sent, err := e.orgs.Invite(ctx, service.Member(ownerID), orgID, email, string(role))
	if err != nil {
		t.Fatalf("invite: %v", err)
	}
	if _, _, err := e.orgs.Accept(ctx, service.Member(memberID), sent.Token); err != nil {
		t.Fatalf("accept: %v", err)
	}
}

func TestCreateOrganisationNeedsAVerifiedAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	unverified := e.account(t, "new@example.com", false)
	_, err := e.orgs.Create(ctx, service.Member(unverified), "Acme", "")
	if errs.CodeOf(err) != errs.Forbidden {
		t.Fatalf("an unverified account created an organisation: %v", err)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM organisations`); n != 0 {
		t.Fatalf("%d organisations after a refusal", n)
	}

	owner := e.account(t, "owner@example.com", true)
	o, err := e.orgs.Create(ctx, service.Member(owner), "Acme", "#112233")
	if err != nil {
		t.Fatal(err)
	}
	got, role, err := store.OrganisationFor(ctx, e.db, o.ID, owner)
	if err != nil || role != org.Owner || got.Name != "Acme" || got.Colour != "#112233" || !got.CreatedAt.Equal(testNow) {
		t.Fatalf("OrganisationFor = %+v, %s, %v", got, role, err)
	}
	entries, err := store.AuditForSubject(ctx, e.db, o.ID, 0, 10)
	if err != nil || len(entries) != 1 || entries[0].Action != "org.create" || entries[0].ActorID != owner {
		t.Fatalf("audit = %+v, %v", entries, err)
	}
}

// TestLastOwnerUnderConcurrency has two owners each try to demote the
// other and to leave at the same moment: whatever the interleaving, the
// organisation must end with an owner.
func TestLastOwnerUnderConcurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	a := e.account(t, "a@example.com", true)
	b := e.account(t, "b@example.com", true)
	for round := range 5 {
		o, err := e.orgs.Create(ctx, service.Member(a), "Round", "")
		if err != nil {
			t.Fatal(err)
		}
		e.addMember(t, a, o.ID, b, org.Owner)
		var wg sync.WaitGroup
		errsOf := make([]error, 4)
		for i, f := range []func() error{
			func() error {
				_, err := e.orgs.ChangeRole(ctx, service.Member(a), o.ID, b, string(org.Member))
				return err
			},
			func() error {
				_, err := e.orgs.ChangeRole(ctx, service.Member(b), o.ID, a, string(org.Member))
				return err
			},
			func() error { return e.orgs.Leave(ctx, service.Member(a), o.ID) },
			func() error { return e.orgs.Leave(ctx, service.Member(b), o.ID) },
		} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errsOf[i] = f()
			}()
		}
		wg.Wait()
		for _, err := range errsOf {
			if c := errs.CodeOf(err); err != nil && c != errs.Conflict && c != errs.Forbidden && c != errs.NotFound {
				t.Fatalf("round %d: unexpected error %v", round, err)
			}
		}
		if n := e.count(t, `SELECT COUNT(*) FROM memberships WHERE organisation_id = ? AND role = 'owner'`, o.ID); n < 1 {
			t.Fatalf("round %d: the organisation has no owner left", round)
		}
	}
}

func TestRefusedChangesWriteNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	owner, o := e.org(t)
	admin := e.account(t, "admin@example.com", true)
	e.addMember(t, owner, o.ID, admin, org.Admin)
	before := e.count(t, `SELECT COUNT(*) FROM audit_log`)
	asOwner, asAdmin := service.Member(owner), service.Member(admin)

	if _, err := e.orgs.ChangeRole(ctx, asOwner, o.ID, owner, string(org.Admin)); errs.CodeOf(err) != errs.Conflict {
		t.Errorf("the last owner demoted themselves: %v", err)
	}
	if _, err := e.orgs.ChangeRole(ctx, asAdmin, o.ID, admin, string(org.Owner)); errs.CodeOf(err) != errs.Forbidden {
		t.Errorf("an admin made themselves owner: %v", err)
	}
	if err := e.orgs.RemoveMember(ctx, asAdmin, o.ID, owner); errs.CodeOf(err) != errs.Forbidden {
		t.Errorf("an admin removed the owner: %v", err)
	}
	if err := e.orgs.Leave(ctx, asOwner, o.ID); errs.CodeOf(err) != errs.Conflict {
		t.Errorf("the last owner left: %v", err)
	}
	if _, err := e.orgs.AcceptDPA(ctx, asAdmin, o.ID, org.DPAVersion, true); errs.CodeOf(err) != errs.Forbidden {
		t.Errorf("an admin accepted the DPA: %v", err)
	}
	if err := e.orgs.Delete(ctx, asAdmin, o.ID, nil); errs.CodeOf(err) != errs.Forbidden {
		t.Errorf("an admin deleted the organisation: %v", err)
	}
	stranger := e.account(t, "stranger@example.com", true)
	if err := e.orgs.Leave(ctx, service.Member(stranger), o.ID); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("a stranger got %v, want not found", err)
	}
	if after := e.count(t, `SELECT COUNT(*) FROM audit_log`); after != before {
		t.Errorf("refused changes wrote %d audit entries", after-before)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM memberships WHERE organisation_id = ? AND role = 'owner'`, o.ID); n != 1 {
		t.Errorf("%d owners, want 1", n)
	}
}

func TestInvitationLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	owner, o := e.org(t)
	asOwner := service.Member(owner)

	first, err := e.orgs.Invite(ctx, asOwner, o.ID, "guest@example.org", string(org.Guest))
	if err != nil {
		t.Fatal(err)
	}
	if first.Invitation.ID == "" || first.Token == "" {
		t.Fatalf("invite = %+v", first)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM mail_outbox WHERE to_address = ? AND template = 'org.invitation'`, "guest@example.org"); n != 1 {
		t.Fatalf("%d invitation mails in the outbox, want 1", n)
	}
	var stored string
	if err := e.db.QueryRow(ctx, `SELECT token_digest FROM organisation_invitations WHERE id = ?`, first.Invitation.ID).Scan(&stored); err != nil || stored == first.Token {
		t.Fatalf("the token itself is stored, or no digest: %v", err)
	}

	// Inviting the same address again replaces the first invitation, whose
	// link then stops working.
	later := testNow.Add(time.Hour)
	e.clk.Set(later)
	second, err := e.orgs.Invite(ctx, asOwner, o.ID, "guest@example.org", string(org.Member))
	if err != nil {
		t.Fatal(err)
	}
	pending, err := e.orgs.Invitations(ctx, asOwner, o.ID)
	if err != nil || len(pending) != 1 || pending[0].ID != second.Invitation.ID || pending[0].Role != org.Member {
		t.Fatalf("pending = %+v, %v", pending, err)
	}
	invitee := e.account(t, "guest@example.org", true)
	if _, _, err := e.orgs.Accept(ctx, service.Member(invitee), first.Token); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("the replaced link worked: %v", err)
	}

	// The account of the invited address accepts, and the invitation
	// binds to it.
	joinedAt := later.Add(time.Minute)
	e.clk.Set(joinedAt)
	_, m, err := e.orgs.Accept(ctx, service.Member(invitee), second.Token)
	if err != nil || m.AccountID != invitee || m.Role != org.Member {
		t.Fatalf("accept = %+v, %v", m, err)
	}
	var acceptedBy string
	var closes time.Time
	if err := e.db.QueryRow(ctx, `SELECT accepted_by, closes_at FROM organisation_invitations WHERE id = ?`, second.Invitation.ID).Scan(&acceptedBy, &closes); err != nil ||
		acceptedBy != invitee || !closes.Equal(joinedAt) {
		t.Fatalf("accepted row: %q %v %v", acceptedBy, closes, err)
	}
	if _, _, err := e.orgs.Accept(ctx, asOwner, second.Token); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("a used link worked again: %v", err)
	}

	// A revoked invitation is gone at once, address and all.
	third, err := e.orgs.Invite(ctx, asOwner, o.ID, "third@example.org", string(org.Guest))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.orgs.Revoke(ctx, asOwner, o.ID, third.Invitation.ID); err != nil {
		t.Fatal(err)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM organisation_invitations WHERE email = ?`, "third@example.org"); n != 0 {
		t.Fatalf("a revoked invitation kept its address")
	}
	if err := e.orgs.Revoke(ctx, asOwner, o.ID, third.Invitation.ID); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("revoking twice: %v", err)
	}

	// An expired link is refused, and the row keeps its expiry as the
	// start of its retention.
	fourth, err := e.orgs.Invite(ctx, asOwner, o.ID, "late@example.org", string(org.Guest))
	if err != nil {
		t.Fatal(err)
	}
	expired := joinedAt.Add(org.InvitationTTL)
	late := e.account(t, "late@example.org", true)
	e.clk.Set(expired)
	if _, _, err := e.orgs.Accept(ctx, service.Member(late), fourth.Token); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("an expired link worked: %v", err)
	}
	if err := e.db.QueryRow(ctx, `SELECT closes_at FROM organisation_invitations WHERE id = ?`, fourth.Invitation.ID).Scan(&closes); err != nil ||
		!closes.Equal(expired) {
		t.Fatalf("closes_at of a pending invitation = %v, want its expiry", closes)
	}
	if _, err := store.OrganisationMember(ctx, e.db, o.ID, late); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("a refused acceptance made a member: %v", err)
	}
}

// TestInvitationIsBoundToTheInvitedAddress: a member of the organisation
// who got hold of a link mailed to someone else cannot accept it, nor can
// an account that holds the address without having confirmed it; the
// link keeps working for its addressee, whatever the case of the address
// it was sent to.
func TestInvitationIsBoundToTheInvitedAddress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	owner, o := e.org(t)
	insider := e.account(t, "insider@example.com", true)
	e.addMember(t, owner, o.ID, insider, org.Member)

	sent, err := e.orgs.Invite(ctx, service.Member(owner), o.ID, "New.Hire@Example.org", string(org.Admin))
	if err != nil {
		t.Fatal(err)
	}
	outsider := e.account(t, "outsider@example.net", true)
	for name, id := range map[string]string{"a member": insider, "an outsider": outsider} {
		if _, _, err := e.orgs.Accept(ctx, service.Member(id), sent.Token); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("%s accepted an invitation sent to another address: %v", name, err)
		}
	}
	if m, err := store.OrganisationMember(ctx, e.db, o.ID, insider); err != nil || m.Role != org.Member {
		t.Fatalf("the insider's membership changed: %+v %v", m, err)
	}
	if _, err := store.OrganisationMember(ctx, e.db, o.ID, outsider); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("the outsider became a member: %v", err)
	}

	hire := e.account(t, "new.hire@example.org", false)
	if _, _, err := e.orgs.Accept(ctx, service.Member(hire), sent.Token); errs.CodeOf(err) != errs.Forbidden {
		t.Fatalf("an account that never confirmed the address accepted: %v", err)
	}
	if _, err := store.MarkEmailVerified(ctx, e.db, hire, testNow); err != nil {
		t.Fatal(err)
	}
	if _, m, err := e.orgs.Accept(ctx, service.Member(hire), sent.Token); err != nil || m.AccountID != hire || m.Role != org.Admin {
		t.Fatalf("the addressee's acceptance: %+v %v", m, err)
	}
}

// TestInviteNeedsTheInvitersConfirmedAddress: an admin whose account never
// confirmed its address cannot have invitations mailed.
func TestInviteNeedsTheInvitersConfirmedAddress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	_, o := e.org(t)
	admin := e.account(t, "admin@example.com", false)
	if err := store.AddMember(ctx, e.db, o.ID, admin, org.Admin, testNow); err != nil {
		t.Fatal(err)
	}
	if _, err := e.orgs.Invite(ctx, service.Member(admin), o.ID, "victim@example.org", string(org.Member)); errs.CodeOf(err) != errs.Forbidden {
		t.Fatalf("an unconfirmed admin invited someone: %v", err)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM mail_outbox WHERE to_address = ?`, "victim@example.org"); n != 0 {
		t.Fatalf("%d messages for a refused invitation", n)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM organisation_invitations`); n != 0 {
		t.Fatalf("%d invitations stored after a refusal", n)
	}
}

func TestDPAAcceptancesAreAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	owner, o := e.org(t)
	asOwner := service.Member(owner)
	if d, err := e.orgs.Get(ctx, asOwner, o.ID); err != nil || d.DPA != nil {
		t.Fatalf("a new organisation has an acceptance: %+v, %v", d.DPA, err)
	}
	first, err := e.orgs.AcceptDPA(ctx, asOwner, o.ID, org.DPAVersion, true)
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Set(testNow.Add(time.Hour))
	if _, err := e.orgs.AcceptDPA(ctx, asOwner, o.ID, org.DPAVersion, true); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("the same version was accepted twice: %v", err)
	}
	// A later version of the addendum, once it is on offer, is a new row;
	// the first stays.
	offered := org.DPAVersions
	org.DPAVersions = append(append([]string(nil), offered...), "dpa-2099-01")
	t.Cleanup(func() { org.DPAVersions = offered })
	next := testNow.AddDate(0, 6, 0)
	e.clk.Set(next)
	if _, err := e.orgs.AcceptDPA(ctx, asOwner, o.ID, "dpa-2099-01", true); err != nil {
		t.Fatal(err)
	}
	list, err := e.orgs.DPAs(ctx, asOwner, o.ID)
	if err != nil || len(list) != 2 {
		t.Fatalf("acceptances = %+v, %v", list, err)
	}
	if list[0].Version != "dpa-2099-01" || !list[0].AcceptedAt.Equal(next) || list[0].AcceptedBy != owner || list[0].AcceptedByName != "Name of owner@example.com" {
		t.Errorf("current = %+v", list[0])
	}
	if list[1].ID != first.ID || list[1].Version != org.DPAVersion || !list[1].AcceptedAt.Equal(testNow) {
		t.Errorf("first = %+v, want %+v", list[1], first)
	}
	entries, err := store.AuditForSubject(ctx, e.db, o.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	accepted := 0
	for _, en := range entries {
		if en.Action == "org.dpa.accept" {
			accepted++
		}
	}
	if accepted != 2 {
		t.Errorf("%d acceptances audited, want 2", accepted)
	}
}

func TestDeleteOrganisationTakesEverythingWithIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	owner, o := e.org(t)
	asOwner := service.Member(owner)
	member := e.account(t, "member@example.com", true)
	e.addMember(t, owner, o.ID, member, org.Member)
	if _, err := e.orgs.Invite(ctx, asOwner, o.ID, "open@example.org", string(org.Guest)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.orgs.AcceptDPA(ctx, asOwner, o.ID, org.DPAVersion, true); err != nil {
		t.Fatal(err)
	}
	wrong := "Not Acme"
	if err := e.orgs.Delete(ctx, asOwner, o.ID, &wrong); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("a mistyped name deleted the organisation: %v", err)
	}
	name := " Acme "
	if err := e.orgs.Delete(ctx, asOwner, o.ID, &name); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"memberships", "organisation_invitations", "dpa_acceptances"} {
		if n := e.count(t, `SELECT COUNT(*) FROM `+table+` WHERE organisation_id = ?`, o.ID); n != 0 {
			t.Errorf("%s keeps %d rows of a deleted organisation", table, n)
		}
	}
	if list, err := e.orgs.Mine(ctx, service.Member(member)); err != nil || len(list) != 0 {
		t.Errorf("the member still sees %+v (%v)", list, err)
	}
}

// unreadable fails the test when anything reads it.
type unreadable struct{ t *testing.T }

func (u unreadable) Read([]byte) (int, error) {
	u.t.Error("the upload of a caller who may not change the logo was read")
	return 0, io.EOF
}

// TestLogoBlobs: a caller who may not change the logo gets nothing read
// or stored; a new logo replaces the old one, whose blob goes once the
// change has committed.
func TestLogoBlobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	clk := clock.NewFake(testNow)
	blobs, err := blob.New(ctx, blob.Config{Dir: t.TempDir(), Index: store.NewBlobIndex(db), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	s, err := wire.New(wire.Parts{DB: db, Clock: clk, Secret: testSecret, Blobs: blobs})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, clk: clk, orgs: s.Orgs}
	owner, o := e.org(t)
	member := e.account(t, "member@example.com", true)
	e.addMember(t, owner, o.ID, member, org.Member)

	if _, err := e.orgs.SetLogo(ctx, service.Member(member), o.ID, unreadable{t}); errs.CodeOf(err) != errs.Forbidden {
		t.Fatalf("a member changed the logo: %v", err)
	}
	stranger := e.account(t, "stranger@example.com", true)
	if _, err := e.orgs.SetLogo(ctx, service.Member(stranger), o.ID, unreadable{t}); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("a stranger's upload: %v", err)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM blobs`); n != 0 {
		t.Fatalf("refused uploads stored %d blobs", n)
	}

	png := func(seed uint8) io.Reader {
		img := image.NewRGBA(image.Rect(0, 0, 4, 4))
		img.Set(0, 0, color.RGBA{R: seed, A: 0xff})
		var b bytes.Buffer
		if err := pngenc.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		return &b
	}
	first, err := e.orgs.SetLogo(ctx, service.Member(owner), o.ID, png(1))
	if err != nil || first.LogoKey == "" || first.Role != org.Owner {
		t.Fatalf("first logo: %+v, %v", first, err)
	}
	second, err := e.orgs.SetLogo(ctx, service.Member(owner), o.ID, png(2))
	if err != nil || second.LogoKey == first.LogoKey {
		t.Fatalf("second logo: %+v, %v", second, err)
	}
	if _, _, err := blobs.Get(ctx, first.LogoKey); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("the replaced logo is still stored: %v", err)
	}
	logo, err := e.orgs.Logo(ctx, service.Member(member), o.ID)
	if err != nil || logo.ContentType != "image/png" || len(logo.Bytes) == 0 {
		t.Errorf("a member reads the logo: %q, %v", logo.ContentType, err)
	}
	if err := e.orgs.Delete(ctx, service.Member(owner), o.ID, nil); err != nil {
		t.Fatal(err)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM blobs`); n != 0 {
		t.Errorf("the deleted organisation left %d blobs", n)
	}
}
