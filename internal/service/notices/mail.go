package notices

import (
	"context"
	"errors"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/jobs"
	"github.com/sessionshq/sessions/internal/privacy/notice"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// RegisterJobs hands the announcement of significant versions to r: a
// periodic job that e-mails members in batches, each run also finishing
// one a crash cut short.
func (s *Service) RegisterJobs(r *jobs.Runner) {
	jobs.Register(r, func(ctx context.Context, _ jobs.Job[notice.MailArgs]) error {
		_, err := s.MailChanges(ctx)
		return err
	})
	r.Periodic(jobs.Schedule{Every: notice.MailEvery, Args: notice.MailArgs{}, RunOnStart: true})
}

// MailChanges queues the announcement of every significant version
// whose announcement is unfinished to every active member who opened
// their account before the version was published and has not had it
// yet. It returns how many messages it queued; a cancelled ctx stops it
// between two members, and the next run carries on from there.
func (s *Service) MailChanges(ctx context.Context) (int, error) {
	return s.mailChanges(ctx, notice.MailBatch, nil)
}

// errAlreadyMailed rolls back an announcement that another run queued
// first.
var errAlreadyMailed = errors.New("notices: announcement already queued")

// mailChanges reads the members batch at a time. Each member's e-mail is
// put in the outbox in one transaction with the row in notice_mailings
// that marks it sent, whose primary key lets only one of several
// concurrent or repeated runs queue it; the mail is delivered after the
// commit. queued, when set, is called after each commit that queued a
// message (tests use it to stop a run half-way). When no member is
// left, the version is marked mailed.
func (s *Service) mailChanges(ctx context.Context, batch int, queued func(ctx context.Context, outboxID string)) (int, error) {
	if batch < 1 {
		batch = notice.MailBatch
	}
	db := s.env.Store.DB
	versions, err := store.UnmailedNotices(ctx, db)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, v := range versions {
		after := ""
		for {
			recipients, err := store.NoticeRecipients(ctx, db, v, after, batch)
			if err != nil {
				return n, err
			}
			for _, to := range recipients {
				if err := ctx.Err(); err != nil {
					return n, err
				}
				id, err := s.announce(ctx, v, to)
				if err != nil {
					return n, err
				}
				if id != "" {
					n++
					if queued != nil {
						queued(ctx, id)
					}
				}
				after = to.AccountID
			}
			if len(recipients) < batch {
				break
			}
		}
		if err := store.FinishNoticeMailing(ctx, db, v.Number, s.env.Now()); err != nil {
			return n, err
		}
	}
	return n, nil
}

// announce puts one announcement in the outbox and marks it, in one
// transaction, and returns the outbox id; "" when another run queued it
// first or the stored address cannot take mail (marked all the same, so
// no run tries again).
func (s *Service) announce(ctx context.Context, v notice.Version, to notice.Recipient) (string, error) {
	var id string
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		var err error
		id, err = tx.Mail(ctx, notice.ChangeMail(v, to, s.env.Config.BaseURL))
		if errs.CodeOf(err) == errs.Invalid {
			id = ""
		} else if err != nil {
			return err
		}
		first, err := store.MarkNoticeMailed(ctx, tx, v.Number, to.AccountID, id, s.env.Now())
		if err != nil {
			return err
		}
		if !first {
			return errAlreadyMailed
		}
		return nil
	})
	if errors.Is(err, errAlreadyMailed) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return id, nil
}
