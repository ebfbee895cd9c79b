package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"testing"

	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/platform/mail/mailtest"
	"github.com/sessionshq/sessions/internal/store"
)

// meetingBody is a valid meeting for the API.
func meetingBody(extra map[string]any) map[string]any {
	b := map[string]any{"title": "Design review", "start": "2026-03-10T10:00", "time_zone": "Europe/Berlin", "duration_minutes": 60}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

// createMeeting makes a meeting through the API as c and returns its id.
func createMeeting(t *testing.T, c *client, extra map[string]any) string {
	t.Helper()
	res := c.sendJSON(t, http.MethodPost, "/api/meetings", meetingBody(extra))
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create meeting: %d %s", res.StatusCode, res.Body)
	}
	var m struct {
		ID string `json:"id"`
	}
	res.decode(t, &m)
	return m.ID
}

// calendarOf returns the iCalendar attachment of a delivered message.
func calendarOf(t *testing.T, msg *mailtest.Message) string {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(msg.Raw))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("message is %q, want multipart/mixed", mt)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct == "text/calendar" {
			b, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, p))
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
	t.Fatalf("no calendar attached:\n%s", msg.Raw)
	return ""
}

func TestMeetingAPIRefusesBadScheduleWith422(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.apiClient(t, h.newMember(t))
	for field, body := range map[string]map[string]any{
		"rrule":            meetingBody(map[string]any{"rrule": "FREQ=SOMETIMES"}),
		"time_zone":        meetingBody(map[string]any{"time_zone": "Europe/Atlantis"}),
		"duration_minutes": meetingBody(map[string]any{"duration_minutes": 0}),
		"start":            meetingBody(map[string]any{"start": "soon"}),
		"title":            meetingBody(map[string]any{"title": ""}),
	} {
		res := c.sendJSON(t, http.MethodPost, "/api/meetings", body)
		if res.StatusCode != http.StatusUnprocessableEntity || res.problemFields(t)[field] == "" {
			t.Errorf("%s: %d %s, want 422 naming the field", field, res.StatusCode, res.Body)
		}
	}
	if n := h.count(t, `SELECT COUNT(*) FROM meetings`); n != 0 {
		t.Fatalf("%d meetings stored from bad input", n)
	}
	// The same through the browser form: the page again, with the error.
	b := h.signIn(t, h.newMember(t))
	res := b.postForm(t, "/meetings", url.Values{"title": {"X"}, "start": {"2026-03-10T10:00"}, "time_zone": {"Nowhere/City"}, "duration_minutes": {"30"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.text(), "Time zone must be an IANA time zone") {
		t.Fatalf("form: %d\n%.2000s", res.StatusCode, res.Body)
	}
}

// TestMeetingInvitationsCarryCalendar invites a guest, changes the
// meeting and cancels it, and reads what the guest receives.
func TestMeetingInvitationsCarryCalendar(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	host := h.newMember(t)
	c := h.apiClient(t, host)
	id := createMeeting(t, c, map[string]any{"rrule": "FREQ=WEEKLY;COUNT=6"})

	res := c.sendJSON(t, http.MethodPost, "/api/meetings/"+id+"/participants", map[string]string{"email": "Guest@Example.org"})
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("invite: %d %s", res.StatusCode, res.Body)
	}
	msg := h.nextMail(t)
	if msg.EnvelopeTo[0] != "guest@example.org" || !strings.Contains(msg.Text, "http://sessions.test/j/") {
		t.Fatalf("invitation to %v:\n%s", msg.EnvelopeTo, msg.Text)
	}
	ics := calendarOf(t, msg)
	for _, want := range []string{"METHOD:REQUEST", "UID:" + id + "@sessions.test", "SEQUENCE:0", "RRULE:FREQ=WEEKLY;COUNT=6", "ORGANIZER;CN=" + host.Name} {
		if !strings.Contains(ics, want) {
			t.Errorf("the invitation lacks %q:\n%s", want, ics)
		}
	}

	res = c.sendJSON(t, http.MethodPatch, "/api/meetings/"+id, map[string]any{"start": "2026-03-10T11:00"})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("patch: %d %s", res.StatusCode, res.Body)
	}
	if ics := calendarOf(t, h.nextMail(t)); !strings.Contains(ics, "SEQUENCE:1") || !strings.Contains(ics, "DTSTART;TZID=Europe/Berlin:20260310T110000") {
		t.Errorf("the update:\n%s", ics)
	}

	res = c.sendJSON(t, http.MethodDelete, "/api/meetings/"+id, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("cancel: %d %s", res.StatusCode, res.Body)
	}
	if ics := calendarOf(t, h.nextMail(t)); !strings.Contains(ics, "METHOD:CANCEL") || !strings.Contains(ics, "SEQUENCE:2") {
		t.Errorf("the cancellation:\n%s", ics)
	}
	// The host's own address never appears in the logs.
	if strings.Contains(h.Logs.String(), host.Email) || strings.Contains(h.Logs.String(), "guest@example.org") {
		t.Fatal("an address reached the logs")
	}
}

func TestMeetingIsNotFoundForOthers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := createMeeting(t, h.apiClient(t, h.newMember(t)), nil)
	other := h.apiClient(t, h.newMember(t))
	for _, path := range []string{"/api/meetings/" + id, "/api/meetings/" + id + "/participants", "/api/meetings/" + id + "/agenda"} {
		if res := other.get(t, path); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s as a stranger: %d", path, res.StatusCode)
		}
	}
	if res := other.sendJSON(t, http.MethodPost, "/api/meetings/"+id+"/agenda", map[string]any{"title": "Hijack"}); res.StatusCode != http.StatusNotFound {
		t.Errorf("adding to a stranger's agenda: %d", res.StatusCode)
	}
	if res := h.signIn(t, h.newMember(t)).get(t, "/meetings/"+id); res.StatusCode != http.StatusNotFound {
		t.Errorf("the page as a stranger: %d", res.StatusCode)
	}
}

// upload sends a file to the resources API.
func upload(t *testing.T, c *client, path, name string, data []byte) *response {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	w, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	mw.Close()
	return c.do(t, http.MethodPost, path, &b, http.Header{"Content-Type": {mw.FormDataContentType()}})
}

func TestMeetingUploadsAreCheckedAndStoreNothingWhenRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.apiClient(t, h.newMember(t))
	id := createMeeting(t, c, nil)
	path := "/api/meetings/" + id + "/resources"

	cases := []struct {
		name string
		data []byte
		want int
	}{
		{"over the limit", append([]byte("%PDF-1.7\n"), make([]byte, 21<<20)...), http.StatusRequestEntityTooLarge},
		{"an executable named .pdf", []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00"), http.StatusUnsupportedMediaType},
		{"html named .txt", []byte("<html>\x00</html>"), http.StatusUnsupportedMediaType},
		{"html that is valid text", []byte("<!doctype html>\n<title>Agenda</title><script>alert(1)</script>\n"), http.StatusUnsupportedMediaType},
		{"svg that is valid text", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`), http.StatusUnsupportedMediaType},
	}
	for _, tc := range cases {
		if res := upload(t, c, path, "file.pdf", tc.data); res.StatusCode != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, res.StatusCode, res.Body, tc.want)
		}
	}
	if n := h.count(t, `SELECT COUNT(*) FROM blobs`) + h.count(t, `SELECT COUNT(*) FROM meeting_resources`); n != 0 {
		t.Fatalf("refused uploads left %d rows", n)
	}

	res := upload(t, c, path, "../../Agenda notes.pdf", []byte("%PDF-1.7\nhello"))
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("a PDF: %d %s", res.StatusCode, res.Body)
	}
	var r struct {
		Title       string `json:"title"`
		ContentType string `json:"content_type"`
		DownloadURL string `json:"download_url"`
	}
	res.decode(t, &r)
	if r.Title != "Agenda notes.pdf" || r.ContentType != "application/pdf" {
		t.Fatalf("resource %+v", r)
	}
	if n := h.count(t, `SELECT COUNT(*) FROM blobs WHERE person_id IS NULL AND kind = 'meeting-file'`); n != 1 {
		t.Fatalf("the file's blob row should name no person, got %d such rows", n)
	}
	dl := c.get(t, r.DownloadURL)
	if dl.StatusCode != http.StatusOK || string(dl.Body) != "%PDF-1.7\nhello" || !strings.HasPrefix(dl.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("download: %d %v", dl.StatusCode, dl.Header)
	}

	// Links: https only, and recognised.
	res = c.sendJSON(t, http.MethodPost, path, map[string]string{"url": "http://miro.com/app/board/x/"})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("plain http link: %d", res.StatusCode)
	}
	res = c.sendJSON(t, http.MethodPost, path, map[string]string{"url": "https://miro.com/app/board/uXj=/", "title": "Board"})
	var l struct {
		Provider string `json:"provider"`
		EmbedURL string `json:"embed_url"`
	}
	res.decode(t, &l)
	if res.StatusCode != http.StatusCreated || l.Provider != "miro" || l.EmbedURL != "https://miro.com/app/live-embed/uXj=/" {
		t.Fatalf("miro link: %d %s", res.StatusCode, res.Body)
	}
	page := h.signIn(t, mustMember(t, h, c)).get(t, "/meetings/"+id)
	if page.StatusCode != http.StatusOK || !strings.Contains(page.text(), "never fetches anything from them") || !strings.Contains(page.text(), "/meetings/"+id+"/room") {
		t.Fatalf("page: %d", page.StatusCode)
	}
}

// mustMember finds the member behind an API client, through /api/me.
func mustMember(t *testing.T, h *harness, c *client) *testMember {
	t.Helper()
	var me struct {
		ID string `json:"id"`
	}
	c.get(t, "/api/me").decode(t, &me)
	return &testMember{ID: me.ID}
}

func TestMeetingAgendaThroughTheAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.apiClient(t, h.newMember(t))
	id := createMeeting(t, c, nil)
	var ids []string
	for _, title := range []string{"Welcome", "Numbers", "Next steps"} {
		res := c.sendJSON(t, http.MethodPost, "/api/meetings/"+id+"/agenda", map[string]any{"title": title, "planned_minutes": 10})
		var it struct {
			ID string `json:"id"`
		}
		res.decode(t, &it)
		ids = append(ids, it.ID)
	}
	res := c.sendJSON(t, http.MethodPut, "/api/meetings/"+id+"/agenda/order", map[string]any{"order": []string{ids[2], ids[1], ids[0]}})
	var ag struct {
		Items []struct {
			Title string `json:"title"`
		} `json:"items"`
		TotalMinutes int `json:"total_minutes"`
	}
	res.decode(t, &ag)
	if res.StatusCode != http.StatusOK || ag.Items[0].Title != "Next steps" || ag.TotalMinutes != 30 {
		t.Fatalf("reorder: %d %s", res.StatusCode, res.Body)
	}
	res = c.sendJSON(t, http.MethodPost, "/api/agenda-templates", map[string]any{"meeting_id": id, "name": "Monthly"})
	var tpl struct {
		ID string `json:"id"`
	}
	res.decode(t, &tpl)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("template: %d %s", res.StatusCode, res.Body)
	}
	id2 := createMeeting(t, c, nil)
	res = c.sendJSON(t, http.MethodPost, "/api/meetings/"+id2+"/agenda/from-template/"+tpl.ID, nil)
	res.decode(t, &ag)
	if res.StatusCode != http.StatusOK || len(ag.Items) != 3 || ag.Items[0].Title != "Next steps" {
		t.Fatalf("apply: %d %s", res.StatusCode, res.Body)
	}
}

// mxMeetingFixture is a meeting hosted by an access-matrix cell's caller,
// with something of every kind in it.
type mxMeetingFixture struct {
	ID, Participant, Item, Link, File, Template string
}

// mxMeeting makes the caller's meeting; cancelled makes it a cancelled one,
// which only deletion accepts.
func mxMeeting(t *testing.T, e *matrixEnv, cancelled bool) mxMeetingFixture {
	t.Helper()
	ctx, svc := context.Background(), e.h.Srv.Services.Meetings
	m, err := svc.Create(ctx, e.self.ID, "", meeting.Input{Title: "Matrix", Start: "2026-03-10T10:00", TimeZone: "UTC", DurationMinutes: 30})
	if err != nil {
		t.Fatal(err)
	}
	f := mxMeetingFixture{ID: m.ID}
	inv, err := svc.Invite(ctx, e.self.ID, m.ID, "guest."+e.self.Email, string(meeting.RoleParticipant))
	if err != nil {
		t.Fatal(err)
	}
	f.Participant = inv.ID
	items, err := svc.AddAgendaItems(ctx, e.self.ID, m.ID, []meeting.ItemInput{{Title: "First"}, {Title: "Second"}})
	if err != nil {
		t.Fatal(err)
	}
	f.Item = items[0].ID
	link, err := svc.AddLink(ctx, e.self.ID, m.ID, "Doc", "https://docs.google.com/document/d/x/edit")
	if err != nil {
		t.Fatal(err)
	}
	f.Link = link.ID
	file, err := svc.AddFile(ctx, e.self.ID, m.ID, []byte("notes"), "notes.txt", "Notes")
	if err != nil {
		t.Fatal(err)
	}
	f.File = file.ID
	tpl, err := svc.SaveTemplate(ctx, e.self.ID, m.ID, "", "Matrix template")
	if err != nil {
		t.Fatal(err)
	}
	f.Template = tpl.ID
	if cancelled {
		if _, err := svc.Cancel(ctx, e.self.ID, m.ID); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// meetingMatrix are the access-matrix rows of the meeting routes: every
// caller acts on a meeting they host (TestMeetingIsNotFoundForOthers and
// the store's tests cover everyone else).
func meetingMatrix() []matrixRow {
	row := func(pattern string, req func(t *testing.T, e *matrixEnv, f mxMeetingFixture) matrixReq) matrixRow {
		return matrixRow{pattern: pattern, want: mxMember(pattern), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return req(t, e, mxMeeting(t, e, strings.HasSuffix(pattern, "/delete") && !strings.Contains(pattern, "agenda") && !strings.Contains(pattern, "resources")))
		}}
	}
	path := func(suffix string) func(*testing.T, *matrixEnv, mxMeetingFixture) matrixReq {
		return func(_ *testing.T, _ *matrixEnv, f mxMeetingFixture) matrixReq {
			return matrixReq{path: strings.NewReplacer("{id}", f.ID, "{pid}", f.Participant, "{itemID}", f.Item, "{rid}", f.File).Replace(suffix)}
		}
	}
	form := func(suffix string, v url.Values) func(*testing.T, *matrixEnv, mxMeetingFixture) matrixReq {
		return func(t *testing.T, e *matrixEnv, f mxMeetingFixture) matrixReq {
			req := path(suffix)(t, e, f)
			return mxForm(req.path, v)
		}
	}
	body := func(suffix string, v any) func(*testing.T, *matrixEnv, mxMeetingFixture) matrixReq {
		return func(t *testing.T, e *matrixEnv, f mxMeetingFixture) matrixReq {
			return mxJSON(t, path(suffix)(t, e, f).path, v)
		}
	}
	meetingForm := url.Values{"title": {"Matrix"}, "start": {"2026-03-10T10:00"}, "time_zone": {"UTC"}, "duration_minutes": {"30"}}
	return []matrixRow{
		{pattern: "GET /meetings", want: mxMember("GET /meetings")},
		{pattern: "GET /meetings/new", want: mxMember("GET /meetings/new")},
		{pattern: "POST /meetings", want: mxMember("POST /meetings"), req: func(t *testing.T, e *matrixEnv) matrixReq { return mxForm("/meetings", meetingForm) }},
		row("GET /meetings/{id}", path("/meetings/{id}")),
		row("POST /meetings/{id}", form("/meetings/{id}", meetingForm)),
		row("POST /meetings/{id}/cancel", form("/meetings/{id}/cancel", url.Values{"confirm": {"yes"}})),
		row("POST /meetings/{id}/delete", form("/meetings/{id}/delete", url.Values{"confirm": {"yes"}})),
		row("GET /meetings/{id}/calendar.ics", path("/meetings/{id}/calendar.ics")),
		row("POST /meetings/{id}/participants", form("/meetings/{id}/participants", url.Values{"email": {"someone@example.net"}})),
		row("POST /meetings/{id}/participants/{pid}/remove", form("/meetings/{id}/participants/{pid}/remove", url.Values{"confirm": {"yes"}})),
		row("POST /meetings/{id}/agenda", form("/meetings/{id}/agenda", url.Values{"title": {"Third"}})),
		row("POST /meetings/{id}/agenda/{itemID}", form("/meetings/{id}/agenda/{itemID}", url.Values{"title": {"First, renamed"}})),
		row("POST /meetings/{id}/agenda/{itemID}/delete", form("/meetings/{id}/agenda/{itemID}/delete", url.Values{"confirm": {"yes"}})),
		row("POST /meetings/{id}/agenda/{itemID}/move", form("/meetings/{id}/agenda/{itemID}/move", url.Values{"direction": {"down"}})),
		row("POST /meetings/{id}/agenda/template", form("/meetings/{id}/agenda/template", url.Values{"name": {"Saved"}})),
		row("POST /meetings/{id}/agenda/apply", func(t *testing.T, e *matrixEnv, f mxMeetingFixture) matrixReq {
			return mxForm("/meetings/"+f.ID+"/agenda/apply", url.Values{"template_id": {f.Template}})
		}),
		row("POST /meetings/{id}/resources", form("/meetings/{id}/resources", url.Values{"url": {"https://miro.com/app/board/m=/"}})),
		row("POST /meetings/{id}/resources/{rid}/delete", form("/meetings/{id}/resources/{rid}/delete", url.Values{"confirm": {"yes"}})),
		row("GET /meetings/{id}/resources/{rid}", path("/meetings/{id}/resources/{rid}")),
		{pattern: "GET /api/meetings", want: mxMember("GET /api/meetings")},
		{pattern: "POST /api/meetings", want: mxMember("POST /api/meetings"), req: func(t *testing.T, e *matrixEnv) matrixReq {
			return mxJSON(t, "/api/meetings", meetingBody(nil))
		}},
		row("GET /api/meetings/{id}", path("/api/meetings/{id}")),
		row("PATCH /api/meetings/{id}", body("/api/meetings/{id}", map[string]string{"title": "Renamed"})),
		row("DELETE /api/meetings/{id}", path("/api/meetings/{id}")),
		row("GET /api/meetings/{id}/calendar.ics", path("/api/meetings/{id}/calendar.ics")),
		row("GET /api/meetings/{id}/participants", path("/api/meetings/{id}/participants")),
		row("POST /api/meetings/{id}/participants", body("/api/meetings/{id}/participants", map[string]string{"email": "someone@example.net"})),
		row("PATCH /api/meetings/{id}/participants/{pid}", body("/api/meetings/{id}/participants/{pid}", map[string]string{"role": "co-host"})),
		row("DELETE /api/meetings/{id}/participants/{pid}", path("/api/meetings/{id}/participants/{pid}")),
		row("GET /api/meetings/{id}/agenda", path("/api/meetings/{id}/agenda")),
		row("POST /api/meetings/{id}/agenda", body("/api/meetings/{id}/agenda", map[string]any{"title": "Third", "planned_minutes": 5})),
		row("PATCH /api/meetings/{id}/agenda/{itemID}", body("/api/meetings/{id}/agenda/{itemID}", map[string]any{"title": "First, again"})),
		row("DELETE /api/meetings/{id}/agenda/{itemID}", path("/api/meetings/{id}/agenda/{itemID}")),
		row("PUT /api/meetings/{id}/agenda/order", func(t *testing.T, e *matrixEnv, f mxMeetingFixture) matrixReq {
			items, err := store.Agenda(context.Background(), e.h.DB, f.ID)
			if err != nil {
				t.Fatal(err)
			}
			return mxJSON(t, "/api/meetings/"+f.ID+"/agenda/order", map[string]any{"order": []string{items[1].ID, items[0].ID}})
		}),
		row("POST /api/meetings/{id}/agenda/from-template/{templateID}", func(_ *testing.T, _ *matrixEnv, f mxMeetingFixture) matrixReq {
			return matrixReq{path: "/api/meetings/" + f.ID + "/agenda/from-template/" + f.Template}
		}),
		{pattern: "GET /api/agenda-templates", want: mxMember("GET /api/agenda-templates")},
		row("POST /api/agenda-templates", func(t *testing.T, _ *matrixEnv, f mxMeetingFixture) matrixReq {
			return mxJSON(t, "/api/agenda-templates", map[string]string{"meeting_id": f.ID, "name": "Saved"})
		}),
		row("GET /api/meetings/{id}/resources", path("/api/meetings/{id}/resources")),
		row("POST /api/meetings/{id}/resources", body("/api/meetings/{id}/resources", map[string]string{"url": "https://1drv.ms/x"})),
		row("GET /api/meetings/{id}/resources/{rid}", path("/api/meetings/{id}/resources/{rid}")),
		row("DELETE /api/meetings/{id}/resources/{rid}", path("/api/meetings/{id}/resources/{rid}")),
	}
}
