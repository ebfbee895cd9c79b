package app

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/platform/jobs"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/platform/safehttp"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/rights"
	"github.com/sessionshq/sessions/internal/store"
)

// Rights runs the data-subject rights engines: exports, erasures and
// direct transfers, and the notices to recipients (Art. 19 GDPR).
type Rights struct {
	Eraser     *store.Eraser
	Exporter   *store.Exporter
	Transferer *store.Transferer
	// Outbound sends transfers and webhook notices to addresses people
	// and staff type in; it refuses private networks when it dials.
	Outbound *safehttp.Client
	jobs     *jobs.Runner
	log      *slog.Logger
}

// StartTransfer enqueues the sending of a confirmed transfer; if that
// fails the periodic sweep picks it up.
func (r *Rights) StartTransfer(ctx context.Context, transferID string) {
	if _, err := r.jobs.Enqueue(ctx, rights.TransferArgs{TransferID: transferID}, &jobs.Options{Unique: true}); err != nil {
		r.log.Warn("could not enqueue a transfer; the periodic job will", slog.String("transfer", transferID), slog.String("error", err.Error()))
	}
}

// CheckTarget refuses an address that does not lead to a public service,
// the early answer of the transfer form; sending checks again.
func (r *Rights) CheckTarget(ctx context.Context, u *url.URL) error { return r.Outbound.Check(ctx, u) }

// StartExport enqueues the building of an export; if that fails the
// periodic sweep picks the export up.
func (r *Rights) StartExport(ctx context.Context, exportID string) {
	if _, err := r.jobs.Enqueue(ctx, rights.ExportArgs{ExportID: exportID}, &jobs.Options{Unique: true}); err != nil {
		r.log.Warn("could not enqueue an export; the periodic job will", slog.String("export", exportID), slog.String("error", err.Error()))
	}
}

// StartErasure starts a recorded erasure run at once (see
// store.StartErasure, which records it).
func (r *Rights) StartErasure(ctx context.Context, runID string) { r.Eraser.Dispatch(ctx, runID) }

// meetingLinks makes the meeting addresses and iCalendar UIDs of exports
// from the public address.
func meetingLinks(baseURL string) meeting.Links {
	base := strings.TrimSuffix(baseURL, "/")
	domain := "localhost"
	if u, err := url.Parse(base); err == nil && u.Hostname() != "" {
		domain = u.Hostname()
	}
	return meeting.Links{BaseURL: base, Domain: domain}
}

// erasureDoneMail is the last message a person whose data was erased at
// their request receives. It names nothing but the fact.
func erasureDoneMail(to string) mail.Message {
	return mail.Message{
		Category: mail.Transactional, Template: "rights.erasure_done", To: to,
		Subject: "Your account and data have been deleted",
		Text: "As you asked, we have deleted your Sessions account and the personal data we held about you.\n\n" +
			"A few records stay because the law requires us to keep them, such as the evidence of your consent choices and of this deletion; " +
			"they no longer name you directly and are deleted when their retention period ends. What you wrote in meetings shared with others stays for them without your name.\n\n" +
			"This is the last message we send to this address.\n",
	}
}

// openRights wires the engines and registers their jobs: one job per
// erasure run and per export, and a periodic sweep that starts what no
// worker holds (deletion requests, runs whose process died, held runs
// whose hold may be over, exports waiting) and deletes expired exports.
func (a *App) openRights() {
	log := a.Log.With(slog.String("component", "rights"))
	r := &Rights{jobs: a.Jobs, log: log}
	r.Eraser = &store.Eraser{
		DB: a.DB, Secret: a.Secret, Files: a.Blobs, Map: datamap.Default(), Clock: a.Clock,
		Held: store.PersonHeld, DoneMail: erasureDoneMail, DispatchMail: a.Mail.Dispatch, Log: log, Lease: a.Config.ErasureLease,
		Enqueue: func(ctx context.Context, runID string) error {
			_, err := a.Jobs.Enqueue(ctx, rights.EraseArgs{RunID: runID}, nil)
			return err
		},
	}
	r.Exporter = &store.Exporter{DB: a.DB, Blobs: a.Blobs, Map: datamap.Default(), Clock: a.Clock, Secret: a.Secret, Log: log,
		Links: meetingLinks(a.Config.BaseURL)}
	r.Outbound = &safehttp.Client{}
	r.Transferer = &store.Transferer{DB: a.DB, Exporter: r.Exporter, Client: r.Outbound, Clock: a.Clock, Secret: a.Secret, Log: log}
	a.Rights = r
	jobs.Register(a.Jobs, func(ctx context.Context, j jobs.Job[rights.TransferArgs]) error {
		return r.Transferer.Send(ctx, j.Args.TransferID)
	})
	jobs.Register(a.Jobs, func(ctx context.Context, j jobs.Job[rights.EraseArgs]) error {
		return r.Eraser.Run(ctx, j.Args.RunID)
	})
	jobs.Register(a.Jobs, func(ctx context.Context, j jobs.Job[rights.ExportArgs]) error {
		return r.Exporter.Build(ctx, j.Args.ExportID)
	})
	jobs.Register(a.Jobs, func(ctx context.Context, _ jobs.Job[rights.ResumeArgs]) error {
		if _, err := r.Eraser.Resume(ctx); err != nil {
			return err
		}
		queued, err := store.QueuedExports(ctx, a.DB, a.Clock.Now())
		if err != nil {
			return err
		}
		for _, id := range queued {
			r.StartExport(ctx, id)
		}
		transfers, err := store.QueuedTransfers(ctx, a.DB)
		if err != nil {
			return err
		}
		for _, id := range transfers {
			r.StartTransfer(ctx, id)
		}
		if _, err := store.DeliverRecipientNotices(ctx, a.DB, r.Outbound, a.Clock.Now()); err != nil {
			return err
		}
		_, err = r.Exporter.ExpireExports(ctx)
		return err
	})
	// A run whose process died is taken up once its lease lapses, so the
	// sweep looks at least as often as a lease lasts.
	every := rights.ResumeEvery
	if l := a.Config.ErasureLease; l > 0 && l < every {
		every = max(l, time.Second)
	}
	a.Jobs.Periodic(jobs.Schedule{Every: every, Args: rights.ResumeArgs{}, RunOnStart: true})
}
