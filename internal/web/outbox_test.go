package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/config"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/store"
	"github.com/sessionshq/sessions/internal/web"
)

const outboxTestPassword = "operator-password-for-outbox"

type outboxTestEnv struct {
	srv   *web.Server
	db    *database.DB
	clock *clock.Fake
}

func newOutboxTestEnv(t *testing.T) *outboxTestEnv {
	t.Helper()
	db := dbtest.Open(t)
	vars := map[string]string{"SESSIONS_ADMIN_PASSWORD": outboxTestPassword, "SESSIONS_DATA_DIR": t.TempDir()}
	cfg, _, err := config.Load(nil, func(k string) string { return vars[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC))
	svc, err := mail.New(mail.Config{From: cfg.MailFrom, Outbox: store.NewOutbox(db), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Deps{Config: cfg, DB: db, Clock: clk, Log: slog.New(slog.DiscardHandler), Mail: svc})
	if err != nil {
		t.Fatal(err)
	}
	return &outboxTestEnv{srv: srv, db: db, clock: clk}
}

func (e *outboxTestEnv) enqueue(t *testing.T, m mail.Message) string {
	t.Helper()
	id, err := store.EnqueueMail(context.Background(), e.db, e.clock.Now(), m)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	return id
}

func (e *outboxTestEnv) do(method, path, password string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	if password != "" {
		req.SetBasicAuth("operator", password)
	}
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	return rec
}

type outboxTestMessage struct {
	ID        string            `json:"id"`
	PersonID  *string           `json:"person_id"`
	To        string            `json:"to"`
	Subject   string            `json:"subject"`
	Status    string            `json:"status"`
	Attempts  int               `json:"attempts"`
	LastError string            `json:"last_error"`
	SentAt    *time.Time        `json:"sent_at"`
	CreatedAt time.Time         `json:"created_at"`
	Text      *string           `json:"text"`
	HTML      *string           `json:"html"`
	Headers   map[string]string `json:"headers"`
}

func outboxTestDecode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, rec.Body)
	}
	return v
}

func TestOutboxConsole(t *testing.T) {
	env := newOutboxTestEnv(t)
	welcome := env.enqueue(t, mail.Message{
		PersonID: "person-7", Category: mail.Transactional, Template: "account.welcome",
		To: "grace@example.com", Subject: "Welcome aboard", Text: "Hello Grace",
		HTML: `<p>Hello</p><script>alert("x")</script><img src="https://tracker.example/p.gif">`,
	})
	invite := env.enqueue(t, mail.Message{
		Category: mail.Transactional, Template: "session.invite", To: "guest@example.com",
		Subject: "You are invited", Text: "Join us", Headers: map[string]string{"X-Entity-Ref-ID": "ses_1"},
	})

	t.Run("closed without the operator password", func(t *testing.T) {
		for _, path := range []string{"/admin/outbox", "/admin/outbox/" + welcome, "/api/admin/outbox", "/api/admin/outbox/" + welcome} {
			if rec := env.do("GET", path, "", nil); rec.Code != http.StatusUnauthorized {
				t.Errorf("GET %s without password: %d", path, rec.Code)
			}
			if rec := env.do("GET", path, "wrong-password-xyz", nil); rec.Code != http.StatusUnauthorized {
				t.Errorf("GET %s with a wrong password: %d", path, rec.Code)
			}
		}
		if rec := env.do("POST", "/api/admin/outbox/"+welcome+"/retry", "", nil); rec.Code != http.StatusUnauthorized {
			t.Errorf("POST retry without password: %d", rec.Code)
		}
	})

	t.Run("API list, newest first, with filters", func(t *testing.T) {
		rec := env.do("GET", "/api/admin/outbox", outboxTestPassword, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control = %q", cc)
		}
		body := outboxTestDecode[struct {
			SMTPConfigured bool                `json:"smtp_configured"`
			Messages       []outboxTestMessage `json:"messages"`
		}](t, rec)
		if body.SMTPConfigured {
			t.Error("smtp_configured without a server")
		}
		if len(body.Messages) != 2 || body.Messages[0].ID != invite || body.Messages[1].ID != welcome {
			t.Fatalf("messages = %+v", body.Messages)
		}
		first := body.Messages[1]
		if first.PersonID == nil || *first.PersonID != "person-7" || first.Status != "pending" || first.To != "grace@example.com" {
			t.Errorf("summary = %+v", first)
		}
		if first.Text != nil || first.HTML != nil {
			t.Error("the list carries bodies")
		}
		if body.Messages[0].PersonID != nil {
			t.Error("a message without a person has a person_id")
		}

		rec = env.do("GET", "/api/admin/outbox?status=failed&limit=5", outboxTestPassword, nil)
		if got := outboxTestDecode[struct {
			Messages []outboxTestMessage `json:"messages"`
		}](t, rec); rec.Code != http.StatusOK || len(got.Messages) != 0 {
			t.Fatalf("failed filter: %d %+v", rec.Code, got)
		}
		for _, q := range []string{"status=bogus", "limit=0", "limit=x"} {
			rec := env.do("GET", "/api/admin/outbox?"+q, outboxTestPassword, nil)
			if rec.Code != http.StatusUnprocessableEntity || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/problem+json") {
				t.Errorf("?%s: %d %s", q, rec.Code, rec.Header().Get("Content-Type"))
			}
		}
	})

	t.Run("API message in full", func(t *testing.T) {
		rec := env.do("GET", "/api/admin/outbox/"+invite, outboxTestPassword, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		m := outboxTestDecode[outboxTestMessage](t, rec)
		if m.Text == nil || *m.Text != "Join us" || m.Headers["X-Entity-Ref-ID"] != "ses_1" {
			t.Fatalf("message = %+v", m)
		}
		if rec := env.do("GET", "/api/admin/outbox/mail_missing", outboxTestPassword, nil); rec.Code != http.StatusNotFound {
			t.Fatalf("unknown id: %d", rec.Code)
		}
	})

	t.Run("retry", func(t *testing.T) {
		rec := env.do("POST", "/api/admin/outbox/"+welcome+"/retry", outboxTestPassword, nil)
		if rec.Code != http.StatusConflict {
			t.Fatalf("retrying a pending message: %d %s", rec.Code, rec.Body)
		}
		if _, err := env.db.Exec(context.Background(),
			"UPDATE mail_outbox SET status = 'failed', attempts = 8, last_error = 'recipient: SMTP 550 5.1.1' WHERE id = ?", welcome); err != nil {
			t.Fatal(err)
		}
		rec = env.do("POST", "/api/admin/outbox/"+welcome+"/retry", outboxTestPassword, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("retry: %d %s", rec.Code, rec.Body)
		}
		if m := outboxTestDecode[outboxTestMessage](t, rec); m.Status != "pending" || m.Attempts != 0 || m.LastError != "" {
			t.Fatalf("after retry: %+v", m)
		}
		if rec := env.do("POST", "/api/admin/outbox/mail_missing/retry", outboxTestPassword, nil); rec.Code != http.StatusNotFound {
			t.Fatalf("retrying an unknown id: %d", rec.Code)
		}
	})

	t.Run("console pages", func(t *testing.T) {
		rec := env.do("GET", "/admin/outbox", outboxTestPassword, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("list page: %d", rec.Code)
		}
		page := rec.Body.String()
		for _, want := range []string{"Welcome aboard", "You are invited", "/admin/outbox/" + welcome, "No mail server is configured"} {
			if !strings.Contains(page, want) {
				t.Errorf("list page lacks %q", want)
			}
		}
		rec = env.do("GET", "/admin/outbox?status=sent", outboxTestPassword, nil)
		if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "Welcome aboard") {
			t.Errorf("sent filter shows pending mail (%d)", rec.Code)
		}

		rec = env.do("GET", "/admin/outbox/"+welcome, outboxTestPassword, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("message page: %d", rec.Code)
		}
		page = rec.Body.String()
		// The stored HTML is shown as escaped source, never as markup.
		if strings.Contains(page, "<script>alert") || strings.Contains(page, `<img src="https://tracker.example`) {
			t.Fatal("the message page renders stored HTML")
		}
		if !strings.Contains(page, "&lt;script&gt;") {
			t.Error("the HTML source is not shown")
		}
		if !strings.Contains(page, "Hello Grace") || !strings.Contains(page, "person-7") {
			t.Error("the message page lacks the text body or the person")
		}
		if rec := env.do("GET", "/admin/outbox/mail_missing", outboxTestPassword, nil); rec.Code != http.StatusNotFound {
			t.Errorf("unknown message page: %d", rec.Code)
		}
	})

	t.Run("retry button", func(t *testing.T) {
		if _, err := env.db.Exec(context.Background(), "UPDATE mail_outbox SET status = 'failed' WHERE id = ?", invite); err != nil {
			t.Fatal(err)
		}
		page := env.do("GET", "/admin/outbox/"+invite, outboxTestPassword, nil).Body.String()
		if !strings.Contains(page, `action="/admin/outbox/`+invite+`/retry"`) {
			t.Fatal("a failed message has no retry button")
		}
		// A cross-site form post is refused even with the password.
		cross := http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}}
		if rec := env.do("POST", "/admin/outbox/"+invite+"/retry", outboxTestPassword, cross); rec.Code != http.StatusForbidden {
			t.Fatalf("cross-site retry: %d", rec.Code)
		}
		same := http.Header{"Sec-Fetch-Site": {"same-origin"}}
		rec := env.do("POST", "/admin/outbox/"+invite+"/retry", outboxTestPassword, same)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/admin/outbox/"+invite {
			t.Fatalf("retry form: %d %q", rec.Code, rec.Header().Get("Location"))
		}
		m, err := store.NewOutbox(env.db).Get(context.Background(), invite)
		if err != nil || m.Status != mail.Pending {
			t.Fatalf("after the form: %+v (%v)", m, err)
		}
	})
}
