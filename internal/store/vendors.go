package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/vendors"
)

const subprocessorColumns = `id, name, activity, purpose, country, transfer_mechanism, data_categories, website, active, created_at, updated_at`

// SeedSubprocessors inserts the entries whose id is not in the registry yet
// and returns how many it inserted. Existing rows are never touched, so
// staff edits survive every restart and upgrade. Several instances may
// start at once: ON CONFLICT lets the loser of a race skip the row instead
// of failing.
func SeedSubprocessors(ctx context.Context, db *database.DB, entries []vendors.Subprocessor, now time.Time) (int, error) {
	inserted := 0
	err := db.InTx(ctx, func(tx *database.Tx) error {
		inserted = 0
		for _, s := range entries {
			cats, err := json.Marshal(nonNilStrings(s.DataCategories))
			if err != nil {
				return err
			}
			res, err := tx.Exec(ctx, `INSERT INTO subprocessors (`+subprocessorColumns+`)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (id) DO NOTHING`,
				s.ID, s.Name, s.Activity, s.Purpose, s.Country, string(s.Mechanism), string(cats), s.Website, s.Active, now.UTC(), now.UTC())
			if err != nil {
				return fmt.Errorf("seed sub-processor %s: %w", s.ID, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			inserted += int(n)
		}
		return nil
	})
	return inserted, err
}

// ListSubprocessors returns the registry ordered by name, only the active
// entries when activeOnly is set. The order is applied here rather than in
// SQL, because the two engines collate mixed-case names differently.
func ListSubprocessors(ctx context.Context, q database.Querier, activeOnly bool) ([]vendors.Subprocessor, error) {
	query := `SELECT ` + subprocessorColumns + ` FROM subprocessors`
	var args []any
	if activeOnly {
		query += ` WHERE active = ?`
		args = append(args, true)
	}
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list sub-processors: %w", err)
	}
	defer rows.Close()
	out := []vendors.Subprocessor{}
	for rows.Next() {
		s, err := scanSubprocessor(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b vendors.Subprocessor) int { return byNameThenID(a.Name, a.ID, b.Name, b.ID) })
	return out, nil
}

// GetSubprocessor returns one entry, or a NotFound error.
func GetSubprocessor(ctx context.Context, q database.Querier, id string) (vendors.Subprocessor, error) {
	s, err := scanSubprocessor(q.QueryRow(ctx, `SELECT `+subprocessorColumns+` FROM subprocessors WHERE id = ?`, id).Scan)
	if errors.Is(err, database.ErrNotFound) {
		return s, errs.E(errs.NotFound, "there is no sub-processor %q", id)
	}
	return s, err
}

// UpdateSubprocessor applies a staff edit, which the caller has normalised
// and validated, and returns the entry before and as it now stands. The
// caller writes the edit's audit entry in the same transaction.
func UpdateSubprocessor(ctx context.Context, q database.Querier, id string, u vendors.Update, now time.Time) (before, after vendors.Subprocessor, err error) {
	err = inTx(ctx, q, func(tx database.Querier) error {
		// Touch the row first: on PostgreSQL this takes its lock, so the
		// "before" read next cannot be overtaken by a concurrent edit.
		// SQLite's transaction already holds the write lock.
		res, err := tx.Exec(ctx, `UPDATE subprocessors SET updated_at = updated_at WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("lock sub-processor: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return errs.E(errs.NotFound, "there is no sub-processor %q", id)
		}
		if before, err = GetSubprocessor(ctx, tx, id); err != nil {
			return err
		}
		after = u.Apply(before)
		after.UpdatedAt = now.UTC()
		cats, err := json.Marshal(nonNilStrings(after.DataCategories))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE subprocessors
			SET activity = ?, country = ?, transfer_mechanism = ?, data_categories = ?, active = ?, updated_at = ?
			WHERE id = ?`,
			after.Activity, after.Country, string(after.Mechanism), string(cats), after.Active, after.UpdatedAt, id)
		if err != nil {
			return fmt.Errorf("update sub-processor: %w", err)
		}
		return nil
	})
	if err != nil {
		return vendors.Subprocessor{}, vendors.Subprocessor{}, err
	}
	return before, after, nil
}

func scanSubprocessor(scan func(dest ...any) error) (vendors.Subprocessor, error) {
	var s vendors.Subprocessor
	var mechanism, cats string
	if err := scan(&s.ID, &s.Name, &s.Activity, &s.Purpose, &s.Country, &mechanism, &cats, &s.Website, &s.Active, &s.CreatedAt, &s.UpdatedAt); err != nil {
		return s, err
	}
	s.Mechanism = vendors.Mechanism(mechanism)
	s.DataCategories = []string{}
	if err := json.Unmarshal([]byte(cats), &s.DataCategories); err != nil {
		return s, fmt.Errorf("sub-processor %s: data categories: %w", s.ID, err)
	}
	if s.DataCategories == nil {
		s.DataCategories = []string{}
	}
	s.CreatedAt = s.CreatedAt.UTC()
	s.UpdatedAt = s.UpdatedAt.UTC()
	return s, nil
}

// nonNilStrings keeps an empty list stored as [] rather than null.
func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
