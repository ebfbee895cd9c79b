package dsr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/rights"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// Erasure carries out erasure runs (see store.StartErasure, which
// records them): one table of the plan at a time and a batch of rows per
// transaction, the progress recorded after every batch, the stored files
// deleted after the rows that held them, so that a run interrupted
// anywhere continues where it stopped.

// StartErasure records, in the use case's transaction tx, that person's
// data is to be erased for reason (requestID is the request carried out,
// "" for none), notifies the recipients of their data, and starts the
// run's job once tx has committed. It returns the run's id; a person
// with an unfinished run gets that one back.
func (s *Service) StartErasure(ctx context.Context, tx *service.Tx, person rights.Person, reason rights.Reason, requestID string) (string, error) {
	id, notices, err := s.env.Store.StartErasure(ctx, tx, *s.env.Map, person, reason, requestID, s.env.Now())
	if err != nil {
		return "", err
	}
	tx.Deliver(notices...)
	tx.Enqueue(rights.EraseArgs{RunID: id}, nil)
	return id, nil
}

// ErasureRun returns one run, for staff pages and tests.
func (s *Service) ErasureRun(ctx context.Context, id string) (rights.Run, error) {
	return store.ErasureRun(ctx, s.env.Store.DB, id)
}

// RunErasure carries the run out to the end, or until ctx ends or a
// legal hold stops it before it began. It is safe to call again at any
// point: each step removes only what is left. Another worker holding the
// run makes it return at once.
func (s *Service) RunErasure(ctx context.Context, id string) error {
	db := s.env.Store.DB
	lease := s.env.Config.ErasureLease
	if lease <= 0 {
		lease = rights.DefaultErasureLease
	}
	now := s.env.Now()
	ok, err := store.ClaimErasureRun(ctx, db, id, now, now.Add(lease))
	if err != nil || !ok {
		return err
	}
	defer func() {
		if err := store.ReleaseErasureRun(context.WithoutCancel(ctx), db, id); err != nil {
			s.log().Warn("could not release an erasure run", slog.String("run", id), slog.String("error", err.Error()))
		}
	}()
	run, err := store.ErasureRun(ctx, db, id)
	if err != nil {
		return err
	}
	if run.State == rights.RunPending || run.State == rights.RunHeld {
		// A hold is checked only before anything is removed: once a run
		// has begun, stopping it would leave a half-erased person.
		held := false
		if run.Person.AccountID != "" {
			if held, err = store.PersonHeld(ctx, db, run.Person.AccountID, s.env.Now()); err != nil {
				return err
			}
		}
		state := rights.RunWorking
		if held {
			state = rights.RunHeld
		}
		if err := store.SetErasureRunState(ctx, db, id, state, s.env.Now()); err != nil {
			return err
		}
		if held {
			s.log().Info("erasure held by a legal hold", slog.String("run", id))
			return nil
		}
	}
	if run.Step != rights.StepSealed {
		plan := rights.ErasurePlan(*s.env.Map)
		start := slices.IndexFunc(plan, func(st rights.Step) bool { return st.Table == run.Step })
		if start < 0 {
			start = 0
		}
		for i := start; i < len(plan); i++ {
			step := plan[i]
			if err := s.steps.SetStep(ctx, id, step.Table); err != nil {
				return err
			}
			if err := s.settleBeforeStep(ctx, id, step, run.Person); err != nil {
				return err
			}
			if err := s.steps.Step(ctx, id, step, run.Person); err != nil {
				return err
			}
			if err := s.deleteFiles(ctx, id); err != nil {
				return err
			}
		}
		if err := s.sealErasure(ctx, run); err != nil {
			return err
		}
	}
	return s.finishErasure(ctx, run)
}

// deleteFiles deletes the files the run has queued, a batch at a time:
// first the object and its index row, then the queue entry. A key the
// index no longer knows was deleted already.
func (s *Service) deleteFiles(ctx context.Context, runID string) error {
	batch := s.steps.Batch
	if batch <= 0 {
		batch = 500
	}
	for {
		keys, err := store.QueuedErasureFiles(ctx, s.env.Store.DB, runID, batch)
		if err != nil || len(keys) == 0 {
			return err
		}
		for _, key := range keys {
			if s.files == nil {
				return errors.New("erasure: no file store to delete files from")
			}
			if err := s.files.Delete(ctx, key); err != nil && errs.CodeOf(err) != errs.NotFound {
				return fmt.Errorf("delete a stored file: %w", err)
			}
			if err := s.steps.ForgetErasedFile(ctx, runID, key); err != nil {
				return err
			}
		}
	}
}

// sealErasure removes the person's identifiers from the run, the last
// of them the database holds, and queues the message saying the erasure
// is done, held back until the run reports done.
func (s *Service) sealErasure(ctx context.Context, run rights.Run) error {
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		now := s.env.Now()
		var mailID string
		if len(run.Person.Emails) > 0 && run.Reason == rights.ReasonRequest {
			subject, text := rights.ErasureDoneNotice()
			var err error
			// Queued without delivery: CompleteErasureRun lets it go.
			if mailID, err = store.EnqueueMail(ctx, tx, now, mail.Message{Category: mail.Transactional, Template: rights.ErasureDoneTemplate,
				To: run.Person.Emails[0], Subject: subject, Text: text}); err != nil {
				return err
			}
		}
		return store.SealErasureRun(ctx, tx.Tx, run.ID, mailID, now)
	})
}

// finishErasure makes the database drop the old images of what the run
// removed, then closes the run in one transaction: the request it carried
// out is completed, the erasure is audited under the run's id (not the
// person's), and the message saying so is sent. The message is removed
// from the outbox once delivered.
//
// On SQLite, rows deleted with secure_delete are zeroed in the pages
// written since, but the write-ahead log still holds the pages as they
// were before, until a checkpoint copies the latest images into the file
// and empties the log. The run reports done only once that checkpoint
// went through; one that cannot (other connections held on to the log)
// leaves the run sealed and working, and the next worker tries again.
func (s *Service) finishErasure(ctx context.Context, run rights.Run) error {
	if err := s.steps.SetStep(ctx, run.ID, rights.StepSealed); err != nil {
		return err
	}
	if err := s.env.Store.DB.Checkpoint(ctx); err != nil {
		return fmt.Errorf("erasure run %s: %w", run.ID, err)
	}
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		now := s.env.Now()
		rows, files, mailID, err := store.CompleteErasureRun(ctx, tx.Tx, run.ID, now)
		if err != nil {
			return err
		}
		if mailID != "" {
			tx.Deliver(mailID)
		}
		detail := map[string]string{"reason": string(run.Reason), "rows": strconv.FormatInt(rows, 10), "files": strconv.FormatInt(files, 10)}
		if run.RequestID != "" {
			detail["request"] = run.RequestID
		}
		return tx.Audit(ctx, audit.Entry{
			At: now, Actor: audit.Party{Kind: "system"}, Action: "rights.erasure_done",
			Subject: audit.Party{Kind: "erasure_run", ID: run.ID}, Purpose: "legal-compliance", Detail: detail,
		})
	})
	if errors.Is(err, store.ErrRunDone) {
		return nil
	}
	if err != nil {
		return err
	}
	s.log().Info("erasure done", slog.String("run", run.ID), slog.String("reason", string(run.Reason)))
	return nil
}

// ResumeErasures is the periodic sweep of erasure: it turns account
// deletion requests not yet started into erasure runs, starts every
// unfinished run no worker holds, and removes from the outbox the
// delivered messages to erased people (see store.PurgeErasureNotices).
// It returns how many runs it started.
func (s *Service) ResumeErasures(ctx context.Context) (int, error) {
	if _, err := s.StartRequestedErasures(ctx); err != nil {
		return 0, err
	}
	db := s.env.Store.DB
	purged, err := store.PurgeErasureNotices(ctx, db, s.env.Now())
	if err != nil {
		return 0, err
	}
	if purged > 0 {
		// The deleted messages are the last of the erased addresses; the
		// old images of their pages leave the SQLite file and log now.
		if err := db.Checkpoint(ctx); err != nil {
			return 0, fmt.Errorf("after deleting the messages to erased people: %w", err)
		}
	}
	ids, err := store.IdleErasureRuns(ctx, db, s.env.Now())
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		s.enqueueErasure(ctx, id)
	}
	return len(ids), nil
}

// enqueueErasure starts the run's job now instead of at the next
// periodic look.
func (s *Service) enqueueErasure(ctx context.Context, runID string) {
	s.enqueue(ctx, rights.EraseArgs{RunID: runID}, nil)
}

// StartRequestedErasures starts a run for each account deletion request
// still in state received, and marks the request in progress, each in one
// transaction with the run. It returns the ids of the runs started.
func (s *Service) StartRequestedErasures(ctx context.Context) ([]string, error) {
	reqs, err := store.RequestedErasures(ctx, s.env.Store.DB)
	if err != nil {
		return nil, err
	}
	var started []string
	for _, r := range reqs {
		var runID string
		err := s.env.InTx(ctx, func(tx *service.Tx) error {
			took, err := store.TakeRequestedErasure(ctx, tx, r.RequestID)
			if err != nil || !took {
				return err
			}
			runID, err = s.StartErasure(ctx, tx, rights.Person{AccountID: r.AccountID}, rights.ReasonRequest, r.RequestID)
			return err
		})
		if err != nil {
			return started, err
		}
		if runID != "" {
			started = append(started, runID)
		}
	}
	return started, nil
}

// SetErasureBatch bounds the rows one erasure transaction removes (500
// unless set); tests make it small so that every table takes several
// batches.
func (s *Service) SetErasureBatch(n int) { s.steps.Batch = n }
