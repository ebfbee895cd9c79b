package rights_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/rights"
	"github.com/sessionshq/sessions/internal/privacy/vendors"
)

func position(names []string, name string) int { return slices.Index(names, name) }

func TestErasurePlanDeletesChildrenBeforeParents(t *testing.T) {
	m := datamap.Default()
	plan := rights.ErasurePlan(m)
	var names []string
	for _, s := range plan {
		names = append(names, s.Table)
	}
	for _, s := range plan {
		tb, _ := m.Table(s.Table)
		for _, fk := range tb.Parents {
			if fk.Table == s.Table {
				continue
			}
			if p := position(names, fk.Table); p >= 0 && p < position(names, s.Table) {
				t.Errorf("%s is erased before its child %s", fk.Table, s.Table)
			}
		}
	}
	cases := []struct {
		table  string
		action datamap.Action
		clears []string
		files  []string
	}{
		{"accounts", datamap.Delete, nil, nil},
		{"profiles", datamap.Delete, nil, nil},
		{"audit_log", datamap.Anonymise, []string{"actor_id", "subject_id"}, nil},
		{"account_requests", datamap.Anonymise, []string{"account_id"}, nil},
		{"blobs", datamap.Delete, nil, []string{"key"}},
		{"export_jobs", datamap.Delete, nil, []string{"blob_key"}},
	}
	for _, c := range cases {
		i := slices.IndexFunc(plan, func(s rights.Step) bool { return s.Table == c.table })
		if i < 0 {
			t.Errorf("no step for %s", c.table)
			continue
		}
		s := plan[i]
		if s.Action != c.action {
			t.Errorf("%s: action %s, want %s", c.table, s.Action, c.action)
		}
		for _, col := range c.clears {
			if !s.Clears(col) {
				t.Errorf("%s: %s is not cleared", c.table, col)
			}
		}
		if !slices.Equal(s.Files, c.files) {
			t.Errorf("%s: files %v, want %v", c.table, s.Files, c.files)
		}
	}
	// Evidence kept whole under a legal obligation has no step.
	for _, kept := range []string{"consent_records", "staff_access_log"} {
		if slices.Contains(names, kept) {
			t.Errorf("%s is erased, but the data map keeps it", kept)
		}
	}
	if position(names, "profiles") > position(names, "blobs") {
		t.Error("profiles point at blobs, so they must go first")
	}
}

func TestExportPlanReadsParentsFirst(t *testing.T) {
	plan := rights.ExportPlan(datamap.Default())
	var names []string
	for _, tb := range plan {
		names = append(names, tb.Name)
		if len(tb.PersonKeys) == 0 {
			t.Errorf("%s has no person key but is exported", tb.Name)
		}
	}
	if position(names, "accounts") > position(names, "profiles") || position(names, "accounts") < 0 {
		t.Errorf("accounts must come before profiles: %v", names)
	}
}

func TestSourcesFindAddressesAndParticipants(t *testing.T) {
	m := datamap.Default()
	emails := rights.EmailSources(m)
	if len(emails) != 1 || emails[0].Table != "accounts" || emails[0].Column != "email" {
		t.Errorf("email sources = %+v, want accounts.email only", emails)
	}
	if _, ok := m.Table("meeting_participants"); ok {
		parts := rights.ParticipantSources(m)
		if len(parts) != 1 || parts[0].Table != "meeting_participants" || parts[0].Column != "id" {
			t.Errorf("participant sources = %+v", parts)
		}
	}
}

func TestPersonNormalised(t *testing.T) {
	p := rights.Person{AccountID: " a1 ", Emails: []string{" Ada@Example.com", "ada@example.com", ""}, ParticipantIDs: []string{"p", "p"}}.Normalised()
	if p.AccountID != "a1" || !slices.Equal(p.Emails, []string{"ada@example.com"}) || len(p.ParticipantIDs) != 1 {
		t.Errorf("normalised = %+v", p)
	}
	if (rights.Person{Emails: []string{" "}}).Validate() == nil {
		t.Error("a person with nothing to find them by is accepted")
	}
}

func TestArt15HasEverySection(t *testing.T) {
	a := rights.BuildArt15(datamap.Default(), vendors.Seed(), []string{"accounts", "profiles", "mail_outbox"}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if len(a.Purposes) == 0 || len(a.Categories) == 0 || len(a.Recipients) == 0 || len(a.Retention) == 0 || len(a.Sources) == 0 {
		t.Fatalf("Art. 15 information is incomplete: %+v", a)
	}
	if a.Rights.ID != "rights" || a.Complaint.ID != "complaints" || a.Automated == "" {
		t.Fatalf("rights, complaint or automated decisions missing")
	}
	page, err := a.HTML()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{`id="purposes"`, `id="recipients"`, `id="transfers"`, `id="retention"`, `id="sources"`, `id="rights"`, `id="complaint"`, `id="automated-decisions"`} {
		if !strings.Contains(string(page), id) {
			t.Errorf("art15.html lacks %s", id)
		}
	}
}

func TestExportPercent(t *testing.T) {
	for _, c := range []struct {
		x    rights.Export
		want int
	}{
		{rights.Export{State: rights.ExportQueued}, 0},
		{rights.Export{State: rights.ExportWorking, RowsDone: 50, RowsTotal: 200}, 25},
		{rights.Export{State: rights.ExportWorking, RowsDone: 200, RowsTotal: 200}, 99},
		{rights.Export{State: rights.ExportReady}, 100},
	} {
		if got := c.x.Percent(); got != c.want {
			t.Errorf("%+v: %d%%, want %d%%", c.x, got, c.want)
		}
	}
}
