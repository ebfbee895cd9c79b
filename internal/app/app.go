// Package app wires the services together for the server and the operator
// commands: it opens the database, applies migrations and builds every
// service from the configuration. cmd/sessions calls it; so do tests.
package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/platform/blob"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/config"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/jobs"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/privacy/vendors"
	"github.com/sessionshq/sessions/internal/service/wire"
	"github.com/sessionshq/sessions/internal/store"
)

// App holds the wired services.
type App struct {
	Config config.Config
	Clock  clock.Clock
	Log    *slog.Logger
	DB     *database.DB
	// Secret signs links and tokens and keys the audit log's pseudonyms.
	Secret []byte
	// Jobs runs background work; cmdServe starts and stops it.
	Jobs *jobs.Runner
	// Mail is the outbox and its delivery.
	Mail *mail.Service
	// Blobs stores files and keeps their index.
	Blobs *blob.Store
	// Services are the use cases (internal/service), with their jobs
	// registered on Jobs (data-subject rights: internal/service/dsr).
	Services *wire.Services
}

// Open connects to the database, migrates it and builds the services.
func Open(ctx context.Context, cfg config.Config, clk clock.Clock, log *slog.Logger) (*App, error) {
	secret, err := loadSecret(cfg)
	if err != nil {
		return nil, err
	}
	db, err := database.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Clock: clk, Log: log, DB: db, Secret: secret}
	applied, err := db.Migrate(ctx, clk.Now)
	if err != nil {
		db.Close()
		return nil, err
	}
	if len(applied) > 0 {
		log.Info("database migrated", slog.String("engine", string(db.Dialect())), slog.Int("applied", len(applied)))
	}
	// Entries the release adds are inserted; entries staff edited are left alone.
	seeded, err := store.SeedSubprocessors(ctx, db, vendors.Seed(), clk.Now())
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("seed the sub-processor registry: %w", err)
	}
	if seeded > 0 {
		log.Info("sub-processor registry seeded", slog.Int("inserted", seeded))
	}
	if err := a.openPlatform(ctx); err != nil {
		db.Close()
		return nil, err
	}
	// The privacy notice is published as version 1 at the first start;
	// several instances starting at once publish it once.
	if v, published, err := a.Services.Notices.PublishFirst(ctx); err != nil {
		a.Close()
		return nil, fmt.Errorf("publish the privacy notice: %w", err)
	} else if published {
		log.Info("privacy notice published", slog.Int("version", v.Number))
	}
	return a, nil
}

// Close releases what Open acquired.
func (a *App) Close() error {
	var err error
	if a.Blobs != nil {
		err = a.Blobs.Close()
	}
	return errors.Join(err, a.DB.Close())
}

// openPlatform builds the job runner, the mail service and the blob store.
// Nothing here needs configuring: without SMTP mail stays in the outbox,
// without a blob URL files go to the data folder.
func (a *App) openPlatform(ctx context.Context) error {
	cfg := a.Config
	a.Jobs = jobs.New(a.DB, jobs.Config{Workers: cfg.JobWorkers, Log: a.Log.With(slog.String("component", "jobs"))})
	var sender mail.Sender
	if cfg.SMTPAddr != "" {
		hello := "localhost"
		if u, err := url.Parse(cfg.BaseURL); err == nil && u.Hostname() != "" {
			hello = u.Hostname()
		}
		sender = mail.NewSMTP(mail.SMTPConfig{
			Addr: cfg.SMTPAddr, Security: cfg.SMTPTLS, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword, HelloName: hello,
			Timeout: cfg.SMTPTimeout,
		})
	}
	// The claim on a message lasts as long as its delivery may take; zero
	// (a configuration not loaded from settings) keeps the default.
	var lease time.Duration
	if cfg.SMTPTimeout > 0 {
		lease = cfg.SMTPTimeout + mail.LeaseMargin
	}
	var err error
	a.Mail, err = mail.New(mail.Config{
		From: cfg.MailFrom, Outbox: store.NewOutbox(a.DB), Sender: sender, Jobs: a.Jobs, Clock: a.Clock, Log: a.Log, Lease: lease,
	})
	if err != nil {
		return err
	}
	a.Blobs, err = blob.New(ctx, blob.Config{
		URL: cfg.BlobURL, Dir: filepath.Join(cfg.DataDir, "blobs"), Index: store.NewBlobIndex(a.DB), Clock: a.Clock, Log: a.Log,
	})
	if err != nil {
		return err
	}
	a.Services, err = wire.New(wire.Parts{
		Config: cfg, DB: a.DB, Clock: a.Clock, Log: a.Log, Secret: a.Secret, Mail: a.Mail, Jobs: a.Jobs, Blobs: a.Blobs,
	})
	if err != nil {
		return err
	}
	return nil
}

// loadSecret returns the configured secret key, or the one kept in the data
// folder, creating it on first start. Several instances behind a load
// balancer must share SESSIONS_SECRET_KEY instead.
func loadSecret(cfg config.Config) ([]byte, error) {
	if cfg.SecretKey != "" {
		return []byte(cfg.SecretKey), nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	path := filepath.Join(cfg.DataDir, "secret.key")
	b, err := os.ReadFile(path)
	if err == nil {
		key := strings.TrimSpace(string(b))
		if len(key) < 32 {
			return nil, fmt.Errorf("%s is shorter than 32 bytes", path)
		}
		return []byte(key), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	key := hex.EncodeToString(raw[:])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		// Another process created it first; use theirs.
		return loadSecret(cfg)
	}
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteString(key + "\n"); err != nil {
		f.Close()
		return nil, err
	}
	return []byte(key), f.Close()
}
