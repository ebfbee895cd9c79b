package vendors

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"unicode"

	"github.com/sessionshq/sessions/internal/errs"
)

func anyCategory(string) bool { return true }

func TestSeedEntriesAreValid(t *testing.T) {
	seed := Seed()
	if len(seed) != 25 {
		t.Errorf("seed has %d entries, want 25 (one per company the notice names)", len(seed))
	}
	ids := map[string]bool{}
	names := map[string]bool{}
	for _, s := range seed {
		if ids[s.ID] {
			t.Errorf("id %s appears twice", s.ID)
		}
		ids[s.ID] = true
		if names[strings.ToLower(s.Name)] {
			t.Errorf("name %s appears twice", s.Name)
		}
		names[strings.ToLower(s.Name)] = true
		if !strings.HasPrefix(s.Website, "https://") {
			t.Errorf("%s: website %q is not https", s.ID, s.Website)
		}
		if !s.Active {
			t.Errorf("%s: seeded inactive", s.ID)
		}
		if s.Purpose == "" {
			t.Errorf("%s: no purpose", s.ID)
		}
		if s.DataCategories == nil {
			t.Errorf("%s: categories must be an empty list, not nil, so that JSON shows []", s.ID)
		}
		u := Update{Activity: s.Activity, Country: s.Country, Mechanism: s.Mechanism, DataCategories: s.DataCategories, Active: true}
		if err := u.Validate(anyCategory); err != nil {
			e, _ := errs.As(err)
			t.Errorf("%s: seed entry fails staff validation: %v", s.ID, e.Fields)
		}
		if n := u.Normalise(); strings.Join(n.DataCategories, ",") != strings.Join(s.DataCategories, ",") {
			t.Errorf("%s: categories are not sorted and unique: %v", s.ID, s.DataCategories)
		}
	}
}

func TestSeedReturnsFreshCopies(t *testing.T) {
	a := Seed()
	a[1].DataCategories[0] = "changed"
	if b := Seed(); b[1].DataCategories[0] == "changed" {
		t.Fatal("Seed shares its slices between calls")
	}
}

// normal keeps only letters and digits, lower-cased, so that "Log Rocket"
// and "LogRocket" compare equal.
func normal(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur := make([]int, len(rb)+1)
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(rb)]
}

// similar tolerates the notice's spelling slips ("comunication",
// "Attlasian") but not a different word.
func similar(a, b string) bool {
	a, b = normal(a), normal(b)
	if a == b {
		return true
	}
	return len(a) >= 6 && levenshtein(a, b) <= 2
}

// knownAs lists names the notice uses that are not spellings of the
// registry's name.
var knownAs = map[string]string{
	"google": GoogleCloud,
	"gsuite": GoogleWorkspace,
}

type policyRow struct{ name, activity string }

func readPolicyRows(t *testing.T) []policyRow {
	t.Helper()
	f, err := os.Open("testdata/policy_subprocessors.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []policyRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) != 3 {
			t.Fatalf("bad row %q: want number, name and activity", line)
		}
		name, activity := fields[1], fields[2]
		rows = append(rows, policyRow{name, activity})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// matchPolicy maps each row of the notice onto the registry entries whose
// name and activity it names, and reports rows matching none or several
// and entries no row names.
func matchPolicy(rows []policyRow, seed []Subprocessor) []string {
	var problems []string
	covered := map[string]bool{}
	for _, row := range rows {
		var hits []string
		for _, s := range seed {
			nameOK := similar(row.name, s.Name) || knownAs[normal(row.name)] == s.ID
			if nameOK && similar(row.activity, s.Activity) {
				hits = append(hits, s.ID)
			}
		}
		switch len(hits) {
		case 0:
			problems = append(problems, "notice row "+row.name+" / "+row.activity+" matches no registry entry")
		case 1:
			covered[hits[0]] = true
		default:
			problems = append(problems, "notice row "+row.name+" matches several entries: "+strings.Join(hits, ", "))
		}
	}
	for _, s := range seed {
		if !covered[s.ID] {
			problems = append(problems, "registry entry "+s.ID+" is not in the notice")
		}
	}
	return problems
}

func TestEveryNoticeRowMapsOntoTheRegistry(t *testing.T) {
	rows := readPolicyRows(t)
	if len(rows) != 26 {
		t.Fatalf("testdata has %d notice rows, want 26", len(rows))
	}
	for _, p := range matchPolicy(rows, Seed()) {
		t.Error(p)
	}
}

func TestNoticeMappingCanFail(t *testing.T) {
	seed := Seed()
	var dropped []Subprocessor
	for _, s := range seed {
		if s.ID == Zendesk {
			continue
		}
		if s.ID == Slack {
			s.Activity = "Payments"
		}
		dropped = append(dropped, s)
	}
	problems := matchPolicy(readPolicyRows(t), dropped)
	want := []string{"Zendesk / Support Infrastructure", "Zendesk / Support infractructure", "Slack / Internal comunication"}
	for _, w := range want {
		found := false
		for _, p := range problems {
			found = found || strings.Contains(p, w)
		}
		if !found {
			t.Errorf("no problem reported for %q; got %v", w, problems)
		}
	}
}

func TestUpdateValidation(t *testing.T) {
	known := func(c string) bool { return c == "contact.email" || c == "identity.name" }
	good := Update{Activity: "Mail delivery", Country: "US", Mechanism: StandardClauses, DataCategories: []string{"contact.email"}, Active: true}
	cases := []struct {
		name   string
		edit   func(u *Update)
		fields []string // fields that must carry a message; none means valid
	}{
		{"valid", func(u *Update) {}, nil},
		{"valid DPF in the US", func(u *Update) { u.Mechanism = DataPrivacyFramework }, nil},
		{"valid EEA", func(u *Update) { u.Country = "RO"; u.Mechanism = WithinEEA }, nil},
		{"valid adequacy", func(u *Update) { u.Country = "CH"; u.Mechanism = Adequacy }, nil},
		{"no categories is allowed", func(u *Update) { u.DataCategories = nil }, nil},
		{"empty activity", func(u *Update) { u.Activity = "" }, []string{"activity"}},
		{"long activity", func(u *Update) { u.Activity = strings.Repeat("a", MaxActivityLength+1) }, []string{"activity"}},
		{"multi-line activity", func(u *Update) { u.Activity = "a\nb" }, []string{"activity"}},
		{"unknown country", func(u *Update) { u.Country = "XX" }, []string{"country"}},
		{"country name instead of code", func(u *Update) { u.Country = "Germany" }, []string{"country"}},
		{"unknown mechanism", func(u *Update) { u.Mechanism = "trust-us" }, []string{"transfer_mechanism"}},
		{"missing mechanism", func(u *Update) { u.Mechanism = "" }, []string{"transfer_mechanism"}},
		{"EEA claim outside the EEA", func(u *Update) { u.Mechanism = WithinEEA }, []string{"transfer_mechanism"}},
		{"DPF outside the US", func(u *Update) { u.Country = "IN"; u.Mechanism = DataPrivacyFramework }, []string{"transfer_mechanism"}},
		{"adequacy without a decision", func(u *Update) { u.Country = "AU"; u.Mechanism = Adequacy }, []string{"transfer_mechanism"}},
		{"clauses inside the EEA", func(u *Update) { u.Country = "DE" }, []string{"transfer_mechanism"}},
		{"unknown category", func(u *Update) { u.DataCategories = []string{"contact.email", "shoe.size"} }, []string{"data_categories"}},
		{"several at once", func(u *Update) { u.Activity = ""; u.Country = "ZZ" }, []string{"activity", "country"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := good
			tc.edit(&u)
			err := u.Normalise().Validate(known)
			if len(tc.fields) == 0 {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			e, ok := errs.As(err)
			if !ok || e.Code != errs.Invalid {
				t.Fatalf("want an Invalid error, got %v", err)
			}
			for _, f := range tc.fields {
				if e.Fields[f] == "" {
					t.Errorf("no message for %s; got %v", f, e.Fields)
				}
			}
			if len(e.Fields) != len(tc.fields) {
				t.Errorf("got messages for %v, want only %v", e.Fields, tc.fields)
			}
		})
	}
}

func TestNormalise(t *testing.T) {
	u := Update{Activity: "  Mail  ", Country: " us ", Mechanism: " eu-us-dpf ", DataCategories: []string{"b", " a", "b", ""}}.Normalise()
	if u.Activity != "Mail" || u.Country != "US" || u.Mechanism != DataPrivacyFramework {
		t.Errorf("got %+v", u)
	}
	if strings.Join(u.DataCategories, ",") != "a,b" {
		t.Errorf("categories %v, want [a b]", u.DataCategories)
	}
}
