package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/sessionshq/sessions/internal/app"
	"github.com/sessionshq/sessions/internal/platform/logging"
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
	srv, err := web.New(web.Deps{Config: a.Config, DB: a.DB, Clock: a.Clock, Log: a.Log, Secret: a.Secret, Mail: a.Mail, Blobs: a.Blobs})
	if err != nil {
		return err
	}
	a.Campaigns = srv
	ln, err := net.Listen("tcp", a.Config.Addr)
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("cannot listen on %s: %v", a.Config.Addr, err)}
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
	err = srv.Serve(ctx, ln, a.Config.ShutdownTimeout)
	a.Log.Info("stopped")
	return err
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
