// Package console holds the use cases of the staff console and the privacy
// registry: looking people up and reading their data with a reason that
// the person's access log records, the staff register, the mail outbox,
// the audit log, the sub-processor registry with the recipients' privacy
// contacts, and the public privacy centre built from the data map and
// that registry.
//
// Each staff use case asks actor.Require for its permission inside its
// transaction, so the web's route wrappers, the operator commands and any
// job reach the same rule. Operator methods serve the command line, whose
// user holds the server's keys already.
package console

import (
	"context"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/staff"
)

// Service runs the use cases of the staff console and the privacy
// registry.
type Service struct{ env *service.Env }

// New builds the service.
func New(env *service.Env) *Service { return &Service{env: env} }

// Instance is the summary of the instance shown to those who manage
// settings. It holds no secret: a database URL or SMTP host never leaves
// the server.
type Instance struct {
	BaseURL  string
	Secure   bool
	Database string // the engine, in words
	SMTP     bool   // whether mail leaves the outbox
}

// Instance describes the running instance to actor.
func (s *Service) Instance(_ context.Context, actor service.Actor) (Instance, error) {
	if err := actor.Require(staff.ManageSettings); err != nil {
		return Instance{}, err
	}
	cfg := s.env.Config
	engine := "SQLite, in the data folder"
	if s.env.Store.DB.Dialect() == database.Postgres {
		engine = "PostgreSQL"
	}
	return Instance{BaseURL: cfg.BaseURL, Secure: cfg.Secure(), Database: engine, SMTP: cfg.SMTPAddr != ""}, nil
}

// staffRead runs fn, a read-only staff use case, in one transaction once
// actor holds p.
func (s *Service) staffRead(ctx context.Context, actor service.Actor, p staff.Permission, fn func(tx *service.Tx) error) error {
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		if err := actor.Require(p); err != nil {
			return err
		}
		return fn(tx)
	})
}

// invalid is a refusal of one field.
func invalid(msg, field, fieldMsg string) error {
	return &errs.Error{Code: errs.Invalid, Message: msg, Fields: map[string]string{field: fieldMsg}}
}
