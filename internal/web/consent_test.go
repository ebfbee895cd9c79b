package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/sessionshq/sessions/internal/privacy/consent"
	"github.com/sessionshq/sessions/internal/privacy/rights/markerscan"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

// countConsentRecords is the size of the whole ledger.
func (h *harness) countConsentRecords(t testing.TB) int {
	t.Helper()
	return h.count(t, `SELECT COUNT(*) FROM consent_records`)
}

// withHeader sends a request with extra headers.
func (c *client) withHeader(t testing.TB, method, path string, body any, header http.Header) *response {
	t.Helper()
	var b *bytes.Reader
	if header == nil {
		header = http.Header{}
	}
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.NewReader(raw)
		header.Set("Content-Type", "application/json")
		return c.do(t, method, path, b, header)
	}
	return c.do(t, method, path, nil, header)
}

var gpcHeader = http.Header{"Sec-Gpc": {"1"}}

func TestGPCWellKnown(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	res := h.anon().get(t, "/.well-known/gpc.json")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("status %d, type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var body map[string]any
	res.decode(t, &body)
	if body["gpc"] != true || len(body) != 2 {
		t.Errorf("body = %v", body)
	}
	last, _ := body["lastUpdate"].(string)
	if _, err := time.Parse(time.DateOnly, last); err != nil {
		t.Errorf("lastUpdate %q is not YYYY-MM-DD", last)
	}
}

// receiptValidator compiles the schema the server publishes.
func receiptValidator(t *testing.T, h *harness) *jsonschema.Schema {
	t.Helper()
	res := h.anon().get(t, "/privacy/consent-receipt.schema.json")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/schema+json" {
		t.Fatalf("schema: status %d, type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if !bytes.Equal(res.Body, consent.ReceiptSchema) {
		t.Fatal("the published schema is not the embedded one")
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(res.Body))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("receipts.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("receipts.schema.json")
	if err != nil {
		t.Fatalf("the published schema does not compile: %v", err)
	}
	return sch
}

func validateReceipts(t *testing.T, sch *jsonschema.Schema, body []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("receipts do not validate against the published schema: %v\n%s", err, body)
	}
}

// TestReceiptsValidateAgainstSchema makes records of every method and
// state a member can have, the visitor's choices carried over at sign-in
// among them, and validates both downloads against the published schema.
func TestReceiptsValidateAgainstSchema(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sch := receiptValidator(t, h)
	ada := h.newMember(t)

	// As a visitor with GPC on: accept all in the banner, then sign in.
	browser := h.anon()
	browser.ip = "203.0.113.77"
	res := browser.do(t, http.MethodPost, "/cookies/choice", strings.NewReader(url.Values{"action": {"accept-all"}}.Encode()),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Sec-Gpc": {"1"}, "User-Agent": {"Mozilla/5.0 (Test)"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("cookie choice: %d %s", res.StatusCode, res.Body)
	}
	res = browser.do(t, http.MethodPost, "/signin", strings.NewReader(url.Values{"email": {ada.Email}, "password": {ada.Password}}.Encode()),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Sec-Gpc": {"1"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d %s", res.StatusCode, res.Body)
	}

	api := h.apiClient(t, ada)
	api.ip = "2001:db8:abcd:12::9"
	h.Clock.Advance(time.Minute)
	if res := api.withHeader(t, http.MethodPost, "/api/me/consents", map[string]any{"purposes": []string{"behaviour-tracking"}, "state": "given"}, gpcHeader); res.StatusCode != http.StatusCreated {
		t.Fatalf("give: %d %s", res.StatusCode, res.Body)
	}
	h.Clock.Advance(time.Minute)
	if res := api.sendJSON(t, http.MethodPost, "/api/me/consents", map[string]any{"purposes": []string{"personalisation"}, "state": "withdrawn"}); res.StatusCode != http.StatusCreated {
		t.Fatalf("withdraw: %d %s", res.StatusCode, res.Body)
	}
	if _, _, err := h.Srv.Services.Notices.PublishFirst(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res := api.sendJSON(t, http.MethodPost, "/api/me/consents", map[string]any{"purposes": []string{"recording", "ai-processing", "analytics"}, "state": "refused"}); res.StatusCode != http.StatusCreated {
		t.Fatalf("refuse: %d %s", res.StatusCode, res.Body)
	}
	// Seven months on, the consents given have expired.
	h.Clock.Advance(7 * 30 * 24 * time.Hour)

	// The browser's session has lapsed by now; a fresh one downloads.
	browser = h.signIn(t, ada)
	for _, path := range []string{"/api/me/consents", "/account/consents/receipts.json"} {
		res := browser.get(t, path)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", path, res.StatusCode, res.Body)
		}
		validateReceipts(t, sch, res.Body)
		var doc consent.Receipts
		res.decode(t, &doc)
		methods, states, linked, gpcs := map[string]bool{}, map[string]bool{}, 0, 0
		for _, r := range doc.Receipts {
			methods[r.Method], states[r.State] = true, true
			if r.LinkedFrom != nil {
				linked++
			}
			if r.Method == "gpc" {
				gpcs++
			}
			if r.Subject.ID != ada.ID || r.Subject.Kind != "member" {
				t.Errorf("%s: a receipt of someone else: %+v", path, r.Subject)
			}
		}
		for _, m := range []string{"banner", "gpc", "api"} {
			if !methods[m] {
				t.Errorf("%s: no %s record among %v", path, m, methods)
			}
		}
		if gpcs != 1 {
			t.Errorf("%s: %d GPC records, want one per notice version", path, gpcs)
		}
		if linked < 3 {
			t.Errorf("%s: %d records carried over from the visitor, want the banner's three and its GPC refusal", path, linked)
		}
		current := map[string]string{}
		for _, c := range doc.Current {
			current[c.Purpose] = c.State
		}
		if current["behaviour-tracking"] != "expired" || current["analytics"] != "refused" || current["personalisation"] != "withdrawn" || current["recording"] != "refused" {
			t.Errorf("%s: current = %v", path, current)
		}
		if path == "/account/consents/receipts.json" && !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
			t.Errorf("the download is not an attachment: %q", res.Header.Get("Content-Disposition"))
		}
	}
	// The visitor's records stay the visitor's, with the truncated IP.
	var ip string
	if err := h.DB.QueryRow(context.Background(), `SELECT ip FROM consent_records WHERE subject_kind = 'visitor' AND method = 'banner' LIMIT 1`).Scan(&ip); err != nil {
		t.Fatal(err)
	}
	if ip != "203.0.113.0" {
		t.Errorf("stored IP %q, want it cut to /24", ip)
	}
	if err := h.DB.QueryRow(context.Background(), `SELECT ip FROM consent_records WHERE method = 'api' LIMIT 1`).Scan(&ip); err != nil {
		t.Fatal(err)
	}
	if ip != "2001:db8:abcd::" {
		t.Errorf("stored IP %q, want it cut to /48", ip)
	}
}

// TestConsentBadInputWritesNothing sends forged consent requests and
// checks each is refused with nothing written. (A long or odd User-Agent
// is no reason to refuse: the ledger keeps only its browser family.)
func TestConsentBadInputWritesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.newMember(t)
	bob := h.newMember(t)
	api := h.apiClient(t, ada)
	cases := []struct {
		name   string
		body   any
		raw    string
		header http.Header
		status int
		field  string
	}{
		{name: "unknown purpose", body: map[string]any{"purposes": []string{"selling-data"}, "state": "given"}, status: 422, field: "purposes"},
		{name: "purpose without consent", body: map[string]any{"purposes": []string{"marketing"}, "state": "given"}, status: 422, field: "purposes"},
		{name: "cookie category instead of a purpose", body: map[string]any{"purposes": []string{"strictly-necessary"}, "state": "given"}, status: 422, field: "purposes"},
		{name: "no purposes", body: map[string]any{"purposes": []string{}, "state": "given"}, status: 422, field: "purposes"},
		{name: "purpose twice", body: map[string]any{"purposes": []string{"analytics", "analytics"}, "state": "given"}, status: 422, field: "purposes"},
		{name: "unknown state", body: map[string]any{"purposes": []string{"analytics"}, "state": "maybe"}, status: 422, field: "state"},
		{name: "expired is not a choice", body: map[string]any{"purposes": []string{"analytics"}, "state": "expired"}, status: 422, field: "state"},
		{name: "unknown field", body: map[string]any{"purposes": []string{"analytics"}, "state": "given", "method": "gpc"}, status: 400, field: "method"},
		{name: "forged record id", body: map[string]any{"purposes": []string{"analytics"}, "state": "given", "id": "cns_x"}, status: 400, field: "id"},
		{name: "purposes of the wrong type", body: map[string]any{"purposes": "analytics", "state": "given"}, status: 400, field: "purposes"},
		{name: "state of the wrong type", body: map[string]any{"purposes": []string{"analytics"}, "state": true}, status: 400, field: "state"},
		{name: "not JSON", raw: `{"purposes": [`, status: 400},
		{name: "two values", raw: `{"purposes":["analytics"],"state":"given"}{}`, status: 400},
		{name: "someone else's id", body: map[string]any{"subject_id": bob.ID, "purposes": []string{"analytics"}, "state": "given"}, status: 403},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := h.countConsentRecords(t)
			var res *response
			if c.raw != "" {
				res = api.do(t, http.MethodPost, "/api/me/consents", strings.NewReader(c.raw), http.Header{"Content-Type": {"application/json"}})
			} else {
				res = api.withHeader(t, http.MethodPost, "/api/me/consents", c.body, c.header)
			}
			if res.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, c.status, res.Body)
			}
			if c.field != "" {
				if _, ok := res.problemFields(t)[c.field]; !ok {
					t.Errorf("no error on %s: %s", c.field, res.Body)
				}
			}
			if after := h.countConsentRecords(t); after != before {
				t.Errorf("%d records written", after-before)
			}
		})
	}

	// The page's withdrawal: an unknown purpose and one never given write
	// nothing either.
	browser := h.signIn(t, ada)
	before := h.countConsentRecords(t)
	if res := browser.postForm(t, "/account/consents/selling-data/withdraw", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown purpose: %d", res.StatusCode)
	}
	if res := browser.postForm(t, "/account/consents/analytics/withdraw", nil); res.StatusCode != http.StatusConflict {
		t.Errorf("nothing given: %d", res.StatusCode)
	}
	if after := h.countConsentRecords(t); after != before {
		t.Errorf("%d records written by refused withdrawals", after-before)
	}
	// A cookie on an API route that changes something is not accepted.
	if res := browser.sendJSON(t, http.MethodPost, "/api/me/consents", map[string]any{"purposes": []string{"analytics"}, "state": "given"}); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("cookie-authenticated API post: %d", res.StatusCode)
	}
}

// consentRow returns the consents page's table row for purpose.
func consentRow(t *testing.T, page, purpose string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<tr id="consent-` + regexp.QuoteMeta(purpose) + `">(.*?)</tr>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no row for %s on the consents page", purpose)
	}
	return m[1]
}

func TestConsentsPageWithdrawInOneClick(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.newMember(t)
	api := h.apiClient(t, ada)
	browser := h.signIn(t, ada)
	if res := api.sendJSON(t, http.MethodPost, "/api/me/consents", map[string]any{"purposes": []string{"analytics", "personalisation"}, "state": "given"}); res.StatusCode != http.StatusCreated {
		t.Fatalf("give: %d %s", res.StatusCode, res.Body)
	}
	page := browser.get(t, "/account/consents")
	if page.StatusCode != http.StatusOK {
		t.Fatalf("page: %d", page.StatusCode)
	}
	row := consentRow(t, page.text(), "analytics")
	if !strings.Contains(row, `action="/account/consents/analytics/withdraw"`) || !strings.Contains(row, "Given") {
		t.Fatalf("the analytics row offers no withdrawal: %s", row)
	}
	if strings.Contains(consentRow(t, page.text(), "behaviour-tracking"), "withdraw") {
		t.Error("a consent never given offers a withdrawal")
	}
	if !strings.Contains(h.signIn(t, ada).get(t, "/account").text(), `href="/account/consents"`) {
		t.Error("the member area does not link the consents page")
	}

	before := h.countConsentRecords(t)
	res := browser.postForm(t, "/account/consents/analytics/withdraw", nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account/consents?done=withdrawn" {
		t.Fatalf("withdraw: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if got := h.countConsentRecords(t); got != before+1 {
		t.Errorf("%d records written, want one", got-before)
	}
	cur, err := store.CurrentConsents(context.Background(), h.DB, consent.Member, ada.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cur["analytics"].State != consent.Withdrawn || cur["analytics"].Method != consent.Settings || cur["personalisation"].State != consent.Given {
		t.Errorf("current = %+v", cur)
	}
	page = browser.get(t, "/account/consents?done=withdrawn")
	row = consentRow(t, page.text(), "analytics")
	if !strings.Contains(row, "Withdrawn") || strings.Contains(row, "/withdraw") || !strings.Contains(row, "Consent withdrawn") {
		t.Errorf("after withdrawal: %s", row)
	}
	if !strings.Contains(page.text(), "Your consent was withdrawn") {
		t.Error("no confirmation after the withdrawal")
	}
}

func TestConsentsPageHonoursGPC(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.newMember(t)
	browser := h.signIn(t, ada)
	api := h.apiClient(t, ada)
	// A consent to tracking given without the signal…
	if res := api.sendJSON(t, http.MethodPost, "/api/me/consents", map[string]any{"purposes": []string{"behaviour-tracking"}, "state": "given"}); res.StatusCode != http.StatusCreated {
		t.Fatalf("give: %d %s", res.StatusCode, res.Body)
	}
	plain := browser.get(t, "/account/consents").text()
	if strings.Contains(plain, "data-gpc-honoured") {
		t.Error("the page mentions GPC without the signal")
	}
	if !strings.Contains(consentRow(t, plain, "behaviour-tracking"), "Consent given") {
		t.Error("tracking is not in use with a consent and no signal")
	}
	// …is overridden by the signal, which is recorded once.
	for range 3 {
		page := browser.withHeader(t, http.MethodGet, "/account/consents", nil, gpcHeader)
		if !regexp.MustCompile(`(?s)data-gpc-honoured>.*?Global Privacy Control signal honoured`).MatchString(page.text()) {
			t.Fatal("the page does not say the GPC signal is honoured")
		}
		row := consentRow(t, page.text(), "behaviour-tracking")
		if !strings.Contains(row, "<span class=\"badge badge-neutral\">No</span>") {
			t.Errorf("tracking still in use under GPC: %s", row)
		}
	}
	var n int
	if err := h.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM consent_records WHERE method = 'gpc' AND subject_id = ?`, ada.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d GPC records, want 1", n)
	}
	// An explicit opt-in while sending the signal records both and wins
	// for that purpose only.
	h.Clock.Advance(time.Minute)
	res := api.withHeader(t, http.MethodPost, "/api/me/consents", map[string]any{"purposes": []string{"behaviour-tracking"}, "state": "given"}, gpcHeader)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("opt in: %d %s", res.StatusCode, res.Body)
	}
	var out struct {
		Receipts []consent.Receipt `json:"receipts"`
	}
	res.decode(t, &out)
	if len(out.Receipts) != 1 || !out.Receipts[0].GPC || out.Receipts[0].State != "given" {
		t.Errorf("opt-in receipts = %+v", out.Receipts)
	}
	page := browser.withHeader(t, http.MethodGet, "/account/consents", nil, gpcHeader)
	if row := consentRow(t, page.text(), "behaviour-tracking"); !strings.Contains(row, "Consent given") {
		t.Errorf("the explicit opt-in does not win under GPC: %s", row)
	}
}

func TestStaffSetsRestriction(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.newMember(t)
	api := h.apiClient(t, ada)
	if res := api.sendJSON(t, http.MethodPost, "/api/me/consents", map[string]any{"purposes": []string{"analytics"}, "state": "given"}); res.StatusCode != http.StatusCreated {
		t.Fatalf("give: %d %s", res.StatusCode, res.Body)
	}
	po := h.apiClient(t, h.newStaff(t, staff.PrivacyOfficer))
	support := h.apiClient(t, h.newStaff(t, staff.Support))
	path := "/api/admin/people/" + ada.ID + "/restriction"
	if res := support.sendJSON(t, http.MethodPut, path, map[string]bool{"restricted": true}); res.StatusCode != http.StatusForbidden {
		t.Errorf("support: %d", res.StatusCode)
	}
	if res := po.sendJSON(t, http.MethodPut, path, map[string]any{}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("missing flag: %d", res.StatusCode)
	}
	if res := po.sendJSON(t, http.MethodPut, "/api/admin/people/acc_nobody/restriction", map[string]bool{"restricted": true}); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown person: %d", res.StatusCode)
	}
	res := po.sendJSON(t, http.MethodPut, path, map[string]bool{"restricted": true})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("restrict: %d %s", res.StatusCode, res.Body)
	}
	browser := h.signIn(t, ada)
	if row := consentRow(t, browser.get(t, "/account/consents").text(), "analytics"); !strings.Contains(row, "restricted") {
		t.Errorf("analytics in use despite the restriction: %s", row)
	}
	var n int
	if err := h.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = 'restriction.set' AND subject_id = ?`, ada.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d audit entries for the restriction", n)
	}
	if res := po.sendJSON(t, http.MethodPut, path, map[string]bool{"restricted": false}); res.StatusCode != http.StatusOK {
		t.Fatalf("lift: %d", res.StatusCode)
	}
	if row := consentRow(t, browser.get(t, "/account/consents").text(), "analytics"); !strings.Contains(row, "Consent given") {
		t.Errorf("analytics not back after the restriction was lifted: %s", row)
	}
}

// TestConsentLedgerKeepsOnlyTheBrowserFamily records a member's choice and
// a visitor's with a full User-Agent, longer than the ledger's column,
// and checks that each record keeps only the browser and system family,
// as the list of sign-in sessions does, and that no byte of the database
// holds the full string.
func TestConsentLedgerKeepsOnlyTheBrowserFamily(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.newMember(t)
	marker := mark(t)
	full := "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0 " + marker + strings.Repeat(" Extension/1.0", 20)
	if len(full) <= consent.MaxUserAgent {
		t.Fatal("the test's User-Agent should be longer than the ledger's column")
	}
	res := h.apiClient(t, ada).withHeader(t, http.MethodPost, "/api/me/consents",
		map[string]any{"purposes": []string{"analytics"}, "state": "given"}, http.Header{"User-Agent": {full}})
	wantStatus(t, res, http.StatusCreated)
	res = h.anon().do(t, http.MethodPost, "/api/cookies/choice", strings.NewReader(`{"action":"accept-all"}`),
		http.Header{"Content-Type": {"application/json"}, "User-Agent": {full}})
	wantStatus(t, res, http.StatusOK)

	rows, err := h.DB.Query(context.Background(), `SELECT subject_kind, user_agent FROM consent_records`)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for rows.Next() {
		var kind, ua string
		if err := rows.Scan(&kind, &ua); err != nil {
			t.Fatal(err)
		}
		kinds[kind] = true
		if ua != "Firefox on Linux" {
			t.Errorf("a %s's record keeps the User-Agent %q, want \"Firefox on Linux\"", kind, ua)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if !kinds["member"] || !kinds["visitor"] {
		t.Fatalf("records of %v, want a member's and a visitor's", kinds)
	}
	if raw := markerscan.ScanRaw(t, h.DB, ""); bytes.Contains(raw, []byte(marker)) {
		t.Error("the database holds the full User-Agent")
	}
}
