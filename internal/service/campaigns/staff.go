package campaigns

import (
	"context"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/marketing"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

// Campaigns lists the campaigns, newest first, for staff who send
// marketing.
func (s *Service) Campaigns(ctx context.Context, actor service.Actor) ([]marketing.Campaign, error) {
	if err := actor.Require(staff.SendMarketing); err != nil {
		return nil, err
	}
	return store.ListCampaigns(ctx, s.env.Store.DB)
}

// Campaign returns one campaign, or an errs.NotFound error.
func (s *Service) Campaign(ctx context.Context, actor service.Actor, id string) (marketing.Campaign, error) {
	if err := actor.Require(staff.SendMarketing); err != nil {
		return marketing.Campaign{}, err
	}
	return store.GetCampaign(ctx, s.env.Store.DB, id)
}

// CreateCampaign stores a draft, once it is clean, with its audit entry.
func (s *Service) CreateCampaign(ctx context.Context, actor service.Actor, d marketing.CampaignDraft) (marketing.Campaign, error) {
	if err := d.Clean(); err != nil {
		return marketing.Campaign{}, err
	}
	var c marketing.Campaign
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		if err := actor.Require(staff.SendMarketing); err != nil {
			return err
		}
		now := s.env.Clock.Now()
		c = marketing.Campaign{ID: marketing.NewCampaignID(), Subject: d.Subject, Text: d.Text, HTML: d.HTML, Status: marketing.Draft, CreatedAt: now.UTC()}
		if err := store.InsertCampaign(ctx, tx, c); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Entry{
			At: now, Actor: actor.Staff(), Action: "marketing.campaign.create", Subject: audit.Party{Kind: "campaign", ID: c.ID},
			Purpose: marketing.Purpose,
		})
	})
	if err != nil {
		return marketing.Campaign{}, err
	}
	return c, nil
}

// StartCampaign hands a draft to the sending job, with its audit entry.
// Only a draft can be started.
func (s *Service) StartCampaign(ctx context.Context, actor service.Actor, id string) (marketing.Campaign, error) {
	var c marketing.Campaign
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		if err := actor.Require(staff.SendMarketing); err != nil {
			return err
		}
		if _, err := store.GetCampaign(ctx, tx, id); err != nil {
			return err
		}
		now := s.env.Clock.Now()
		started, err := store.MarkCampaignSending(ctx, tx, id, now)
		if err != nil {
			return err
		}
		if !started {
			return errs.E(errs.Conflict, "this campaign was already sent")
		}
		if c, err = store.GetCampaign(ctx, tx, id); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Entry{
			At: now, Actor: actor.Staff(), Action: "marketing.campaign.send", Subject: audit.Party{Kind: "campaign", ID: id},
			Purpose: marketing.Purpose,
		})
	})
	if err != nil {
		return marketing.Campaign{}, err
	}
	return c, nil
}

// Queue is the staff queue of objections to legitimate-interest
// processing. It names no one: weighing an objection needs its grounds,
// not whose they are.
type Queue struct {
	Pending []marketing.Objection
	// PurposeNames names the purposes of the data map by id.
	PurposeNames map[string]string
}

// PendingObjections lists the objections that wait for staff, oldest
// first.
func (s *Service) PendingObjections(ctx context.Context, actor service.Actor) (Queue, error) {
	if err := actor.Require(staff.HandleRightsRequests); err != nil {
		return Queue{}, err
	}
	list, err := store.PendingObjections(ctx, s.env.Store.DB)
	if err != nil {
		return Queue{}, err
	}
	q := Queue{Pending: list, PurposeNames: map[string]string{}}
	for _, p := range s.env.Map.Purposes {
		q.PurposeNames[p.ID] = p.Name
	}
	return q, nil
}

// DecideObjection records staff's decision on a pending objection to
// legitimate-interest processing, with its audit entry. Only a pending
// objection can be decided.
func (s *Service) DecideObjection(ctx context.Context, actor service.Actor, id string, d marketing.Decision) (marketing.Objection, error) {
	if err := d.Clean(); err != nil {
		return marketing.Objection{}, err
	}
	var o marketing.Objection
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		if err := actor.Require(staff.HandleRightsRequests); err != nil {
			return err
		}
		var err error
		if o, err = store.ObjectionByID(ctx, tx, id); err != nil {
			return err
		}
		if o.Status != marketing.Pending {
			return errs.E(errs.Conflict, "this objection was already decided")
		}
		now := s.env.Clock.Now()
		decided, err := store.DecidePendingObjection(ctx, tx, id, d, now)
		if err != nil {
			return err
		}
		if !decided {
			return errs.E(errs.Conflict, "this objection was already decided")
		}
		at := now.UTC()
		o.Status, o.DecidedAt, o.Grounds = d.Status, &at, d.Grounds
		return tx.Audit(ctx, audit.Entry{
			At: now, Actor: actor.Staff(), Action: "objection.decide", Subject: member(o.PersonID),
			Purpose: "legal-compliance", Detail: map[string]string{"objection": o.ID, "status": string(d.Status)},
		})
	})
	if err != nil {
		return marketing.Objection{}, err
	}
	return o, nil
}
