package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/marketing"
	"github.com/sessionshq/sessions/internal/platform/database"
)

// Objections reports whether the person objected to direct marketing and
// to profiling. Both are absolute, so any such row is in force.
func Objections(ctx context.Context, q database.Querier, personID string) (mkt, profiling bool, err error) {
	rows, err := q.Query(ctx, `SELECT kind FROM objections WHERE person_id = ? AND kind IN (?, ?) AND status = ?`,
		personID, string(marketing.ObjectMarketing), string(marketing.ObjectProfiling), string(marketing.Upheld))
	if err != nil {
		return false, false, fmt.Errorf("objections: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind string
		if err := rows.Scan(&kind); err != nil {
			return false, false, err
		}
		switch marketing.ObjectionKind(kind) {
		case marketing.ObjectMarketing:
			mkt = true
		case marketing.ObjectProfiling:
			profiling = true
		}
	}
	return mkt, profiling, rows.Err()
}

// Suppressed reports whether the address whose digest is given
// (marketing.SuppressionDigest) is on the marketing suppression list.
func Suppressed(ctx context.Context, q database.Querier, digest string) (bool, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM marketing_suppressions WHERE address_digest = ?`, digest).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("suppression: %w", err)
	}
	return n > 0, nil
}

// MarketingChoices returns the channels a member set themselves; a
// channel missing from the map follows the default. It is never nil.
func MarketingChoices(ctx context.Context, q database.Querier, accountID string) (map[marketing.Channel]bool, error) {
	rows, err := q.Query(ctx, `SELECT channel, enabled FROM marketing_preferences WHERE account_id = ?`, accountID)
	if err != nil {
		return nil, fmt.Errorf("marketing preferences: %w", err)
	}
	defer rows.Close()
	out := map[marketing.Channel]bool{}
	for rows.Next() {
		var (
			ch string
			on bool
		)
		if err := rows.Scan(&ch, &on); err != nil {
			return nil, err
		}
		out[marketing.Channel(ch)] = on
	}
	return out, rows.Err()
}

// SetMarketingChannel stores one channel's state for a member.
func SetMarketingChannel(ctx context.Context, q database.Querier, accountID string, c marketing.Channel, on bool, now time.Time) error {
	_, err := q.Exec(ctx, `INSERT INTO marketing_preferences (account_id, channel, enabled, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (account_id, channel) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at`,
		accountID, string(c), on, now.UTC())
	if err != nil {
		return fmt.Errorf("set marketing channel: %w", err)
	}
	return nil
}

// InsertObjection records o and reports whether it was new: an absolute
// objection already on record for the person is left as it was.
func InsertObjection(ctx context.Context, q database.Querier, o marketing.Objection) (bool, error) {
	r, err := q.Exec(ctx, `INSERT INTO objections (id, person_id, kind, method, campaign_id, purpose, statement, status, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		o.ID, o.PersonID, string(o.Kind), string(o.Method), nullString(o.CampaignID), o.Purpose, o.Statement, string(o.Status), o.CreatedAt.UTC())
	if err != nil {
		return false, fmt.Errorf("record objection: %w", err)
	}
	n, err := r.RowsAffected()
	return n > 0, err
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// SwitchMarketingOff sets every channel of a member off and reports how
// many were not off already as stored.
func SwitchMarketingOff(ctx context.Context, q database.Querier, accountID string, now time.Time) (int, error) {
	n := 0
	for _, c := range marketing.Channels {
		var on bool
		err := q.QueryRow(ctx, `SELECT enabled FROM marketing_preferences WHERE account_id = ? AND channel = ?`, accountID, string(c)).Scan(&on)
		switch {
		case errors.Is(err, database.ErrNotFound):
			on = true // the row is missing, so the default applied
		case err != nil:
			return 0, err
		}
		if !on {
			continue
		}
		if err := SetMarketingChannel(ctx, q, accountID, c, false, now); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

// SuppressAddress puts the address whose digest is given on the
// suppression list, on behalf of accountID, and reports whether it was
// not there yet.
func SuppressAddress(ctx context.Context, q database.Querier, digest, accountID string, reason marketing.SuppressionReason, now time.Time) (bool, error) {
	r, err := q.Exec(ctx, `INSERT INTO marketing_suppressions (address_digest, account_id, reason, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (address_digest) DO NOTHING`, digest, accountID, string(reason), now.UTC())
	if err != nil {
		return false, fmt.Errorf("suppress address: %w", err)
	}
	n, err := r.RowsAffected()
	return n > 0, err
}

// PendingObjectionAbout returns the person's objection to
// legitimate-interest processing for purpose that waits for staff, and
// false when there is none.
func PendingObjectionAbout(ctx context.Context, q database.Querier, personID, purpose string) (marketing.Objection, bool, error) {
	list, err := scanObjections(q.Query(ctx, `SELECT `+objectionColumns+` FROM objections
		WHERE person_id = ? AND kind = ? AND purpose = ? AND status = ?`,
		personID, string(marketing.ObjectLegitimateInterest), purpose, string(marketing.Pending)))
	if err != nil || len(list) == 0 {
		return marketing.Objection{}, false, err
	}
	return list[0], true, nil
}

const objectionColumns = `id, person_id, kind, method, campaign_id, purpose, statement, status, created_at, decided_at, grounds`

// ObjectionOf returns the person's objection of an absolute kind, or
// database.ErrNotFound.
func ObjectionOf(ctx context.Context, q database.Querier, personID string, kind marketing.ObjectionKind) (marketing.Objection, error) {
	list, err := scanObjections(q.Query(ctx, `SELECT `+objectionColumns+` FROM objections WHERE person_id = ? AND kind = ?`, personID, string(kind)))
	if err != nil {
		return marketing.Objection{}, err
	}
	if len(list) == 0 {
		return marketing.Objection{}, database.ErrNotFound
	}
	return list[0], nil
}

func scanObjections(rows *sql.Rows, err error) ([]marketing.Objection, error) {
	if err != nil {
		return nil, fmt.Errorf("objections: %w", err)
	}
	defer rows.Close()
	var out []marketing.Objection
	for rows.Next() {
		var (
			o                    marketing.Objection
			kind, method, status string
			campaign             sql.NullString
			decided              sql.NullTime
		)
		if err := rows.Scan(&o.ID, &o.PersonID, &kind, &method, &campaign, &o.Purpose, &o.Statement, &status,
			&o.CreatedAt, &decided, &o.Grounds); err != nil {
			return nil, err
		}
		o.Kind, o.Method, o.Status = marketing.ObjectionKind(kind), marketing.Method(method), marketing.ObjectionStatus(status)
		o.CampaignID = campaign.String
		o.CreatedAt = o.CreatedAt.UTC()
		o.DecidedAt = nullTime(decided)
		out = append(out, o)
	}
	return out, rows.Err()
}

// ObjectionsOf lists a member's objections, oldest first.
func ObjectionsOf(ctx context.Context, q database.Querier, personID string) ([]marketing.Objection, error) {
	return scanObjections(q.Query(ctx, `SELECT `+objectionColumns+` FROM objections WHERE person_id = ? ORDER BY created_at, id`, personID))
}

// PendingObjections lists the objections to legitimate-interest
// processing that wait for staff, oldest first.
func PendingObjections(ctx context.Context, q database.Querier) ([]marketing.Objection, error) {
	return scanObjections(q.Query(ctx, `SELECT `+objectionColumns+` FROM objections WHERE status = ? ORDER BY created_at, id`,
		string(marketing.Pending)))
}

// ObjectionByID returns one objection, or an errs.NotFound error.
func ObjectionByID(ctx context.Context, q database.Querier, id string) (marketing.Objection, error) {
	list, err := scanObjections(q.Query(ctx, `SELECT `+objectionColumns+` FROM objections WHERE id = ?`, id))
	if err != nil {
		return marketing.Objection{}, err
	}
	if len(list) == 0 {
		return marketing.Objection{}, errs.E(errs.NotFound, "no objection has this id")
	}
	return list[0], nil
}

// DecidePendingObjection records a decision on objection id while it is
// still pending, and reports whether it was.
func DecidePendingObjection(ctx context.Context, q database.Querier, id string, d marketing.Decision, now time.Time) (bool, error) {
	r, err := q.Exec(ctx, `UPDATE objections SET status = ?, decided_at = ?, grounds = ? WHERE id = ? AND status = ?`,
		string(d.Status), now.UTC(), d.Grounds, id, string(marketing.Pending))
	if err != nil {
		return false, fmt.Errorf("decide objection: %w", err)
	}
	n, err := r.RowsAffected()
	return n == 1, err
}

// ---- campaigns ----

const campaignColumns = `id, subject, body_text, body_html, status, created_at, started_at, finished_at, queued, skipped`

func scanCampaign(s interface{ Scan(...any) error }) (marketing.Campaign, error) {
	var (
		c                 marketing.Campaign
		status            string
		started, finished sql.NullTime
	)
	if err := s.Scan(&c.ID, &c.Subject, &c.Text, &c.HTML, &status, &c.CreatedAt, &started, &finished, &c.Queued, &c.Skipped); err != nil {
		return marketing.Campaign{}, err
	}
	c.Status = marketing.CampaignStatus(status)
	c.CreatedAt = c.CreatedAt.UTC()
	c.StartedAt, c.FinishedAt = nullTime(started), nullTime(finished)
	return c, nil
}

// InsertCampaign stores a new campaign.
func InsertCampaign(ctx context.Context, q database.Querier, c marketing.Campaign) error {
	if _, err := q.Exec(ctx, `INSERT INTO marketing_campaigns (id, subject, body_text, body_html, status, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, c.ID, c.Subject, c.Text, c.HTML, string(c.Status), c.CreatedAt.UTC()); err != nil {
		return fmt.Errorf("create campaign: %w", err)
	}
	return nil
}

// GetCampaign returns one campaign, or an errs.NotFound error.
func GetCampaign(ctx context.Context, q database.Querier, id string) (marketing.Campaign, error) {
	c, err := scanCampaign(q.QueryRow(ctx, `SELECT `+campaignColumns+` FROM marketing_campaigns WHERE id = ?`, id))
	if errors.Is(err, database.ErrNotFound) {
		return c, errs.E(errs.NotFound, "no campaign has this id")
	}
	return c, err
}

// ListCampaigns returns the campaigns, newest first.
func ListCampaigns(ctx context.Context, q database.Querier) ([]marketing.Campaign, error) {
	rows, err := q.Query(ctx, `SELECT `+campaignColumns+` FROM marketing_campaigns ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	return collectRows(rows, scanCampaign)
}

// MarkCampaignSending moves a draft to sending and reports whether it
// was a draft.
func MarkCampaignSending(ctx context.Context, q database.Querier, id string, now time.Time) (bool, error) {
	r, err := q.Exec(ctx, `UPDATE marketing_campaigns SET status = ?, started_at = ? WHERE id = ? AND status = ?`,
		string(marketing.Sending), now.UTC(), id, string(marketing.Draft))
	if err != nil {
		return false, fmt.Errorf("start campaign: %w", err)
	}
	n, err := r.RowsAffected()
	return n == 1, err
}

// SendingCampaigns lists the ids of the campaigns being sent, oldest
// first.
func SendingCampaigns(ctx context.Context, q database.Querier) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT id FROM marketing_campaigns WHERE status = ? ORDER BY started_at, id`, string(marketing.Sending))
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanID)
}

// LockCampaign reads a campaign's status and the member id its sending
// resumes after, holding its row until q's transaction ends (on
// PostgreSQL a row lock; SQLite has one writer at a time anyway), so two
// jobs never send one campaign at once. An unknown campaign gives
// database.ErrNotFound.
func LockCampaign(ctx context.Context, q database.Querier, id string) (marketing.CampaignStatus, string, error) {
	lock := ""
	if q.Dialect() == database.Postgres {
		lock = " FOR UPDATE"
	}
	var status, after string
	err := q.QueryRow(ctx, `SELECT status, resume_after FROM marketing_campaigns WHERE id = ?`+lock, id).Scan(&status, &after)
	return marketing.CampaignStatus(status), after, err
}

// CampaignRecipients returns the next batch of members who are
// customers: active, with a confirmed address, in id order after the id
// after.
func CampaignRecipients(ctx context.Context, q database.Querier, after string) ([]account.Account, error) {
	rows, err := q.Query(ctx, `SELECT `+accountColumns+` FROM accounts a
		WHERE a.id > ? AND a.status = ? AND a.email_verified_at IS NOT NULL ORDER BY a.id LIMIT ?`,
		after, string(account.Active), marketing.BatchSize)
	if err != nil {
		return nil, fmt.Errorf("campaign recipients: %w", err)
	}
	defer rows.Close()
	var out []account.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// CampaignDelivered reports whether the member already had the
// campaign.
func CampaignDelivered(ctx context.Context, q database.Querier, campaignID, accountID string) (bool, error) {
	var n int
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM marketing_deliveries WHERE campaign_id = ? AND account_id = ?`,
		campaignID, accountID).Scan(&n); err != nil {
		return false, err
	}
	return n > 0, nil
}

// RecordCampaignDelivery records that the campaign's message to the member is
// in the outbox under mailID.
func RecordCampaignDelivery(ctx context.Context, q database.Querier, campaignID, accountID, mailID string, now time.Time) error {
	if _, err := q.Exec(ctx, `INSERT INTO marketing_deliveries (campaign_id, account_id, mail_id, created_at) VALUES (?, ?, ?, ?)`,
		campaignID, accountID, mailID, now.UTC()); err != nil {
		return fmt.Errorf("record delivery: %w", err)
	}
	return nil
}

// AdvanceCampaign moves a campaign's resume point to after and adds a
// batch's counts.
func AdvanceCampaign(ctx context.Context, q database.Querier, id, after string, queued, skipped int) error {
	_, err := q.Exec(ctx, `UPDATE marketing_campaigns SET resume_after = ?, queued = queued + ?, skipped = skipped + ? WHERE id = ?`,
		after, queued, skipped, id)
	return err
}

// FinishCampaign marks a campaign sent and returns its totals.
func FinishCampaign(ctx context.Context, q database.Querier, id string, now time.Time) (queued, skipped int, err error) {
	if _, err := q.Exec(ctx, `UPDATE marketing_campaigns SET status = ?, finished_at = ? WHERE id = ?`,
		string(marketing.Sent), now.UTC(), id); err != nil {
		return 0, 0, err
	}
	err = q.QueryRow(ctx, `SELECT queued, skipped FROM marketing_campaigns WHERE id = ?`, id).Scan(&queued, &skipped)
	return queued, skipped, err
}

// CampaignDeliveries counts the messages a campaign queued.
func CampaignDeliveries(ctx context.Context, q database.Querier, id string) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM marketing_deliveries WHERE campaign_id = ?`, id).Scan(&n)
	return n, err
}
