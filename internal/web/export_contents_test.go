package web_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sessionshq/sessions/internal/staff"
)

// mark returns a unique lower-case marker, valid in any text field.
func mark(t *testing.T) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "mkr" + hex.EncodeToString(b[:])
}

// exportFiles requests an export of kind for m, builds it as the job
// does, and returns its archive's entries by name.
func exportFiles(t *testing.T, h *harness, m *testMember, kind string) map[string][]byte {
	t.Helper()
	x, err := h.Srv.Services.Rights.RequestExport(context.Background(), m.ID, kind)
	if err != nil {
		t.Fatal(err)
	}
	buildExport(t, h, x.ID)
	x, err = h.Srv.Services.Rights.ExportOf(context.Background(), m.ID, x.ID)
	if err != nil {
		t.Fatal(err)
	}
	body, _, _, err := h.Srv.Services.Rights.OpenExport(context.Background(), m.ID, x.ID)
	if err != nil {
		t.Fatalf("open %s export: %v", kind, err)
	}
	defer body.Close()
	raw, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = b
	}
	return out
}

// TestPortableCopyHoldsWhatTheMemberGaveAndNothingStaffWrote fills, through
// the API, every kind of field a member types or uploads with a marker,
// has staff write about them, and checks the portability copy: every
// member marker and file is in it, no staff marker is.
func TestPortableCopyHoldsWhatTheMemberGaveAndNothingStaffWrote(t *testing.T) {
	t.Parallel()
	h := newHarnessOpts(t, harnessOptions{Video: emptyVideo})
	ada := h.newMember(t)
	api := h.apiClient(t, ada)
	given := map[string]string{} // marker → what the member did with it
	give := func(what string) string {
		m := mark(t)
		given[m] = what
		return m
	}

	profile := map[string]any{
		"name": "Ada " + give("name"), "username": give("username"), "company": give("company"), "gender": give("gender"),
		"city": give("city"), "country": "DE", "interests": []string{give("interest")},
		"address":      map[string]string{"street": give("street"), "city": give("address city"), "postcode": "10115", "country": "DE"},
		"linkedin_url": "https://www.linkedin.com/in/" + give("linkedin"),
	}
	wantStatus(t, api.sendJSON(t, http.MethodPut, "/api/me/profile", profile), http.StatusOK)
	wantStatus(t, api.do(t, http.MethodPut, "/api/me/avatar", bytes.NewReader(pngBytes(t)), http.Header{"Content-Type": {"image/png"}}), http.StatusOK)
	// The picture as stored, whatever the upload did to it.
	avatar := api.get(t, "/api/me/avatar")
	wantStatus(t, avatar, http.StatusOK)

	meetingID := createMeeting(t, api, map[string]any{"title": give("meeting title"), "description": give("meeting description")})
	base := "/api/meetings/" + meetingID
	fileBytes := []byte("Notes for the review: " + give("file content") + "\n")
	// A file's title is its name unless the member types another.
	wantStatus(t, upload(t, api, base+"/resources", give("file title")+".txt", fileBytes), http.StatusCreated)
	wantStatus(t, api.sendJSON(t, http.MethodPost, base+"/resources",
		map[string]string{"title": give("link title"), "url": "https://example.com/" + give("link url")}), http.StatusCreated)
	wantStatus(t, api.sendJSON(t, http.MethodPost, base+"/agenda",
		map[string]any{"title": give("agenda title"), "notes": give("agenda notes"), "planned_minutes": 10}), http.StatusCreated)
	wantStatus(t, api.sendJSON(t, http.MethodPost, "/api/agenda-templates", map[string]any{"meeting_id": meetingID, "name": give("template")}), http.StatusCreated)
	wantStatus(t, postJSON(t, api, base+"/join", nil), http.StatusOK)
	wantStatus(t, postJSON(t, api, base+"/messages", map[string]string{"body": give("chat")}), http.StatusCreated)
	wantStatus(t, postJSON(t, api, base+"/messages", map[string]string{"kind": "question", "body": give("question")}), http.StatusCreated)
	wantStatus(t, api.sendJSON(t, http.MethodPost, "/api/me/requests",
		map[string]any{"rights": []string{"objection"}, "details": give("request details")}), http.StatusCreated)

	// Staff look at the member's record and put a hold on it, each with
	// a reason of their own.
	written := map[string]string{}
	support := h.apiClient(t, h.newStaff(t, staff.Support))
	reason := mark(t)
	written[reason] = "reason for viewing the record"
	wantStatus(t, support.sendJSON(t, http.MethodPost, "/api/admin/people/"+ada.ID+"/view", map[string]string{"reason": "Ticket " + reason}), http.StatusOK)
	po := h.apiClient(t, h.newStaff(t, staff.PrivacyOfficer))
	hold := mark(t)
	written[hold] = "reason for a legal hold"
	wantStatus(t, po.sendJSON(t, http.MethodPost, "/api/admin/legal-holds", map[string]string{"person_id": ada.ID, "reason": "Claim " + hold}), http.StatusCreated)

	files := exportFiles(t, h, ada, "portability")
	var all bytes.Buffer
	for name, b := range files {
		all.WriteString(name + "\n")
		all.Write(b)
	}
	for m, what := range given {
		if !bytes.Contains(all.Bytes(), []byte(m)) {
			t.Errorf("the portable copy lacks the %s the member gave", what)
		}
	}
	for m, what := range written {
		if bytes.Contains(all.Bytes(), []byte(m)) {
			t.Errorf("the portable copy holds the %s, which staff wrote", what)
		}
	}
	var gotAvatar, gotFile bool
	for name, b := range files {
		if !strings.HasPrefix(name, "files/") {
			continue
		}
		gotAvatar = gotAvatar || bytes.Equal(b, avatar.Body)
		gotFile = gotFile || bytes.Equal(b, fileBytes)
	}
	if !gotAvatar {
		t.Error("the portable copy lacks the member's profile picture")
	}
	if !gotFile {
		t.Error("the portable copy lacks the file the member uploaded to their meeting")
	}
	for _, name := range []string{"data.json", "art15.json"} {
		if _, ok := files[name]; ok {
			t.Errorf("the portable copy holds %s, which belongs to the access copy", name)
		}
	}
	var portable struct {
		Tables map[string]struct {
			Rows []map[string]any `json:"rows"`
		} `json:"tables"`
	}
	if err := json.Unmarshal(files["portable.json"], &portable); err != nil {
		t.Fatal(err)
	}
	if _, ok := portable.Tables["staff_access_log"]; ok {
		t.Error("portable.json lists staff's looks at the record, which the member did not give")
	}
}

// TestAccessCopyListsTheOrganisationsOfTheMember has a member create an
// organisation and checks that the access copy names it, with their role
// and when they joined.
func TestAccessCopyListsTheOrganisationsOfTheMember(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.newMember(t)
	name := "Org " + mark(t)
	wantStatus(t, h.apiClient(t, ada).sendJSON(t, http.MethodPost, "/api/orgs", map[string]string{"name": name}), http.StatusCreated)

	files := exportFiles(t, h, ada, "access")
	var data struct {
		Tables map[string]struct {
			Columns map[string]string `json:"columns"`
			Rows    []map[string]any  `json:"rows"`
		} `json:"tables"`
	}
	if err := json.Unmarshal(files["data.json"], &data); err != nil {
		t.Fatal(err)
	}
	ms := data.Tables["memberships"]
	if len(ms.Rows) != 1 {
		t.Fatalf("data.json lists %d memberships, want 1", len(ms.Rows))
	}
	row := ms.Rows[0]
	if row["organisation_name"] != name || row["role"] != "owner" || row["joined_at"] == nil || row["joined_at"] == "" {
		t.Errorf("membership in data.json = %v, want the organisation's name, owner and the time of joining", row)
	}
	if ms.Columns["organisation_name"] == "" {
		t.Error("data.json does not say what organisation_name holds")
	}
	if csv := string(files["tables/memberships.csv"]); !strings.Contains(csv, name) || !strings.Contains(csv, "organisation_name") {
		t.Errorf("memberships.csv lacks the organisation's name:\n%s", csv)
	}
}
