package cookies

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/privacy/consent"
)

var testSecret = []byte("cookie-test-secret-of-at-least-32-bytes")

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func TestEveryCategoryHasWordsAndOptionalOnesHavePurposes(t *testing.T) {
	for _, c := range Categories {
		if c.Label() == string(c) || c.Description() == "" {
			t.Errorf("category %s has no label or description", c)
		}
		if c.IsOptional() != (len(c.Purposes()) > 0) {
			t.Errorf("category %s: optional %v but purposes %v", c, c.IsOptional(), c.Purposes())
		}
		for _, p := range c.Purposes() {
			// A purpose the ledger would refuse would make every choice fail.
			if !consent.Choosable(p) {
				t.Errorf("category %s: purpose %s does not rest on consent", c, p)
			}
		}
	}
	if StrictlyNecessary.IsOptional() {
		t.Error("strictly necessary cookies must not be optional")
	}
}

func TestRegistryIsWholeAndFirstParty(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range Registry() {
		if seen[e.Name] {
			t.Errorf("entry %s is listed twice", e.Name)
		}
		seen[e.Name] = true
		if _, ok := ParseCategory(string(e.Category)); !ok {
			t.Errorf("entry %s: unknown category %q", e.Name, e.Category)
		}
		if e.Purpose == "" || e.Duration == "" || e.Provider == "" {
			t.Errorf("entry %s: purpose, duration and provider are required", e.Name)
		}
		if e.Party != FirstParty {
			t.Errorf("entry %s is third-party; the product sets none", e.Name)
		}
		if got, ok := Lookup(e.NameFor(true)); !ok || got.Name != e.Name {
			t.Errorf("Lookup(%q) did not find %s", e.NameFor(true), e.Name)
		}
	}
	for _, name := range []string{SessionCookie, ChallengeCookie, ChoiceCookie, AnalyticsCookie} {
		if !seen[name] {
			t.Errorf("cookie %s is set by the product but not in the registry", name)
		}
	}
	if e, _ := Lookup(ChoiceCookie); e.Category != StrictlyNecessary {
		t.Errorf("the choice cookie must be strictly necessary, is %s", e.Category)
	}
	if e, _ := Lookup(AnalyticsCookie); e.Category != Analytics {
		t.Errorf("the analytics cookie must be in analytics, is %s", e.Category)
	}
	if got := (Entry{Name: "x", Kind: Cookie}).NameFor(true); got != "__Host-x" {
		t.Errorf("NameFor(true) = %q", got)
	}
}

// noticeHashes pins the text of each version of the notice. When the
// registry or the categories change, this test fails: raise
// NoticeVersion (so that everyone is asked again) and add the new
// version's hash here.
var noticeHashes = map[string]string{
	"1": "f50228f6b07c6164a32f538765e971fcab801f81a68c720737d70b1f6532b67c",
}

func TestNoticeVersionFollowsText(t *testing.T) {
	want, ok := noticeHashes[NoticeVersion]
	if !ok {
		t.Fatalf("version %s has no pinned hash; add %q", NoticeVersion, NoticeHash())
	}
	if got := NoticeHash(); got != want {
		t.Fatalf("the cookie notice's text changed (hash %s) but its version is still %s: raise NoticeVersion and pin the new hash", got, NoticeVersion)
	}
	text := NoticeText()
	for _, e := range Registry() {
		if !strings.Contains(text, e.Name) || !strings.Contains(text, e.Purpose) {
			t.Errorf("the notice text leaves out %s", e.Name)
		}
	}
}

func TestDecide(t *testing.T) {
	all := []Category{Preferences, Analytics, Marketing}
	cases := []struct {
		name     string
		action   Action
		selected []Category
		gpc      bool
		want     []Category
	}{
		{"accept all", AcceptAll, nil, false, all},
		{"accept all under GPC leaves marketing off", AcceptAll, nil, true, []Category{Preferences, Analytics}},
		{"reject all", RejectAll, all, false, nil},
		{"closing is a refusal", Dismiss, nil, false, nil},
		{"withdraw", Withdraw, all, false, nil},
		{"save as chosen", Save, []Category{Analytics}, false, []Category{Analytics}},
		{"save nothing", Save, nil, false, nil},
		{"an explicit marketing choice wins over GPC", Save, []Category{Marketing}, true, []Category{Marketing}},
		{"strictly necessary is never listed", Save, []Category{StrictlyNecessary, Preferences}, false, []Category{Preferences}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Decide(tc.action, tc.selected, tc.gpc, "vis_x", t0)
			if !slices.Equal(c.Granted, tc.want) {
				t.Fatalf("granted %v, want %v", c.Granted, tc.want)
			}
			if !c.Allows(StrictlyNecessary) {
				t.Fatal("strictly necessary is off")
			}
			if c.GPC != tc.gpc || c.NoticeVersion != NoticeVersion || !c.At.Equal(t0) {
				t.Fatalf("choice %+v", c)
			}
		})
	}
}

func TestTransition(t *testing.T) {
	for _, tc := range []struct {
		on, was bool
		want    consent.State
	}{
		{true, false, consent.Given},
		{true, true, consent.Given},
		{false, true, consent.Withdrawn},
		{false, false, consent.Refused},
	} {
		if got := Transition(tc.on, tc.was); got != tc.want {
			t.Errorf("Transition(%v, %v) = %s, want %s", tc.on, tc.was, got, tc.want)
		}
	}
}

func TestChoiceCookieRoundTrip(t *testing.T) {
	c := Decide(Save, []Category{Analytics, Marketing}, true, NewVisitorID(), t0)
	v := Encode(testSecret, c)
	got, err := Decode(testSecret, v, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got.VisitorID != c.VisitorID || !got.At.Equal(c.At) || !slices.Equal(got.Granted, c.Granted) || !got.GPC || got.NoticeVersion != NoticeVersion {
		t.Fatalf("decoded %+v, want %+v", got, c)
	}
	if strings.ContainsAny(v, " ;,\"\\") {
		t.Fatalf("value %q is not a valid cookie value", v)
	}
}

func TestChoiceCookieRefusesForgeries(t *testing.T) {
	c := Decide(RejectAll, nil, false, NewVisitorID(), t0)
	v := Encode(testSecret, c)
	cases := map[string]string{
		"other key":     Encode([]byte("another-secret-of-at-least-32-bytes-long"), c),
		"altered":       strings.Replace(v, v[3:6], "AAA", 1),
		"truncated":     v[:len(v)-3],
		"empty":         "",
		"garbage":       "accept-all",
		"oversized":     strings.Repeat("a", 600),
		"other purpose": "x",
	}
	for name, value := range cases {
		if _, err := Decode(testSecret, value, t0); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A choice lapses after six months: the signed value stops working.
	if _, err := Decode(testSecret, v, ReaskAt(t0)); err == nil {
		t.Error("a six-month-old choice still decodes")
	}
}

func TestChoiceIsCurrentForSixMonthsUnderTheSameNotice(t *testing.T) {
	c := Decide(AcceptAll, nil, false, NewVisitorID(), t0)
	if !c.Current(t0) || !c.Current(t0.AddDate(0, 6, -1)) {
		t.Fatal("a fresh choice is not current")
	}
	if c.Current(t0.AddDate(0, 6, 0)) {
		t.Fatal("a six-month-old choice is still current")
	}
	old := c
	old.NoticeVersion = "0"
	if old.Current(t0) {
		t.Fatal("a choice under another notice version is current")
	}
}

func TestParse(t *testing.T) {
	for _, s := range []string{"accept-all", "reject-all", "close", "save", "withdraw"} {
		if _, ok := ParseAction(s); !ok {
			t.Errorf("ParseAction(%q) refused", s)
		}
	}
	for _, s := range []string{"", "accept", "ACCEPT-ALL", "delete"} {
		if _, ok := ParseAction(s); ok {
			t.Errorf("ParseAction(%q) accepted", s)
		}
	}
	if _, ok := ParseCategory("advertising"); ok {
		t.Error("unknown category accepted")
	}
	if id := NewVisitorID(); !validVisitorID(id) || id == NewVisitorID() {
		t.Errorf("visitor id %q", id)
	}
}
