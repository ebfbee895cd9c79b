package web

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/mail"
)

// The mail outbox on the staff console: every message the product has
// queued, whether or not an SMTP server is configured. routes.go wraps
// each handler in s.operator.

// outboxMailService returns the mail service or an unavailable error, so a
// server built without one (some tests) answers cleanly.
func (s *Server) outboxMailService() (*mail.Service, error) {
	if s.Mail == nil {
		return nil, errs.E(errs.Unavailable, "the mail service is not running")
	}
	return s.Mail, nil
}

// outboxFilter reads ?status= and ?limit= into a filter.
func outboxFilter(q url.Values) (mail.Filter, error) {
	f := mail.Filter{Status: mail.Status(q.Get("status"))}
	if f.Status != "" && !f.Status.Valid() {
		return f, &errs.Error{Code: errs.Invalid, Message: "unknown status",
			Fields: map[string]string{"status": "must be pending, sent, failed or held"}}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > mail.MaxListLimit {
			return f, &errs.Error{Code: errs.Invalid, Message: "limit out of range",
				Fields: map[string]string{"limit": "must be a whole number from 1 to " + strconv.Itoa(mail.MaxListLimit)}}
		}
		f.Limit = n
	}
	return f, nil
}

// outboxSummaryJSON is a message in the API list: no bodies.
type outboxSummaryJSON struct {
	ID            string     `json:"id"`
	CreatedAt     time.Time  `json:"created_at"`
	PersonID      *string    `json:"person_id"`
	Category      string     `json:"category"`
	Template      string     `json:"template"`
	To            string     `json:"to"`
	Subject       string     `json:"subject"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	LastError     string     `json:"last_error"`
	SentAt        *time.Time `json:"sent_at"`
}

// outboxMessageJSON is one message in full.
type outboxMessageJSON struct {
	outboxSummaryJSON
	Text    string            `json:"text"`
	HTML    string            `json:"html"`
	Headers map[string]string `json:"headers"`
}

func outboxSummary(r mail.Record) outboxSummaryJSON {
	j := outboxSummaryJSON{
		ID: r.ID, CreatedAt: r.CreatedAt, Category: string(r.Category), Template: r.Template,
		To: r.To, Subject: r.Subject, Status: string(r.Status), Attempts: r.Attempts,
		NextAttemptAt: r.NextAttemptAt, LastError: r.LastError, SentAt: r.SentAt,
	}
	if r.PersonID != "" {
		p := r.PersonID
		j.PersonID = &p
	}
	return j
}

func outboxMessage(r mail.Record) outboxMessageJSON {
	h := r.Headers
	if h == nil {
		h = map[string]string{}
	}
	return outboxMessageJSON{outboxSummaryJSON: outboxSummary(r), Text: r.Text, HTML: r.HTML, Headers: h}
}

// apiOutboxList answers GET /api/admin/outbox.
func (s *Server) apiOutboxList(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.outboxMailService()
	if err != nil {
		return err
	}
	f, err := outboxFilter(r.URL.Query())
	if err != nil {
		return err
	}
	recs, err := svc.List(r.Context(), f)
	if err != nil {
		return err
	}
	out := struct {
		SMTPConfigured bool                `json:"smtp_configured"`
		Messages       []outboxSummaryJSON `json:"messages"`
	}{SMTPConfigured: svc.Enabled(), Messages: make([]outboxSummaryJSON, 0, len(recs))}
	for _, rec := range recs {
		out.Messages = append(out.Messages, outboxSummary(rec))
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, out)
}

// apiOutboxGet answers GET /api/admin/outbox/{id}.
func (s *Server) apiOutboxGet(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.outboxMailService()
	if err != nil {
		return err
	}
	rec, err := svc.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, outboxMessage(rec))
}

// apiOutboxRetry answers POST /api/admin/outbox/{id}/retry: a failed
// message goes back in the queue with a fresh count of attempts.
func (s *Server) apiOutboxRetry(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.outboxMailService()
	if err != nil {
		return err
	}
	rec, err := svc.Retry(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, outboxMessage(rec))
}

// outboxRow is one line of the console's table, formatted for display.
type outboxRow struct {
	ID, Created, To, Subject, Template, Category, Status, Badge string
	Attempts                                                    int
}

type outboxListView struct {
	SMTP      bool
	Status    string // the current filter, "" for all
	Filters   []outboxFilterLink
	Rows      []outboxRow
	Limit     int
	Truncated bool
}

type outboxFilterLink struct {
	Label, Href string
	Current     bool
}

// outboxBadge picks the badge colour of a status.
func outboxBadge(s mail.Status) string {
	switch s {
	case mail.Sent:
		return "badge-success"
	case mail.Failed:
		return "badge-danger"
	case mail.Held:
		return "badge-warning"
	}
	return "badge-info"
}

func outboxTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// outboxPage answers GET /admin/outbox.
func (s *Server) outboxPage(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.outboxMailService()
	if err != nil {
		return err
	}
	f, err := outboxFilter(r.URL.Query())
	if err != nil {
		return err
	}
	if f.Limit == 0 {
		f.Limit = 200
	}
	// One more than shown tells whether the list goes on.
	want := f.Limit
	f.Limit = min(want+1, mail.MaxListLimit)
	recs, err := svc.List(r.Context(), f)
	if err != nil {
		return err
	}
	v := outboxListView{SMTP: svc.Enabled(), Status: string(f.Status), Limit: want}
	if len(recs) > want {
		recs, v.Truncated = recs[:want], true
	}
	v.Filters = append(v.Filters, outboxFilterLink{Label: "All", Href: "/admin/outbox", Current: f.Status == ""})
	for _, st := range mail.Statuses {
		v.Filters = append(v.Filters, outboxFilterLink{
			Label: strings.ToUpper(string(st[:1])) + string(st[1:]), Href: "/admin/outbox?status=" + string(st), Current: f.Status == st,
		})
	}
	for _, rec := range recs {
		v.Rows = append(v.Rows, outboxRow{
			ID: rec.ID, Created: outboxTime(rec.CreatedAt), To: rec.To, Subject: rec.Subject, Template: rec.Template,
			Category: string(rec.Category), Status: string(rec.Status), Badge: outboxBadge(rec.Status), Attempts: rec.Attempts,
		})
	}
	return s.pages.render(w, r, http.StatusOK, "admin_outbox", view{Title: "Mail outbox", Section: "admin", Data: v})
}

type outboxHeader struct{ Name, Value string }

type outboxMessageView struct {
	Record      mail.Record
	Created     string
	NextAttempt string
	Sent        string
	Badge       string
	Headers     []outboxHeader
	CanRetry    bool
	SMTP        bool
}

// outboxMessagePage answers GET /admin/outbox/{id}. Bodies are shown as
// text: the stored HTML is escaped like any other string and never
// rendered, so a message cannot run script or load anything in the
// console.
func (s *Server) outboxMessagePage(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.outboxMailService()
	if err != nil {
		return err
	}
	rec, err := svc.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	v := outboxMessageView{
		Record: rec, Created: outboxTime(rec.CreatedAt), NextAttempt: outboxTime(rec.NextAttemptAt),
		Badge: outboxBadge(rec.Status), CanRetry: rec.Status == mail.Failed, SMTP: svc.Enabled(),
	}
	if rec.SentAt != nil {
		v.Sent = outboxTime(*rec.SentAt)
	}
	for name, value := range rec.Headers {
		v.Headers = append(v.Headers, outboxHeader{name, value})
	}
	sort.Slice(v.Headers, func(i, j int) bool { return v.Headers[i].Name < v.Headers[j].Name })
	return s.pages.render(w, r, http.StatusOK, "admin_outbox_message", view{Title: "Outbox message", Section: "admin", Data: v})
}

// outboxRetryForm answers the console's retry button, POST
// /admin/outbox/{id}/retry, and goes back to the message.
func (s *Server) outboxRetryForm(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.outboxMailService()
	if err != nil {
		return err
	}
	rec, err := svc.Retry(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/outbox/"+url.PathEscape(rec.ID), http.StatusSeeOther)
	return nil
}
