package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/privacy/retention"
	"github.com/sessionshq/sessions/internal/staff"
)

// Retention on the staff console: what a run would remove now, per rule
// and table, with a few ids (a dry run made for the page and not kept),
// the report of past runs, and the legal holds that keep a person's data
// out of retention and erasure. Runs themselves are started by the
// schedule or the operator's command, never from the web.

// ---- JSON ----

type previewJSON struct {
	At      time.Time          `json:"at"`
	Results []retention.Result `json:"results"`
}

// apiRetentionPreview is GET /api/admin/retention/preview.
func (s *Server) apiRetentionPreview(w http.ResponseWriter, r *http.Request) error {
	run, err := s.Services.Retention.Preview(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, previewJSON{At: run.StartedAt, Results: nonNil(run.Results)})
}

func nonNil(rs []retention.Result) []retention.Result {
	if rs == nil {
		return []retention.Result{}
	}
	return rs
}

// apiRetentionRuns is GET /api/admin/retention/runs: the latest runs.
func (s *Server) apiRetentionRuns(w http.ResponseWriter, r *http.Request) error {
	runs, err := s.Services.Retention.Runs(r.Context(), actorOf(r), 50)
	if err != nil {
		return err
	}
	for i := range runs {
		runs[i].Results = nonNil(runs[i].Results)
	}
	if runs == nil {
		runs = []retention.Run{}
	}
	return writeJSONNoStore(w, http.StatusOK, map[string]any{"runs": runs})
}

// apiRetentionRun is GET /api/admin/retention/runs/{id}.
func (s *Server) apiRetentionRun(w http.ResponseWriter, r *http.Request) error {
	run, err := s.Services.Retention.GetRun(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	run.Results = nonNil(run.Results)
	return writeJSONNoStore(w, http.StatusOK, run)
}

// apiHolds is GET /api/admin/legal-holds.
func (s *Server) apiHolds(w http.ResponseWriter, r *http.Request) error {
	holds, err := s.Services.Retention.Holds(r.Context(), actorOf(r), 500)
	if err != nil {
		return err
	}
	if holds == nil {
		holds = []retention.Hold{}
	}
	return writeJSONNoStore(w, http.StatusOK, map[string]any{"holds": holds})
}

// apiHoldCreate is POST /api/admin/legal-holds: 201 with the hold.
func (s *Server) apiHoldCreate(w http.ResponseWriter, r *http.Request) error {
	var in retention.HoldRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	h, err := s.Services.Retention.PlaceHold(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, h)
}

// apiHoldRelease is POST /api/admin/legal-holds/{id}/release.
func (s *Server) apiHoldRelease(w http.ResponseWriter, r *http.Request) error {
	h, err := s.Services.Retention.ReleaseHold(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, h)
}

// ---- pages ----

// previewRow is one line of the page's table of what would go now.
type previewRow struct {
	retention.Result
	Description string
}

// retentionData is what retention_admin.html shows.
type retentionData struct {
	At       time.Time
	Preview  []previewRow
	Runs     []retention.Run
	Holds    []retention.Hold
	Now      time.Time
	CanHold  bool
	Notice   string
	Errors   map[string]string
	Typed    retention.HoldRequest
	TypedEnd string
}

var retentionNotices = map[string]string{
	"placed":   "The legal hold is in force. Retention and erasure leave this person's data alone until it ends or is released.",
	"released": "The legal hold was released. The person's data is again subject to its retention rules from the next run.",
}

// retentionPage is GET /admin/retention.
func (s *Server) retentionPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderRetention(w, r, http.StatusOK, retentionData{Notice: retentionNotices[r.URL.Query().Get("done")]})
}

func (s *Server) renderRetention(w http.ResponseWriter, r *http.Request, status int, d retentionData) error {
	ctx := r.Context()
	run, err := s.Services.Retention.Preview(ctx, actorOf(r))
	if err != nil {
		return err
	}
	m := s.Services.Env.Map
	d.At, d.Now = run.StartedAt, s.Clock.Now()
	for _, res := range run.Results {
		d.Preview = append(d.Preview, previewRow{Result: res, Description: retention.Describe(*m, res.Rule)})
	}
	if d.Runs, err = s.Services.Retention.Runs(ctx, actorOf(r), 20); err != nil {
		return err
	}
	d.CanHold = actorOf(r).Can(staff.ManageLegalHolds)
	if d.CanHold {
		if d.Holds, err = s.Services.Retention.Holds(ctx, actorOf(r), 200); err != nil {
			return err
		}
	}
	return s.pages.render(w, r, status, "retention_admin", view{Title: "Retention", Section: "admin", Data: d})
}

// retentionRunPage is GET /admin/retention/runs/{id}.
func (s *Server) retentionRunPage(w http.ResponseWriter, r *http.Request) error {
	run, err := s.Services.Retention.GetRun(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.pages.render(w, r, http.StatusOK, "retention_run", view{Title: "Retention run", Section: "admin", Data: run})
}

// holdForm is POST /admin/retention/holds.
func (s *Server) holdForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	in := retention.HoldRequest{PersonID: r.PostForm.Get(retention.FieldPerson), Reason: r.PostForm.Get(retention.FieldReason)}
	end := strings.TrimSpace(r.PostForm.Get(retention.FieldEnds))
	if end != "" {
		t, err := time.Parse("2006-01-02", end)
		if err != nil {
			return s.renderRetention(w, r, http.StatusUnprocessableEntity, retentionData{
				Errors: map[string]string{retention.FieldEnds: "must be a date such as 2027-01-31"}, Typed: in, TypedEnd: end})
		}
		in.EndsAt = &t
	}
	if _, err := s.Services.Retention.PlaceHold(r.Context(), actorOf(r), in); err != nil {
		if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
			return s.renderRetention(w, r, http.StatusUnprocessableEntity, retentionData{Errors: e.Fields, Typed: in, TypedEnd: end})
		}
		return err
	}
	http.Redirect(w, r, "/admin/retention?done=placed#holds", http.StatusSeeOther)
	return nil
}

// holdReleaseForm is POST /admin/retention/holds/{id}/release.
func (s *Server) holdReleaseForm(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.Services.Retention.ReleaseHold(r.Context(), actorOf(r), r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/retention?done=released#holds", http.StatusSeeOther)
	return nil
}
