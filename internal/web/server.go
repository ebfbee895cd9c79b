// Package web owns HTTP: the route table (routes.go), the mapping of errors
// to responses (errors.go), middleware, API handlers and the server-rendered
// pages with their embedded templates and assets. Domain packages never see
// an *http.Request.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/config"
	"github.com/sessionshq/sessions/internal/platform/ratelimit"
	"github.com/sessionshq/sessions/internal/service/wire"
	"github.com/sessionshq/sessions/internal/video"
)

// Deps are what the HTTP front needs: the use cases it calls and the few
// parts that are HTTP's own. cmd/sessions wires them.
type Deps struct {
	Config config.Config
	Clock  clock.Clock
	Log    *slog.Logger
	// Secret signs the cookies and download links web hands out.
	Secret []byte
	// Video is the LiveKit SFU calls run on, embedded or external; nil
	// when calls are unavailable, in which case joining answers 503.
	Video *video.SFU
	// Services are the use cases the handlers call (internal/service).
	Services *wire.Services
}

// Server is the HTTP front of the product.
type Server struct {
	Deps
	mux     *http.ServeMux
	handler http.Handler
	// patterns lists every registered route pattern, for the OpenAPI test.
	patterns []string
	pages    *pages
	// openLimits bounds how often one address may call the routes open to
	// anyone that write something (see s.throttled), counted in the
	// database every instance shares.
	openLimits ratelimit.Limiter
	// crossOrigin refuses writes from other sites on page and script
	// routes (s.route).
	crossOrigin *http.CrossOriginProtection
	// draining is set by Drain: /readyz answers 503 and connections close
	// after their response. running is the server Serve runs, nil before.
	draining atomic.Bool
	running  atomic.Pointer[http.Server]
}

// New builds the server and its route table.
func New(d Deps) (*Server, error) {
	if d.Services == nil {
		return nil, errors.New("web: no services")
	}
	p, err := newPages()
	if err != nil {
		return nil, err
	}
	s := &Server{Deps: d, mux: http.NewServeMux(), pages: p,
		openLimits:  ratelimit.NewShared(openRoutes, d.Services.RequestCounts, d.Secret, d.Clock.Now),
		crossOrigin: http.NewCrossOriginProtection()}
	if err := s.initAuth(); err != nil {
		return nil, err
	}
	s.pages.cookieState = s.cookieState
	s.pages.noticeBanner = s.noticeBannerFor
	s.routes()
	s.handler = s.middleware(s.mux)
	return s, nil
}

// ServeHTTP lets tests drive the server without a listener.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Patterns returns every registered route pattern.
func (s *Server) Patterns() []string { return append([]string(nil), s.patterns...) }

// Drain prepares the server for its end while it keeps serving: /readyz
// answers 503, so that load balancers take it out of rotation, and every
// connection closes after its next response, so that none is left idle
// for a balancer to send a request on just as Serve's shutdown closes it.
// Everything else is answered as before.
func (s *Server) Drain() {
	s.draining.Store(true)
	if srv := s.running.Load(); srv != nil {
		srv.SetKeepAlivesEnabled(false)
	}
}

// Draining reports whether Drain was called.
func (s *Server) Draining() bool { return s.draining.Load() }

// Serve answers on ln until ctx ends, then shuts down gracefully within
// timeout: the listener closes at once and requests in flight may finish.
// Call Drain, and wait, before ending ctx to stop without refusing anyone.
func (s *Server) Serve(ctx context.Context, ln net.Listener, timeout time.Duration) error {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.Log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	s.running.Store(srv)
	if s.draining.Load() {
		srv.SetKeepAlivesEnabled(false)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = srv.Close()
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return err
}
