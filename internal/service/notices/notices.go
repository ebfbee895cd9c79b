// Package notices holds the use cases of the privacy notice: the
// published versions and their history, publishing a new version as
// staff, the acknowledgements members give of significant changes, and
// the job that announces those changes by e-mail. The text itself is
// written by internal/privacy/notice from the data map and the
// sub-processor registry.
package notices

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/notice"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

// Service runs the use cases of the privacy notice.
type Service struct{ env *service.Env }

// New builds the service.
func New(env *service.Env) *Service { return &Service{env: env} }

// generate writes the notice as the data map and the sub-processor
// registry stand now, staff edits of the registry included.
func (s *Service) generate(ctx context.Context, q database.Querier) (notice.Document, error) {
	list, err := store.ListSubprocessors(ctx, q, false)
	if err != nil {
		return notice.Document{}, err
	}
	return notice.Build(*s.env.Map, list), nil
}

// PublishFirst publishes the notice as version 1, not significant, when
// no version exists yet, and returns the current version and whether
// this call published it. The server calls it at start; several
// instances starting at once publish it once. It is not a staff action,
// so nothing is audited.
func (s *Service) PublishFirst(ctx context.Context) (notice.Version, bool, error) {
	q := s.env.Store.DB
	if v, err := store.CurrentNotice(ctx, q); err == nil {
		return v, false, nil
	} else if !errors.Is(err, database.ErrNotFound) {
		return notice.Version{}, false, err
	}
	doc, err := s.generate(ctx, q)
	if err != nil {
		return notice.Version{}, false, err
	}
	body := doc.Markdown()
	published, err := store.InsertFirstNotice(ctx, q, notice.Version{
		NoticeID: notice.ID, Number: 1, PublishedAt: s.env.Now(), Summary: notice.FirstSummary,
		Body: body, Hash: notice.HashOf(body), Sections: doc.Sections,
	})
	if err != nil {
		return notice.Version{}, false, err
	}
	v, err := store.CurrentNotice(ctx, q)
	return v, published, err
}

// Current returns the current version with its text, publishing the
// first one when the server started without it (an instance that never
// ran the start-up step, such as a test server).
func (s *Service) Current(ctx context.Context) (notice.Version, error) {
	v, err := store.CurrentNotice(ctx, s.env.Store.DB)
	if errors.Is(err, database.ErrNotFound) {
		v, _, err = s.PublishFirst(ctx)
	}
	return v, err
}

// Page is one published version and the number of the current one.
type Page struct {
	Version notice.Version
	Current int
}

// Version returns published version n with its text, or an errs.NotFound
// error.
func (s *Service) Version(ctx context.Context, n int) (Page, error) {
	cur, err := s.Current(ctx)
	if err != nil {
		return Page{}, err
	}
	v, err := store.NoticeVersion(ctx, s.env.Store.DB, n)
	if err != nil {
		return Page{}, err
	}
	return Page{Version: v, Current: cur.Number}, nil
}

// History returns every published version, newest first, without their
// text.
func (s *Service) History(ctx context.Context) ([]notice.Version, error) {
	if _, err := s.Current(ctx); err != nil {
		return nil, err
	}
	return store.NoticeVersions(ctx, s.env.Store.DB)
}

// ToAcknowledge returns the latest significant version that member
// accountID has yet to acknowledge, and false when there is none.
func (s *Service) ToAcknowledge(ctx context.Context, accountID string) (notice.Version, bool, error) {
	return store.NoticeToAcknowledge(ctx, s.env.Store.DB, accountID)
}

// Acknowledgement is a member's confirmation that they saw a version.
type Acknowledgement struct {
	Version        int
	AcknowledgedAt time.Time
}

// Acknowledge records that the signed-in member has seen version n, or
// the current version when n is 0, with its audit entry. It is
// idempotent: a second call returns the first acknowledgement. An
// unknown version is an errs.Invalid error on the field "version".
func (s *Service) Acknowledge(ctx context.Context, actor service.Actor, n int) (Acknowledgement, error) {
	if actor.AccountID == "" {
		return Acknowledgement{}, errs.E(errs.Unauthorized, "sign in first")
	}
	noSuchVersion := &errs.Error{Code: errs.Invalid, Message: "there is no such version of the notice",
		Fields: map[string]string{"version": "must be a published version"}}
	if n < 0 {
		return Acknowledgement{}, noSuchVersion
	}
	if _, err := s.Current(ctx); err != nil {
		return Acknowledgement{}, err
	}
	var ack Acknowledgement
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		var (
			v   notice.Version
			err error
		)
		if n == 0 {
			v, err = store.CurrentNotice(ctx, tx)
		} else {
			v, err = store.NoticeVersion(ctx, tx, n)
		}
		if errors.Is(err, database.ErrNotFound) {
			return noSuchVersion
		}
		if err != nil {
			return err
		}
		now := s.env.Now()
		inserted, err := store.InsertAcknowledgement(ctx, tx, actor.AccountID, v.Number, now)
		if err != nil {
			return err
		}
		if inserted {
			err = tx.Audit(ctx, audit.Entry{
				At:      now,
				Actor:   audit.Party{Kind: "member", ID: actor.AccountID},
				Action:  "notice.acknowledge",
				Subject: audit.Party{Kind: "member", ID: actor.AccountID},
				Purpose: "legal-compliance",
				Detail:  map[string]string{"version": strconv.Itoa(v.Number)},
			})
			if err != nil {
				return err
			}
		}
		ack.Version = v.Number
		ack.AcknowledgedAt, err = store.AcknowledgedAt(ctx, tx, actor.AccountID, v.Number)
		return err
	})
	if err != nil {
		return Acknowledgement{}, err
	}
	return ack, nil
}

// Draft compares the notice as generated now with the last published
// version, for staff who may publish it.
type Draft struct {
	Published notice.Version
	Generated notice.Document
	Hash      string
	Diff      []notice.SectionDiff
	Changed   bool
}

// Draft returns the comparison staff review before publishing.
func (s *Service) Draft(ctx context.Context, actor service.Actor) (Draft, error) {
	if err := actor.Require(staff.PublishNotice); err != nil {
		return Draft{}, err
	}
	pub, err := s.Current(ctx)
	if err != nil {
		return Draft{}, err
	}
	doc, err := s.generate(ctx, s.env.Store.DB)
	if err != nil {
		return Draft{}, err
	}
	d := Draft{Published: pub, Generated: doc, Hash: doc.Hash(), Diff: notice.Compare(pub.Sections, doc.Sections)}
	d.Changed = d.Hash != pub.Hash
	return d, nil
}

// Publish publishes the notice as it is generated now as the next
// version, on behalf of staff, with its audit entry. It refuses with
// errs.Invalid when the publication does not pass Clean, and with
// errs.Conflict when the text differs from the one the staff member
// reviewed (ExpectHash), when nothing has changed since the latest
// version, or when another version was published meanwhile. Announcing
// a significant version is the mail job's work; the banner follows from
// the row itself.
func (s *Service) Publish(ctx context.Context, actor service.Actor, p notice.Publication) (notice.Version, error) {
	p, err := p.Clean()
	if err != nil {
		return notice.Version{}, err
	}
	var out notice.Version
	err = s.env.InTx(ctx, func(tx *service.Tx) error {
		if err := actor.Require(staff.PublishNotice); err != nil {
			return err
		}
		doc, err := s.generate(ctx, tx)
		if err != nil {
			return err
		}
		body := doc.Markdown()
		hash := notice.HashOf(body)
		if p.ExpectHash != "" && p.ExpectHash != hash {
			return errs.E(errs.Conflict, "the notice has changed since you reviewed it; review the new text before publishing")
		}
		next := 1
		last, err := store.CurrentNotice(ctx, tx)
		switch {
		case err == nil:
			if last.Hash == hash {
				return errs.E(errs.Conflict, "the notice has not changed since version %d; there is nothing to publish", last.Number)
			}
			next = last.Number + 1
		case !errors.Is(err, database.ErrNotFound):
			return err
		}
		out = notice.Version{
			NoticeID: notice.ID, Number: next, PublishedAt: s.env.Now(), PublishedBy: actor.AccountID,
			Significant: p.Significant, Summary: p.Summary, Body: body, Hash: hash, Sections: doc.Sections,
		}
		if err := store.InsertNoticeVersion(ctx, tx, out); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Entry{
			At:      out.PublishedAt,
			Actor:   actor.Staff(),
			Action:  "notice.publish",
			Subject: audit.Party{Kind: "notice", ID: notice.ID},
			Purpose: "legal-compliance",
			Detail: map[string]string{
				"version":     strconv.Itoa(out.Number),
				"significant": strconv.FormatBool(out.Significant),
				"sha256":      out.Hash,
			},
		})
	})
	if err != nil {
		return notice.Version{}, err
	}
	return out, nil
}
