package jobs_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/platform/jobs"
)

// wait is generous: it bounds a hung test, it does not measure speed.
const wait = 60 * time.Second

type pingArgs struct {
	N int `json:"n"`
}

func (pingArgs) Kind() string { return "test.ping" }

type tickArgs struct{}

func (tickArgs) Kind() string { return "test.tick" }

func newRunner(db *database.DB) *jobs.Runner {
	return jobs.New(db, jobs.Config{
		Workers:    2,
		RetryDelay: func(int) time.Duration { return 10 * time.Millisecond },
		Log:        slog.New(slog.DiscardHandler),
	})
}

func stop(t *testing.T, r *jobs.Runner) {
	t.Helper()
	if err := r.Stop(wait); err != nil {
		t.Errorf("stop: %v", err)
	}
}

func jobState(t *testing.T, db *database.DB, id int64) string {
	t.Helper()
	var state string
	if err := db.QueryRow(context.Background(), "SELECT state FROM river_job WHERE id = ?", id).Scan(&state); err != nil {
		t.Fatalf("job %d: %v", id, err)
	}
	return state
}

// waitState polls until River has recorded the job's outcome.
func waitState(t *testing.T, db *database.DB, id int64, want string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		got := jobState(t, db, id)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d is %q, want %q", id, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

func TestQueuedJobSurvivesRestart(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	ctx := context.Background()

	// The first process registers the worker, runs and stops; a job
	// enqueued afterwards (as an operator command would) is not run by it.
	first := newRunner(db)
	ran := make(chan int, 4)
	jobs.Register(first, func(ctx context.Context, j jobs.Job[pingArgs]) error { ran <- j.Args.N; return nil })
	if err := first.Start(ctx); err != nil {
		t.Fatal(err)
	}
	stop(t, first)
	id, err := first.Enqueue(ctx, pingArgs{N: 7}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := jobState(t, db, id); got != "available" {
		t.Fatalf("state before restart = %q, want available", got)
	}

	second := newRunner(db)
	done := make(chan int, 4)
	jobs.Register(second, func(ctx context.Context, j jobs.Job[pingArgs]) error { done <- j.Args.N; return nil })
	if err := second.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer stop(t, second)
	if n := receive(t, done, "the queued job"); n != 7 {
		t.Fatalf("job ran with n=%d, want 7", n)
	}
	if len(ran) != 0 {
		t.Fatal("the stopped runner worked a job")
	}
}

func TestInterruptedJobRunsInNextProcess(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	ctx := context.Background()

	first := newRunner(db)
	started := make(chan struct{}, 1)
	jobs.Register(first, func(ctx context.Context, j jobs.Job[pingArgs]) error {
		started <- struct{}{}
		<-ctx.Done() // never finishes on its own
		return ctx.Err()
	})
	if err := first.Start(ctx); err != nil {
		t.Fatal(err)
	}
	id, err := first.Enqueue(ctx, pingArgs{N: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	receive(t, started, "the job to start")
	// A short grace: the job ignores everything but cancellation.
	if err := first.Stop(50 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if got := jobState(t, db, id); got == "completed" || got == "running" {
		t.Fatalf("state after a cancelled run = %q, want it waiting for a retry", got)
	}

	second := newRunner(db)
	done := make(chan int, 1)
	jobs.Register(second, func(ctx context.Context, j jobs.Job[pingArgs]) error { done <- j.Attempt; return nil })
	if err := second.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer stop(t, second)
	// A run cut short by shutdown is not the job's fault, so it does not
	// use up one of the job's attempts.
	if attempt := receive(t, done, "the interrupted job"); attempt != 1 {
		t.Fatalf("attempt = %d, want 1", attempt)
	}
	waitState(t, db, id, "completed")
}

func TestStopLetsRunningJobFinish(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	ctx := context.Background()
	r := newRunner(db)
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	cancelled := make(chan bool, 1)
	jobs.Register(r, func(ctx context.Context, j jobs.Job[pingArgs]) error {
		started <- struct{}{}
		<-release
		cancelled <- ctx.Err() != nil
		return nil
	})
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	id, err := r.Enqueue(ctx, pingArgs{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	receive(t, started, "the job to start")
	stopped := make(chan error, 1)
	go func() { stopped <- r.Stop(wait) }()
	close(release)
	if err := receive(t, stopped, "stop"); err != nil {
		t.Fatal(err)
	}
	if <-cancelled {
		t.Fatal("the running job was cancelled although it finished within the timeout")
	}
	if got := jobState(t, db, id); got != "completed" {
		t.Fatalf("state = %q, want completed", got)
	}
}

func TestFailingJobIsRetried(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	ctx := context.Background()
	r := newRunner(db)
	attempts := make(chan int, 4)
	jobs.Register(r, func(ctx context.Context, j jobs.Job[pingArgs]) error {
		attempts <- j.Attempt
		if j.Attempt < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer stop(t, r)
	id, err := r.Enqueue(ctx, pingArgs{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for want := 1; want <= 3; want++ {
		if got := receive(t, attempts, "an attempt"); got != want {
			t.Fatalf("attempt %d ran as %d", want, got)
		}
	}
	waitState(t, db, id, "completed")
}

func TestMaxAttemptsDiscards(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	ctx := context.Background()
	r := newRunner(db)
	attempts := make(chan int, 8)
	jobs.Register(r, func(ctx context.Context, j jobs.Job[pingArgs]) error {
		attempts <- j.Attempt
		return errors.New("always")
	})
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer stop(t, r)
	id, err := r.Enqueue(ctx, pingArgs{}, &jobs.Options{MaxAttempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	receive(t, attempts, "attempt 1")
	receive(t, attempts, "attempt 2")
	waitState(t, db, id, "discarded")
	if len(attempts) != 0 {
		t.Fatalf("ran %d more times than allowed", len(attempts))
	}
}

func TestPeriodicJobRuns(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	ctx := context.Background()
	r := newRunner(db)
	ticks := make(chan struct{}, 16)
	jobs.Register(r, func(ctx context.Context, j jobs.Job[tickArgs]) error { ticks <- struct{}{}; return nil })
	// Not run on start: the tick must come from the schedule itself.
	r.Periodic(jobs.Schedule{Every: time.Second, Args: tickArgs{}})
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer stop(t, r)
	receive(t, ticks, "the first tick")
	receive(t, ticks, "the second tick")
}

// TestPeriodicJobRunsOncePerPeriodAcrossLeaders: a rolling restart hands
// the scheduling of periodic work from one process to the next, and each
// new leader enqueues the jobs that run on start. Within one period the
// second leader's run is dropped, so the work runs once, not once per
// instance restarted.
func TestPeriodicJobRunsOncePerPeriodAcrossLeaders(t *testing.T) {
	t.Parallel()
	// Far longer than the test: both leaders fall in one period unless
	// the test straddles its edge, which the loop detects and retries.
	const every = 24 * time.Hour
	for try := 1; ; try++ {
		period := time.Now().Truncate(every)
		db := dbtest.Open(t)
		ticks := make(chan struct{}, 4)
		for leader := range 2 {
			runLeader(t, db, every, leader, ticks)
		}
		if !time.Now().Truncate(every).Equal(period) && try < 3 {
			continue // two periods: two runs would be right
		}
		var runs int
		if err := db.QueryRow(context.Background(), "SELECT COUNT(*) FROM river_job WHERE kind = ?", tickArgs{}.Kind()).Scan(&runs); err != nil {
			t.Fatal(err)
		}
		if runs != 1 || len(ticks) != 0 {
			t.Fatalf("two leaders in one period enqueued %d runs, and %d ran after the first; want 1 and none", runs, len(ticks))
		}
		return
	}
}

// runLeader starts a runner on db that becomes the leader, with a tick
// scheduled to run on start, and stops it once its start-up runs are
// done. A ping scheduled alongside, whose arguments differ per leader,
// tells when they were enqueued (River inserts them in one transaction);
// the first leader also waits for its tick.
func runLeader(t *testing.T, db *database.DB, every time.Duration, leader int, ticks chan struct{}) {
	t.Helper()
	r := newRunner(db)
	pinged := make(chan int, 1)
	jobs.Register(r, func(ctx context.Context, j jobs.Job[tickArgs]) error { ticks <- struct{}{}; return nil })
	jobs.Register(r, func(ctx context.Context, j jobs.Job[pingArgs]) error { pinged <- j.Args.N; return nil })
	r.Periodic(jobs.Schedule{Every: every, Args: tickArgs{}, RunOnStart: true})
	r.Periodic(jobs.Schedule{Every: every, Args: pingArgs{N: leader}, RunOnStart: true})
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer stop(t, r)
	if got := receive(t, pinged, "the leader's start-up runs"); got != leader {
		t.Fatalf("leader %d ran the ping of leader %d", leader, got)
	}
	if leader == 0 {
		receive(t, ticks, "the first leader's tick")
	}
}

func TestUniqueSkipsDuplicateWhileWaiting(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	ctx := context.Background()
	r := newRunner(db)
	jobs.Register(r, func(ctx context.Context, j jobs.Job[pingArgs]) error { return nil })
	a, err := r.Enqueue(ctx, pingArgs{N: 1}, &jobs.Options{Unique: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Enqueue(ctx, pingArgs{N: 1}, &jobs.Options{Unique: true})
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.Enqueue(ctx, pingArgs{N: 2}, &jobs.Options{Unique: true})
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatalf("duplicate got a new job %d, want %d", b, a)
	}
	if c == a {
		t.Fatal("different arguments were treated as a duplicate")
	}
}

func TestRegisterAfterUsePanics(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	r := newRunner(db)
	jobs.Register(r, func(ctx context.Context, j jobs.Job[pingArgs]) error { return nil })
	if _, err := r.Enqueue(context.Background(), pingArgs{}, nil); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("late registration was accepted")
		}
	}()
	jobs.Register(r, func(ctx context.Context, j jobs.Job[tickArgs]) error { return nil })
}
