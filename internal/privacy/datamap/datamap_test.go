package datamap

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDefaultHasNoProblems(t *testing.T) {
	t.Parallel()
	for _, p := range Default().Problems() {
		t.Error(p)
	}
}

func TestFourteenPurposes(t *testing.T) {
	t.Parallel()
	m := Default()
	if len(m.Purposes) != 14 {
		t.Fatalf("%d purposes, want the 14 of the notice", len(m.Purposes))
	}
	for _, p := range m.Purposes {
		if len(p.Bases) == 0 {
			t.Errorf("%s has no basis", p.ID)
		}
	}
	// Marketing rests on legitimate interest alone, as the notice says;
	// moving it to consent would change what the purpose gate asks.
	if p, _ := m.Purpose("marketing"); !slices.Equal(p.Bases, []Basis{LegitimateInterest}) {
		t.Errorf("marketing bases %v", p.Bases)
	}
	if p, _ := m.Purpose("behaviour-tracking"); !slices.Equal(p.Bases, []Basis{Consent}) {
		t.Errorf("behaviour-tracking bases %v", p.Bases)
	}
}

// TestProblemsCanFail breaks a fresh catalogue in one way at a time and
// expects Problems to name the break.
func TestProblemsCanFail(t *testing.T) {
	t.Parallel()
	col := func(m *Map, table, column string) *Column {
		for i := range m.Tables {
			if m.Tables[i].Name == table {
				for j := range m.Tables[i].Columns {
					if m.Tables[i].Columns[j].Name == column {
						return &m.Tables[i].Columns[j]
					}
				}
			}
		}
		t.Fatalf("no column %s.%s", table, column)
		return nil
	}
	tbl := func(m *Map, name string) *Table {
		for i := range m.Tables {
			if m.Tables[i].Name == name {
				return &m.Tables[i]
			}
		}
		t.Fatalf("no table %s", name)
		return nil
	}
	cases := []struct {
		name   string
		mutate func(m *Map)
		want   string
	}{
		{"personal column without purpose", func(m *Map) { col(m, "mail_outbox", "to_address").Uses = nil }, "mail_outbox.to_address: personal but no purpose"},
		{"unknown purpose", func(m *Map) { col(m, "mail_outbox", "to_address").Uses[0].Purpose = "fun" }, `unknown purpose "fun"`},
		{"basis the purpose lacks", func(m *Map) { col(m, "mail_outbox", "to_address").Uses[0].Basis = Consent }, `does not rest on "consent"`},
		{"unknown category", func(m *Map) { col(m, "blobs", "key").Categories = []string{"shoe.size"} }, `unknown category "shoe.size"`},
		{"no category", func(m *Map) { col(m, "blobs", "key").Categories = nil }, "blobs.key: personal but no category"},
		{"no source", func(m *Map) { col(m, "blobs", "key").Source = "" }, "blobs.key: personal but source"},
		{"no retention", func(m *Map) { col(m, "blobs", "key").Retention = "" }, "blobs.key: personal but no retention rule"},
		{"unknown retention", func(m *Map) { col(m, "blobs", "key").Retention = "forever" }, `unknown retention rule "forever"`},
		{"anchor the table lacks", func(m *Map) { col(m, "blobs", "key").Retention = "audit-5y" }, "runs from at, which the table lacks"},
		{"no erasure", func(m *Map) { col(m, "blobs", "key").Erasure = nil }, "blobs.key: personal but no erasure action"},
		{"kept without reason", func(m *Map) { col(m, "audit_log", "action").Erasure.Reason = "" }, "kept under legal obligation without a reason"},
		{"kept without end", func(m *Map) { col(m, "audit_log", "action").Erasure.Until = "" }, "kept until unknown retention rule"},
		{"mixed erasure in a deleted table", func(m *Map) { col(m, "blobs", "person_id").Erasure = cleared() }, "blobs.person_id: the table's rows are deleted"},
		{"unknown recipient", func(m *Map) { col(m, "blobs", "key").Recipients = []string{"acme"} }, `unknown recipient "acme"`},
		{"recipient not registered for the data", func(m *Map) { col(m, "blobs", "key").Recipients = []string{"pulumi"} }, "recipient pulumi is not registered to receive content.file"},
		{"plain column with a purpose", func(m *Map) { col(m, "blobs", "kind").Uses = []Use{{"service", Contract}} }, "blobs.kind: not personal, yet"},
		{"plain column without a note", func(m *Map) { col(m, "blobs", "kind").Note = "" }, "blobs.kind: no note"},
		{"personal table without subjects", func(m *Map) { tbl(m, "blobs").Subjects = nil }, "blobs: holds personal data but names no data subject"},
		{"personal table without key or reason", func(m *Map) { tbl(m, "river_job").Unkeyed = "" }, "river_job: holds personal data but has no person key"},
		{"person key that is no column", func(m *Map) { tbl(m, "blobs").PersonKeys[0].Column = "owner" }, "person key owner is not a column"},
		{"named person first", func(m *Map) {
			b := tbl(m, "mail_outbox")
			b.PersonKeys = append(b.PersonKeys[len(b.PersonKeys)-1:], b.PersonKeys[:len(b.PersonKeys)-1]...)
		}, "person key about_id names someone the row quotes"},
		{"named person in kept rows", func(m *Map) {
			tbl(m, "audit_log").PersonKeys = append(tbl(m, "audit_log").PersonKeys, PersonKey{"actor_id", KeyNamedPersonID})
		},
			"person key actor_id names someone the row quotes"},
		{"reference to a person that is no key", func(m *Map) {
			b := tbl(m, "meeting_resources")
			b.PersonKeys = slices.DeleteFunc(b.PersonKeys, func(k PersonKey) bool { return k.Column == "added_by" })
		}, "meeting_resources: added_by refers to a person (accounts.id) but is not a person key"},
		{"row rule on a personal table", func(m *Map) { tbl(m, "blobs").Retention = "org-ownerless-30d" }, "blobs: holds personal data, whose columns name their own retention"},
		{"row rule that is unknown", func(m *Map) { tbl(m, "organisations").Retention = "forever" }, `organisations: unknown retention rule "forever"`},
		{"row rule that ends with an event", func(m *Map) { tbl(m, "organisations").Retention = "with-owner" }, "organisations: the rule for its rows, with-owner, must delete them after a period"},
		{"row rule from a missing column", func(m *Map) { tbl(m, "organisations").Retention = "auth-expired-1d" }, "organisations: retention rule auth-expired-1d runs from expires_at"},
		{"duplicate column", func(m *Map) { b := tbl(m, "blobs"); b.Columns = append(b.Columns, b.Columns[0]) }, "column blobs.key is declared twice"},
		{"foreign key to nowhere", func(m *Map) { tbl(m, "blobs").Parents = []ForeignKey{{"person_id", "people", "id"}} }, "foreign key to unknown table people"},
		{"purpose without basis", func(m *Map) { m.Purposes[0].Bases = nil }, "purpose account: no lawful basis"},
		{"legitimate interest unnamed", func(m *Map) { m.Purposes[12].LegitimateInterest = "" }, "purpose marketing: rests on legitimate interest but does not say which"},
		{"rule without anchor or event", func(m *Map) { m.Retention[2].Event = "" }, "retention rule with-owner: needs an anchor column"},
		{"foreign keys in a cycle", func(m *Map) {
			tbl(m, "blobs").Parents = []ForeignKey{{"person_id", "mail_outbox", "id"}}
			tbl(m, "mail_outbox").Parents = []ForeignKey{{"person_id", "blobs", "key"}}
		}, "foreign keys form a cycle among blobs, mail_outbox"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := Default()
			tc.mutate(&m)
			problems := m.Problems()
			for _, p := range problems {
				if strings.Contains(p, tc.want) {
					return
				}
			}
			t.Errorf("no problem mentions %q; got %v", tc.want, problems)
		})
	}
}

func TestCompareNamesEveryDifference(t *testing.T) {
	t.Parallel()
	m := Map{Tables: []Table{
		{Name: "notes", Columns: []Column{plain("id", "x"), plain("body", "x"), {Name: "pg_only", Note: "x", OnlyOn: "postgres"}}},
		{Name: "gone", Columns: []Column{plain("id", "x")}},
	}}
	schema := map[string][]string{
		"notes": {"id", "body", "author_email"},
		"extra": {"id", "secret"},
	}
	got := m.Compare(schema, "sqlite")
	want := []string{
		"extra.id: in the schema but not in the data map (the whole table is missing)",
		"extra.secret: in the schema but not in the data map (the whole table is missing)",
		"gone.id: in the data map but not in the sqlite schema",
		"notes.author_email: in the schema but not in the data map",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// On PostgreSQL the column declared for it alone must exist.
	got = m.Compare(schema, "postgres")
	if !slices.Contains(got, "notes.pg_only: in the data map but not in the postgres schema") {
		t.Errorf("postgres-only column not checked on postgres: %v", got)
	}
	// A schema equal to the catalogue gives nothing.
	if got := m.Compare(map[string][]string{"notes": {"id", "body"}, "gone": {"id"}}, "sqlite"); len(got) != 0 {
		t.Errorf("matching schema reported %v", got)
	}
}

func TestDeletionOrderPutsChildrenFirst(t *testing.T) {
	t.Parallel()
	m := Map{Tables: []Table{
		{Name: "accounts"},
		{Name: "sessions", Parents: []ForeignKey{{"host_id", "accounts", "id"}}},
		{Name: "participants", Parents: []ForeignKey{{"session_id", "sessions", "id"}, {"person_id", "accounts", "id"}}},
		{Name: "comments", Parents: []ForeignKey{{"reply_to", "comments", "id"}, {"session_id", "sessions", "id"}}},
		{Name: "loose"},
	}}
	order, err := m.DeletionOrder()
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, name := range order {
		pos[name] = i
	}
	if len(order) != 5 {
		t.Fatalf("order %v misses tables", order)
	}
	for _, tbl := range m.Tables {
		for _, fk := range tbl.Parents {
			if fk.Table != tbl.Name && pos[tbl.Name] > pos[fk.Table] {
				t.Errorf("%s comes after its parent %s in %v", tbl.Name, fk.Table, order)
			}
		}
	}
	again, _ := m.DeletionOrder()
	if !slices.Equal(order, again) {
		t.Errorf("order is not stable: %v then %v", order, again)
	}
}

func TestRowErasure(t *testing.T) {
	t.Parallel()
	m := Default()
	for name, want := range map[string]Action{
		"mail_outbox":   Delete,
		"blobs":         Delete,
		"audit_log":     Anonymise,
		"subprocessors": "",
	} {
		tbl, _ := m.Table(name)
		if got := tbl.RowErasure(); got != want {
			t.Errorf("%s: erasure %q, want %q", name, got, want)
		}
	}
	// The audit log keeps its evidence but loses the direct links.
	audit, _ := m.Table("audit_log")
	for _, c := range audit.PersonalColumns() {
		want := KeepLegalObligation
		if c.Name == "actor_id" || c.Name == "subject_id" {
			want = Anonymise
		}
		if c.Erasure.Action != want {
			t.Errorf("audit_log.%s: %s, want %s", c.Name, c.Erasure.Action, want)
		}
	}
}

func TestDefaultReturnsFreshCopies(t *testing.T) {
	t.Parallel()
	a := Default()
	a.Tables[0].Columns[1].Uses[0].Purpose = "changed"
	a.Purposes[0].Bases[0] = Consent
	b := Default()
	if b.Tables[0].Columns[1].Uses[0].Purpose == "changed" || b.Purposes[0].Bases[0] == Consent {
		t.Fatal("Default shares state between calls")
	}
}

func TestPeriod(t *testing.T) {
	t.Parallel()
	start := time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		p          Period
		iso, words string
		end        time.Time
	}{
		{Period{Years: 5}, "P5Y", "5 years", time.Date(2029, 3, 1, 12, 0, 0, 0, time.UTC)},
		{Period{Days: 90}, "P90D", "90 days", time.Date(2024, 5, 29, 12, 0, 0, 0, time.UTC)},
		{Period{Years: 1, Months: 2, Days: 1}, "P1Y2M1D", "1 year 2 months 1 day", time.Date(2025, 4, 30, 12, 0, 0, 0, time.UTC)},
		{Period{}, "P0D", "none", start},
	}
	for _, tc := range cases {
		if tc.p.ISO() != tc.iso || tc.p.String() != tc.words || !tc.p.After(start).Equal(tc.end) {
			t.Errorf("%+v: %s, %q, %v", tc.p, tc.p.ISO(), tc.p.String(), tc.p.After(start))
		}
	}
}
