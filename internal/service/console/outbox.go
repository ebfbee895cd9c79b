package console

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

// The mail outbox: every message the product has queued, whether or not
// an SMTP server is configured. The administrator sees lists and delivery
// states; the privacy officer reads a message only after giving a reason,
// which the access log of the person it was sent to records. Staff never
// see more of a message than its staff copy (mail.Record.ForStaff): the
// links and codes in it act for the recipient, and whoever read them
// could take over the recipient's account.

// Outbox is one listing of the outbox.
type Outbox struct {
	// SMTP says whether mail leaves the outbox at all.
	SMTP     bool
	Messages []mail.Record
}

// errNoMail answers when the process runs without a mail service (some
// tests build one so).
var errNoMail = errs.E(errs.Unavailable, "the mail service is not running")

// checkFilter refuses a filter the outbox cannot list and fills in the
// default limit.
func checkFilter(f mail.Filter) (mail.Filter, error) {
	if f.Status != "" && !f.Status.Valid() {
		return f, invalid("unknown status", "status", "must be pending, sent, failed or held")
	}
	if f.Limit < 0 || f.Limit > mail.MaxListLimit {
		return f, invalid("limit out of range", "limit", fmt.Sprintf("must be from 1 to %d", mail.MaxListLimit))
	}
	if f.Limit == 0 {
		f.Limit = mail.DefaultListLimit
	}
	return f, nil
}

// Outbox lists the messages matching f, newest first.
func (s *Service) Outbox(ctx context.Context, actor service.Actor, f mail.Filter) (Outbox, error) {
	var out Outbox
	err := s.staffRead(ctx, actor, staff.OperateOutbox, func(tx *service.Tx) error {
		var err error
		out, err = s.listOutbox(ctx, tx, f)
		return err
	})
	for i, rec := range out.Messages {
		out.Messages[i] = rec.ForStaff()
	}
	return out, err
}

// OperatorOutbox is Outbox for the operator at the server's shell.
func (s *Service) OperatorOutbox(ctx context.Context, f mail.Filter) (Outbox, error) {
	return s.listOutbox(ctx, s.env.Store.DB, f)
}

func (s *Service) listOutbox(ctx context.Context, q database.Querier, f mail.Filter) (Outbox, error) {
	if s.env.Mail == nil {
		return Outbox{}, errNoMail
	}
	f, err := checkFilter(f)
	if err != nil {
		return Outbox{}, err
	}
	recs, err := store.ListOutbox(ctx, q, f)
	return Outbox{SMTP: s.env.Mail.Enabled(), Messages: recs}, err
}

// OutboxMessage returns one message for its delivery state, to the
// administrator who operates the outbox and to the privacy officer who
// is about to read it; what staff may see of it without a reason is the
// caller's to choose, and is never more than its staff copy.
func (s *Service) OutboxMessage(ctx context.Context, actor service.Actor, id string) (mail.Record, bool, error) {
	var rec mail.Record
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		if !actor.Can(staff.ReadMail) {
			if err := actor.Require(staff.OperateOutbox); err != nil {
				return err
			}
		}
		if s.env.Mail == nil {
			return errNoMail
		}
		var err error
		rec, err = store.GetOutbox(ctx, tx, id)
		return err
	})
	return rec.ForStaff(), err == nil && s.env.Mail.Enabled(), err
}

// OperatorOutboxMessage returns one message whole to the operator at the
// server's shell.
func (s *Service) OperatorOutboxMessage(ctx context.Context, id string) (mail.Record, error) {
	return store.GetOutbox(ctx, s.env.Store.DB, id)
}

// ReadOutboxMessage shows actor, who gave reason, one message as staff
// may read it (its address and its staff copy), and writes its audit
// entry and, when the message is addressed to a person with an id, the
// row of that person's access log, in the same transaction. It returns
// that row (without a person for a message to nobody known).
func (s *Service) ReadOutboxMessage(ctx context.Context, actor service.Actor, id, reason string) (mail.Record, staff.Access, error) {
	var (
		rec mail.Record
		a   staff.Access
	)
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		if err := actor.Require(staff.ViewMailMessage.Permission()); err != nil {
			return err
		}
		var err error
		a, err = staff.NewAccess(actor.AccountID, actor.Roles, "", staff.ViewMailMessage, reason, s.env.Now())
		if err != nil {
			return err
		}
		if rec, err = store.GetOutbox(ctx, tx, id); err != nil {
			return err
		}
		a.PersonID = rec.PersonID
		subject := audit.Party{Kind: "mail", ID: rec.ID}
		if a.PersonID != "" {
			subject = audit.Party{Kind: "member", ID: a.PersonID}
		}
		return s.recordAccess(ctx, tx, a, subject)
	})
	return rec.ForStaff(), a, err
}

// RetryOutbox puts a failed message back in the queue with a fresh count
// of attempts and asks for its delivery once that has committed.
func (s *Service) RetryOutbox(ctx context.Context, actor service.Actor, id string) (mail.Record, error) {
	var rec mail.Record
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		if err := actor.Require(staff.OperateOutbox); err != nil {
			return err
		}
		if s.env.Mail == nil {
			return errNoMail
		}
		var err error
		if rec, err = store.RequeueOutbox(ctx, tx, id, s.env.Now()); err != nil {
			return err
		}
		tx.Deliver(id)
		return nil
	})
	rec = rec.ForStaff()
	if err == nil {
		s.env.Log.Info("mail: requeued by staff", slog.String("message_id", id))
	}
	return rec, err
}

// SMTP says whether mail leaves the outbox: false without an SMTP server,
// and in a process without a mail service.
func (s *Service) SMTP() bool { return s.env.Mail != nil && s.env.Mail.Enabled() }
