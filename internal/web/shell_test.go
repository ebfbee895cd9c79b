package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/config"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/platform/logging"
	"github.com/sessionshq/sessions/internal/service/wire"
)

// shellEnv is a server on a fresh database with its log captured.
type shellEnv struct {
	srv  *Server
	db   *database.DB
	logs *bytes.Buffer
	// staff is the session cookie of an account with every staff role.
	staff *http.Cookie
}

// newShellServer builds the server the way the binary does, from
// SESSIONS_* settings; vars override the defaults below and an empty value
// unsets one.
func newShellServer(t *testing.T, vars map[string]string) *shellEnv {
	t.Helper()
	db := dbtest.Open(t)
	env := map[string]string{
		"SESSIONS_BASE_URL": "http://sessions.test",
		"SESSIONS_DATA_DIR": t.TempDir(),
	}
	maps.Copy(env, vars)
	cfg, _, err := config.Load(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &bytes.Buffer{}
	clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	log := logging.New(logs, "json", "debug")
	secret := []byte("a-test-secret-of-at-least-32-bytes!")
	services, err := wire.New(wire.Parts{Config: cfg, DB: db, Clock: clk, Log: log, Secret: secret})
	if err != nil {
		t.Fatalf("services: %v", err)
	}
	srv, err := New(Deps{Config: cfg, Clock: clk, Log: log, Secret: secret, Services: services})
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	return &shellEnv{srv: srv, db: db, logs: logs, staff: shellStaffCookie(t, srv)}
}

type shellResponse struct {
	*http.Response
	body []byte
}

func shellServe(h http.Handler, r *http.Request) shellResponse {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	return shellResponse{Response: res, body: body}
}

func (e *shellEnv) get(path string) shellResponse {
	return shellServe(e.srv, httptest.NewRequest(http.MethodGet, path, nil))
}

// getAsStaff sends the cookie of an account that holds every staff role.
func (e *shellEnv) getAsStaff(path string) shellResponse {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.AddCookie(e.staff)
	return shellServe(e.srv, r)
}

// ---- HTML helpers ----

func shellParse(t *testing.T, body []byte) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse HTML: %v", err)
	}
	return doc
}

func shellFind(root *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for n := range root.Descendants() {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
	}
	return out
}

func shellTag(name string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Data == name }
}

func shellAttr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func shellText(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// shellInlineCode lists everything in a page that a CSP without
// 'unsafe-inline' would block, and so would silently not work: script
// blocks, style blocks and attributes, event-handler attributes and
// javascript: URLs.
func shellInlineCode(root *html.Node) []string {
	var problems []string
	for n := range root.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		switch n.Data {
		case "script":
			if src, _ := shellAttr(n, "src"); strings.TrimSpace(src) == "" {
				problems = append(problems, "a <script> element without src")
			}
		case "style":
			problems = append(problems, "a <style> element")
		}
		for _, a := range n.Attr {
			key := strings.ToLower(a.Key)
			switch {
			case key == "style":
				problems = append(problems, "a style attribute on <"+n.Data+">")
			case strings.HasPrefix(key, "on"):
				problems = append(problems, "an event-handler attribute "+key+" on <"+n.Data+">")
			case (key == "href" || key == "src" || key == "action" || key == "formaction") &&
				strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:"):
				problems = append(problems, "a javascript: URL on <"+n.Data+">")
			}
		}
	}
	return problems
}

// shellBrokenReferences lists duplicate ids and ARIA or label references
// to ids that do not exist: both leave a screen reader with the wrong or
// no description.
func shellBrokenReferences(root *html.Node) []string {
	var problems []string
	ids := map[string]int{}
	for _, n := range shellFind(root, func(*html.Node) bool { return true }) {
		if id, ok := shellAttr(n, "id"); ok {
			ids[id]++
		}
	}
	for id, count := range ids {
		if count > 1 {
			problems = append(problems, "id "+id+" is used more than once")
		}
	}
	for _, n := range shellFind(root, func(*html.Node) bool { return true }) {
		for _, key := range []string{"for", "aria-labelledby", "aria-describedby", "aria-controls"} {
			v, ok := shellAttr(n, key)
			if !ok {
				continue
			}
			for _, ref := range strings.Fields(v) {
				if ids[ref] == 0 {
					problems = append(problems, key+` refers to missing id "`+ref+`"`)
				}
			}
		}
	}
	return problems
}

// shellAssetURLs returns every /static/ URL a page loads, without fragments.
func shellAssetURLs(root *html.Node) []string {
	var urls []string
	for n := range root.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		for _, a := range n.Attr {
			if (a.Key == "href" || a.Key == "src") && strings.HasPrefix(a.Val, "/static/") {
				u, _, _ := strings.Cut(a.Val, "#")
				if !slices.Contains(urls, u) {
					urls = append(urls, u)
				}
			}
		}
	}
	return urls
}

func shellCheckSecurityHeaders(t *testing.T, what string, res shellResponse) {
	t.Helper()
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: Content-Security-Policy %q lacks %s", what, csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("%s: Content-Security-Policy allows unsafe code: %q", what, csp)
	}
	if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options = %q, want nosniff", what, got)
	}
	if got := res.Header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("%s: X-Frame-Options = %q, want DENY", what, got)
	}
	if got := res.Header.Get("Referrer-Policy"); got == "" || got == "unsafe-url" {
		t.Errorf("%s: Referrer-Policy = %q", what, got)
	}
	if res.Header.Get("X-Request-Id") == "" {
		t.Errorf("%s: no X-Request-Id", what)
	}
}

// ---- Tests ----

func TestShellInlineCodeCheckerCatchesEachKind(t *testing.T) {
	t.Parallel()
	// The page tests below pass only when this finds nothing, so prove it
	// finds each kind of inline code it claims to.
	bad := `<!doctype html><html lang="en"><head><style>p{}</style></head><body>
<script>alert(1)</script><p style="color:red">x</p><button onclick="go()">b</button>
<a href=" JavaScript:go()">l</a><script src="/static/ok.js"></script></body></html>`
	got := shellInlineCode(shellParse(t, []byte(bad)))
	if len(got) != 5 {
		t.Fatalf("found %d problems, want 5: %q", len(got), got)
	}
	refs := shellBrokenReferences(shellParse(t, []byte(`<p id="a"></p><p id="a"></p><input aria-describedby="a b">`)))
	if len(refs) != 2 {
		t.Fatalf("found %d reference problems, want 2: %q", len(refs), refs)
	}
}

func TestShellPages(t *testing.T) {
	t.Parallel()
	env := newShellServer(t, nil)
	cases := []struct {
		path     string
		operator bool
		section  string // the Main navigation link that must be current
		current  string // its href
		wantText []string
	}{
		{path: "/", section: "home", current: "/", wantText: []string{"Visit the privacy centre", "privacy notice"}},
		{path: "/admin", operator: true, section: "admin", current: "/admin", wantText: []string{"Mail outbox", "Sub-processors", "Audit log", "http://sessions.test"}},
	}
	for _, tc := range cases {
		t.Run(tc.section, func(t *testing.T) {
			var res shellResponse
			if tc.operator {
				res = env.getAsStaff(tc.path)
			} else {
				res = env.get(tc.path)
			}
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: status %d, body %s", tc.path, res.StatusCode, res.body)
			}
			if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			shellCheckSecurityHeaders(t, tc.path, res)
			if res.Header.Get("Strict-Transport-Security") != "" {
				t.Errorf("HSTS sent although the base URL is http")
			}
			doc := shellParse(t, res.body)
			if p := shellInlineCode(doc); len(p) > 0 {
				t.Errorf("inline code the CSP would block: %q", p)
			}
			if p := shellBrokenReferences(doc); len(p) > 0 {
				t.Errorf("broken id references: %q", p)
			}
			text := shellText(doc)
			for _, want := range tc.wantText {
				if !strings.Contains(text, want) {
					t.Errorf("page does not say %q", want)
				}
			}

			htmlEl := shellFind(doc, shellTag("html"))
			if lang, _ := shellAttr(htmlEl[0], "lang"); lang != "en" {
				t.Errorf(`<html lang=%q>, want "en"`, lang)
			}
			for _, landmark := range []string{"header", "nav", "main", "footer"} {
				if len(shellFind(doc, shellTag(landmark))) == 0 {
					t.Errorf("no <%s> landmark", landmark)
				}
			}
			mains := shellFind(doc, shellTag("main"))
			if len(mains) != 1 {
				t.Fatalf("%d <main> elements, want 1", len(mains))
			}
			if id, _ := shellAttr(mains[0], "id"); id != "main" {
				t.Errorf(`<main id=%q>, want "main" for the skip link`, id)
			}
			links := shellFind(doc, shellTag("a"))
			if href, _ := shellAttr(links[0], "href"); href != "#main" {
				t.Errorf("the first link goes to %q; the skip link to #main must come first", href)
			}
			if n := len(shellFind(doc, shellTag("h1"))); n != 1 {
				t.Errorf("%d <h1> elements, want 1", n)
			}
			for _, img := range shellFind(doc, shellTag("img")) {
				if _, ok := shellAttr(img, "alt"); !ok {
					t.Errorf("an <img> without alt")
				}
			}
			var current []string
			for _, a := range links {
				if v, _ := shellAttr(a, "aria-current"); v == "page" {
					href, _ := shellAttr(a, "href")
					current = append(current, href)
				}
			}
			if !slices.Equal(current, []string{tc.current}) {
				t.Errorf("aria-current=page on %q, want only on %q", current, tc.current)
			}

			for _, u := range shellAssetURLs(doc) {
				if a := env.get(u); a.StatusCode != http.StatusOK {
					t.Errorf("asset %s: status %d", u, a.StatusCode)
				}
			}
		})
	}
}

func TestShellLinksLeadToRoutes(t *testing.T) {
	t.Parallel()
	// A link in the layout or on a shell page that leads nowhere is a
	// broken promise on every page; the privacy centre and the console's
	// tools are separate handlers, so this is where a renamed route shows.
	env := newShellServer(t, nil)
	broken := map[string][]string{}
	for _, path := range []string{"/", "/account", "/admin", "/no-such-page"} {
		doc := shellParse(t, env.getAsStaff(path).body)
		for _, a := range shellFind(doc, shellTag("a")) {
			href, _ := shellAttr(a, "href")
			if !strings.HasPrefix(href, "/") || strings.HasPrefix(href, "/static/") {
				continue
			}
			if _, pattern := env.srv.mux.Handler(httptest.NewRequest(http.MethodGet, href, nil)); pattern == "" &&
				!slices.Contains(broken[href], path) {
				broken[href] = append(broken[href], path)
			}
		}
	}
	for _, href := range slices.Sorted(maps.Keys(broken)) {
		t.Errorf("%s links to %s, which no route serves", strings.Join(broken[href], ", "), href)
	}
}

func TestShellNoInlineCodeOnAnyPage(t *testing.T) {
	t.Parallel()
	// Every page at a fixed address, whoever wrote it, and every kind of
	// error page: an inline script or style would be blocked by the CSP and
	// break the page for real visitors without any error on the server.
	env := newShellServer(t, nil)
	paths := map[string]bool{"/no-such-page": true}
	for _, p := range env.srv.Patterns() {
		method, path, ok := strings.Cut(p, " ")
		if !ok || method != http.MethodGet || strings.HasPrefix(path, "/api/") {
			continue
		}
		path = strings.TrimSuffix(path, "{$}")
		if strings.Contains(path, "{") {
			continue
		}
		paths[path] = true
	}
	for _, path := range slices.Sorted(maps.Keys(paths)) {
		for _, operator := range []bool{false, true} {
			var res shellResponse
			if operator {
				res = env.getAsStaff(path)
			} else {
				res = env.get(path)
			}
			if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
				continue
			}
			doc := shellParse(t, res.body)
			if p := shellInlineCode(doc); len(p) > 0 {
				t.Errorf("GET %s (operator %v, status %d): inline code the CSP would block: %q", path, operator, res.StatusCode, p)
			}
			if p := shellBrokenReferences(doc); len(p) > 0 {
				t.Errorf("GET %s (operator %v): broken id references: %q", path, operator, p)
			}
		}
	}
}

func TestShellSecurityHeadersEverywhere(t *testing.T) {
	t.Parallel()
	env := newShellServer(t, nil)
	css := env.srv.pages.urls["app.css"]
	for name, res := range map[string]shellResponse{
		"page":         env.get("/account"),
		"error page":   env.get("/no-such-page"),
		"asset":        env.get(css),
		"API":          env.get("/api/openapi.json"),
		"API problem":  env.get("/api/no-such-route"),
		"health probe": env.get("/healthz"),
	} {
		shellCheckSecurityHeaders(t, name, res)
		if res.Header.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS sent although the base URL is http", name)
		}
	}
}

func TestShellHSTSOnlyOverHTTPS(t *testing.T) {
	t.Parallel()
	env := newShellServer(t, map[string]string{"SESSIONS_BASE_URL": "https://meet.example.com"})
	for _, path := range []string{"/", "/no-such-page", "/api/openapi.json"} {
		hsts := env.get(path).Header.Get("Strict-Transport-Security")
		if !strings.Contains(hsts, "max-age=") || strings.Contains(hsts, "max-age=0") {
			t.Errorf("GET %s: Strict-Transport-Security = %q, want a lasting max-age", path, hsts)
		}
	}
}

var shellHashedName = regexp.MustCompile(`^/static/[a-z0-9_-]+\.([0-9a-f]{10})\.[a-z]+$`)

func TestShellStaticAssets(t *testing.T) {
	t.Parallel()
	env := newShellServer(t, nil)
	doc := shellParse(t, env.get("/").body)
	urls := shellAssetURLs(doc)
	var sawCSS, sawIcon bool
	for _, u := range urls {
		m := shellHashedName.FindStringSubmatch(u)
		if m == nil {
			t.Errorf("asset URL %s does not carry a content hash", u)
			continue
		}
		res := env.get(u)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d", u, res.StatusCode)
		}
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") || !strings.Contains(cc, "max-age=31536000") {
			t.Errorf("GET %s: Cache-Control = %q, want a year and immutable", u, cc)
		}
		sum := sha256.Sum256(res.body)
		if got := hex.EncodeToString(sum[:5]); got != m[1] {
			t.Errorf("GET %s: the body hashes to %s; the URL must change whenever the content does", u, got)
		}
		switch ct := res.Header.Get("Content-Type"); {
		case strings.HasSuffix(u, ".css"):
			sawCSS = true
			if !strings.HasPrefix(ct, "text/css") {
				t.Errorf("GET %s: Content-Type = %q", u, ct)
			}
		case strings.HasSuffix(u, ".svg"):
			sawIcon = true
			if ct != "image/svg+xml" {
				t.Errorf("GET %s: Content-Type = %q", u, ct)
			}
		}
	}
	if !sawCSS || !sawIcon {
		t.Errorf("the start page loads %q; want the stylesheet and SVG icons", urls)
	}
	var favicon bool
	for _, l := range shellFind(doc, shellTag("link")) {
		if rel, _ := shellAttr(l, "rel"); rel == "icon" {
			href, _ := shellAttr(l, "href")
			favicon = shellHashedName.MatchString(href)
		}
	}
	if !favicon {
		t.Errorf("no favicon under a content-hash URL")
	}

	css := env.srv.pages.urls["app.css"]
	wrong := regexp.MustCompile(`\.[0-9a-f]{10}\.`).ReplaceAllString(css, ".0000000000.")
	for _, u := range []string{wrong, "/static/app.css", "/static/no-such-file.css"} {
		res := env.get(u)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", u, res.StatusCode)
		}
		if strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("GET %s: a miss must not be cached as immutable", u)
		}
	}
}

func TestShellNotFound(t *testing.T) {
	t.Parallel()
	env := newShellServer(t, nil)

	res := env.get("/no-such-page")
	if res.StatusCode != http.StatusNotFound || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("browser path: status %d, Content-Type %q; want an HTML 404", res.StatusCode, res.Header.Get("Content-Type"))
	}
	text := shellText(shellParse(t, res.body))
	if !strings.Contains(text, "Page not found") || !strings.Contains(text, res.Header.Get("X-Request-Id")) {
		t.Errorf("404 page lacks its heading or the request id: %s", text)
	}

	res = env.get("/api/no-such-route")
	if res.StatusCode != http.StatusNotFound || res.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("API path: status %d, Content-Type %q; want a problem+json 404", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var p problem
	if err := json.Unmarshal(res.body, &p); err != nil {
		t.Fatalf("problem body: %v", err)
	}
	if p.Status != http.StatusNotFound || p.RequestID != res.Header.Get("X-Request-Id") {
		t.Errorf("problem = %+v", p)
	}
}

func TestShellMethodNotAllowed(t *testing.T) {
	t.Parallel()
	env := newShellServer(t, nil)
	for _, tc := range []struct {
		method, path, contentType string
	}{
		{http.MethodDelete, "/account", "text/html; charset=utf-8"},
		{http.MethodPost, "/", "text/html; charset=utf-8"},
		{http.MethodPost, "/api/openapi.json", "application/problem+json"},
	} {
		res := shellServe(env.srv, httptest.NewRequest(tc.method, tc.path, nil))
		if res.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s %s: status %d, want 405", tc.method, tc.path, res.StatusCode)
			continue
		}
		if allow := res.Header.Get("Allow"); !strings.Contains(allow, http.MethodGet) {
			t.Errorf("%s %s: Allow = %q, want GET listed", tc.method, tc.path, allow)
		}
		if ct := res.Header.Get("Content-Type"); ct != tc.contentType {
			t.Errorf("%s %s: Content-Type = %q, want %q", tc.method, tc.path, ct, tc.contentType)
		}
	}
}

func TestShellCrossOriginPostRefused(t *testing.T) {
	t.Parallel()
	env := newShellServer(t, nil)
	post := func(path, site, origin string) shellResponse {
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader("a=b"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Sec-Fetch-Site", site)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		return shellServe(env.srv, r)
	}

	res := post("/account", "cross-site", "https://evil.example")
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site POST to a browser route: status %d, want 403", res.StatusCode)
	}
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Errorf("refusal Content-Type = %q, want the HTML error page", res.Header.Get("Content-Type"))
	}
	if text := shellText(shellParse(t, res.body)); !strings.Contains(strings.ToLower(text), "cross-origin") {
		t.Errorf("the refusal does not say why: %s", text)
	}

	// The same request from the product's own pages gets through to the
	// router, which proves the 403 came from the origin check.
	if res := post("/account", "same-origin", "http://sessions.test"); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("same-origin POST: status %d, want 405 from the router", res.StatusCode)
	}
	// API routes authenticate with bearer tokens instead of cookies, so
	// they are outside the browser check.
	if res := post("/api/openapi.json", "cross-site", "https://evil.example"); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("cross-site POST to the API: status %d, want 405 from the router", res.StatusCode)
	}
}

func TestShellInternalErrorShowsNoDetails(t *testing.T) {
	t.Parallel()
	env := newShellServer(t, nil)
	// A closed database makes the readiness probe fail with the driver's
	// own error text, which must reach the log and never the page.
	if err := env.db.Close(); err != nil {
		t.Fatal(err)
	}
	cause := env.db.Ping(t.Context())
	if cause == nil {
		t.Fatal("ping on a closed database succeeded")
	}
	res := env.get("/readyz")
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", res.StatusCode)
	}
	reqID := res.Header.Get("X-Request-Id")
	body := string(res.body)
	if strings.Contains(body, cause.Error()) || strings.Contains(body, "sql:") || strings.Contains(body, "not reachable") {
		t.Errorf("the error page shows internal details:\n%s", body)
	}
	text := shellText(shellParse(t, res.body))
	if !strings.Contains(text, "Temporarily unavailable") || !strings.Contains(text, reqID) {
		t.Errorf("the error page lacks a plain heading or the request id %s: %s", reqID, text)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	logs := env.logs.String()
	if !strings.Contains(logs, cause.Error()) || !strings.Contains(logs, reqID) {
		t.Errorf("the log does not hold the cause with the request id:\n%s", logs)
	}
}

func TestShellPanicShowsNoDetails(t *testing.T) {
	t.Parallel()
	env := newShellServer(t, nil)
	const secret = "secret-internal-state-4711"
	h := env.srv.logRequests(env.srv.recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic(secret)
	})))

	res := shellServe(h, httptest.NewRequest(http.MethodGet, "/anything", nil))
	if res.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", res.StatusCode)
	}
	if strings.Contains(string(res.body), secret) {
		t.Errorf("the error page shows the panic value")
	}
	reqID := res.Header.Get("X-Request-Id")
	if text := shellText(shellParse(t, res.body)); !strings.Contains(text, "Something went wrong") || !strings.Contains(text, reqID) {
		t.Errorf("the error page lacks a plain heading or the request id: %s", text)
	}
	if p := shellInlineCode(shellParse(t, res.body)); len(p) > 0 {
		t.Errorf("inline code on the error page: %q", p)
	}

	res = shellServe(h, httptest.NewRequest(http.MethodGet, "/api/anything", nil))
	var p problem
	if err := json.Unmarshal(res.body, &p); err != nil || res.StatusCode != http.StatusInternalServerError {
		t.Fatalf("API panic: status %d, body %s", res.StatusCode, res.body)
	}
	if strings.Contains(string(res.body), secret) || p.Detail != "" || p.RequestID == "" {
		t.Errorf("API panic body leaks or lacks the request id: %s", res.body)
	}
	if !strings.Contains(env.logs.String(), secret) {
		t.Errorf("the panic is not in the log, so the operator has no clue")
	}
}

func TestShellStaffConsoleGuard(t *testing.T) {
	t.Parallel()
	env := newShellServer(t, nil)

	res := env.get("/admin")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/signin?next=%2Fadmin" {
		t.Fatalf("anonymous: status %d to %q, want 303 to the sign-in page", res.StatusCode, res.Header.Get("Location"))
	}
	if strings.Contains(string(res.body), "Mail outbox") {
		t.Errorf("the console shows its tools to an anonymous visitor")
	}

	res = env.getAsStaff("/admin")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("staff: status %d, want 200", res.StatusCode)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("console Cache-Control = %q, want no-store", cc)
	}
}

func TestShellLinksStayInsideTheProduct(t *testing.T) {
	t.Parallel()
	// The shell pages load nothing from other origins: the CSP would block
	// it, and a third-party request would disclose the visitor's address.
	env := newShellServer(t, nil)
	for _, path := range []string{"/", "/account", "/no-such-page"} {
		doc := shellParse(t, env.get(path).body)
		for n := range doc.Descendants() {
			if n.Type != html.ElementNode || n.Data == "a" {
				continue
			}
			for _, key := range []string{"src", "href"} {
				v, ok := shellAttr(n, key)
				if !ok {
					continue
				}
				u, err := url.Parse(v)
				if err != nil || u.Host != "" || u.Scheme != "" {
					t.Errorf("GET %s: <%s %s=%q> loads from elsewhere", path, n.Data, key, v)
				}
			}
		}
	}
}
