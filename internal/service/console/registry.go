package console

import (
	"context"
	"strconv"
	"strings"

	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/vendors"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

// The privacy centre and the sub-processor registry. The public pages show
// what the data map declares and the registry holds, nothing written by
// hand, so they cannot drift from what the product does; staff keep the
// registry.

// DataMap is the product's data map, for naming categories and purposes.
func (s *Service) DataMap() datamap.Map { return *s.env.Map }

// PublicSubprocessors lists the active entries of the registry by name,
// as anyone may read them.
func (s *Service) PublicSubprocessors(ctx context.Context) ([]vendors.Subprocessor, error) {
	return store.ListSubprocessors(ctx, s.env.Store.DB, true)
}

// ProcessingRecord builds the record of processing activities from the
// data map and the registry as it stands, staff edits included.
func (s *Service) ProcessingRecord(ctx context.Context) (datamap.Record, error) {
	list, err := store.ListSubprocessors(ctx, s.env.Store.DB, false)
	if err != nil {
		return datamap.Record{}, err
	}
	return datamap.BuildRecord(*s.env.Map, list), nil
}

// Subprocessors lists every entry of the registry, active or not, by
// name, for staff who keep it.
func (s *Service) Subprocessors(ctx context.Context, actor service.Actor) ([]vendors.Subprocessor, error) {
	var list []vendors.Subprocessor
	err := s.staffRead(ctx, actor, staff.EditSubprocessors, func(tx *service.Tx) error {
		var err error
		list, err = store.ListSubprocessors(ctx, tx, false)
		return err
	})
	return list, err
}

// Subprocessor returns one entry of the registry; an unknown id is
// errs.NotFound.
func (s *Service) Subprocessor(ctx context.Context, actor service.Actor, id string) (vendors.Subprocessor, error) {
	var sp vendors.Subprocessor
	err := s.staffRead(ctx, actor, staff.EditSubprocessors, func(tx *service.Tx) error {
		var err error
		sp, err = store.GetSubprocessor(ctx, tx, id)
		return err
	})
	return sp, err
}

// UpdateSubprocessor checks and applies a staff edit of one entry and
// audits it in the same transaction. An unknown id is errs.NotFound
// whatever the edit says.
func (s *Service) UpdateSubprocessor(ctx context.Context, actor service.Actor, id string, u vendors.Update) (vendors.Subprocessor, error) {
	var after vendors.Subprocessor
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		if err := actor.Require(staff.EditSubprocessors); err != nil {
			return err
		}
		if _, err := store.GetSubprocessor(ctx, tx, id); err != nil {
			return err
		}
		u = u.Normalise()
		if err := u.Validate(s.env.Map.HasCategory); err != nil {
			return err
		}
		before, saved, err := store.UpdateSubprocessor(ctx, tx, id, u, s.env.Now())
		if err != nil {
			return err
		}
		after = saved
		return tx.Audit(ctx, subprocessorEdited(actor.Staff(), before, after))
	})
	return after, err
}

// subprocessorEdited is the audit entry of an edit of the registry. The
// registry holds no personal data, so the changed values themselves go
// into the entry.
func subprocessorEdited(actor audit.Party, before, after vendors.Subprocessor) audit.Entry {
	detail := map[string]string{}
	note := func(field, was, is string) {
		if was != is {
			detail[field] = was + " -> " + is
		}
	}
	note("activity", before.Activity, after.Activity)
	note("country", before.Country, after.Country)
	note("transfer_mechanism", string(before.Mechanism), string(after.Mechanism))
	note("data_categories", strings.Join(before.DataCategories, ","), strings.Join(after.DataCategories, ","))
	note("active", strconv.FormatBool(before.Active), strconv.FormatBool(after.Active))
	for k, v := range detail {
		// Entries keep values short; the registry row itself has the rest.
		if len(v) > 250 {
			detail[k] = v[:250]
		}
	}
	return audit.Entry{
		At:      after.UpdatedAt,
		Actor:   actor,
		Action:  "subprocessor.update",
		Subject: audit.Party{Kind: "subprocessor", ID: after.ID},
		Purpose: "legal-compliance",
		Detail:  detail,
	}
}
