package datamap

import (
	"bytes"
	"encoding/json"
	"flag"
	"github.com/sessionshq/sessions/internal/country"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sessionshq/sessions/internal/privacy/vendors"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestRecordGolden compares the record built from the shipped catalogue
// and registry with the reviewed copies in testdata. After a deliberate
// change, run go test ./internal/privacy/datamap -run Golden -update and
// review the diff.
func TestRecordGolden(t *testing.T) {
	t.Parallel()
	r := BuildRecord(Default(), vendors.Seed())
	js, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]byte{"record.md": r.Markdown(), "record.json": js} {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the golden file; run with -update and review the diff.\n%s", name, firstDiff(string(got), string(want)))
		}
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + itoa(i+1) + ":\n got: " + gl + "\nwant: " + wl
		}
	}
	return ""
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestRecordIsDeterministic(t *testing.T) {
	t.Parallel()
	first := BuildRecord(Default(), vendors.Seed())
	// A registry read back from the database comes in another order.
	shuffled := vendors.Seed()
	for i, j := 0, len(shuffled)-1; i < j; i, j = i+1, j-1 {
		shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
	}
	second := BuildRecord(Default(), shuffled)
	a, _ := first.JSON()
	b, _ := second.JSON()
	if !bytes.Equal(a, b) || !bytes.Equal(first.Markdown(), second.Markdown()) {
		t.Fatal("the record depends on the order of the registry")
	}
}

func TestRecordContent(t *testing.T) {
	t.Parallel()
	subs := vendors.Seed()
	for i := range subs {
		if subs[i].ID == vendors.LogRocket {
			subs[i].Active = false
		}
	}
	r := BuildRecord(Default(), subs)
	if len(r.Controllers) != 2 || r.Controllers[1].CountryName != "Romania" {
		t.Errorf("controllers %+v", r.Controllers)
	}
	for _, s := range r.Subprocessors {
		if s.ID == vendors.LogRocket {
			t.Error("an inactive sub-processor is listed as a recipient")
		}
	}
	var transfers []string
	for _, tr := range r.Transfers {
		transfers = append(transfers, tr.Recipient)
		if country.InEEA(tr.Country) {
			t.Errorf("%s in %s listed as a third-country transfer", tr.Recipient, tr.Country)
		}
	}
	for _, want := range []string{vendors.LiveKit, vendors.Atlassian, vendors.Colossyan} {
		if !strings.Contains(strings.Join(transfers, " "), want) {
			t.Errorf("transfer to %s missing from %v", want, transfers)
		}
	}
	for _, notWanted := range []string{vendors.Mailjet, vendors.InnerTrends} {
		if strings.Contains(strings.Join(transfers, " "), notWanted) {
			t.Errorf("%s is in the EEA but listed as a transfer", notWanted)
		}
	}
	// Every stored category appears, with where it is stored.
	found := map[string]bool{}
	for _, c := range r.Categories {
		found[c.ID] = len(c.Columns) > 0
	}
	for _, id := range []string{"contact.email", "pseudonym.id", "activity.audit-trail", "content.email-message", "biometric.audio-video"} {
		if !found[id] {
			t.Errorf("category %s missing from the record", id)
		}
	}
	if found["financial.payment-token"] {
		t.Error("a category nothing stores is listed as processed")
	}
	limits := map[string]bool{}
	for _, l := range r.TimeLimits {
		limits[l.ID] = true
	}
	for _, id := range []string{"audit-5y", "mail-90d", "with-owner", "jobs-7d"} {
		if !limits[id] {
			t.Errorf("time limit %s missing", id)
		}
	}
	if len(r.Inventory) != len(Default().Tables) {
		t.Errorf("inventory has %d tables, want all %d", len(r.Inventory), len(Default().Tables))
	}
}
