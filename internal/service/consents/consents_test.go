package consents_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/analytics"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/privacy/consent"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/gate"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/service/consents"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

var testNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// newService builds the consents service over a fresh database.
func newService(t *testing.T) (*consents.Service, *service.Env) {
	t.Helper()
	db := dbtest.Open(t)
	st, err := store.New(db, []byte("a-test-secret-of-at-least-32-bytes!"))
	if err != nil {
		t.Fatal(err)
	}
	m := datamap.Default()
	env := &service.Env{Store: st, Clock: clock.NewFake(testNow), Log: slog.New(slog.DiscardHandler),
		Secret: []byte("a-test-secret-of-at-least-32-bytes!"), Map: &m}
	return consents.New(env), env
}

func newMember(t *testing.T, env *service.Env, email string) string {
	t.Helper()
	now := env.Clock.Now()
	a := account.Account{ID: account.NewID(), Email: email, EmailVerifiedAt: &now, PasswordHash: "unused",
		PasswordChangedAt: now, Name: email, Status: account.Active, CreatedAt: now, UpdatedAt: now, LastActiveAt: now}
	if err := store.CreateAccount(context.Background(), env.Store.DB, a); err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// TestAllowedFromInsideAJobsTransaction asks the gate the way a campaign
// batch does, for each recipient while its own transaction is open: the
// answer comes from the ledger and nothing waits on the open
// transaction.
func TestAllowedFromInsideAJobsTransaction(t *testing.T) {
	t.Parallel()
	s, env := newService(t)
	ctx := context.Background()
	ada := newMember(t, env, "ada@example.com")
	browser := consents.Browser{IP: "192.0.2.7", UserAgent: "test"}
	if _, err := s.RecordChoice(ctx, service.Member(ada), consents.Choice{Purposes: []string{"analytics"},
		State: consent.Given, Method: consent.API}, browser); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	err := env.InTx(ctx, func(tx *service.Tx) error {
		for purpose, want := range map[string]string{"analytics": gate.ReasonConsent, "behaviour-tracking": gate.ReasonNoConsent} {
			d, err := s.Allowed(ctx, gate.Member(ada), purpose)
			if err != nil {
				return err
			}
			if d.Reason != want {
				t.Errorf("%s: %+v, want %q", purpose, d, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSetRestrictionIsStaffOnlyAndAudited checks the permission inside
// the use case, as a command or job calling it meets it, and that only
// a change is audited.
func TestSetRestrictionIsStaffOnlyAndAudited(t *testing.T) {
	t.Parallel()
	s, env := newService(t)
	ctx := context.Background()
	ada := newMember(t, env, "ada@example.com")
	po := newMember(t, env, "po@example.com")
	officer := service.Actor{AccountID: po, Roles: []staff.Role{staff.PrivacyOfficer}}
	entries := func() int {
		t.Helper()
		var n int
		if err := env.Store.DB.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action LIKE 'restriction.%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	if err := s.SetRestriction(ctx, service.Member(ada), ada, true); errs.CodeOf(err) != errs.Forbidden {
		t.Errorf("a member restricting: %v, want forbidden", err)
	}
	if err := s.SetRestriction(ctx, service.Actor{}, ada, true); errs.CodeOf(err) != errs.Unauthorized {
		t.Errorf("nobody restricting: %v, want unauthorized", err)
	}
	if err := s.SetRestriction(ctx, officer, "acc_nobody", true); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("restricting nobody: %v, want not found", err)
	}
	if on, _ := store.Restricted(ctx, env.Store.DB, ada); on || entries() != 0 {
		t.Fatalf("refused attempts changed something: restricted=%v, %d entries", on, entries())
	}

	steps := []struct {
		restricted bool
		entries    int
		reason     string
	}{{true, 1, gate.ReasonRestricted}, {true, 1, gate.ReasonRestricted}, {false, 2, gate.ReasonNoConsent}}
	for i, st := range steps {
		if err := s.SetRestriction(ctx, officer, ada, st.restricted); err != nil {
			t.Fatal(err)
		}
		if n := entries(); n != st.entries {
			t.Errorf("step %d: %d audit entries, want %d", i, n, st.entries)
		}
		if d, err := s.Allowed(ctx, gate.Member(ada), "analytics"); err != nil || d.Reason != st.reason {
			t.Errorf("step %d: gate says %+v, %v; want %q", i, d, err, st.reason)
		}
	}
}

// TestCollectNeedsTheChoiceAndTheLedger keeps an event only once the
// browser's cookie choice allows analytics and the ledger holds that
// choice; a forged cookie alone keeps nothing.
func TestCollectNeedsTheChoiceAndTheLedger(t *testing.T) {
	t.Parallel()
	s, env := newService(t)
	ctx := context.Background()
	hit := consents.Hit{Event: analytics.Checked{Kind: analytics.PageView, Path: "/"}, Route: "/"}
	browser := consents.Browser{IP: "192.0.2.7", UserAgent: "test"}
	count := func() int {
		t.Helper()
		var n int
		if err := env.Store.DB.QueryRow(ctx, `SELECT COUNT(*) FROM analytics_events`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	if res, err := s.Collect(ctx, hit, browser); err != nil || res.Stored {
		t.Errorf("without a choice: %+v, %v", res, err)
	}
	res, err := s.RecordCookieChoice(ctx, "", consents.CookieChoice{Action: "accept-all"}, browser)
	if err != nil {
		t.Fatal(err)
	}
	forged := browser
	forged.Choice, forged.HasChoice = res.Choice, true
	forged.Choice.VisitorID = "vis_not_in_the_ledger"
	if res, err := s.Collect(ctx, hit, forged); err != nil || res.Stored {
		t.Errorf("with a choice the ledger lacks: %+v, %v", res, err)
	}
	if n := count(); n != 0 {
		t.Fatalf("%d events kept without consent", n)
	}

	chosen := browser
	chosen.Choice, chosen.HasChoice = res.Choice, true
	got, err := s.Collect(ctx, hit, chosen)
	if err != nil || !got.Stored || got.NewID == "" {
		t.Fatalf("with consent: %+v, %v", got, err)
	}
	hit.AnalyticsID = got.NewID
	if again, err := s.Collect(ctx, hit, chosen); err != nil || !again.Stored || again.NewID != "" {
		t.Errorf("with today's id: %+v, %v", again, err)
	}
	if n := count(); n != 2 {
		t.Errorf("%d events kept, want 2", n)
	}
}

// TestRecordChoiceOnlyForOneself refuses a choice about someone else
// before anything is written.
func TestRecordChoiceOnlyForOneself(t *testing.T) {
	t.Parallel()
	s, env := newService(t)
	ctx := context.Background()
	ada, bob := newMember(t, env, "ada@example.com"), newMember(t, env, "bob@example.com")
	_, err := s.RecordChoice(ctx, service.Member(ada), consents.Choice{SubjectID: bob, Purposes: []string{"analytics"},
		State: consent.Given, Method: consent.API}, consents.Browser{UserAgent: "test"})
	if errs.CodeOf(err) != errs.Forbidden {
		t.Errorf("recording for someone else: %v, want forbidden", err)
	}
	if hist, err := store.ConsentHistory(ctx, env.Store.DB, consent.Member, bob); err != nil || len(hist) != 0 {
		t.Errorf("bob's ledger: %+v, %v", hist, err)
	}
}
