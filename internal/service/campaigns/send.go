package campaigns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/marketing"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/jobs"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/gate"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// RegisterJobs hands the sending of campaigns to r: a periodic job, a
// bounded number of batches per run, so a campaign resumes where it
// stopped after a restart and a large one never outruns the job's time
// limit.
func (s *Service) RegisterJobs(r *jobs.Runner) {
	jobs.Register(r, func(ctx context.Context, _ jobs.Job[marketing.SendArgs]) error {
		_, err := s.SendCampaigns(ctx)
		return err
	})
	r.Periodic(jobs.Schedule{Every: marketing.SendEvery, Args: marketing.SendArgs{}, RunOnStart: true})
}

// SendCampaigns works through the campaigns being sent, one batch (one
// transaction) at a time, up to marketing.MaxBatchesPerRun batches; the
// periodic job calls it, and what is left waits for its next run. Every
// message goes to a member the purpose gate allows marketing for, whose
// e-mail channel is on and whose address is not suppressed. It returns
// how many messages it queued.
func (s *Service) SendCampaigns(ctx context.Context) (int, error) {
	ids, err := store.SendingCampaigns(ctx, s.env.Store.DB)
	if err != nil {
		return 0, err
	}
	queued, batches := 0, 0
	for _, id := range ids {
		for batches < marketing.MaxBatchesPerRun {
			batches++
			res, err := s.sendBatch(ctx, id)
			if err != nil {
				return queued, err
			}
			queued += res.Queued
			s.env.Log.LogAttrs(ctx, slog.LevelInfo, "campaign batch", slog.String("campaign", id),
				slog.Int("queued", res.Queued), slog.Int("skipped", res.Skipped), slog.Bool("done", res.Done))
			if res.Done {
				break
			}
		}
	}
	return queued, nil
}

// batchResult is what one batch did.
type batchResult struct {
	Queued  int
	Skipped int
	Done    bool // the campaign is sent, or was not being sent
}

// sendBatch considers the next batch of members for campaign id, in one
// transaction: for each active member with a confirmed address, after
// the last one the campaign finished with, it queues the message when
// the member's e-mail channel is on, the address is not suppressed and
// the purpose gate allows marketing. The transaction holds the
// campaign's row, so two jobs never work on one campaign at once; a
// delivery row per member, written with the message, makes sure nobody
// gets the campaign twice even so (a batch rolled back after the job's
// context ended, say, and run again). A batch shorter than the batch
// size was the last: the campaign is marked sent. The messages are
// delivered after the commit.
func (s *Service) sendBatch(ctx context.Context, id string) (batchResult, error) {
	var res batchResult
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		res = batchResult{}
		now := s.env.Clock.Now()
		status, after, err := store.LockCampaign(ctx, tx, id)
		if errors.Is(err, database.ErrNotFound) || (err == nil && status != marketing.Sending) {
			res.Done = true
			return nil
		}
		if err != nil {
			return err
		}
		c, err := store.GetCampaign(ctx, tx, id)
		if err != nil {
			return err
		}
		recipients, err := store.CampaignRecipients(ctx, tx, after)
		if err != nil {
			return err
		}
		for _, a := range recipients {
			ok, err := s.eligible(ctx, tx, a)
			if err != nil {
				return err
			}
			if !ok {
				res.Skipped++
				continue
			}
			sent, err := s.queueMessage(ctx, tx, c, a)
			if err != nil {
				return err
			}
			if sent {
				res.Queued++
			}
		}
		if len(recipients) > 0 {
			after = recipients[len(recipients)-1].ID
		}
		res.Done = len(recipients) < marketing.BatchSize
		if err := store.AdvanceCampaign(ctx, tx, id, after, res.Queued, res.Skipped); err != nil {
			return err
		}
		if !res.Done {
			return nil
		}
		queued, skipped, err := store.FinishCampaign(ctx, tx, id, now)
		if err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Entry{
			At: now, Actor: audit.Party{Kind: "system"}, Action: "marketing.campaign.finish", Subject: audit.Party{Kind: "campaign", ID: id},
			Purpose: marketing.Purpose, Detail: map[string]string{"queued": fmt.Sprint(queued), "skipped": fmt.Sprint(skipped)},
		})
	})
	return res, err
}

// eligible applies every check a sender makes: the member's own e-mail
// channel (which an objection or a child account turns off), the
// suppression list, and the purpose gate, asked last and only about
// members who are still in.
func (s *Service) eligible(ctx context.Context, q database.Querier, a account.Account) (bool, error) {
	prefs, err := s.preferences(ctx, q, a)
	if err != nil {
		return false, err
	}
	if !prefs.On(marketing.Email) || prefs.Suppressed {
		return false, nil
	}
	return s.allow(ctx, a.ID)
}

// queueMessage puts the campaign's message to a member in the outbox
// with its delivery row, and reports false when the member already had
// it. The caller holds the campaign's row, so nobody else writes its
// deliveries between the check and the insert.
func (s *Service) queueMessage(ctx context.Context, tx *service.Tx, c marketing.Campaign, a account.Account) (bool, error) {
	had, err := store.CampaignDelivered(ctx, tx, c.ID, a.ID)
	if err != nil || had {
		return false, err
	}
	r := marketing.Recipient{AccountID: a.ID, Name: a.Name, Email: a.Email}
	mailID, err := tx.Mail(ctx, marketing.Compose(c, r, s.links(c.ID, r)))
	if err != nil {
		return false, err
	}
	return true, store.RecordCampaignDelivery(ctx, tx, c.ID, a.ID, mailID, s.env.Clock.Now())
}

// campaignLinks makes a recipient's absolute unsubscribe and preference
// links under the server's public address.
func (s *Service) campaignLinks(campaignID string, r marketing.Recipient) marketing.Links {
	base := strings.TrimSuffix(s.env.Config.BaseURL, "/")
	now := s.env.Clock.Now()
	return marketing.Links{
		Unsubscribe: base + "/unsubscribe/" + marketing.UnsubscribeToken(s.env.Secret, r.AccountID, campaignID, now),
		Preferences: base + "/marketing/preferences/" + marketing.PreferencesToken(s.env.Secret, r.AccountID, now),
	}
}

// gateAllows asks the purpose gate whether member accountID may be sent
// marketing. There is no request, so no Global Privacy Control signal to
// read: only the refusals it left in the ledger count.
func (s *Service) gateAllows(ctx context.Context, accountID string) (bool, error) {
	d, err := s.gate.Allowed(ctx, gate.Member(accountID), marketing.Purpose)
	return d.Allowed, err
}
