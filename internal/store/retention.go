package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/retention"
	"github.com/sessionshq/sessions/internal/privacy/rights"
)

// RetentionOptions configure one run of the retention engine.
type RetentionOptions struct {
	Plan    retention.Plan
	Periods retention.Periods
	// Now is the one moment the whole run measures ages against.
	Now     time.Time
	DryRun  bool
	Trigger retention.Trigger
	// Record writes the run and its counts to retention_runs; a preview
	// for a page leaves it false.
	Record bool
	// Batch bounds the rows one statement touches; zero means
	// retention.DefaultBatch.
	Batch int
	// Warning is how long before an inactive account's erasure its owner
	// is warned; zero means retention.DefaultWarning.
	Warning time.Duration
	// Deadline, when set, stops the run after the batch in progress; the
	// run is then partial, and the next one continues.
	Deadline time.Time
	Secret   []byte
	BaseURL  string
	// DeleteFile removes a file and its index row (blob.Store.Delete).
	// It is needed when a swept table names files.
	DeleteFile func(ctx context.Context, key string) error
	// Mailed is told the outbox ids of the warnings a run queued, after
	// they commit (mail.Service.Dispatch); nil leaves them to the sweep.
	Mailed func(ctx context.Context, ids ...string)
	// Erasing is told the erasure runs a retention run started, after
	// they commit; nil leaves them to the erasure engine's resume job.
	Erasing func(ctx context.Context, runID string)
	Log     *slog.Logger
}

// errOutOfTime stops a run at its deadline.
var errOutOfTime = errors.New("retention: out of time")

type retentionRun struct {
	db  *database.DB
	o   RetentionOptions
	now time.Time
	run retention.Run
}

// RunRetention carries out the plan: it sweeps each table under each of
// its anchored rules in batches, one statement (and so one short
// transaction) per batch, then warns and hands to the erasure engine the
// people whose own rules have ended. Everything a legal hold covers is
// left alone and counted. Every step is idempotent, so a run cut short,
// by a crash or its deadline, is finished by the next one. A dry run
// changes nothing and reports what a real run would do, with a few ids
// of each kind. With o.Record the run and its counts are kept; a real
// run is also audited.
func RunRetention(ctx context.Context, db *database.DB, o RetentionOptions) (retention.Run, error) {
	if o.Batch <= 0 {
		o.Batch = retention.DefaultBatch
	}
	if o.Warning <= 0 {
		o.Warning = retention.DefaultWarning
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Trigger == "" {
		o.Trigger = retention.BySchedule
	}
	now := o.Now.UTC()
	r := &retentionRun{db: db, o: o, now: now, run: retention.Run{
		ID: retention.NewRunID(), StartedAt: now, DryRun: o.DryRun, Trigger: o.Trigger, State: retention.Running,
	}}
	if o.Record {
		if _, err := db.Exec(ctx, `INSERT INTO retention_runs (id, started_at, dry_run, trigger, state) VALUES (?, ?, ?, ?, 'running')`,
			r.run.ID, now, o.DryRun, string(o.Trigger)); err != nil {
			return r.run, fmt.Errorf("record the retention run: %w", err)
		}
	}
	err := r.all(ctx)
	switch {
	case err == nil:
		r.run.State = retention.Done
	case errors.Is(err, errOutOfTime):
		r.run.State, err = retention.Partial, nil
	default:
		r.run.State, r.run.Error = retention.Failed, retention.ErrorCode(err)
	}
	finished := time.Now().UTC()
	if !o.Now.IsZero() {
		finished = now
	}
	r.run.FinishedAt = &finished
	if o.Record {
		// The run's own bookkeeping must land even when ctx is what ended it.
		if ferr := r.finish(context.WithoutCancel(ctx)); ferr != nil {
			return r.run, errors.Join(err, ferr)
		}
	}
	return r.run, err
}

func (r *retentionRun) all(ctx context.Context) error {
	for _, s := range r.o.Plan.Sweeps {
		res, err := r.sweep(ctx, s)
		r.add(res)
		if err != nil {
			return fmt.Errorf("%s on %s: %w", s.Rule, s.Table, err)
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

func (r *retentionRun) add(res retention.Result) {
	if res.Rule != "" {
		r.run.Merge(res)
	}
}

// finish writes the counts and the outcome, and audits a real run.
func (r *retentionRun) finish(ctx context.Context) error {
	return r.db.InTx(ctx, func(tx *database.Tx) error {
		var total retention.Result
		for _, res := range r.run.Results {
			if _, err := tx.Exec(ctx, `INSERT INTO retention_run_rules (run_id, rule, table_name, action, row_count, held_count) VALUES (?, ?, ?, ?, ?, ?)`,
				r.run.ID, res.Rule, res.Table, string(res.Action), res.Rows, res.Held); err != nil {
				return err
			}
			total.Held += res.Held
		}
		if _, err := tx.Exec(ctx, `UPDATE retention_runs SET finished_at = ?, state = ?, error = ? WHERE id = ?`,
			*r.run.FinishedAt, string(r.run.State), r.run.Error, r.run.ID); err != nil {
			return err
		}
		if r.run.DryRun {
			return nil
		}
		return AppendAudit(ctx, tx, r.o.Secret, audit.Entry{
			At: *r.run.FinishedAt, Actor: audit.Party{Kind: "system"}, Action: "retention.run",
			Subject: audit.Party{Kind: "retention_run", ID: r.run.ID}, Purpose: "legal-compliance",
			Detail: map[string]string{
				"state":      string(r.run.State),
				"deleted":    strconv.FormatInt(r.run.Total(retention.Delete), 10),
				"anonymised": strconv.FormatInt(r.run.Total(retention.Anonymise), 10),
				"warned":     strconv.FormatInt(r.run.Total(retention.Warn), 10),
				"erased":     strconv.FormatInt(r.run.Total(retention.Erase), 10),
				"held":       strconv.FormatInt(total.Held, 10),
			},
		})
	})
}

func (r *retentionRun) outOfTime() bool {
	return !r.o.Deadline.IsZero() && !time.Now().Before(r.o.Deadline)
}

// retentionRowID is the engine's own name for a row, which every table
// has whatever its primary key: SQLite's rowid, PostgreSQL's ctid. It is
// only used within one statement, where both are stable.
func retentionRowID(q database.Querier) string {
	if q.Dialect() == database.Postgres {
		return "ctid"
	}
	return "rowid"
}

// notHeld is the condition that no legal hold in force names the row's
// person in any of cols; it takes now twice.
func notHeld(cols []string) string {
	if len(cols) == 0 {
		return ""
	}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = "t." + quoteIdent(c)
	}
	return ` AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.person_id IN (` + strings.Join(quoted, ", ") + `) AND ` + heldNow + `)`
}

func heldArgs(cols []string, now time.Time) []any {
	if len(cols) == 0 {
		return nil
	}
	return []any{now, now}
}

// sweepWhere is the condition, on table alias t, of the rows a sweep
// still has to act on, and its arguments.
func (r *retentionRun) sweepWhere(s retention.Sweep, cutoff time.Time, held bool) (string, []any) {
	where := "t." + quoteIdent(s.Anchor) + " < ?"
	args := []any{cutoff}
	if s.Action == retention.Anonymise {
		var open []string
		for _, c := range s.Clear {
			col := "t." + quoteIdent(c.Column)
			if c.Replacement == nil {
				open = append(open, col+" IS NOT NULL")
			} else {
				open = append(open, "("+col+" IS NOT NULL AND "+col+" <> ?)")
				args = append(args, *c.Replacement)
			}
		}
		where += " AND (" + strings.Join(open, " OR ") + ")"
	}
	if held {
		if len(s.HeldBy) == 0 {
			return "", nil
		}
		where += " AND NOT (1=1" + notHeld(s.HeldBy) + ")"
	} else {
		where += notHeld(s.HeldBy)
	}
	return where, append(args, heldArgs(s.HeldBy, r.now)...)
}

func (r *retentionRun) count(ctx context.Context, table, where string, args []any) (int64, error) {
	if where == "" {
		return 0, nil
	}
	var n int64
	err := r.db.QueryRow(ctx, `SELECT COUNT(*) FROM `+quoteIdent(table)+` t WHERE `+where, args...).Scan(&n)
	return n, err
}

func (r *retentionRun) examples(ctx context.Context, table, column, order, where string, args []any) ([]string, error) {
	if column == "" {
		return nil, nil
	}
	rows, err := r.db.Query(ctx, `SELECT CAST(t.`+quoteIdent(column)+` AS TEXT) FROM `+quoteIdent(table)+` t WHERE `+where+
		` ORDER BY t.`+quoteIdent(order)+` LIMIT `+strconv.Itoa(retention.MaxExamples), args...)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanID)
}

// sweep applies one rule to one table.
func (r *retentionRun) sweep(ctx context.Context, s retention.Sweep) (retention.Result, error) {
	res := retention.Result{Rule: s.Rule, Table: s.Table, Action: s.Action}
	cutoff, ok := r.o.Periods.Cutoff(s.Rule, r.now)
	if !ok {
		return retention.Result{}, nil
	}
	hw, ha := r.sweepWhere(s, cutoff, true)
	var err error
	if res.Held, err = r.count(ctx, s.Table, hw, ha); err != nil {
		return res, err
	}
	where, args := r.sweepWhere(s, cutoff, false)
	if s.Chained {
		err = r.pruneChain(ctx, s, where, args, &res)
		return res, err
	}
	if r.o.DryRun {
		if res.Rows, err = r.count(ctx, s.Table, where, args); err != nil {
			return res, err
		}
		res.Examples, err = r.examples(ctx, s.Table, s.Example, s.Anchor, where, args)
		return res, err
	}
	if s.Action == retention.Delete {
		for _, col := range s.Files {
			n, err := r.deleteWithFiles(ctx, s, col, where, args)
			res.Rows += n
			if err != nil {
				return res, err
			}
		}
	}
	rid := retentionRowID(r.db)
	// Oldest first, through the anchor's index where there is one: each
	// batch then starts where the last one stopped instead of scanning
	// past the rows it already removed.
	order := ` ORDER BY t.` + quoteIdent(s.Anchor)
	var stmt string
	var stmtArgs []any
	switch s.Action {
	case retention.Delete:
		stmt = `DELETE FROM ` + quoteIdent(s.Table) + ` WHERE ` + rid + ` IN (SELECT t.` + rid + ` FROM ` + quoteIdent(s.Table) + ` t WHERE ` + where + order + ` LIMIT ` + strconv.Itoa(r.o.Batch) + `)`
		stmtArgs = args
	case retention.Anonymise:
		var sets []string
		for _, c := range s.Clear {
			if c.Replacement == nil {
				sets = append(sets, quoteIdent(c.Column)+" = NULL")
			} else {
				sets = append(sets, quoteIdent(c.Column)+" = ?")
				stmtArgs = append(stmtArgs, *c.Replacement)
			}
		}
		stmt = `UPDATE ` + quoteIdent(s.Table) + ` SET ` + strings.Join(sets, ", ") + ` WHERE ` + rid + ` IN (SELECT t.` + rid + ` FROM ` + quoteIdent(s.Table) + ` t WHERE ` + where + order + ` LIMIT ` + strconv.Itoa(r.o.Batch) + `)`
		stmtArgs = append(stmtArgs, args...)
	default:
		return res, fmt.Errorf("unknown sweep action %q", s.Action)
	}
	for {
		if r.outOfTime() {
			return res, errOutOfTime
		}
		out, err := r.db.Exec(ctx, stmt, stmtArgs...)
		if err != nil {
			return res, err
		}
		n, err := out.RowsAffected()
		if err != nil {
			return res, err
		}
		res.Rows += n
		if n < int64(r.o.Batch) {
			return res, nil
		}
	}
}

// pruneChain removes the expired head of the audit log: the entries
// before the first one that must stay, oldest first, a batch per
// transaction. Each batch holds the audit lock, so no appender moves the
// head meanwhile, and leaves its sealed anchor and its own entry in the
// log (store.PruneAuditHead).
func (r *retentionRun) pruneChain(ctx context.Context, s retention.Sweep, where string, args []any, res *retention.Result) error {
	if r.o.DryRun {
		bound, err := auditKeptFrom(ctx, r.db, where, args)
		if err != nil {
			return err
		}
		if err := r.db.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE seq < ?`, bound).Scan(&res.Rows); err != nil {
			return err
		}
		seqs, err := auditHeadSeqs(ctx, r.db, bound, retention.MaxExamples)
		for _, seq := range seqs {
			res.Examples = append(res.Examples, strconv.FormatInt(seq, 10))
		}
		return err
	}
	for {
		if r.outOfTime() {
			return errOutOfTime
		}
		var n int64
		err := r.db.InTx(ctx, func(tx *database.Tx) error {
			if err := lockAudit(ctx, tx); err != nil {
				return err
			}
			bound, err := auditKeptFrom(ctx, tx, where, args)
			if err != nil {
				return err
			}
			seqs, err := auditHeadSeqs(ctx, tx, bound, r.o.Batch)
			if err != nil || len(seqs) == 0 {
				return err
			}
			n, err = PruneAuditHead(ctx, tx, r.o.Secret, seqs[len(seqs)-1], AuditPrune{RunID: r.run.ID, Rule: s.Rule, At: r.now})
			return err
		})
		res.Rows += n
		if err != nil {
			return err
		}
		if n < int64(r.o.Batch) {
			return nil
		}
	}
}

// auditKeptFrom returns the position of the oldest entry that where, on
// alias t, does not select: the log from there on stays.
func auditKeptFrom(ctx context.Context, q database.Querier, where string, args []any) (int64, error) {
	var keep sql.NullInt64
	if err := q.QueryRow(ctx, `SELECT MIN(t.seq) FROM audit_log t WHERE NOT (`+where+`)`, args...).Scan(&keep); err != nil {
		return 0, err
	}
	if !keep.Valid {
		return math.MaxInt64, nil
	}
	return keep.Int64, nil
}

// auditHeadSeqs lists the oldest entries before seq `bound`, at most limit.
func auditHeadSeqs(ctx context.Context, q database.Querier, bound int64, limit int) ([]int64, error) {
	rows, err := q.Query(ctx, `SELECT seq FROM audit_log WHERE seq < ? ORDER BY seq LIMIT `+strconv.Itoa(limit), bound)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, func(s scanner) (int64, error) {
		var seq int64
		err := s.Scan(&seq)
		return seq, err
	})
}

// deleteWithFiles deletes, batch by batch, the expired rows that name a
// file in col: first the files, then the rows. A crash in between leaves
// rows naming missing files, which the next run deletes, treating a
// missing file as already gone; never a file nobody can find.
func (r *retentionRun) deleteWithFiles(ctx context.Context, s retention.Sweep, col, where string, args []any) (int64, error) {
	if r.o.DeleteFile == nil {
		return 0, fmt.Errorf("%s names files but the run cannot delete files", s.Table)
	}
	var total int64
	sel := `SELECT t.` + quoteIdent(col) + ` FROM ` + quoteIdent(s.Table) + ` t WHERE ` + where + ` AND t.` + quoteIdent(col) + ` IS NOT NULL ORDER BY t.` + quoteIdent(s.Anchor) + ` LIMIT ` + strconv.Itoa(r.o.Batch)
	for {
		if r.outOfTime() {
			return total, errOutOfTime
		}
		rows, err := r.db.Query(ctx, sel, args...)
		if err != nil {
			return total, err
		}
		keys, err := collectRows(rows, scanID)
		if err != nil || len(keys) == 0 {
			return total, err
		}
		for _, k := range keys {
			if err := r.o.DeleteFile(ctx, k); err != nil && errs.CodeOf(err) != errs.NotFound && !errors.Is(err, database.ErrNotFound) {
				return total, fmt.Errorf("delete a file: %w", err)
			}
		}
		delArgs := make([]any, 0, len(keys)+len(args))
		for _, k := range keys {
			delArgs = append(delArgs, k)
		}
		out, err := r.db.Exec(ctx, `DELETE FROM `+quoteIdent(s.Table)+` WHERE `+retentionRowID(r.db)+` IN (SELECT t.`+retentionRowID(r.db)+` FROM `+quoteIdent(s.Table)+` t WHERE t.`+quoteIdent(col)+
			` IN (`+database.Placeholders(len(keys))+`) AND `+where+`)`, append(delArgs, args...)...)
		if err != nil {
			return total, err
		}
		n, _ := out.RowsAffected()
		total += n
		if len(keys) < r.o.Batch {
			return total, nil
		}
	}
}

// ---- people ----

// personHeld reports whether a hold covers any of ids.
func (r *retentionRun) personHeld(ctx context.Context, ids ...string) (bool, error) {
	for _, id := range ids {
		held, err := PersonHeld(ctx, r.db, id, r.now)
		if err != nil || held {
			return held, err
		}
	}
	return false, nil
}

// erase hands a person to the erasure engine, unless an erasure of theirs
// is already under way, and reports whether it started one.
func (r *retentionRun) erase(ctx context.Context, p rights.Person, reason rights.Reason) (bool, error) {
	subject := erasureSubject(p.Normalised())
	if p.AccountID == "" && len(p.ParticipantIDs) > 0 {
		subject = audit.Party{Kind: "participant", ID: p.Normalised().ParticipantIDs[0]}
	}
	var n int
	if err := r.db.QueryRow(ctx, `SELECT COUNT(*) FROM erasure_runs WHERE person_ref = ? AND state <> 'done'`,
		audit.Ref(r.o.Secret, subject.Kind, subject.ID)).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	id, err := StartErasure(ctx, r.db, r.o.Secret, p, reason, r.now)
	if err != nil {
		return false, err
	}
	if r.o.Erasing != nil {
		r.o.Erasing(ctx, id)
	}
	return true, nil
}

// accountIDs pages through the ids a query selects, in id order, so that
// a person who cannot be acted on now does not stop the others.
func (r *retentionRun) eachID(ctx context.Context, query string, args []any, fn func(id string) error) error {
	after := ""
	for {
		if r.outOfTime() {
			return errOutOfTime
		}
		rows, err := r.db.Query(ctx, query, append(append([]any{}, args...), after)...)
		if err != nil {
			return err
		}
		ids, err := collectRows(rows, scanID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := fn(id); err != nil {
				return err
			}
		}
		if len(ids) < r.o.Batch {
			return nil
		}
		after = ids[len(ids)-1]
	}
}

// inactive warns the owners of accounts nobody used for nearly the
// rule's period, and erases those warned at least the notice period ago
// whose account stayed unused. Any use moves last_active_at, which voids
// the warning: a new one is sent if the account again falls idle.
func (r *retentionRun) inactive(ctx context.Context, p retention.PersonRule) error {
	cutoff, ok := r.o.Periods.Cutoff(p.Rule, r.now)
	if !ok {
		return nil
	}
	t, id, anchor := quoteIdent(p.Table), "a."+quoteIdent(p.ID), "a."+quoteIdent(p.Anchor)
	warnBefore := cutoff.Add(r.o.Warning)
	warn := retention.Result{Rule: p.Rule, Table: p.Table, Action: retention.Warn}
	erase := retention.Result{Rule: p.Rule, Table: p.Table, Action: retention.Erase}
	defer func() { r.add(warn); r.add(erase) }()
	if !r.o.DryRun {
		// A warning about an earlier last use is void.
		if _, err := r.db.Exec(ctx, `DELETE FROM inactivity_warnings WHERE NOT EXISTS (SELECT 1 FROM `+t+` a
			WHERE `+id+` = inactivity_warnings.account_id AND `+anchor+` = inactivity_warnings.last_active_at)`); err != nil {
			return err
		}
	}
	held := `EXISTS (SELECT 1 FROM legal_holds h WHERE h.person_id = ` + id + ` AND ` + heldNow + `)`
	unwarned := `a.status = 'active' AND ` + anchor + ` < ? AND NOT EXISTS (SELECT 1 FROM inactivity_warnings w
		WHERE w.account_id = ` + id + ` AND w.last_active_at = ` + anchor + `)`
	due := `a.status = 'active' AND ` + anchor + ` < ? AND EXISTS (SELECT 1 FROM inactivity_warnings w
		WHERE w.account_id = ` + id + ` AND w.last_active_at = ` + anchor + ` AND w.erase_after <= ?)`
	var err error
	if warn.Held, err = r.countAccounts(ctx, t, unwarned+` AND `+held, warnBefore, r.now, r.now); err != nil {
		return err
	}
	if erase.Held, err = r.countAccounts(ctx, t, due+` AND `+held, cutoff, r.now, r.now, r.now); err != nil {
		return err
	}
	if r.o.DryRun {
		if warn.Rows, warn.Examples, err = r.accountsPreview(ctx, t, id, unwarned+` AND NOT `+held, warnBefore, r.now, r.now); err != nil {
			return err
		}
		// A dry run counts as due those a real run would warn now and
		// erase once the notice period is over, and those already due.
		erase.Rows, erase.Examples, err = r.accountsPreview(ctx, t, id, due+` AND NOT `+held, cutoff, r.now, r.now, r.now)
		return err
	}
	err = r.eachID(ctx, `SELECT `+id+` FROM `+t+` a WHERE `+unwarned+` AND NOT `+held+` AND `+id+` > ? ORDER BY `+id+` LIMIT `+strconv.Itoa(r.o.Batch),
		[]any{warnBefore, r.now, r.now}, func(accountID string) error {
			sent, err := r.warn(ctx, p, accountID, warnBefore)
			if sent {
				warn.Rows++
			}
			return err
		})
	if err != nil {
		return err
	}
	return r.eachID(ctx, `SELECT `+id+` FROM `+t+` a WHERE `+due+` AND NOT `+held+` AND `+id+` > ? ORDER BY `+id+` LIMIT `+strconv.Itoa(r.o.Batch),
		[]any{cutoff, r.now, r.now, r.now}, func(accountID string) error {
			started, err := r.erase(ctx, rights.Person{AccountID: accountID}, rights.ReasonInactive)
			if started {
				erase.Rows++
			}
			return err
		})
}

func (r *retentionRun) countAccounts(ctx context.Context, t, where string, args ...any) (int64, error) {
	var n int64
	err := r.db.QueryRow(ctx, `SELECT COUNT(*) FROM `+t+` a WHERE `+where, args...).Scan(&n)
	return n, err
}

func (r *retentionRun) accountsPreview(ctx context.Context, t, id, where string, args ...any) (int64, []string, error) {
	n, err := r.countAccounts(ctx, t, where, args...)
	if err != nil || n == 0 {
		return n, nil, err
	}
	rows, err := r.db.Query(ctx, `SELECT `+id+` FROM `+t+` a WHERE `+where+` ORDER BY `+id+` LIMIT `+strconv.Itoa(retention.MaxExamples), args...)
	if err != nil {
		return n, nil, err
	}
	ex, err := collectRows(rows, scanID)
	return n, ex, err
}

// warn queues the inactivity warning for one account and records it, in
// one transaction, audited. The erasure may come no sooner than the
// notice period after the warning, nor before the rule's own end.
func (r *retentionRun) warn(ctx context.Context, p retention.PersonRule, accountID string, warnBefore time.Time) (bool, error) {
	var mailID string
	err := r.db.InTx(ctx, func(tx *database.Tx) error {
		var (
			w          retention.Warned
			lastActive time.Time
		)
		err := tx.QueryRow(ctx, `SELECT `+quoteIdent(p.ID)+`, `+quoteIdent(p.Email)+`, name, `+quoteIdent(p.Anchor)+` FROM `+quoteIdent(p.Table)+
			` WHERE `+quoteIdent(p.ID)+` = ? AND status = 'active' AND `+quoteIdent(p.Anchor)+` < ?`, accountID, warnBefore).
			Scan(&w.AccountID, &w.Email, &w.Name, &lastActive)
		if errors.Is(err, database.ErrNotFound) {
			return nil // used again since it was selected
		}
		if err != nil {
			return err
		}
		d := r.o.Periods[p.Rule]
		w.EraseAfter = d.After(lastActive.UTC())
		if earliest := r.now.Add(r.o.Warning); w.EraseAfter.Before(earliest) {
			w.EraseAfter = earliest
		}
		if _, err := tx.Exec(ctx, `INSERT INTO inactivity_warnings (account_id, last_active_at, warned_at, erase_after)
			SELECT `+quoteIdent(p.ID)+`, `+quoteIdent(p.Anchor)+`, ?, ? FROM `+quoteIdent(p.Table)+` WHERE `+quoteIdent(p.ID)+` = ?
			ON CONFLICT (account_id) DO UPDATE SET last_active_at = excluded.last_active_at, warned_at = excluded.warned_at, erase_after = excluded.erase_after`,
			r.now, w.EraseAfter, accountID); err != nil {
			return err
		}
		if mailID, err = EnqueueMail(ctx, tx, r.now, retention.WarningMail(w, r.o.BaseURL)); err != nil {
			return err
		}
		return AppendAudit(ctx, tx, r.o.Secret, audit.Entry{
			At: r.now, Actor: audit.Party{Kind: "system"}, Action: "retention.inactivity_warning",
			Subject: audit.Party{Kind: "member", ID: accountID}, Purpose: "account",
			Detail: map[string]string{"rule": p.Rule, "erase_after": w.EraseAfter.Format(time.RFC3339), "mail": mailID},
		})
	})
	if err != nil || mailID == "" {
		return false, err
	}
	if r.o.Mailed != nil {
		r.o.Mailed(ctx, mailID)
	}
	return true, nil
}

// deactivated erases the accounts left deactivated past the grace period.
func (r *retentionRun) deactivated(ctx context.Context, p retention.PersonRule) error {
	cutoff, ok := r.o.Periods.Cutoff(p.Rule, r.now)
	if !ok {
		return nil
	}
	t, id, anchor := quoteIdent(p.Table), "a."+quoteIdent(p.ID), "a."+quoteIdent(p.Anchor)
	res := retention.Result{Rule: p.Rule, Table: p.Table, Action: retention.Erase}
	defer func() { r.add(res) }()
	held := `EXISTS (SELECT 1 FROM legal_holds h WHERE h.person_id = ` + id + ` AND ` + heldNow + `)`
	where := `a.status = 'deactivated' AND ` + anchor + ` < ?`
	var err error
	if res.Held, err = r.countAccounts(ctx, t, where+` AND `+held, cutoff, r.now, r.now); err != nil {
		return err
	}
	if r.o.DryRun {
		res.Rows, res.Examples, err = r.accountsPreview(ctx, t, id, where+` AND NOT `+held, cutoff, r.now, r.now)
		return err
	}
	return r.eachID(ctx, `SELECT `+id+` FROM `+t+` a WHERE `+where+` AND NOT `+held+` AND `+id+` > ? ORDER BY `+id+` LIMIT `+strconv.Itoa(r.o.Batch),
		[]any{cutoff, r.now, r.now}, func(accountID string) error {
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
func (r *retentionRun) guests(ctx context.Context, p retention.PersonRule) error {
	cutoff, ok := r.o.Periods.Cutoff(p.Rule, r.now)
	if !ok {
		return nil
	}
	t, id, anchor, member := quoteIdent(p.Table), quoteIdent(p.ID), quoteIdent(p.Anchor), quoteIdent(p.Member)
	group := id
	if p.Email != "" {
		group = "COALESCE(" + quoteIdent(p.Email) + ", " + id + ")"
	}
	res := retention.Result{Rule: p.Rule, Table: p.Table, Action: retention.Erase}
	defer func() { r.add(res) }()
	return r.eachID(ctx, `SELECT `+group+` FROM `+t+` WHERE `+member+` IS NULL GROUP BY `+group+
		` HAVING MAX(`+anchor+`) < ? AND COUNT(`+anchor+`) = COUNT(*) AND `+group+` > ? ORDER BY `+group+` LIMIT `+strconv.Itoa(r.o.Batch),
		[]any{cutoff}, func(g string) error {
			rows, err := r.db.Query(ctx, `SELECT `+id+` FROM `+t+` WHERE `+member+` IS NULL AND `+group+` = ? ORDER BY `+id, g)
			if err != nil {
				return err
			}
			ids, err := collectRows(rows, scanID)
			if err != nil || len(ids) == 0 {
				return err
			}
			held, err := r.personHeld(ctx, ids...)
			if err != nil {
				return err
			}
			switch {
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

// ---- the report ----

// ListRetentionRuns returns the latest runs, newest first, with their
// counts.
func ListRetentionRuns(ctx context.Context, q database.Querier, limit int) ([]retention.Run, error) {
	if limit <= 0 || limit > 200 {
		limit = 200
	}
	rows, err := q.Query(ctx, `SELECT id, started_at, finished_at, dry_run, trigger, state, error FROM retention_runs ORDER BY started_at DESC, id LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	runs, err := collectRows(rows, scanRetentionRun)
	if err != nil {
		return nil, err
	}
	for i := range runs {
		if runs[i].Results, err = retentionResults(ctx, q, runs[i].ID); err != nil {
			return nil, err
		}
	}
	return runs, nil
}

// GetRetentionRun returns one run with its counts; an unknown id gives
// errs.NotFound.
func GetRetentionRun(ctx context.Context, q database.Querier, id string) (retention.Run, error) {
	run, err := scanRetentionRun(q.QueryRow(ctx, `SELECT id, started_at, finished_at, dry_run, trigger, state, error FROM retention_runs WHERE id = ?`, id))
	if errors.Is(err, database.ErrNotFound) {
		return run, errs.E(errs.NotFound, "no such retention run")
	}
	if err != nil {
		return run, err
	}
	run.Results, err = retentionResults(ctx, q, id)
	return run, err
}

func scanRetentionRun(row scanner) (retention.Run, error) {
	var (
		run      retention.Run
		finished sql.NullTime
		trigger  string
		state    string
	)
	if err := row.Scan(&run.ID, &run.StartedAt, &finished, &run.DryRun, &trigger, &state, &run.Error); err != nil {
		return run, err
	}
	run.StartedAt = run.StartedAt.UTC()
	run.FinishedAt = nullTime(finished)
	run.Trigger, run.State = retention.Trigger(trigger), retention.State(state)
	return run, nil
}

func retentionResults(ctx context.Context, q database.Querier, runID string) ([]retention.Result, error) {
	rows, err := q.Query(ctx, `SELECT rule, table_name, action, row_count, held_count FROM retention_run_rules WHERE run_id = ? ORDER BY rule, table_name, action`, runID)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, func(s scanner) (retention.Result, error) {
		var res retention.Result
		var action string
		err := s.Scan(&res.Rule, &res.Table, &action, &res.Rows, &res.Held)
		res.Action = retention.Action(action)
		return res, err
	})
}
