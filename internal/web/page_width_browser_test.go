package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/sessionshq/sessions/internal/marketing"
	"github.com/sessionshq/sessions/internal/platform/proctest"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/video"
)

// widthViewports are a phone and a laptop.
var widthViewports = []struct {
	name   string
	width  int64
	height int64
	mobile bool
}{
	{"phone", 390, 844, true},
	{"desktop", 1280, 800, false},
}

// widthSkipped are the GET routes of the browser that are not pages a
// person reads, with why.
var widthSkipped = map[string]string{
	"GET /healthz":                             "a probe's JSON",
	"GET /readyz":                              "a probe's JSON",
	"GET /static/{file}":                       "assets",
	"GET /.well-known/gpc.json":                "JSON for browsers",
	"GET /privacy/consent-receipt.schema.json": "a JSON schema",
	"GET /account/consents/receipts.json":      "a JSON download",
	"GET /orgs/{id}/logo":                      "an image",
	"GET /account/avatar":                      "an image",
	"GET /meetings/{id}/calendar.ics":          "an iCalendar download",
	"GET /meetings/{id}/resources/{rid}":       "a file download or a redirect to a link",
	"GET /account/exports/{id}/download":       "a ZIP download",
	"GET /signin/code":                         "redirects to sign-in without a pending second step",
	"GET /account/closed":                      "shown only after closing an account; walked as a visitor below",
	"GET /j/{token}":                           "walked with the guest's own link below",
	"GET /invitations/{token}":                 "walked with an invitation below",
	"GET /marketing/preferences/{token}":       "walked with a signed link below",
	"GET /unsubscribe/{token}":                 "walked with a signed link below",
}

// TestEveryPageFitsTheScreen walks every page a visitor, a member, a
// guest and staff can reach, at 390 and 1280 pixels wide in headless
// Chromium against a real server, and fails when a page is wider than
// the screen (document.documentElement.scrollWidth over the viewport),
// which on a phone means sideways scrolling. With SESSIONS_TEST_SHOTS set
// to a folder it also saves a screenshot of each page there.
func TestEveryPageFitsTheScreen(t *testing.T) {
	chromium := proctest.RequireChromium(t)
	h := newHarness(t)
	ctx := context.Background()
	srv := httptest.NewServer(h.Srv)
	t.Cleanup(srv.Close)

	// The people: a member with meetings, an organisation, requests and
	// a transfer; staff with every role; a guest invited to a meeting.
	ada := h.newMember(t)
	officer := h.newStaff(t, staff.Support, staff.PrivacyOfficer, staff.Admin)
	api := h.apiClient(t, ada)
	meetingID := createMeeting(t, api, map[string]any{"title": "Quarterly planning with a long title that wraps on a phone", "description": "Plans for the next quarter."})
	api.sendJSON(t, http.MethodPost, "/api/meetings/"+meetingID+"/agenda", map[string]any{"title": "Roadmap", "planned_minutes": 20, "notes": "Owners and dates."})
	api.sendJSON(t, http.MethodPost, "/api/meetings/"+meetingID+"/resources", map[string]any{"title": "Board", "url": "https://miro.com/app/board/uXjVExample=/"})
	if res := api.sendJSON(t, http.MethodPost, "/api/meetings/"+meetingID+"/participants", map[string]any{"email": "guest.person@example.net"}); res.StatusCode != http.StatusCreated {
		t.Fatalf("invite a guest: %d %s", res.StatusCode, res.Body)
	}
	guestLink := regexp.MustCompile(`http://sessions\.test(/j/[A-Za-z0-9_.~%-]+)`).FindStringSubmatch(h.nextMail(t).Text)
	if guestLink == nil {
		t.Fatal("no guest link in the invitation")
	}
	o, err := h.Srv.Services.Orgs.Create(ctx, service.Member(ada.ID), "Acme Research Cooperative", "")
	if err != nil {
		t.Fatal(err)
	}
	other := h.newMember(t)
	o2, err := h.Srv.Services.Orgs.Create(ctx, service.Member(other.ID), "Other Org", "")
	if err != nil {
		t.Fatal(err)
	}
	h.apiClient(t, other).sendJSON(t, http.MethodPost, "/api/orgs/"+o2.ID+"/invitations", map[string]string{"email": ada.Email, "role": "member"})
	invitation := orgLinkPattern.FindStringSubmatch(h.nextMail(t).Text)
	if invitation == nil {
		t.Fatal("no organisation invitation")
	}
	var req struct {
		ID string `json:"id"`
	}
	api.sendJSON(t, http.MethodPost, "/api/me/requests", map[string]any{"rights": []string{"access"}, "details": "Please send me a copy of everything."}).decode(t, &req)
	env := &matrixEnv{h: h, self: ada}
	transfer := matrixTransfer(t, env)
	mailID := env.outbox(t, false)
	campaign := mktCampaign(t, h, "Spring news from Sessions")
	run := retRun(t, h)
	public := h.anon().postForm(t, "/privacy/request", url.Values{"name": {"Pat Public"}, "email": {"pat@example.org"}, "rights": {"access"}, "details": {"A copy, please."}})
	publicVerify := public.Header.Get("Location")
	if !strings.HasPrefix(publicVerify, "/privacy/request/") {
		publicVerify = "/privacy/request/req_unknown/verify"
	}

	fill := strings.NewReplacer(
		"/meetings/{id}", "/meetings/"+meetingID,
		"/orgs/{id}", "/orgs/"+o.ID,
		"/admin/outbox/{id}", "/admin/outbox/"+mailID,
		"/admin/people/{id}", "/admin/people/"+ada.ID,
		"/admin/campaigns/{id}", "/admin/campaigns/"+campaign,
		"/admin/requests/{id}", "/admin/requests/"+req.ID,
		"/account/requests/{id}", "/account/requests/"+req.ID,
		"/admin/retention/runs/{id}", "/admin/retention/runs/"+run,
		"/account/transfers/{id}", "/account/transfers/"+transfer,
		"/privacy/notice/v/{n}", "/privacy/notice/v/1",
		"/privacy/request/{id}/verify", publicVerify,
	)

	type visit struct{ who, path string }
	var visits []visit
	for _, p := range h.Srv.Patterns() {
		method, path, _ := strings.Cut(p, " ")
		if method != http.MethodGet || strings.HasPrefix(path, "/api/") {
			continue
		}
		if _, skip := widthSkipped[p]; skip || slices.Contains(video.SignalPaths, path) {
			continue
		}
		path = strings.TrimSuffix(fill.Replace(path), "{$}")
		if path == "" {
			path = "/"
		}
		if strings.Contains(path, "{") {
			t.Errorf("%s: the page walk does not know how to fill this route; add it to the walk or to widthSkipped", p)
			continue
		}
		switch {
		case strings.HasPrefix(path, "/admin") || path == "/setup":
			visits = append(visits, visit{"staff", path})
		case strings.HasPrefix(path, "/account") || strings.HasPrefix(path, "/orgs") || strings.HasPrefix(path, "/meetings"):
			visits = append(visits, visit{"member", path})
		default:
			visits = append(visits, visit{"visitor", path}, visit{"member", path})
		}
	}
	// Pages reached through links in mail, and the dead ends of links
	// that no longer work.
	visits = append(visits,
		visit{"guest", guestLink[1]},
		visit{"member", "/invitations/" + invitation[1]},
		visit{"visitor", "/marketing/preferences/" + marketing.PreferencesToken(h.Secret, ada.ID, h.Clock.Now())},
		visit{"visitor", "/unsubscribe/" + marketing.UnsubscribeToken(h.Secret, ada.ID, campaign, h.Clock.Now())},
		visit{"visitor", "/account/closed"},
		visit{"visitor", "/verify-email?token=spent"},
		visit{"visitor", "/reset-password?token=spent"},
		visit{"visitor", "/setup?token=spent"},
		visit{"visitor", "/signin?next=%2Finvitations%2Finv_x"},
		visit{"member", "/?started=" + meetingID},
		visit{"member", "/no-such-page"},
		visit{"staff", "/meetings/" + meetingID + "/room"},
	)
	cookies := map[string]*client{
		"visitor": h.anon(),
		"guest":   h.anon(),
		"member":  h.signIn(t, ada),
		"staff":   h.signIn(t, officer),
	}

	shots := os.Getenv("SESSIONS_TEST_SHOTS")
	// SESSIONS_TEST_PAGES narrows the walk to paths that match it, for a
	// quick look at the pages being worked on.
	only := regexp.MustCompile(os.Getenv("SESSIONS_TEST_PAGES"))
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("hide-scrollbars", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	if _, err := chromedp.Run(browserCtx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	u, _ := url.Parse(srv.URL)
	call := func(f func(ctx context.Context, t *chromedp.Target) error) chromedp.Action[chromedp.Void] {
		return chromedp.Func(f)
	}
	widest := `Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > innerWidth + 1)` +
		`.slice(-4).map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (typeof e.className === "string" && e.className ? "." + e.className.trim().split(/\s+/).join(".") : "") + " " + Math.round(e.getBoundingClientRect().right)).join(", ")`

	for who, c := range cookies {
		tabCtx, cancelTab := chromedp.NewContext(browserCtx)
		runCtx, cancel := context.WithTimeout(tabCtx, 5*time.Minute)
		err := chromedp.Do(runCtx, chromedp.Navigate("about:blank"), call(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := cdp.Call(ctx, tg, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
				return err
			}
			for _, ck := range c.cookies {
				if _, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: ck.Name, Value: ck.Value, Domain: u.Hostname(), Path: "/"}); err != nil {
					return err
				}
			}
			return nil
		}))
		if err != nil {
			t.Fatalf("%s: cookies: %v", who, err)
		}
		for _, vp := range widthViewports {
			err := chromedp.Do(runCtx, call(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
					Width: vp.width, Height: vp.height, DeviceScaleFactor: 1, Mobile: vp.mobile})
				return err
			}))
			if err != nil {
				t.Fatalf("viewport: %v", err)
			}
			for _, v := range visits {
				if v.who != who || !only.MatchString(v.path) {
					continue
				}
				if err := chromedp.Do(runCtx, chromedp.Navigate(srv.URL+v.path), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
					t.Errorf("%s %s at %d px: %v", who, v.path, vp.width, err)
					continue
				}
				width, err := chromedp.Run(runCtx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`))
				if err != nil {
					t.Errorf("%s %s at %d px: %v", who, v.path, vp.width, err)
					continue
				}
				if width > vp.width {
					// Name the elements that stick out: what a fix needs.
					wide, _ := chromedp.Run(runCtx, chromedp.Evaluate[string](widest))
					t.Errorf("%s %s at %d px: the page is %d px wide (%s)", who, v.path, vp.width, width, wide)
				}
				if shots != "" {
					if png, err := chromedp.Run(runCtx, chromedp.FullScreenshot(100)); err == nil {
						name := fmt.Sprintf("%s-%d-%s.png", who, vp.width, strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(v.path), "-"), "-"))
						_ = os.WriteFile(filepath.Join(shots, name), png, 0o644)
					}
				}
			}
		}
		cancel()
		cancelTab()
	}
}
