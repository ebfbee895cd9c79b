package consents

import (
	"context"
	"errors"
	"log/slog"
	"slices"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/consent"
	"github.com/sessionshq/sessions/internal/privacy/cookies"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/gate"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// ReceiptSchemaPath is where the JSON Schema of consent receipts is
// published; every receipts document points to it.
const ReceiptSchemaPath = "/privacy/consent-receipt.schema.json"

// Receipts is the member's receipts document: every record of their
// ledger, with the controllers that answer for them.
func (s *Service) Receipts(ctx context.Context, accountID string) (consent.Receipts, error) {
	db := s.env.Store.DB
	hist, err := store.ConsentHistory(ctx, db, consent.Member, accountID)
	if err != nil {
		return consent.Receipts{}, err
	}
	p, err := store.GetProfile(ctx, db, accountID)
	if err != nil {
		return consent.Receipts{}, err
	}
	var controllers []consent.Controller
	for _, c := range account.ControllersFor(p.Country) {
		controllers = append(controllers, consent.Controller{Name: c.Name, Role: c.Role, Contact: c.Contact})
	}
	return consent.NewReceipts(s.env.Config.BaseURL+ReceiptSchemaPath, controllers, consent.Member, accountID, hist, s.env.Clock.Now()), nil
}

// Choice is a member's choice about purposes that rest on consent.
type Choice struct {
	// SubjectID may name whom the choice is about, and then must be the
	// actor: nobody records a choice for someone else. "" is the actor.
	SubjectID string
	Purposes  []string
	State     consent.State
	Method    consent.Method
}

// RecordChoice appends the actor's choice about purposes, one record per
// notice the purposes answer to, with the Global Privacy Control signal
// first when the browser sends it. It checks everything before writing,
// so a refused choice writes nothing.
func (s *Service) RecordChoice(ctx context.Context, actor service.Actor, c Choice, b Browser) ([]consent.Record, error) {
	if actor.AccountID == "" {
		return nil, errs.E(errs.Unauthorized, "sign in first")
	}
	if c.SubjectID != "" && c.SubjectID != actor.AccountID {
		return nil, errs.E(errs.Forbidden, "you can record consent only for yourself")
	}
	if err := checkChoice(c); err != nil {
		return nil, err
	}
	accountID, member := actor.AccountID, gate.Member(actor.AccountID)
	var out []consent.Record
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		out = nil
		type group struct {
			id, version, hash string
			purposes          []string
		}
		var groups []*group
		for _, p := range c.Purposes {
			id, version, hash, err := consentNotice(ctx, tx, p)
			if err != nil {
				return err
			}
			i := slices.IndexFunc(groups, func(g *group) bool { return g.id == id && g.version == version })
			if i < 0 {
				groups = append(groups, &group{id: id, version: version, hash: hash})
				i = len(groups) - 1
			}
			groups[i].purposes = append(groups[i].purposes, p)
		}
		if b.GPC {
			if err := s.noteGPC(ctx, tx, member, b); err != nil {
				return err
			}
		}
		now := s.env.Clock.Now()
		for _, g := range groups {
			rec := consent.Record{
				ID: consent.NewID(), SubjectKind: consent.Member, SubjectID: accountID,
				NoticeID: g.id, NoticeVersion: g.version, NoticeHash: g.hash, Purposes: g.purposes,
				Basis: datamap.Consent, Method: c.Method, At: now, State: c.State,
				IP: b.ip(), UserAgent: b.client(), GPC: b.GPC,
			}
			if err := store.AppendConsent(ctx, tx, rec); err != nil {
				return err
			}
			out = append(out, rec)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.env.Log.LogAttrs(ctx, slog.LevelInfo, "consent recorded", slog.String("state", string(c.State)),
		slog.String("method", string(c.Method)), slog.Int("records", len(out)))
	return out, nil
}

// checkChoice refuses a choice that names no purpose, an unknown one,
// one twice, or a state a member cannot choose.
func checkChoice(c Choice) error {
	v := errs.Validation{}
	switch {
	case len(c.Purposes) == 0:
		v.Add("purposes", "name at least one purpose")
	case len(c.Purposes) > len(consent.ChoosablePurposes()):
		v.Add("purposes", "too many purposes")
	}
	seen := map[string]bool{}
	for _, p := range c.Purposes {
		switch {
		case !consent.Choosable(p):
			v.Add("purposes", "unknown purpose, or one that does not rest on consent: "+clip(p, 40))
		case seen[p]:
			v.Add("purposes", "a purpose is named twice")
		}
		seen[p] = true
	}
	if c.State != consent.Given && c.State != consent.Refused && c.State != consent.Withdrawn {
		v.Add("state", "must be given, refused or withdrawn")
	}
	return v.Err()
}

// clip shortens a value echoed in a message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// consentNotice is the text a choice about purpose answers to: the
// cookie notice for what the cookie tool asks about, the privacy notice
// in force for the feature opt-ins.
func consentNotice(ctx context.Context, q database.Querier, purpose string) (id, version, hash string, err error) {
	for _, cat := range cookies.Optional {
		if slices.Contains(cat.Purposes(), purpose) {
			return cookies.NoticeID, cookies.NoticeVersion, cookies.NoticeHash(), nil
		}
	}
	v, err := store.CurrentNotice(ctx, q)
	if errors.Is(err, database.ErrNotFound) {
		return "", "", "", errs.E(errs.Unavailable, "no privacy notice is published yet, so this consent cannot be recorded")
	}
	if err != nil {
		return "", "", "", err
	}
	return v.NoticeID, v.Label(), v.Hash, nil
}

// Standing is where one purpose that rests on consent stands for a
// member.
type Standing struct {
	Purpose datamap.Purpose
	// Record is the latest record about the purpose; HasRecord is false
	// when there is none.
	Record    consent.Record
	HasRecord bool
	// State is the record's state now, an expired consent included.
	State consent.State
	// Decision is the purpose gate's answer now, with its reason.
	Decision gate.Decision
}

// Overview is a member's consents page: each purpose that rests on
// consent and the ledger's history, oldest first.
type Overview struct {
	Purposes []Standing
	History  []consent.Record
	// GPC is true when the browser sends the signal, or a purpose is
	// kept off by it.
	GPC bool
}

// Overview shows the member every purpose that rests on consent with
// where it stands and what the gate answers, and their history. A Global
// Privacy Control signal the browser sends is recorded first.
func (s *Service) Overview(ctx context.Context, accountID string, b Browser) (Overview, error) {
	member := gate.Member(accountID)
	var out Overview
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		out = Overview{GPC: b.GPC}
		if b.GPC {
			if err := s.noteGPC(ctx, tx, member, b); err != nil {
				return err
			}
		}
		hist, err := store.ConsentHistory(ctx, tx, consent.Member, accountID)
		if err != nil {
			return err
		}
		out.History = hist
		in, err := s.gateInputs(ctx, tx, member)
		if err != nil {
			return err
		}
		in.GPC = b.GPC
		for _, p := range consent.ChoosablePurposes() {
			st := Standing{Purpose: p}
			if rec, ok := in.Consents[p.ID]; ok {
				st.Record, st.HasRecord, st.State = rec, true, in.StateOf(rec)
			}
			st.Decision = gate.Decide(in, p.ID)
			if st.Decision.Reason == gate.ReasonGPC {
				out.GPC = true
			}
			out.Purposes = append(out.Purposes, st)
		}
		return nil
	})
	return out, err
}

// Withdrawal is what withdrawing a consent changed in the browser's
// cookie choice.
type Withdrawal struct {
	// Dropped are the categories of the browser's current choice that
	// allowed the purpose and are now withdrawn too; Choice is the
	// browser's choice without them, for its cookie. Both are empty when
	// the browser's choice did not allow the purpose.
	Dropped []cookies.Category
	Choice  cookies.Choice
}

// Withdraw records the member's withdrawal of the consent they gave for
// purpose. When the browser's current cookie choice still allows the
// purpose, the browser's choice of each category that covers it is
// withdrawn in the ledger too, in the same transaction.
func (s *Service) Withdraw(ctx context.Context, accountID, purpose string, b Browser) (Withdrawal, error) {
	if !consent.Choosable(purpose) {
		return Withdrawal{}, errs.E(errs.NotFound, "there is no such consent")
	}
	now := s.env.Clock.Now()
	choice, browserChose := b.current(now)
	var out Withdrawal
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		out = Withdrawal{}
		cur, err := store.CurrentConsents(ctx, tx, consent.Member, accountID)
		if err != nil {
			return err
		}
		rec, ok := cur[purpose]
		if !ok || rec.StateAt(now) != consent.Given {
			return errs.E(errs.Conflict, "this consent is not given, so there is nothing to withdraw")
		}
		if err := store.AppendConsent(ctx, tx, consent.Record{
			ID: consent.NewID(), SubjectKind: consent.Member, SubjectID: accountID,
			NoticeID: rec.NoticeID, NoticeVersion: rec.NoticeVersion, NoticeHash: rec.NoticeHash,
			Purposes: []string{purpose}, Basis: datamap.Consent, Method: consent.Settings, At: now,
			State: consent.Withdrawn, IP: b.ip(), UserAgent: b.client(), GPC: b.GPC,
		}); err != nil {
			return err
		}
		if !browserChose {
			return nil
		}
		for _, cat := range choice.Granted {
			if !slices.Contains(cat.Purposes(), purpose) {
				continue
			}
			out.Dropped = append(out.Dropped, cat)
			if err := store.AppendConsent(ctx, tx, consent.Record{
				ID: consent.NewID(), SubjectKind: consent.Visitor, SubjectID: choice.VisitorID,
				NoticeID: cookies.NoticeID, NoticeVersion: cookies.NoticeVersion, NoticeHash: cookies.NoticeHash(),
				Purposes: cat.Purposes(), Basis: datamap.Consent, Method: consent.Settings, At: now,
				State: consent.Withdrawn, IP: b.ip(), UserAgent: b.client(), GPC: b.GPC,
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Withdrawal{}, err
	}
	if len(out.Dropped) > 0 {
		out.Choice = choice
		out.Choice.Granted = slices.DeleteFunc(slices.Clone(choice.Granted), func(c cookies.Category) bool { return slices.Contains(out.Dropped, c) })
	}
	s.env.Log.LogAttrs(ctx, slog.LevelInfo, "consent withdrawn", slog.String("purpose", purpose))
	return out, nil
}
