// Package dsr holds the use cases of data-subject rights: requests and
// their workflow, exports, direct transfers, erasure and the notices to
// recipients (Art. 15 to 21 GDPR). It owns the engines that carry them
// out in the background — the erasure runs, the export builder that
// streams a ZIP file into blob storage, the transfer sender and the
// webhook delivery of Art. 19 notices — and the jobs that drive them;
// internal/store only reads and writes their rows.
package dsr

import (
	"context"
	"log/slog"

	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// Service runs the use cases of data-subject rights.
type Service struct {
	env *service.Env
	// steps runs the SQL of erasure plans; it caches the schema it reads.
	steps *store.ErasureSteps
	// files deletes the stored files an erasure queued (env.Blobs).
	files fileRemover
	// tempDir holds transfer packages while they are sent; "" is the
	// system's.
	tempDir string
}

// New builds the service.
func New(env *service.Env) *Service {
	s := &Service{env: env, steps: &store.ErasureSteps{DB: env.Store.DB, Clock: env.Clock, Lease: env.Config.ErasureLease}}
	if env.Blobs != nil {
		s.files = env.Blobs
	}
	return s
}

// fileRemover deletes a stored file and then its index row, and reports
// an errs.NotFound error for a key the index does not know (blob.Store).
type fileRemover interface {
	Delete(ctx context.Context, key string) error
}

func (s *Service) log() *slog.Logger {
	if s.env.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.env.Log.With(slog.String("component", "rights"))
}
