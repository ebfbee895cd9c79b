package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/platform/mail/mailtest"
	"github.com/sessionshq/sessions/internal/privacy/rights"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

// rqFiled files a request of m for the rights, as the privacy centre
// would, and returns it.
func rqFiled(t *testing.T, h *harness, m *testMember, rs ...rights.Right) rights.Request {
	t.Helper()
	in := rights.Intake{Channel: rights.ChannelAccount, Rights: rs, Details: "Filed by the test."}
	r, err := h.Srv.Services.Rights.FileMemberRequest(context.Background(), m.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// rqStaff is a privacy officer acting on requests.
func rqStaff(id string) service.Actor {
	return service.Actor{AccountID: id, Roles: []staff.Role{staff.PrivacyOfficer}}
}

// rqLetter records a request received by post at received, for address.
func rqLetter(t *testing.T, h *harness, email string, received time.Time) rights.Request {
	t.Helper()
	in := rights.Intake{Channel: rights.ChannelPost, Rights: []rights.Right{rights.RightAccess}, Email: email, ReceivedAt: received}
	r, err := h.Srv.Services.Rights.RecordRequest(context.Background(), rqStaff("acc_staff"), in)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// rqLastMail delivers the outbox and returns the last message the SMTP
// server received.
func rqLastMail(t *testing.T, h *harness) *mailtest.Message {
	t.Helper()
	h.deliverMail(t)
	msgs := h.SMTP.Messages()
	if len(msgs) == 0 {
		t.Fatal("no mail")
	}
	return msgs[len(msgs)-1]
}

var codeRE = regexp.MustCompile(`Your code is (\d{6})\.`)

// rqPublic files the public form for email and returns the verify page
// and the code e-mailed ("" when no mail came).
func rqPublic(t *testing.T, h *harness, c *client, email string) (string, string) {
	t.Helper()
	before := len(h.SMTP.Messages())
	res := c.postForm(t, "/privacy/request", url.Values{"email": {email}, "rights": {"access", "erasure"}, "details": {"Please."}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("public form: %d %s", res.StatusCode, res.Body)
	}
	h.deliverMail(t)
	code := ""
	if msgs := h.SMTP.Messages(); len(msgs) > before {
		m := msgs[len(msgs)-1]
		if got := codeRE.FindStringSubmatch(m.Text); got != nil {
			code = got[1]
		}
	}
	return res.Header.Get("Location"), code
}

func TestMemberFilesARequestWithSeveralRights(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.newMember(t)
	c := h.signIn(t, ada)
	res := c.postForm(t, "/account/requests", url.Values{"rights": {"access", "restriction"}, "details": {"Please stop using my data while you check."}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/account/requests/req_") {
		t.Fatalf("file: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	page := c.get(t, res.Header.Get("Location"))
	if page.StatusCode != http.StatusOK || !strings.Contains(page.text(), "Restrict the use of my data") {
		t.Fatalf("request page: %d", page.StatusCode)
	}
	msg := h.nextMail(t)
	due := harnessStart.AddDate(0, 1, 0).Format("2 January 2006")
	if msg.EnvelopeTo[0] != ada.Email || !strings.Contains(msg.Text, due) {
		t.Errorf("acknowledgement to %v without the due date %s:\n%s", msg.EnvelopeTo, due, msg.Text)
	}

	// A request without any right is refused with the field named.
	if res := c.postForm(t, "/account/requests", url.Values{"details": {"x"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("no right: %d", res.StatusCode)
	}

	// Another member's request is not found, on the page and in the API.
	bob := h.newMember(t)
	theirs := rqFiled(t, h, bob, rights.RightErasure)
	if res := c.get(t, "/account/requests/"+theirs.ID); res.StatusCode != http.StatusNotFound {
		t.Errorf("another member's request page: %d", res.StatusCode)
	}
	api := h.apiClient(t, ada)
	if res := api.get(t, "/api/me/requests/"+theirs.ID); res.StatusCode != http.StatusNotFound {
		t.Errorf("another member's request in the API: %d", res.StatusCode)
	}
	var list struct{ Requests []map[string]any }
	api.get(t, "/api/me/requests").decode(t, &list)
	if len(list.Requests) != 1 {
		t.Errorf("ada sees %d requests, want her one", len(list.Requests))
	}
}

func TestPublicRequestCodeBruteForceAndExpiry(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.anon()

	verify, code := rqPublic(t, h, c, "guest@example.org")
	if code == "" {
		t.Fatal("no code e-mailed")
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for i := range rights.CodeAttempts {
		if res := c.postForm(t, verify, url.Values{"code": {wrong}}); res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("wrong code %d: %d", i+1, res.StatusCode)
		}
	}
	// The fourth try is refused even with the right code, as too many.
	if res := c.postForm(t, verify, url.Values{"code": {code}}); res.StatusCode != http.StatusTooManyRequests ||
		!strings.Contains(res.text(), "start again from the form") {
		t.Fatalf("fourth try with the right code: %d", res.StatusCode)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(verify, "/privacy/request/"), "/verify")
	if got := h.count(t, `SELECT COUNT(*) FROM account_requests WHERE id = ? AND state = 'verifying'`, id); got != 1 {
		t.Errorf("a brute-forced request left verifying: %d", got)
	}

	// A code typed after ten minutes is refused.
	verify, code = rqPublic(t, h, c, "late@example.org")
	h.Clock.Advance(rights.CodeLife + time.Second)
	if res := c.postForm(t, verify, url.Values{"code": {code}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("expired code: %d", res.StatusCode)
	}

	// In time, the code opens the request, due a month later, and it is
	// acknowledged.
	verify, code = rqPublic(t, h, c, "ontime@example.org")
	h.Clock.Advance(rights.CodeLife - time.Minute)
	res := c.postForm(t, verify, url.Values{"code": {code}})
	if res.StatusCode != http.StatusOK || !strings.Contains(res.text(), "We received your request") {
		t.Fatalf("right code: %d %s", res.StatusCode, res.Body)
	}
	id = strings.TrimSuffix(strings.TrimPrefix(verify, "/privacy/request/"), "/verify")
	var state string
	var due time.Time
	if err := h.DB.QueryRow(context.Background(), `SELECT state, due_at FROM account_requests WHERE id = ?`, id).Scan(&state, &due); err != nil {
		t.Fatal(err)
	}
	if state != "received" || due.UTC().Format(time.DateOnly) != h.Clock.Now().AddDate(0, 1, 0).Format(time.DateOnly) {
		t.Errorf("opened request is %s, due %s", state, due)
	}
	if msg := rqLastMail(t, h); !strings.Contains(msg.Text, id) {
		t.Errorf("no acknowledgement with the reference:\n%s", msg.Text)
	}
	// The code does not work twice.
	if res := c.postForm(t, verify, url.Values{"code": {code}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("code reused: %d", res.StatusCode)
	}
}

func TestPublicRequestDoesNotTellAddressesApart(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.newMember(t)
	c := h.anon()
	answer := func(email string) (int, string, string) {
		res := c.postForm(t, "/privacy/request", url.Values{"email": {email}, "rights": {"access"}})
		loc := res.Header.Get("Location")
		page := c.get(t, loc)
		return res.StatusCode, regexp.MustCompile(`req_[0-9a-f]+`).ReplaceAllString(loc, "ID"),
			regexp.MustCompile(`req_[0-9a-f]+`).ReplaceAllString(page.text(), "ID")
	}
	s1, l1, p1 := answer(ada.Email)
	s2, l2, p2 := answer("nobody-here@example.org")
	if s1 != s2 || l1 != l2 || p1 != p2 {
		t.Errorf("a member's address and an unknown one get different answers: %d %s / %d %s", s1, l1, s2, l2)
	}
	// Past the per-address limit nothing more is sent, and the answer is
	// the same still.
	for range rights.VerifyingPerAddress {
		answer("flood@example.org")
	}
	h.deliverMail(t)
	sent := len(h.SMTP.Messages())
	s3, l3, p3 := answer("flood@example.org")
	h.deliverMail(t)
	if s3 != s1 || l3 != l1 || p3 != p1 {
		t.Error("the answer changes past the per-address limit")
	}
	if len(h.SMTP.Messages()) != sent {
		t.Error("a code was sent past the per-address limit")
	}
}

func TestStaffQueueOrderCountsAndHighlights(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	po := h.signIn(t, h.newStaff(t, staff.PrivacyOfficer))
	now := h.Clock.Now()
	// Received 28, 2 and 10 days ago: due in about 2 days (due soon),
	// in 4 weeks, and in 3 weeks.
	soon := rqLetter(t, h, "a@example.org", now.AddDate(0, 0, -28))
	later := rqLetter(t, h, "b@example.org", now.AddDate(0, 0, -2))
	mid := rqLetter(t, h, "c@example.org", now.AddDate(0, 0, -10))
	// One past due: received over a month ago.
	late := rqLetter(t, h, "d@example.org", now.AddDate(0, -1, -5))
	done := rqLetter(t, h, "e@example.org", now.AddDate(0, 0, -1))
	if _, err := h.Srv.Services.Rights.AdvanceRequest(context.Background(), rqStaff("x"), done.ID,
		rights.RequestStep{Action: rights.ActRefuse, Reason: "Manifestly unfounded: no data about this address."}); err != nil {
		t.Fatal(err)
	}
	var q struct {
		Requests []struct {
			ID      string `json:"id"`
			Overdue bool   `json:"overdue"`
			DueSoon bool   `json:"due_soon"`
		} `json:"requests"`
		Counts map[string]int `json:"counts"`
	}
	api := h.apiClient(t, h.newStaff(t, staff.PrivacyOfficer))
	res := api.get(t, "/api/admin/requests")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("queue: %d %s", res.StatusCode, res.Body)
	}
	res.decode(t, &q)
	var order []string
	for _, r := range q.Requests {
		order = append(order, r.ID)
	}
	want := []string{late.ID, soon.ID, mid.ID, later.ID}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Errorf("queue order %v, want %v", order, want)
	}
	if len(q.Requests) == 4 && (!q.Requests[0].Overdue || !q.Requests[1].DueSoon || q.Requests[2].DueSoon || q.Requests[3].Overdue) {
		t.Errorf("highlights wrong: %+v", q.Requests)
	}
	if q.Counts["received"] != 4 || q.Counts["refused"] != 1 || q.Counts["completed"] != 0 {
		t.Errorf("counts %v", q.Counts)
	}
	page := po.get(t, "/admin/requests")
	if page.StatusCode != http.StatusOK || !strings.Contains(page.text(), `data-urgency="overdue"`) || !strings.Contains(page.text(), `data-urgency="due-soon"`) {
		t.Errorf("queue page lacks the highlights: %d", page.StatusCode)
	}
	if res := api.get(t, "/api/admin/requests?state=refused"); !strings.Contains(res.text(), done.ID) {
		t.Error("refused filter misses the refused request")
	}
}

func TestStaffStepsEmailThePersonAndSetThingsGoing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	po := h.signIn(t, h.newStaff(t, staff.PrivacyOfficer))
	ada := h.newMember(t)
	// The page shows the person's other requests.
	earlier := rqFiled(t, h, ada, rights.RightObjection)
	h.deliverMail(t)
	sent := len(h.SMTP.Messages())
	r := rqFiled(t, h, ada, rights.RightAccess, rights.RightRestriction)
	h.deliverMail(t)
	// Each step's message is delivered before the next step, so that they
	// arrive in order.
	step := func(action string, form url.Values) {
		t.Helper()
		res := po.postForm(t, "/admin/requests/"+r.ID+"/"+action, form)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", action, res.StatusCode, res.Body)
		}
		if action != "lift-restriction" {
			h.deliverMail(t)
		}
	}
	if page := po.get(t, "/admin/requests/"+r.ID); !strings.Contains(page.text(), earlier.ID) {
		t.Error("the request page does not show the person's other requests")
	}

	step("start", nil)
	if n := h.count(t, `SELECT COUNT(*) FROM export_jobs WHERE person_id = ? AND kind = 'access'`, ada.ID); n != 1 {
		t.Errorf("%d access exports after start", n)
	}
	on, err := store.Restricted(context.Background(), h.DB, ada.ID)
	if err != nil || !on {
		t.Errorf("restriction after start: %v %v", on, err)
	}
	// Extension needs reasons; refused without, with the field named.
	if res := po.postForm(t, "/admin/requests/"+r.ID+"/extend", url.Values{"months": {"2"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("extension without reasons: %d", res.StatusCode)
	}
	step("extend", url.Values{"months": {"2"}, "reason": {"Your data spans three archived systems."}})
	// Lifting the restriction: told first, lifted only once the message
	// is sent.
	step("lift-restriction", nil)
	if n, err := h.Srv.Services.Rights.LiftNoticedRestrictions(context.Background()); err != nil || n != 0 {
		t.Fatalf("lifted %d before the message was sent (%v)", n, err)
	}
	if on, _ := store.Restricted(context.Background(), h.DB, ada.ID); !on {
		t.Fatal("restriction lifted before the person was told")
	}
	h.deliverMail(t)
	if n, err := h.Srv.Services.Rights.LiftNoticedRestrictions(context.Background()); err != nil || n != 1 {
		t.Fatalf("lifted %d after the message was sent (%v)", n, err)
	}
	if on, _ := store.Restricted(context.Background(), h.DB, ada.ID); on {
		t.Error("restriction still in force after the notice was sent")
	}
	step("complete", url.Values{"reason": {"Your copy is ready on the privacy page."}})

	h.deliverMail(t)
	msgs := h.SMTP.Messages()[sent:]
	var subjects []string
	for _, m := range msgs {
		if m.EnvelopeTo[0] == ada.Email {
			subjects = append(subjects, m.Subject)
		}
	}
	want := []string{"We received your request about your data", "We are working on your request", "We need more time for your request",
		"The restriction of your data is to be lifted", "Your request is done"}
	if strings.Join(subjects, "|") != strings.Join(want, "|") {
		t.Errorf("messages to the person:\n%v\nwant\n%v", subjects, want)
	}
	for _, m := range msgs {
		if m.Subject == "We need more time for your request" && !strings.Contains(m.Text, "three archived systems") {
			t.Errorf("extension message without the reasons:\n%s", m.Text)
		}
	}
	// Every step is in the request's history.
	var hist struct {
		History []struct{ Action string } `json:"history"`
	}
	h.apiClient(t, h.newStaff(t, staff.PrivacyOfficer)).get(t, "/api/admin/requests/"+r.ID).decode(t, &hist)
	var actions []string
	for _, x := range hist.History {
		if x.Action != "request.view" {
			actions = append(actions, x.Action)
		}
	}
	if got := strings.Join(actions, " "); got != "request.receive request.start request.extend request.restriction_lift_notice request.restriction_lifted request.complete" {
		t.Errorf("history: %s", got)
	}
	// A closed request takes no more steps.
	if res := po.postForm(t, "/admin/requests/"+r.ID+"/refuse", url.Values{"reason": {"Too late for this, sorry."}}); res.StatusCode != http.StatusConflict {
		t.Errorf("refusing a completed request: %d", res.StatusCode)
	}
}

func TestRefusalTellsOfTheRightToComplain(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	api := h.apiClient(t, h.newStaff(t, staff.PrivacyOfficer))
	ada := h.newMember(t)
	r := rqFiled(t, h, ada, rights.RightObjection)
	h.deliverMail(t)
	res := api.sendJSON(t, http.MethodPost, "/api/admin/requests/"+r.ID+"/steps", map[string]any{"action": "refuse", "reason": "Our compelling grounds outweigh it: fraud checks."})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("refuse: %d %s", res.StatusCode, res.Body)
	}
	msg := rqLastMail(t, h)
	if !strings.Contains(msg.Text, "fraud checks") || !strings.Contains(msg.Text, "supervisory authority") {
		t.Errorf("refusal message:\n%s", msg.Text)
	}
	page := h.signIn(t, ada).get(t, "/account/requests/"+r.ID)
	if !strings.Contains(page.text(), "supervisory authority") {
		t.Error("the member's page of a refused request does not name the right to complain")
	}
}

func TestErasureAndRectificationRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	api := h.apiClient(t, h.newStaff(t, staff.PrivacyOfficer))
	ada := h.newMember(t)
	// Erasure alone starts at once, carried by the erasure engine, which
	// completes the request.
	er := rqFiled(t, h, ada, rights.RightErasure)
	if res := api.sendJSON(t, http.MethodPost, "/api/admin/requests/"+er.ID+"/steps", map[string]string{"action": "start"}); res.StatusCode != http.StatusOK {
		t.Fatalf("start erasure: %d %s", res.StatusCode, res.Body)
	}
	if n := h.count(t, `SELECT COUNT(*) FROM erasure_runs WHERE request_id = ? AND reason = 'request'`, er.ID); n != 1 {
		t.Errorf("%d erasure runs for the request", n)
	}

	// Erasure with a copy: the copy first, the erasure on completion.
	bob := h.newMember(t)
	both := rqFiled(t, h, bob, rights.RightAccess, rights.RightErasure)
	api.sendJSON(t, http.MethodPost, "/api/admin/requests/"+both.ID+"/steps", map[string]string{"action": "start"})
	if n := h.count(t, `SELECT COUNT(*) FROM erasure_runs WHERE request_id = ?`, both.ID); n != 0 {
		t.Error("the erasure started before the copy was delivered")
	}
	api.sendJSON(t, http.MethodPost, "/api/admin/requests/"+both.ID+"/steps", map[string]string{"action": "complete"})
	if n := h.count(t, `SELECT COUNT(*) FROM erasure_runs WHERE request_id = ?`, both.ID); n != 1 {
		t.Error("completing did not start the erasure")
	}

	// Rectification with a statement: kept with the data it completes.
	cy := h.newMember(t)
	res := h.apiClient(t, cy).sendJSON(t, http.MethodPost, "/api/me/requests", map[string]any{
		"rights": []string{"rectification"}, "details": "My company changed.", "field": "profiles.company", "statement": "Worked at Acme until 2025.",
	})
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("rectification: %d %s", res.StatusCode, res.Body)
	}
	var rect struct{ ID string }
	res.decode(t, &rect)
	for _, a := range []string{"start", "complete"} {
		if res := api.sendJSON(t, http.MethodPost, "/api/admin/requests/"+rect.ID+"/steps", map[string]string{"action": a, "reason": "Corrected the company name."}); res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", a, res.StatusCode, res.Body)
		}
	}
	st, err := store.StatementsOf(context.Background(), h.DB, cy.ID)
	if err != nil || len(st) != 1 || st[0].Table != "profiles" || st[0].Column != "company" || st[0].Statement != "Worked at Acme until 2025." {
		t.Errorf("statements %+v %v", st, err)
	}
}

func TestStaffRecordsALetter(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	po := h.signIn(t, h.newStaff(t, staff.PrivacyOfficer))
	ada := h.newMember(t)
	res := po.postForm(t, "/admin/requests", url.Values{"channel": {"post"}, "email": {strings.ToUpper(ada.Email)}, "rights": {"access"},
		"received_at": {h.Clock.Now().AddDate(0, 0, -3).Format(time.DateOnly)}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("record: %d %s", res.StatusCode, res.Body)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(res.Header.Get("Location"), "/admin/requests/"), "?done=recorded")
	r, err := store.GetRequest(context.Background(), h.DB, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.AccountID != ada.ID || r.Channel != rights.ChannelPost || r.DueAt.Format(time.DateOnly) != h.Clock.Now().AddDate(0, 0, -3).AddDate(0, 1, 0).Format(time.DateOnly) {
		t.Errorf("recorded %+v", r)
	}
	if res := po.postForm(t, "/admin/requests", url.Values{"channel": {"fax"}, "email": {"a@example.org"}, "rights": {"access"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("unknown channel: %d", res.StatusCode)
	}
	// Nothing personal reaches the logs.
	if strings.Contains(h.Logs.String(), ada.Email) {
		t.Error("an address reached the logs")
	}
}
