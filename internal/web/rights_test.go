package web_test

import (
	"archive/zip"
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/platform/signed"
	"github.com/sessionshq/sessions/internal/staff"
)

type exportBody struct {
	ID          string `json:"id"`
	State       string `json:"state"`
	Percent     int    `json:"percent"`
	DownloadURL string `json:"download_url"`
}

// buildExport does what the export job does.
func buildExport(t testing.TB, h *harness, id string) {
	t.Helper()
	if err := h.Srv.Services.Rights.BuildExport(context.Background(), id); err != nil {
		t.Fatalf("build export: %v", err)
	}
}

func TestExportRequestProgressAndDownload(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada, eve := h.newMember(t), h.newMember(t)
	c := h.signIn(t, ada)
	api := h.apiClient(t, ada)

	res := api.sendJSON(t, http.MethodPost, "/api/me/exports", map[string]string{"kind": "access"})
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /api/me/exports: %d %s", res.StatusCode, res.text())
	}
	var x exportBody
	res.decode(t, &x)
	if x.State != "queued" || x.DownloadURL != "" {
		t.Fatalf("new export = %+v", x)
	}
	// The page shows it being prepared and reloads itself.
	page := c.get(t, "/account/privacy")
	if page.StatusCode != http.StatusOK || !strings.Contains(page.text(), `http-equiv="refresh"`) || !strings.Contains(page.text(), x.ID) {
		t.Fatalf("privacy page while building: %d", page.StatusCode)
	}

	buildExport(t, h, x.ID)
	res = api.get(t, "/api/me/exports/"+x.ID)
	res.decode(t, &x)
	if x.State != "ready" || x.Percent != 100 || x.DownloadURL == "" {
		t.Fatalf("ready export = %+v", x)
	}
	dl := c.get(t, x.DownloadURL)
	if dl.StatusCode != http.StatusOK || dl.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("download: %d %s", dl.StatusCode, dl.Header.Get("Content-Type"))
	}
	zr, err := zip.NewReader(bytes.NewReader(dl.Body), int64(len(dl.Body)))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
	}
	for _, want := range []string{"data.json", "index.html", "art15.html", "art15.json", "portable.json", "portable.schema.json", "tables/accounts.csv"} {
		if !names[want] {
			t.Errorf("the download lacks %s", want)
		}
	}
	if page := c.get(t, "/account/privacy"); !strings.Contains(page.text(), "Download ZIP") {
		t.Error("the privacy page offers no download of a ready export")
	}

	// Bad links and other people: all not found.
	u, _ := url.Parse(x.DownloadURL)
	other := h.signIn(t, eve)
	cases := []struct {
		name string
		c    *client
		path string
	}{
		{"another member with the link", other, x.DownloadURL},
		{"another member's export id", h.apiClient(t, eve), "/api/me/exports/" + x.ID},
		{"forged token", c, u.Path + "?t=" + url.QueryEscape(signed.Make([]byte("not-the-server-secret-0123456789ab"), "rights.export.download", x.ID, h.Clock.Now().Add(time.Hour)))},
		{"token of another export", c, "/account/exports/exp_other/download?" + u.RawQuery},
		{"no token", c, u.Path},
	}
	for _, tc := range cases {
		if res := tc.c.get(t, tc.path); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", tc.name, res.StatusCode)
		}
	}
	// After seven days the link no longer works.
	h.Clock.Advance(7*24*time.Hour + time.Minute)
	if res := c.get(t, x.DownloadURL); res.StatusCode != http.StatusNotFound {
		t.Errorf("expired link: %d, want 404", res.StatusCode)
	}
	// Signed out, the link leads to signing in, never to the file.
	if res := h.anon().get(t, x.DownloadURL); res.StatusCode == http.StatusOK {
		t.Error("the link works without signing in")
	}
}

func TestExportRefusesUnknownKind(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.apiClient(t, h.newMember(t))
	if res := c.sendJSON(t, http.MethodPost, "/api/me/exports", map[string]string{"kind": "everything"}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("unknown kind: %d, want 422", res.StatusCode)
	}
}

// matrixExport makes an export of the caller's own, built when ready is
// set, and returns its id.
func matrixExport(t *testing.T, e *matrixEnv, ready bool) string {
	t.Helper()
	x, err := e.h.Srv.Services.Rights.RequestExport(context.Background(), e.self.ID, "portability")
	if err != nil {
		t.Fatal(err)
	}
	if ready {
		buildExport(t, e.h, x.ID)
	}
	return x.ID
}

// matrixExportLink is the download link of a ready export of the caller.
func matrixExportLink(t *testing.T, e *matrixEnv) string {
	t.Helper()
	id := matrixExport(t, e, true)
	return "/account/exports/" + id + "/download?t=" + url.QueryEscape(signed.Make(e.h.Secret, "rights.export.download", id, e.h.Clock.Now().Add(time.Hour)))
}

// matrixTransfer is a transfer of the caller waiting for confirmation.
func matrixTransfer(t *testing.T, e *matrixEnv) string {
	t.Helper()
	x, err := e.h.Srv.Services.Rights.RequestTransfer(context.Background(), e.self.ID, "https://93.184.215.14/import")
	if err != nil {
		t.Fatal(err)
	}
	return x.ID
}

// TestRestrictedPersonGetsNoMarketingAnalyticsOrAI proves that a
// restriction of processing stops, for that person only, what the
// purpose gate guards: campaign e-mail, analytics events, and the AI
// assistant and recording, to which both members consented.
func TestRestrictedPersonGetsNoMarketingAnalyticsOrAI(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, map[string]string{"SESSIONS_BASE_URL": "https://sessions.test"})
	admin := h.signIn(t, h.newStaff(t, staff.Admin))
	po := h.apiClient(t, h.newStaff(t, staff.PrivacyOfficer))
	if _, _, err := h.Srv.Services.Notices.PublishFirst(context.Background()); err != nil {
		t.Fatal(err)
	}
	ada, bob := h.newMember(t), h.newMember(t)
	browsers := map[string]*client{}
	for _, m := range []*testMember{ada, bob} {
		api := h.apiClient(t, m)
		if res := api.sendJSON(t, http.MethodPost, "/api/me/consents", map[string]any{
			"purposes": []string{"analytics", "ai-processing", "recording"}, "state": "given"}); res.StatusCode != http.StatusCreated {
			t.Fatalf("consent: %d %s", res.StatusCode, res.Body)
		}
		c := h.signIn(t, m)
		c.postForm(t, "/cookies/choice", url.Values{"action": {"accept-all"}})
		browsers[m.ID] = c
	}
	if res := po.sendJSON(t, http.MethodPut, "/api/admin/people/"+ada.ID+"/restriction", map[string]bool{"restricted": true}); res.StatusCode != http.StatusOK {
		t.Fatalf("restrict: %d %s", res.StatusCode, res.Body)
	}

	sendCampaign(t, h, admin, "Restriction news")
	if got := received(h, ada.Email, "Restriction news"); len(got) != 0 {
		t.Error("the restricted member received marketing e-mail")
	}
	if got := received(h, bob.Email, "Restriction news"); len(got) != 1 {
		t.Fatalf("the unrestricted member received %d campaign messages, want 1", len(got))
	}

	before := analyticsRows(t, h)
	if _, stored := sendEvent(t, browsers[ada.ID], pageview); stored {
		t.Error("an analytics event of the restricted member was kept")
	}
	if n := analyticsRows(t, h); n != before {
		t.Errorf("analytics rows went from %d to %d for the restricted member", before, n)
	}
	if _, stored := sendEvent(t, browsers[bob.ID], pageview); !stored {
		t.Fatal("the unrestricted member's event was dropped")
	}

	// The consents page shows the purpose gate's answer for each purpose,
	// the same answer the AI assistant and recording must ask for.
	for _, purpose := range []string{"ai-processing", "recording", "analytics"} {
		if row := consentRow(t, browsers[ada.ID].get(t, "/account/consents").text(), purpose); !strings.Contains(row, "restricted") {
			t.Errorf("%s is in use for the restricted member: %s", purpose, row)
		}
		if row := consentRow(t, browsers[bob.ID].get(t, "/account/consents").text(), purpose); strings.Contains(row, "restricted") {
			t.Errorf("%s is restricted for the other member: %s", purpose, row)
		}
	}
}

func TestTransferRefusesPrivateNetworksAndNeedsConfirmation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada, eve := h.newMember(t), h.newMember(t)
	c := h.signIn(t, ada)
	for _, target := range []string{
		"https://127.0.0.1/import",
		"https://localhost/import",
		"https://[::1]/import",
		"https://[::ffff:127.0.0.1]/import",
		"https://10.0.0.8/import",
		"https://172.16.0.1/import",
		"https://192.168.1.10/import",
		"https://169.254.169.254/latest/meta-data",
		"https://[fe80::1]/import",
		"https://[fd00::1]/import",
		"https://100.64.0.1/import",
		"https://0.0.0.0/import",
		"https://224.0.0.1/import",
		"http://93.184.215.14/import",
		"file:///etc/passwd",
		"https://user:secret@93.184.215.14/import",
		"not an address",
	} {
		res := c.postForm(t, "/account/transfers", url.Values{"url": {target}})
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422", target, res.StatusCode)
		}
	}
	if n := h.count(t, `SELECT COUNT(*) FROM data_transfers`); n != 0 {
		t.Fatalf("%d transfers recorded for refused addresses", n)
	}

	res := c.postForm(t, "/account/transfers", url.Values{"url": {"https://93.184.215.14/import"}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/account/transfers/trf_") {
		t.Fatalf("public address: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	page := res.Header.Get("Location")
	if got := c.get(t, page).text(); !strings.Contains(got, "93.184.215.14") || !strings.Contains(got, "confirm-transfer") {
		t.Error("the confirmation page does not show where the data goes")
	}
	if n := h.count(t, `SELECT COUNT(*) FROM data_transfers WHERE state = 'confirming'`); n != 1 {
		t.Fatalf("%d transfers wait for confirmation, want 1", n)
	}
	// Another member can neither see nor confirm it.
	other := h.signIn(t, eve)
	if res := other.get(t, page); res.StatusCode != http.StatusNotFound {
		t.Errorf("another member's transfer: %d", res.StatusCode)
	}
	if res := other.postForm(t, page+"/confirm", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("another member confirmed: %d", res.StatusCode)
	}
	if res := c.postForm(t, page+"/confirm", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm: %d", res.StatusCode)
	}
	if n := h.count(t, `SELECT COUNT(*) FROM data_transfers WHERE state = 'queued'`); n != 1 {
		t.Fatalf("%d transfers queued, want 1", n)
	}
	privacy := c.get(t, "/account/privacy").text()
	if !strings.Contains(privacy, "being sent") || !strings.Contains(privacy, `id="recipients"`) || !strings.Contains(privacy, "Google Cloud") {
		t.Error("the privacy page does not show the transfer and the recipients")
	}
}
