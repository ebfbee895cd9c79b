package dsr

import (
	"context"
	"log/slog"
	"time"

	"github.com/sessionshq/sessions/internal/platform/jobs"
	"github.com/sessionshq/sessions/internal/privacy/rights"
	"github.com/sessionshq/sessions/internal/store"
)

// RegisterJobs hands the background work of data-subject rights to r: one
// job per erasure run, export and transfer, and two periodic sweeps. The
// rights sweep starts what no worker holds (deletion requests, runs
// whose process died, held runs whose hold may be over, exports and
// transfers waiting), posts the webhook notices and deletes expired
// exports; the requests sweep lifts announced restrictions and purges
// unverified requests.
func (s *Service) RegisterJobs(r *jobs.Runner) {
	jobs.Register(r, func(ctx context.Context, j jobs.Job[rights.TransferArgs]) error {
		return s.SendTransfer(ctx, j.Args.TransferID)
	})
	jobs.Register(r, func(ctx context.Context, j jobs.Job[rights.EraseArgs]) error {
		return s.RunErasure(ctx, j.Args.RunID)
	})
	jobs.Register(r, func(ctx context.Context, j jobs.Job[rights.ExportArgs]) error {
		return s.BuildExport(ctx, j.Args.ExportID)
	})
	jobs.Register(r, func(ctx context.Context, _ jobs.Job[rights.ResumeArgs]) error {
		return s.Resume(ctx)
	})
	// A run whose process died is taken up once its lease lapses, so the
	// sweep looks at least as often as a lease lasts.
	every := rights.ResumeEvery
	if l := s.env.Config.ErasureLease; l > 0 && l < every {
		every = max(l, time.Second)
	}
	r.Periodic(jobs.Schedule{Every: every, Args: rights.ResumeArgs{}, RunOnStart: true})

	jobs.Register(r, func(ctx context.Context, _ jobs.Job[rights.RequestSweepArgs]) error {
		return s.SweepRequests(ctx)
	})
	r.Periodic(jobs.Schedule{Every: rights.RequestSweepEvery, Args: rights.RequestSweepArgs{}, RunOnStart: true})
}

// Resume is the periodic sweep of the rights engines: erasures to start
// or take up again, exports and transfers waiting for a worker, webhook
// notices to post, and expired exports to delete.
func (s *Service) Resume(ctx context.Context) error {
	if _, err := s.ResumeErasures(ctx); err != nil {
		return err
	}
	db := s.env.Store.DB
	queued, err := store.QueuedExports(ctx, db, s.env.Now())
	if err != nil {
		return err
	}
	for _, id := range queued {
		s.enqueue(ctx, rights.ExportArgs{ExportID: id}, &jobs.Options{Unique: true})
	}
	transfers, err := store.QueuedTransfers(ctx, db)
	if err != nil {
		return err
	}
	for _, id := range transfers {
		s.enqueue(ctx, rights.TransferArgs{TransferID: id}, &jobs.Options{Unique: true})
	}
	if _, err := s.DeliverRecipientNotices(ctx); err != nil {
		return err
	}
	_, err = s.ExpireExports(ctx)
	return err
}

// enqueue asks for a job outside any use case; a failed enqueue is
// logged, and the next sweep asks again.
func (s *Service) enqueue(ctx context.Context, args jobs.Args, opts *jobs.Options) {
	if s.env.Jobs == nil {
		return
	}
	if _, err := s.env.Jobs.Enqueue(ctx, args, opts); err != nil {
		s.log().Warn("could not enqueue a job; the periodic sweep will", slog.String("kind", args.Kind()), slog.String("error", err.Error()))
	}
}
