package web

import (
	"net/http"
	netmail "net/mail"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/staff"
)

// The mail outbox on the staff console: every message the product has
// queued, whether or not an SMTP server is configured. Lists and summaries
// show the recipient's address masked and no subject or body; a privacy
// officer reads a message only after giving a reason, which the access
// log of the person it was sent to records, and then sees its staff copy,
// with links' tokens, codes and meeting content withheld. routes.go
// guards each handler with s.can.

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

// outboxSummaryJSON is a message without its content: the recipient's
// address masked, no subject, no bodies.
type outboxSummaryJSON struct {
	ID            string     `json:"id"`
	CreatedAt     time.Time  `json:"created_at"`
	PersonID      *string    `json:"person_id"`
	Category      string     `json:"category"`
	Template      string     `json:"template"`
	Recipient     string     `json:"recipient"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	LastError     string     `json:"last_error"`
	SentAt        *time.Time `json:"sent_at"`
}

// outboxMessageJSON is one message as staff may read it, with the
// access-log entry that reading it wrote (none for a message that names
// no person). Subject and text are the staff copy; html is always empty
// and header values are withheld.
type outboxMessageJSON struct {
	outboxSummaryJSON
	To      string            `json:"to"`
	Subject string            `json:"subject"`
	Text    string            `json:"text"`
	HTML    string            `json:"html"`
	Headers map[string]string `json:"headers"`
	Access  *accessJSON       `json:"access"`
}

// maskAddress keeps enough of an address to tell messages apart and to
// see which mail provider refused one: the first character of the local
// part and the domain.
func maskAddress(to string) string {
	addr := to
	if a, err := netmail.ParseAddress(to); err == nil {
		addr = a.Address
	}
	at := strings.LastIndexByte(addr, '@')
	if at < 1 {
		return "(hidden)"
	}
	first, _ := utf8.DecodeRuneInString(addr)
	return string(first) + "…" + addr[at:]
}

func outboxSummary(r mail.Record) outboxSummaryJSON {
	j := outboxSummaryJSON{
		ID: r.ID, CreatedAt: r.CreatedAt, Category: string(r.Category), Template: r.Template,
		Recipient: maskAddress(r.To), Status: string(r.Status), Attempts: r.Attempts,
		NextAttemptAt: r.NextAttemptAt, LastError: r.LastError, SentAt: r.SentAt,
	}
	if r.PersonID != "" {
		p := r.PersonID
		j.PersonID = &p
	}
	return j
}

func outboxMessage(r mail.Record, a staff.Access) outboxMessageJSON {
	h := r.Headers
	if h == nil {
		h = map[string]string{}
	}
	j := outboxMessageJSON{outboxSummaryJSON: outboxSummary(r), To: r.To, Subject: r.Subject, Text: r.Text, HTML: r.HTML, Headers: h}
	if a.PersonID != "" {
		acc := newAccessJSON(a)
		j.Access = &acc
	}
	return j
}

// apiOutboxList answers GET /api/admin/outbox.
func (s *Server) apiOutboxList(w http.ResponseWriter, r *http.Request) error {
	f, err := outboxFilter(r.URL.Query())
	if err != nil {
		return err
	}
	list, err := s.Services.Console.Outbox(r.Context(), actorOf(r), f)
	if err != nil {
		return err
	}
	out := struct {
		SMTPConfigured bool                `json:"smtp_configured"`
		Messages       []outboxSummaryJSON `json:"messages"`
	}{SMTPConfigured: list.SMTP, Messages: make([]outboxSummaryJSON, 0, len(list.Messages))}
	for _, rec := range list.Messages {
		out.Messages = append(out.Messages, outboxSummary(rec))
	}
	return writeJSONNoStore(w, http.StatusOK, out)
}

// apiOutboxGet answers GET /api/admin/outbox/{id}: the message's
// delivery state without its content.
func (s *Server) apiOutboxGet(w http.ResponseWriter, r *http.Request) error {
	rec, _, err := s.Services.Console.OutboxMessage(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, outboxSummary(rec))
}

// apiOutboxView answers POST /api/admin/outbox/{id}/view with
// {"reason"}: the message in full, recorded in the access log.
func (s *Server) apiOutboxView(w http.ResponseWriter, r *http.Request) error {
	var body reasonJSON
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	rec, a, err := s.Services.Console.ReadOutboxMessage(r.Context(), actorOf(r), r.PathValue("id"), body.Reason)
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, outboxMessage(rec, a))
}

// apiOutboxRetry answers POST /api/admin/outbox/{id}/retry: a failed
// message goes back in the queue with a fresh count of attempts.
func (s *Server) apiOutboxRetry(w http.ResponseWriter, r *http.Request) error {
	rec, err := s.Services.Console.RetryOutbox(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, outboxSummary(rec))
}

// outboxRow is one line of the console's table, formatted for display.
type outboxRow struct {
	ID, Created, Recipient, Template, Category, Status, Badge string
	Attempts                                                  int
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
	list, err := s.Services.Console.Outbox(r.Context(), actorOf(r), f)
	if err != nil {
		return err
	}
	recs := list.Messages
	v := outboxListView{SMTP: list.SMTP, Status: string(f.Status), Limit: want}
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
			ID: rec.ID, Created: outboxTime(rec.CreatedAt), Recipient: maskAddress(rec.To), Template: rec.Template,
			Category: string(rec.Category), Status: string(rec.Status), Badge: outboxBadge(rec.Status), Attempts: rec.Attempts,
		})
	}
	return s.pages.render(w, r, http.StatusOK, "admin_outbox", view{Title: "Mail outbox", Section: "admin", Data: v})
}

type outboxHeader struct{ Name, Value string }

type outboxMessageView struct {
	Record      mail.Record
	Recipient   string // masked
	Created     string
	NextAttempt string
	Sent        string
	Badge       string
	Headers     []outboxHeader
	CanRetry    bool
	// CanRead says whether the viewer may read the message (the privacy
	// officer); the reason form is shown only then.
	CanRead bool
	SMTP    bool
	// Full is set once a reason was given: the page then shows the
	// address, subject, headers and bodies. Otherwise it shows the
	// delivery state and asks for the reason.
	Full   bool
	Access staff.Access
	Reason reasonView
}

func newOutboxMessageView(r *http.Request, rec mail.Record, smtp bool) outboxMessageView {
	roles := staffRoles(r)
	v := outboxMessageView{
		Record: rec, Recipient: maskAddress(rec.To), Created: outboxTime(rec.CreatedAt), NextAttempt: outboxTime(rec.NextAttemptAt),
		Badge: outboxBadge(rec.Status), CanRetry: rec.Status == mail.Failed && staff.Can(roles, staff.OperateOutbox),
		CanRead: staff.Can(roles, staff.ReadMail), SMTP: smtp,
		Reason: reasonView{Action: "/admin/outbox/" + url.PathEscape(rec.ID), Subject: rec.ID,
			Shows: "the recipient's address, the subject and the plain text, with every link's token, every code and the meeting's content withheld"},
	}
	if rec.SentAt != nil {
		v.Sent = outboxTime(*rec.SentAt)
	}
	return v
}

// outboxMessagePage answers GET /admin/outbox/{id}: the delivery state,
// the retry button of a failed message, and the form that asks why
// before the message is shown.
func (s *Server) outboxMessagePage(w http.ResponseWriter, r *http.Request) error {
	rec, smtp, err := s.Services.Console.OutboxMessage(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.pages.render(w, r, http.StatusOK, "admin_outbox_message", view{Title: "Outbox message", Section: "admin", Data: newOutboxMessageView(r, rec, smtp)})
}

// outboxMessagePost answers POST /admin/outbox/{id} with a reason: the
// message as staff may read it. The text is shown as text, escaped like
// any other string, so a message cannot run script or load anything in
// the console.
func (s *Server) outboxMessagePost(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	ctx, actor, id := r.Context(), actorOf(r), r.PathValue("id")
	rec, a, err := s.Services.Console.ReadOutboxMessage(ctx, actor, id, r.PostForm.Get("reason"))
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
		rec, smtp, err := s.Services.Console.OutboxMessage(ctx, actor, id)
		if err != nil {
			return err
		}
		v := newOutboxMessageView(r, rec, smtp)
		v.Reason.Reason, v.Reason.Error = r.PostForm.Get("reason"), e.Fields["reason"]
		return s.pages.render(w, r, http.StatusUnprocessableEntity, "admin_outbox_message", view{Title: "Outbox message", Section: "admin", Data: v})
	}
	if err != nil {
		return err
	}
	v := newOutboxMessageView(r, rec, s.Services.Console.SMTP())
	v.Full, v.Access = true, a
	for name, value := range rec.Headers {
		v.Headers = append(v.Headers, outboxHeader{name, value})
	}
	sort.Slice(v.Headers, func(i, j int) bool { return v.Headers[i].Name < v.Headers[j].Name })
	return s.pages.render(w, r, http.StatusOK, "admin_outbox_message", view{Title: "Outbox message", Section: "admin", Data: v})
}

// outboxRetryForm answers the console's retry button, POST
// /admin/outbox/{id}/retry, and goes back to the message.
func (s *Server) outboxRetryForm(w http.ResponseWriter, r *http.Request) error {
	rec, err := s.Services.Console.RetryOutbox(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/outbox/"+url.PathEscape(rec.ID), http.StatusSeeOther)
	return nil
}
