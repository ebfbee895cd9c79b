// Package retain holds the use cases of retention: the periodic
// enforcement of the data map's retention rules, dry runs for the staff
// console and the operator's command, the report of past runs, and legal
// holds. The rules themselves are pure (internal/privacy/retention); the
// SQL of each step is the store's; this package decides the order,
// batches, time budget, files, mail, erasures and audit entries.
package retain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/config"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/jobs"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/retention"
	"github.com/sessionshq/sessions/internal/privacy/rights"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/service/dsr"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

// Service runs the use cases of retention.
type Service struct {
	env    *service.Env
	rights *dsr.Service
}

// New builds the service; people whose time is over are handed to the
// erasure engine of rights.
func New(env *service.Env, rights *dsr.Service) *Service { return &Service{env: env, rights: rights} }

// Options shape one run. The zero value is a real, recorded, scheduled
// run of the whole plan at the service's clock.
type Options struct {
	Trigger retention.Trigger
	DryRun  bool
	// Record keeps the run and its counts in the report; the console's
	// preview leaves it false.
	Record bool
	// Plan replaces the data map's whole plan, for benchmarks that time
	// one rule; nil runs every rule.
	Plan *retention.Plan
	// Batch bounds the rows one statement touches; zero means
	// retention.DefaultBatch.
	Batch int
	// Deadline, when set, stops the run after the batch in progress; the
	// run is then partial, and the next one continues.
	Deadline time.Time
}

// Periods are the periods in force: the data map's, with the operator's
// SESSIONS_RETENTION and the reactivation grace period.
func (s *Service) Periods() (retention.Periods, error) {
	p, err := retention.Configured(*s.env.Map, s.env.Config.Retention, s.env.Config.ReactivationGrace)
	if err != nil {
		return p, &config.Error{Setting: "SESSIONS_RETENTION", Reason: err.Error()}
	}
	return p, nil
}

// RegisterJobs runs the engine every retention.RunEvery, within
// retention.RunBudget per run; the next run continues what one left.
func (s *Service) RegisterJobs(r *jobs.Runner) {
	jobs.Register(r, func(ctx context.Context, _ jobs.Job[retention.RunArgs]) error {
		// A budget of the job's running time, not of the data's age, so
		// the wall clock rather than the service's clock.
		_, err := s.Run(ctx, Options{Trigger: retention.BySchedule, Record: true, Deadline: time.Now().Add(retention.RunBudget)})
		return err
	})
	r.Periodic(jobs.Schedule{Every: retention.RunEvery, Args: retention.RunArgs{}, RunOnStart: true})
	// The purges the retention run replaced may still be queued on an
	// upgraded instance; they end as done instead of failing ten times.
	jobs.Register(r, func(context.Context, jobs.Job[retention.RetiredAuthPurgeArgs]) error { return nil })
	jobs.Register(r, func(context.Context, jobs.Job[retention.RetiredAnalyticsPurgeArgs]) error { return nil })
}

// errOutOfTime stops a run at its deadline.
var errOutOfTime = errors.New("retention: out of time")

// run is one run of the engine in progress.
type run struct {
	s     *Service
	o     Options
	p     retention.Periods
	now   time.Time
	batch int
	out   retention.Run
}

// Run carries out the plan: it sweeps each table under each of its
// anchored rules in batches, one statement (and so one short
// transaction) per batch, then warns and hands to the erasure engine the
// people whose own rules have ended. Everything a legal hold covers is
// left alone and counted. Every step is idempotent, so a run cut short,
// by a crash or its deadline, is finished by the next one. A dry run
// changes nothing and reports what a real run would do, with a few ids
// of each kind. With o.Record the run and its counts are kept; a real
// run is also audited.
//
// Unlike other use cases it is many transactions, one per batch, so that
// it never holds the database for long.
func (s *Service) Run(ctx context.Context, o Options) (retention.Run, error) {
	periods, err := s.Periods()
	if err != nil {
		return retention.Run{}, err
	}
	if o.Trigger == "" {
		o.Trigger = retention.BySchedule
	}
	if o.Plan == nil {
		plan := retention.Build(*s.env.Map)
		o.Plan = &plan
	}
	now := s.env.Now()
	r := &run{s: s, o: o, p: periods, now: now, batch: o.Batch, out: retention.Run{
		ID: retention.NewRunID(), StartedAt: now, DryRun: o.DryRun, Trigger: o.Trigger, State: retention.Running,
	}}
	if r.batch <= 0 {
		r.batch = retention.DefaultBatch
	}
	db := s.env.Store.DB
	if o.Record {
		if err := store.RecordRetentionStart(ctx, db, r.out); err != nil {
			return r.out, fmt.Errorf("record the retention run: %w", err)
		}
	}
	err = r.all(ctx)
	switch {
	case err == nil:
		r.out.State = retention.Done
	case errors.Is(err, errOutOfTime):
		r.out.State, err = retention.Partial, nil
	default:
		r.out.State, r.out.Error = retention.Failed, retention.ErrorCode(err)
	}
	finished := now
	r.out.FinishedAt = &finished
	if o.Record {
		// The run's own bookkeeping must land even when ctx is what ended it.
		if ferr := r.finish(context.WithoutCancel(ctx)); ferr != nil {
			return r.out, errors.Join(err, ferr)
		}
	}
	return r.out, err
}

func (r *run) all(ctx context.Context) error {
	for _, sw := range r.o.Plan.Sweeps {
		res, err := r.sweep(ctx, sw)
		r.add(res)
		if err != nil {
			return fmt.Errorf("%s on %s: %w", sw.Rule, sw.Table, err)
		}
	}
	for _, p := range r.o.Plan.People {
		var err error
		switch p.Kind {
		case retention.Inactive:
			err = r.inactive(ctx, p)
		case retention.Deactivated:
			err = r.deactivated(ctx, p)
		case retention.Guest:
			err = r.guests(ctx, p)
		}
		if err != nil {
			return fmt.Errorf("%s on %s: %w", p.Rule, p.Table, err)
		}
	}
	return nil
}

func (r *run) add(res retention.Result) {
	if res.Rule != "" {
		r.out.Merge(res)
	}
}

func (r *run) outOfTime() bool {
	return !r.o.Deadline.IsZero() && !time.Now().Before(r.o.Deadline)
}

// finish writes the counts and the outcome, and audits a real run.
func (r *run) finish(ctx context.Context) error {
	return r.s.env.InTx(ctx, func(tx *service.Tx) error {
		if err := store.RecordRetentionFinish(ctx, tx, r.out); err != nil {
			return err
		}
		if r.out.DryRun {
			return nil
		}
		var held int64
		for _, res := range r.out.Results {
			held += res.Held
		}
		return tx.Audit(ctx, audit.Entry{
			At: *r.out.FinishedAt, Actor: audit.Party{Kind: "system"}, Action: "retention.run",
			Subject: audit.Party{Kind: "retention_run", ID: r.out.ID}, Purpose: "legal-compliance",
			Detail: map[string]string{
				"state":      string(r.out.State),
				"deleted":    strconv.FormatInt(r.out.Total(retention.Delete), 10),
				"anonymised": strconv.FormatInt(r.out.Total(retention.Anonymise), 10),
				"warned":     strconv.FormatInt(r.out.Total(retention.Warn), 10),
				"erased":     strconv.FormatInt(r.out.Total(retention.Erase), 10),
				"held":       strconv.FormatInt(held, 10),
			},
		})
	})
}

// sweep applies one rule to one table.
func (r *run) sweep(ctx context.Context, sw retention.Sweep) (retention.Result, error) {
	res := retention.Result{Rule: sw.Rule, Table: sw.Table, Action: sw.Action}
	cutoff, ok := r.p.Cutoff(sw.Rule, r.now)
	if !ok {
		return retention.Result{}, nil
	}
	db := r.s.env.Store.DB
	var err error
	if res.Held, err = store.SweepCount(ctx, db, sw, cutoff, r.now, true); err != nil {
		return res, err
	}
	if sw.Chained {
		err = r.pruneChain(ctx, sw, cutoff, &res)
		return res, err
	}
	if r.o.DryRun {
		if res.Rows, err = store.SweepCount(ctx, db, sw, cutoff, r.now, false); err != nil {
			return res, err
		}
		res.Examples, err = store.SweepExamples(ctx, db, sw, cutoff, r.now)
		return res, err
	}
	if sw.Action == retention.Delete {
		for _, col := range sw.Files {
			n, err := r.deleteWithFiles(ctx, sw, col, cutoff)
			res.Rows += n
			if err != nil {
				return res, err
			}
		}
	}
	for {
		if r.outOfTime() {
			return res, errOutOfTime
		}
		n, err := store.SweepBatch(ctx, db, sw, cutoff, r.now, r.batch)
		if err != nil {
			return res, err
		}
		res.Rows += n
		if n < int64(r.batch) {
			return res, nil
		}
	}
}

// pruneChain removes the expired head of the audit log, oldest first, a
// batch per transaction (store.PruneAuditBatch).
func (r *run) pruneChain(ctx context.Context, sw retention.Sweep, cutoff time.Time, res *retention.Result) error {
	st := r.s.env.Store
	if r.o.DryRun {
		var err error
		res.Rows, res.Examples, err = store.AuditPrunePreview(ctx, st.DB, sw, cutoff, r.now)
		return err
	}
	for {
		if r.outOfTime() {
			return errOutOfTime
		}
		var n int64
		err := st.InTx(ctx, func(tx *database.Tx) error {
			var err error
			n, err = st.PruneAuditBatch(ctx, tx, sw, cutoff, r.now, r.batch, store.AuditPrune{RunID: r.out.ID, Rule: sw.Rule, At: r.now})
			return err
		})
		res.Rows += n
		if err != nil {
			return err
		}
		if n < int64(r.batch) {
			return nil
		}
	}
}

// deleteWithFiles deletes, batch by batch, the expired rows that name a
// file in col: first the files, then the rows. A crash in between leaves
// rows naming missing files, which the next run deletes, treating a
// missing file as already gone; never a file nobody can find.
func (r *run) deleteWithFiles(ctx context.Context, sw retention.Sweep, col string, cutoff time.Time) (int64, error) {
	blobs := r.s.env.Blobs
	if blobs == nil {
		return 0, fmt.Errorf("%s names files but this process has no file storage", sw.Table)
	}
	db := r.s.env.Store.DB
	var total int64
	for {
		if r.outOfTime() {
			return total, errOutOfTime
		}
		keys, err := store.SweepFileKeys(ctx, db, sw, col, cutoff, r.now, r.batch)
		if err != nil || len(keys) == 0 {
			return total, err
		}
		for _, k := range keys {
			if err := blobs.Delete(ctx, k); err != nil && errs.CodeOf(err) != errs.NotFound && !errors.Is(err, database.ErrNotFound) {
				return total, fmt.Errorf("delete a file: %w", err)
			}
		}
		n, err := store.DeleteSweptFileRows(ctx, db, sw, col, keys, cutoff, r.now)
		total += n
		if err != nil {
			return total, err
		}
		if len(keys) < r.batch {
			return total, nil
		}
	}
}

// ---- people ----

// eachPage pages through ids in order, so that a person who cannot be
// acted on now does not stop the others.
func (r *run) eachPage(page func(after string) ([]string, error), fn func(id string) error) error {
	after := ""
	for {
		if r.outOfTime() {
			return errOutOfTime
		}
		ids, err := page(after)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := fn(id); err != nil {
				return err
			}
		}
		if len(ids) < r.batch {
			return nil
		}
		after = ids[len(ids)-1]
	}
}

// preview counts a set of people no hold keeps, with a few ids.
func (r *run) preview(ctx context.Context, p retention.PersonRule, set store.PeopleSet, bound time.Time) (int64, []string, error) {
	db := r.s.env.Store.DB
	n, err := store.CountPeople(ctx, db, p, set, bound, r.now, false)
	if err != nil || n == 0 {
		return n, nil, err
	}
	ex, err := store.PeoplePage(ctx, db, p, set, bound, r.now, "", retention.MaxExamples)
	return n, ex, err
}

// each runs fn for every person of a set no hold keeps.
func (r *run) each(ctx context.Context, p retention.PersonRule, set store.PeopleSet, bound time.Time, fn func(id string) error) error {
	return r.eachPage(func(after string) ([]string, error) {
		return store.PeoplePage(ctx, r.s.env.Store.DB, p, set, bound, r.now, after, r.batch)
	}, fn)
}

// inactive warns the owners of accounts nobody used for nearly the
// rule's period, and erases those warned at least the notice period ago
// whose account stayed unused. Any use moves last_active_at, which voids
// the warning: a new one is sent if the account again falls idle.
func (r *run) inactive(ctx context.Context, p retention.PersonRule) error {
	cutoff, ok := r.p.Cutoff(p.Rule, r.now)
	if !ok {
		return nil
	}
	db := r.s.env.Store.DB
	warnBefore := cutoff.Add(r.warning())
	warn := retention.Result{Rule: p.Rule, Table: p.Table, Action: retention.Warn}
	erase := retention.Result{Rule: p.Rule, Table: p.Table, Action: retention.Erase}
	defer func() { r.add(warn); r.add(erase) }()
	if !r.o.DryRun {
		if err := store.VoidStaleInactivityWarnings(ctx, db, p); err != nil {
			return err
		}
	}
	var err error
	if warn.Held, err = store.CountPeople(ctx, db, p, store.InactiveUnwarned, warnBefore, r.now, true); err != nil {
		return err
	}
	if erase.Held, err = store.CountPeople(ctx, db, p, store.InactiveDue, cutoff, r.now, true); err != nil {
		return err
	}
	if r.o.DryRun {
		if warn.Rows, warn.Examples, err = r.preview(ctx, p, store.InactiveUnwarned, warnBefore); err != nil {
			return err
		}
		erase.Rows, erase.Examples, err = r.preview(ctx, p, store.InactiveDue, cutoff)
		return err
	}
	err = r.each(ctx, p, store.InactiveUnwarned, warnBefore, func(accountID string) error {
		sent, err := r.warn(ctx, p, accountID, warnBefore)
		if sent {
			warn.Rows++
		}
		return err
	})
	if err != nil {
		return err
	}
	return r.each(ctx, p, store.InactiveDue, cutoff, func(accountID string) error {
		started, err := r.erase(ctx, rights.Person{AccountID: accountID}, rights.ReasonInactive)
		if started {
			erase.Rows++
		}
		return err
	})
}

// warning is how long before an inactive account's erasure its owner is
// warned.
func (r *run) warning() time.Duration {
	if w := r.s.env.Config.InactivityWarning; w > 0 {
		return w
	}
	return retention.DefaultWarning
}

// warn queues the inactivity warning for one account and records it, in
// one transaction, audited. The erasure may come no sooner than the
// notice period after the warning, nor before the rule's own end.
func (r *run) warn(ctx context.Context, p retention.PersonRule, accountID string, warnBefore time.Time) (bool, error) {
	sent := false
	err := r.s.env.InTx(ctx, func(tx *service.Tx) error {
		w, lastActive, ok, err := store.InactiveAccount(ctx, tx, p, accountID, warnBefore)
		if err != nil || !ok {
			return err // !ok: used again since it was selected
		}
		w.EraseAfter = r.p[p.Rule].After(lastActive)
		if earliest := r.now.Add(r.warning()); w.EraseAfter.Before(earliest) {
			w.EraseAfter = earliest
		}
		if err := store.RecordInactivityWarning(ctx, tx, p, accountID, r.now, w.EraseAfter); err != nil {
			return err
		}
		mailID, err := tx.Mail(ctx, retention.WarningMail(w, r.s.env.Config.BaseURL))
		if err != nil {
			return err
		}
		sent = true
		return tx.Audit(ctx, audit.Entry{
			At: r.now, Actor: audit.Party{Kind: "system"}, Action: "retention.inactivity_warning",
			Subject: audit.Party{Kind: "member", ID: accountID}, Purpose: "account",
			Detail: map[string]string{"rule": p.Rule, "erase_after": w.EraseAfter.Format(time.RFC3339), "mail": mailID},
		})
	})
	return sent && err == nil, err
}

// deactivated erases the accounts left deactivated past the grace period.
func (r *run) deactivated(ctx context.Context, p retention.PersonRule) error {
	cutoff, ok := r.p.Cutoff(p.Rule, r.now)
	if !ok {
		return nil
	}
	res := retention.Result{Rule: p.Rule, Table: p.Table, Action: retention.Erase}
	defer func() { r.add(res) }()
	var err error
	if res.Held, err = store.CountPeople(ctx, r.s.env.Store.DB, p, store.DeactivatedPast, cutoff, r.now, true); err != nil {
		return err
	}
	if r.o.DryRun {
		res.Rows, res.Examples, err = r.preview(ctx, p, store.DeactivatedPast, cutoff)
		return err
	}
	return r.each(ctx, p, store.DeactivatedPast, cutoff, func(accountID string) error {
		started, err := r.erase(ctx, rights.Person{AccountID: accountID}, rights.ReasonDeactivated)
		if started {
			res.Rows++
		}
		return err
	})
}

// guests erases guests whose every place in meetings is past the rule:
// a guest is the places without an account that share an address (or a
// single place without one), and all of them go together.
func (r *run) guests(ctx context.Context, p retention.PersonRule) error {
	cutoff, ok := r.p.Cutoff(p.Rule, r.now)
	if !ok {
		return nil
	}
	db := r.s.env.Store.DB
	res := retention.Result{Rule: p.Rule, Table: p.Table, Action: retention.Erase}
	defer func() { r.add(res) }()
	return r.eachPage(func(after string) ([]string, error) {
		return store.ExpiredGuests(ctx, db, p, cutoff, after, r.batch)
	}, func(guest string) error {
		ids, err := store.GuestPlaces(ctx, db, p, guest)
		if err != nil || len(ids) == 0 {
			return err
		}
		held, err := r.anyHeld(ctx, ids)
		switch {
		case err != nil:
			return err
		case held:
			res.Held++
		case r.o.DryRun:
			res.Rows++
			res.Examples = append(res.Examples, ids[0])
		default:
			started, err := r.erase(ctx, rights.Person{ParticipantIDs: ids}, rights.ReasonGuestExpired)
			if started {
				res.Rows++
			}
			return err
		}
		return nil
	})
}

// anyHeld reports whether a hold covers any of ids.
func (r *run) anyHeld(ctx context.Context, ids []string) (bool, error) {
	for _, id := range ids {
		held, err := store.PersonHeld(ctx, r.s.env.Store.DB, id, r.now)
		if err != nil || held {
			return held, err
		}
	}
	return false, nil
}

// erase hands a person to the erasure engine, unless an erasure of theirs
// is already under way, and reports whether it started one.
func (r *run) erase(ctx context.Context, p rights.Person, reason rights.Reason) (bool, error) {
	p = p.Normalised()
	subject := audit.Party{Kind: "member", ID: p.AccountID}
	if p.AccountID == "" {
		subject = audit.Party{Kind: "participant", ID: p.ParticipantIDs[0]}
	}
	started := false
	err := r.s.env.InTx(ctx, func(tx *service.Tx) error {
		busy, err := store.ErasureUnderway(ctx, tx, audit.Ref(r.s.env.Secret, subject.Kind, subject.ID))
		if err != nil || busy {
			return err
		}
		if _, err := r.s.rights.StartErasure(ctx, tx, p, reason, ""); err != nil {
			return err
		}
		started = true
		return nil
	})
	return started && err == nil, err
}

// ---- the report and legal holds ----

// Preview runs the engine dry at the service's clock without recording
// the run, for the console.
func (s *Service) Preview(ctx context.Context, actor service.Actor) (retention.Run, error) {
	if err := actor.Require(staff.ReviewRetention); err != nil {
		return retention.Run{}, err
	}
	return s.Run(ctx, Options{Trigger: retention.ByCommand, DryRun: true})
}

// Runs lists the latest runs, newest first, with their counts.
func (s *Service) Runs(ctx context.Context, actor service.Actor, limit int) ([]retention.Run, error) {
	if err := actor.Require(staff.ReviewRetention); err != nil {
		return nil, err
	}
	return store.ListRetentionRuns(ctx, s.env.Store.DB, limit)
}

// GetRun returns one run with its counts.
func (s *Service) GetRun(ctx context.Context, actor service.Actor, id string) (retention.Run, error) {
	if err := actor.Require(staff.ReviewRetention); err != nil {
		return retention.Run{}, err
	}
	return store.GetRetentionRun(ctx, s.env.Store.DB, id)
}

// Holds lists the legal holds, newest first.
func (s *Service) Holds(ctx context.Context, actor service.Actor, limit int) ([]retention.Hold, error) {
	if err := actor.Require(staff.ManageLegalHolds); err != nil {
		return nil, err
	}
	return store.ListHolds(ctx, s.env.Store.DB, limit)
}

// holdSubject is how the audit log names the person a hold is about.
func holdSubject(personID string) audit.Party {
	if len(personID) > 4 && personID[:4] == "par_" {
		return audit.Party{Kind: "participant", ID: personID}
	}
	return audit.Party{Kind: "member", ID: personID}
}

// PlaceHold places a legal hold from now, audited.
func (s *Service) PlaceHold(ctx context.Context, actor service.Actor, in retention.HoldRequest) (retention.Hold, error) {
	if err := actor.Require(staff.ManageLegalHolds); err != nil {
		return retention.Hold{}, err
	}
	now := s.env.Now()
	if err := in.Clean(now); err != nil {
		return retention.Hold{}, err
	}
	h := retention.Hold{ID: retention.NewHoldID(), PersonID: in.PersonID, Reason: in.Reason, StartsAt: now, EndsAt: in.EndsAt, CreatedAt: now}
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		if err := store.InsertHold(ctx, tx, h); err != nil {
			return err
		}
		detail := map[string]string{"hold": h.ID}
		if h.EndsAt != nil {
			detail["ends_at"] = h.EndsAt.Format(time.RFC3339)
		}
		return tx.Audit(ctx, audit.Entry{
			At: now, Actor: actor.Staff(), Action: "retention.hold_place", Subject: holdSubject(h.PersonID),
			Purpose: "legal-claims", Detail: detail,
		})
	})
	if err != nil {
		return h, err
	}
	s.env.Log.LogAttrs(ctx, slog.LevelInfo, "legal hold placed", slog.String("hold", h.ID))
	return h, nil
}

// ReleaseHold ends a hold now, audited. A hold already released or ended
// gives errs.Conflict; an unknown one errs.NotFound.
func (s *Service) ReleaseHold(ctx context.Context, actor service.Actor, id string) (retention.Hold, error) {
	if err := actor.Require(staff.ManageLegalHolds); err != nil {
		return retention.Hold{}, err
	}
	now := s.env.Now()
	var h retention.Hold
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		var err error
		if h, err = store.GetHold(ctx, tx, id); err != nil {
			return err
		}
		if h.ReleasedAt != nil || (h.EndsAt != nil && !h.EndsAt.After(now)) {
			return errs.E(errs.Conflict, "the hold has already ended")
		}
		if err := store.EndHold(ctx, tx, id, now); err != nil {
			return err
		}
		h.ReleasedAt, h.EndsAt = &now, &now
		return tx.Audit(ctx, audit.Entry{
			At: now, Actor: actor.Staff(), Action: "retention.hold_release", Subject: holdSubject(h.PersonID),
			Purpose: "legal-claims", Detail: map[string]string{"hold": h.ID},
		})
	})
	if err != nil {
		return h, err
	}
	s.env.Log.LogAttrs(ctx, slog.LevelInfo, "legal hold released", slog.String("hold", h.ID))
	return h, nil
}
