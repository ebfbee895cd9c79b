package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/org"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/store"
)

// orgTestSecret, orgTestNow and orgTestAccount serve the meetings' tests
// too.
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

// TestOrganisationRows covers the organisation's own SQL: the first
// owner comes with the row, the lock and the reads refuse what does not
// exist, and a deletion takes every child row with it. The rules about
// who may do this are the organisations service's and are tested there.
func TestOrganisationRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	owner := orgTestAccount(t, db, "owner@example.com", true)
	guest := orgTestAccount(t, db, "guest@example.com", true)
	zeta := org.Organisation{ID: "org_zeta", Name: "zeta", CreatedAt: orgTestNow, UpdatedAt: orgTestNow}
	acme := org.Organisation{ID: "org_acme", Name: "Acme", Colour: "#112233", CreatedAt: orgTestNow, UpdatedAt: orgTestNow}
	for _, o := range []org.Organisation{zeta, acme} {
		if err := store.CreateOrganisation(ctx, db, o, owner); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.AddMember(ctx, db, acme.ID, guest, org.Guest, orgTestNow); err != nil {
		t.Fatal(err)
	}
	got, role, err := store.OrganisationFor(ctx, db, acme.ID, owner)
	if err != nil || role != org.Owner || got.Name != "Acme" || got.Colour != "#112233" || !got.CreatedAt.Equal(orgTestNow) {
		t.Fatalf("OrganisationFor = %+v, %s, %v", got, role, err)
	}
	if _, _, err := store.OrganisationFor(ctx, db, zeta.ID, guest); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("a non-member's read: %v", err)
	}
	mine, err := store.OrganisationsOf(ctx, db, owner)
	if err != nil || len(mine) != 2 || mine[0].ID != acme.ID || mine[1].ID != zeta.ID {
		t.Fatalf("OrganisationsOf = %+v, %v (want by name, case ignored)", mine, err)
	}
	if err := store.LockOrganisation(ctx, db, "org_missing"); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("locking a missing organisation: %v", err)
	}
	if n, err := store.OrganisationOwners(ctx, db, acme.ID); err != nil || n != 1 {
		t.Fatalf("owners = %d, %v", n, err)
	}
	if err := store.CreateDPAAcceptance(ctx, db, org.DPAAcceptance{ID: "dpa_1", OrganisationID: acme.ID, Version: org.DPAVersion,
		AcceptedBy: owner, AcceptedAt: orgTestNow}); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateInvitation(ctx, db, org.Invitation{ID: "inv_1", OrganisationID: acme.ID, Email: "open@example.org",
		Role: org.Member, InvitedBy: owner, CreatedAt: orgTestNow, ExpiresAt: orgTestNow.Add(org.InvitationTTL)}, "digest"); err != nil {
		t.Fatal(err)
	}
	if err := store.DeleteOrganisation(ctx, db, acme.ID); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"memberships", "organisation_invitations", "dpa_acceptances"} {
		if n := countRows(t, db, `SELECT COUNT(*) FROM `+table+` WHERE organisation_id = ?`, acme.ID); n != 0 {
			t.Errorf("%s keeps %d rows of a deleted organisation", table, n)
		}
	}
	if list, err := store.OrganisationsOf(ctx, db, guest); err != nil || len(list) != 0 {
		t.Errorf("the guest still sees %+v (%v)", list, err)
	}
}
