package consents

import (
	"context"
	"slices"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/privacy/consent"
	"github.com/sessionshq/sessions/internal/privacy/cookies"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/gate"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// CookieChoice is a choice as the cookie banner, the settings page or
// their script post it, before it is checked.
type CookieChoice struct {
	// Action is accept-all, reject-all, close, save or withdraw.
	Action string
	// From is where the choice was made: "banner" (or "") or "settings".
	From string
	// Categories switches optional categories on and off; only with the
	// action save.
	Categories map[string]bool
	// GPC is true when the page's script saw
	// navigator.globalPrivacyControl on.
	GPC bool
}

// parsedCookieChoice is a checked CookieChoice.
type parsedCookieChoice struct {
	action   cookies.Action
	method   consent.Method
	selected []cookies.Category
}

// parse checks a posted choice: a known action, known categories (only
// with "save", and strictly necessary never off), and where it was made.
func (in CookieChoice) parse() (parsedCookieChoice, error) {
	v := errs.Validation{}
	var out parsedCookieChoice
	a, ok := cookies.ParseAction(in.Action)
	if !ok {
		v.Add("action", "must be accept-all, reject-all, close, save or withdraw")
	}
	out.action = a
	switch in.From {
	case "", "banner":
		out.method = consent.Banner
	case "settings":
		out.method = consent.Settings
	default:
		v.Add("from", "must be banner or settings")
	}
	if a == cookies.Withdraw {
		// Withdrawal happens in the settings, whichever page sent it.
		out.method = consent.Settings
	}
	if len(in.Categories) > 0 && ok && a != cookies.Save {
		v.Add("categories", "categories are only chosen one by one with the action save")
	}
	names := make([]string, 0, len(in.Categories))
	for name := range in.Categories {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		c, known := cookies.ParseCategory(name)
		switch {
		case !known:
			v.Add("categories."+name, "unknown category")
		case !c.IsOptional():
			if !in.Categories[name] {
				v.Add("categories."+name, "strictly necessary cookies cannot be switched off")
			}
		case in.Categories[name]:
			out.selected = append(out.selected, c)
		}
	}
	return out, v.Err()
}

// CookieChoiceResult is what recording a cookie choice produced: the
// choice for the browser's cookie and the ledger records written.
type CookieChoiceResult struct {
	Choice  cookies.Choice
	Records []consent.Record
}

// RecordCookieChoice writes the browser's cookie choice to the ledger,
// one record per optional category with its purposes, in one
// transaction, and returns the choice its cookie must now hold. The
// records are filed under the visitor id of the browser's choice (a new
// one when it has none); when accountID, the member signed in on the
// browser, is set, they are carried over to the account at once, as
// they would be at sign-in.
func (s *Service) RecordCookieChoice(ctx context.Context, accountID string, in CookieChoice, b Browser) (CookieChoiceResult, error) {
	pc, err := in.parse()
	if err != nil {
		return CookieChoiceResult{}, err
	}
	now := s.env.Clock.Now()
	b.GPC = b.GPC || in.GPC
	visitorID := cookies.NewVisitorID()
	if b.HasChoice {
		visitorID = b.Choice.VisitorID
	}
	choice := cookies.Decide(pc.action, pc.selected, b.GPC, visitorID, now)
	var res CookieChoiceResult
	err = s.env.InTx(ctx, func(tx *service.Tx) error {
		res = CookieChoiceResult{Choice: choice}
		current, err := store.CurrentConsents(ctx, tx, consent.Visitor, visitorID)
		if err != nil {
			return err
		}
		if b.GPC {
			// The signal's own refusal goes first, so that an explicit
			// opt-in made with it comes after and wins for its purpose.
			if err := s.noteGPC(ctx, tx, gate.Visitor(visitorID), b); err != nil {
				return err
			}
		}
		for _, cat := range cookies.Optional {
			wasGiven := false
			for _, p := range cat.Purposes() {
				if rec, ok := current[p]; ok && rec.StateAt(now) == consent.Given {
					wasGiven = true
				}
			}
			rec := consent.Record{
				ID: consent.NewID(), SubjectKind: consent.Visitor, SubjectID: visitorID,
				NoticeID: cookies.NoticeID, NoticeVersion: cookies.NoticeVersion, NoticeHash: cookies.NoticeHash(),
				Purposes: cat.Purposes(), Basis: datamap.Consent, Method: pc.method, At: now,
				State: cookies.Transition(choice.Allows(cat), wasGiven), IP: b.ip(), UserAgent: b.client(), GPC: b.GPC,
			}
			if err := store.AppendConsent(ctx, tx, rec); err != nil {
				return err
			}
			res.Records = append(res.Records, rec)
		}
		if accountID != "" {
			return store.LinkVisitorConsents(ctx, tx, visitorID, accountID, now)
		}
		return nil
	})
	if err != nil {
		return CookieChoiceResult{}, err
	}
	return res, nil
}
