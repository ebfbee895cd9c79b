package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

type outboxTestEnv struct {
	h     *harness
	admin *client
	po    *client // a privacy officer, who reads mail
}

func newOutboxTestEnv(t *testing.T) *outboxTestEnv {
	t.Helper()
	h := newHarnessOpts(t, harnessOptions{NoSMTP: true})
	return &outboxTestEnv{h: h, admin: h.signIn(t, h.newStaff(t, staff.Admin)), po: h.signIn(t, h.newStaff(t, staff.PrivacyOfficer))}
}

func (e *outboxTestEnv) enqueue(t *testing.T, m mail.Message) string {
	t.Helper()
	id, err := store.EnqueueMail(context.Background(), e.h.DB, e.h.Clock.Now(), m)
	if err != nil {
		t.Fatal(err)
	}
	e.h.Clock.Advance(time.Second)
	return id
}

type outboxTestMessage struct {
	ID        string            `json:"id"`
	PersonID  *string           `json:"person_id"`
	Recipient string            `json:"recipient"`
	To        *string           `json:"to"`
	Subject   *string           `json:"subject"`
	Status    string            `json:"status"`
	Attempts  int               `json:"attempts"`
	LastError string            `json:"last_error"`
	SentAt    *time.Time        `json:"sent_at"`
	CreatedAt time.Time         `json:"created_at"`
	Text      *string           `json:"text"`
	HTML      *string           `json:"html"`
	Headers   map[string]string `json:"headers"`
	Access    *struct {
		ID        string `json:"id"`
		StaffRole string `json:"staff_role"`
		Reason    string `json:"reason"`
	} `json:"access"`
}

func outboxTestDecode[T any](t *testing.T, res *response) T {
	t.Helper()
	var v T
	res.decode(t, &v)
	return v
}

const outboxTestReason = "delivery complaint, ticket 5521"

func TestOutboxConsole(t *testing.T) {
	t.Parallel()
	env := newOutboxTestEnv(t)
	h := env.h
	welcome := env.enqueue(t, mail.Message{
		PersonID: "person-7", Category: mail.Transactional, Template: "account.welcome",
		To: "grace@example.com", Subject: "Welcome aboard", Text: "Hello Grace",
		HTML: `<p>Hello</p><script>alert("x")</script><img src="https://tracker.example/p.gif">`,
	})
	invite := env.enqueue(t, mail.Message{
		Category: mail.Transactional, Template: "session.invite", To: "guest@example.com",
		Subject: "You are invited", Text: "Join us", Headers: map[string]string{"X-Entity-Ref-ID": "ses_1"},
	})

	t.Run("lists closed to everyone but administrators", func(t *testing.T) {
		member := h.signIn(t, h.newMember(t))
		support := h.signIn(t, h.newStaff(t, staff.Support))
		po := h.signIn(t, h.newStaff(t, staff.PrivacyOfficer))
		for _, path := range []string{"/admin/outbox", "/admin/outbox/" + welcome, "/api/admin/outbox", "/api/admin/outbox/" + welcome} {
			res := h.anon().get(t, path)
			if strings.HasPrefix(path, "/api/") && res.StatusCode != http.StatusUnauthorized {
				t.Errorf("GET %s anonymously: %d, want 401", path, res.StatusCode)
			}
			if !strings.HasPrefix(path, "/api/") && (res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/signin")) {
				t.Errorf("GET %s anonymously: %d %q, want a redirect to sign in", path, res.StatusCode, res.Header.Get("Location"))
			}
			for who, c := range map[string]*client{"member": member, "support": support, "privacy officer": po} {
				if who == "privacy officer" && path == "/admin/outbox/"+welcome {
					continue // the page that asks the reader for a reason
				}
				if res := c.get(t, path); res.StatusCode != http.StatusForbidden || strings.Contains(res.text(), "grace") {
					t.Errorf("GET %s as %s: %d, want 403", path, who, res.StatusCode)
				}
			}
		}
		if res := h.anon().do(t, "POST", "/api/admin/outbox/"+welcome+"/retry", nil, nil); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("POST retry anonymously: %d", res.StatusCode)
		}
		if res := support.sendJSON(t, "POST", "/api/admin/outbox/"+welcome+"/view", map[string]string{"reason": outboxTestReason}); res.StatusCode != http.StatusUnauthorized {
			// A cookie does not authenticate a state-changing API call.
			t.Errorf("POST view with a cookie: %d, want 401", res.StatusCode)
		}
		supportAPI := h.apiClient(t, h.newStaff(t, staff.Support))
		if res := supportAPI.sendJSON(t, "POST", "/api/admin/outbox/"+welcome+"/view", map[string]string{"reason": outboxTestReason}); res.StatusCode != http.StatusForbidden {
			t.Errorf("POST view as support: %d, want 403", res.StatusCode)
		}
	})

	t.Run("API list, newest first, with filters and masked addresses", func(t *testing.T) {
		res := env.admin.get(t, "/api/admin/outbox")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", res.StatusCode, res.Body)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control = %q", cc)
		}
		body := outboxTestDecode[struct {
			SMTPConfigured bool                `json:"smtp_configured"`
			Messages       []outboxTestMessage `json:"messages"`
		}](t, res)
		if body.SMTPConfigured {
			t.Error("smtp_configured without a server")
		}
		if len(body.Messages) != 2 || body.Messages[0].ID != invite || body.Messages[1].ID != welcome {
			t.Fatalf("messages = %+v", body.Messages)
		}
		first := body.Messages[1]
		if first.PersonID == nil || *first.PersonID != "person-7" || first.Status != "pending" || first.Recipient != "g…@example.com" {
			t.Errorf("summary = %+v", first)
		}
		if first.Text != nil || first.HTML != nil || first.To != nil || first.Subject != nil || strings.Contains(res.text(), "grace") {
			t.Error("the list carries the address, subject or bodies")
		}
		if body.Messages[0].PersonID != nil {
			t.Error("a message without a person has a person_id")
		}

		res = env.admin.get(t, "/api/admin/outbox?status=failed&limit=5")
		if got := outboxTestDecode[struct {
			Messages []outboxTestMessage `json:"messages"`
		}](t, res); res.StatusCode != http.StatusOK || len(got.Messages) != 0 {
			t.Fatalf("failed filter: %d %+v", res.StatusCode, got)
		}
		for _, q := range []string{"status=bogus", "limit=0", "limit=x"} {
			res := env.admin.get(t, "/api/admin/outbox?"+q)
			if res.StatusCode != http.StatusUnprocessableEntity || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
				t.Errorf("?%s: %d %s", q, res.StatusCode, res.Header.Get("Content-Type"))
			}
		}
	})

	t.Run("API message: summary by GET, its staff copy with a reason", func(t *testing.T) {
		res := h.apiClient(t, h.newStaff(t, staff.Admin)).get(t, "/api/admin/outbox/"+invite)
		if m := outboxTestDecode[outboxTestMessage](t, res); res.StatusCode != http.StatusOK || m.Text != nil || m.To != nil || m.Recipient != "g…@example.com" {
			t.Fatalf("GET: %d %s", res.StatusCode, res.Body)
		}
		api := h.apiClient(t, h.newStaff(t, staff.PrivacyOfficer))
		for _, body := range []any{map[string]string{}, map[string]string{"reason": "short"}, nil} {
			res := api.sendJSON(t, "POST", "/api/admin/outbox/"+invite+"/view", body)
			if res.StatusCode == http.StatusOK {
				t.Errorf("view with %v: shown without a valid reason", body)
			}
		}
		res = api.sendJSON(t, "POST", "/api/admin/outbox/"+invite+"/view", map[string]string{"reason": outboxTestReason})
		if res.StatusCode != http.StatusOK {
			t.Fatalf("view: %d %s", res.StatusCode, res.Body)
		}
		m := outboxTestDecode[outboxTestMessage](t, res)
		if m.Text == nil || *m.Text != "Join us" || m.Headers["X-Entity-Ref-ID"] != mail.Withheld || m.To == nil || *m.To != "guest@example.com" || m.Access != nil {
			t.Fatalf("message = %+v", m)
		}
		if res := api.sendJSON(t, "POST", "/api/admin/outbox/mail_missing/view", map[string]string{"reason": outboxTestReason}); res.StatusCode != http.StatusNotFound {
			t.Fatalf("unknown id: %d", res.StatusCode)
		}
		if res := h.apiClient(t, h.newStaff(t, staff.Admin)).get(t, "/api/admin/outbox/mail_missing"); res.StatusCode != http.StatusNotFound {
			t.Fatalf("unknown id: %d", res.StatusCode)
		}
	})

	t.Run("retry", func(t *testing.T) {
		api := h.apiClient(t, h.newStaff(t, staff.Admin))
		res := api.do(t, "POST", "/api/admin/outbox/"+welcome+"/retry", nil, nil)
		if res.StatusCode != http.StatusConflict {
			t.Fatalf("retrying a pending message: %d %s", res.StatusCode, res.Body)
		}
		if _, err := h.DB.Exec(context.Background(),
			"UPDATE mail_outbox SET status = 'failed', attempts = 8, last_error = 'recipient: SMTP 550 5.1.1' WHERE id = ?", welcome); err != nil {
			t.Fatal(err)
		}
		res = api.do(t, "POST", "/api/admin/outbox/"+welcome+"/retry", nil, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("retry: %d %s", res.StatusCode, res.Body)
		}
		if m := outboxTestDecode[outboxTestMessage](t, res); m.Status != "pending" || m.Attempts != 0 || m.LastError != "" || m.Text != nil {
			t.Fatalf("after retry: %+v", m)
		}
		if res := api.do(t, "POST", "/api/admin/outbox/mail_missing/retry", nil, nil); res.StatusCode != http.StatusNotFound {
			t.Fatalf("retrying an unknown id: %d", res.StatusCode)
		}
	})

	t.Run("console pages", func(t *testing.T) {
		res := env.admin.get(t, "/admin/outbox")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("list page: %d", res.StatusCode)
		}
		page := res.text()
		for _, want := range []string{"account.welcome", "session.invite", "g…@example.com", "/admin/outbox/" + welcome, "No mail server is configured"} {
			if !strings.Contains(page, want) {
				t.Errorf("list page lacks %q", want)
			}
		}
		for _, hidden := range []string{"Welcome aboard", "grace@example.com"} {
			if strings.Contains(page, hidden) {
				t.Errorf("list page shows %q", hidden)
			}
		}
		res = env.admin.get(t, "/admin/outbox?status=sent")
		if res.StatusCode != http.StatusOK || strings.Contains(res.text(), "account.welcome") {
			t.Errorf("sent filter shows pending mail (%d)", res.StatusCode)
		}

		res = env.admin.get(t, "/admin/outbox/"+welcome)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("message page: %d", res.StatusCode)
		}
		page = res.text()
		if strings.Contains(page, "Hello Grace") || strings.Contains(page, "grace@example.com") || strings.Contains(page, "Welcome aboard") {
			t.Fatal("the message page shows the message before a reason is given")
		}
		if !strings.Contains(page, "person-7") {
			t.Fatal("the message page lacks the person")
		}

		if strings.Contains(page, `name="reason"`) {
			t.Fatal("the administrator is asked for a reason to read mail")
		}
		if res := env.admin.postForm(t, "/admin/outbox/"+welcome, url.Values{"reason": {outboxTestReason}}); res.StatusCode != http.StatusForbidden || strings.Contains(res.text(), "Hello Grace") {
			t.Fatalf("the administrator read a message: %d", res.StatusCode)
		}

		page = env.po.get(t, "/admin/outbox/"+welcome).text()
		if !strings.Contains(page, `action="/admin/outbox/`+welcome+`"`) || strings.Contains(page, "Hello Grace") || strings.Contains(page, "/retry") {
			t.Fatal("the privacy officer's message page has no reason form, shows the message or offers a retry")
		}
		res = env.po.postForm(t, "/admin/outbox/"+welcome, url.Values{"reason": {"why"}})
		if res.StatusCode != http.StatusUnprocessableEntity || strings.Contains(res.text(), "Hello Grace") || !strings.Contains(res.text(), "field-error") {
			t.Fatalf("a short reason: %d", res.StatusCode)
		}
		res = env.po.postForm(t, "/admin/outbox/"+welcome, url.Values{"reason": {outboxTestReason}})
		if res.StatusCode != http.StatusOK {
			t.Fatalf("message with a reason: %d %s", res.StatusCode, res.Body)
		}
		page = res.text()
		// The stored HTML is neither rendered nor shown: it repeats the
		// text's links in another encoding.
		if strings.Contains(page, "<script>alert") || strings.Contains(page, "tracker.example") || strings.Contains(page, "&lt;script&gt;") {
			t.Fatal("the message page shows the stored HTML")
		}
		if !strings.Contains(page, "Hello Grace") || !strings.Contains(page, "grace@example.com") || !strings.Contains(page, "access log") {
			t.Error("the message page lacks the text body, the address or the access-log notice")
		}
		log, err := store.AccessLogOf(context.Background(), h.DB, "person-7", 10)
		if err != nil || len(log) != 1 || log[0].Reason != outboxTestReason || log[0].View != staff.ViewMailMessage || log[0].Role != staff.PrivacyOfficer {
			t.Fatalf("access log of the recipient = %+v (%v)", log, err)
		}
		if res := env.admin.get(t, "/admin/outbox/mail_missing"); res.StatusCode != http.StatusNotFound {
			t.Errorf("unknown message page: %d", res.StatusCode)
		}
	})

	t.Run("retry button", func(t *testing.T) {
		if _, err := h.DB.Exec(context.Background(), "UPDATE mail_outbox SET status = 'failed' WHERE id = ?", invite); err != nil {
			t.Fatal(err)
		}
		page := env.admin.get(t, "/admin/outbox/"+invite).text()
		if !strings.Contains(page, `action="/admin/outbox/`+invite+`/retry"`) {
			t.Fatal("a failed message has no retry button")
		}
		// A cross-site form post is refused even for an administrator.
		cross := http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}}
		if res := env.admin.do(t, "POST", "/admin/outbox/"+invite+"/retry", nil, cross); res.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-site retry: %d", res.StatusCode)
		}
		res := env.admin.do(t, "POST", "/admin/outbox/"+invite+"/retry", nil, nil)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/outbox/"+invite {
			t.Fatalf("retry form: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		m, err := store.NewOutbox(h.DB).Get(context.Background(), invite)
		if err != nil || m.Status != mail.Pending {
			t.Fatalf("after the form: %+v (%v)", m, err)
		}
	})
}
