package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/vendors"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
	"github.com/sessionshq/sessions/internal/web"
)

// privacyTestBodyLimit is small so that the 413 test sends little.
const privacyTestBodyLimit = 4096

type privacyEnv struct {
	srv   *web.Server
	db    *database.DB
	clock *clock.Fake
	h     *harness
	// officer is a privacy officer; officerCookie signs in their browser
	// and officerToken is their personal API token.
	officer       *testMember
	officerCookie *http.Cookie
	officerToken  string
}

// newPrivacyTestServer starts the server on a fresh database with the
// registry seeded as start-up seeds it, and a privacy officer.
func newPrivacyTestServer(t *testing.T) *privacyEnv {
	t.Helper()
	h := newHarnessWith(t, map[string]string{"SESSIONS_MAX_BODY_BYTES": "4096"})
	officer := h.newStaff(t, staff.PrivacyOfficer)
	browser := h.signIn(t, officer)
	var cookie *http.Cookie
	for _, c := range browser.cookies {
		cookie = c
	}
	return &privacyEnv{srv: h.Srv, db: h.DB, clock: h.Clock, h: h, officer: officer, officerCookie: cookie, officerToken: h.apiToken(t, officer)}
}

type privacyRequest struct {
	method, path, body, contentType string
	// operator sends the privacy officer's credentials: the session
	// cookie on pages, the API token on /api/.
	operator bool
	// as, when set, sends these credentials instead.
	as *client
}

func (e *privacyEnv) do(req privacyRequest) *httptest.ResponseRecorder {
	var body io.Reader
	if req.body != "" {
		body = strings.NewReader(req.body)
	}
	r := httptest.NewRequest(req.method, req.path, body)
	if req.contentType != "" {
		r.Header.Set("Content-Type", req.contentType)
	}
	switch {
	case req.as != nil:
		for _, c := range req.as.cookies {
			r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
		if req.as.bearer != "" {
			r.Header.Set("Authorization", "Bearer "+req.as.bearer)
		}
	case req.operator && strings.HasPrefix(req.path, "/api/"):
		r.Header.Set("Authorization", "Bearer "+e.officerToken)
	case req.operator:
		r.AddCookie(&http.Cookie{Name: e.officerCookie.Name, Value: e.officerCookie.Value})
	}
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, r)
	return rec
}

func (e *privacyEnv) get(path string) *httptest.ResponseRecorder {
	return e.do(privacyRequest{method: http.MethodGet, path: path})
}

func (e *privacyEnv) put(id, body string) *httptest.ResponseRecorder {
	return e.do(privacyRequest{method: http.MethodPut, path: "/api/admin/subprocessors/" + id, body: body,
		contentType: "application/json", operator: true})
}

// keys returns the sorted keys of a JSON object.
func privacyKeys(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("not a JSON object: %s", raw)
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

var privacySubprocessorKeys = []string{"active", "activity", "country", "country_name", "created_at", "data_categories", "id",
	"name", "purpose", "third_country", "transfer_mechanism", "transfer_mechanism_label", "updated_at", "website"}

type privacySubprocessorList struct {
	Subprocessors []json.RawMessage `json:"subprocessors"`
}

type privacySubprocessor struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	Activity       string    `json:"activity"`
	Country        string    `json:"country"`
	CountryName    string    `json:"country_name"`
	Mechanism      string    `json:"transfer_mechanism"`
	ThirdCountry   bool      `json:"third_country"`
	DataCategories []string  `json:"data_categories"`
	Active         bool      `json:"active"`
	UpdatedAt      time.Time `json:"updated_at"`
}

func privacyDecodeList(t *testing.T, rec *httptest.ResponseRecorder) []privacySubprocessor {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q", ct)
	}
	var list privacySubprocessorList
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	var out []privacySubprocessor
	for _, raw := range list.Subprocessors {
		if got := privacyKeys(t, raw); !slices.Equal(got, privacySubprocessorKeys) {
			t.Fatalf("entry keys %v, want %v", got, privacySubprocessorKeys)
		}
		var b privacySubprocessor
		if err := json.Unmarshal(raw, &b); err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

type privacyProblem struct {
	Status    int               `json:"status"`
	Detail    string            `json:"detail"`
	RequestID string            `json:"request_id"`
	Errors    map[string]string `json:"errors"`
}

func privacyDecodeProblem(t *testing.T, rec *httptest.ResponseRecorder, status int) privacyProblem {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d: %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	var p privacyProblem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if p.Status != status || p.RequestID == "" {
		t.Fatalf("problem %+v", p)
	}
	return p
}

func TestPublicSubprocessorsAPI(t *testing.T) {
	t.Parallel()
	env := newPrivacyTestServer(t)
	list := privacyDecodeList(t, env.get("/api/subprocessors"))
	if len(list) != len(vendors.Seed()) {
		t.Fatalf("%d entries, want %d", len(list), len(vendors.Seed()))
	}
	byID := map[string]privacySubprocessor{}
	for _, s := range list {
		byID[s.ID] = s
		if !s.Active || s.DataCategories == nil {
			t.Errorf("%s: %+v", s.ID, s)
		}
	}
	if lk := byID[vendors.LiveKit]; lk.Country != "US" || lk.CountryName != "United States" || !lk.ThirdCountry || lk.Mechanism != "standard-contractual-clauses" {
		t.Errorf("livekit: %+v", lk)
	}
	if mj := byID[vendors.Mailjet]; mj.ThirdCountry || mj.Mechanism != "none-needed-eea" {
		t.Errorf("mailjet: %+v", mj)
	}
}

func TestDatamapAPIIsTheRecord(t *testing.T) {
	t.Parallel()
	env := newPrivacyTestServer(t)
	rec := env.get("/api/datamap")
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("status %d, type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	want, err := datamap.BuildRecord(datamap.Default(), vendors.Seed()).JSON()
	if err != nil {
		t.Fatal(err)
	}
	// With no staff edits the served record is the shipped one, byte for
	// byte, which the golden file in the datamap package pins down.
	if !bytes.Equal(rec.Body.Bytes(), want) {
		t.Fatal("GET /api/datamap differs from the record built from the shipped registry")
	}
	var body struct {
		Controllers []json.RawMessage `json:"controllers"`
		Purposes    []struct {
			ID    string   `json:"id"`
			Bases []string `json:"bases"`
		} `json:"purposes"`
		Transfers []json.RawMessage `json:"third_country_transfers"`
		Inventory []struct {
			Name    string            `json:"name"`
			Columns []json.RawMessage `json:"columns"`
		} `json:"inventory"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Controllers) != 2 || len(body.Purposes) != 14 || len(body.Transfers) == 0 || len(body.Inventory) != len(datamap.Default().Tables) {
		t.Fatalf("controllers %d, purposes %d, transfers %d, tables %d", len(body.Controllers), len(body.Purposes), len(body.Transfers), len(body.Inventory))
	}
	for _, p := range body.Purposes {
		if len(p.Bases) == 0 {
			t.Errorf("purpose %s without basis", p.ID)
		}
	}
}

// inlineScript finds a script element with code inside it.
var inlineScript = regexp.MustCompile(`(?s)<script\b[^>]*>\s*[^<\s]`)

func TestPrivacyPages(t *testing.T) {
	t.Parallel()
	env := newPrivacyTestServer(t)
	for path, wants := range map[string][]string{
		"/privacy":                  {"Sessions Technologies Inc", "Sessions Technologies Romania SRL", "contact@sessions.us", "E-mail address", "Marketing", "Legitimate interest", `href="/privacy/subprocessors"`, `href="/privacy/record"`},
		"/privacy/subprocessors":    {"LiveKit", "Video call infrastructure", "United States", "Standard contractual clauses", "Mailjet", "None needed (EEA)"},
		"/privacy/record":           {"Record of processing activities", "Joint controller", "Time limits for erasure", "audit_log", "river_job", "Encryption at rest", "Colossyan"},
		"/privacy/record/inventory": {"Data inventory", "Page 1 of", `rel="next"`, "Columns of"},
	} {
		rec := env.get(path)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("GET %s: status %d, type %q", path, rec.Code, rec.Header().Get("Content-Type"))
			continue
		}
		body := rec.Body.String()
		for _, want := range wants {
			if !strings.Contains(body, want) {
				t.Errorf("GET %s does not show %q", path, want)
			}
		}
		// Scripts loaded from our own files are fine; inline code is not.
		if strings.Contains(body, "style=") || inlineScript.MatchString(body) {
			t.Errorf("GET %s has inline style or script", path)
		}
	}
}

func TestStaffRoutesNeedThePrivacyOfficer(t *testing.T) {
	t.Parallel()
	env := newPrivacyTestServer(t)
	requests := []privacyRequest{
		{method: http.MethodGet, path: "/admin/subprocessors"},
		{method: http.MethodPost, path: "/admin/subprocessors/livekit", body: "activity=x", contentType: "application/x-www-form-urlencoded"},
		{method: http.MethodGet, path: "/api/admin/subprocessors"},
		{method: http.MethodPut, path: "/api/admin/subprocessors/livekit", body: `{}`, contentType: "application/json"},
	}
	for _, req := range requests {
		rec := env.do(req)
		want := http.StatusUnauthorized
		if req.method == http.MethodGet && !strings.HasPrefix(req.path, "/api/") {
			want = http.StatusSeeOther // to the sign-in page
		}
		if rec.Code != want {
			t.Errorf("%s %s anonymously: status %d, want %d", req.method, req.path, rec.Code, want)
		}
		if strings.HasPrefix(req.path, "/api/") && rec.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("%s %s: no WWW-Authenticate challenge", req.method, req.path)
		}
	}
	// Support and administrators are signed in but not allowed.
	for _, role := range []staff.Role{staff.Support, staff.Admin} {
		m := env.h.newStaff(t, role)
		c := env.h.signIn(t, m)
		c.bearer = env.h.apiToken(t, m)
		for _, req := range requests {
			req.as = c
			if rec := env.do(req); rec.Code != http.StatusForbidden {
				t.Errorf("%s %s as %s: status %d, want 403", req.method, req.path, role, rec.Code)
			}
		}
	}
	got, err := store.GetSubprocessor(context.Background(), env.db, vendors.LiveKit)
	if err != nil || got.Activity != "Video call infrastructure" {
		t.Fatalf("an unauthorised request changed the entry: %+v (%v)", got, err)
	}
}

func TestEditSubprocessorOverTheAPI(t *testing.T) {
	t.Parallel()
	env := newPrivacyTestServer(t)
	env.clock.Advance(time.Hour)
	rec := env.put(vendors.LogRocket, `{"activity":"Session replay","country":"de","transfer_mechanism":"none-needed-eea","data_categories":["online.usage","pseudonym.id","online.usage"],"active":false}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if got := privacyKeys(t, rec.Body.Bytes()); !slices.Equal(got, privacySubprocessorKeys) {
		t.Fatalf("keys %v", got)
	}
	var saved privacySubprocessor
	if err := json.Unmarshal(rec.Body.Bytes(), &saved); err != nil {
		t.Fatal(err)
	}
	if saved.Activity != "Session replay" || saved.Country != "DE" || saved.ThirdCountry || saved.Active ||
		!slices.Equal(saved.DataCategories, []string{"online.usage", "pseudonym.id"}) || !saved.UpdatedAt.Equal(env.clock.Now()) {
		t.Fatalf("saved %+v", saved)
	}
	// The audit log names the privacy officer who made the change.
	recent, err := store.RecentAudit(context.Background(), env.db, 0, 1)
	if err != nil || len(recent) != 1 || recent[0].ActorKind != "staff" || recent[0].ActorID != env.officer.ID {
		t.Fatalf("audit entry of the edit: %+v (%v)", recent, err)
	}

	// Inactive entries leave the public list but stay in the staff list.
	public := privacyDecodeList(t, env.get("/api/subprocessors"))
	staffList := privacyDecodeList(t, env.do(privacyRequest{method: http.MethodGet, path: "/api/admin/subprocessors", operator: true}))
	if len(public) != len(vendors.Seed())-1 || len(staffList) != len(vendors.Seed()) {
		t.Fatalf("public %d, staff %d", len(public), len(staffList))
	}
	for _, s := range public {
		if s.ID == vendors.LogRocket {
			t.Error("an inactive entry is on the public list")
		}
	}
	if strings.Contains(env.get("/privacy/subprocessors").Body.String(), "LogRocket") {
		t.Error("an inactive entry is on the public page")
	}
}

func TestEditSubprocessorErrors(t *testing.T) {
	t.Parallel()
	env := newPrivacyTestServer(t)
	valid := `{"activity":"Video","country":"US","transfer_mechanism":"standard-contractual-clauses","data_categories":[],"active":true}`

	t.Run("bad country is 422 with a field error", func(t *testing.T) {
		p := privacyDecodeProblem(t, env.put(vendors.LiveKit, strings.Replace(valid, `"US"`, `"Atlantis"`, 1)), http.StatusUnprocessableEntity)
		if p.Errors["country"] == "" || len(p.Errors) != 1 {
			t.Fatalf("errors %v", p.Errors)
		}
	})
	t.Run("mechanism that does not fit the country is 422", func(t *testing.T) {
		p := privacyDecodeProblem(t, env.put(vendors.LiveKit, strings.Replace(valid, "standard-contractual-clauses", "none-needed-eea", 1)), http.StatusUnprocessableEntity)
		if p.Errors["transfer_mechanism"] == "" {
			t.Fatalf("errors %v", p.Errors)
		}
	})
	t.Run("unknown category is 422", func(t *testing.T) {
		p := privacyDecodeProblem(t, env.put(vendors.LiveKit, strings.Replace(valid, `[]`, `["shoe.size"]`, 1)), http.StatusUnprocessableEntity)
		if !strings.Contains(p.Errors["data_categories"], "shoe.size") {
			t.Fatalf("errors %v", p.Errors)
		}
	})
	t.Run("missing fields are 422", func(t *testing.T) {
		p := privacyDecodeProblem(t, env.put(vendors.LiveKit, `{"activity":"Video"}`), http.StatusUnprocessableEntity)
		for _, f := range []string{"country", "transfer_mechanism", "data_categories", "active"} {
			if p.Errors[f] == "" {
				t.Errorf("no error for missing %s: %v", f, p.Errors)
			}
		}
	})
	t.Run("malformed JSON is 400", func(t *testing.T) {
		privacyDecodeProblem(t, env.put(vendors.LiveKit, `{"activity":`), http.StatusBadRequest)
	})
	t.Run("unknown field is 400", func(t *testing.T) {
		privacyDecodeProblem(t, env.put(vendors.LiveKit, strings.Replace(valid, `"active"`, `"name":"X","active"`, 1)), http.StatusBadRequest)
	})
	t.Run("oversize body is 413", func(t *testing.T) {
		big := strings.Replace(valid, `"Video"`, `"`+strings.Repeat("v", privacyTestBodyLimit)+`"`, 1)
		privacyDecodeProblem(t, env.put(vendors.LiveKit, big), http.StatusRequestEntityTooLarge)
	})
	t.Run("unknown id is 404", func(t *testing.T) {
		privacyDecodeProblem(t, env.put("no-such-company", valid), http.StatusNotFound)
	})
	t.Run("nothing was changed", func(t *testing.T) {
		got, err := store.GetSubprocessor(context.Background(), env.db, vendors.LiveKit)
		if err != nil {
			t.Fatal(err)
		}
		if got.Activity != "Video call infrastructure" || got.Country != "US" || len(got.DataCategories) == 0 {
			t.Fatalf("a refused edit changed the entry: %+v", got)
		}
	})
}

func TestEditSubprocessorInTheConsole(t *testing.T) {
	t.Parallel()
	env := newPrivacyTestServer(t)
	page := env.do(privacyRequest{method: http.MethodGet, path: "/admin/subprocessors", operator: true})
	if page.Code != http.StatusOK {
		t.Fatalf("status %d", page.Code)
	}
	for _, want := range []string{`action="/admin/subprocessors/livekit"`, "Zapier", "Inactive entries"} {
		if !strings.Contains(page.Body.String(), want) {
			t.Errorf("console does not show %q", want)
		}
	}

	form := url.Values{
		"activity":           {"Video calls"},
		"country":            {"US"},
		"transfer_mechanism": {"eu-us-dpf"},
		"data_categories":    {"identity.name", "online.ip-address"},
		"active":             {"on"},
	}
	post := func(id string, f url.Values) *httptest.ResponseRecorder {
		return env.do(privacyRequest{method: http.MethodPost, path: "/admin/subprocessors/" + id, body: f.Encode(),
			contentType: "application/x-www-form-urlencoded", operator: true})
	}
	rec := post(vendors.LiveKit, form)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/admin/subprocessors?saved=livekit#sp-livekit" {
		t.Fatalf("status %d, Location %q", rec.Code, rec.Header().Get("Location"))
	}
	got, err := store.GetSubprocessor(context.Background(), env.db, vendors.LiveKit)
	if err != nil || got.Activity != "Video calls" || got.Mechanism != vendors.DataPrivacyFramework ||
		!slices.Equal(got.DataCategories, []string{"identity.name", "online.ip-address"}) || !got.Active {
		t.Fatalf("saved %+v (%v)", got, err)
	}
	back := env.do(privacyRequest{method: http.MethodGet, path: "/admin/subprocessors?saved=livekit", operator: true})
	if !strings.Contains(back.Body.String(), "Saved LiveKit") {
		t.Error("the console does not confirm the save")
	}

	// An unchecked box switches the entry off.
	off := url.Values{"activity": {"Video calls"}, "country": {"US"}, "transfer_mechanism": {"eu-us-dpf"}}
	if rec := post(vendors.LiveKit, off); rec.Code != http.StatusSeeOther {
		t.Fatalf("status %d", rec.Code)
	}
	if got, _ := store.GetSubprocessor(context.Background(), env.db, vendors.LiveKit); got.Active || len(got.DataCategories) != 0 {
		t.Fatalf("unchecked boxes not applied: %+v", got)
	}

	// A refused edit shows the form again with its message and changes nothing.
	bad := url.Values{"activity": {"Video calls"}, "country": {"AU"}, "transfer_mechanism": {"adequacy-decision"}, "active": {"on"}}
	rec = post(vendors.LiveKit, bad)
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "no adequacy decision for Australia") {
		t.Fatalf("status %d, body lacks the message", rec.Code)
	}
	if !strings.Contains(rec.Body.String(), `value="AU"`) {
		t.Error("the refused form does not keep what was typed")
	}
	if got, _ := store.GetSubprocessor(context.Background(), env.db, vendors.LiveKit); got.Country != "US" {
		t.Fatalf("a refused edit changed the entry: %+v", got)
	}

	if rec := post("no-such-company", form); rec.Code != http.StatusNotFound {
		t.Fatalf("unknown id: status %d", rec.Code)
	}
	big := url.Values{"activity": {strings.Repeat("v", privacyTestBodyLimit)}}
	if rec := post(vendors.LiveKit, big); rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversize form: status %d", rec.Code)
	}
}
