package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
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

// InsertHold records a legal hold.
func InsertHold(ctx context.Context, q database.Querier, h retention.Hold) error {
	_, err := q.Exec(ctx, `INSERT INTO legal_holds (`+holdColumns+`) VALUES (?, ?, ?, ?, ?, NULL, ?)`,
		h.ID, h.PersonID, h.Reason, h.StartsAt.UTC(), timeArg(h.EndsAt), h.CreatedAt.UTC())
	return err
}

// EndHold marks a hold released at now.
func EndHold(ctx context.Context, q database.Querier, id string, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE legal_holds SET released_at = ?, ends_at = ? WHERE id = ?`, now.UTC(), now.UTC(), id)
	return err
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
