// Package wire builds every feature service from the platform parts, once
// per process. The server, the operator commands and the tests all build
// them here, so they run the same use cases.
package wire

import (
	"context"
	"errors"
	"log/slog"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/platform/blob"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/config"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/jobs"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/platform/ratelimit"
	"github.com/sessionshq/sessions/internal/platform/safehttp"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/service/accounts"
	"github.com/sessionshq/sessions/internal/service/calls"
	"github.com/sessionshq/sessions/internal/service/campaigns"
	"github.com/sessionshq/sessions/internal/service/consents"
	"github.com/sessionshq/sessions/internal/service/console"
	"github.com/sessionshq/sessions/internal/service/dsr"
	"github.com/sessionshq/sessions/internal/service/meetings"
	"github.com/sessionshq/sessions/internal/service/notices"
	"github.com/sessionshq/sessions/internal/service/orgs"
	"github.com/sessionshq/sessions/internal/service/retain"
	"github.com/sessionshq/sessions/internal/store"
	"github.com/sessionshq/sessions/internal/video"
)

// Parts are the platform pieces the services are built from.
type Parts struct {
	Config config.Config
	DB     *database.DB
	Clock  clock.Clock
	Log    *slog.Logger
	Secret []byte
	// Passwords hashes passwords; nil means argon2id with
	// account.DefaultHashParams. Tests pass cheaper parameters.
	Passwords *account.Hasher
	// Mail, Jobs, Blobs and Video may be nil; see service.Env.
	Mail  *mail.Service
	Jobs  *jobs.Runner
	Blobs *blob.Store
	Video *video.SFU
	// Outbound nil means a safehttp.Client with its defaults.
	Outbound *safehttp.Client
}

// Services are the product's use cases, one service per feature.
type Services struct {
	Env       *service.Env
	Accounts  *accounts.Service
	Orgs      *orgs.Service
	Meetings  *meetings.Service
	Calls     *calls.Service
	Consents  *consents.Service
	Campaigns *campaigns.Service
	Notices   *notices.Service
	Console   *console.Service
	Rights    *dsr.Service
	Retention *retain.Service
	// RequestCounts count requests to the routes anyone may call in the
	// database, for web's limits (ratelimit.Shared): shared by every
	// instance, so a limit holds however many instances answer.
	RequestCounts ratelimit.Counter
}

// New builds every service. When p.Jobs is set it also registers the
// services' background jobs with it.
func New(p Parts) (*Services, error) {
	if p.DB == nil || p.Clock == nil {
		return nil, errors.New("wire: DB and Clock are required")
	}
	st, err := store.New(p.DB, p.Secret)
	if err != nil {
		return nil, err
	}
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	if p.Passwords == nil {
		p.Passwords = account.NewHasher(account.DefaultHashParams, nil)
	}
	if p.Outbound == nil {
		p.Outbound = &safehttp.Client{}
	}
	m := datamap.Default()
	env := &service.Env{
		Config: p.Config, Store: st, Clock: p.Clock, Log: p.Log, Secret: p.Secret, Map: &m,
		Passwords: p.Passwords, Mail: p.Mail, Jobs: p.Jobs, Blobs: p.Blobs, Video: p.Video, Outbound: p.Outbound,
	}
	s := &Services{
		Env:      env,
		Accounts: accounts.New(env),
		Orgs:     orgs.New(env),
		Meetings: meetings.New(env),
		Calls:    calls.New(env),
		Consents: consents.New(env),
		Notices:  notices.New(env),
		Console:  console.New(env),
		Rights:   dsr.New(env),

		RequestCounts: store.NewRequestCounts(p.DB),
	}
	s.Retention = retain.New(env, s.Rights)
	s.Campaigns = campaigns.New(env, s.Consents)
	if p.Video != nil {
		s.UseVideo(p.Video)
	}
	if p.Jobs != nil {
		s.registerJobs(p.Jobs)
	}
	return s, nil
}

// registerJobs hands each service's background work to the runner.
func (s *Services) registerJobs(r *jobs.Runner) {
	s.Retention.RegisterJobs(r)
	s.Rights.RegisterJobs(r)
	s.Campaigns.RegisterJobs(r)
	s.Notices.RegisterJobs(r)
	s.Calls.RegisterJobs(r)
	// Counts of ended windows go within minutes of their end; retention
	// would delete them only after a day.
	jobs.Register(r, func(ctx context.Context, _ jobs.Job[ratelimit.PruneArgs]) error {
		_, err := store.PruneRequestCounts(ctx, s.Env.Store.DB, s.Env.Now())
		return err
	})
	r.Periodic(jobs.Schedule{Every: ratelimit.PruneEvery, Args: ratelimit.PruneArgs{}})
}

// UseVideo gives the services the SFU calls run on, once it has started
// (it needs the server's listener, which opens after the services), and
// puts the call door in front of an embedded SFU's signalling.
func (s *Services) UseVideo(sfu *video.SFU) {
	s.Env.Video = sfu
	if sfu != nil {
		sfu.GuardSignalling(s.Calls.MayConnect)
	}
}
