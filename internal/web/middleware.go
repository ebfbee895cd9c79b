package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/logging"
)

// contentSecurityPolicy allows no inline script or style and no third-party
// origin: every asset is served by us under a content-hash URL.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

// middleware wraps the mux, outermost first: request id and log line
// (which counts the bytes sent, compressed), compression (compress.go),
// panic recovery, security headers, and the mapping of unmatched routes
// to our own 404 and 405. What differs between pages, the API and our
// scripts' endpoints is applied per route, by its class (s.route).
func (s *Server) middleware(mux *http.ServeMux) http.Handler {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w, r, s.Config.Secure())
		s.dispatch(mux, w, r)
	})
	return s.logRequests(compress(s.recoverPanics(h)))
}

func setSecurityHeaders(w http.ResponseWriter, r *http.Request, secure bool) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(self), microphone=(self), display-capture=(self), geolocation=(), payment=()")
	if secure || r.TLS != nil {
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
}

// dispatch sends matched requests to the mux and answers unmatched ones
// with our own error bodies instead of the mux's plain text.
func (s *Server) dispatch(mux *http.ServeMux, w http.ResponseWriter, r *http.Request) {
	h, pattern := mux.Handler(r)
	if pattern != "" {
		mux.ServeHTTP(w, r)
		return
	}
	// A cross-site write is refused before anyone learns whether the
	// route exists, on pages as on the routes that match.
	if classOf(r) != apiRoute {
		if err := s.crossOrigin.Check(r); err != nil {
			s.writeError(w, r, errs.E(errs.Forbidden, "cross-origin request refused"))
			return
		}
	}
	rec := &headerRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	switch rec.status {
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", rec.header.Get("Allow"))
		s.writeError(w, r, errs.E(errs.BadMethod, "%s is not allowed here", r.Method))
	case http.StatusNotFound, 0:
		s.writeError(w, r, errs.E(errs.NotFound, "there is nothing at this address"))
	default:
		// A redirect to the clean path: pass it on as the mux wrote it.
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
	}
}

// headerRecorder captures what the mux's fallback handlers write.
type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header         { return h.header }
func (h *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (h *headerRecorder) WriteHeader(status int)      { h.status = status }

func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.writeError(w, r, fmt.Errorf("panic: %v", p))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// requestInfo is filled in as the request travels inward, so the log line
// written on the way out can name the matched route.
type requestInfo struct {
	pattern  string
	class    routeClass
	scope    account.Scope // what a personal API token needs here, "" for no token
	clientIP string
}

type requestInfoKey struct{}

// logRequests gives each request an id and writes one line per request:
// method, route pattern (never the raw path or query, which may carry
// tokens or addresses), status, size and duration.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := newRequestID()
		info := &requestInfo{clientIP: resolveClientIP(r, s.Config.TrustedProxies)}
		ctx := logging.WithRequestID(r.Context(), id)
		ctx = context.WithValue(ctx, requestInfoKey{}, info)
		w.Header().Set("X-Request-Id", id)
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(ctx))
		route := info.pattern
		if route == "" {
			route = "unmatched"
		}
		s.Log.LogAttrs(ctx, slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.Int("status", sw.statusOr200()),
			slog.Int64("bytes", sw.bytes),
			slog.Duration("duration", time.Since(start)))
	})
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) statusOr200() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// Unwrap lets http.ResponseController reach the real writer (flushing,
// deadlines) through this wrapper.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
