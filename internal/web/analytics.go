package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/sessionshq/sessions/internal/analytics"
	"github.com/sessionshq/sessions/internal/privacy/cookies"
	"github.com/sessionshq/sessions/internal/service/consents"
)

// First-party analytics: the endpoint a page's script posts events to, and
// the staff dashboards. An event is stored only when the visitor's cookie
// choice allows analytics and the purpose gate agrees; otherwise it is
// answered the same way and dropped, so a script cannot tell the server's
// decision from a network error and nothing is kept.

// analyticsCollectResponse says whether the event was kept.
type analyticsCollectResponse struct {
	Stored bool `json:"stored"`
}

// analyticsCollect receives one event from a page's script.
func (s *Server) analyticsCollect(w http.ResponseWriter, r *http.Request) error {
	var in analytics.Input
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	checked, err := in.Check()
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	res, err := s.collect(r, checked)
	if err != nil {
		return err
	}
	if res.NewID != "" {
		s.setCookie(w, s.cookieName(cookies.AnalyticsCookie), res.NewID, res.NewIDExpires)
	}
	return writeJSON(w, http.StatusAccepted, analyticsCollectResponse{Stored: res.Stored})
}

// collect hands the event to consents.Service.Collect, which decides
// whether it is kept. A browser whose choice cookie does not allow
// analytics is answered here, without looking its session up (see
// browserMember); a session that cannot be read keeps nothing.
func (s *Server) collect(r *http.Request, ev analytics.Checked) (consents.Collected, error) {
	choice, ok := s.visitorChoice(r)
	if !ok || !choice.Allows(cookies.Analytics) {
		return consents.Collected{}, nil
	}
	member, err := s.browserMember(r)
	if err != nil {
		return consents.Collected{}, nil
	}
	h := consents.Hit{Event: ev, Route: s.analyticsRoute(ev.Path), AccountID: member}
	if c, err := r.Cookie(s.cookieName(cookies.AnalyticsCookie)); err == nil {
		h.AnalyticsID = c.Value
	}
	return s.Services.Consents.Collect(r.Context(), h, s.browser(r))
}

// analyticsRoute names the page of path by its route pattern, such as
// /orgs/{id}, so that ids in addresses are never stored and a page's views
// add up whatever it is about.
func (s *Server) analyticsRoute(path string) string {
	req := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: path}, Header: http.Header{}}
	_, pattern := s.mux.Handler(req)
	if pattern == "" {
		return "(unknown page)"
	}
	_, p, found := strings.Cut(pattern, " ")
	if !found {
		p = pattern
	}
	if p == "/{$}" {
		return "/"
	}
	return strings.TrimSuffix(p, "{$}")
}

// ---------- Dashboards ----------

// analyticsReport builds the report for the days the request asks for.
func (s *Server) analyticsReport(r *http.Request) (analytics.Report, error) {
	days, _ := strconv.Atoi(r.URL.Query().Get("days"))
	return s.Services.Consents.AnalyticsReport(r.Context(), actorOf(r), days)
}

// chartBar is one bar of a server-rendered SVG chart, in the chart's own
// coordinates.
type chartBar struct {
	X, Y, W, H float64
	Label      string
	Suppressed bool
}

// chartTick is a label along an axis.
type chartTick struct {
	X, Y  float64
	Text  string
	Right bool
}

// barChart is an SVG bar chart: the template draws what is computed here.
type barChart struct {
	ID     string
	Title  string
	Width  int
	Height int
	Bars   []chartBar
	Ticks  []chartTick
	// BaseY is the baseline's height in the chart.
	BaseY float64
	Empty bool
}

// Chart geometry, in SVG user units.
const (
	chartWidth  = 720
	chartHeight = 200
	chartLeft   = 44
	chartBottom = 24
	chartTop    = 8
)

// dayChart draws one count per day as bars. Suppressed days get a thin
// marked bar so that "fewer than five" is visible without a number.
func dayChart(id, title string, days []string, counts []analytics.Count) barChart {
	c := barChart{ID: id, Title: title, Width: chartWidth, Height: chartHeight, BaseY: chartHeight - chartBottom}
	maxN := 0
	for _, n := range counts {
		maxN = max(maxN, n.N)
	}
	c.Empty = maxN == 0
	scale := niceMax(maxN)
	plotW := float64(chartWidth - chartLeft - 4)
	plotH := float64(chartHeight - chartBottom - chartTop)
	slot := plotW / float64(max(1, len(counts)))
	gap := min(slot*0.2, 4)
	for i, n := range counts {
		h := 0.0
		if !n.Suppressed {
			h = float64(n.N) / float64(scale) * plotH
		} else {
			h = 2
		}
		x := chartLeft + float64(i)*slot + gap/2
		c.Bars = append(c.Bars, chartBar{X: x, Y: c.BaseY - h, W: slot - gap, H: h,
			Label: days[i] + ": " + n.String(), Suppressed: n.Suppressed})
	}
	c.Ticks = append(c.Ticks,
		chartTick{X: chartLeft - 6, Y: chartTop + 10, Text: strconv.Itoa(scale), Right: true},
		chartTick{X: chartLeft - 6, Y: c.BaseY, Text: "0", Right: true})
	if len(days) > 0 {
		c.Ticks = append(c.Ticks, chartTick{X: chartLeft, Y: chartHeight - 6, Text: days[0]})
		c.Ticks = append(c.Ticks, chartTick{X: chartWidth - 4, Y: chartHeight - 6, Text: days[len(days)-1], Right: true})
	}
	return c
}

// niceMax rounds the top of a scale up to 1, 2 or 5 times a power of ten,
// and at least MinCount.
func niceMax(n int) int {
	n = max(n, analytics.MinCount)
	p := 1
	for {
		for _, m := range []int{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
		p *= 10
	}
}

// pageBar is one row of the top pages chart, drawn as HTML with an SVG bar.
type pageBar struct {
	Path  string
	Views analytics.Count
	Width float64 // 0-100, share of the longest bar
	Tiny  bool
}

type analyticsView struct {
	Report   analytics.Report
	Ranges   []int
	Visits   barChart
	Views    barChart
	Pages    []pageBar
	Features []featureChart
}

// featureChart is one feature's use over the range.
type featureChart struct {
	Name  string
	Total analytics.Count
	Chart barChart
}

// maxFeatureCharts bounds how many features get a chart of their own.
const maxFeatureCharts = 8

// analyticsPage is the staff dashboard: visits and page views per day, the
// most viewed pages and the use of features over time.
func (s *Server) analyticsPage(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.analyticsReport(r)
	if err != nil {
		return err
	}
	v := analyticsView{Report: rep, Ranges: analytics.Ranges}
	var days []string
	var visits, views []analytics.Count
	for _, d := range rep.Days {
		days = append(days, d.Day)
		visits = append(visits, d.Visits)
		views = append(views, d.PageViews)
	}
	v.Visits = dayChart("chart-visits", "Visits per day", days, visits)
	v.Views = dayChart("chart-views", "Page views per day", days, views)
	top := 0
	for _, p := range rep.TopPages {
		top = max(top, p.Views.N)
	}
	for _, p := range rep.TopPages {
		b := pageBar{Path: p.Path, Views: p.Views}
		if top > 0 && !p.Views.Suppressed {
			b.Width = float64(p.Views.N) / float64(top) * 100
		}
		b.Tiny = p.Views.Suppressed
		v.Pages = append(v.Pages, b)
	}
	for i, f := range rep.Features {
		if i == maxFeatureCharts {
			break
		}
		var counts []analytics.Count
		for _, d := range f.Days {
			counts = append(counts, d.Uses)
		}
		v.Features = append(v.Features, featureChart{Name: f.Name, Total: f.Total,
			Chart: dayChart(fmt.Sprintf("chart-feature-%d", i), "Uses of "+f.Name+" per day", days, counts)})
	}
	return s.pages.render(w, r, http.StatusOK, "analytics_dashboard", view{Title: "Analytics", Section: "admin", Data: v})
}

// analyticsCountJSON is a count as the API shows it: value is null when
// the count is under five and suppressed.
type analyticsCountJSON struct {
	Value      *int   `json:"value"`
	Suppressed bool   `json:"suppressed"`
	Display    string `json:"display"`
}

func newAnalyticsCount(c analytics.Count) analyticsCountJSON {
	out := analyticsCountJSON{Suppressed: c.Suppressed, Display: c.String()}
	if !c.Suppressed {
		n := c.N
		out.Value = &n
	}
	return out
}

type analyticsDayJSON struct {
	Day       string             `json:"day"`
	Visits    analyticsCountJSON `json:"visits"`
	PageViews analyticsCountJSON `json:"page_views"`
}

type analyticsPageJSON struct {
	Path  string             `json:"path"`
	Views analyticsCountJSON `json:"views"`
}

type analyticsFeatureDayJSON struct {
	Day  string             `json:"day"`
	Uses analyticsCountJSON `json:"uses"`
}

type analyticsFeatureJSON struct {
	Name  string                    `json:"name"`
	Total analyticsCountJSON        `json:"total"`
	Days  []analyticsFeatureDayJSON `json:"days"`
}

type analyticsReportJSON struct {
	From        string                 `json:"from"`
	To          string                 `json:"to"`
	MinCount    int                    `json:"min_count"`
	Visits      analyticsCountJSON     `json:"visits"`
	PageViews   analyticsCountJSON     `json:"page_views"`
	FeatureUses analyticsCountJSON     `json:"feature_uses"`
	Days        []analyticsDayJSON     `json:"days"`
	TopPages    []analyticsPageJSON    `json:"top_pages"`
	Features    []analyticsFeatureJSON `json:"features"`
}

// apiAnalytics is the dashboard's report as JSON, with the same
// suppression.
func (s *Server) apiAnalytics(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.analyticsReport(r)
	if err != nil {
		return err
	}
	out := analyticsReportJSON{
		From: rep.Range.From, To: rep.Range.To, MinCount: analytics.MinCount,
		Visits: newAnalyticsCount(rep.Visits), PageViews: newAnalyticsCount(rep.PageViews), FeatureUses: newAnalyticsCount(rep.FeatureUses),
		Days: []analyticsDayJSON{}, TopPages: []analyticsPageJSON{}, Features: []analyticsFeatureJSON{},
	}
	for _, d := range rep.Days {
		out.Days = append(out.Days, analyticsDayJSON{Day: d.Day, Visits: newAnalyticsCount(d.Visits), PageViews: newAnalyticsCount(d.PageViews)})
	}
	for _, p := range rep.TopPages {
		out.TopPages = append(out.TopPages, analyticsPageJSON{Path: p.Path, Views: newAnalyticsCount(p.Views)})
	}
	for _, f := range rep.Features {
		fj := analyticsFeatureJSON{Name: f.Name, Total: newAnalyticsCount(f.Total), Days: []analyticsFeatureDayJSON{}}
		for _, d := range f.Days {
			fj.Days = append(fj.Days, analyticsFeatureDayJSON{Day: d.Day, Uses: newAnalyticsCount(d.Uses)})
		}
		out.Features = append(out.Features, fj)
	}
	return writeJSONNoStore(w, http.StatusOK, out)
}
