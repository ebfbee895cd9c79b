package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/safehttp"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/rights"
)

const transferColumns = `id, person_id, url, state, status_code, size_bytes, error, attempts, created_at, confirmed_at, finished_at`

// maxOpenTransfers bounds the transfers a member may have waiting, so the
// form cannot be used to make the server post to many addresses.
const maxOpenTransfers = 3

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

// RequestTransfer records a member's wish to send their portability
// package to rawURL, waiting for their confirmation. The address must be
// https; whether it leads to a public service is the caller's check
// (safehttp.Client.Check), made again when the package is sent.
func RequestTransfer(ctx context.Context, db *database.DB, secret []byte, accountID, rawURL string, now time.Time) (rights.Transfer, error) {
	u, err := safehttp.CheckURL(rawURL)
	if err != nil {
		return rights.Transfer{}, err
	}
	var x rights.Transfer
	err = db.InTx(ctx, func(tx *database.Tx) error {
		var open int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM data_transfers WHERE person_id = ? AND state IN ('confirming', 'queued')`, accountID).Scan(&open); err != nil {
			return err
		}
		if open >= maxOpenTransfers {
			return errs.E(errs.Conflict, "you have %d transfers waiting; confirm or let them finish first", open)
		}
		now = now.UTC()
		x = rights.Transfer{ID: newRightsID("trf_"), PersonID: accountID, URL: u.String(), State: rights.TransferConfirming, CreatedAt: now}
		if _, err := tx.Exec(ctx, `INSERT INTO data_transfers (id, person_id, url, state, size_bytes, attempts, created_at) VALUES (?, ?, ?, ?, 0, 0, ?)`,
			x.ID, accountID, x.URL, x.State, now); err != nil {
			return err
		}
		return AppendAudit(ctx, tx, secret, audit.Entry{At: now, Actor: memberParty(accountID), Action: "rights.transfer_request",
			Subject: memberParty(accountID), Purpose: "legal-compliance", Detail: map[string]string{"transfer": x.ID}})
	})
	return x, err
}

// ConfirmTransfer queues the member's transfer for sending. Another
// person's id, or an unknown one, is not found; a transfer already
// confirmed is returned as it is.
func ConfirmTransfer(ctx context.Context, db *database.DB, secret []byte, accountID, id string, now time.Time) (rights.Transfer, error) {
	var x rights.Transfer
	err := db.InTx(ctx, func(tx *database.Tx) error {
		var err error
		if x, err = TransferOf(ctx, tx, accountID, id); err != nil || x.State != rights.TransferConfirming {
			return err
		}
		now = now.UTC()
		if _, err := tx.Exec(ctx, `UPDATE data_transfers SET state = 'queued', confirmed_at = ? WHERE id = ?`, now, id); err != nil {
			return err
		}
		x.State, x.ConfirmedAt = rights.TransferQueued, &now
		return AppendAudit(ctx, tx, secret, audit.Entry{At: now, Actor: memberParty(accountID), Action: "rights.transfer_confirm",
			Subject: memberParty(accountID), Purpose: "legal-compliance", Detail: map[string]string{"transfer": id}})
	})
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

// Transferer sends confirmed transfers: the portability package is
// written to a temporary file (bounded by rights.MaxTransferBytes, and
// replayable for a redirect) and posted through Client, which refuses
// private targets when it dials.
type Transferer struct {
	DB       *database.DB
	Exporter *Exporter
	Client   Poster
	Clock    clock.Clock
	Secret   []byte
	// TempDir holds the package while it is sent; "" is the system's.
	TempDir string
	Log     *slog.Logger
}

// errTooLarge stops a package over the limit.
var errTooLarge = errors.New("the package is larger than a transfer may carry")

type limitWriter struct {
	w io.Writer
	n int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.n += int64(len(p)); l.n > rights.MaxTransferBytes {
		return 0, errTooLarge
	}
	return l.w.Write(p)
}

// Send sends one transfer. A refused target or an oversized package
// fails it at once; any other failure is counted and returned, so the job
// is retried, until rights.TransferAttempts.
func (x *Transferer) Send(ctx context.Context, id string) error {
	t, err := scanTransfer(x.DB.QueryRow(ctx, `SELECT `+transferColumns+` FROM data_transfers WHERE id = ?`, id))
	if errors.Is(err, database.ErrNotFound) {
		return nil // erased with its person meanwhile
	}
	if err != nil || t.State != rights.TransferQueued {
		return err
	}
	u, err := safehttp.CheckURL(t.URL)
	if err != nil {
		return x.fail(ctx, t, "invalid-address", 0, true)
	}
	f, err := os.CreateTemp(x.TempDir, "sessions-transfer-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	lw := &limitWriter{w: f}
	if err := x.Exporter.WritePortable(ctx, lw, t.PersonID); err != nil {
		if errors.Is(err, errTooLarge) {
			return x.fail(ctx, t, "too-large", 0, true)
		}
		return err
	}
	res, err := x.Client.Post(ctx, u, "application/json", lw.n, func() (io.ReadCloser, error) {
		r, err := os.Open(f.Name())
		return r, err
	})
	switch {
	case errors.Is(err, safehttp.ErrRefused):
		return x.fail(ctx, t, "refused-address", 0, true)
	case err != nil:
		return x.fail(ctx, t, "unreachable", 0, false)
	case res.Status < 200 || res.Status > 299:
		return x.fail(ctx, t, "rejected", res.Status, res.Status >= 400 && res.Status < 500)
	}
	now := x.Clock.Now().UTC()
	return x.DB.InTx(ctx, func(tx *database.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE data_transfers SET state = 'sent', status_code = ?, size_bytes = ?, error = NULL, attempts = attempts + 1, finished_at = ?
			WHERE id = ?`, res.Status, lw.n, now, t.ID); err != nil {
			return err
		}
		tables, err := personTables(ctx, tx, x.Exporter.Map, rights.Person{AccountID: t.PersonID})
		if err != nil {
			return err
		}
		if err := RecordDelivery(ctx, tx, t.PersonID, "transfer:"+u.Hostname(), "portability package sent at your request",
			providedCategories(x.Exporter.Map, tables), now); err != nil {
			return err
		}
		return AppendAudit(ctx, tx, x.Secret, audit.Entry{At: now, Actor: audit.Party{Kind: "system"}, Action: "rights.transfer_sent",
			Subject: memberParty(t.PersonID), Purpose: "legal-compliance",
			Detail: map[string]string{"transfer": t.ID, "status": strconv.Itoa(res.Status), "bytes": strconv.FormatInt(lw.n, 10)}})
	})
}

// fail records a failed attempt; final, or the last allowed, fails the
// transfer for good. The error returned makes the job retry otherwise.
func (x *Transferer) fail(ctx context.Context, t rights.Transfer, reason string, status int, final bool) error {
	final = final || t.Attempts+1 >= rights.TransferAttempts
	state := t.State
	var finished any
	if final {
		state = rights.TransferFailed
		finished = x.Clock.Now().UTC()
	}
	if _, err := x.DB.Exec(ctx, `UPDATE data_transfers SET state = ?, error = ?, status_code = ?, attempts = attempts + 1, finished_at = ? WHERE id = ?`,
		state, reason, sql.NullInt64{Int64: int64(status), Valid: status != 0}, finished, t.ID); err != nil {
		return err
	}
	if x.Log != nil {
		x.Log.Warn("direct transfer failed", slog.String("transfer", t.ID), slog.String("reason", reason), slog.Bool("final", final))
	}
	if final {
		return nil
	}
	return fmt.Errorf("transfer %s: %s", t.ID, reason)
}

// providedCategories are the categories of the columns the person gave
// us in tables: what a portability package carries.
func providedCategories(m datamap.Map, tables []string) []string {
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
