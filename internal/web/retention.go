package web

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/retention"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

// Retention on the staff console: what a run would remove now, per rule
// and table, with a few ids (a dry run made for the page and not kept),
// the report of past runs, and the legal holds that keep a person's data
// out of retention and erasure. Runs themselves are started by the
// schedule or the operator's command, never from the web.

// preview runs the engine dry at now without recording the run.
func (s *Server) retentionPreview(ctx context.Context) (retention.Run, error) {
	periods, err := retention.Configured(datamap.Default(), s.Config.Retention, s.Config.ReactivationGrace)
	if err != nil {
		return retention.Run{}, err
	}
	return store.RunRetention(ctx, s.DB, store.RetentionOptions{
		Plan: retention.Build(datamap.Default()), Periods: periods, Now: s.Clock.Now(), DryRun: true,
		Trigger: retention.ByCommand, Warning: s.Config.InactivityWarning, Secret: s.Secret, BaseURL: s.Config.BaseURL,
	})
}

// ---- JSON ----

type previewJSON struct {
	At      time.Time          `json:"at"`
	Results []retention.Result `json:"results"`
}

// apiRetentionPreview is GET /api/admin/retention/preview.
func (s *Server) apiRetentionPreview(w http.ResponseWriter, r *http.Request) error {
	run, err := s.retentionPreview(r.Context())
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
	runs, err := store.ListRetentionRuns(r.Context(), s.DB, 50)
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
	run, err := store.GetRetentionRun(r.Context(), s.DB, r.PathValue("id"))
	if err != nil {
		return err
	}
	run.Results = nonNil(run.Results)
	return writeJSONNoStore(w, http.StatusOK, run)
}

// apiHolds is GET /api/admin/legal-holds.
func (s *Server) apiHolds(w http.ResponseWriter, r *http.Request) error {
	holds, err := store.ListHolds(r.Context(), s.DB, 500)
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
	h, err := s.placeHold(r.Context(), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, h)
}

// apiHoldRelease is POST /api/admin/legal-holds/{id}/release.
func (s *Server) apiHoldRelease(w http.ResponseWriter, r *http.Request) error {
	h, err := store.ReleaseHold(r.Context(), s.DB, s.Secret, staffActor(r.Context()), r.PathValue("id"), s.Clock.Now())
	if err != nil {
		return err
	}
	s.Log.LogAttrs(r.Context(), slog.LevelInfo, "legal hold released", slog.String("hold", h.ID))
	return writeJSON(w, http.StatusOK, h)
}

func (s *Server) placeHold(ctx context.Context, in retention.HoldRequest) (retention.Hold, error) {
	now := s.Clock.Now()
	if err := in.Clean(now); err != nil {
		return retention.Hold{}, err
	}
	h, err := store.CreateHold(ctx, s.DB, s.Secret, staffActor(ctx), in, now)
	if err != nil {
		return h, err
	}
	s.Log.LogAttrs(ctx, slog.LevelInfo, "legal hold placed", slog.String("hold", h.ID))
	return h, nil
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
	run, err := s.retentionPreview(ctx)
	if err != nil {
		return err
	}
	m := datamap.Default()
	d.At, d.Now = run.StartedAt, s.Clock.Now()
	for _, res := range run.Results {
		d.Preview = append(d.Preview, previewRow{Result: res, Description: retention.Describe(m, res.Rule)})
	}
	if d.Runs, err = store.ListRetentionRuns(ctx, s.DB, 20); err != nil {
		return err
	}
	for _, role := range staffRoles(r) {
		if staff.Grants(role, staff.ManageLegalHolds) {
			d.CanHold = true
		}
	}
	if d.CanHold {
		if d.Holds, err = store.ListHolds(ctx, s.DB, 200); err != nil {
			return err
		}
	}
	return s.pages.render(w, r, status, "retention_admin", view{Title: "Retention", Section: "admin", Data: d})
}

// retentionRunPage is GET /admin/retention/runs/{id}.
func (s *Server) retentionRunPage(w http.ResponseWriter, r *http.Request) error {
	run, err := store.GetRetentionRun(r.Context(), s.DB, r.PathValue("id"))
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
	if _, err := s.placeHold(r.Context(), in); err != nil {
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
	h, err := store.ReleaseHold(r.Context(), s.DB, s.Secret, staffActor(r.Context()), r.PathValue("id"), s.Clock.Now())
	if err != nil {
		return err
	}
	s.Log.LogAttrs(r.Context(), slog.LevelInfo, "legal hold released", slog.String("hold", h.ID))
	http.Redirect(w, r, "/admin/retention?done=released#holds", http.StatusSeeOther)
	return nil
}
