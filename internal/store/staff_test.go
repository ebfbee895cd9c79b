package store_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

var staffTestSecret = []byte("staff-test-secret-0123456789abcdef")

var staffTestNow = time.Date(2026, 4, 2, 10, 0, 0, 0, time.UTC)

var staffTestOperator = audit.Party{Kind: "operator"}

// staffTestAccount inserts an active, verified account.
func staffTestAccount(t *testing.T, db *database.DB, email string) string {
	t.Helper()
	now := staffTestNow
	a := account.Account{
		ID: account.NewID(), Email: email, EmailVerifiedAt: &now, PasswordHash: "x", PasswordChangedAt: now,
		Name: "Name of " + email, Status: account.Active, CreatedAt: now, UpdatedAt: now, LastActiveAt: now,
	}
	if err := store.CreateAccount(context.Background(), db, a); err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// staffTestAudit returns the actions of the audit log, oldest first.
func staffTestAudit(t *testing.T, db *database.DB) []audit.Record {
	t.Helper()
	recs, err := store.RecentAudit(context.Background(), db, 0, 500)
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(recs)
	return recs
}

func TestStaffRolesGrantAndRevoke(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	ada := staffTestAccount(t, db, "ada@example.com")
	bob := staffTestAccount(t, db, "bob@example.com")

	if roles, err := store.StaffRoles(ctx, db, ada); err != nil || len(roles) != 0 {
		t.Fatalf("a new account holds %v (%v)", roles, err)
	}
	if ok, err := store.AdminExists(ctx, db); err != nil || ok {
		t.Fatalf("AdminExists on an empty instance = %v, %v", ok, err)
	}
	for _, r := range []staff.Role{staff.Admin, staff.Support} {
		granted, err := store.GrantStaffRole(ctx, db, staffTestSecret, staffTestOperator, ada, r, staffTestNow)
		if err != nil || !granted {
			t.Fatalf("grant %s: %v, %v", r, granted, err)
		}
	}
	if granted, err := store.GrantStaffRole(ctx, db, staffTestSecret, staffTestOperator, ada, staff.Admin, staffTestNow); err != nil || granted {
		t.Fatalf("granting a held role again: %v, %v; want no change", granted, err)
	}
	roles, err := store.StaffRoles(ctx, db, ada)
	if err != nil || !slices.Equal(roles, []string{"support", "admin"}) {
		t.Fatalf("roles = %v (%v), want [support admin], narrowest first", roles, err)
	}
	if ok, _ := store.AdminExists(ctx, db); !ok {
		t.Fatal("AdminExists is false with an administrator")
	}

	if _, err := store.GrantStaffRole(ctx, db, staffTestSecret, staffTestOperator, ada, staff.Role("root"), staffTestNow); errs.CodeOf(err) != errs.Invalid {
		t.Errorf("an unknown role: %v, want invalid", err)
	}
	if _, err := store.GrantStaffRole(ctx, db, staffTestSecret, staffTestOperator, "acc_missing", staff.Support, staffTestNow); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("an unknown account: %v, want not found", err)
	}
	if _, err := db.Exec(ctx, `UPDATE accounts SET status = 'deactivated' WHERE id = ?`, bob); err != nil {
		t.Fatal(err)
	}
	if _, err := store.GrantStaffRole(ctx, db, staffTestSecret, staffTestOperator, bob, staff.Support, staffTestNow); errs.CodeOf(err) != errs.Conflict {
		t.Errorf("a deactivated account: %v, want conflict", err)
	}

	// The last administrator cannot lose the role.
	if _, err := store.RemoveStaffRole(ctx, db, ada, staff.Admin); !errors.Is(err, staff.ErrLastAdmin) {
		t.Fatalf("revoking the last admin: %v, want ErrLastAdmin", err)
	}
	if revoked, err := store.RemoveStaffRole(ctx, db, ada, staff.PrivacyOfficer); err != nil || revoked {
		t.Fatalf("revoking a role not held: %v, %v", revoked, err)
	}
	if revoked, err := store.RemoveStaffRole(ctx, db, ada, staff.Support); err != nil || !revoked {
		t.Fatalf("revoke support: %v, %v", revoked, err)
	}

	var actions []string
	for _, r := range staffTestAudit(t, db) {
		d, _ := audit.DecodeDetail(r.Detail)
		actions = append(actions, r.Action+":"+d["role"]+":"+r.SubjectID)
	}
	// A revocation's entry is the service's to write (see
	// console.TestStaffRegisterIsAudited).
	want := []string{"staff.grant:admin:" + ada, "staff.grant:support:" + ada}
	if !slices.Equal(actions, want) {
		t.Fatalf("audit = %q, want %q: only changes are recorded", actions, want)
	}
}

func TestStaffRevokeKeepsOneAdminUnderRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	a := staffTestAccount(t, db, "a@example.com")
	b := staffTestAccount(t, db, "b@example.com")
	for _, id := range []string{a, b} {
		if _, err := store.GrantStaffRole(ctx, db, staffTestSecret, staffTestOperator, id, staff.Admin, staffTestNow); err != nil {
			t.Fatal(err)
		}
	}
	// Each administrator removes the other at the same moment: one wins,
	// the other is refused, and one administrator remains.
	var wg sync.WaitGroup
	results := make([]error, 2)
	for i, pair := range [][2]string{{a, b}, {b, a}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, results[i] = store.RemoveStaffRole(ctx, db, pair[1], staff.Admin)
		}()
	}
	wg.Wait()
	var n int
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM staff_roles WHERE role = 'admin'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d administrators left (errors %v), want exactly 1", n, results)
	}
}

func TestListStaff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	zed := staffTestAccount(t, db, "zed@example.com")
	amy := staffTestAccount(t, db, "amy@example.com")
	staffTestAccount(t, db, "member@example.com")
	store.GrantStaffRole(ctx, db, staffTestSecret, staffTestOperator, zed, staff.Admin, staffTestNow)
	store.GrantStaffRole(ctx, db, staffTestSecret, staffTestOperator, amy, staff.PrivacyOfficer, staffTestNow.Add(time.Hour))
	store.GrantStaffRole(ctx, db, staffTestSecret, staffTestOperator, amy, staff.Support, staffTestNow)
	list, err := store.ListStaff(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].AccountID != amy || list[1].AccountID != zed {
		t.Fatalf("list = %+v, want amy then zed, and no plain member", list)
	}
	if !slices.Equal(list[0].Roles, []staff.Role{staff.Support, staff.PrivacyOfficer}) || !list[0].Since.Equal(staffTestNow) || list[0].Email != "amy@example.com" {
		t.Fatalf("amy = %+v", list[0])
	}
}

func TestSetupTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	open := func(digest string, now time.Time) string {
		t.Helper()
		got, err := store.OpenSetupToken(ctx, db, store.SetupToken{Digest: digest, ExpiresAt: now.Add(staff.SetupTTL)}, now)
		if err != nil {
			t.Fatal(err)
		}
		return got.Digest
	}
	usable := func(digest string, now time.Time) bool {
		t.Helper()
		ok, err := store.SetupTokenUsable(ctx, db, digest, now)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	exp := staffTestNow.Add(staff.SetupTTL)
	if got := open("first", staffTestNow); got != "first" || !usable("first", staffTestNow) {
		t.Fatalf("the first link: opened %q, usable %v", got, usable("first", staffTestNow))
	}
	if usable("first", exp) {
		t.Fatal("the link works at its expiry")
	}
	// A later start gets the open link and voids nothing.
	if got := open("second", staffTestNow.Add(time.Hour)); got != "first" {
		t.Fatalf("a second start opened %q, want the first link", got)
	}
	if !usable("first", staffTestNow.Add(time.Hour)) || usable("second", staffTestNow.Add(time.Hour)) {
		t.Fatal("a second start replaced the open link")
	}
	// An expired, unused link gives way to a new one.
	if got := open("third", exp); got != "third" {
		t.Fatalf("after the expiry: opened %q, want a new link", got)
	}
	spend := func(digest string, now time.Time) error {
		return db.InTx(ctx, func(tx *database.Tx) error { return store.SpendSetupToken(ctx, tx, digest, now) })
	}
	if err := spend("third", exp); err != nil {
		t.Fatal(err)
	}
	if err := spend("third", exp); errs.CodeOf(err) == errs.Internal || err == nil {
		t.Fatalf("spending twice: %v, want a safe refusal", err)
	}
	// A spent link does not stand in the way of the next one, and a voided
	// one neither.
	if got := open("fourth", exp); got != "fourth" {
		t.Fatalf("after a spent link: opened %q", got)
	}
	if err := store.VoidSetupToken(ctx, db, "fourth"); err != nil {
		t.Fatal(err)
	}
	if usable("fourth", exp) {
		t.Fatal("a voided link still works")
	}
	if got := open("fifth", exp); got != "fifth" {
		t.Fatalf("after a voided link: opened %q", got)
	}

	// Once an administrator exists, the open link is dead as well.
	admin := staffTestAccount(t, db, "admin@example.com")
	if _, err := store.GrantStaffRole(ctx, db, staffTestSecret, staffTestOperator, admin, staff.Admin, staffTestNow); err != nil {
		t.Fatal(err)
	}
	if usable("fifth", exp) {
		t.Fatal("a setup link works although an administrator exists")
	}
	if err := spend("fifth", exp); err == nil {
		t.Fatal("a setup link was spent although an administrator exists")
	}
}

// TestSetupTokenIsOnePerDatabase: processes that start at the same time
// with no link open all get one and the same link.
func TestSetupTokenIsOnePerDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	const n = 8
	got := make([]string, n)
	failed := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			now := staffTestNow.Add(time.Duration(i) * time.Second)
			var tok store.SetupToken
			tok, failed[i] = store.OpenSetupToken(ctx, db, store.SetupToken{Digest: "digest-" + string(rune('a'+i)), ExpiresAt: now.Add(staff.SetupTTL)}, now)
			got[i] = tok.Digest
		})
	}
	wg.Wait()
	for i := range n {
		if failed[i] != nil {
			t.Fatalf("start %d: %v", i, failed[i])
		}
		if got[i] != got[0] {
			t.Fatalf("starts at once got different links: %q", got)
		}
	}
	for i := range n {
		digest := "digest-" + string(rune('a'+i))
		if ok, _ := store.SetupTokenUsable(ctx, db, digest, staffTestNow.Add(n*time.Second)); ok != (digest == got[0]) {
			t.Errorf("%s usable = %v; only the one handed out should work", digest, ok)
		}
	}
}
