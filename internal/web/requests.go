package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/rights"
	"github.com/sessionshq/sessions/internal/service/dsr"
)

// Data-subject requests: a signed-in member files one from the privacy
// centre with no further proof of who they are; anyone else uses the
// public form and types the code e-mailed to them; staff record the ones
// that came by e-mail or post, and work the queue. The use cases, and
// what a request sets going (exports, erasure, restriction, statements),
// are the rights service's (internal/service/dsr).

// requestJSON is a request as the API shows it.
type requestJSON struct {
	rights.Request
	AccountID string   `json:"account_id,omitempty"`
	Overdue   bool     `json:"overdue"`
	DueSoon   bool     `json:"due_soon"`
	Actions   []string `json:"actions,omitempty"`
}

// requestView shapes a request; staff see the account id and the steps
// they may take.
func (s *Server) requestView(r rights.Request, forStaff bool) requestJSON {
	now := s.Clock.Now()
	out := requestJSON{Request: r, Overdue: r.Overdue(now), DueSoon: r.DueSoon(now)}
	if out.Rights == nil {
		out.Rights = []rights.Right{}
	}
	if forStaff {
		out.AccountID = r.AccountID
		for _, a := range rights.StaffActions {
			if r.Allowed(a, now) {
				out.Actions = append(out.Actions, string(a))
			}
		}
	}
	return out
}

// intakeForm reads a request form.
func intakeForm(r *http.Request, channel rights.Channel) rights.Intake {
	in := rights.Intake{
		Details: r.PostForm.Get(rights.FieldDetails), Field: r.PostForm.Get(rights.FieldField),
		Statement: r.PostForm.Get(rights.FieldStatement), Email: r.PostForm.Get(rights.FieldEmail), Channel: channel,
	}
	for _, x := range r.PostForm[rights.FieldRights] {
		in.Rights = append(in.Rights, rights.Right(x))
	}
	return in
}

// ---- the member's pages and API ----

// requestFormData is what requests_form.html shows: the member's requests
// and the form, or the public form.
type requestFormData struct {
	Public   bool
	Requests []requestJSON
	Rights   []rights.Right
	Fields   []rights.Field
	Typed    rights.Intake
	Checked  map[rights.Right]bool
	Errors   map[string]string
	Done     string
}

func (s *Server) renderRequestForm(w http.ResponseWriter, r *http.Request, status int, d requestFormData) error {
	d.Rights, d.Fields = rights.AllRights, s.Services.Rights.RectifiableFields()
	d.Checked = map[rights.Right]bool{}
	for _, x := range d.Typed.Rights {
		d.Checked[x] = true
	}
	title, section := "Your requests", "account"
	if d.Public {
		title, section = "Ask about your data", "privacy"
	} else {
		list, err := s.Services.Rights.MyRequests(r.Context(), mustPrincipal(r).AccountID)
		if err != nil {
			return err
		}
		for _, x := range list {
			d.Requests = append(d.Requests, s.requestView(x, false))
		}
	}
	return s.pages.render(w, r, status, "requests_form", view{Title: title, Section: section, Data: d})
}

// requestsPage is GET /account/requests.
func (s *Server) requestsPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderRequestForm(w, r, http.StatusOK, requestFormData{Done: r.URL.Query().Get("done")})
}

// requestsForm is POST /account/requests.
func (s *Server) requestsForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	in := intakeForm(r, rights.ChannelAccount)
	req, err := s.Services.Rights.FileMemberRequest(r.Context(), mustPrincipal(r).AccountID, in)
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid && len(e.Fields) > 0 {
		return s.renderRequestForm(w, r, http.StatusUnprocessableEntity, requestFormData{Typed: in, Errors: e.Fields})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/account/requests/"+url.PathEscape(req.ID)+"?done=filed", http.StatusSeeOther)
	return nil
}

// requestShowData is what requests_show.html shows a member.
type requestShowData struct {
	Request requestJSON
	Done    string
}

// requestPage is GET /account/requests/{id}; another person's id is not
// found.
func (s *Server) requestPage(w http.ResponseWriter, r *http.Request) error {
	req, err := s.Services.Rights.MyRequest(r.Context(), mustPrincipal(r).AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	d := requestShowData{Request: s.requestView(req, false), Done: r.URL.Query().Get("done")}
	return s.pages.render(w, r, http.StatusOK, "requests_show", view{Title: "Your request", Section: "account", Data: d})
}

// apiMyRequests is GET /api/me/requests.
func (s *Server) apiMyRequests(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Services.Rights.MyRequests(r.Context(), mustPrincipal(r).AccountID)
	if err != nil {
		return err
	}
	out := []requestJSON{}
	for _, x := range list {
		out = append(out, s.requestView(x, false))
	}
	return writeJSONNoStore(w, http.StatusOK, map[string]any{"requests": out})
}

// apiMyRequestPost is POST /api/me/requests.
func (s *Server) apiMyRequestPost(w http.ResponseWriter, r *http.Request) error {
	var in rights.Intake
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	in.ReceivedAt = time.Time{}
	req, err := s.Services.Rights.FileMemberRequest(r.Context(), mustPrincipal(r).AccountID, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/me/requests/"+url.PathEscape(req.ID))
	return writeJSONNoStore(w, http.StatusCreated, s.requestView(req, false))
}

// apiMyRequest is GET /api/me/requests/{id}.
func (s *Server) apiMyRequest(w http.ResponseWriter, r *http.Request) error {
	req, err := s.Services.Rights.MyRequest(r.Context(), mustPrincipal(r).AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, s.requestView(req, false))
}

// ---- the public form ----

// publicRequestPage is GET /privacy/request.
func (s *Server) publicRequestPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderRequestForm(w, r, http.StatusOK, requestFormData{Public: true})
}

// publicRequestForm is POST /privacy/request: the request waits, in state
// verifying, for the code e-mailed to the address. The answer is the
// same whatever the address.
func (s *Server) publicRequestForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	in := intakeForm(r, rights.ChannelWebForm)
	id, err := s.Services.Rights.OpenVerification(r.Context(), in)
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
		return s.renderRequestForm(w, r, http.StatusUnprocessableEntity, requestFormData{Public: true, Typed: in, Errors: e.Fields})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/privacy/request/"+url.PathEscape(id)+"/verify", http.StatusSeeOther)
	return nil
}

// verifyData is what requests_verify.html shows.
type verifyData struct {
	ID      string
	Errors  map[string]string
	Request *requestJSON
}

// publicVerifyPage is GET /privacy/request/{id}/verify.
func (s *Server) publicVerifyPage(w http.ResponseWriter, r *http.Request) error {
	return s.pages.render(w, r, http.StatusOK, "requests_verify", view{Title: "Confirm your request", Section: "privacy",
		Data: verifyData{ID: r.PathValue("id")}})
}

// publicVerifyForm is POST /privacy/request/{id}/verify.
func (s *Server) publicVerifyForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	req, err := s.Services.Rights.VerifyRequest(r.Context(), id, r.PostForm.Get("code"))
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
		return s.pages.render(w, r, http.StatusUnprocessableEntity, "requests_verify", view{Title: "Confirm your request", Section: "privacy",
			Data: verifyData{ID: id, Errors: e.Fields}})
	}
	if err != nil {
		return err
	}
	v := s.requestView(req, false)
	return s.pages.render(w, r, http.StatusOK, "requests_verify", view{Title: "Request received", Section: "privacy",
		Data: verifyData{ID: id, Request: &v}})
}

// ---- the staff queue ----

// queueData is what requests_queue.html shows.
type queueData struct {
	Filter   rights.RequestState
	States   []rights.RequestState
	Counts   map[rights.RequestState]int
	Requests []requestJSON
	Rights   []rights.Right
	Typed    rights.Intake
	Checked  map[rights.Right]bool
	Errors   map[string]string
}

// queue reads the queue, open requests unless ?state= names one.
func (s *Server) queue(r *http.Request) (rights.RequestState, []requestJSON, map[rights.RequestState]int, error) {
	state := rights.RequestState(r.URL.Query().Get("state"))
	q, err := s.Services.Rights.RequestQueue(r.Context(), actorOf(r), state)
	if err != nil {
		return "", nil, nil, err
	}
	out := []requestJSON{}
	for _, x := range q.Requests {
		out = append(out, s.requestView(x, true))
	}
	return state, out, q.Counts, nil
}

func (s *Server) renderQueue(w http.ResponseWriter, r *http.Request, status int, d queueData) error {
	var err error
	if d.Filter, d.Requests, d.Counts, err = s.queue(r); err != nil {
		return err
	}
	d.States, d.Rights = rights.AllStates, rights.AllRights
	d.Checked = map[rights.Right]bool{}
	for _, x := range d.Typed.Rights {
		d.Checked[x] = true
	}
	return s.pages.render(w, r, status, "requests_queue", view{Title: "Rights requests", Section: "admin", Data: d})
}

// requestsQueuePage is GET /admin/requests.
func (s *Server) requestsQueuePage(w http.ResponseWriter, r *http.Request) error {
	return s.renderQueue(w, r, http.StatusOK, queueData{})
}

// requestsRecordForm is POST /admin/requests.
func (s *Server) requestsRecordForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	in := intakeForm(r, rights.Channel(r.PostForm.Get(rights.FieldChannel)))
	if v := r.PostForm.Get(rights.FieldReceivedAt); v != "" {
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return s.renderQueue(w, r, http.StatusUnprocessableEntity, queueData{Typed: in, Errors: map[string]string{rights.FieldReceivedAt: "enter a date such as 2026-03-01"}})
		}
		in.ReceivedAt = t
	}
	req, err := s.Services.Rights.RecordRequest(r.Context(), actorOf(r), in)
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid && len(e.Fields) > 0 {
		return s.renderQueue(w, r, http.StatusUnprocessableEntity, queueData{Typed: in, Errors: e.Fields})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/requests/"+url.PathEscape(req.ID)+"?done=recorded", http.StatusSeeOther)
	return nil
}

// staffRequestData is what requests_staff.html shows.
type staffRequestData struct {
	Request  requestJSON
	History  []audit.Record
	Previous []requestJSON
	// Restricted is whether the person's restriction is in force, for
	// the "lift" action.
	Restricted bool
	Done       string
	Errors     map[string]string
	Failed     string
	Typed      rights.RequestStep
	// view records that staff opened the request (the page's first
	// showing, not one after a refused step).
	view bool
}

// staffRequestView shapes what the rights service read for staff.
func (s *Server) staffRequestView(sr dsr.StaffRequest) staffRequestData {
	d := staffRequestData{Request: s.requestView(sr.Request, true), History: sr.History, Restricted: sr.Restricted}
	for _, x := range sr.Previous {
		d.Previous = append(d.Previous, s.requestView(x, true))
	}
	return d
}

func (s *Server) renderStaffRequest(w http.ResponseWriter, r *http.Request, status int, d staffRequestData) error {
	read := s.Services.Rights.StaffRequest
	if d.view {
		read = s.Services.Rights.ViewRequest
	}
	sr, err := read(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	loaded := s.staffRequestView(sr)
	loaded.Done, loaded.Errors, loaded.Failed, loaded.Typed = d.Done, d.Errors, d.Failed, d.Typed
	return s.pages.render(w, r, status, "requests_staff", view{Title: "Request " + loaded.Request.ID, Section: "admin", Data: loaded})
}

// staffRequestPage is GET /admin/requests/{id}.
func (s *Server) staffRequestPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderStaffRequest(w, r, http.StatusOK, staffRequestData{Done: r.URL.Query().Get("done"), view: true})
}

// staffRequestStepForm is POST /admin/requests/{id}/{action}: start,
// extend, complete, refuse, or lift-restriction.
func (s *Server) staffRequestStepForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	id, action := r.PathValue("id"), r.PathValue("action")
	if action == "lift-restriction" {
		if _, err := s.Services.Rights.NoticeRestrictionLift(r.Context(), actorOf(r), id); err != nil {
			return err
		}
		http.Redirect(w, r, "/admin/requests/"+url.PathEscape(id)+"?done=lift", http.StatusSeeOther)
		return nil
	}
	step := rights.RequestStep{Action: rights.RequestAction(action), Reason: r.PostForm.Get("reason")}
	if m := r.PostForm.Get("months"); m != "" {
		step.Months, _ = strconv.Atoi(m)
	}
	if !slices.Contains(rights.StaffActions, step.Action) {
		return errs.E(errs.NotFound, "there is no such action")
	}
	_, err := s.Services.Rights.AdvanceRequest(r.Context(), actorOf(r), id, step)
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid && len(e.Fields) > 0 {
		return s.renderStaffRequest(w, r, http.StatusUnprocessableEntity, staffRequestData{Errors: e.Fields, Failed: action, Typed: step})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/requests/"+url.PathEscape(id)+"?done="+url.QueryEscape(action), http.StatusSeeOther)
	return nil
}

// ---- the staff API ----

// apiRequestQueue is GET /api/admin/requests.
func (s *Server) apiRequestQueue(w http.ResponseWriter, r *http.Request) error {
	_, list, counts, err := s.queue(r)
	if err != nil {
		return err
	}
	c := map[string]int{}
	for k, v := range counts {
		c[string(k)] = v
	}
	return writeJSONNoStore(w, http.StatusOK, map[string]any{"requests": list, "counts": c})
}

// apiRequestRecord is POST /api/admin/requests.
func (s *Server) apiRequestRecord(w http.ResponseWriter, r *http.Request) error {
	var in rights.Intake
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	req, err := s.Services.Rights.RecordRequest(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/admin/requests/"+url.PathEscape(req.ID))
	return writeJSONNoStore(w, http.StatusCreated, s.requestView(req, true))
}

// staffRequestJSON is GET /api/admin/requests/{id}.
type staffRequestJSON struct {
	requestJSON
	History    []historyJSON `json:"history"`
	Previous   []requestJSON `json:"previous"`
	Restricted bool          `json:"restricted"`
}

type historyJSON struct {
	At     time.Time `json:"at"`
	Action string    `json:"action"`
	Actor  string    `json:"actor_kind"`
	Detail string    `json:"detail"`
}

// apiRequestGet is GET /api/admin/requests/{id}.
func (s *Server) apiRequestGet(w http.ResponseWriter, r *http.Request) error {
	sr, err := s.Services.Rights.ViewRequest(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	d := s.staffRequestView(sr)
	out := staffRequestJSON{requestJSON: d.Request, History: []historyJSON{}, Previous: []requestJSON{}, Restricted: d.Restricted}
	for _, h := range d.History {
		out.History = append(out.History, historyJSON{At: h.At, Action: h.Action, Actor: h.ActorKind, Detail: h.Detail})
	}
	out.Previous = append(out.Previous, d.Previous...)
	return writeJSONNoStore(w, http.StatusOK, out)
}

// apiRequestStep is POST /api/admin/requests/{id}/steps.
func (s *Server) apiRequestStep(w http.ResponseWriter, r *http.Request) error {
	var step rights.RequestStep
	if err := decodeJSON(r, &step); err != nil {
		return err
	}
	if step.Action == "lift-restriction" {
		req, err := s.Services.Rights.NoticeRestrictionLift(r.Context(), actorOf(r), r.PathValue("id"))
		if err != nil {
			return err
		}
		return writeJSONNoStore(w, http.StatusAccepted, s.requestView(req, true))
	}
	if !slices.Contains(rights.StaffActions, step.Action) {
		return &errs.Error{Code: errs.Invalid, Message: "unknown action", Fields: map[string]string{"action": "must be start, extend, complete, refuse or lift-restriction"}}
	}
	req, err := s.Services.Rights.AdvanceRequest(r.Context(), actorOf(r), r.PathValue("id"), step)
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, s.requestView(req, true))
}
