// Package jobs owns durable background work. Jobs live in the application's
// own database (SQLite or PostgreSQL) through River, so a job that was
// enqueued is never lost when the process stops: the next process to start
// runs it. Workers are bounded by configuration, periodic schedules replace
// cron, and shutdown lets running jobs finish before it cancels them.
//
// Job arguments are stored in the database and shown in logs, so they carry
// only ids, never personal data: a worker loads what it needs by id.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/database"
)

// Args are a job's arguments. Kind names the job and selects its worker;
// the value is stored as JSON and must hold only ids.
type Args interface {
	Kind() string
}

// Job is one run of a job as its worker sees it.
type Job[T Args] struct {
	ID int64
	// Attempt counts from 1; a retry after an error has Attempt 2 and so on.
	Attempt int
	Args    T
}

// Schedule makes a job run periodically: once in every period of length
// Every, however many processes there are and however often the one that
// schedules changes. Periods are aligned as time.Time.Truncate aligns
// them (an hourly schedule's periods are the hours of the UTC clock), and
// runs fall in their middle. A job must still be safe to
// run twice (a run may be retried after a crash), but a rolling restart
// does not add runs.
type Schedule struct {
	Every time.Duration
	Args  Args
	// RunOnStart also enqueues the job as soon as this process becomes the
	// one that schedules periodic work, unless it already ran (or is
	// waiting to run) in the current period, so that a long interval is
	// not waited out again after a restart that happened to stop the
	// schedule before its period's run.
	RunOnStart bool
}

// Options tune one Enqueue. The zero value is a plain job run as soon as a
// worker is free.
type Options struct {
	// Unique skips the insert when a job of the same kind and arguments is
	// still waiting or running, so a sweep may enqueue without piling up.
	Unique bool
	// RunAt delays the job; zero means now.
	RunAt time.Time
	// MaxAttempts overrides the number of tries before the job is given up.
	MaxAttempts int
}

// Config sizes the runner.
type Config struct {
	// Workers bounds how many jobs run at once in this process.
	Workers int
	// JobTimeout cancels a job's context after this long; zero means 2 minutes.
	JobTimeout time.Duration
	// MaxAttempts is the default number of tries; zero means 10.
	MaxAttempts int
	// RetryDelay, when set, replaces the exponential backoff between tries
	// (attempt counts from 1). Tests set it to keep retries prompt.
	RetryDelay func(attempt int) time.Duration
	// Clock dates retries. River compares due times with the wall clock,
	// so this is clock.System outside tests too; nil means clock.System.
	Clock clock.Clock
	Log   *slog.Logger
}

// engine is what the runner uses of a River client; both the SQLite and
// the PostgreSQL clients satisfy it, whatever their transaction type.
type engine interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	PeriodicJobs() *river.PeriodicJobBundle
}

// Runner enqueues and runs jobs. Register workers and schedules first;
// the first Enqueue or Start fixes the set.
type Runner struct {
	db  *database.DB
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	workers  *river.Workers
	kinds    map[string]bool
	periodic []*river.PeriodicJob
	client   engine // built on first use
	started  bool
}

// New returns a runner on db. Nothing runs until Start.
func New(db *database.DB, cfg Config) *Runner {
	if cfg.Workers < 1 {
		cfg.Workers = 1
	}
	if cfg.JobTimeout <= 0 {
		cfg.JobTimeout = 2 * time.Minute
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 10
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{db: db, cfg: cfg, log: log, workers: river.NewWorkers(), kinds: map[string]bool{}}
}

// ErrFrozen is returned (as a panic) when a worker or schedule is added
// after the runner started or enqueued its first job.
var ErrFrozen = errors.New("jobs: register workers and schedules before the first Enqueue or Start")

// Register adds the worker for jobs of kind T. It panics when the kind is
// registered twice or the runner is already in use: both are wiring bugs
// that must stop the program at start-up.
func Register[T Args](r *Runner, work func(ctx context.Context, job Job[T]) error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.client != nil {
		panic(ErrFrozen)
	}
	river.AddWorker(r.workers, river.WorkFunc(func(ctx context.Context, j *river.Job[T]) error {
		return work(ctx, Job[T]{ID: j.ID, Attempt: j.Attempt, Args: j.Args})
	}))
	r.kinds[(*new(T)).Kind()] = true
}

// Periodic adds a schedule. The job's kind must have a registered worker.
//
// Only one process at a time (River's elected leader) enqueues periodic
// jobs, so several servers do not multiply them. But each new leader
// starts its schedules afresh, and a rolling restart of N instances
// elects up to N leaders in a row: without more, every one of them would
// run the RunOnStart jobs again, and a schedule's first run would come
// Every after each election. So each run is a unique job per period
// (River's UniqueOpts.ByPeriod, which counts finished jobs too): a
// leader that finds its period's run already enqueued, waiting or done
// enqueues nothing.
func (r *Runner) Periodic(s Schedule) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.client != nil {
		panic(ErrFrozen)
	}
	if s.Every < time.Second {
		panic(fmt.Sprintf("jobs: periodic %s every %s: the interval must be at least a second", s.Args.Kind(), s.Every))
	}
	args := s.Args
	once := &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: s.Every}}
	r.periodic = append(r.periodic, river.NewPeriodicJob(
		midPeriod(s.Every),
		func() (river.JobArgs, *river.InsertOpts) { return args, once },
		&river.PeriodicJobOpts{ID: args.Kind(), RunOnStart: s.RunOnStart},
	))
}

// midPeriod schedules a run in the middle of each period, the periods
// being those River's uniqueness counts (time.Time.Truncate by the
// period). River dates a periodic job by the moment it inserts it, a
// little early or late; a run due at a period's edge could then land in
// the period of the run before and be dropped as its duplicate. In the
// middle, half a period of slack separates every run from either edge.
type midPeriod time.Duration

// Next is the middle of the period after the one holding t.
func (p midPeriod) Next(t time.Time) time.Time {
	d := time.Duration(p)
	return t.Truncate(d).Add(d + d/2)
}

// build creates the River client once, fixing the registered set.
func (r *Runner) build() (engine, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.client != nil {
		return r.client, nil
	}
	cfg := &river.Config{
		Logger:       r.log,
		Workers:      r.workers,
		PeriodicJobs: r.periodic,
		JobTimeout:   r.cfg.JobTimeout,
		MaxAttempts:  r.cfg.MaxAttempts,
		// Stuck jobs (a process killed mid-job) are retried after this.
		RescueStuckJobsAfter: r.cfg.JobTimeout + 10*time.Minute,
		// Finished jobs are kept a while for diagnosis; their arguments are
		// ids only.
		CompletedJobRetentionPeriod: 24 * time.Hour,
	}
	if r.cfg.RetryDelay != nil {
		cfg.RetryPolicy = retryPolicy{now: r.cfg.Clock.Now, delay: r.cfg.RetryDelay}
	}
	if len(r.kinds) > 0 {
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: r.cfg.Workers}}
	}
	var (
		client engine
		err    error
	)
	switch r.db.Dialect() {
	case database.Postgres:
		client, err = river.NewClient(riverpgxv5.New(r.db.PGPool()), cfg)
	default:
		// River's SQLite driver issues many small statements in parallel
		// and needs a pool of exactly one connection, which the database
		// package keeps apart from the application's own pool.
		client, err = river.NewClient(riversqlite.New(r.db.JobSQL()), cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	r.client = client
	return client, nil
}

// Start begins working jobs and periodic schedules in the background. The
// runner keeps going until Stop, whatever happens to ctx afterwards, so
// that the caller decides the order of shutdown.
func (r *Runner) Start(ctx context.Context) error {
	c, err := r.build()
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return nil
	}
	if len(r.kinds) == 0 {
		// Nothing to work: the runner only enqueues.
		return nil
	}
	if err := c.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	r.started = true
	r.log.Info("jobs started", slog.Int("workers", r.cfg.Workers), slog.Int("kinds", len(r.kinds)), slog.Int("schedules", len(r.periodic)))
	return nil
}

// hardStopGrace is how long Stop waits, after cancelling running jobs, for
// them to return and for their outcome to be recorded.
const hardStopGrace = 5 * time.Second

// Stop stops fetching new jobs and waits up to timeout for running jobs to
// finish. Jobs still running then have their context cancelled; River
// records them as failed attempts and a later process retries them.
func (r *Runner) Stop(timeout time.Duration) error {
	r.mu.Lock()
	c, started := r.client, r.started
	r.started = false
	r.mu.Unlock()
	if !started {
		return nil
	}
	soft, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := c.Stop(soft)
	if errors.Is(err, context.DeadlineExceeded) {
		r.log.Warn("jobs still running at the shutdown deadline; cancelling them")
		hard, cancelHard := context.WithTimeout(context.Background(), hardStopGrace)
		defer cancelHard()
		err = c.StopAndCancel(hard)
	}
	if err != nil {
		return fmt.Errorf("jobs: stop: %w", err)
	}
	r.log.Info("jobs stopped")
	return nil
}

// Enqueue stores a job to be run by this or another process. Call it after
// the transaction that made the job necessary has committed, so a worker
// never looks for rows that are not visible yet; work that must not be
// lost when the process dies in between is found again by a periodic sweep.
// With Options.Unique a duplicate is skipped and the existing job's id
// returned.
func (r *Runner) Enqueue(ctx context.Context, args Args, opts *Options) (int64, error) {
	c, err := r.build()
	if err != nil {
		return 0, err
	}
	ins := &river.InsertOpts{}
	if opts != nil {
		ins.ScheduledAt = opts.RunAt
		ins.MaxAttempts = opts.MaxAttempts
		if opts.Unique {
			ins.UniqueOpts = river.UniqueOpts{
				ByArgs: true,
				// Finished jobs are left out, so the same work can be
				// enqueued again once the last run is over.
				ByState: []rivertype.JobState{
					rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
					rivertype.JobStateRunning, rivertype.JobStateScheduled,
				},
			}
		}
	}
	res, err := c.Insert(ctx, args, ins)
	if err != nil {
		return 0, fmt.Errorf("jobs: enqueue %s: %w", args.Kind(), err)
	}
	return res.Job.ID, nil
}

// retryPolicy adapts a delay function to River.
type retryPolicy struct {
	now   func() time.Time
	delay func(attempt int) time.Duration
}

func (p retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	return p.now().Add(p.delay(job.Attempt))
}
