package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/analytics"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/store"
)

func TestAnalyticsCountsPerDayRouteAndFeature(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	day1 := time.Date(2026, 3, 1, 23, 59, 0, 0, time.UTC)
	day2 := time.Date(2026, 3, 2, 0, 1, 0, 0, time.UTC)
	add := func(at time.Time, kind analytics.Kind, path, name, visitor string) {
		t.Helper()
		ev := analytics.NewEvent(analytics.Checked{Kind: kind, Path: path, Name: name}, path, visitor, "203.0.113.9", at)
		if err := store.AppendAnalyticsEvent(ctx, db, ev); err != nil {
			t.Fatal(err)
		}
	}
	// Day 1: two visitors, three page views, one feature use.
	add(day1, analytics.PageView, "/", "", "av_a")
	add(day1, analytics.PageView, "/privacy", "", "av_a")
	add(day1, analytics.PageView, "/", "", "av_b")
	add(day1, analytics.Feature, "/", "cookies.settings", "av_b")
	// Day 2: one visitor, two page views, two feature uses.
	add(day2, analytics.PageView, "/", "", "av_c")
	add(day2, analytics.PageView, "/orgs/{id}", "", "av_c")
	add(day2, analytics.Feature, "/", "cookies.settings", "av_c")
	add(day2, analytics.Feature, "/", "orgs.create", "av_c")
	// Outside the range.
	add(day1.AddDate(0, 0, -30), analytics.PageView, "/old", "", "av_z")

	raw, err := store.AnalyticsCounts(ctx, db, analytics.LastDays(7, day2))
	if err != nil {
		t.Fatal(err)
	}
	if raw.Visits != 3 || raw.PageViews != 5 || raw.FeatureUses != 3 {
		t.Fatalf("totals visits %d, views %d, uses %d; want 3, 5, 3", raw.Visits, raw.PageViews, raw.FeatureUses)
	}
	want := []analytics.DayTotals{{Day: "2026-03-01", Visits: 2, PageViews: 3}, {Day: "2026-03-02", Visits: 1, PageViews: 2}}
	if len(raw.Days) != 2 || raw.Days[0] != want[0] || raw.Days[1] != want[1] {
		t.Fatalf("days %+v, want %+v", raw.Days, want)
	}
	if len(raw.Pages) != 3 || raw.Pages[0] != (analytics.PageTotal{Path: "/", Views: 3}) {
		t.Fatalf("pages %+v", raw.Pages)
	}
	for _, p := range raw.Pages {
		if p.Path == "/old" {
			t.Fatal("a page outside the range is counted")
		}
	}
	if len(raw.Features) != 3 {
		t.Fatalf("features %+v", raw.Features)
	}

	var ip string
	if err := db.QueryRow(ctx, `SELECT ip_prefix FROM analytics_events WHERE path = '/old'`).Scan(&ip); err != nil || ip != "203.0.113.0" {
		t.Fatalf("stored address %q (%v), want the /24 network", ip, err)
	}
}
