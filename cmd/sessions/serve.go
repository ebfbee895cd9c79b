package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sessionshq/sessions/internal/app"
	"github.com/sessionshq/sessions/internal/platform/logging"
	"github.com/sessionshq/sessions/internal/video"
	"github.com/sessionshq/sessions/internal/web"
)

// open builds the App for a command, with logs on stderr.
func open(ctx context.Context, e env) (*app.App, error) {
	log := logging.New(e.stderr, e.cfg.LogFormat, e.cfg.LogLevel)
	return app.Open(ctx, e.cfg, e.clock, log)
}

func cmdServe(ctx context.Context, e env) error {
	a, err := open(ctx, e)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := net.Listen("tcp", a.Config.Addr)
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("cannot listen on %s: %v", a.Config.Addr, err)}
	}
	// The SFU starts before we serve, so the first join finds it up; its
	// webhooks wait in the listener's backlog until Serve takes them.
	sfu, err := startVideo(ctx, a.Config, a.Clock, a.Log, ln.Addr())
	if err != nil {
		ln.Close()
		return err
	}
	defer closeVideo(sfu, a.Config.ShutdownTimeout, a.Log)
	a.Services.UseVideo(sfu)
	srv, err := web.New(web.Deps{Config: a.Config, Clock: a.Clock, Log: a.Log, Secret: a.Secret, Video: sfu,
		Services: a.Services})
	if err != nil {
		ln.Close()
		return err
	}
	if err := a.Jobs.Start(ctx); err != nil {
		ln.Close()
		return err
	}
	// Deferred, so it runs after Serve has stopped taking requests (which
	// may still enqueue jobs) and before the database closes.
	defer func() {
		if err := a.Jobs.Stop(a.Config.ShutdownTimeout); err != nil {
			a.Log.Error("stopping background jobs", slog.String("error", err.Error()))
		}
	}()
	a.Log.Info("listening", slog.String("addr", ln.Addr().String()), slog.String("engine", string(a.DB.Dialect())))
	fmt.Fprintf(e.stdout, "Sessions is running at %s (listening on %s)\n", a.Config.BaseURL, ln.Addr())
	if err := announceSetup(ctx, a, e.stdout); err != nil {
		ln.Close()
		return err
	}
	// On shutdown the server first drains: it keeps serving, calls
	// included, while load balancers learn from /readyz to send requests
	// elsewhere. Then the SFU stops, ending every call, while the HTTP
	// server still takes the webhooks that record who left; only then does
	// the HTTP server stop, finishing the requests in flight, and after it
	// the background jobs (deferred above).
	serving, stopServing := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServing()
	go func() {
		select {
		case <-ctx.Done():
			drain(srv, a.Config.DrainTimeout, a.Log)
			closeVideo(sfu, a.Config.ShutdownTimeout, a.Log)
			stopServing()
		case <-serving.Done():
		}
	}()
	err = srv.Serve(serving, ln, a.Config.ShutdownTimeout)
	a.Log.Info("stopped")
	return err
}

// drain takes the server out of its load balancers' rotation and keeps
// serving for d, long enough for them to see /readyz fail and stop
// sending requests before the listener closes. The wait is on the wall
// clock, as the balancers' probes are. A second SIGINT or SIGTERM ends it
// early, for an operator at a terminal with no balancer to wait for.
func drain(srv *web.Server, d time.Duration, log *slog.Logger) {
	if d <= 0 {
		srv.Drain()
		return
	}
	again := make(chan os.Signal, 1)
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(again)
	srv.Drain()
	log.Info("draining before shutdown", slog.Duration("for", d))
	wait := time.NewTimer(d)
	defer wait.Stop()
	select {
	case <-wait.C:
	case <-again:
		log.Info("draining cut short by a second signal")
	}
}

// closeVideo stops an embedded SFU within timeout; it does nothing for an
// external one, and nothing the second time.
func closeVideo(sfu *video.SFU, timeout time.Duration, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := sfu.Close(ctx); err != nil {
		log.Error("stopping the video server", slog.String("error", err.Error()))
	}
}

func cmdMigrate(ctx context.Context, e env) error {
	a, err := open(ctx, e)
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Fprintf(e.stdout, "database is up to date (%s)\n", a.DB.Dialect())
	return nil
}
