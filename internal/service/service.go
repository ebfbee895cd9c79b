// Package service is the shared kit of the service layer: the parts every
// feature service is built from (Env) and the unit of work each use case
// runs in (Tx). The use cases themselves live in one package per feature
// below this one (internal/service/accounts, …/meetings, …); web
// handlers, operator commands and background jobs call them, and they call
// internal/store for SQL and the domain packages for rules.
//
// A service method is one use case in one transaction. It authorises the
// actor inside that transaction, writes the audit entry there, queues its
// mail in the outbox there, and asks for jobs and blob clean-up to happen
// once the transaction has committed. See ARCHITECTURE.md.
package service

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/blob"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/config"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/jobs"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/platform/safehttp"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
	"github.com/sessionshq/sessions/internal/video"
)

// Env is what every feature service is built from. wire.New fills it once
// per process; the fields that may be nil say what that means.
type Env struct {
	Config config.Config
	Store  *store.Store
	Clock  clock.Clock
	Log    *slog.Logger
	// Secret signs links and tokens and hashes passcodes.
	Secret []byte
	// Map is the data map, built once.
	Map *datamap.Map
	// Passwords hashes and checks passwords.
	Passwords *account.Hasher
	// Mail delivers the outbox; nil leaves queued mail in the outbox.
	Mail *mail.Service
	// Jobs runs background work; nil leaves queued work to the periodic
	// sweeps of a process that has a runner.
	Jobs *jobs.Runner
	// Blobs stores files; nil refuses uploads.
	Blobs *blob.Store
	// Video is the SFU calls run on; nil when calls are unavailable.
	Video *video.SFU
	// Outbound dials addresses people and staff type in, refusing
	// private networks.
	Outbound *safehttp.Client
}

// Tx is one use case's transaction. SQL runs on it (it is a
// database.Querier); mail queued through it is delivered, and the work
// given to AfterCommit is done, only once it has committed, detached from
// the caller's cancellation so a closed request does not lose it.
type Tx struct {
	*database.Tx
	env   *Env
	mails []string
	after []func(context.Context)
}

// InTx runs fn as one use case: in one transaction, then the mail and the
// follow-up work it queued. Nothing queued happens when fn fails.
func (e *Env) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	t := &Tx{env: e}
	err := e.Store.InTx(ctx, func(dtx *database.Tx) error {
		t.Tx = dtx
		return fn(t)
	})
	if err != nil {
		return err
	}
	done := context.WithoutCancel(ctx)
	if e.Mail != nil && len(t.mails) > 0 {
		e.Mail.Dispatch(done, t.mails...)
	}
	for _, f := range t.after {
		f(done)
	}
	return nil
}

// Mail writes m to the outbox in this transaction and delivers it after
// the commit. It returns the outbox id.
func (t *Tx) Mail(ctx context.Context, m mail.Message) (string, error) {
	id, err := store.EnqueueMail(ctx, t, t.env.Clock.Now(), m)
	if err != nil {
		return "", err
	}
	t.mails = append(t.mails, id)
	return id, nil
}

// Deliver delivers, after the commit, messages a store function wrote to
// the outbox in this transaction (the notices to recipients are queued
// that way), or that staff requeued. Like Mail, it is the one way mail
// leaves after a use case.
func (t *Tx) Deliver(ids ...string) { t.mails = append(t.mails, ids...) }

// Audit seals e onto the audit log in this transaction.
func (t *Tx) Audit(ctx context.Context, e audit.Entry) error {
	return t.env.Store.Audit(ctx, t, e)
}

// AfterCommit runs fn once the transaction has committed: enqueueing a
// job, deleting a blob the change orphaned. fn must not fail the use
// case; what it cannot do is left to a periodic sweep.
func (t *Tx) AfterCommit(fn func(ctx context.Context)) { t.after = append(t.after, fn) }

// Enqueue asks the job runner, after the commit, to run args. A failed
// enqueue is logged; the feature's periodic sweep must find the work.
func (t *Tx) Enqueue(args jobs.Args, opts *jobs.Options) {
	env := t.env
	if env.Jobs == nil {
		return
	}
	t.AfterCommit(func(ctx context.Context) {
		if _, err := env.Jobs.Enqueue(ctx, args, opts); err != nil {
			env.Log.Warn("could not enqueue a job; its sweep will pick the work up",
				slog.String("kind", args.Kind()), slog.String("error", err.Error()))
		}
	})
}

// Now is the time of the use case, from the injected clock.
func (e *Env) Now() time.Time { return e.Clock.Now().UTC() }

// Actor is who asks for a use case. The web layer says who signed in; the
// service decides what they may do, inside its transaction.
type Actor struct {
	// AccountID is the signed-in member, "" for nobody.
	AccountID string
	// Roles are the staff roles in force: held, with two-step sign-in
	// on (accounts.Principal).
	Roles []staff.Role
	// Dormant are roles held but not in force until the member turns
	// two-step sign-in on; they grant nothing, and Require says so.
	Dormant []staff.Role
}

// Member is the actor of a signed-in member acting for themselves.
func Member(accountID string) Actor { return Actor{AccountID: accountID} }

// Can reports whether the actor holds a staff role with permission p.
func (a Actor) Can(p staff.Permission) bool { return a.AccountID != "" && staff.Can(a.Roles, p) }

// Require refuses an actor without permission p, naming the roles that
// hold it.
func (a Actor) Require(p staff.Permission) error {
	if a.AccountID == "" {
		return errs.E(errs.Unauthorized, "sign in first")
	}
	if a.Can(p) {
		return nil
	}
	if staff.Can(a.Dormant, p) {
		return errs.E(errs.Forbidden, "staff roles work only with two-step sign-in: turn it on at /account/security, then come back")
	}
	var names []string
	for _, r := range staff.RolesWith(p) {
		names = append(names, r.Label())
	}
	return errs.E(errs.Forbidden, "this needs the %s role", strings.Join(names, " or "))
}

// Staff is the audit log's name for the actor acting as staff.
func (a Actor) Staff() audit.Party { return audit.Party{Kind: "staff", ID: a.AccountID} }

// Ready reports whether the database answers, for readiness probes.
func (e *Env) Ready(ctx context.Context) error {
	if err := e.Store.DB.Ping(ctx); err != nil {
		return errs.Wrap(errs.Unavailable, err, "the database is not reachable")
	}
	return nil
}
