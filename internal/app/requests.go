package app

import (
	"context"
	"time"

	"github.com/sessionshq/sessions/internal/platform/jobs"
	"github.com/sessionshq/sessions/internal/store"
)

// RequestSweepArgs is the periodic job of the rights requests: it lifts
// the restrictions whose announcement has been sent (the person is told
// before the lift, never after) and deletes requests from the public
// form whose code was never typed.
type RequestSweepArgs struct{}

// Kind names the job.
func (RequestSweepArgs) Kind() string { return "rights.requests_sweep" }

// requestSweepEvery is how often the sweep runs; a lift waits at most
// this long after its message went out.
const requestSweepEvery = time.Minute

// openRequests registers the sweep.
func (a *App) openRequests() {
	jobs.Register(a.Jobs, func(ctx context.Context, _ jobs.Job[RequestSweepArgs]) error {
		now := a.Clock.Now()
		if _, err := store.LiftNoticedRestrictions(ctx, a.DB, a.Secret, now); err != nil {
			return err
		}
		_, err := store.PurgeUnverifiedRequests(ctx, a.DB, now)
		return err
	})
	a.Jobs.Periodic(jobs.Schedule{Every: requestSweepEvery, Args: RequestSweepArgs{}, RunOnStart: true})
}
