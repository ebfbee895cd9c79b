// Package campaigns holds the use cases of marketing: preferences per
// channel, objections, the signed preference link and the one-click
// unsubscribe, the staff campaigns and objections queue, and the job that
// sends campaigns. There is no use case here that sells or shares
// personal data for anyone else's marketing.
package campaigns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/marketing"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/service/consents"
	"github.com/sessionshq/sessions/internal/store"
)

// Service runs the use cases of marketing.
type Service struct {
	env *service.Env
	// gate is the purpose gate every campaign recipient passes.
	gate *consents.Service
	// allow asks the gate whether a member may be sent marketing; links
	// makes a recipient's links. Tests replace them to watch the gate and
	// recognise the links.
	allow func(ctx context.Context, accountID string) (bool, error)
	links func(campaignID string, r marketing.Recipient) marketing.Links
}

// New builds the service; gate answers for each recipient whether
// marketing may reach them.
func New(env *service.Env, gate *consents.Service) *Service {
	s := &Service{env: env, gate: gate}
	s.allow, s.links = s.gateAllows, s.campaignLinks
	return s
}

// anonymous is the audit log's actor of changes made through a
// message's signed link, where only the link proves who acts.
var anonymous = audit.Party{Kind: "anonymous"}

func member(id string) audit.Party { return audit.Party{Kind: "member", ID: id} }

// signedIn refuses an actor nobody signed in as.
func signedIn(actor service.Actor) error {
	if actor.AccountID == "" {
		return errs.E(errs.Unauthorized, "sign in first")
	}
	return nil
}

// preferences reads a member's marketing state: their choices, the
// relationship that decides the defaults (at now, since a child grows
// up), their objections and whether their address is suppressed.
func (s *Service) preferences(ctx context.Context, q database.Querier, a account.Account) (marketing.Preferences, error) {
	prof, err := store.GetProfile(ctx, q, a.ID)
	if err != nil {
		return marketing.Preferences{}, err
	}
	out := marketing.Preferences{Relationship: marketing.RelationshipOf(a, account.RestrictionsFor(prof, s.env.Clock.Now()))}
	if out.Chosen, err = store.MarketingChoices(ctx, q, a.ID); err != nil {
		return marketing.Preferences{}, err
	}
	if out.Objected, out.ProfilingObjected, err = store.Objections(ctx, q, a.ID); err != nil {
		return marketing.Preferences{}, err
	}
	if out.Suppressed, err = store.Suppressed(ctx, q, s.digest(a.Email)); err != nil {
		return marketing.Preferences{}, err
	}
	return out, nil
}

// digest is the key the suppression list keeps an address under.
func (s *Service) digest(email string) string {
	return marketing.SuppressionDigest(s.env.Secret, email)
}

// preferencesOf reads the marketing state of the member accountID; an
// unknown account gives database.ErrNotFound.
func (s *Service) preferencesOf(ctx context.Context, q database.Querier, accountID string) (marketing.Preferences, error) {
	a, err := store.AccountByID(ctx, q, accountID)
	if err != nil {
		return marketing.Preferences{}, err
	}
	return s.preferences(ctx, q, a)
}

// Overview is a member's marketing state as their page and the API show
// it.
type Overview struct {
	Prefs      marketing.Preferences
	Objections []marketing.Objection
	// Purposes are the purposes an objection to legitimate interest may
	// name.
	Purposes []datamap.Purpose
}

// Overview reads the marketing state and objections of member
// accountID; an unknown account gives database.ErrNotFound.
func (s *Service) Overview(ctx context.Context, accountID string) (Overview, error) {
	q := s.env.Store.DB
	p, err := s.preferencesOf(ctx, q, accountID)
	if err != nil {
		return Overview{}, err
	}
	objections, err := store.ObjectionsOf(ctx, q, accountID)
	if err != nil {
		return Overview{}, err
	}
	out := Overview{Prefs: p, Objections: objections}
	for _, pu := range s.env.Map.Purposes {
		if pu.ID != marketing.Purpose && marketing.LegitimateInterestPurpose(pu.ID) {
			out.Purposes = append(out.Purposes, pu)
		}
	}
	return out, nil
}

// Preferences reads the marketing state of member accountID; an unknown
// account gives database.ErrNotFound.
func (s *Service) Preferences(ctx context.Context, accountID string) (marketing.Preferences, error) {
	return s.preferencesOf(ctx, s.env.Store.DB, accountID)
}

// SetChannels sets the channels the signed-in member asks for; channels
// left out keep their state. No change writes nothing.
func (s *Service) SetChannels(ctx context.Context, actor service.Actor, want map[string]bool, method marketing.Method) error {
	if err := signedIn(actor); err != nil {
		return err
	}
	return s.setChannels(ctx, member(actor.AccountID), actor.AccountID, want, true, method)
}

// SetChannelsByLink sets channels from the page a message's signed link
// opens: they may be switched off there, never on.
func (s *Service) SetChannelsByLink(ctx context.Context, token string, want map[string]bool) error {
	id, err := s.LinkAccount(ctx, token)
	if err != nil {
		return err
	}
	return s.setChannels(ctx, anonymous, id, want, false, marketing.ByLink)
}

// setChannels checks and stores the channel states a person asks for,
// with the audit entry, in one transaction.
func (s *Service) setChannels(ctx context.Context, actor audit.Party, accountID string, want map[string]bool, allowOn bool, method marketing.Method) error {
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		p, err := s.preferencesOf(ctx, tx, accountID)
		if err != nil {
			return err
		}
		changes, err := p.Edit(want, allowOn)
		if err != nil || len(changes) == 0 {
			return err
		}
		now := s.env.Clock.Now()
		detail := map[string]string{"method": string(method)}
		for _, c := range changes {
			if err := store.SetMarketingChannel(ctx, tx, accountID, c.Channel, c.On, now); err != nil {
				return err
			}
			detail["channel."+string(c.Channel)] = onOff(c.On)
		}
		return tx.Audit(ctx, audit.Entry{
			At: now, Actor: actor, Action: "marketing.preferences", Subject: member(accountID),
			Purpose: marketing.Purpose, Detail: detail,
		})
	})
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// LinkAccount checks a preferences token and returns the member it
// names. A token that was altered, forged or is too old is refused as
// malformed; a token for an account that no longer exists finds
// nothing.
func (s *Service) LinkAccount(ctx context.Context, token string) (string, error) {
	id, err := marketing.CheckPreferences(s.env.Secret, token, s.env.Clock.Now())
	if err != nil {
		return "", errs.E(errs.Malformed, "this link is not valid: it may have been altered or cut short, or it is too old")
	}
	if _, err := store.AccountByID(ctx, s.env.Store.DB, id); errors.Is(err, database.ErrNotFound) {
		return "", errs.E(errs.NotFound, "the account this link was for no longer exists, so nothing will be sent to it")
	} else if err != nil {
		return "", err
	}
	return id, nil
}

// ObjectionResult says what an objection changed.
type ObjectionResult struct {
	Objection marketing.Objection
	// Changed is false when the objection was already in force and there
	// was nothing left to switch off or suppress: a replayed unsubscribe
	// link, for example.
	Changed bool
}

// Object records the signed-in member's objection.
func (s *Service) Object(ctx context.Context, actor service.Actor, in marketing.ObjectionRequest, method marketing.Method) (ObjectionResult, error) {
	if err := signedIn(actor); err != nil {
		return ObjectionResult{}, err
	}
	return s.object(ctx, member(actor.AccountID), actor.AccountID, in, method, "")
}

// ObjectByLink records an objection made from a message's signed link:
// only the absolute ones, to marketing or to profiling. Objections that
// staff weigh need the person signed in, since they carry their reasons.
func (s *Service) ObjectByLink(ctx context.Context, token string, kind marketing.ObjectionKind) (ObjectionResult, error) {
	id, err := s.LinkAccount(ctx, token)
	if err != nil {
		return ObjectionResult{}, err
	}
	if !kind.Absolute() {
		return ObjectionResult{}, &errs.Error{Code: errs.Invalid, Message: "some fields are not valid",
			Fields: map[string]string{marketing.FieldKind: "must be marketing or profiling here; sign in to object to other processing"}}
	}
	return s.object(ctx, anonymous, id, marketing.ObjectionRequest{Kind: kind}, marketing.ByLink, "")
}

// object records an objection, in one transaction with its effects and
// its audit entry, and logs, without personal data, that one was made.
// An objection to direct marketing switches every channel off, is in
// force at once and for good, and puts the member's current address on
// the suppression list. An objection to profiling is in force at once
// too. An objection to legitimate-interest processing waits for staff;
// while one about the same purpose waits, asking again returns it. An
// unknown account gives database.ErrNotFound.
func (s *Service) object(ctx context.Context, actor audit.Party, accountID string, in marketing.ObjectionRequest, method marketing.Method, campaignID string) (ObjectionResult, error) {
	if err := in.Clean(); err != nil {
		return ObjectionResult{}, err
	}
	var res ObjectionResult
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		res = ObjectionResult{}
		now := s.env.Clock.Now()
		a, err := store.AccountByID(ctx, tx, accountID)
		if err != nil {
			return err
		}
		if in.Kind == marketing.ObjectLegitimateInterest {
			res, err = requestObjection(ctx, tx, actor, a.ID, in, method, now)
			return err
		}
		o := marketing.Objection{
			ID: marketing.NewObjectionID(), PersonID: a.ID, Kind: in.Kind, Method: method, CampaignID: campaignID,
			Statement: in.Statement, Status: marketing.Upheld, CreatedAt: now.UTC(),
		}
		if res.Changed, err = store.InsertObjection(ctx, tx, o); err != nil {
			return err
		}
		detail := map[string]string{"kind": string(in.Kind), "method": string(method)}
		if campaignID != "" {
			detail["campaign"] = campaignID
		}
		if in.Kind == marketing.ObjectMarketing {
			off, err := store.SwitchMarketingOff(ctx, tx, a.ID, now)
			if err != nil {
				return err
			}
			if off > 0 {
				detail["channels_off"] = fmt.Sprint(off)
				res.Changed = true
			}
			reason := marketing.SuppressedByObjection
			if method == marketing.ByUnsubscribe {
				reason = marketing.SuppressedByUnsubscribe
			}
			added, err := store.SuppressAddress(ctx, tx, s.digest(a.Email), a.ID, reason, now)
			if err != nil {
				return err
			}
			if added {
				detail["suppressed"] = "true"
				res.Changed = true
			}
		}
		if res.Objection, err = store.ObjectionOf(ctx, tx, a.ID, in.Kind); err != nil {
			return err
		}
		if !res.Changed {
			return nil
		}
		return tx.Audit(ctx, audit.Entry{
			At: now, Actor: actor, Action: "marketing.object", Subject: member(a.ID),
			Purpose: "legal-compliance", Detail: detail,
		})
	})
	if err != nil {
		return ObjectionResult{}, err
	}
	if res.Changed {
		s.env.Log.LogAttrs(ctx, slog.LevelInfo, "objection recorded", slog.String("kind", string(in.Kind)), slog.String("method", string(method)))
	}
	return res, nil
}

// requestObjection records an objection to legitimate-interest
// processing for staff to weigh, unless one about the same purpose
// already waits.
func requestObjection(ctx context.Context, tx *service.Tx, actor audit.Party, accountID string, in marketing.ObjectionRequest, method marketing.Method, now time.Time) (ObjectionResult, error) {
	existing, ok, err := store.PendingObjectionAbout(ctx, tx, accountID, in.Purpose)
	if err != nil || ok {
		return ObjectionResult{Objection: existing}, err
	}
	o := marketing.Objection{
		ID: marketing.NewObjectionID(), PersonID: accountID, Kind: marketing.ObjectLegitimateInterest, Method: method,
		Purpose: in.Purpose, Statement: in.Statement, Status: marketing.Pending, CreatedAt: now.UTC(),
	}
	if _, err := store.InsertObjection(ctx, tx, o); err != nil {
		return ObjectionResult{}, err
	}
	detail := map[string]string{"kind": string(o.Kind), "method": string(method), "objection": o.ID}
	if o.Purpose != "" {
		detail["purpose"] = o.Purpose
	}
	err = tx.Audit(ctx, audit.Entry{
		At: now, Actor: actor, Action: "marketing.object", Subject: member(accountID),
		Purpose: "legal-compliance", Detail: detail,
	})
	return ObjectionResult{Objection: o, Changed: true}, err
}

// Unsubscription is what an unsubscribe link shows.
type Unsubscription struct {
	// Done is true when the person is unsubscribed; Already when they
	// were before this request (or the account is gone, and with it
	// anything we could send).
	Done, Already bool
	// PreferencesToken opens the person's preferences page; "" when the
	// account is gone.
	PreferencesToken string
}

// CheckUnsubscribe checks the token of an unsubscribe URL and returns
// the person and the campaign it names. A token that was altered,
// forged or is too old is refused as malformed, and nothing is written.
func (s *Service) CheckUnsubscribe(token string) (personID, campaignID string, err error) {
	personID, campaignID, err = marketing.CheckUnsubscribe(s.env.Secret, token, s.env.Clock.Now())
	if err != nil {
		return "", "", errs.E(errs.Malformed, "this unsubscribe link is not valid: it may have been altered or cut short, or it is too old. Sign in to change your marketing preferences")
	}
	return personID, campaignID, nil
}

// UnsubscribeState tells the confirmation page of an unsubscribe link
// whether the person is unsubscribed already. It writes nothing.
func (s *Service) UnsubscribeState(ctx context.Context, token string) (Unsubscription, error) {
	personID, _, err := s.CheckUnsubscribe(token)
	if err != nil {
		return Unsubscription{}, err
	}
	p, err := s.preferencesOf(ctx, s.env.Store.DB, personID)
	switch {
	case errors.Is(err, database.ErrNotFound):
		return Unsubscription{Done: true, Already: true}, nil
	case err != nil:
		return Unsubscription{}, err
	}
	return Unsubscription{Done: p.Objected, Already: p.Objected, PreferencesToken: s.preferencesToken(personID)}, nil
}

// Unsubscribe is the one-click unsubscribe (RFC 8058): it records the
// objection to direct marketing and the suppression at once, and is
// idempotent: a replayed token changes nothing.
func (s *Service) Unsubscribe(ctx context.Context, token string) (Unsubscription, error) {
	personID, campaignID, err := s.CheckUnsubscribe(token)
	if err != nil {
		return Unsubscription{}, err
	}
	res, err := s.object(ctx, anonymous, personID, marketing.ObjectionRequest{Kind: marketing.ObjectMarketing}, marketing.ByUnsubscribe, campaignID)
	switch {
	case errors.Is(err, database.ErrNotFound):
		return Unsubscription{Done: true, Already: true}, nil
	case err != nil:
		return Unsubscription{}, err
	}
	return Unsubscription{Done: true, Already: !res.Changed, PreferencesToken: s.preferencesToken(personID)}, nil
}

func (s *Service) preferencesToken(personID string) string {
	return marketing.PreferencesToken(s.env.Secret, personID, s.env.Clock.Now())
}
