package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/logging"
)

var statusOf = map[errs.Code]int{
	errs.Invalid:      http.StatusUnprocessableEntity,
	errs.Malformed:    http.StatusBadRequest,
	errs.Unauthorized: http.StatusUnauthorized,
	errs.Forbidden:    http.StatusForbidden,
	errs.NotFound:     http.StatusNotFound,
	errs.BadMethod:    http.StatusMethodNotAllowed,
	errs.Conflict:     http.StatusConflict,
	errs.TooLarge:     http.StatusRequestEntityTooLarge,
	errs.Unsupported:  http.StatusUnsupportedMediaType,
	errs.RateLimited:  http.StatusTooManyRequests,
	errs.Unavailable:  http.StatusServiceUnavailable,
	errs.Internal:     http.StatusInternalServerError,
}

// problem is an RFC 9457 problem details body.
type problem struct {
	Type      string            `json:"type"`
	Title     string            `json:"title"`
	Status    int               `json:"status"`
	Detail    string            `json:"detail,omitempty"`
	Instance  string            `json:"instance,omitempty"`
	RequestID string            `json:"request_id"`
	Errors    map[string]string `json:"errors,omitempty"`
}

// writeError is the one place an error becomes a response: problem+json
// under /api/, an HTML page elsewhere. Internal errors are logged with the
// request id and shown only as "internal error" with that id.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	reqID := logging.RequestID(r.Context())
	e, ok := errs.As(err)
	if !ok {
		if errors.Is(err, context.Canceled) {
			// The client went away; nobody is left to answer.
			return
		}
		e = &errs.Error{Code: errs.Internal, Err: err}
	}
	status := statusOf[e.Code]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	message := e.Message
	if status >= 500 {
		// Only the error's own text goes to the log: domain errors carry no
		// personal data, and this line is the operator's only clue.
		s.Log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("route", r.Pattern), slog.Int("status", status), slog.String("error", err.Error()))
		message = ""
	}
	if status == http.StatusTooManyRequests && w.Header().Get("Retry-After") == "" {
		if !setRetryAfter(w, err) {
			w.Header().Set("Retry-After", "60")
		}
	}
	if isAPI(r) {
		p := problem{
			Type:      "https://sessions.dev/problems/" + string(e.Code),
			Title:     http.StatusText(status),
			Status:    status,
			Detail:    message,
			RequestID: reqID,
			Errors:    e.Fields,
		}
		if status >= 500 {
			p.Title = "internal error"
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_ = jsonEncode(w, p)
		return
	}
	s.pages.renderError(w, r, status, message, e.Fields, reqID, s.forbiddenHelp(r, err))
}

// setRetryAfter tells the client when to try again after a refusal for
// too many attempts (errs.TooSoon), and reports whether err was one.
func setRetryAfter(w http.ResponseWriter, err error) bool {
	wait := errs.WaitOf(err)
	if wait <= 0 {
		return false
	}
	w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
	return true
}
