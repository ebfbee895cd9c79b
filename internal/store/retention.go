package store

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/retention"
)

// The SQL of the retention engine (internal/service/retain): each
// function is one statement about the rows one rule of the data map's
// plan acts on. Which statements run, in which order and batches, and
// what happens around them (files, mail, erasure, the audit entry) is the
// engine's.

// RecordRetentionStart writes a run as running.
func RecordRetentionStart(ctx context.Context, q database.Querier, run retention.Run) error {
	_, err := q.Exec(ctx, `INSERT INTO retention_runs (id, started_at, dry_run, trigger, state) VALUES (?, ?, ?, ?, 'running')`,
		run.ID, run.StartedAt.UTC(), run.DryRun, string(run.Trigger))
	return err
}

// RecordRetentionFinish writes a run's counts and outcome.
func RecordRetentionFinish(ctx context.Context, q database.Querier, run retention.Run) error {
	for _, res := range run.Results {
		if _, err := q.Exec(ctx, `INSERT INTO retention_run_rules (run_id, rule, table_name, action, row_count, held_count) VALUES (?, ?, ?, ?, ?, ?)`,
			run.ID, res.Rule, res.Table, string(res.Action), res.Rows, res.Held); err != nil {
			return err
		}
	}
	_, err := q.Exec(ctx, `UPDATE retention_runs SET finished_at = ?, state = ?, error = ? WHERE id = ?`,
		timeArg(run.FinishedAt), string(run.State), run.Error, run.ID)
	return err
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
// still has to act on (held false) or that a legal hold keeps (held
// true), and its arguments; "" when no hold can name the rows.
func sweepWhere(s retention.Sweep, cutoff, now time.Time, held bool) (string, []any) {
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
	return where, append(args, heldArgs(s.HeldBy, now)...)
}

// SweepCount counts the rows of a sweep past cutoff: those it acts on, or
// with held those a legal hold keeps.
func SweepCount(ctx context.Context, q database.Querier, s retention.Sweep, cutoff, now time.Time, held bool) (int64, error) {
	where, args := sweepWhere(s, cutoff, now, held)
	if where == "" {
		return 0, nil
	}
	var n int64
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM `+quoteIdent(s.Table)+` t WHERE `+where, args...).Scan(&n)
	return n, err
}

// SweepExamples lists a few ids of the rows a sweep would act on, oldest
// first, for a dry run's report.
func SweepExamples(ctx context.Context, q database.Querier, s retention.Sweep, cutoff, now time.Time) ([]string, error) {
	if s.Example == "" {
		return nil, nil
	}
	where, args := sweepWhere(s, cutoff, now, false)
	rows, err := q.Query(ctx, `SELECT CAST(t.`+quoteIdent(s.Example)+` AS TEXT) FROM `+quoteIdent(s.Table)+` t WHERE `+where+
		` ORDER BY t.`+quoteIdent(s.Anchor)+` LIMIT `+strconv.Itoa(retention.MaxExamples), args...)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanID)
}

// SweepBatch deletes or anonymises, as the sweep says, at most batch of
// its rows, oldest first, and returns how many it changed. Each call is
// one short statement; the engine repeats it until fewer come back.
func SweepBatch(ctx context.Context, q database.Querier, s retention.Sweep, cutoff, now time.Time, batch int) (int64, error) {
	where, args := sweepWhere(s, cutoff, now, false)
	rid := retentionRowID(q)
	// Oldest first, through the anchor's index where there is one: each
	// batch then starts where the last one stopped instead of scanning
	// past the rows it already removed.
	pick := ` WHERE ` + rid + ` IN (SELECT t.` + rid + ` FROM ` + quoteIdent(s.Table) + ` t WHERE ` + where +
		` ORDER BY t.` + quoteIdent(s.Anchor) + ` LIMIT ` + strconv.Itoa(batch) + `)`
	var (
		stmt     string
		stmtArgs []any
	)
	switch s.Action {
	case retention.Delete:
		stmt, stmtArgs = `DELETE FROM `+quoteIdent(s.Table)+pick, args
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
		stmt = `UPDATE ` + quoteIdent(s.Table) + ` SET ` + strings.Join(sets, ", ") + pick
		stmtArgs = append(stmtArgs, args...)
	default:
		return 0, errs.E(errs.Internal, "unknown sweep action %q", s.Action)
	}
	out, err := q.Exec(ctx, stmt, stmtArgs...)
	if err != nil {
		return 0, err
	}
	return out.RowsAffected()
}

// SweepFileKeys lists, oldest first, at most batch storage keys that
// column col of the sweep's expired rows names.
func SweepFileKeys(ctx context.Context, q database.Querier, s retention.Sweep, col string, cutoff, now time.Time, batch int) ([]string, error) {
	where, args := sweepWhere(s, cutoff, now, false)
	rows, err := q.Query(ctx, `SELECT t.`+quoteIdent(col)+` FROM `+quoteIdent(s.Table)+` t WHERE `+where+` AND t.`+quoteIdent(col)+
		` IS NOT NULL ORDER BY t.`+quoteIdent(s.Anchor)+` LIMIT `+strconv.Itoa(batch), args...)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanID)
}

// DeleteSweptFileRows deletes the sweep's expired rows whose column col
// names one of keys, once their files are gone.
func DeleteSweptFileRows(ctx context.Context, q database.Querier, s retention.Sweep, col string, keys []string, cutoff, now time.Time) (int64, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	where, args := sweepWhere(s, cutoff, now, false)
	all := make([]any, 0, len(keys)+len(args))
	for _, k := range keys {
		all = append(all, k)
	}
	rid := retentionRowID(q)
	out, err := q.Exec(ctx, `DELETE FROM `+quoteIdent(s.Table)+` WHERE `+rid+` IN (SELECT t.`+rid+` FROM `+quoteIdent(s.Table)+` t WHERE t.`+quoteIdent(col)+
		` IN (`+database.Placeholders(len(keys))+`) AND `+where+`)`, append(all, args...)...)
	if err != nil {
		return 0, err
	}
	return out.RowsAffected()
}

// AuditPrunePreview counts the entries at the head of the audit log that
// the chained sweep would remove, with a few of their positions.
func AuditPrunePreview(ctx context.Context, q database.Querier, s retention.Sweep, cutoff, now time.Time) (int64, []string, error) {
	where, args := sweepWhere(s, cutoff, now, false)
	bound, err := auditKeptFrom(ctx, q, where, args)
	if err != nil {
		return 0, nil, err
	}
	var n int64
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE seq < ?`, bound).Scan(&n); err != nil {
		return 0, nil, err
	}
	seqs, err := auditHeadSeqs(ctx, q, bound, retention.MaxExamples)
	var ex []string
	for _, seq := range seqs {
		ex = append(ex, strconv.FormatInt(seq, 10))
	}
	return n, ex, err
}

// PruneAuditBatch removes, inside tx, at most batch expired entries from
// the head of the audit log: those before the first one the sweep must
// keep. It holds the audit lock, so no appender moves the head meanwhile,
// and leaves a sealed anchor and its own entry (PruneAuditHead).
func (st *Store) PruneAuditBatch(ctx context.Context, tx database.Querier, s retention.Sweep, cutoff, now time.Time, batch int, p AuditPrune) (int64, error) {
	if err := lockAudit(ctx, tx); err != nil {
		return 0, err
	}
	where, args := sweepWhere(s, cutoff, now, false)
	bound, err := auditKeptFrom(ctx, tx, where, args)
	if err != nil {
		return 0, err
	}
	seqs, err := auditHeadSeqs(ctx, tx, bound, batch)
	if err != nil || len(seqs) == 0 {
		return 0, err
	}
	return PruneAuditHead(ctx, tx, st.secret, seqs[len(seqs)-1], p)
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

// ---- people ----

// PeopleSet names the people of a person rule that a statement selects.
type PeopleSet int

const (
	// InactiveUnwarned are active accounts unused since before the bound
	// with no warning about that last use.
	InactiveUnwarned PeopleSet = iota
	// InactiveDue are active accounts unused since before the bound whose
	// warning's notice period is over at now.
	InactiveDue
	// DeactivatedPast are accounts deactivated since before the bound.
	DeactivatedPast
)

// peopleWhere is the condition, on alias a, of set under rule p, and its
// arguments.
func peopleWhere(p retention.PersonRule, set PeopleSet, bound, now time.Time) (string, []any) {
	id, anchor := "a."+quoteIdent(p.ID), "a."+quoteIdent(p.Anchor)
	switch set {
	case InactiveUnwarned:
		return `a.status = 'active' AND ` + anchor + ` < ? AND NOT EXISTS (SELECT 1 FROM inactivity_warnings w
		WHERE w.account_id = ` + id + ` AND w.last_active_at = ` + anchor + `)`, []any{bound}
	case InactiveDue:
		return `a.status = 'active' AND ` + anchor + ` < ? AND EXISTS (SELECT 1 FROM inactivity_warnings w
		WHERE w.account_id = ` + id + ` AND w.last_active_at = ` + anchor + ` AND w.erase_after <= ?)`, []any{bound, now}
	default:
		return `a.status = 'deactivated' AND ` + anchor + ` < ?`, []any{bound}
	}
}

// personHeldSQL is the condition that a hold in force names a's person.
func personHeldSQL(p retention.PersonRule) string {
	return `EXISTS (SELECT 1 FROM legal_holds h WHERE h.person_id = a.` + quoteIdent(p.ID) + ` AND ` + heldNow + `)`
}

// CountPeople counts set under rule p: those a legal hold keeps when held
// is true, the others when it is false.
func CountPeople(ctx context.Context, q database.Querier, p retention.PersonRule, set PeopleSet, bound, now time.Time, held bool) (int64, error) {
	where, args := peopleWhere(p, set, bound, now)
	if held {
		where += ` AND ` + personHeldSQL(p)
	} else {
		where += ` AND NOT ` + personHeldSQL(p)
	}
	var n int64
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM `+quoteIdent(p.Table)+` a WHERE `+where, append(args, now.UTC(), now.UTC())...).Scan(&n)
	return n, err
}

// PeoplePage lists, in id order after `after`, at most limit ids of set
// under rule p that no hold keeps.
func PeoplePage(ctx context.Context, q database.Querier, p retention.PersonRule, set PeopleSet, bound, now time.Time, after string, limit int) ([]string, error) {
	where, args := peopleWhere(p, set, bound, now)
	id := "a." + quoteIdent(p.ID)
	rows, err := q.Query(ctx, `SELECT `+id+` FROM `+quoteIdent(p.Table)+` a WHERE `+where+` AND NOT `+personHeldSQL(p)+` AND `+id+` > ? ORDER BY `+id+
		` LIMIT `+strconv.Itoa(limit), append(args, now.UTC(), now.UTC(), after)...)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanID)
}

// VoidStaleInactivityWarnings deletes the warnings about a last use that
// is no longer the last: any use voids the warning.
func VoidStaleInactivityWarnings(ctx context.Context, q database.Querier, p retention.PersonRule) error {
	_, err := q.Exec(ctx, `DELETE FROM inactivity_warnings WHERE NOT EXISTS (SELECT 1 FROM `+quoteIdent(p.Table)+` a
			WHERE a.`+quoteIdent(p.ID)+` = inactivity_warnings.account_id AND a.`+quoteIdent(p.Anchor)+` = inactivity_warnings.last_active_at)`)
	return err
}

// InactiveAccount reads the account a warning goes to, if it is still
// active and unused since before warnBefore; ok is false otherwise.
func InactiveAccount(ctx context.Context, q database.Querier, p retention.PersonRule, accountID string, warnBefore time.Time) (w retention.Warned, lastActive time.Time, ok bool, err error) {
	err = q.QueryRow(ctx, `SELECT `+quoteIdent(p.ID)+`, `+quoteIdent(p.Email)+`, name, `+quoteIdent(p.Anchor)+` FROM `+quoteIdent(p.Table)+
		` WHERE `+quoteIdent(p.ID)+` = ? AND status = 'active' AND `+quoteIdent(p.Anchor)+` < ?`, accountID, warnBefore).
		Scan(&w.AccountID, &w.Email, &w.Name, &lastActive)
	if errors.Is(err, database.ErrNotFound) {
		return w, lastActive, false, nil
	}
	return w, lastActive.UTC(), err == nil, err
}

// RecordInactivityWarning records that the account was warned at now
// about its current last use, and when it may be erased.
func RecordInactivityWarning(ctx context.Context, q database.Querier, p retention.PersonRule, accountID string, now, eraseAfter time.Time) error {
	_, err := q.Exec(ctx, `INSERT INTO inactivity_warnings (account_id, last_active_at, warned_at, erase_after)
			SELECT `+quoteIdent(p.ID)+`, `+quoteIdent(p.Anchor)+`, ?, ? FROM `+quoteIdent(p.Table)+` WHERE `+quoteIdent(p.ID)+` = ?
			ON CONFLICT (account_id) DO UPDATE SET last_active_at = excluded.last_active_at, warned_at = excluded.warned_at, erase_after = excluded.erase_after`,
		now.UTC(), eraseAfter.UTC(), accountID)
	return err
}

// guestGroup is the expression that groups a guest's places: by address,
// or each place alone when it has none.
func guestGroup(p retention.PersonRule) string {
	if p.Email != "" {
		return "COALESCE(" + quoteIdent(p.Email) + ", " + quoteIdent(p.ID) + ")"
	}
	return quoteIdent(p.ID)
}

// ExpiredGuests lists, in order after `after`, at most limit guests
// (groups of places without an account) whose every place ended before
// cutoff.
func ExpiredGuests(ctx context.Context, q database.Querier, p retention.PersonRule, cutoff time.Time, after string, limit int) ([]string, error) {
	group, anchor := guestGroup(p), quoteIdent(p.Anchor)
	rows, err := q.Query(ctx, `SELECT `+group+` FROM `+quoteIdent(p.Table)+` WHERE `+quoteIdent(p.Member)+` IS NULL GROUP BY `+group+
		` HAVING MAX(`+anchor+`) < ? AND COUNT(`+anchor+`) = COUNT(*) AND `+group+` > ? ORDER BY `+group+` LIMIT `+strconv.Itoa(limit), cutoff, after)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanID)
}

// GuestPlaces lists the place ids of one guest that ExpiredGuests named.
func GuestPlaces(ctx context.Context, q database.Querier, p retention.PersonRule, guest string) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT `+quoteIdent(p.ID)+` FROM `+quoteIdent(p.Table)+` WHERE `+quoteIdent(p.Member)+` IS NULL AND `+guestGroup(p)+` = ? ORDER BY `+quoteIdent(p.ID), guest)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanID)
}

// ErasureUnderway reports whether an erasure of the person the audit
// reference names is recorded and not done.
func ErasureUnderway(ctx context.Context, q database.Querier, personRef string) (bool, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM erasure_runs WHERE person_ref = ? AND state <> 'done'`, personRef).Scan(&n)
	return n > 0, err
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
