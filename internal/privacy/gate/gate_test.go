package gate

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/privacy/consent"
)

var now = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// rec is a ledger record about purpose in state, made a day ago.
func rec(purpose string, state consent.State, method consent.Method, gpc bool) consent.Record {
	return consent.Record{ID: "cns_test", SubjectKind: consent.Member, SubjectID: "acc_1", Purposes: []string{purpose},
		NoticeID: "cookies", NoticeVersion: "1",
		Method: method, State: state, At: now.Add(-24 * time.Hour), GPC: gpc}
}

func consents(rs ...consent.Record) map[string]consent.Record {
	out := map[string]consent.Record{}
	for _, r := range rs {
		for _, p := range r.Purposes {
			out[p] = r
		}
	}
	return out
}

var (
	adult          = &account.Restrictions{Marketing: true, Analytics: true, Recording: true, AI: true}
	child          = &account.Restrictions{Child: true}
	confirmedChild = &account.Restrictions{Child: true, GuardianConfirmed: true, Marketing: true, Analytics: true, Recording: true, AI: true}
	longAgo        = now.AddDate(0, -7, 0)
	member         = Member("acc_1")
	given          = func(p string) map[string]consent.Record {
		return consents(rec(p, consent.Given, consent.Banner, false))
	}
	givenWithSignal = func(p string) map[string]consent.Record {
		return consents(rec(p, consent.Given, consent.Settings, true))
	}
	refusedBySignal = func(p string) map[string]consent.Record { return consents(rec(p, consent.Refused, consent.GPC, true)) }
	expiredGiven    = func(p string) map[string]consent.Record {
		r := rec(p, consent.Given, consent.Banner, false)
		r.At = longAgo
		return consents(r)
	}
	withState = func(p string, s consent.State) map[string]consent.Record {
		return consents(rec(p, s, consent.Settings, false))
	}
	wrongPurposeFile = func(p string) map[string]consent.Record {
		return map[string]consent.Record{p: rec("analytics", consent.Given, consent.Banner, false)}
	}
)

func TestDecide(t *testing.T) {
	cases := []struct {
		name    string
		in      Inputs
		purpose string
		allowed bool
		reason  string
	}{
		// Basis: consent only (behaviour-tracking) × consent state.
		{"consent basis, given", Inputs{Consents: given("behaviour-tracking")}, "behaviour-tracking", true, ReasonConsent},
		{"consent basis, refused", Inputs{Consents: withState("behaviour-tracking", consent.Refused)}, "behaviour-tracking", false, ReasonRefused},
		{"consent basis, withdrawn", Inputs{Consents: withState("behaviour-tracking", consent.Withdrawn)}, "behaviour-tracking", false, ReasonWithdrawn},
		{"consent basis, recorded expired", Inputs{Consents: withState("behaviour-tracking", consent.Expired)}, "behaviour-tracking", false, ReasonExpired},
		{"consent basis, given seven months ago", Inputs{Consents: expiredGiven("behaviour-tracking")}, "behaviour-tracking", false, ReasonExpired},
		{"consent basis, none", Inputs{}, "behaviour-tracking", false, ReasonNoConsent},
		{"consent basis, given under the notice in force", Inputs{Consents: given("behaviour-tracking"), Notices: map[string]string{"cookies": "1"}}, "behaviour-tracking", true, ReasonConsent},
		{"consent basis, given under an older notice", Inputs{Consents: given("behaviour-tracking"), Notices: map[string]string{"cookies": "2"}}, "behaviour-tracking", false, ReasonExpired},
		{"consent basis, refusal under an older notice stays a refusal", Inputs{Consents: withState("behaviour-tracking", consent.Refused), Notices: map[string]string{"cookies": "2"}}, "behaviour-tracking", false, ReasonRefused},
		{"consent basis, other notices unchecked", Inputs{Consents: given("behaviour-tracking"), Notices: map[string]string{"privacy": "7"}}, "behaviour-tracking", true, ReasonConsent},
		{"consent basis, another purpose's consent", Inputs{Consents: given("analytics")}, "behaviour-tracking", false, ReasonNoConsent},
		{"consent basis, record filed under the wrong purpose", Inputs{Consents: wrongPurposeFile("behaviour-tracking")}, "behaviour-tracking", false, ReasonNoConsent},

		// Basis: consent or legitimate interest (analytics): consent is asked, so it decides.
		{"consent-or-LI basis, given", Inputs{Consents: given("analytics")}, "analytics", true, ReasonConsent},
		{"consent-or-LI basis, refused", Inputs{Consents: withState("analytics", consent.Refused)}, "analytics", false, ReasonRefused},
		{"consent-or-LI basis, withdrawn", Inputs{Consents: withState("analytics", consent.Withdrawn)}, "analytics", false, ReasonWithdrawn},
		{"consent-or-LI basis, expired", Inputs{Consents: expiredGiven("analytics")}, "analytics", false, ReasonExpired},
		{"consent-or-LI basis, none", Inputs{}, "analytics", false, ReasonNoConsent},
		{"personalisation, given", Inputs{Consents: given("personalisation")}, "personalisation", true, ReasonConsent},

		// Basis: legitimate interest only: consent records do not matter, objections do.
		{"LI basis, none", Inputs{}, "statistics", true, ReasonLegitimateInterest},
		{"LI basis, a refusal on file is no objection", Inputs{Consents: withState("statistics", consent.Refused)}, "statistics", true, ReasonLegitimateInterest},
		{"marketing, no objection", Inputs{Age: adult}, "marketing", true, ReasonLegitimateInterest},
		{"marketing, objection", Inputs{Age: adult, ObjectsToMarketing: true}, "marketing", false, ReasonObjectMarket},
		{"marketing objection leaves statistics", Inputs{ObjectsToMarketing: true}, "statistics", true, ReasonLegitimateInterest},
		{"marketing objection leaves analytics to consent", Inputs{ObjectsToMarketing: true, Consents: given("analytics")}, "analytics", true, ReasonConsent},
		{"profiling objection stops tracking despite consent", Inputs{ObjectsToProfiling: true, Consents: given("behaviour-tracking")}, "behaviour-tracking", false, ReasonObjectProfile},
		{"profiling objection stops personalisation despite consent", Inputs{ObjectsToProfiling: true, Consents: given("personalisation")}, "personalisation", false, ReasonObjectProfile},
		{"profiling objection leaves marketing", Inputs{ObjectsToProfiling: true}, "marketing", true, ReasonLegitimateInterest},

		// Basis: contract and legal obligation.
		{"contract basis", Inputs{}, "account", true, ReasonContract},
		{"contract basis, refusals irrelevant", Inputs{Consents: withState("service", consent.Refused), ObjectsToMarketing: true, ObjectsToProfiling: true}, "service", true, ReasonContract},
		{"legal obligation basis", Inputs{}, "legal-compliance", true, ReasonLegalObligation},
		{"legal obligation or LI basis", Inputs{ObjectsToMarketing: true}, "security", true, ReasonLegalObligation},

		// Restriction: storage and what the service and the law need.
		{"restricted: contract goes on", Inputs{Restricted: true}, "service", true, ReasonContract},
		{"restricted: legal obligation goes on", Inputs{Restricted: true}, "legal-compliance", true, ReasonLegalObligation},
		{"restricted: security goes on", Inputs{Restricted: true}, "security", true, ReasonLegalObligation},
		{"restricted: no analytics despite consent", Inputs{Restricted: true, Consents: given("analytics")}, "analytics", false, ReasonRestricted},
		{"restricted: no marketing", Inputs{Restricted: true, Age: adult}, "marketing", false, ReasonRestricted},
		{"restricted: no statistics", Inputs{Restricted: true}, "statistics", false, ReasonRestricted},
		{"restricted: no recording despite consent", Inputs{Restricted: true, Consents: given("recording")}, "recording", false, ReasonRestricted},
		{"restricted: no AI despite consent", Inputs{Restricted: true, Consents: given("ai-processing")}, "ai-processing", false, ReasonRestricted},
		{"restricted: no corporate transaction", Inputs{Restricted: true}, "corporate-transaction", false, ReasonRestricted},

		// Child accounts: off until a guardian confirms, then the person's own choice.
		{"child: no marketing", Inputs{Age: child}, "marketing", false, ReasonChild},
		{"child: no analytics despite consent", Inputs{Age: child, Consents: given("analytics")}, "analytics", false, ReasonChild},
		{"child: no tracking despite consent", Inputs{Age: child, Consents: given("behaviour-tracking")}, "behaviour-tracking", false, ReasonChild},
		{"child: no recording despite consent", Inputs{Age: child, Consents: given("recording")}, "recording", false, ReasonChild},
		{"child: no AI despite consent", Inputs{Age: child, Consents: given("ai-processing")}, "ai-processing", false, ReasonChild},
		{"child: the service goes on", Inputs{Age: child}, "service", true, ReasonContract},
		{"child: personalisation by consent", Inputs{Age: child, Consents: given("personalisation")}, "personalisation", true, ReasonConsent},
		{"confirmed child: marketing", Inputs{Age: confirmedChild}, "marketing", true, ReasonLegitimateInterest},
		{"confirmed child: analytics with consent", Inputs{Age: confirmedChild, Consents: given("analytics")}, "analytics", true, ReasonConsent},
		{"confirmed child: analytics still needs consent", Inputs{Age: confirmedChild}, "analytics", false, ReasonNoConsent},
		{"confirmed child: recording with consent", Inputs{Age: confirmedChild, Consents: given("recording")}, "recording", true, ReasonConsent},
		{"confirmed child: objection still counts", Inputs{Age: confirmedChild, ObjectsToMarketing: true}, "marketing", false, ReasonObjectMarket},
		{"adult: AI with consent", Inputs{Age: adult, Consents: given("ai-processing")}, "ai-processing", true, ReasonConsent},
		{"adult: AI without consent", Inputs{Age: adult}, "ai-processing", false, ReasonNoConsent},

		// Global Privacy Control.
		{"GPC: tracking off without a choice", Inputs{GPC: true}, "behaviour-tracking", false, ReasonGPC},
		{"GPC: overrides a consent given without the signal", Inputs{GPC: true, Consents: given("behaviour-tracking")}, "behaviour-tracking", false, ReasonGPC},
		{"GPC: explicit opt-in while signalling wins", Inputs{GPC: true, Consents: givenWithSignal("behaviour-tracking")}, "behaviour-tracking", true, ReasonConsent},
		{"GPC: that opt-in lapses like any consent", Inputs{GPC: true, Consents: func() map[string]consent.Record {
			r := rec("behaviour-tracking", consent.Given, consent.Settings, true)
			r.At = longAgo
			return consents(r)
		}()}, "behaviour-tracking", false, ReasonGPC},
		{"GPC: refusal recorded, signal still on", Inputs{GPC: true, Consents: refusedBySignal("behaviour-tracking")}, "behaviour-tracking", false, ReasonGPC},
		{"GPC: refusal recorded, signal now off", Inputs{Consents: refusedBySignal("behaviour-tracking")}, "behaviour-tracking", false, ReasonGPC},
		{"GPC: signal does not touch analytics", Inputs{GPC: true, Consents: given("analytics")}, "analytics", true, ReasonConsent},
		{"GPC: signal does not touch personalisation", Inputs{GPC: true, Consents: given("personalisation")}, "personalisation", true, ReasonConsent},
		{"GPC: signal does not touch e-mail marketing", Inputs{GPC: true, Age: adult}, "marketing", true, ReasonLegitimateInterest},
		{"GPC: signal does not touch the service", Inputs{GPC: true}, "service", true, ReasonContract},
		{"GPC off: consent decides", Inputs{Consents: given("behaviour-tracking")}, "behaviour-tracking", true, ReasonConsent},
		{"GPC: opt-in for analytics does not lift tracking", Inputs{GPC: true, Consents: consents(
			rec("analytics", consent.Given, consent.Settings, true), rec("behaviour-tracking", consent.Refused, consent.GPC, true))}, "behaviour-tracking", false, ReasonGPC},
		{"GPC: opt-in while signalling, then restricted", Inputs{GPC: true, Restricted: true, Consents: givenWithSignal("behaviour-tracking")}, "behaviour-tracking", false, ReasonRestricted},
		{"GPC: opt-in while signalling, child", Inputs{GPC: true, Age: child, Consents: givenWithSignal("behaviour-tracking")}, "behaviour-tracking", false, ReasonChild},

		// Purposes the data map does not know.
		{"unknown purpose", Inputs{}, "selling-data", false, ReasonUnknownPurpose},
		{"unknown purpose with a forged consent", Inputs{Consents: given("selling-data")}, "selling-data", false, ReasonUnknownPurpose},
		{"empty purpose", Inputs{}, "", false, ReasonUnknownPurpose},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := c.in
			in.Now, in.Subject = now, member
			got := Decide(in, c.purpose)
			if got.Allowed != c.allowed || got.Reason != c.reason {
				t.Errorf("Decide(%s) = %+v, want allowed=%v reason %q", c.purpose, got, c.allowed, c.reason)
			}
		})
	}
}

// TestDecideCombinations walks every combination of the inputs for one
// purpose of each basis and checks the rules that must hold whatever
// else is set.
func TestDecideCombinations(t *testing.T) {
	purposes := []string{"behaviour-tracking", "analytics", "statistics", "marketing", "account", "legal-compliance", "recording"}
	states := []struct {
		name string
		recs func(p string) map[string]consent.Record
	}{
		{"none", func(string) map[string]consent.Record { return nil }},
		{"given", given},
		{"given-with-gpc", givenWithSignal},
		{"refused", func(p string) map[string]consent.Record { return withState(p, consent.Refused) }},
		{"refused-by-gpc", refusedBySignal},
		{"withdrawn", func(p string) map[string]consent.Record { return withState(p, consent.Withdrawn) }},
		{"expired", expiredGiven},
	}
	ages := []*account.Restrictions{nil, adult, child, confirmedChild}
	bools := []bool{false, true}
	n := 0
	for _, p := range purposes {
		base, _ := consent.Purpose(p)
		for _, st := range states {
			for _, age := range ages {
				for _, objM := range bools {
					for _, objP := range bools {
						for _, restricted := range bools {
							for _, gpc := range bools {
								n++
								in := Inputs{Subject: member, Now: now, Consents: st.recs(p), Age: age,
									ObjectsToMarketing: objM, ObjectsToProfiling: objP, Restricted: restricted, GPC: gpc}
								d := Decide(in, p)
								where := fmt.Sprintf("%s consent=%s age=%v objM=%v objP=%v restricted=%v gpc=%v: %+v",
									p, st.name, age, objM, objP, restricted, gpc, d)
								if d.Reason == "" {
									t.Errorf("%s: no reason", where)
								}
								if !d.Allowed {
									continue
								}
								if restricted && !slices.Contains(storageOnly, p) {
									t.Errorf("%s: allowed while restricted", where)
								}
								if age == child && slices.Contains([]string{"marketing", "analytics", "behaviour-tracking", "recording"}, p) {
									t.Errorf("%s: allowed for an unconfirmed child", where)
								}
								if slices.Contains(base.Bases, "consent") && st.name != "given" && st.name != "given-with-gpc" {
									t.Errorf("%s: consent purpose allowed without a current consent", where)
								}
								if gpc && slices.Contains(GPCPurposes, p) && st.name != "given-with-gpc" {
									t.Errorf("%s: tracking allowed against the GPC signal", where)
								}
								if objM && p == "marketing" {
									t.Errorf("%s: marketing allowed despite the objection", where)
								}
							}
						}
					}
				}
			}
		}
	}
	if n != 7*7*4*2*2*2*2 {
		t.Fatalf("walked %d combinations", n)
	}
}
