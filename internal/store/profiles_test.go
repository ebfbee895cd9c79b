package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/platform/signed"
	"github.com/sessionshq/sessions/internal/store"
)

var profileSecret = []byte("profile-test-secret-0123456789abcdef")

var profileNow = time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)

// profileAccount creates an active account and returns its id.
func profileAccount(t *testing.T, db *database.DB, email string) string {
	t.Helper()
	id := account.NewID()
	err := store.CreateAccount(context.Background(), db, account.Account{
		ID: id, Email: email, PasswordHash: "not-a-real-hash", PasswordChangedAt: profileNow, Name: "Member " + email,
		Status: account.Active, CreatedAt: profileNow, UpdatedAt: profileNow, LastActiveAt: profileNow,
	})
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	return id
}

// The use cases around these rows (validation, audit entries, mail) are
// tested in internal/service/accounts; these tests hold the SQL.

func TestSaveProfileRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	id := profileAccount(t, db, "ada@example.com")

	empty, err := store.GetProfile(ctx, db, id)
	if err != nil || empty.AccountID != id || empty.Username != "" {
		t.Fatalf("profile of a new member = %+v, %v", empty, err)
	}
	_, p, err := account.ProfileEdit{Name: "Ada", Username: "Ada", Phone: "+44 20 7946 0958", Interests: []string{"maths", "poetry"}}.Clean(empty, profileNow)
	if err != nil {
		t.Fatal(err)
	}
	p.AvatarKey = "avatar/one"
	if err := store.SaveProfile(ctx, db, p, profileNow); err != nil {
		t.Fatalf("first save: %v", err)
	}
	if err := store.SetAccountName(ctx, db, id, "Ada Lovelace", profileNow); err != nil {
		t.Fatal(err)
	}
	got, err := store.GetProfile(ctx, db, id)
	if err != nil || got.Username != "ada" || got.Phone != "+442079460958" || strings.Join(got.Interests, ",") != "maths,poetry" ||
		got.AvatarKey != "avatar/one" {
		t.Errorf("stored profile = %+v, %v", got, err)
	}
	if acc, _ := store.AccountByID(ctx, db, id); acc.Name != "Ada Lovelace" {
		t.Errorf("name = %q", acc.Name)
	}
	got.AvatarKey = ""
	if err := store.SaveProfile(ctx, db, got, profileNow.Add(time.Minute)); err != nil {
		t.Fatalf("second save: %v", err)
	}
	if got, _ := store.GetProfile(ctx, db, id); got.AvatarKey != "" || !got.UpdatedAt.Equal(profileNow.Add(time.Minute)) {
		t.Errorf("after the second save = %+v", got)
	}

	// A user name is one member's.
	bob := profileAccount(t, db, "bob@example.com")
	if err := store.SaveProfile(ctx, db, account.Profile{AccountID: bob, Username: "ada"}, profileNow); !errors.Is(err, database.ErrDuplicate) {
		t.Errorf("a taken user name: %v", err)
	}
}

func TestGuardianRequestsAreSingleUse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	child := profileAccount(t, db, "kim@example.com")

	send := func(to string, at time.Time) string {
		t.Helper()
		tok := signed.Make(profileSecret, account.GuardianLinkPurpose, "x", at.Add(account.GuardianLinkLifetime))
		if err := store.AddGuardianRequest(ctx, db, account.NewGuardianLinkID(), child, to, signed.Digest(tok),
			at.Add(account.GuardianLinkLifetime), at); err != nil {
			t.Fatalf("request: %v", err)
		}
		return signed.Digest(tok)
	}
	first := send("old-parent@example.com", profileNow)
	second := send("parent@example.com", profileNow.Add(time.Minute))

	if _, err := store.ConfirmGuardianConsent(ctx, db, first, "v", "h", profileNow.Add(2*time.Minute)); !errors.Is(err, store.ErrGuardianLink) {
		t.Fatalf("a superseded link confirmed: %v", err)
	}
	if _, err := store.ConfirmGuardianConsent(ctx, db, second, "v", "h", profileNow.Add(account.GuardianLinkLifetime+time.Minute)); !errors.Is(err, store.ErrGuardianLink) {
		t.Fatalf("an expired link confirmed: %v", err)
	}
	if _, err := store.ConfirmGuardianConsent(ctx, db, "forged", "v", "h", profileNow.Add(2*time.Minute)); !errors.Is(err, store.ErrGuardianLink) {
		t.Fatalf("an unknown link confirmed: %v", err)
	}

	at := profileNow.Add(3 * time.Minute)
	g, err := store.ConfirmGuardianConsent(ctx, db, second, account.GuardianNoticeVersion, account.GuardianNoticeDigest(), at)
	if err != nil {
		t.Fatalf("confirm: %v", err)
	}
	if g.AccountID != child || g.GuardianEmail != "parent@example.com" || g.Status != "confirmed" {
		t.Errorf("confirmation = %+v", g)
	}
	if _, err := store.ConfirmGuardianConsent(ctx, db, second, "v", "h", at.Add(time.Minute)); !errors.Is(err, store.ErrGuardianLink) {
		t.Fatalf("a used link confirmed again: %v", err)
	}

	list, err := store.GuardianRequests(ctx, db, child)
	if err != nil || len(list) != 2 {
		t.Fatalf("requests = %v, %v", list, err)
	}
	ev := list[0]
	if ev.Status != "confirmed" || ev.GuardianEmail != "parent@example.com" || ev.ConfirmedAt == nil || !ev.ConfirmedAt.Equal(at) ||
		ev.NoticeVersion != account.GuardianNoticeVersion || ev.NoticeSHA256 != account.GuardianNoticeDigest() {
		t.Errorf("evidence = %+v", ev)
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM guardian_consents WHERE token_digest = ? AND account_id = ?`, second, child); n != 1 {
		t.Errorf("the token digest is not kept with the evidence")
	}
	if list[1].Status != "superseded" {
		t.Errorf("the first link is %s, want superseded", list[1].Status)
	}
	if p, _ := store.GetProfile(ctx, db, child); p.GuardianConfirmedAt == nil || !p.GuardianConfirmedAt.Equal(at) {
		t.Errorf("the profile does not show the confirmation: %+v", p)
	}
}

func profileSession(t *testing.T, db *database.DB, id string) {
	t.Helper()
	s := account.Session{ID: account.NewSessionID(), AccountID: id, CreatedAt: profileNow, LastSeenAt: profileNow, ExpiresAt: profileNow.Add(24 * time.Hour)}
	if err := store.CreateSession(context.Background(), db, s, "digest-"+s.ID); err != nil {
		t.Fatal(err)
	}
}

func TestDeactivateAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	id := profileAccount(t, db, "ada@example.com")
	profileSession(t, db, id)
	profileSession(t, db, id)

	ended, err := store.DeactivateAccount(ctx, db, id, profileNow)
	if err != nil || ended != 2 {
		t.Fatalf("deactivate: %d, %v", ended, err)
	}
	acc, _ := store.AccountByID(ctx, db, id)
	if acc.Status != account.Deactivated || acc.DeactivatedAt == nil {
		t.Errorf("account = %+v", acc)
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM account_sessions WHERE account_id = ?`, id); n != 0 {
		t.Errorf("%d sessions survived deactivation", n)
	}
	if _, err := store.DeactivateAccount(ctx, db, id, profileNow); errs.CodeOf(err) != errs.Conflict {
		t.Errorf("deactivating twice: %v", err)
	}
	if ok, err := store.ReactivateAccount(ctx, db, id, profileNow.Add(time.Hour)); err != nil || !ok {
		t.Fatalf("reactivate: %v, %v", ok, err)
	}
	if acc, _ := store.AccountByID(ctx, db, id); acc.Status != account.Active {
		t.Errorf("status after reactivation = %s", acc.Status)
	}
}

func TestOpenAccountErasure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	id := profileAccount(t, db, "ada@example.com")
	profileSession(t, db, id)
	req, err := store.OpenAccountErasure(ctx, db, id, profileNow)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if want := time.Date(2026, 2, 28, 10, 0, 0, 0, time.UTC); !req.DueAt.Equal(want) {
		t.Errorf("due %s, want %s", req.DueAt, want)
	}
	list, err := store.AccountRequests(ctx, db, id)
	if err != nil || len(list) != 1 || list[0].Kind != "erasure" || list[0].State != "received" ||
		!list[0].ReceivedAt.Equal(profileNow) || !list[0].DueAt.Equal(req.DueAt) {
		t.Fatalf("requests = %+v, %v", list, err)
	}
	acc, _ := store.AccountByID(ctx, db, id)
	if acc.Status != account.ErasurePending || acc.DeactivatedAt == nil {
		t.Errorf("account = %+v", acc)
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM account_sessions WHERE account_id = ?`, id); n != 0 {
		t.Errorf("%d sessions survived", n)
	}
	if _, err := store.OpenAccountErasure(ctx, db, id, profileNow); errs.CodeOf(err) != errs.Conflict {
		t.Errorf("second request: %v", err)
	}

	// When the erasure is carried out, the request stays without a link.
	if _, err := db.Exec(ctx, `DELETE FROM accounts WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM account_requests WHERE id = ? AND account_id IS NULL`, req.ID); n != 1 {
		t.Errorf("the request record did not outlive the account without its link")
	}
}
