package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/audit"
)

// auditLockKey is the PostgreSQL advisory lock that makes appenders take
// turns at the head of the chain. An arbitrary constant, distinct from the
// migration lock.
const auditLockKey int64 = 7_413_305_600

// auditBatch is how many rows verification reads per query, which bounds
// its memory whatever the length of the log.
const auditBatch = 1000

const auditColumns = `seq, at, actor_kind, actor_id, actor_ref, action, subject_kind, subject_id, subject_ref, purpose, detail, prev_hash, hash`

// AppendAudit seals e onto the end of the audit log. Call it inside the
// transaction that makes the change it records, so that both commit or
// neither does; given the plain *database.DB it opens a transaction of its
// own.
//
// The chain must stay a line under concurrent writers, so appenders queue
// at the head: on PostgreSQL with a transaction-scoped advisory lock held
// until the caller's transaction ends, on SQLite through the write lock its
// transactions take at BEGIN. Call it late in a long transaction, since
// other appenders wait for that transaction to end. The transaction must be
// READ COMMITTED (the default), so that after the lock it sees the latest
// head.
func AppendAudit(ctx context.Context, q database.Querier, secret []byte, e audit.Entry) error {
	return inTx(ctx, q, func(tx database.Querier) error { return appendAudit(ctx, tx, secret, e) })
}

func appendAudit(ctx context.Context, q database.Querier, secret []byte, e audit.Entry) error {
	if err := e.Validate(); err != nil {
		return err
	}
	if err := lockAudit(ctx, q); err != nil {
		return err
	}
	head, err := AuditHead(ctx, q)
	if err != nil {
		return err
	}
	r, err := audit.Seal(secret, head, e)
	if err != nil {
		return err
	}
	// seq is given explicitly, one past the head: a database sequence would
	// leave gaps on rollback, and gaps are how deletions show.
	_, err = q.Exec(ctx, `INSERT INTO audit_log (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Seq, r.At, r.ActorKind, auditNullID(r.ActorID), r.ActorRef, r.Action,
		r.SubjectKind, auditNullID(r.SubjectID), r.SubjectRef, r.Purpose, r.Detail, r.PrevHash, r.Hash)
	if err != nil {
		return fmt.Errorf("append to the audit log: %w", err)
	}
	return nil
}

// lockAudit queues the caller at the head of the chain until its
// transaction ends; see AppendAudit. The lock is re-entrant within one
// transaction.
func lockAudit(ctx context.Context, q database.Querier) error {
	if q.Dialect() == database.Postgres {
		if _, err := q.Exec(ctx, "SELECT pg_advisory_xact_lock(?)", auditLockKey); err != nil {
			return fmt.Errorf("lock the audit log: %w", err)
		}
	}
	return nil
}

// AuditHead returns the last entry's position and hash. When the log is
// empty it is the last entry retention removed, if any, else the genesis
// checkpoint. Publish it to anchor later checks.
func AuditHead(ctx context.Context, q database.Querier) (audit.Checkpoint, error) {
	var c audit.Checkpoint
	err := q.QueryRow(ctx, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").Scan(&c.Seq, &c.Hash)
	if !errors.Is(err, database.ErrNotFound) {
		return c, err
	}
	a, ok, err := latestAuditAnchor(ctx, q, math.MaxInt64)
	if err != nil || !ok {
		return audit.Genesis(), err
	}
	return a.Checkpoint, nil
}

// latestAuditAnchor returns the newest anchor below seq `below`.
func latestAuditAnchor(ctx context.Context, q database.Querier, below int64) (audit.Anchor, bool, error) {
	var a audit.Anchor
	err := q.QueryRow(ctx, `SELECT seq, hash, pruned_at, run_id, mac FROM audit_anchors WHERE seq < ? ORDER BY seq DESC LIMIT 1`, below).
		Scan(&a.Seq, &a.Hash, &a.PrunedAt, &a.RunID, &a.MAC)
	if errors.Is(err, database.ErrNotFound) {
		return a, false, nil
	}
	a.PrunedAt = a.PrunedAt.UTC()
	return a, err == nil, err
}

// AuditPrune describes one removal of the head of the log: by which
// retention run and rule, and when.
type AuditPrune struct {
	RunID string
	Rule  string
	At    time.Time
}

// PruneAuditHead removes the entries of the log up to and including seq
// `through`, for retention, and returns how many went. In the same
// transaction it replaces the anchor with one sealed at `through`, from
// which verification then starts, and records the removal in the log.
// It takes the audit lock; retention takes it before choosing `through`
// in the same transaction, so that no appender moves the head in
// between. Given the plain *database.DB it opens a transaction of its own.
func PruneAuditHead(ctx context.Context, q database.Querier, secret []byte, through int64, p AuditPrune) (n int64, err error) {
	err = inTx(ctx, q, func(tx database.Querier) error {
		n, err = pruneAuditHead(ctx, tx, secret, through, p)
		return err
	})
	return n, err
}

func pruneAuditHead(ctx context.Context, q database.Querier, secret []byte, through int64, p AuditPrune) (int64, error) {
	if err := lockAudit(ctx, q); err != nil {
		return 0, err
	}
	var last audit.Checkpoint
	err := q.QueryRow(ctx, `SELECT seq, hash FROM audit_log WHERE seq = ?`, through).Scan(&last.Seq, &last.Hash)
	if err != nil {
		return 0, fmt.Errorf("the last audit entry to prune: %w", err)
	}
	anchor, err := audit.SealAnchor(secret, last, p.At, p.RunID)
	if err != nil {
		return 0, err
	}
	res, err := q.Exec(ctx, `DELETE FROM audit_log WHERE seq <= ?`, through)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	// Verification needs only the anchor the log now starts from.
	if _, err := q.Exec(ctx, `DELETE FROM audit_anchors WHERE seq <= ?`, through); err != nil {
		return 0, err
	}
	if _, err := q.Exec(ctx, `INSERT INTO audit_anchors (seq, hash, pruned_at, run_id, mac) VALUES (?, ?, ?, ?, ?)`,
		anchor.Seq, anchor.Hash, anchor.PrunedAt, anchor.RunID, anchor.MAC); err != nil {
		return 0, err
	}
	return n, appendAudit(ctx, q, secret, audit.Entry{
		At: p.At, Actor: audit.Party{Kind: "system"}, Action: "audit.pruned",
		Subject: audit.Party{Kind: "retention_run", ID: p.RunID}, Purpose: "legal-compliance",
		Detail: map[string]string{
			"rule":         p.Rule,
			"entries":      strconv.FormatInt(n, 10),
			"through_seq":  strconv.FormatInt(anchor.Seq, 10),
			"through_hash": anchor.Hash,
		},
	})
}

// VerifyAudit is VerifyAudit with the store's key, so that callers
// check pseudonyms and the sealed anchor without holding the secret.
func (s *Store) VerifyAudit(ctx context.Context, q database.Querier, anchor *audit.Checkpoint) (audit.Result, error) {
	return VerifyAudit(ctx, q, s.secret, anchor)
}

// VerifyAudit walks the whole log in sequence order, in batches, and
// returns the first broken link. With a secret it also checks that ids
// still present match their pseudonyms; with an anchor (a checkpoint
// published earlier) it notices entries cut off the end or rewritten
// wholesale. A log whose oldest entries retention removed is checked from
// the sealed anchor retention kept, which needs the secret. Entries
// appended while it runs are left for the next check.
func VerifyAudit(ctx context.Context, q database.Querier, secret []byte, anchor *audit.Checkpoint) (audit.Result, error) {
	// A prune that lands between reading where the log starts and reading
	// its rows looks like entries gone missing; such a result is checked
	// again, and a real break stays broken.
	for attempt := 0; ; attempt++ {
		start, res, err := verifyAuditOnce(ctx, q, secret, anchor)
		if err != nil || res.Intact || attempt == 2 {
			return res, err
		}
		now, _, err := latestAuditAnchor(ctx, q, math.MaxInt64)
		if err != nil || now.Seq == start {
			return res, err
		}
	}
}

// verifyAuditOnce verifies the log as it finds it, and returns the
// position of the newest anchor it saw too.
func verifyAuditOnce(ctx context.Context, q database.Querier, secret []byte, anchor *audit.Checkpoint) (int64, audit.Result, error) {
	latest, _, err := latestAuditAnchor(ctx, q, math.MaxInt64)
	if err != nil {
		return 0, audit.Result{}, err
	}
	var first sql.NullInt64
	if err := q.QueryRow(ctx, `SELECT MIN(seq) FROM audit_log`).Scan(&first); err != nil {
		return 0, audit.Result{}, err
	}
	res, err := verifyAuditFrom(ctx, q, secret, anchor, first)
	return latest.Seq, res, err
}

func verifyAuditFrom(ctx context.Context, q database.Querier, secret []byte, anchor *audit.Checkpoint, first sql.NullInt64) (audit.Result, error) {
	v := audit.NewVerifier(secret, anchor)
	if !first.Valid || first.Int64 > 1 {
		below := int64(math.MaxInt64)
		if first.Valid {
			below = first.Int64
		}
		pruned, ok, err := latestAuditAnchor(ctx, q, below)
		if err != nil {
			return audit.Result{}, err
		}
		if ok {
			v.Pruned(pruned)
		}
	}
	head, err := AuditHead(ctx, q)
	if err != nil {
		return audit.Result{}, err
	}
	after := int64(math.MinInt64)
	for {
		n, ok, err := verifyAuditBatch(ctx, q, v, after, head.Seq)
		if err != nil {
			return audit.Result{}, err
		}
		if !ok || n.count < auditBatch {
			break
		}
		after = n.last
	}
	return v.Result(), nil
}

type auditBatchEnd struct {
	count int
	last  int64
}

// verifyAuditBatch feeds up to auditBatch rows after seq `after` to v. It
// reports false once v has found a break.
func verifyAuditBatch(ctx context.Context, q database.Querier, v *audit.Verifier, after, upTo int64) (auditBatchEnd, bool, error) {
	rows, err := q.Query(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`, after, upTo, auditBatch)
	if err != nil {
		return auditBatchEnd{}, false, err
	}
	defer rows.Close()
	var end auditBatchEnd
	for rows.Next() {
		r, err := scanAuditRecord(rows)
		if err != nil {
			return end, false, err
		}
		end.count++
		end.last = r.Seq
		if !v.Check(r) {
			return end, false, nil
		}
	}
	return end, true, rows.Err()
}

// RecentAudit lists entries newest first, those before seq `before` when it
// is above zero, at most limit (1 to 500).
func RecentAudit(ctx context.Context, q database.Querier, before int64, limit int) ([]audit.Record, error) {
	if before <= 0 {
		before = math.MaxInt64
	}
	return listAudit(ctx, q, `SELECT `+auditColumns+` FROM audit_log WHERE seq < ? ORDER BY seq DESC LIMIT ?`, before, auditLimit(limit))
}

// AuditForSubject lists the entries whose subject is id, newest first,
// those before seq `before` when it is above zero, at most limit (1 to 500).
func AuditForSubject(ctx context.Context, q database.Querier, id string, before int64, limit int) ([]audit.Record, error) {
	if before <= 0 {
		before = math.MaxInt64
	}
	return listAudit(ctx, q, `SELECT `+auditColumns+` FROM audit_log WHERE subject_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`, id, before, auditLimit(limit))
}

// ClearAuditPerson removes id from every entry where it is the actor or the
// subject, for erasure. The entries stay, linked only by their pseudonyms,
// and the chain stays valid because the ids are outside the hash. It
// returns how many entries it changed.
func ClearAuditPerson(ctx context.Context, q database.Querier, id string) (int64, error) {
	if id == "" {
		return 0, errors.New("audit: clearing needs an id")
	}
	res, err := q.Exec(ctx, `UPDATE audit_log SET
		actor_id = CASE WHEN actor_id = ? THEN NULL ELSE actor_id END,
		subject_id = CASE WHEN subject_id = ? THEN NULL ELSE subject_id END
		WHERE actor_id = ? OR subject_id = ?`, id, id, id, id)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func listAudit(ctx context.Context, q database.Querier, query string, args ...any) ([]audit.Record, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanAuditRecord)
}

func scanAuditRecord(row scanner) (audit.Record, error) {
	var r audit.Record
	var actorID, subjectID sql.NullString
	err := row.Scan(&r.Seq, &r.At, &r.ActorKind, &actorID, &r.ActorRef, &r.Action,
		&r.SubjectKind, &subjectID, &r.SubjectRef, &r.Purpose, &r.Detail, &r.PrevHash, &r.Hash)
	if err != nil {
		return r, err
	}
	r.At = r.At.UTC()
	r.ActorID, r.SubjectID = actorID.String, subjectID.String
	return r, nil
}

func auditLimit(n int) int {
	return min(max(n, 1), 500)
}

// auditNullID stores "" as NULL, so that an absent id and an erased one look
// the same.
func auditNullID(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
