package analytics

import (
	"slices"
	"strconv"
	"time"
)

// MinCount is the smallest count a report shows. Anything under it,
// zero included, reads "<5": a small number could point at one person's
// visit, and telling none from a few would too.
const MinCount = 5

// Count is one number of a report, suppressed when under MinCount.
type Count struct {
	// N is the count when it is shown; 0 when suppressed.
	N          int
	Suppressed bool
}

// Suppress makes the Count a report shows for n.
func Suppress(n int) Count {
	if n < MinCount {
		return Count{Suppressed: true}
	}
	return Count{N: n}
}

// String is the count as a page shows it.
func (c Count) String() string {
	if c.Suppressed {
		return "<" + strconv.Itoa(MinCount)
	}
	return strconv.Itoa(c.N)
}

// Raw is what the store counts for a range of days, before suppression.
type Raw struct {
	Days     []DayTotals
	Pages    []PageTotal
	Features []FeatureDay
	// Visits, PageViews and FeatureUses are the totals of the range.
	Visits, PageViews, FeatureUses int
}

// DayTotals are one day's counts: visits (distinct analytics ids of the
// day, which rotate daily) and page views.
type DayTotals struct {
	Day       string
	Visits    int
	PageViews int
}

// PageTotal is how often a route was viewed in the range.
type PageTotal struct {
	Path  string
	Views int
}

// FeatureDay is how often a feature was used on a day.
type FeatureDay struct {
	Day  string
	Name string
	Uses int
}

// Range is a span of whole UTC days, both ends included.
type Range struct {
	From, To string
	Days     int
}

// Ranges are the spans a report may cover, in days.
var Ranges = []int{7, 30, 90, 365}

// DefaultRange is the span shown when none is asked for.
const DefaultRange = 30

// LastDays is the range of the n days up to and including now's day; an
// n that is not one of Ranges gives DefaultRange.
func LastDays(n int, now time.Time) Range {
	if !slices.Contains(Ranges, n) {
		n = DefaultRange
	}
	to := now.UTC()
	return Range{From: DayOf(to.AddDate(0, 0, -(n - 1))), To: DayOf(to), Days: n}
}

// dates lists every day of r.
func (r Range) dates() []string {
	from, err := time.Parse(time.DateOnly, r.From)
	if err != nil {
		return nil
	}
	out := make([]string, 0, r.Days)
	for d := from; DayOf(d) <= r.To; d = d.AddDate(0, 0, 1) {
		out = append(out, DayOf(d))
	}
	return out
}

// Report is what staff see: only suppressed counts leave this package.
type Report struct {
	Range       Range
	Visits      Count
	PageViews   Count
	FeatureUses Count
	// Days has every day of the range, in order, days without events
	// included.
	Days []DayPoint
	// TopPages are the most viewed routes, at most TopPagesLimit.
	TopPages []PageCount
	// Features are the features used in the range, the most used first,
	// each with every day of the range.
	Features []FeatureSeries
}

// DayPoint is one day of the report.
type DayPoint struct {
	Day       string
	Visits    Count
	PageViews Count
}

// PageCount is one route of the top pages.
type PageCount struct {
	Path  string
	Views Count
}

// FeatureSeries is one feature's use over the range.
type FeatureSeries struct {
	Name  string
	Total Count
	Days  []DayCount
}

// DayCount is one day of a feature's use.
type DayCount struct {
	Day  string
	Uses Count
}

// TopPagesLimit is how many routes the report lists.
const TopPagesLimit = 10

// BuildReport turns raw counts into the report for r, suppressing every
// count under MinCount.
func BuildReport(raw Raw, r Range) Report {
	rep := Report{Range: r, Visits: Suppress(raw.Visits), PageViews: Suppress(raw.PageViews), FeatureUses: Suppress(raw.FeatureUses)}
	byDay := map[string]DayTotals{}
	for _, d := range raw.Days {
		byDay[d.Day] = d
	}
	dates := r.dates()
	for _, day := range dates {
		t := byDay[day]
		rep.Days = append(rep.Days, DayPoint{Day: day, Visits: Suppress(t.Visits), PageViews: Suppress(t.PageViews)})
	}
	pages := slices.Clone(raw.Pages)
	slices.SortStableFunc(pages, func(a, b PageTotal) int {
		if a.Views != b.Views {
			return b.Views - a.Views
		}
		if a.Path < b.Path {
			return -1
		}
		if a.Path > b.Path {
			return 1
		}
		return 0
	})
	for i, p := range pages {
		if i == TopPagesLimit {
			break
		}
		rep.TopPages = append(rep.TopPages, PageCount{Path: p.Path, Views: Suppress(p.Views)})
	}
	uses := map[string]map[string]int{}
	totals := map[string]int{}
	for _, f := range raw.Features {
		if uses[f.Name] == nil {
			uses[f.Name] = map[string]int{}
		}
		uses[f.Name][f.Day] += f.Uses
		totals[f.Name] += f.Uses
	}
	names := make([]string, 0, len(totals))
	for n := range totals {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int {
		if totals[a] != totals[b] {
			return totals[b] - totals[a]
		}
		if a < b {
			return -1
		}
		return 1
	})
	for _, n := range names {
		s := FeatureSeries{Name: n, Total: Suppress(totals[n])}
		for _, day := range dates {
			s.Days = append(s.Days, DayCount{Day: day, Uses: Suppress(uses[n][day])})
		}
		rep.Features = append(rep.Features, s)
	}
	return rep
}
