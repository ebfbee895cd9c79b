package store_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/platform/ratelimit"
	"github.com/sessionshq/sessions/internal/store"
)

var accountsT0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newTestAccount(t *testing.T, db *database.DB, email string) account.Account {
	t.Helper()
	a := account.Account{
		ID: account.NewID(), Email: email, PasswordHash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		PasswordChangedAt: accountsT0, Name: "Ada <b>Lovelace</b>", Status: account.Active,
		CreatedAt: accountsT0, UpdatedAt: accountsT0, LastActiveAt: accountsT0,
	}
	if err := store.CreateAccount(context.Background(), db, a); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	return a
}

func TestAccountRoundTripAndUniqueEmail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	a := newTestAccount(t, db, "ada@example.com")

	got, err := store.AccountByEmail(ctx, db, "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != a.ID || got.Name != a.Name || got.Status != account.Active || got.Verified() || got.TOTPEnabled() ||
		!got.CreatedAt.Equal(accountsT0) || !got.LastActiveAt.Equal(accountsT0) {
		t.Fatalf("round trip: got %+v", got)
	}
	dup := a
	dup.ID = account.NewID()
	if err := store.CreateAccount(ctx, db, dup); !errors.Is(err, database.ErrDuplicate) {
		t.Fatalf("a second account on the same address: %v, want ErrDuplicate", err)
	}
	if _, err := store.AccountByEmail(ctx, db, "nobody@example.com"); !errors.Is(err, database.ErrNotFound) {
		t.Fatalf("unknown address: %v", err)
	}

	changed, err := store.MarkEmailVerified(ctx, db, a.ID, accountsT0.Add(time.Hour))
	if err != nil || !changed {
		t.Fatalf("MarkEmailVerified = %v, %v", changed, err)
	}
	if changed, _ := store.MarkEmailVerified(ctx, db, a.ID, accountsT0.Add(2*time.Hour)); changed {
		t.Fatal("verifying twice reported a change")
	}
	got, _ = store.AccountByID(ctx, db, a.ID)
	if got.EmailVerifiedAt == nil || !got.EmailVerifiedAt.Equal(accountsT0.Add(time.Hour)) {
		t.Fatalf("verified at %v", got.EmailVerifiedAt)
	}
}

func TestTouchAccountActiveAtMostHourly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	a := newTestAccount(t, db, "ada@example.com")
	for _, tc := range []struct {
		at   time.Duration
		want time.Duration
	}{
		{30 * time.Minute, 0}, // too soon: unchanged
		{61 * time.Minute, 61 * time.Minute},
		{90 * time.Minute, 61 * time.Minute},
	} {
		if err := store.TouchAccountActive(ctx, db, a.ID, accountsT0.Add(tc.at)); err != nil {
			t.Fatal(err)
		}
		got, _ := store.AccountByID(ctx, db, a.ID)
		if !got.LastActiveAt.Equal(accountsT0.Add(tc.want)) {
			t.Fatalf("after a touch at +%v last_active_at = %v, want +%v", tc.at, got.LastActiveAt, tc.want)
		}
	}
}

func TestSessionsAndTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	a := newTestAccount(t, db, "ada@example.com")
	b := newTestAccount(t, db, "bob@example.com")
	mk := func(acc account.Account, token string, at time.Time) account.Session {
		s := account.Session{ID: account.NewSessionID(), AccountID: acc.ID, Client: "Firefox on Linux",
			CreatedAt: at, LastSeenAt: at, ExpiresAt: at.Add(account.SessionAbsolute)}
		if err := store.CreateSession(ctx, db, s, account.TokenDigest(token)); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s1 := mk(a, "tok-1", accountsT0)
	s2 := mk(a, "tok-2", accountsT0.Add(time.Minute))
	sb := mk(b, "tok-b", accountsT0)

	got, acc, err := store.SessionByDigest(ctx, db, account.TokenDigest("tok-1"))
	if err != nil || got.ID != s1.ID || acc.ID != a.ID || acc.Email != a.Email {
		t.Fatalf("SessionByDigest = %+v, %+v, %v", got, acc, err)
	}
	list, err := store.ListSessions(ctx, db, a.ID, accountsT0.Add(2*time.Minute))
	if err != nil || len(list) != 2 || list[0].ID != s2.ID {
		t.Fatalf("ListSessions = %+v, %v; want both, newest first", list, err)
	}
	// Idle past the limit: no longer listed.
	if list, _ := store.ListSessions(ctx, db, a.ID, accountsT0.Add(account.SessionIdle+2*time.Minute)); len(list) != 0 {
		t.Fatalf("idle sessions still listed: %+v", list)
	}
	if ok, err := store.DeleteSession(ctx, db, a.ID, sb.ID); err != nil || ok {
		t.Fatalf("deleting another account's session: %v, %v", ok, err)
	}
	n, err := store.DeleteSessions(ctx, db, a.ID, s2.ID)
	if err != nil || n != 1 {
		t.Fatalf("DeleteSessions kept s2: %d, %v", n, err)
	}
	if _, _, err := store.SessionByDigest(ctx, db, account.TokenDigest("tok-1")); !errors.Is(err, database.ErrNotFound) {
		t.Fatalf("ended session still found: %v", err)
	}
	if _, _, err := store.SessionByDigest(ctx, db, account.TokenDigest("tok-b")); err != nil {
		t.Fatalf("the other account's session went too: %v", err)
	}

	tok := account.APIToken{ID: account.NewTokenID(), AccountID: a.ID, Name: "ci", Scopes: []account.Scope{account.ScopeMeetings, account.ScopePrivacy},
		CreatedAt: accountsT0, ExpiresAt: accountsT0.Add(90 * 24 * time.Hour)}
	if err := store.CreateAPIToken(ctx, db, tok, account.TokenDigest("sst_x")); err != nil {
		t.Fatal(err)
	}
	if err := store.TouchAPIToken(ctx, db, tok.ID, accountsT0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	gt, ga, err := store.APITokenByDigest(ctx, db, account.TokenDigest("sst_x"))
	if err != nil || gt.ID != tok.ID || ga.ID != a.ID || gt.LastUsedAt == nil || !gt.LastUsedAt.Equal(accountsT0.Add(time.Hour)) {
		t.Fatalf("APITokenByDigest = %+v, %v", gt, err)
	}
	if ok, _ := store.DeleteAPIToken(ctx, db, b.ID, tok.ID); ok {
		t.Fatal("another account revoked the token")
	}
	if ok, _ := store.DeleteAPIToken(ctx, db, a.ID, tok.ID); !ok {
		t.Fatal("the owner could not revoke the token")
	}
	if _, _, err := store.APITokenByDigest(ctx, db, account.TokenDigest("sst_x")); !errors.Is(err, database.ErrNotFound) {
		t.Fatalf("revoked token still found: %v", err)
	}
}

func TestEmailTokensAreSingleUse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	a := newTestAccount(t, db, "ada@example.com")
	exp := accountsT0.Add(time.Hour)
	if err := store.CreateEmailToken(ctx, db, "d1", account.PurposeChangeEmail, a.ID, "new@example.com", accountsT0, exp); err != nil {
		t.Fatal(err)
	}
	if live, _ := store.EmailTokenLive(ctx, db, "d1", account.PurposeChangeEmail, a.ID, accountsT0); !live {
		t.Fatal("a fresh link is not live")
	}
	for _, tc := range []struct {
		name, digest, purpose, subject string
		at                             time.Time
	}{
		{"wrong purpose", "d1", account.PurposeReset, a.ID, accountsT0},
		{"wrong account", "d1", account.PurposeChangeEmail, "acc_other", accountsT0},
		{"expired", "d1", account.PurposeChangeEmail, a.ID, exp},
		{"never issued", "d2", account.PurposeChangeEmail, a.ID, accountsT0},
	} {
		if _, err := store.UseEmailToken(ctx, db, tc.digest, tc.purpose, tc.subject, tc.at); !errors.Is(err, database.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", tc.name, err)
		}
	}
	ne, err := store.UseEmailToken(ctx, db, "d1", account.PurposeChangeEmail, a.ID, accountsT0)
	if err != nil || ne != "new@example.com" {
		t.Fatalf("UseEmailToken = %q, %v", ne, err)
	}
	if _, err := store.UseEmailToken(ctx, db, "d1", account.PurposeChangeEmail, a.ID, accountsT0); !errors.Is(err, database.ErrNotFound) {
		t.Fatalf("a spent link worked again: %v", err)
	}

	// Voiding spends every open link of that purpose.
	_ = store.CreateEmailToken(ctx, db, "r1", account.PurposeReset, a.ID, "", accountsT0, exp)
	_ = store.CreateEmailToken(ctx, db, "r2", account.PurposeReset, a.ID, "", accountsT0, exp)
	if err := store.VoidEmailTokens(ctx, db, a.ID, account.PurposeReset, accountsT0); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"r1", "r2"} {
		if live, _ := store.EmailTokenLive(ctx, db, d, account.PurposeReset, a.ID, accountsT0); live {
			t.Errorf("%s still live after voiding", d)
		}
	}
}

func TestTOTPStateAndRecoveryCodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	a := newTestAccount(t, db, "ada@example.com")
	sealed := []byte{1, 2, 3, 4}
	if err := store.SetTOTPPending(ctx, db, a.ID, sealed, accountsT0); err != nil {
		t.Fatal(err)
	}
	got, _ := store.AccountByID(ctx, db, a.ID)
	if got.TOTPEnabled() || !bytes.Equal(got.TOTPSecret, sealed) {
		t.Fatalf("pending secret: %+v", got)
	}
	if ok, err := store.EnableTOTP(ctx, db, a.ID, 100, accountsT0); err != nil || !ok {
		t.Fatalf("EnableTOTP = %v, %v", ok, err)
	}
	for _, tc := range []struct {
		step int64
		want bool
	}{{100, false}, {99, false}, {101, true}, {101, false}} {
		if ok, err := store.UseTOTPStep(ctx, db, a.ID, tc.step); err != nil || ok != tc.want {
			t.Errorf("UseTOTPStep(%d) = %v, %v; want %v", tc.step, ok, err, tc.want)
		}
	}
	if err := store.ReplaceRecoveryCodes(ctx, db, a.ID, []string{"h1", "h2"}, accountsT0); err != nil {
		t.Fatal(err)
	}
	if ok, _ := store.UseRecoveryCode(ctx, db, a.ID, "h1", accountsT0); !ok {
		t.Fatal("an unused code was refused")
	}
	if ok, _ := store.UseRecoveryCode(ctx, db, a.ID, "h1", accountsT0); ok {
		t.Fatal("a code worked twice")
	}
	if n, _ := store.RecoveryCodesLeft(ctx, db, a.ID); n != 1 {
		t.Fatalf("codes left = %d, want 1", n)
	}
	if err := store.DisableTOTP(ctx, db, a.ID, accountsT0); err != nil {
		t.Fatal(err)
	}
	got, _ = store.AccountByID(ctx, db, a.ID)
	if got.TOTPEnabled() || got.TOTPSecret != nil {
		t.Fatalf("after disabling: %+v", got)
	}
	if n, _ := store.RecoveryCodesLeft(ctx, db, a.ID); n != 0 {
		t.Fatalf("recovery codes survived disabling: %d", n)
	}
}

// TestTakeAttemptFollowsThePolicy holds the one statement that counts an
// attempt to ratelimit.Policy.Take and Refund, step by step: through a
// lockout, its end, a window that passes and a refund.
func TestTakeAttemptFollowsThePolicy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	p := ratelimit.Policy{Limit: 3, Window: 10 * time.Minute, Lockout: 15 * time.Minute}
	var model ratelimit.State
	var took ratelimit.State
	step := func(name string, at time.Duration, refund bool) {
		t.Helper()
		if refund {
			model = p.Refund(model)
			if err := store.RefundAttempt(ctx, db, "k", p, took.WindowStart); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		} else {
			var wantOK bool
			model, wantOK = p.Take(model, accountsT0.Add(at))
			st, ok, err := store.TakeAttempt(ctx, db, "k", p, accountsT0.Add(at))
			if err != nil || ok != wantOK {
				t.Fatalf("%s: allowed=%v (%v), want %v", name, ok, err, wantOK)
			}
			took = st
		}
		if st, err := store.Throttle(ctx, db, "k"); err != nil || !st.WindowStart.Equal(model.WindowStart) ||
			!st.LockedUntil.Equal(model.LockedUntil) || st.Failures != model.Failures {
			t.Fatalf("%s: stored %+v (%v), want %+v", name, st, err, model)
		}
	}
	step("first", 0, false)
	step("second", time.Minute, false)
	step("a success", time.Minute, true)
	step("again", 2*time.Minute, false)
	step("reaching the limit", 3*time.Minute, false)
	step("locked", 4*time.Minute, false)
	step("still locked", 17*time.Minute, false)
	step("after the lockout", 18*time.Minute, false)
	step("in the window", 27*time.Minute, false)
	step("after the window", 28*time.Minute, false)
	// A refund for a window that has started over takes nothing back.
	step("next", 29*time.Minute, false)
	if err := store.RefundAttempt(ctx, db, "k", p, took.WindowStart.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if st, _ := store.Throttle(ctx, db, "k"); st.Failures != 2 {
		t.Fatalf("a refund for an earlier window took back an attempt: %+v", st)
	}
	if err := store.ClearThrottle(ctx, db, "k"); err != nil {
		t.Fatal(err)
	}
	if st, _ := store.Throttle(ctx, db, "k"); st != (ratelimit.State{}) {
		t.Fatalf("cleared counter = %+v", st)
	}
}

// TestTakeAttemptAllowsTheLimitUnderConcurrency fires a burst of attempts
// on one key from many connections, as many server instances would, while
// successes clear it: exactly the limit go ahead between two clears, and
// none fails.
func TestTakeAttemptAllowsTheLimitUnderConcurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	p := ratelimit.Policy{Limit: 5, Window: time.Hour, Lockout: time.Hour}
	const n = 60
	var wg sync.WaitGroup
	var allowed atomic.Int64
	errc := make(chan error, 2*n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ok, err := store.TakeAttempt(ctx, db, "burst", p, accountsT0)
			if ok {
				allowed.Add(1)
			}
			errc <- err
		}()
		// Another key, cleared by successes in the middle of its burst:
		// the attempts never find a missing row.
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%10 == 0 {
				errc <- store.ClearThrottle(ctx, db, "cleared")
				return
			}
			_, _, err := store.TakeAttempt(ctx, db, "cleared", p, accountsT0)
			errc <- err
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := allowed.Load(); got != int64(p.Limit) {
		t.Fatalf("%d of %d concurrent attempts went ahead, want exactly %d", got, n, p.Limit)
	}
	st, err := store.Throttle(ctx, db, "burst")
	if _, locked := p.Blocked(st, accountsT0); err != nil || !locked {
		t.Fatalf("not locked after the burst: %+v (%v)", st, err)
	}
}

// TestMigrationScopesAndExpiresExistingTokens replays the migration that
// gave tokens scopes and an expiry over a token made before it: the token
// keeps every scope a member may give (not staff) and lives 90 days from
// the upgrade.
func TestMigrationScopesAndExpiresExistingTokens(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Open(t)
	a := newTestAccount(t, db, "ada@example.com")
	// Back to the table as it was before the migration.
	for _, q := range []string{
		`DROP INDEX api_tokens_expires_at`,
		`ALTER TABLE api_tokens DROP COLUMN expires_at`,
		`ALTER TABLE api_tokens DROP COLUMN scopes`,
		`DELETE FROM schema_migrations WHERE name = 'api_token_scopes'`,
	} {
		if _, err := db.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := db.Exec(ctx, `INSERT INTO api_tokens (id, account_id, name, token_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
		"tok_old", a.ID, "old script", account.TokenDigest("sst_old"), accountsT0); err != nil {
		t.Fatal(err)
	}
	applied, err := db.Migrate(ctx, time.Now)
	if err != nil || len(applied) != 1 {
		t.Fatalf("migrate: %v, %v", applied, err)
	}
	tok, _, err := store.APITokenByDigest(ctx, db, account.TokenDigest("sst_old"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tok.Scopes, account.MemberScopes) || tok.Has(account.ScopeStaff) {
		t.Fatalf("scopes after the migration = %v, want every scope but staff", tok.Scopes)
	}
	now := time.Now()
	if !tok.Live(now) || !tok.Live(now.Add(89*24*time.Hour)) || tok.Live(now.Add(91*24*time.Hour)) {
		t.Fatalf("the migrated token expires at %v, want 90 days from now", tok.ExpiresAt)
	}
}
