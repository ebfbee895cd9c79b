package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/privacy/notice"
	"github.com/sessionshq/sessions/internal/privacy/vendors"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

// noticeChange edits the registry so that the generated notice differs
// from the published one: tag ends up in Colossyan's activity.
func noticeChange(t testing.TB, h *harness, tag string) {
	t.Helper()
	_, _, err := store.UpdateSubprocessor(context.Background(), h.DB, vendors.Colossyan, vendors.Update{
		Activity: "Video editing, " + tag, Country: "GB", Mechanism: vendors.Adequacy, DataCategories: []string{"biometric.audio-video"}, Active: true,
	}, h.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
}

// noticeStart publishes the first version, as the server does when it
// starts.
func noticeStart(t testing.TB, h *harness) {
	t.Helper()
	if _, _, err := h.Srv.Services.Notices.PublishFirst(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// noticeVersions counts the published versions.
func noticeVersions(t testing.TB, h *harness) int {
	t.Helper()
	return h.count(t, `SELECT COUNT(*) FROM notice_versions`)
}

// noticeJobRun does what one run of the notice.mail job does.
func noticeJobRun(t testing.TB, h *harness) int {
	t.Helper()
	n, err := h.Srv.Services.Notices.MailChanges(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

const bannerTitle = "Our privacy notice has changed"

// regexpHash finds the hash of the reviewed text in the staff form.
var regexpHash = regexp.MustCompile(`name="sha256" value="([0-9a-f]{64})"`)

type noticeBody struct {
	NoticeID    string           `json:"notice_id"`
	Version     int              `json:"version"`
	SHA256      string           `json:"sha256"`
	PublishedAt time.Time        `json:"published_at"`
	Significant bool             `json:"significant"`
	Summary     string           `json:"summary"`
	URL         string           `json:"url"`
	Title       string           `json:"title"`
	Body        string           `json:"body"`
	Sections    []notice.Section `json:"sections"`
}

func TestNoticePagesAndAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	anon := h.anon()

	res := anon.get(t, "/api/notice")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/notice: %d %s", res.StatusCode, res.Body)
	}
	var cur noticeBody
	res.decode(t, &cur)
	sum := sha256.Sum256([]byte(cur.Body))
	if cur.NoticeID != "privacy" || cur.Version != 1 || cur.Significant || cur.Title != "Privacy notice" ||
		cur.SHA256 != hex.EncodeToString(sum[:]) || !cur.PublishedAt.Equal(harnessStart) || cur.URL != "/privacy/notice/v/1" || len(cur.Sections) != 15 {
		t.Errorf("current notice = %+v", cur)
	}
	// What the API serves is what the consent ledger is told.
	v, err := store.CurrentNotice(context.Background(), h.DB)
	if err != nil || v.Hash != cur.SHA256 || v.Label() != "1" {
		t.Errorf("store.CurrentNotice = %+v, %v", v, err)
	}

	page := anon.get(t, "/privacy/notice")
	if page.StatusCode != http.StatusOK {
		t.Fatalf("GET /privacy/notice: %d", page.StatusCode)
	}
	for _, want := range []string{"Privacy notice", "Version 1", cur.SHA256, "Who we are", "Your rights", "Sessions Technologies Romania SRL",
		`href="/privacy/cookies"`, "We never sell personal data", `id="rights"`, "Colossyan"} {
		if !strings.Contains(page.text(), want) {
			t.Errorf("the notice page lacks %q", want)
		}
	}
	if strings.Contains(page.text(), "[cookie notice](") {
		t.Error("a link is shown as Markdown instead of a link")
	}

	// A staff member publishes version 2; version 1 stays readable.
	noticeChange(t, h, "tutorials")
	h.Clock.Advance(time.Hour)
	po := h.apiClient(t, h.newStaff(t, staff.PrivacyOfficer))
	if res := po.sendJSON(t, http.MethodPost, "/api/admin/notice", map[string]any{"significant": false, "summary": "Colossyan now edits tutorials."}); res.StatusCode != http.StatusCreated {
		t.Fatalf("publish: %d %s", res.StatusCode, res.Body)
	} else if loc := res.Header.Get("Location"); loc != "/privacy/notice/v/2" {
		t.Errorf("Location = %q", loc)
	}
	var list struct {
		Versions []noticeBody `json:"versions"`
	}
	anon.get(t, "/api/notice/versions").decode(t, &list)
	if len(list.Versions) != 2 || list.Versions[0].Version != 2 || list.Versions[1].Version != 1 ||
		list.Versions[0].Summary != "Colossyan now edits tutorials." || list.Versions[0].Body != "" {
		t.Fatalf("versions = %+v", list.Versions)
	}
	old := anon.get(t, "/privacy/notice/v/1")
	if old.StatusCode != http.StatusOK || !strings.Contains(old.text(), "This is an earlier version") ||
		strings.Contains(old.text(), "Video editing, tutorials") || !strings.Contains(old.text(), cur.SHA256) {
		t.Errorf("version 1 page: %d", old.StatusCode)
	}
	if now := anon.get(t, "/privacy/notice"); !strings.Contains(now.text(), "Video editing, tutorials") || strings.Contains(now.text(), "This is an earlier version") {
		t.Error("the current page does not show version 2")
	}
	hist := anon.get(t, "/privacy/notice/history")
	for _, want := range []string{`href="/privacy/notice/v/1"`, `href="/privacy/notice/v/2"`, "Colossyan now edits tutorials.", notice.FirstSummary} {
		if !strings.Contains(hist.text(), want) {
			t.Errorf("the history lacks %q", want)
		}
	}
	for _, path := range []string{"/privacy/notice/v/3", "/privacy/notice/v/0", "/privacy/notice/v/abc", "/privacy/notice/v/01"} {
		if res := anon.get(t, path); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, res.StatusCode)
		}
	}

	// The privacy centre and every page's footer link to the notice.
	if !strings.Contains(anon.get(t, "/privacy").text(), `href="/privacy/notice"`) {
		t.Error("the privacy centre does not link to the notice")
	}
	footer := anon.get(t, "/")
	if i := strings.Index(footer.text(), `class="site-footer"`); i < 0 || !strings.Contains(footer.text()[i:], `href="/privacy/notice"`) {
		t.Error("the footer does not link to the notice")
	}
}

func TestNoticeSignificantPublicationMailsAndShowsBanner(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	noticeStart(t, h)
	ada := h.newMember(t)
	bob := h.newMember(t)
	gone := h.newMember(t)
	if _, err := h.DB.Exec(context.Background(), `UPDATE accounts SET status = ? WHERE id = ?`, string(account.Deactivated), gone.ID); err != nil {
		t.Fatal(err)
	}
	poMember := h.newStaff(t, staff.PrivacyOfficer)
	po := h.signIn(t, poMember)
	if res := h.signIn(t, ada).get(t, "/account"); strings.Contains(res.text(), bannerTitle) {
		t.Fatal("a banner before any change")
	}

	noticeChange(t, h, "tutorials")
	h.Clock.Advance(time.Hour)
	page := po.get(t, "/admin/notice")
	m := regexpHash.FindStringSubmatch(page.text())
	if m == nil {
		t.Fatalf("no reviewed hash on the staff page: %s", page.Body)
	}
	res := po.postForm(t, "/admin/notice", url.Values{"summary": {"Colossyan now edits tutorials."}, "significant": {"yes"}, "sha256": {m[1]}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/notice?published=2" {
		t.Fatalf("publish: %d %s %s", res.StatusCode, res.Header.Get("Location"), res.Body)
	}
	if !strings.Contains(po.get(t, "/admin/notice?published=2").text(), "Version 2 is published") {
		t.Error("no confirmation after publishing")
	}
	var audited int
	if err := h.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = 'notice.publish' AND actor_id = ?`, poMember.ID).Scan(&audited); err != nil || audited != 1 {
		t.Errorf("audit entries for the publication: %d (%v)", audited, err)
	}
	h.Clock.Advance(time.Hour)
	late := h.newMember(t)

	// The job queues one mail per active member; a second run none.
	if n := noticeJobRun(t, h); n != 3 {
		t.Fatalf("the job queued %d messages, want 3 (ada, bob, the privacy officer)", n)
	}
	if n := noticeJobRun(t, h); n != 0 {
		t.Fatalf("a second run queued %d more", n)
	}
	h.deliverMail(t)
	var to []string
	for _, msg := range h.SMTP.Messages() {
		to = append(to, msg.EnvelopeTo...)
		if !strings.Contains(msg.Subject, "privacy notice has changed") || !strings.Contains(msg.Text, "Colossyan now edits tutorials.") ||
			!strings.Contains(msg.Text, "http://sessions.test/privacy/notice/v/2") {
			t.Errorf("announcement: %s\n%s", msg.Subject, msg.Text)
		}
	}
	slices.Sort(to)
	want := []string{ada.Email, bob.Email, poMember.Email}
	slices.Sort(want)
	if !slices.Equal(to, want) {
		t.Fatalf("mail went to %v, want exactly %v", to, want)
	}

	// The banner shows on every page until the member acknowledges it.
	browser := h.signIn(t, ada)
	for _, path := range []string{"/account", "/privacy", "/"} {
		if res := browser.get(t, path); !strings.Contains(res.text(), bannerTitle) || !strings.Contains(res.text(), "Colossyan now edits tutorials.") {
			t.Errorf("GET %s: no banner", path)
		}
	}
	if res := h.signIn(t, late).get(t, "/account"); strings.Contains(res.text(), bannerTitle) {
		t.Error("a member who joined after the change sees the banner")
	}
	if res := h.anon().get(t, "/privacy"); strings.Contains(res.text(), bannerTitle) {
		t.Error("an anonymous visitor sees the banner")
	}
	res = browser.postForm(t, "/privacy/notice/acknowledge", url.Values{"version": {"2"}, "next": {"/account"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account" {
		t.Fatalf("acknowledge: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if res := browser.get(t, "/account"); strings.Contains(res.text(), bannerTitle) {
		t.Error("the banner is still there after the acknowledgement")
	}
	acks, err := store.NoticeAcknowledgements(context.Background(), h.DB, ada.ID)
	if err != nil || len(acks) != 1 || acks[0].Version != 2 || !acks[0].AcknowledgedAt.Equal(h.Clock.Now()) {
		t.Errorf("acknowledgements = %+v, %v", acks, err)
	}

	// Bob acknowledges through the API.
	api := h.apiClient(t, bob)
	res = api.sendJSON(t, http.MethodPost, "/api/me/notice/acknowledge", nil)
	var ack struct {
		NoticeID       string    `json:"notice_id"`
		Version        int       `json:"version"`
		AcknowledgedAt time.Time `json:"acknowledged_at"`
	}
	res.decode(t, &ack)
	if res.StatusCode != http.StatusOK || ack.NoticeID != "privacy" || ack.Version != 2 || !ack.AcknowledgedAt.Equal(h.Clock.Now()) {
		t.Fatalf("API acknowledgement: %d %+v", res.StatusCode, ack)
	}
	if res := h.signIn(t, bob).get(t, "/account"); strings.Contains(res.text(), bannerTitle) {
		t.Error("the banner is still there after the API acknowledgement")
	}
}

func TestNoticeNonSignificantShowsNoBannerAndSendsNoMail(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	noticeStart(t, h)
	ada := h.newMember(t)
	api := h.apiClient(t, h.newStaff(t, staff.Admin))
	noticeChange(t, h, "tutorials")
	h.Clock.Advance(time.Hour)
	if res := api.sendJSON(t, http.MethodPost, "/api/admin/notice", map[string]any{"significant": false, "summary": "A wording change only."}); res.StatusCode != http.StatusCreated {
		t.Fatalf("publish: %d %s", res.StatusCode, res.Body)
	}
	if n := noticeJobRun(t, h); n != 0 {
		t.Fatalf("the job queued %d messages for a version that is not significant", n)
	}
	if n := h.deliverMail(t); n != 0 {
		t.Errorf("%d messages went out", n)
	}
	if res := h.signIn(t, ada).get(t, "/account"); strings.Contains(res.text(), bannerTitle) {
		t.Error("a version that is not significant shows a banner")
	}
}

func TestNoticePublishRefusesBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	poMember := h.newStaff(t, staff.PrivacyOfficer)
	api := h.apiClient(t, poMember)
	browser := h.signIn(t, poMember)
	noticeStart(t, h)
	noticeChange(t, h, "tutorials")
	long := strings.Repeat("x", notice.MaxSummary+1)

	cases := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"missing summary", map[string]any{"significant": true}, http.StatusUnprocessableEntity, "summary"},
		{"missing flag", map[string]any{"summary": "Colossyan now edits tutorials."}, http.StatusUnprocessableEntity, "significant"},
		{"empty summary", map[string]any{"significant": true, "summary": "   "}, http.StatusUnprocessableEntity, "summary"},
		{"overlong summary", map[string]any{"significant": true, "summary": long}, http.StatusUnprocessableEntity, "summary"},
		{"bad hash", map[string]any{"significant": true, "summary": "Colossyan now edits tutorials.", "sha256": "nope"}, http.StatusUnprocessableEntity, "sha256"},
		{"stale review", map[string]any{"significant": true, "summary": "Colossyan now edits tutorials.", "sha256": strings.Repeat("0", 64)}, http.StatusConflict, ""},
		{"unknown field", map[string]any{"significant": true, "summary": "Colossyan now edits tutorials.", "draft": true}, http.StatusBadRequest, ""},
		{"wrong type", map[string]any{"significant": "yes", "summary": "Colossyan now edits tutorials."}, http.StatusBadRequest, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := api.sendJSON(t, http.MethodPost, "/api/admin/notice", c.body)
			if res.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, c.status, res.Body)
			}
			if c.field != "" && res.problemFields(t)[c.field] == "" {
				t.Errorf("no message for %s: %s", c.field, res.Body)
			}
		})
	}
	for name, form := range map[string]url.Values{
		"form without summary":       {"significant": {"yes"}},
		"form with overlong summary": {"significant": {"yes"}, "summary": {long}},
	} {
		res := browser.postForm(t, "/admin/notice", form)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.text(), "Nothing was published") {
			t.Errorf("%s: %d", name, res.StatusCode)
		}
	}
	if n := noticeVersions(t, h); n != 1 {
		t.Fatalf("refused publications left %d versions", n)
	}
	if n := noticeJobRun(t, h); n != 0 {
		t.Errorf("refused publications queued %d messages", n)
	}

	// Publishing twice without a change in between is refused.
	ok := map[string]any{"significant": false, "summary": "Colossyan now edits tutorials."}
	if res := api.sendJSON(t, http.MethodPost, "/api/admin/notice", ok); res.StatusCode != http.StatusCreated {
		t.Fatalf("publish: %d %s", res.StatusCode, res.Body)
	}
	if res := api.sendJSON(t, http.MethodPost, "/api/admin/notice", ok); res.StatusCode != http.StatusConflict {
		t.Errorf("publishing an unchanged notice: %d", res.StatusCode)
	}
	if n := noticeVersions(t, h); n != 2 {
		t.Errorf("%d versions, want 2", n)
	}
}

func TestNoticeOnlyPublishNoticeStaffPublish(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	noticeStart(t, h)
	noticeChange(t, h, "tutorials")
	body := map[string]any{"significant": true, "summary": "Colossyan now edits tutorials."}
	for _, c := range []struct {
		who    *testMember
		status int
	}{
		{h.newMember(t), http.StatusForbidden},
		{h.newStaff(t, staff.Support), http.StatusForbidden},
	} {
		if res := h.apiClient(t, c.who).sendJSON(t, http.MethodPost, "/api/admin/notice", body); res.StatusCode != c.status {
			t.Errorf("status %d, want %d", res.StatusCode, c.status)
		}
		if res := h.signIn(t, c.who).postForm(t, "/admin/notice", url.Values{"summary": {"Colossyan now edits tutorials."}}); res.StatusCode != c.status {
			t.Errorf("form: status %d, want %d", res.StatusCode, c.status)
		}
	}
	if res := h.anon().sendJSON(t, http.MethodPost, "/api/admin/notice", body); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous: %d", res.StatusCode)
	}
	if n := noticeVersions(t, h); n != 1 {
		t.Fatalf("%d versions after refused publications", n)
	}
	if res := h.apiClient(t, h.newStaff(t, staff.Admin)).sendJSON(t, http.MethodPost, "/api/admin/notice", body); res.StatusCode != http.StatusCreated {
		t.Errorf("admin: %d %s", res.StatusCode, res.Body)
	}
}

func TestNoticeAdminComparesSections(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	po := h.signIn(t, h.newStaff(t, staff.PrivacyOfficer))
	page := po.get(t, "/admin/notice")
	if page.StatusCode != http.StatusOK || !strings.Contains(page.text(), "Unchanged since version 1") || !strings.Contains(page.text(), "disabled") {
		t.Fatalf("staff page before a change: %d", page.StatusCode)
	}
	noticeChange(t, h, "tutorials")
	page = po.get(t, "/admin/notice")
	for _, want := range []string{"1 section changed since version 1", "Publish version 2"} {
		if !strings.Contains(page.text(), want) {
			t.Errorf("the staff page lacks %q", want)
		}
	}
	if !regexp.MustCompile(`class="notice-del">[^<]*\| Colossyan \| Video editing \|`).MatchString(page.text()) ||
		!regexp.MustCompile(`class="notice-add">[^<]*\| Colossyan \| Video editing, tutorials \|`).MatchString(page.text()) {
		t.Error("the staff page does not show the changed line as removed and added")
	}
	var draft struct {
		Published struct {
			Version int `json:"version"`
		} `json:"published"`
		SHA256   string `json:"sha256"`
		Changed  bool   `json:"changed"`
		Sections []struct {
			ID     string `json:"id"`
			Change string `json:"change"`
		} `json:"sections"`
	}
	po.get(t, "/api/admin/notice").decode(t, &draft)
	changed := map[string]string{}
	for _, s := range draft.Sections {
		changed[s.ID] = s.Change
	}
	if !draft.Changed || draft.Published.Version != 1 || len(draft.SHA256) != 64 || changed["recipients"] != "changed" || changed["rights"] != "unchanged" {
		t.Errorf("draft = %+v", draft)
	}
}

func TestNoticeAcknowledgeRefusesBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	api := h.apiClient(t, h.newMember(t))
	for _, c := range []struct {
		body   any
		status int
	}{
		{map[string]any{"version": 9}, http.StatusUnprocessableEntity},
		{map[string]any{"version": 0}, http.StatusUnprocessableEntity},
		{map[string]any{"version": -1}, http.StatusUnprocessableEntity},
		{map[string]any{"version": "1"}, http.StatusBadRequest},
		{map[string]any{"seen": true}, http.StatusBadRequest},
	} {
		if res := api.sendJSON(t, http.MethodPost, "/api/me/notice/acknowledge", c.body); res.StatusCode != c.status {
			t.Errorf("%v: %d, want %d (%s)", c.body, res.StatusCode, c.status, res.Body)
		}
	}
	var n int
	if err := h.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM notice_acknowledgements`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d acknowledgements after bad input (%v)", n, err)
	}
	if res := api.sendJSON(t, http.MethodPost, "/api/me/notice/acknowledge", map[string]any{"version": 1}); res.StatusCode != http.StatusOK {
		t.Errorf("acknowledging version 1: %d %s", res.StatusCode, res.Body)
	}
}
