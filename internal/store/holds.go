package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/retention"
)

// heldNow is the condition, on a person id expression, that a legal hold
// is in force; it takes now twice.
const heldNow = `h.starts_at <= ? AND (h.ends_at IS NULL OR h.ends_at > ?) AND h.released_at IS NULL`

// PersonHeld reports whether a legal hold keeps personID's data at now:
// a hold that has begun, has not ended and was not released. Retention
// and erasure call it before removing anything of a person; personID is
// an account id, or a guest's participant id.
func PersonHeld(ctx context.Context, q database.Querier, personID string, now time.Time) (bool, error) {
	if personID == "" {
		return false, nil
	}
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM legal_holds h WHERE h.person_id = ? AND `+heldNow,
		personID, now.UTC(), now.UTC()).Scan(&n)
	return n > 0, err
}

const holdColumns = `id, person_id, reason, starts_at, ends_at, released_at, created_at`

func scanHold(row scanner) (retention.Hold, error) {
	var (
		h             retention.Hold
		ends, release sql.NullTime
	)
	if err := row.Scan(&h.ID, &h.PersonID, &h.Reason, &h.StartsAt, &ends, &release, &h.CreatedAt); err != nil {
		return h, err
	}
	h.StartsAt, h.CreatedAt = h.StartsAt.UTC(), h.CreatedAt.UTC()
	h.EndsAt, h.ReleasedAt = nullTime(ends), nullTime(release)
	return h, nil
}

// holdSubject is how the audit log names the person a hold is about.
func holdSubject(personID string) audit.Party {
	if len(personID) > 4 && personID[:4] == "par_" {
		return audit.Party{Kind: "participant", ID: personID}
	}
	return audit.Party{Kind: "member", ID: personID}
}

// CreateHold places a legal hold from now, audited in the same
// transaction. The request must have been cleaned.
func CreateHold(ctx context.Context, db *database.DB, secret []byte, actor audit.Party, in retention.HoldRequest, now time.Time) (retention.Hold, error) {
	now = now.UTC()
	h := retention.Hold{ID: retention.NewHoldID(), PersonID: in.PersonID, Reason: in.Reason, StartsAt: now, EndsAt: in.EndsAt, CreatedAt: now}
	err := db.InTx(ctx, func(tx *database.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO legal_holds (`+holdColumns+`) VALUES (?, ?, ?, ?, ?, NULL, ?)`,
			h.ID, h.PersonID, h.Reason, h.StartsAt, timeArg(h.EndsAt), h.CreatedAt); err != nil {
			return err
		}
		detail := map[string]string{"hold": h.ID}
		if h.EndsAt != nil {
			detail["ends_at"] = h.EndsAt.Format(time.RFC3339)
		}
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: actor, Action: "retention.hold_place", Subject: holdSubject(h.PersonID),
			Purpose: "legal-claims", Detail: detail,
		})
	})
	return h, err
}

// ReleaseHold ends a hold now, audited in the same transaction. A hold
// already released or ended gives errs.Conflict; an unknown one
// errs.NotFound.
func ReleaseHold(ctx context.Context, db *database.DB, secret []byte, actor audit.Party, id string, now time.Time) (retention.Hold, error) {
	now = now.UTC()
	var h retention.Hold
	err := db.InTx(ctx, func(tx *database.Tx) error {
		var err error
		if h, err = getHold(ctx, tx, id); err != nil {
			return err
		}
		if h.ReleasedAt != nil || (h.EndsAt != nil && !h.EndsAt.After(now)) {
			return errs.E(errs.Conflict, "the hold has already ended")
		}
		if _, err := tx.Exec(ctx, `UPDATE legal_holds SET released_at = ?, ends_at = ? WHERE id = ?`, now, now, id); err != nil {
			return err
		}
		h.ReleasedAt, h.EndsAt = &now, &now
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: actor, Action: "retention.hold_release", Subject: holdSubject(h.PersonID),
			Purpose: "legal-claims", Detail: map[string]string{"hold": h.ID},
		})
	})
	return h, err
}

// GetHold returns one hold; an unknown id gives errs.NotFound.
func GetHold(ctx context.Context, q database.Querier, id string) (retention.Hold, error) {
	return getHold(ctx, q, id)
}

func getHold(ctx context.Context, q database.Querier, id string) (retention.Hold, error) {
	h, err := scanHold(q.QueryRow(ctx, `SELECT `+holdColumns+` FROM legal_holds WHERE id = ?`, id))
	if errors.Is(err, database.ErrNotFound) {
		return h, errs.E(errs.NotFound, "no such legal hold")
	}
	return h, err
}

// ListHolds returns the holds newest first, at most limit.
func ListHolds(ctx context.Context, q database.Querier, limit int) ([]retention.Hold, error) {
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	rows, err := q.Query(ctx, `SELECT `+holdColumns+` FROM legal_holds ORDER BY created_at DESC, id LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanHold)
}
