package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/jobs"
)

// Config wires a Service.
type Config struct {
	// From is the sender, such as "Sessions <no-reply@example.com>".
	From   string
	Outbox Outbox
	// Sender delivers; nil keeps every message pending in the outbox.
	Sender Sender
	// Jobs runs deliveries in the background; nil leaves delivery to
	// explicit calls of Deliver (tests, tools).
	Jobs  *jobs.Runner
	Clock clock.Clock
	Log   *slog.Logger
	// MaxAttempts is how many deliveries are tried before a message fails;
	// zero means 12, which with the default backoff rides out about a day
	// of mail server trouble.
	MaxAttempts int
	// Backoff is the wait after failed attempt n (from 1); nil means one
	// minute doubling each time, at most six hours.
	Backoff func(attempt int) time.Duration
	// Lease is how long a claimed message is left to the worker that
	// claimed it; zero means DefaultLease. A message whose worker died is
	// sent by another once the lease has run out, so it should be no
	// longer than a delivery takes: Deliver gives up a send that is still
	// running LeaseMargin before the lease ends, so that no two workers
	// ever send one message at the same time.
	Lease time.Duration
}

// Service delivers the outbox and lets staff inspect it.
type Service struct {
	from        *mail.Address
	outbox      Outbox
	sender      Sender
	jobs        *jobs.Runner
	clock       clock.Clock
	log         *slog.Logger
	maxAttempts int
	backoff     func(int) time.Duration
	lease       time.Duration
}

// DefaultLease leaves a claimed message to its worker for as long as one
// delivery takes with the default SMTP timeout of a minute, plus
// LeaseMargin.
const DefaultLease = time.Minute + LeaseMargin

// LeaseMargin is how long before its lease ends a worker gives up a send:
// time to record the outcome before another worker may claim the message.
const LeaseMargin = 30 * time.Second

// sweepEvery is how often pending messages that are due are enqueued for
// delivery: those whose enqueue after commit never happened, and retries.
const sweepEvery = time.Minute

// DefaultBackoff waits one minute after the first failure and doubles the
// wait after each further one, up to six hours.
func DefaultBackoff(attempt int) time.Duration {
	d := time.Minute
	for i := 1; i < attempt && d < 6*time.Hour; i++ {
		d *= 2
	}
	return min(d, 6*time.Hour)
}

// New builds the service and, when cfg.Jobs is set, registers its
// delivery job and the periodic sweep.
func New(cfg Config) (*Service, error) {
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("mail: the sender address is not valid: %w", err)
	}
	if cfg.Outbox == nil || cfg.Clock == nil {
		return nil, errors.New("mail: Outbox and Clock are required")
	}
	s := &Service{
		from:        from,
		outbox:      cfg.Outbox,
		sender:      cfg.Sender,
		jobs:        cfg.Jobs,
		clock:       cfg.Clock,
		log:         cfg.Log,
		maxAttempts: cfg.MaxAttempts,
		backoff:     cfg.Backoff,
		lease:       cfg.Lease,
	}
	if s.lease == 0 {
		s.lease = DefaultLease
	}
	if s.lease <= LeaseMargin {
		return nil, fmt.Errorf("mail: the lease must be longer than %s", LeaseMargin)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxAttempts <= 0 {
		s.maxAttempts = 12
	}
	if s.backoff == nil {
		s.backoff = DefaultBackoff
	}
	if s.jobs != nil {
		// The workers are registered even without a sender, so that jobs
		// left by an earlier configuration complete instead of failing.
		jobs.Register(s.jobs, func(ctx context.Context, j jobs.Job[DeliverArgs]) error {
			_, err := s.Deliver(ctx, j.Args.ID)
			return err
		})
		jobs.Register(s.jobs, func(ctx context.Context, j jobs.Job[SweepArgs]) error {
			_, err := s.Sweep(ctx)
			return err
		})
		if s.sender != nil {
			s.jobs.Periodic(jobs.Schedule{Every: sweepEvery, Args: SweepArgs{}, RunOnStart: true})
		}
	}
	return s, nil
}

// DeliverArgs is the job that delivers one message. It carries the outbox
// id, and the number of attempts the message had when the job was asked
// for. Jobs are unique by both: a job left running by a process that died
// holds the count from before its claim, so it does not stop the sweep
// from asking for the next attempt once the claim's lease has run out.
// Without the count the sweep would wait for River to rescue that job,
// which it does only long after the job's timeout.
type DeliverArgs struct {
	ID       string `json:"id"`
	Attempts int    `json:"attempts,omitempty"`
}

func (DeliverArgs) Kind() string { return "mail.deliver" }

// SweepArgs is the periodic job that enqueues due messages.
type SweepArgs struct{}

func (SweepArgs) Kind() string { return "mail.sweep" }

// Enabled reports whether an SMTP server is configured.
func (s *Service) Enabled() bool { return s.sender != nil }

// Outcome is what one call of Deliver did.
type Outcome string

const (
	// Skipped means nothing was attempted: no SMTP server is configured,
	// or the message is not pending and due, or another worker holds it.
	Skipped   Outcome = "skipped"
	Delivered Outcome = "sent"
	Retrying  Outcome = "retrying"
	GaveUp    Outcome = "failed"
)

// Dispatch asks for the given messages to be delivered now. Call it after
// the transaction that enqueued them has committed. It never fails the
// caller's request: if the job cannot be enqueued, the sweep delivers the
// message within a minute.
func (s *Service) Dispatch(ctx context.Context, ids ...string) {
	if s.sender == nil || s.jobs == nil {
		return
	}
	for _, id := range ids {
		if _, err := s.jobs.Enqueue(ctx, DeliverArgs{ID: id}, &jobs.Options{Unique: true}); err != nil {
			s.log.Warn("mail: could not enqueue delivery; the sweep will pick it up",
				slog.String("message_id", id), slog.String("error", err.Error()))
		}
	}
}

// Sweep enqueues a delivery for every pending message that is due. It
// returns how many it enqueued.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	if s.sender == nil || s.jobs == nil {
		return 0, nil
	}
	due, err := s.outbox.Due(ctx, s.clock.Now(), 500)
	if err != nil {
		return 0, err
	}
	for _, d := range due {
		if _, err := s.jobs.Enqueue(ctx, DeliverArgs{ID: d.ID, Attempts: d.Attempts}, &jobs.Options{Unique: true}); err != nil {
			return 0, err
		}
	}
	return len(due), nil
}

// Deliver makes one delivery attempt for message id, if it is pending and
// due. Failures of the mail server are recorded on the message (retry
// later, or give up after the last attempt) and are not errors of
// Deliver; an error means the outbox itself could not be read or written.
func (s *Service) Deliver(ctx context.Context, id string) (Outcome, error) {
	if s.sender == nil {
		return Skipped, nil
	}
	now := s.clock.Now()
	rec, ok, err := s.outbox.Claim(ctx, id, now, now.Add(s.lease))
	if err != nil {
		return "", err
	}
	if !ok {
		return Skipped, nil
	}
	attempt := rec.Attempts
	log := s.log.With(slog.String("message_id", rec.ID), slog.String("template", rec.Template), slog.Int("attempt", attempt))

	raw, err := Compose(s.from, rec)
	if err != nil {
		// The stored message cannot become a valid e-mail; no retry will
		// change that.
		if ferr := s.outbox.Fail(ctx, id, attempt, "compose: the stored message is not valid"); ferr != nil {
			return "", ferr
		}
		log.Error("mail: message cannot be composed; given up")
		return GaveUp, nil
	}
	to, _ := ParseRecipient(rec.To) // Compose has parsed it already
	// A send still running when the lease is about to end is given up, so
	// that it cannot overlap with the next worker's; the message is then
	// retried like any other failure.
	sendCtx, cancel := context.WithTimeout(ctx, s.lease-LeaseMargin)
	sendErr := s.sender.Send(sendCtx, s.from.Address, to.Address, raw)
	cancel()
	if sendErr == nil {
		if err := s.outbox.MarkSent(ctx, id, attempt, s.clock.Now()); err != nil {
			return "", err
		}
		log.Info("mail: sent")
		return Delivered, nil
	}

	reason := safeReason(sendErr)
	var se *SendError
	permanent := errors.As(sendErr, &se) && se.Permanent()
	if permanent || attempt >= s.maxAttempts {
		if err := s.outbox.Fail(ctx, id, attempt, reason); err != nil {
			return "", err
		}
		log.Warn("mail: delivery failed; given up", slog.String("error", reason), slog.Bool("permanent", permanent))
		return GaveUp, nil
	}
	retryAt := s.clock.Now().Add(s.backoff(attempt))
	if err := s.outbox.Reschedule(ctx, id, attempt, retryAt, reason); err != nil {
		return "", err
	}
	log.Warn("mail: delivery failed; will retry", slog.String("error", reason), slog.Time("retry_at", retryAt))
	return Retrying, nil
}

// safeReason turns a delivery error into text fit for the outbox and the
// logs: never the server's own words, which may quote an address.
func safeReason(err error) string {
	var se *SendError
	if errors.As(err, &se) {
		return se.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return "delivery failed"
}

// List returns outbox messages, newest first.
func (s *Service) List(ctx context.Context, f Filter) ([]Record, error) {
	if f.Status != "" && !f.Status.Valid() {
		return nil, &errs.Error{Code: errs.Invalid, Message: "unknown status", Fields: map[string]string{"status": "must be pending, sent, failed or held"}}
	}
	if f.Limit < 0 || f.Limit > MaxListLimit {
		return nil, &errs.Error{Code: errs.Invalid, Message: "limit out of range", Fields: map[string]string{"limit": fmt.Sprintf("must be from 1 to %d", MaxListLimit)}}
	}
	if f.Limit == 0 {
		f.Limit = DefaultListLimit
	}
	return s.outbox.List(ctx, f)
}

// Get returns one message.
func (s *Service) Get(ctx context.Context, id string) (Record, error) {
	return s.outbox.Get(ctx, id)
}

// Retry puts a failed message back in the queue with a fresh count of
// attempts and asks for its delivery.
func (s *Service) Retry(ctx context.Context, id string) (Record, error) {
	rec, err := s.outbox.Requeue(ctx, id, s.clock.Now())
	if err != nil {
		return Record{}, err
	}
	s.log.Info("mail: requeued by staff", slog.String("message_id", id))
	s.Dispatch(ctx, id)
	return rec, nil
}
