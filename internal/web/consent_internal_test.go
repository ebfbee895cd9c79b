package web

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/consent"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/gate"
	"github.com/sessionshq/sessions/internal/store"
)

// TestGateLoaderReadsEveryInput drives allowed and allowedFor against
// the database: the ledger, objections, the restriction flag, a child
// account's age and the request's GPC signal each change the answer.
func TestGateLoaderReadsEveryInput(t *testing.T) {
	t.Parallel()
	env := newShellServer(t, nil)
	s := env.srv
	ctx := context.Background()
	now := s.Clock.Now()
	newAccount := func(email string) string {
		a := account.Account{ID: account.NewID(), Email: email, EmailVerifiedAt: &now, PasswordHash: "unused",
			PasswordChangedAt: now, Name: email, Status: account.Active, CreatedAt: now, UpdatedAt: now, LastActiveAt: now}
		if err := store.CreateAccount(ctx, s.Services.Env.Store.DB, a); err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	give := func(kind, id string, gpc bool, purposes ...string) {
		t.Helper()
		if err := store.AppendConsent(ctx, s.Services.Env.Store.DB, consent.Record{ID: consent.NewID(), SubjectKind: kind, SubjectID: id,
			NoticeID: "cookies", NoticeVersion: "1", NoticeHash: strings.Repeat("ab", 32), Purposes: purposes,
			Basis: datamap.Consent, Method: consent.Settings, At: s.Clock.Now(), State: consent.Given, GPC: gpc}); err != nil {
			t.Fatal(err)
		}
	}
	ask := func(subject gate.Subject, purpose string, gpc bool) gate.Decision {
		t.Helper()
		r := httptest.NewRequest("GET", "/", nil)
		if gpc {
			r.Header.Set("Sec-GPC", "1")
		}
		d := s.allowed(r, subject, purpose)
		if !gpc {
			d2, err := s.allowedFor(ctx, subject, purpose)
			if err != nil || d2 != d {
				t.Errorf("allowedFor(%v, %s) = %+v, %v; allowed said %+v", subject, purpose, d2, err, d)
			}
		}
		return d
	}
	expect := func(what string, d gate.Decision, allowed bool, reason string) {
		t.Helper()
		if d.Allowed != allowed || d.Reason != reason {
			t.Errorf("%s: %+v, want allowed=%v %q", what, d, allowed, reason)
		}
	}

	ada := newAccount("ada@example.com")
	member := gate.Member(ada)
	expect("no consent", ask(member, "analytics", false), false, gate.ReasonNoConsent)
	give(consent.Member, ada, false, "analytics", "behaviour-tracking")
	expect("consent", ask(member, "analytics", false), true, gate.ReasonConsent)
	expect("marketing", ask(member, "marketing", false), true, gate.ReasonLegitimateInterest)

	// GPC on the request overrides the consent to tracking, and is
	// written to the ledger once; without the signal the recorded refusal
	// still stands.
	for range 2 {
		expect("tracking under GPC", ask(member, "behaviour-tracking", true), false, gate.ReasonGPC)
	}
	expect("analytics under GPC", ask(member, "analytics", true), true, gate.ReasonConsent)
	hist, err := store.ConsentHistory(ctx, s.Services.Env.Store.DB, consent.Member, ada)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[1].Method != consent.GPC {
		t.Fatalf("history after the signal: %+v", hist)
	}
	expect("tracking after GPC, signal off", ask(member, "behaviour-tracking", false), false, gate.ReasonGPC)
	s.Clock.(interface{ Advance(time.Duration) }).Advance(time.Second)
	give(consent.Member, ada, true, "behaviour-tracking")
	expect("explicit opt-in under GPC", ask(member, "behaviour-tracking", true), true, gate.ReasonConsent)

	// Objections (MARKETING's table).
	if _, err := s.Services.Env.Store.DB.Exec(ctx, `INSERT INTO objections (id, person_id, kind, method, status, created_at) VALUES (?, ?, 'marketing', 'settings', 'upheld', ?)`,
		"obj_1", ada, now); err != nil {
		t.Fatal(err)
	}
	expect("marketing objection", ask(member, "marketing", false), false, gate.ReasonObjectMarket)
	if _, err := s.Services.Env.Store.DB.Exec(ctx, `INSERT INTO objections (id, person_id, kind, method, status, created_at) VALUES (?, ?, 'profiling', 'settings', 'upheld', ?)`,
		"obj_2", ada, now); err != nil {
		t.Fatal(err)
	}
	expect("profiling objection", ask(member, "behaviour-tracking", false), false, gate.ReasonObjectProfile)

	// Restriction.
	if err := store.SetRestricted(ctx, s.Services.Env.Store.DB, s.Secret, audit.Party{Kind: "operator"}, ada, true, now); err != nil {
		t.Fatal(err)
	}
	expect("restricted", ask(member, "analytics", false), false, gate.ReasonRestricted)
	expect("restricted service", ask(member, "service", false), true, gate.ReasonContract)

	// A child account: ten years old in Germany, no guardian yet.
	kid := newAccount("kid@example.com")
	if _, err := s.Services.Env.Store.DB.Exec(ctx, `INSERT INTO profiles (account_id, birth_date, country, created_at, updated_at) VALUES (?, '2016-01-01', 'DE', ?, ?)`,
		kid, now, now); err != nil {
		t.Fatal(err)
	}
	give(consent.Member, kid, false, "analytics")
	expect("child analytics", ask(gate.Member(kid), "analytics", false), false, gate.ReasonChild)
	expect("child marketing", ask(gate.Member(kid), "marketing", false), false, gate.ReasonChild)

	// A visitor has only the ledger; an unknown subject has nothing.
	give(consent.Visitor, "vis_1", false, "analytics")
	expect("visitor", ask(gate.Visitor("vis_1"), "analytics", false), true, gate.ReasonConsent)
	expect("other visitor", ask(gate.Visitor("vis_2"), "analytics", false), false, gate.ReasonNoConsent)
	expect("nobody", ask(gate.Subject{}, "analytics", false), false, gate.ReasonNoConsent)
	expect("nobody, contract", ask(gate.Subject{}, "account", false), true, gate.ReasonContract)
}
