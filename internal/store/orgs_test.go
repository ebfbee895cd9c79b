package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/org"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/store"
)

var orgTestSecret = []byte("org-test-secret-0123456789abcdefghij")

var orgTestNow = time.Date(2026, 2, 10, 9, 30, 0, 0, time.UTC)

// orgTestAccount creates an active account, verified or not, and returns
// its id.
func orgTestAccount(t *testing.T, db *database.DB, email string, verified bool) string {
	t.Helper()
	id := account.NewID()
	a := account.Account{
		ID: id, Email: email, PasswordHash: "not-a-real-hash", PasswordChangedAt: orgTestNow, Name: "Name of " + email,
		Status: account.Active, CreatedAt: orgTestNow, UpdatedAt: orgTestNow, LastActiveAt: orgTestNow,
	}
	if verified {
		at := orgTestNow
		a.EmailVerifiedAt = &at
	}
	if err := store.CreateAccount(context.Background(), db, a); err != nil {
		t.Fatalf("create account: %v", err)
	}
	return id
}

func orgTestCompose(o org.Organisation, inviter string, inv org.Invitation, token string) mail.Message {
	return org.InvitationMail(o, inviter, inv, "http://sessions.test/invitations/"+token)
}

// orgTestOrg creates the organisation "Acme" with a verified owner, the
// start of most scenarios here, and returns the owner's id and it.
func orgTestOrg(t *testing.T, db *database.DB) (string, org.Organisation) {
	t.Helper()
	owner := orgTestAccount(t, db, "owner@example.com", true)
	o, err := store.CreateOrganisation(context.Background(), db, orgTestSecret, orgTestNow, owner, "Acme", "")
	if err != nil {
		t.Fatal(err)
	}
	return owner, o
}

// orgTestAddMember invites and accepts, so the member arrives the way
// members do.
func orgTestAddMember(t *testing.T, db *database.DB, ownerID, orgID, memberID string, role org.Role) {
	t.Helper()
	ctx := context.Background()
	var email string
	if err := db.QueryRow(ctx, `SELECT email FROM accounts WHERE id = ?`, memberID).Scan(&email); err != nil {
		t.Fatal(err)
	}
	sent, err := store.Invite(ctx, db, orgTestSecret, orgTestNow, ownerID, orgID, email, role, orgTestCompose)
	if err != nil {
		t.Fatalf("invite: %v", err)
	}
	if _, _, err := store.AcceptInvitation(ctx, db, orgTestSecret, orgTestNow, memberID, sent.Token); err != nil {
		t.Fatalf("accept: %v", err)
	}
}

func TestCreateOrganisationNeedsAVerifiedAccount(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Open(t)
	unverified := orgTestAccount(t, db, "new@example.com", false)
	_, err := store.CreateOrganisation(ctx, db, orgTestSecret, orgTestNow, unverified, "Acme", "")
	if errs.CodeOf(err) != errs.Forbidden {
		t.Fatalf("an unverified account created an organisation: %v", err)
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM organisations`); n != 0 {
		t.Fatalf("%d organisations after a refusal", n)
	}

	owner := orgTestAccount(t, db, "owner@example.com", true)
	o, err := store.CreateOrganisation(ctx, db, orgTestSecret, orgTestNow, owner, "Acme", "#112233")
	if err != nil {
		t.Fatal(err)
	}
	got, role, err := store.OrganisationFor(ctx, db, o.ID, owner)
	if err != nil || role != org.Owner || got.Name != "Acme" || got.Colour != "#112233" || !got.CreatedAt.Equal(orgTestNow) {
		t.Fatalf("OrganisationFor = %+v, %s, %v", got, role, err)
	}
	entries, err := store.AuditForSubject(ctx, db, o.ID, 0, 10)
	if err != nil || len(entries) != 1 || entries[0].Action != "org.create" || entries[0].ActorID != owner {
		t.Fatalf("audit = %+v, %v", entries, err)
	}
}

// TestLastOwnerUnderConcurrency has two owners each try to demote the
// other and to leave at the same moment: whatever the interleaving, the
// organisation must end with an owner.
func TestLastOwnerUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Open(t)
	a := orgTestAccount(t, db, "a@example.com", true)
	b := orgTestAccount(t, db, "b@example.com", true)
	for round := range 5 {
		o, err := store.CreateOrganisation(ctx, db, orgTestSecret, orgTestNow, a, "Round", "")
		if err != nil {
			t.Fatal(err)
		}
		orgTestAddMember(t, db, a, o.ID, b, org.Owner)
		var wg sync.WaitGroup
		errsOf := make([]error, 4)
		for i, f := range []func() error{
			func() error {
				_, err := store.ChangeMemberRole(ctx, db, orgTestSecret, orgTestNow, a, o.ID, b, org.Member)
				return err
			},
			func() error {
				_, err := store.ChangeMemberRole(ctx, db, orgTestSecret, orgTestNow, b, o.ID, a, org.Member)
				return err
			},
			func() error { return store.LeaveOrganisation(ctx, db, orgTestSecret, orgTestNow, a, o.ID) },
			func() error { return store.LeaveOrganisation(ctx, db, orgTestSecret, orgTestNow, b, o.ID) },
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
		if n := countRows(t, db, `SELECT COUNT(*) FROM memberships WHERE organisation_id = ? AND role = 'owner'`, o.ID); n < 1 {
			t.Fatalf("round %d: the organisation has no owner left", round)
		}
	}
}

func TestRefusedChangesWriteNothing(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Open(t)
	owner, o := orgTestOrg(t, db)
	admin := orgTestAccount(t, db, "admin@example.com", true)
	orgTestAddMember(t, db, owner, o.ID, admin, org.Admin)
	before := countRows(t, db, `SELECT COUNT(*) FROM audit_log`)

	if _, err := store.ChangeMemberRole(ctx, db, orgTestSecret, orgTestNow, owner, o.ID, owner, org.Admin); errs.CodeOf(err) != errs.Conflict {
		t.Errorf("the last owner demoted themselves: %v", err)
	}
	if _, err := store.ChangeMemberRole(ctx, db, orgTestSecret, orgTestNow, admin, o.ID, admin, org.Owner); errs.CodeOf(err) != errs.Forbidden {
		t.Errorf("an admin made themselves owner: %v", err)
	}
	if err := store.RemoveMember(ctx, db, orgTestSecret, orgTestNow, admin, o.ID, owner); errs.CodeOf(err) != errs.Forbidden {
		t.Errorf("an admin removed the owner: %v", err)
	}
	if err := store.LeaveOrganisation(ctx, db, orgTestSecret, orgTestNow, owner, o.ID); errs.CodeOf(err) != errs.Conflict {
		t.Errorf("the last owner left: %v", err)
	}
	if _, err := store.AcceptDPA(ctx, db, orgTestSecret, orgTestNow, admin, o.ID, org.DPAVersion); errs.CodeOf(err) != errs.Forbidden {
		t.Errorf("an admin accepted the DPA: %v", err)
	}
	if _, err := store.DeleteOrganisation(ctx, db, orgTestSecret, orgTestNow, admin, o.ID); errs.CodeOf(err) != errs.Forbidden {
		t.Errorf("an admin deleted the organisation: %v", err)
	}
	stranger := orgTestAccount(t, db, "stranger@example.com", true)
	if err := store.LeaveOrganisation(ctx, db, orgTestSecret, orgTestNow, stranger, o.ID); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("a stranger got %v, want not found", err)
	}
	if after := countRows(t, db, `SELECT COUNT(*) FROM audit_log`); after != before {
		t.Errorf("refused changes wrote %d audit entries", after-before)
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM memberships WHERE organisation_id = ? AND role = 'owner'`, o.ID); n != 1 {
		t.Errorf("%d owners, want 1", n)
	}
}

func TestInvitationLifecycle(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Open(t)
	owner, o := orgTestOrg(t, db)

	first, err := store.Invite(ctx, db, orgTestSecret, orgTestNow, owner, o.ID, "guest@example.org", org.Guest, orgTestCompose)
	if err != nil {
		t.Fatal(err)
	}
	if first.MailID == "" || first.Token == "" {
		t.Fatalf("invite = %+v", first)
	}
	var to, template string
	if err := db.QueryRow(ctx, `SELECT to_address, template FROM mail_outbox WHERE id = ?`, first.MailID).Scan(&to, &template); err != nil ||
		to != "guest@example.org" || template != "org.invitation" {
		t.Fatalf("outbox row: %q %q %v", to, template, err)
	}
	var stored string
	if err := db.QueryRow(ctx, `SELECT token_digest FROM organisation_invitations WHERE id = ?`, first.Invitation.ID).Scan(&stored); err != nil || stored == first.Token {
		t.Fatalf("the token itself is stored, or no digest: %v", err)
	}

	// Inviting the same address again replaces the first invitation, whose
	// link then stops working.
	later := orgTestNow.Add(time.Hour)
	second, err := store.Invite(ctx, db, orgTestSecret, later, owner, o.ID, "guest@example.org", org.Member, orgTestCompose)
	if err != nil {
		t.Fatal(err)
	}
	pending, err := store.PendingInvitations(ctx, db, o.ID, later)
	if err != nil || len(pending) != 1 || pending[0].ID != second.Invitation.ID || pending[0].Role != org.Member {
		t.Fatalf("pending = %+v, %v", pending, err)
	}
	someone := orgTestAccount(t, db, "someone.else@example.net", false)
	if _, _, err := store.AcceptInvitation(ctx, db, orgTestSecret, later, someone, first.Token); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("the replaced link worked: %v", err)
	}

	// Any account may accept, and the invitation binds to it.
	joinedAt := later.Add(time.Minute)
	_, m, err := store.AcceptInvitation(ctx, db, orgTestSecret, joinedAt, someone, second.Token)
	if err != nil || m.AccountID != someone || m.Role != org.Member {
		t.Fatalf("accept = %+v, %v", m, err)
	}
	var acceptedBy string
	var closes time.Time
	if err := db.QueryRow(ctx, `SELECT accepted_by, closes_at FROM organisation_invitations WHERE id = ?`, second.Invitation.ID).Scan(&acceptedBy, &closes); err != nil ||
		acceptedBy != someone || !closes.Equal(joinedAt) {
		t.Fatalf("accepted row: %q %v %v", acceptedBy, closes, err)
	}
	if _, _, err := store.AcceptInvitation(ctx, db, orgTestSecret, joinedAt, owner, second.Token); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("a used link worked again: %v", err)
	}

	// A revoked invitation is gone at once, address and all.
	third, err := store.Invite(ctx, db, orgTestSecret, joinedAt, owner, o.ID, "third@example.org", org.Guest, orgTestCompose)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.RevokeInvitation(ctx, db, orgTestSecret, joinedAt, owner, o.ID, third.Invitation.ID); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM organisation_invitations WHERE email = ?`, "third@example.org"); n != 0 {
		t.Fatalf("a revoked invitation kept its address")
	}
	if err := store.RevokeInvitation(ctx, db, orgTestSecret, joinedAt, owner, o.ID, third.Invitation.ID); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("revoking twice: %v", err)
	}

	// An expired link is refused, and the row keeps its expiry as the
	// start of its retention.
	fourth, err := store.Invite(ctx, db, orgTestSecret, joinedAt, owner, o.ID, "late@example.org", org.Guest, orgTestCompose)
	if err != nil {
		t.Fatal(err)
	}
	expired := joinedAt.Add(org.InvitationTTL)
	late := orgTestAccount(t, db, "late@example.org", true)
	if _, _, err := store.AcceptInvitation(ctx, db, orgTestSecret, expired, late, fourth.Token); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("an expired link worked: %v", err)
	}
	if err := db.QueryRow(ctx, `SELECT closes_at FROM organisation_invitations WHERE id = ?`, fourth.Invitation.ID).Scan(&closes); err != nil ||
		!closes.Equal(expired) {
		t.Fatalf("closes_at of a pending invitation = %v, want its expiry", closes)
	}
	if _, err := store.OrganisationMember(ctx, db, o.ID, late); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("a refused acceptance made a member: %v", err)
	}
}

func TestDPAAcceptancesAreAppendOnly(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Open(t)
	owner, o := orgTestOrg(t, db)
	if cur, err := store.CurrentDPA(ctx, db, o.ID); err != nil || cur != nil {
		t.Fatalf("a new organisation has an acceptance: %+v, %v", cur, err)
	}
	first, err := store.AcceptDPA(ctx, db, orgTestSecret, orgTestNow, owner, o.ID, org.DPAVersion)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.AcceptDPA(ctx, db, orgTestSecret, orgTestNow.Add(time.Hour), owner, o.ID, org.DPAVersion); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("the same version was accepted twice: %v", err)
	}
	// A later version of the addendum (the store takes any version the
	// domain let through) is a new row; the first stays.
	next := orgTestNow.AddDate(0, 6, 0)
	if _, err := store.AcceptDPA(ctx, db, orgTestSecret, next, owner, o.ID, "dpa-2099-01"); err != nil {
		t.Fatal(err)
	}
	list, err := store.DPAAcceptances(ctx, db, o.ID)
	if err != nil || len(list) != 2 {
		t.Fatalf("acceptances = %+v, %v", list, err)
	}
	if list[0].Version != "dpa-2099-01" || !list[0].AcceptedAt.Equal(next) || list[0].AcceptedBy != owner || list[0].AcceptedByName != "Name of owner@example.com" {
		t.Errorf("current = %+v", list[0])
	}
	if list[1].ID != first.ID || list[1].Version != org.DPAVersion || !list[1].AcceptedAt.Equal(orgTestNow) {
		t.Errorf("first = %+v, want %+v", list[1], first)
	}
	entries, err := store.AuditForSubject(ctx, db, o.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	accepted := 0
	for _, e := range entries {
		if e.Action == "org.dpa.accept" {
			accepted++
		}
	}
	if accepted != 2 {
		t.Errorf("%d acceptances audited, want 2", accepted)
	}
}

func TestDeleteOrganisationTakesEverythingWithIt(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Open(t)
	owner, o := orgTestOrg(t, db)
	member := orgTestAccount(t, db, "member@example.com", true)
	orgTestAddMember(t, db, owner, o.ID, member, org.Member)
	if _, err := store.Invite(ctx, db, orgTestSecret, orgTestNow, owner, o.ID, "open@example.org", org.Guest, orgTestCompose); err != nil {
		t.Fatal(err)
	}
	if _, err := store.AcceptDPA(ctx, db, orgTestSecret, orgTestNow, owner, o.ID, org.DPAVersion); err != nil {
		t.Fatal(err)
	}
	if _, err := store.DeleteOrganisation(ctx, db, orgTestSecret, orgTestNow, owner, o.ID); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"memberships", "organisation_invitations", "dpa_acceptances"} {
		if n := countRows(t, db, `SELECT COUNT(*) FROM `+table+` WHERE organisation_id = ?`, o.ID); n != 0 {
			t.Errorf("%s keeps %d rows of a deleted organisation", table, n)
		}
	}
	if list, err := store.OrganisationsOf(ctx, db, member); err != nil || len(list) != 0 {
		t.Errorf("the member still sees %+v (%v)", list, err)
	}
}
