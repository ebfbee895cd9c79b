package retention

import (
	"slices"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
)

// TestBuildCoversEveryAnchoredRule: every rule with an anchor and a
// period that a personal column of the map declares (as its retention, or
// as the end of its keeping) is swept on that table, or is a rule about
// people; the rules about people find their tables.
func TestBuildCoversEveryAnchoredRule(t *testing.T) {
	m := datamap.Default()
	plan := Build(m)
	swept := map[string]bool{}
	for _, s := range plan.Sweeps {
		swept[s.Rule+" "+s.Table] = true
		if s.Action == Anonymise && len(s.Clear) == 0 {
			t.Errorf("%s on %s clears nothing", s.Rule, s.Table)
		}
		if _, ok := m.Table(s.Table); !ok {
			t.Errorf("sweep of unknown table %s", s.Table)
		}
	}
	people := map[string]bool{}
	for _, p := range plan.People {
		people[p.Table] = true
	}
	for _, tb := range m.Tables {
		if people[tb.Name] {
			continue
		}
		for _, c := range tb.PersonalColumns() {
			for _, id := range []string{c.Retention, untilOf(c)} {
				r, ok := m.Rule(id)
				if !ok || r.Anchor == "" {
					continue
				}
				if !swept[id+" "+tb.Name] {
					t.Errorf("%s.%s: rule %s is not swept", tb.Name, c.Name, id)
				}
			}
		}
	}
	for _, tb := range m.Tables {
		if r, ok := m.Rule(tb.Retention); ok && r.Anchor != "" && !swept[r.ID+" "+tb.Name] {
			t.Errorf("%s: the rule of its rows, %s, is not swept", tb.Name, r.ID)
		}
	}
	if i := slices.IndexFunc(plan.Sweeps, func(s Sweep) bool { return s.Table == "organisations" }); i < 0 {
		t.Error("organisations left without an owner are never deleted")
	} else if s := plan.Sweeps[i]; s.Action != Delete || !slices.Contains(s.Files, "logo_key") {
		t.Errorf("organisations sweep = %+v", s)
	}
	kinds := map[PersonKind]PersonRule{}
	for _, p := range plan.People {
		kinds[p.Kind] = p
	}
	if r := kinds[Inactive]; r.Table != "accounts" || r.Anchor != "last_active_at" || r.Email != "email" {
		t.Errorf("inactive rule = %+v", r)
	}
	if r := kinds[Deactivated]; r.Table != "accounts" || r.Anchor != "deactivated_at" {
		t.Errorf("deactivated rule = %+v", r)
	}
	if _, ok := m.Table("meeting_participants"); ok {
		if r := kinds[Guest]; r.Table != "meeting_participants" || r.Member != "account_id" || r.Email != "email" {
			t.Errorf("guest rule = %+v", r)
		}
	}
	// Accounts themselves are never swept row by row.
	for _, s := range plan.Sweeps {
		if s.Table == "accounts" {
			t.Errorf("accounts swept under %s", s.Rule)
		}
	}
	if !slices.Contains(plan.Rules(), "analytics-25m") {
		t.Error("analytics-25m missing from the plan's rules")
	}
}

func untilOf(c datamap.Column) string {
	if c.Erasure != nil && c.Erasure.Action == datamap.KeepLegalObligation {
		return c.Erasure.Until
	}
	return ""
}

func TestPeriods(t *testing.T) {
	m := datamap.Default()
	for _, tc := range []struct {
		name string
		in   map[string]datamap.Period
		ok   bool
	}{
		{"defaults", nil, true},
		{"override", map[string]datamap.Period{"analytics-25m": {Months: 13}}, true},
		{"unknown", map[string]datamap.Period{"nope": {Days: 1}}, false},
		{"event rule", map[string]datamap.Period{"with-account": {Days: 1}}, false},
		{"zero", map[string]datamap.Period{"analytics-25m": {}}, false},
	} {
		p, err := NewPeriods(m, tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v", tc.name, err)
		}
		if err == nil && tc.in != nil && p["analytics-25m"] != (datamap.Period{Months: 13}) {
			t.Errorf("%s: analytics-25m = %+v", tc.name, p["analytics-25m"])
		}
	}
	p, err := Configured(m, "", 45*24*time.Hour)
	if err != nil || p[DeactivatedRule] != (datamap.Period{Days: 45}) {
		t.Fatalf("grace = %+v, %v", p[DeactivatedRule], err)
	}
	now := time.Date(2030, 3, 31, 12, 0, 0, 0, time.UTC)
	if c, ok := p.Cutoff("analytics-25m", now); !ok || !c.Equal(time.Date(2028, 3, 2, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("cutoff %s %v", c, ok)
	}
	if _, ok := p.Cutoff("with-account", now); ok {
		t.Error("an event rule has a cutoff")
	}
}

func TestHoldRequestClean(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	for _, tc := range []struct {
		in     HoldRequest
		fields []string
	}{
		{HoldRequest{PersonID: " acc_1 ", Reason: " claim "}, nil},
		{HoldRequest{PersonID: "acc_1", Reason: "claim", EndsAt: &future}, nil},
		{HoldRequest{}, []string{FieldPerson, FieldReason}},
		{HoldRequest{PersonID: "ada@example.com", Reason: "claim"}, []string{FieldPerson}},
		{HoldRequest{PersonID: "acc_1", Reason: "claim", EndsAt: &past}, []string{FieldEnds}},
		{HoldRequest{PersonID: "acc_1", Reason: string(make([]byte, MaxReason+1))}, []string{FieldReason}},
	} {
		err := tc.in.Clean(now)
		e, _ := errs.As(err)
		switch {
		case len(tc.fields) == 0 && err != nil:
			t.Errorf("%+v: %v", tc.in, err)
		case len(tc.fields) > 0 && (e == nil || len(e.Fields) != len(tc.fields)):
			t.Errorf("%+v: %v, want errors on %v", tc.in, err, tc.fields)
		}
	}
	h := Hold{StartsAt: now, EndsAt: &future}
	if !h.InForce(now) || h.InForce(future) || h.InForce(past) {
		t.Error("InForce is wrong at its edges")
	}
}

func TestParsePeriod(t *testing.T) {
	for in, want := range map[string]datamap.Period{"P5Y": {Years: 5}, "P13M": {Months: 13}, "P1Y2M3D": {Years: 1, Months: 2, Days: 3}, "P90D": {Days: 90}} {
		if got, err := datamap.ParsePeriod(in); err != nil || got != want || got.ISO() != in {
			t.Errorf("%s = %+v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "P", "P0D", "5Y", "P1W", "PT1H", "P-1D", "p1y"} {
		if _, err := datamap.ParsePeriod(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

// Analytics events are kept 25 months, enough to compare a month with the
// same month of the year before; the cutoff falls on the same day and time.
func TestAnalyticsKeptTwentyFiveMonths(t *testing.T) {
	p, err := NewPeriods(datamap.Default(), nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	if got, ok := p.Cutoff("analytics-25m", now); !ok || !got.Equal(time.Date(2024, 2, 2, 9, 30, 0, 0, time.UTC)) {
		t.Fatalf("cutoff %s (%v)", got, ok)
	}
}

// The audit log, and only it, is pruned as a chain, and a legal hold on
// either party of an entry keeps it.
func TestAuditLogIsSweptAsAChain(t *testing.T) {
	var chained []Sweep
	for _, s := range Build(datamap.Default()).Sweeps {
		if s.Chained {
			chained = append(chained, s)
		}
	}
	if len(chained) != 1 {
		t.Fatalf("chained sweeps: %+v", chained)
	}
	s := chained[0]
	if s.Table != ChainedTable || s.Rule != "audit-5y" || s.Action != Delete || s.Anchor != "at" ||
		!slices.Equal(s.HeldBy, []string{"actor_id", "subject_id"}) || s.Example != "seq" {
		t.Errorf("audit log sweep = %+v", s)
	}
}

// The purges this engine replaced keep their kinds, so that jobs queued
// under them before an upgrade find a worker.
func TestRetiredJobKinds(t *testing.T) {
	if (RetiredAuthPurgeArgs{}).Kind() != "account.purge" || (RetiredAnalyticsPurgeArgs{}).Kind() != "analytics.purge" {
		t.Error("a retired job kind changed")
	}
}

func TestParseOverrides(t *testing.T) {
	m := datamap.Default()
	got, err := ParseOverrides(m, " analytics-25m=P13M , audit-5y=P6Y1M2D")
	if err != nil {
		t.Fatal(err)
	}
	if got["analytics-25m"] != (datamap.Period{Months: 13}) || got["audit-5y"] != (datamap.Period{Years: 6, Months: 1, Days: 2}) || len(got) != 2 {
		t.Fatalf("parsed %+v", got)
	}
	for _, bad := range []string{
		"no-such-rule=P1Y", "analytics-25m=P2W", "analytics-25m=P0D", "with-account=P1Y",
		"account-deactivated=P60D", "analytics-25m=P1Y,analytics-25m=P2Y", "analytics-25m",
	} {
		if _, err := ParseOverrides(m, bad); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}
