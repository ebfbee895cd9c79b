package consents

import (
	"context"
	"log/slog"
	"slices"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/consent"
	"github.com/sessionshq/sessions/internal/privacy/cookies"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/gate"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// Allowed answers whether purpose may use subject's data, for callers
// without a request (jobs, campaigns): there is no signal to read, so
// only the Global Privacy Control refusals already in the ledger count.
// An error comes with a refusal (gate.ReasonUnavailable): the gate fails
// closed.
//
// It reads through its own connection and writes nothing, so a use case
// may ask it from inside its transaction, as a campaign batch does for
// each recipient.
func (s *Service) Allowed(ctx context.Context, subject gate.Subject, purpose string) (gate.Decision, error) {
	in, err := s.gateInputs(ctx, s.env.Store.DB, subject)
	if err != nil {
		return gate.Decision{Reason: gate.ReasonUnavailable}, err
	}
	return gate.Decide(in, purpose), nil
}

// AllowedOnRequest answers whether purpose may use subject's data for a
// request from browser b: the ledger, the person's objections,
// restriction and age, and the request's Global Privacy Control signal.
// A failure to read any of them is logged and refuses: the gate fails
// closed. When the signal is on and matters for the purpose, it is
// written to the ledger, once per subject and cookie notice version.
func (s *Service) AllowedOnRequest(ctx context.Context, subject gate.Subject, purpose string, b Browser) gate.Decision {
	in, err := s.gateInputs(ctx, s.env.Store.DB, subject)
	if err != nil {
		s.env.Log.LogAttrs(ctx, slog.LevelError, "purpose gate could not load its inputs",
			slog.String("purpose", purpose), slog.String("error", err.Error()))
		return gate.Decision{Reason: gate.ReasonUnavailable}
	}
	in.GPC = b.GPC
	if in.GPC && subject.ID != "" && slices.Contains(gate.GPCPurposes, purpose) {
		err := s.env.InTx(ctx, func(tx *service.Tx) error { return s.noteGPC(ctx, tx, subject, b) })
		if err != nil {
			s.env.Log.LogAttrs(ctx, slog.LevelError, "could not record the GPC signal", slog.String("error", err.Error()))
		}
	}
	return gate.Decide(in, purpose)
}

// gateInputs reads what the gate weighs for subject. Objections,
// restriction and age belong to members; a visitor has only the ledger.
func (s *Service) gateInputs(ctx context.Context, q database.Querier, subject gate.Subject) (gate.Inputs, error) {
	now := s.env.Clock.Now()
	in := gate.Inputs{Subject: subject, Now: now, Notices: map[string]string{cookies.NoticeID: cookies.NoticeVersion}}
	if subject.ID == "" || (subject.Kind != consent.Member && subject.Kind != consent.Visitor) {
		return in, nil
	}
	cur, err := store.CurrentConsents(ctx, q, subject.Kind, subject.ID)
	if err != nil {
		return in, err
	}
	in.Consents = cur
	if subject.Kind != consent.Member {
		return in, nil
	}
	if in.ObjectsToMarketing, in.ObjectsToProfiling, err = store.Objections(ctx, q, subject.ID); err != nil {
		return in, err
	}
	if in.Restricted, err = store.Restricted(ctx, q, subject.ID); err != nil {
		return in, err
	}
	p, err := store.GetProfile(ctx, q, subject.ID)
	if err != nil {
		return in, err
	}
	age := account.RestrictionsFor(p, now)
	in.Age = &age
	return in, nil
}

// noteGPC appends the refusal the Global Privacy Control signal expresses
// (method gpc, the purposes in gate.GPCPurposes, under the cookie
// notice), unless the subject's ledger already holds one for the cookie
// notice's version. Use cases that record a choice made with the signal
// call it before the choice's own records: an explicit opt-in made at
// the same moment then comes after it and wins for its purpose.
func (s *Service) noteGPC(ctx context.Context, q database.Querier, subject gate.Subject, b Browser) error {
	if subject.ID == "" {
		return nil
	}
	has, err := store.HasGPCRecord(ctx, q, subject.Kind, subject.ID, cookies.NoticeID, cookies.NoticeVersion)
	if err != nil || has {
		return err
	}
	return store.AppendConsent(ctx, q, consent.Record{
		ID: consent.NewID(), SubjectKind: subject.Kind, SubjectID: subject.ID,
		NoticeID: cookies.NoticeID, NoticeVersion: cookies.NoticeVersion, NoticeHash: cookies.NoticeHash(),
		Purposes: slices.Clone(gate.GPCPurposes), Basis: datamap.Consent, Method: consent.GPC, At: s.env.Clock.Now(),
		State: consent.Refused, IP: b.ip(), UserAgent: b.client(), GPC: true,
	})
}

// CarryOver is the consent part of a sign-in, run in the sign-in's own
// transaction q: the choices the browser made as a visitor (the visitor
// id of its choice, current or lapsed) are carried over to the account
// as new records, and a Global Privacy Control signal sent with the
// sign-in is recorded for the member.
func (s *Service) CarryOver(ctx context.Context, q database.Querier, accountID string, b Browser) error {
	if b.HasChoice {
		if err := store.LinkVisitorConsents(ctx, q, b.Choice.VisitorID, accountID, s.env.Clock.Now()); err != nil {
			return err
		}
	}
	if b.GPC {
		return s.noteGPC(ctx, q, gate.Member(accountID), b)
	}
	return nil
}
