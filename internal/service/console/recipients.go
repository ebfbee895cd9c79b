package console

import (
	"context"
	"strconv"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

// Where the recipients of people's data take the notices Art. 19 GDPR
// asks for when data is rectified, erased or restricted: a privacy
// contact's e-mail address or an https webhook. Staff who keep the
// sub-processor registry keep these too, since a contract names both.

// Recipient is one sub-processor with its notice contact and how its
// notices fared, per state (queued, sent, failed, no-contact).
type Recipient struct {
	ID           string
	Name         string
	Active       bool
	PrivacyEmail string
	WebhookURL   string
	Notices      map[string]int
}

// Recipients lists every registry entry, active or not, with its contact
// and notice counts.
func (s *Service) Recipients(ctx context.Context, actor service.Actor) ([]Recipient, error) {
	var out []Recipient
	err := s.staffRead(ctx, actor, staff.EditSubprocessors, func(tx *service.Tx) error {
		var err error
		out, err = recipients(ctx, tx)
		return err
	})
	return out, err
}

// Recipient is one entry of Recipients; an unknown id is errs.NotFound.
func (s *Service) Recipient(ctx context.Context, actor service.Actor, id string) (Recipient, error) {
	var out Recipient
	err := s.staffRead(ctx, actor, staff.EditSubprocessors, func(tx *service.Tx) error {
		var err error
		out, err = recipient(ctx, tx, id)
		return err
	})
	return out, err
}

// SetRecipientContact records where the sub-processor id takes notices,
// audited in the same transaction, and returns its entry as it now
// stands. Empty fields clear the contact; a bad address or a webhook that
// is not https is errs.Invalid with the field named.
func (s *Service) SetRecipientContact(ctx context.Context, actor service.Actor, id, privacyEmail, webhookURL string) (Recipient, error) {
	var out Recipient
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		if err := actor.Require(staff.EditSubprocessors); err != nil {
			return err
		}
		now := s.env.Now()
		c, err := store.SetRecipientContact(ctx, tx, store.RecipientContact{Recipient: id, PrivacyEmail: privacyEmail, WebhookURL: webhookURL}, now)
		if err != nil {
			return err
		}
		if err := tx.Audit(ctx, audit.Entry{At: now, Actor: actor.Staff(), Action: "rights.recipient_contact",
			Subject: audit.Party{Kind: "subprocessor", ID: c.Recipient}, Purpose: "legal-compliance",
			Detail: map[string]string{"email": strconv.FormatBool(c.PrivacyEmail != ""), "webhook": strconv.FormatBool(c.WebhookURL != "")}}); err != nil {
			return err
		}
		out, err = recipient(ctx, tx, id)
		return err
	})
	return out, err
}

func recipients(ctx context.Context, q database.Querier) ([]Recipient, error) {
	subs, err := store.ListSubprocessors(ctx, q, false)
	if err != nil {
		return nil, err
	}
	contacts, err := store.RecipientContacts(ctx, q)
	if err != nil {
		return nil, err
	}
	counts, err := store.RecipientNoticeCounts(ctx, q)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]store.RecipientContact, len(contacts))
	for _, c := range contacts {
		byID[c.Recipient] = c
	}
	out := make([]Recipient, 0, len(subs))
	for _, sp := range subs {
		c := byID[sp.ID]
		n := counts[sp.ID]
		if n == nil {
			n = map[string]int{}
		}
		out = append(out, Recipient{ID: sp.ID, Name: sp.Name, Active: sp.Active,
			PrivacyEmail: c.PrivacyEmail, WebhookURL: c.WebhookURL, Notices: n})
	}
	return out, nil
}

func recipient(ctx context.Context, q database.Querier, id string) (Recipient, error) {
	list, err := recipients(ctx, q)
	if err != nil {
		return Recipient{}, err
	}
	for _, c := range list {
		if c.ID == id {
			return c, nil
		}
	}
	return Recipient{}, errs.E(errs.NotFound, "there is no such sub-processor")
}
