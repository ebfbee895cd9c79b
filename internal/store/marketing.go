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
	"github.com/sessionshq/sessions/internal/privacy/audit"
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

// Suppressed reports whether email (normalised here) is on the marketing
// suppression list.
func Suppressed(ctx context.Context, q database.Querier, secret []byte, email string) (bool, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM marketing_suppressions WHERE address_digest = ?`,
		marketing.SuppressionDigest(secret, email)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("suppression: %w", err)
	}
	return n > 0, nil
}

// MarketingPreferences reads a member's marketing state: their choices,
// the relationship that decides the defaults (at now, since a child
// grows up), their objections and whether their address is suppressed.
// An unknown account gives database.ErrNotFound.
func MarketingPreferences(ctx context.Context, q database.Querier, secret []byte, accountID string, now time.Time) (marketing.Preferences, account.Account, error) {
	a, err := AccountByID(ctx, q, accountID)
	if err != nil {
		return marketing.Preferences{}, account.Account{}, err
	}
	p, err := preferencesOf(ctx, q, secret, a, now)
	return p, a, err
}

func preferencesOf(ctx context.Context, q database.Querier, secret []byte, a account.Account, now time.Time) (marketing.Preferences, error) {
	prof, err := GetProfile(ctx, q, a.ID)
	if err != nil {
		return marketing.Preferences{}, err
	}
	out := marketing.Preferences{
		Relationship: marketing.RelationshipOf(a, account.RestrictionsFor(prof, now)),
		Chosen:       map[marketing.Channel]bool{},
	}
	rows, err := q.Query(ctx, `SELECT channel, enabled FROM marketing_preferences WHERE account_id = ?`, a.ID)
	if err != nil {
		return marketing.Preferences{}, fmt.Errorf("marketing preferences: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			ch string
			on bool
		)
		if err := rows.Scan(&ch, &on); err != nil {
			return marketing.Preferences{}, err
		}
		out.Chosen[marketing.Channel(ch)] = on
	}
	if err := rows.Err(); err != nil {
		return marketing.Preferences{}, err
	}
	if out.Objected, out.ProfilingObjected, err = Objections(ctx, q, a.ID); err != nil {
		return marketing.Preferences{}, err
	}
	if out.Suppressed, err = Suppressed(ctx, q, secret, a.Email); err != nil {
		return marketing.Preferences{}, err
	}
	return out, nil
}

// SetMarketingChannels stores changes to a member's channels and writes
// the audit entry, in one transaction (the caller's, or its own when q is
// the *database.DB). No changes write nothing.
func SetMarketingChannels(ctx context.Context, q database.Querier, secret []byte, actor audit.Party, accountID string, changes []marketing.Change, method marketing.Method, now time.Time) error {
	if len(changes) == 0 {
		return nil
	}
	return inTx(ctx, q, func(tx database.Querier) error {
		detail := map[string]string{"method": string(method)}
		for _, c := range changes {
			if err := setChannel(ctx, tx, accountID, c.Channel, c.On, now); err != nil {
				return err
			}
			detail["channel."+string(c.Channel)] = onOff(c.On)
		}
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: actor, Action: "marketing.preferences", Subject: audit.Party{Kind: "member", ID: accountID},
			Purpose: marketing.Purpose, Detail: detail,
		})
	})
}

func setChannel(ctx context.Context, q database.Querier, accountID string, c marketing.Channel, on bool, now time.Time) error {
	_, err := q.Exec(ctx, `INSERT INTO marketing_preferences (account_id, channel, enabled, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (account_id, channel) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at`,
		accountID, string(c), on, now.UTC())
	if err != nil {
		return fmt.Errorf("set marketing channel: %w", err)
	}
	return nil
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// ObjectionResult says what an objection changed.
type ObjectionResult struct {
	Objection marketing.Objection
	// Changed is false when the objection was already in force and there
	// was nothing left to switch off or suppress: a replayed unsubscribe
	// link, for example.
	Changed bool
}

// Object records an objection, in one transaction with its effects and
// its audit entry. An objection to direct marketing switches every channel
// off, is in force at once and for good, and puts the member's current
// address on the suppression list. An objection to profiling is in force
// at once too. An objection to legitimate-interest processing waits for
// staff; while one about the same purpose waits, asking again returns it.
// The request must have been cleaned (ObjectionRequest.Clean).
func Object(ctx context.Context, q database.Querier, secret []byte, actor audit.Party, accountID string, req marketing.ObjectionRequest, method marketing.Method, campaignID string, now time.Time) (ObjectionResult, error) {
	var res ObjectionResult
	err := inTx(ctx, q, func(tx database.Querier) error {
		a, err := AccountByID(ctx, tx, accountID)
		if err != nil {
			return err
		}
		if req.Kind == marketing.ObjectLegitimateInterest {
			res, err = requestLegitimateInterestObjection(ctx, tx, secret, actor, a.ID, req, method, now)
			return err
		}
		o := marketing.Objection{
			ID: marketing.NewObjectionID(), PersonID: a.ID, Kind: req.Kind, Method: method, CampaignID: campaignID,
			Statement: req.Statement, Status: marketing.Upheld, CreatedAt: now.UTC(),
		}
		n, err := insertObjection(ctx, tx, o)
		if err != nil {
			return err
		}
		detail := map[string]string{"kind": string(req.Kind), "method": string(method)}
		if campaignID != "" {
			detail["campaign"] = campaignID
		}
		res.Changed = n > 0
		if req.Kind == marketing.ObjectMarketing {
			off, err := switchEverythingOff(ctx, tx, a.ID, now)
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
			added, err := suppress(ctx, tx, secret, a, reason, now)
			if err != nil {
				return err
			}
			if added {
				detail["suppressed"] = "true"
				res.Changed = true
			}
		}
		if res.Objection, err = objectionOf(ctx, tx, a.ID, req.Kind); err != nil {
			return err
		}
		if !res.Changed {
			return nil
		}
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: actor, Action: "marketing.object", Subject: audit.Party{Kind: "member", ID: a.ID},
			Purpose: "legal-compliance", Detail: detail,
		})
	})
	return res, err
}

func insertObjection(ctx context.Context, q database.Querier, o marketing.Objection) (int64, error) {
	r, err := q.Exec(ctx, `INSERT INTO objections (id, person_id, kind, method, campaign_id, purpose, statement, status, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		o.ID, o.PersonID, string(o.Kind), string(o.Method), nullString(o.CampaignID), o.Purpose, o.Statement, string(o.Status), o.CreatedAt.UTC())
	if err != nil {
		return 0, fmt.Errorf("record objection: %w", err)
	}
	return r.RowsAffected()
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// switchEverythingOff sets every channel off and reports how many were
// not off already as stored.
func switchEverythingOff(ctx context.Context, q database.Querier, accountID string, now time.Time) (int, error) {
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
		if err := setChannel(ctx, q, accountID, c, false, now); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

// suppress puts the member's address on the suppression list and
// reports whether it was not there yet.
func suppress(ctx context.Context, q database.Querier, secret []byte, a account.Account, reason marketing.SuppressionReason, now time.Time) (bool, error) {
	r, err := q.Exec(ctx, `INSERT INTO marketing_suppressions (address_digest, account_id, reason, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (address_digest) DO NOTHING`, marketing.SuppressionDigest(secret, a.Email), a.ID, string(reason), now.UTC())
	if err != nil {
		return false, fmt.Errorf("suppress address: %w", err)
	}
	n, err := r.RowsAffected()
	return n > 0, err
}

func requestLegitimateInterestObjection(ctx context.Context, q database.Querier, secret []byte, actor audit.Party, accountID string, req marketing.ObjectionRequest, method marketing.Method, now time.Time) (ObjectionResult, error) {
	existing, err := scanObjections(q.Query(ctx, `SELECT `+objectionColumns+` FROM objections
		WHERE person_id = ? AND kind = ? AND purpose = ? AND status = ?`,
		accountID, string(marketing.ObjectLegitimateInterest), req.Purpose, string(marketing.Pending)))
	if err != nil {
		return ObjectionResult{}, err
	}
	if len(existing) > 0 {
		return ObjectionResult{Objection: existing[0]}, nil
	}
	o := marketing.Objection{
		ID: marketing.NewObjectionID(), PersonID: accountID, Kind: marketing.ObjectLegitimateInterest, Method: method,
		Purpose: req.Purpose, Statement: req.Statement, Status: marketing.Pending, CreatedAt: now.UTC(),
	}
	if _, err := insertObjection(ctx, q, o); err != nil {
		return ObjectionResult{}, err
	}
	detail := map[string]string{"kind": string(o.Kind), "method": string(method), "objection": o.ID}
	if o.Purpose != "" {
		detail["purpose"] = o.Purpose
	}
	err = AppendAudit(ctx, q, secret, audit.Entry{
		At: now, Actor: actor, Action: "marketing.object", Subject: audit.Party{Kind: "member", ID: accountID},
		Purpose: "legal-compliance", Detail: detail,
	})
	return ObjectionResult{Objection: o, Changed: true}, err
}

const objectionColumns = `id, person_id, kind, method, campaign_id, purpose, statement, status, created_at, decided_at, grounds`

func objectionOf(ctx context.Context, q database.Querier, personID string, kind marketing.ObjectionKind) (marketing.Objection, error) {
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

// DecideObjection records staff's decision on a pending objection to
// legitimate-interest processing, with its audit entry, in one
// transaction. Only a pending objection can be decided.
func DecideObjection(ctx context.Context, db *database.DB, secret []byte, actor audit.Party, id string, d marketing.Decision, now time.Time) (marketing.Objection, error) {
	var out marketing.Objection
	err := db.InTx(ctx, func(tx *database.Tx) error {
		list, err := scanObjections(tx.Query(ctx, `SELECT `+objectionColumns+` FROM objections WHERE id = ?`, id))
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return errs.E(errs.NotFound, "no objection has this id")
		}
		o := list[0]
		if o.Status != marketing.Pending {
			return errs.E(errs.Conflict, "this objection was already decided")
		}
		r, err := tx.Exec(ctx, `UPDATE objections SET status = ?, decided_at = ?, grounds = ? WHERE id = ? AND status = ?`,
			string(d.Status), now.UTC(), d.Grounds, id, string(marketing.Pending))
		if err != nil {
			return err
		}
		if n, err := r.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return errs.E(errs.Conflict, "this objection was already decided")
		}
		at := now.UTC()
		o.Status, o.DecidedAt, o.Grounds = d.Status, &at, d.Grounds
		out = o
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: actor, Action: "objection.decide", Subject: audit.Party{Kind: "member", ID: o.PersonID},
			Purpose: "legal-compliance", Detail: map[string]string{"objection": o.ID, "status": string(d.Status)},
		})
	})
	return out, err
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

// CreateCampaign stores a cleaned draft and writes the audit entry.
func CreateCampaign(ctx context.Context, db *database.DB, secret []byte, actor audit.Party, d marketing.CampaignDraft, now time.Time) (marketing.Campaign, error) {
	c := marketing.Campaign{ID: marketing.NewCampaignID(), Subject: d.Subject, Text: d.Text, HTML: d.HTML, Status: marketing.Draft, CreatedAt: now.UTC()}
	err := db.InTx(ctx, func(tx *database.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO marketing_campaigns (id, subject, body_text, body_html, status, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, c.ID, c.Subject, c.Text, c.HTML, string(c.Status), c.CreatedAt); err != nil {
			return fmt.Errorf("create campaign: %w", err)
		}
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: actor, Action: "marketing.campaign.create", Subject: audit.Party{Kind: "campaign", ID: c.ID},
			Purpose: marketing.Purpose,
		})
	})
	return c, err
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

// StartCampaign moves a draft to sending, with its audit entry; the
// sending job takes it from there. Only a draft can be started.
func StartCampaign(ctx context.Context, db *database.DB, secret []byte, actor audit.Party, id string, now time.Time) (marketing.Campaign, error) {
	var c marketing.Campaign
	err := db.InTx(ctx, func(tx *database.Tx) error {
		if _, err := GetCampaign(ctx, tx, id); err != nil {
			return err
		}
		r, err := tx.Exec(ctx, `UPDATE marketing_campaigns SET status = ?, started_at = ? WHERE id = ? AND status = ?`,
			string(marketing.Sending), now.UTC(), id, string(marketing.Draft))
		if err != nil {
			return err
		}
		if n, err := r.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return errs.E(errs.Conflict, "this campaign was already sent")
		}
		if c, err = GetCampaign(ctx, tx, id); err != nil {
			return err
		}
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: actor, Action: "marketing.campaign.send", Subject: audit.Party{Kind: "campaign", ID: id},
			Purpose: marketing.Purpose,
		})
	})
	return c, err
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

// CampaignGate asks the purpose gate whether a member may be sent
// marketing. It reads through its own connection: it must not write.
type CampaignGate func(ctx context.Context, accountID string) (bool, error)

// CampaignLinks makes the unsubscribe and preference links of a
// recipient of a campaign.
type CampaignLinks func(campaignID string, r marketing.Recipient) marketing.Links

// BatchResult is what one batch did.
type BatchResult struct {
	MailIDs []string // the messages queued, to dispatch after the commit
	Skipped int
	Done    bool // the campaign is sent, or was not being sent
}

// SendCampaignBatch considers the next batch of members for campaign id,
// in one transaction: for each active member with a confirmed address,
// after the last one the campaign finished with, it queues the message
// when the purpose gate allows marketing, the member's e-mail channel is
// on and the address is not suppressed. The transaction holds the
// campaign's row, so two jobs never work on one campaign at once; a
// delivery row per member, written with the message, makes sure nobody
// gets the campaign twice even so. A batch shorter than the batch size
// was the last: the campaign is marked sent.
func SendCampaignBatch(ctx context.Context, db *database.DB, secret []byte, id string, now time.Time, allow CampaignGate, links CampaignLinks) (BatchResult, error) {
	var res BatchResult
	err := db.InTx(ctx, func(tx *database.Tx) error {
		res = BatchResult{}
		lock := ""
		if tx.Dialect() == database.Postgres {
			lock = " FOR UPDATE"
		}
		var (
			status, after string
		)
		err := tx.QueryRow(ctx, `SELECT status, resume_after FROM marketing_campaigns WHERE id = ?`+lock, id).Scan(&status, &after)
		if errors.Is(err, database.ErrNotFound) || (err == nil && status != string(marketing.Sending)) {
			res.Done = true
			return nil
		}
		if err != nil {
			return err
		}
		c, err := GetCampaign(ctx, tx, id)
		if err != nil {
			return err
		}
		recipients, err := campaignRecipients(ctx, tx, after)
		if err != nil {
			return err
		}
		for _, a := range recipients {
			ok, err := campaignEligible(ctx, tx, secret, a, now, allow)
			if err != nil {
				return err
			}
			if !ok {
				res.Skipped++
				continue
			}
			mailID, err := queueCampaignMessage(ctx, tx, c, a, now, links)
			if err != nil {
				return err
			}
			if mailID != "" {
				res.MailIDs = append(res.MailIDs, mailID)
			}
		}
		if len(recipients) > 0 {
			after = recipients[len(recipients)-1].ID
		}
		res.Done = len(recipients) < marketing.BatchSize
		set := `UPDATE marketing_campaigns SET resume_after = ?, queued = queued + ?, skipped = skipped + ? WHERE id = ?`
		if _, err := tx.Exec(ctx, set, after, len(res.MailIDs), res.Skipped, id); err != nil {
			return err
		}
		if !res.Done {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE marketing_campaigns SET status = ?, finished_at = ? WHERE id = ?`,
			string(marketing.Sent), now.UTC(), id); err != nil {
			return err
		}
		var queued, skipped int
		if err := tx.QueryRow(ctx, `SELECT queued, skipped FROM marketing_campaigns WHERE id = ?`, id).Scan(&queued, &skipped); err != nil {
			return err
		}
		return AppendAudit(ctx, tx, secret, audit.Entry{
			At: now, Actor: audit.Party{Kind: "system"}, Action: "marketing.campaign.finish", Subject: audit.Party{Kind: "campaign", ID: id},
			Purpose: marketing.Purpose, Detail: map[string]string{"queued": fmt.Sprint(queued), "skipped": fmt.Sprint(skipped)},
		})
	})
	return res, err
}

// campaignRecipients returns the next batch of members who are
// customers: active, with a confirmed address.
func campaignRecipients(ctx context.Context, q database.Querier, after string) ([]account.Account, error) {
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

// campaignEligible applies every check a sender makes: the member's own
// e-mail channel (which an objection or a child account turns off), the
// suppression list, and the purpose gate.
func campaignEligible(ctx context.Context, q database.Querier, secret []byte, a account.Account, now time.Time, allow CampaignGate) (bool, error) {
	prefs, err := preferencesOf(ctx, q, secret, a, now)
	if err != nil {
		return false, err
	}
	if !prefs.On(marketing.Email) || prefs.Suppressed {
		return false, nil
	}
	return allow(ctx, a.ID)
}

// queueCampaignMessage writes the message and its delivery row; it
// returns "" when the member already had this campaign (a batch that was
// rolled back after the job's context ended, say, and is run again). The
// caller holds the campaign's row, so nobody else writes its deliveries
// between the check and the insert.
func queueCampaignMessage(ctx context.Context, q database.Querier, c marketing.Campaign, a account.Account, now time.Time, links CampaignLinks) (string, error) {
	var n int
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM marketing_deliveries WHERE campaign_id = ? AND account_id = ?`, c.ID, a.ID).Scan(&n); err != nil {
		return "", err
	}
	if n > 0 {
		return "", nil
	}
	r := marketing.Recipient{AccountID: a.ID, Name: a.Name, Email: a.Email}
	id, err := EnqueueMail(ctx, q, now, marketing.Compose(c, r, links(c.ID, r)))
	if err != nil {
		return "", err
	}
	if _, err := q.Exec(ctx, `INSERT INTO marketing_deliveries (campaign_id, account_id, mail_id, created_at) VALUES (?, ?, ?, ?)`,
		c.ID, a.ID, id, now.UTC()); err != nil {
		return "", fmt.Errorf("record delivery: %w", err)
	}
	return id, nil
}

// CampaignDeliveries counts the messages a campaign queued.
func CampaignDeliveries(ctx context.Context, q database.Querier, id string) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM marketing_deliveries WHERE campaign_id = ?`, id).Scan(&n)
	return n, err
}
