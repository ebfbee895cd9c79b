package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/rights"
)

const transferColumns = `id, person_id, url, state, status_code, size_bytes, error, attempts, created_at, confirmed_at, finished_at`

func scanTransfer(s interface{ Scan(...any) error }) (rights.Transfer, error) {
	var (
		x                   rights.Transfer
		status              sql.NullInt64
		reason              sql.NullString
		confirmed, finished sql.NullTime
	)
	if err := s.Scan(&x.ID, &x.PersonID, &x.URL, &x.State, &status, &x.Size, &reason, &x.Attempts, &x.CreatedAt, &confirmed, &finished); err != nil {
		return rights.Transfer{}, err
	}
	x.StatusCode, x.Error = int(status.Int64), reason.String
	x.CreatedAt, x.ConfirmedAt, x.FinishedAt = x.CreatedAt.UTC(), nullTime(confirmed), nullTime(finished)
	return x, nil
}

// OpenTransfers counts the member's transfers waiting for their
// confirmation or to be sent.
func OpenTransfers(ctx context.Context, q database.Querier, accountID string) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM data_transfers WHERE person_id = ? AND state IN ('confirming', 'queued')`, accountID).Scan(&n)
	return n, err
}

// InsertTransfer records x, waiting for confirmation; it sets the id.
func InsertTransfer(ctx context.Context, q database.Querier, x rights.Transfer) (rights.Transfer, error) {
	x.ID, x.State, x.CreatedAt = newRightsID("trf_"), rights.TransferConfirming, x.CreatedAt.UTC()
	_, err := q.Exec(ctx, `INSERT INTO data_transfers (id, person_id, url, state, size_bytes, attempts, created_at) VALUES (?, ?, ?, ?, 0, 0, ?)`,
		x.ID, x.PersonID, x.URL, x.State, x.CreatedAt)
	return x, err
}

// QueueTransfer marks a confirmed transfer queued for sending.
func QueueTransfer(ctx context.Context, q database.Querier, id string, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE data_transfers SET state = 'queued', confirmed_at = ? WHERE id = ?`, now.UTC(), id)
	return err
}

// TransferByID returns any transfer, for the job that sends it.
func TransferByID(ctx context.Context, q database.Querier, id string) (rights.Transfer, error) {
	x, err := scanTransfer(q.QueryRow(ctx, `SELECT `+transferColumns+` FROM data_transfers WHERE id = ?`, id))
	if errors.Is(err, database.ErrNotFound) {
		return rights.Transfer{}, errs.E(errs.NotFound, "there is no such transfer")
	}
	return x, err
}

// TransferOf returns the member's transfer; another person's is not found.
func TransferOf(ctx context.Context, q database.Querier, accountID, id string) (rights.Transfer, error) {
	x, err := scanTransfer(q.QueryRow(ctx, `SELECT `+transferColumns+` FROM data_transfers WHERE id = ? AND person_id = ?`, id, accountID))
	if errors.Is(err, database.ErrNotFound) {
		return rights.Transfer{}, errs.E(errs.NotFound, "there is no such transfer")
	}
	return x, err
}

// TransfersOf lists the member's transfers, newest first.
func TransfersOf(ctx context.Context, q database.Querier, accountID string) ([]rights.Transfer, error) {
	rows, err := q.Query(ctx, `SELECT `+transferColumns+` FROM data_transfers WHERE person_id = ? ORDER BY created_at DESC, id LIMIT 20`, accountID)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, func(s scanner) (rights.Transfer, error) { return scanTransfer(s) })
}

// QueuedTransfers lists the confirmed transfers not yet sent, for the
// periodic sweep to start.
func QueuedTransfers(ctx context.Context, q database.Querier) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT id FROM data_transfers WHERE state = 'queued' ORDER BY confirmed_at LIMIT 100`)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanID)
}

// TransferSent records the transfer delivered with the answer's status
// and the package's size.
func TransferSent(ctx context.Context, q database.Querier, id string, status int, size int64, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE data_transfers SET state = 'sent', status_code = ?, size_bytes = ?, error = NULL, attempts = attempts + 1, finished_at = ?
		WHERE id = ?`, status, size, now.UTC(), id)
	return err
}

// TransferAttemptFailed counts a failed attempt for reason, with the
// answer's status (0 for none); final fails the transfer for good.
func TransferAttemptFailed(ctx context.Context, q database.Querier, id, reason string, status int, final bool, now time.Time) error {
	state := rights.TransferQueued
	var finished any
	if final {
		state = rights.TransferFailed
		finished = now.UTC()
	}
	_, err := q.Exec(ctx, `UPDATE data_transfers SET state = ?, error = ?, status_code = ?, attempts = attempts + 1, finished_at = ? WHERE id = ?`,
		state, reason, sql.NullInt64{Int64: int64(status), Valid: status != 0}, finished, id)
	return err
}

// ProvidedCategories are the categories of the columns the person gave
// us in tables: what a portability package carries.
func ProvidedCategories(m datamap.Map, tables []string) []string {
	var out []string
	for _, t := range m.Tables {
		if !slices.Contains(tables, t.Name) {
			continue
		}
		for _, c := range t.PersonalColumns() {
			if c.Source != datamap.Provided {
				continue
			}
			for _, cat := range c.Categories {
				if !slices.Contains(out, cat) {
					out = append(out, cat)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}
