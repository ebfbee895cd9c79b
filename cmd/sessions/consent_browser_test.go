package main

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/privacy/cookies"
)

// TestBrowserCookieConsent drives the cookie tool and first-party
// analytics in headless Chromium against the real binary, and checks
// what a regulator would: the browser's cookies and storage, the
// analytics events the server stored, and the analytics requests the
// server received (its request log names every route it answered).
//
//	a. before a choice: no cookie, no storage entry, no analytics request;
//	b. "Reject all" keeps it so across pages;
//	c. "Accept all" starts analytics: events are stored;
//	d. withdrawing in "Cookie settings" stops it and deletes the cookies;
//	e. with Global Privacy Control on, marketing and tracking stay off and
//	   the page says so.
func TestBrowserCookieConsent(t *testing.T) {
	t.Parallel()
	chromium := requireChromium(t)
	// The test's own target, so that it can count what the binary stored.
	// startBinary makes one too; the later SESSIONS_* settings win.
	target := dbtest.NewTarget(t)
	addr := freeAddr(t)
	s := startBinary(t, append(target.Env(), "SESSIONS_ADDR="+addr, "SESSIONS_BASE_URL=http://"+addr)...)
	db, err := database.Open(context.Background(), target.DatabaseURL, target.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	ctx := newBrowser(t, chromium, 90*time.Second)

	b := &consentBrowser{t: t, ctx: ctx, s: s, db: db}

	// a. Before a choice.
	b.do("open the home page",
		chromedp.Navigate(s.url+"/"),
		chromedp.WaitVisible(chromedp.ID("cookie-banner")),
	)
	b.equalProminence()
	if b.visible(`[data-gpc-note]`) {
		t.Error("the GPC note shows without the signal")
	}
	b.do("browse on", chromedp.Navigate(s.url+"/privacy"), chromedp.WaitVisible(chromedp.ID("cookie-banner")),
		chromedp.Navigate(s.url+"/privacy/cookies"), chromedp.WaitVisible(chromedp.ID("cookie-banner")))
	b.expectCookies("before a choice")
	b.expectStorage("before a choice", 0)
	b.expectEvents("before a choice", 0)
	b.expectCollectRequests("before a choice", 0)

	// b. "Reject all" on the banner (recorded by its script, no reload).
	b.do("reject all",
		chromedp.Click(chromedp.CSS(`#cookie-banner button[value="reject-all"]`)),
		chromedp.WaitNotVisible(chromedp.ID("cookie-banner")),
	)
	b.expectCookies("after rejecting", cookies.ChoiceCookie)
	for _, path := range []string{"/", "/privacy", "/signin"} {
		b.do("browse after rejecting", chromedp.Navigate(s.url+path), chromedp.WaitReady(chromedp.CSS("footer")))
		if b.count(`[data-cookie-banner]`) != 0 || b.count(`script[src*="/static/analytics."]`) != 0 {
			t.Fatalf("%s after rejecting: banner or analytics script present", path)
		}
	}
	b.expectCookies("after rejecting and browsing", cookies.ChoiceCookie)
	b.expectStorage("after rejecting", 0)
	b.expectEvents("after rejecting", 0)
	b.expectCollectRequests("after rejecting", 0)

	// c. A new visitor (no cookies) accepts everything on the banner:
	// analytics starts at once, then on every page.
	b.do("forget the choice", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.ClearBrowserCookies, cdp.Empty{})
		return err
	}))
	b.do("accept all",
		chromedp.Navigate(s.url+"/"),
		chromedp.WaitVisible(chromedp.ID("cookie-banner")),
		chromedp.Click(chromedp.CSS(`#cookie-banner button[value="accept-all"]`)),
		chromedp.WaitNotVisible(chromedp.ID("cookie-banner")),
	)
	b.waitEvents("the page view after accepting", 1)
	b.do("browse after accepting", chromedp.Navigate(s.url+"/privacy"), chromedp.WaitReady(chromedp.CSS("footer")))
	b.waitEvents("a page view of the next page", 2)
	b.expectCookies("after accepting", cookies.ChoiceCookie, cookies.AnalyticsCookie)
	// A feature event: the footer's "Cookie settings" link is marked.
	b.do("open cookie settings",
		chromedp.Click(chromedp.CSS(`footer a[href="/cookies/settings"]`)),
		chromedp.WaitVisible(chromedp.ID("cookie-withdraw")),
	)
	b.waitFeature("cookie-settings")
	// The settings page's own view was sent while analytics was allowed;
	// it must be stored before the count the withdrawal is measured
	// against, or it lands after and looks like an event past withdrawal.
	b.waitEvents("the settings page's view", 4)

	// d. Withdraw in one click from "Cookie settings": the cookies go, the
	// storage is cleared and nothing more is collected.
	b.do("put something in storage", chromedp.Evaluate[chromedp.Void](`localStorage.setItem("left", "1"); sessionStorage.setItem("left", "1")`))
	before := b.events()
	b.do("withdraw",
		chromedp.Click(chromedp.ID("cookie-withdraw")),
		chromedp.WaitVisible(chromedp.CSS(`[data-cookie-saved]`)),
	)
	if b.count(`#cookie-withdraw`) != 0 {
		t.Error("withdrawal is still offered after withdrawing")
	}
	b.expectCookies("after withdrawing", cookies.ChoiceCookie)
	b.expectStorage("after withdrawing", 0)
	requests := b.collectRequests()
	for _, path := range []string{"/", "/privacy"} {
		b.do("browse after withdrawing", chromedp.Navigate(s.url+path), chromedp.WaitReady(chromedp.CSS("footer")))
		if b.count(`script[src*="/static/analytics."]`) != 0 {
			t.Fatalf("%s loads the analytics script after withdrawal", path)
		}
	}
	// Even a page that still tried would be refused by the server.
	stored := b.evalBool("a stray event", `fetch("/api/analytics/events", {method: "POST", headers: {"Content-Type": "application/json"},
		body: JSON.stringify({type: "pageview", path: "/"})}).then(r => r.json()).then(j => j.stored)`)
	if stored {
		t.Error("the server kept an event after withdrawal")
	}
	if after := b.events(); after != before {
		t.Fatalf("%d events after withdrawing, %d before", after, before)
	}
	if got := b.collectRequests(); got != requests+1 {
		t.Errorf("%d analytics requests after withdrawing (only the test's own stray one expected)", got-requests)
	}
	b.expectCookies("after withdrawing and browsing", cookies.ChoiceCookie)

	// e. Global Privacy Control, in a browser context of its own: the
	// header and navigator.globalPrivacyControl, as a browser with GPC on
	// sends them.
	gctx, cancelGPC := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancelGPC()
	g := &consentBrowser{t: t, ctx: gctx, s: s, db: db}
	g.do("turn GPC on", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `Object.defineProperty(Navigator.prototype, "globalPrivacyControl", {get: () => true, configurable: true});`,
		}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Sec-GPC": "1"}})
		return err
	}))
	g.do("open the home page with GPC",
		chromedp.Navigate(s.url+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#cookie-banner [data-gpc-note]`)),
	)
	if !g.evalBool("the script sees GPC", `navigator.globalPrivacyControl === true`) {
		t.Fatal("navigator.globalPrivacyControl is not on")
	}
	if note := g.text(`#cookie-banner [data-gpc-note]`); !strings.Contains(note, "Global Privacy Control signal honoured") {
		t.Fatalf("the banner says %q", note)
	}
	g.expectCookies("GPC, before a choice")
	g.do("accept all with GPC",
		chromedp.Click(chromedp.CSS(`#cookie-banner button[value="accept-all"]`)),
		chromedp.WaitNotVisible(chromedp.ID("cookie-banner")),
		chromedp.Navigate(s.url+"/cookies/settings"),
		chromedp.WaitVisible(chromedp.CSS(`p[data-gpc-note]`)),
	)
	if g.evalBool("marketing switch", `document.getElementById("c-marketing").checked`) {
		t.Error("marketing and tracking are on despite GPC")
	}
	if !g.evalBool("analytics switch", `document.getElementById("c-analytics").checked`) {
		t.Error("analytics is off although it was accepted (GPC is not about first-party analytics)")
	}
	if note := g.text(`p[data-gpc-note]`); !strings.Contains(note, "Global Privacy Control signal honoured") {
		t.Fatalf("the settings page says %q", note)
	}
	var state string
	var gpc bool
	if err := db.QueryRow(context.Background(), `SELECT state, gpc FROM consent_records
		WHERE method = 'banner' AND purposes LIKE '%behaviour-tracking%' ORDER BY seq DESC LIMIT 1`).Scan(&state, &gpc); err != nil {
		t.Fatal(err)
	}
	if state != "refused" || !gpc {
		t.Fatalf("the ledger holds %s (gpc %v) for tracking, want a refusal made with the signal", state, gpc)
	}

	s.stop(t)
}

// consentBrowser is one browser tab and what the test reads around it.
type consentBrowser struct {
	t   *testing.T
	ctx context.Context
	s   *server
	db  *database.DB
}

func (b *consentBrowser) fail(step string, err error) {
	b.t.Helper()
	loc, _ := chromedp.Run(b.ctx, chromedp.Location())
	body, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("main")))
	b.t.Fatalf("%s: %v\nat %s\n%.1000s\nserver log:\n%.3000s", step, err, loc, body, b.s.stderr.String())
}

func (b *consentBrowser) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.fail(step, err)
	}
}

func (b *consentBrowser) evalBool(step, js string) bool {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fail(step, err)
	}
	return v
}

func (b *consentBrowser) count(selector string) int {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+jsString(selector)+`).length`))
	if err != nil {
		b.fail("count "+selector, err)
	}
	return v
}

func (b *consentBrowser) visible(selector string) bool {
	b.t.Helper()
	return b.evalBool("visible "+selector, `(() => { const e = document.querySelector(`+jsString(selector)+`); return !!e && !e.closest("[hidden]") && e.getClientRects().length > 0; })()`)
}

func (b *consentBrowser) text(selector string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(selector)))
	if err != nil {
		b.fail("read "+selector, err)
	}
	return v
}

// expectCookies checks that the browser holds exactly the named cookies
// for the server, each of them in the registry.
func (b *consentBrowser) expectCookies(when string, names ...string) {
	b.t.Helper()
	got, err := chromedp.Run(b.ctx, chromedp.Action[[]*network.Cookie](func(ctx context.Context, t *chromedp.Target) ([]*network.Cookie, error) {
		res, err := cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{URLs: []string{b.s.url + "/"}})
		return res.Cookies, err
	}))
	if err != nil {
		b.fail("read cookies", err)
	}
	var have []string
	for _, c := range got {
		have = append(have, c.Name)
		e, ok := cookies.Lookup(c.Name)
		if !ok {
			b.t.Errorf("%s: cookie %s is not in the registry", when, c.Name)
			continue
		}
		if e.Category == cookies.StrictlyNecessary && (!c.HTTPOnly || c.SameSite != network.CookieSameSiteLax) {
			b.t.Errorf("%s: cookie %s is not HttpOnly and SameSite=Lax", when, c.Name)
		}
	}
	slices.Sort(have)
	want := slices.Clone(names)
	slices.Sort(want)
	if !slices.Equal(have, want) {
		b.t.Fatalf("%s: the browser holds cookies %v, want %v", when, have, want)
	}
}

// expectStorage checks the number of local and session storage entries.
func (b *consentBrowser) expectStorage(when string, want int) {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`localStorage.length + sessionStorage.length`))
	if err != nil {
		b.fail("read storage", err)
	}
	if n != want {
		b.t.Fatalf("%s: %d storage entries, want %d", when, n, want)
	}
}

// events counts the analytics events in the binary's database.
func (b *consentBrowser) events() int {
	b.t.Helper()
	var n int
	if err := b.db.QueryRow(context.Background(), `SELECT COUNT(*) FROM analytics_events`).Scan(&n); err != nil {
		b.t.Fatal(err)
	}
	return n
}

func (b *consentBrowser) expectEvents(when string, want int) {
	b.t.Helper()
	if n := b.events(); n != want {
		b.t.Fatalf("%s: %d analytics events stored, want %d", when, n, want)
	}
}

// waitEvents waits until at least want events are stored: the page sends
// them after it loads, so they arrive a moment after the navigation ends.
func (b *consentBrowser) waitEvents(what string, want int) {
	b.t.Helper()
	b.waitFor(what, func() bool { return b.events() >= want })
}

func (b *consentBrowser) waitFeature(name string) {
	b.t.Helper()
	b.waitFor("feature event "+name, func() bool {
		var n int
		err := b.db.QueryRow(context.Background(), `SELECT COUNT(*) FROM analytics_events WHERE kind = 'feature' AND name = ?`, name).Scan(&n)
		return err == nil && n > 0
	})
}

func (b *consentBrowser) waitFor(what string, done func() bool) {
	b.t.Helper()
	for !done() {
		select {
		case <-b.ctx.Done():
			b.fail("wait for "+what, errors.New("not seen before the test's deadline"))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// collectRequests counts the analytics requests the server answered, from
// its request log, whether it kept the event or not.
func (b *consentBrowser) collectRequests() int {
	return strings.Count(b.s.stderr.String(), `"route":"POST /api/analytics/events"`)
}

func (b *consentBrowser) expectCollectRequests(when string, want int) {
	b.t.Helper()
	if n := b.collectRequests(); n != want {
		b.t.Fatalf("%s: the server received %d analytics requests, want %d", when, n, want)
	}
}

// equalProminence checks in the rendered page that "Accept all" and
// "Reject all" have the same size and the same look.
func (b *consentBrowser) equalProminence() {
	b.t.Helper()
	same := b.evalBool("compare the buttons", `(() => {
		const a = document.querySelector('#cookie-banner button[value="accept-all"]');
		const r = document.querySelector('#cookie-banner button[value="reject-all"]');
		if (!a || !r) return false;
		const ra = a.getBoundingClientRect(), rr = r.getBoundingClientRect();
		const sa = getComputedStyle(a), sr = getComputedStyle(r);
		const props = ["background-color", "color", "border-top-width", "border-top-color", "font-size", "font-weight"];
		return Math.abs(ra.width - rr.width) < 1 && Math.abs(ra.height - rr.height) < 1 &&
			props.every(p => sa.getPropertyValue(p) === sr.getPropertyValue(p));
	})()`)
	if !same {
		b.t.Error(`"Accept all" and "Reject all" differ in size or look`)
	}
}

// jsString quotes s for a script.
func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
