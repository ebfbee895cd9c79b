package console

import (
	"context"

	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

// The audit log as staff and the operator check it. Verification walks
// the whole log in batches on the plain database rather than in one
// transaction: on SQLite a transaction holds the write lock, and the walk
// must not stop every writer for as long as it takes. The walk copes with
// entries appended and pruned meanwhile (see store.VerifyAudit).

// AuditLog is one page of the audit log with the verdict on the chain.
type AuditLog struct {
	Verify  audit.Result
	Entries []audit.Record
}

// AuditLog verifies the chain and returns the newest entries, those
// before seq `before` when it is above zero, at most limit (1 to 500).
func (s *Service) AuditLog(ctx context.Context, actor service.Actor, before int64, limit int) (AuditLog, error) {
	if err := actor.Require(staff.ReadAuditLog); err != nil {
		return AuditLog{}, err
	}
	db := s.env.Store.DB
	res, err := s.env.Store.VerifyAudit(ctx, db, nil)
	if err != nil {
		return AuditLog{}, err
	}
	recs, err := store.RecentAudit(ctx, db, before, limit)
	return AuditLog{Verify: res, Entries: recs}, err
}

// VerifyAudit checks the whole chain, against anchor (a head published
// earlier) when it is set: only an anchor reveals entries cut off the end.
func (s *Service) VerifyAudit(ctx context.Context, actor service.Actor, anchor *audit.Checkpoint) (audit.Result, error) {
	if err := actor.Require(staff.ReadAuditLog); err != nil {
		return audit.Result{}, err
	}
	return s.OperatorVerifyAudit(ctx, anchor)
}

// OperatorVerifyAudit is VerifyAudit for the operator at the server's
// shell.
func (s *Service) OperatorVerifyAudit(ctx context.Context, anchor *audit.Checkpoint) (audit.Result, error) {
	return s.env.Store.VerifyAudit(ctx, s.env.Store.DB, anchor)
}
