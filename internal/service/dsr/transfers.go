package dsr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/jobs"
	"github.com/sessionshq/sessions/internal/platform/safehttp"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/rights"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// Direct transfers (Art. 20(2) GDPR): the member's portability package
// posted to another service they name, after they confirm it.

// maxOpenTransfers bounds the transfers a member may have waiting, so the
// form cannot be used to make the server post to many addresses.
const maxOpenTransfers = 3

// outbound is the client transfers and webhook notices are sent with.
func (s *Service) outbound() *safehttp.Client {
	if s.env.Outbound != nil {
		return s.env.Outbound
	}
	return &safehttp.Client{}
}

// RequestTransfer records a member's wish to send their portability
// package to rawURL, waiting for their confirmation. The address must be
// https and lead to a public service now; it is checked again when the
// package is sent.
func (s *Service) RequestTransfer(ctx context.Context, accountID, rawURL string) (rights.Transfer, error) {
	u, err := safehttp.CheckURL(rawURL)
	if err != nil {
		return rights.Transfer{}, err
	}
	// Before the transaction: the check resolves the host name.
	if err := s.outbound().Check(ctx, u); err != nil {
		return rights.Transfer{}, err
	}
	var x rights.Transfer
	err = s.env.InTx(ctx, func(tx *service.Tx) error {
		open, err := store.OpenTransfers(ctx, tx, accountID)
		if err != nil {
			return err
		}
		if open >= maxOpenTransfers {
			return errs.E(errs.Conflict, "you have %d transfers waiting; confirm or let them finish first", open)
		}
		now := s.env.Now()
		if x, err = store.InsertTransfer(ctx, tx, rights.Transfer{PersonID: accountID, URL: u.String(), CreatedAt: now}); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Entry{At: now, Actor: memberParty(accountID), Action: "rights.transfer_request",
			Subject: memberParty(accountID), Purpose: "legal-compliance", Detail: map[string]string{"transfer": x.ID}})
	})
	return x, err
}

// ConfirmTransfer queues the member's transfer for sending and starts it
// after the commit. Another person's id, or an unknown one, is not
// found; a transfer already confirmed is returned as it is.
func (s *Service) ConfirmTransfer(ctx context.Context, accountID, id string) (rights.Transfer, error) {
	var x rights.Transfer
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		var err error
		if x, err = store.TransferOf(ctx, tx, accountID, id); err != nil || x.State != rights.TransferConfirming {
			return err
		}
		now := s.env.Now()
		if err := store.QueueTransfer(ctx, tx, id, now); err != nil {
			return err
		}
		x.State, x.ConfirmedAt = rights.TransferQueued, &now
		tx.Enqueue(rights.TransferArgs{TransferID: id}, &jobs.Options{Unique: true})
		return tx.Audit(ctx, audit.Entry{At: now, Actor: memberParty(accountID), Action: "rights.transfer_confirm",
			Subject: memberParty(accountID), Purpose: "legal-compliance", Detail: map[string]string{"transfer": id}})
	})
	return x, err
}

// TransferOf returns the member's transfer; another person's is not found.
func (s *Service) TransferOf(ctx context.Context, accountID, id string) (rights.Transfer, error) {
	return store.TransferOf(ctx, s.env.Store.DB, accountID, id)
}

// TransfersOf lists the member's transfers, newest first.
func (s *Service) TransfersOf(ctx context.Context, accountID string) ([]rights.Transfer, error) {
	return store.TransfersOf(ctx, s.env.Store.DB, accountID)
}

// TransferTables are the tables whose provided columns a portability
// package carries.
func (s *Service) TransferTables() []string {
	var out []string
	for _, t := range rights.ExportPlan(*s.env.Map) {
		if len(rights.ProvidedColumns(t)) > 0 {
			out = append(out, t.Name)
		}
	}
	return out
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

// SendTransfer sends one confirmed transfer: the portability package is
// written to a temporary file (bounded by rights.MaxTransferBytes, and
// replayable for a redirect) and posted through env.Outbound, which
// refuses private targets when it dials. A refused target or an
// oversized package fails it at once; any other failure is counted and
// returned, so the job is retried, until rights.TransferAttempts.
func (s *Service) SendTransfer(ctx context.Context, id string) error {
	db := s.env.Store.DB
	t, err := store.TransferByID(ctx, db, id)
	if errs.CodeOf(err) == errs.NotFound {
		return nil // erased with its person meanwhile
	}
	if err != nil || t.State != rights.TransferQueued {
		return err
	}
	u, err := safehttp.CheckURL(t.URL)
	if err != nil {
		return s.failTransfer(ctx, t, "invalid-address", 0, true)
	}
	f, err := os.CreateTemp(s.tempDir, "sessions-transfer-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	lw := &limitWriter{w: f}
	if err := s.writePortable(ctx, lw, t.PersonID); err != nil {
		if errors.Is(err, errTooLarge) {
			return s.failTransfer(ctx, t, "too-large", 0, true)
		}
		return err
	}
	res, err := s.outbound().Post(ctx, u, "application/json", lw.n, func() (io.ReadCloser, error) {
		return os.Open(f.Name())
	})
	switch {
	case errors.Is(err, safehttp.ErrRefused):
		return s.failTransfer(ctx, t, "refused-address", 0, true)
	case err != nil:
		return s.failTransfer(ctx, t, "unreachable", 0, false)
	case res.Status < 200 || res.Status > 299:
		return s.failTransfer(ctx, t, "rejected", res.Status, res.Status >= 400 && res.Status < 500)
	}
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		now := s.env.Now()
		if err := store.TransferSent(ctx, tx, t.ID, res.Status, lw.n, now); err != nil {
			return err
		}
		tables, err := store.PersonTables(ctx, tx, *s.env.Map, rights.Person{AccountID: t.PersonID})
		if err != nil {
			return err
		}
		if err := store.RecordDelivery(ctx, tx, t.PersonID, "transfer:"+u.Hostname(), "portability package sent at your request",
			store.ProvidedCategories(*s.env.Map, tables), now); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Entry{At: now, Actor: audit.Party{Kind: "system"}, Action: "rights.transfer_sent",
			Subject: memberParty(t.PersonID), Purpose: "legal-compliance",
			Detail: map[string]string{"transfer": t.ID, "status": strconv.Itoa(res.Status), "bytes": strconv.FormatInt(lw.n, 10)}})
	})
}

// failTransfer records a failed attempt; final, or the last allowed,
// fails the transfer for good. The error returned makes the job retry
// otherwise.
func (s *Service) failTransfer(ctx context.Context, t rights.Transfer, reason string, status int, final bool) error {
	final = final || t.Attempts+1 >= rights.TransferAttempts
	if err := store.TransferAttemptFailed(ctx, s.env.Store.DB, t.ID, reason, status, final, s.env.Now()); err != nil {
		return err
	}
	s.log().Warn("direct transfer failed", slog.String("transfer", t.ID), slog.String("reason", reason), slog.Bool("final", final))
	if final {
		return nil
	}
	return fmt.Errorf("transfer %s: %s", t.ID, reason)
}
