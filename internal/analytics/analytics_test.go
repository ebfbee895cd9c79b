package analytics

import (
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
)

var t0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func TestCheck(t *testing.T) {
	cases := []struct {
		name      string
		in        Input
		badFields []string
		wantPath  string
	}{
		{name: "page view", in: Input{Type: "pageview", Path: "/privacy"}, wantPath: "/privacy"},
		{name: "query and fragment dropped", in: Input{Type: "pageview", Path: "/verify-email?token=secret#x"}, wantPath: "/verify-email"},
		{name: "feature", in: Input{Type: "feature", Path: "/", Name: "cookies.settings-opened"}, wantPath: "/"},
		{name: "unknown type", in: Input{Type: "click", Path: "/"}, badFields: []string{"type"}},
		{name: "missing type", in: Input{Path: "/"}, badFields: []string{"type"}},
		{name: "missing path", in: Input{Type: "pageview"}, badFields: []string{"path"}},
		{name: "absolute URL", in: Input{Type: "pageview", Path: "https://evil.example/x"}, badFields: []string{"path"}},
		{name: "scheme-relative", in: Input{Type: "pageview", Path: "//evil.example/x"}, badFields: []string{"path"}},
		{name: "backslash", in: Input{Type: "pageview", Path: `/\evil`}, badFields: []string{"path"}},
		{name: "control characters", in: Input{Type: "pageview", Path: "/a\nb"}, badFields: []string{"path"}},
		{name: "path too long", in: Input{Type: "pageview", Path: "/" + strings.Repeat("a", MaxPath)}, badFields: []string{"path"}},
		{name: "feature without name", in: Input{Type: "feature", Path: "/"}, badFields: []string{"name"}},
		{name: "page view with name", in: Input{Type: "pageview", Path: "/", Name: "x"}, badFields: []string{"name"}},
		{name: "name with spaces", in: Input{Type: "feature", Path: "/", Name: "Open Settings"}, badFields: []string{"name"}},
		{name: "name too long", in: Input{Type: "feature", Path: "/", Name: strings.Repeat("a", MaxName+1)}, badFields: []string{"name"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.in.Check()
			if len(tc.badFields) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got.Path != tc.wantPath {
					t.Fatalf("path %q, want %q", got.Path, tc.wantPath)
				}
				return
			}
			e, ok := errs.As(err)
			if !ok || e.Code != errs.Invalid {
				t.Fatalf("error %v, want invalid", err)
			}
			for _, f := range tc.badFields {
				if e.Fields[f] == "" {
					t.Errorf("no message for %s: %v", f, e.Fields)
				}
			}
		})
	}
}

func TestNewEventTruncatesTheAddress(t *testing.T) {
	for ip, want := range map[string]string{
		"203.0.113.77":               "203.0.113.0",
		"2001:db8:abcd:12:34::1":     "2001:db8:abcd::",
		"::ffff:198.51.100.9":        "198.51.100.0",
		"not an address":             "",
		"2001:db8:abcd:ffff:ffff::9": "2001:db8:abcd::",
	} {
		ev := NewEvent(Checked{Kind: PageView, Path: "/"}, "/", "av_x", ip, t0)
		if ev.IPPrefix != want {
			t.Errorf("%s stored as %q, want %q", ip, ev.IPPrefix, want)
		}
	}
	ev := NewEvent(Checked{Kind: Feature, Path: "/orgs/o_1", Name: "n"}, "/orgs/{id}", "av_x", "192.0.2.1", t0.In(time.FixedZone("x", -10*3600)))
	if ev.Day() != "2026-03-02" || ev.Path != "/orgs/{id}" || ev.Name != "n" {
		t.Fatalf("event %+v, day %s", ev, ev.Day())
	}
}

func TestVisitorIDsRotateDaily(t *testing.T) {
	id := NewVisitorID(t0)
	if !VisitorIDFresh(id, t0) || !VisitorIDFresh(id, t0.Add(14*time.Hour)) {
		t.Fatal("a fresh id is not fresh the same day")
	}
	if VisitorIDFresh(id, t0.Add(15*time.Hour)) {
		t.Fatal("an id is still used the next day")
	}
	if id == NewVisitorID(t0) {
		t.Fatal("two ids are the same")
	}
	for _, bad := range []string{"", "av_", "vis_0123", strings.Replace(id, "av_", "xx_", 1), id + "0", id[:len(id)-1] + "g"} {
		if VisitorIDFresh(bad, t0) {
			t.Errorf("%q accepted", bad)
		}
	}
	if got := VisitorIDExpires(t0); !got.Equal(time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("expires %s", got)
	}
}

func TestSuppress(t *testing.T) {
	for n, want := range map[int]string{0: "<5", 1: "<5", 4: "<5", 5: "5", 123: "123"} {
		c := Suppress(n)
		if c.String() != want {
			t.Errorf("Suppress(%d) shows %q, want %q", n, c, want)
		}
		if c.Suppressed && c.N != 0 {
			t.Errorf("Suppress(%d) keeps the number %d", n, c.N)
		}
	}
}

func TestBuildReportSuppressesAndFillsDays(t *testing.T) {
	r := LastDays(7, t0)
	if r.From != "2026-02-24" || r.To != "2026-03-02" {
		t.Fatalf("range %+v", r)
	}
	if LastDays(12, t0).Days != DefaultRange {
		t.Fatal("an unknown range is used")
	}
	raw := Raw{
		Days:     []DayTotals{{Day: "2026-02-25", Visits: 3, PageViews: 9}, {Day: "2026-03-01", Visits: 6, PageViews: 20}},
		Pages:    []PageTotal{{Path: "/a", Views: 2}, {Path: "/b", Views: 27}},
		Features: []FeatureDay{{Day: "2026-03-01", Name: "x", Uses: 4}, {Day: "2026-03-02", Name: "x", Uses: 4}, {Day: "2026-03-01", Name: "y", Uses: 1}},
		Visits:   9, PageViews: 29, FeatureUses: 9,
	}
	rep := BuildReport(raw, r)
	if len(rep.Days) != 7 || rep.Days[0].Day != "2026-02-24" || rep.Days[6].Day != "2026-03-02" {
		t.Fatalf("days %+v", rep.Days)
	}
	if d := rep.Days[1]; !d.Visits.Suppressed || d.PageViews.String() != "9" {
		t.Errorf("2026-02-25: visits %s, views %s", d.Visits, d.PageViews)
	}
	if d := rep.Days[5]; d.Visits.String() != "6" || d.PageViews.String() != "20" {
		t.Errorf("2026-03-01: visits %s, views %s", d.Visits, d.PageViews)
	}
	if !rep.Days[0].Visits.Suppressed {
		t.Error("an empty day is shown as a number")
	}
	if rep.TopPages[0].Path != "/b" || rep.TopPages[1].Views.String() != "<5" {
		t.Errorf("top pages %+v", rep.TopPages)
	}
	if len(rep.Features) != 2 || rep.Features[0].Name != "x" || rep.Features[0].Total.String() != "8" {
		t.Fatalf("features %+v", rep.Features)
	}
	for _, d := range rep.Features[0].Days {
		if !d.Uses.Suppressed {
			t.Errorf("a day's use of 4 or fewer shows %s", d.Uses)
		}
	}
	if rep.Features[1].Total.String() != "<5" || rep.Visits.String() != "9" || rep.FeatureUses.String() != "9" {
		t.Errorf("totals: y %s, visits %s, uses %s", rep.Features[1].Total, rep.Visits, rep.FeatureUses)
	}
}
