package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	netmail "net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/platform/safehttp"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/rights"
)

// Art. 19 GDPR: who received a person's data, and the notices that tell
// those recipients when the data is rectified, erased or restricted.

// PersonTables lists the tables of the data map in which the person has
// rows.
func PersonTables(ctx context.Context, q database.Querier, m datamap.Map, p rights.Person) ([]string, error) {
	match := personMatch{p: p}
	if len(p.ParticipantIDs) > idChunk {
		match.partSQL, match.partArgs = participantSubquery(m, p)
	}
	var out []string
	for _, t := range rights.ExportPlan(m) {
		cond, args := match.anyKey(t.PersonKeys)
		if cond == "" {
			continue
		}
		var one int
		err := q.QueryRow(ctx, `SELECT 1 FROM `+quoteIdent(t.Name)+` WHERE `+cond+` LIMIT 1`, args...).Scan(&one)
		if errors.Is(err, database.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, t.Name)
	}
	return out, nil
}

// PersonRecipients lists who receives the person's data: the recipients
// the data map declares for the columns of the tables the person has rows
// in, named from the sub-processor registry, and the services their data
// was delivered to, with those deliveries.
func PersonRecipients(ctx context.Context, q database.Querier, m datamap.Map, person rights.Person) ([]rights.Recipient, error) {
	p, err := ResolvePerson(ctx, q, m, person)
	if err != nil {
		return nil, err
	}
	return resolvedRecipients(ctx, q, m, p)
}

// resolvedRecipients is PersonRecipients for a person ResolvePerson has
// already completed.
func resolvedRecipients(ctx context.Context, q database.Querier, m datamap.Map, p rights.Person) ([]rights.Recipient, error) {
	tables, err := PersonTables(ctx, q, m, p)
	if err != nil {
		return nil, err
	}
	out := rights.DeclaredRecipients(m, tables)
	if p.AccountID != "" {
		rows, err := q.Query(ctx, `SELECT recipient, categories, what, delivered_at FROM recipient_deliveries WHERE person_id = ?
			ORDER BY delivered_at DESC, id LIMIT 200`, p.AccountID)
		if err != nil {
			return nil, err
		}
		type row struct {
			recipient string
			d         rights.Delivery
		}
		ds, err := collectRows(rows, func(s scanner) (row, error) {
			var (
				r    row
				cats string
			)
			if err := s.Scan(&r.recipient, &cats, &r.d.What, &r.d.At); err != nil {
				return r, err
			}
			r.d.At = r.d.At.UTC()
			return r, json.Unmarshal([]byte(cats), &r.d.Categories)
		})
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			i := slices.IndexFunc(out, func(r rights.Recipient) bool { return r.ID == d.recipient })
			if i < 0 {
				out = append(out, rights.Recipient{ID: d.recipient, Name: d.recipient})
				i = len(out) - 1
			}
			out[i].Deliveries = append(out[i].Deliveries, d.d)
			for _, c := range d.d.Categories {
				if !slices.Contains(out[i].Categories, c) {
					out[i].Categories = append(out[i].Categories, c)
				}
			}
		}
	}
	subs, err := ListSubprocessors(ctx, q, false)
	if err != nil {
		return nil, err
	}
	for i := range out {
		for _, s := range subs {
			if s.ID == out[i].ID {
				out[i].Name = s.Name
			}
		}
		slices.Sort(out[i].Categories)
	}
	return out, nil
}

// RecordDelivery notes that the member's data of categories went to
// recipient, for the Art. 19 list.
func RecordDelivery(ctx context.Context, q database.Querier, personID, recipient, what string, categories []string, now time.Time) error {
	cats, err := json.Marshal(categories)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `INSERT INTO recipient_deliveries (id, person_id, recipient, categories, what, delivered_at) VALUES (?, ?, ?, ?, ?, ?)`,
		newRightsID("rdl_"), personID, recipient, string(cats), what, now.UTC())
	return err
}

// RecipientContact is where a recipient takes notices.
type RecipientContact struct {
	Recipient    string `json:"recipient"`
	PrivacyEmail string `json:"privacy_email,omitempty"`
	WebhookURL   string `json:"webhook_url,omitempty"`
}

// MaxContactEmailBytes bounds a recipient's privacy contact address (the
// longest address SMTP carries).
const MaxContactEmailBytes = 254

// checkRecipientContact cleans c and says what is wrong with it, per
// field. Both fields may be empty: the recipient then has no contact, and
// its notices are recorded as having nowhere to go.
func checkRecipientContact(c RecipientContact) (RecipientContact, error) {
	c.PrivacyEmail = strings.ToLower(strings.TrimSpace(c.PrivacyEmail))
	c.WebhookURL = strings.TrimSpace(c.WebhookURL)
	bad := errs.Validation{}
	if c.PrivacyEmail != "" {
		// A bare address only: a display name or a list would be a
		// different recipient than the one staff meant.
		a, err := netmail.ParseAddress(c.PrivacyEmail)
		if len(c.PrivacyEmail) > MaxContactEmailBytes || err != nil || a.Name != "" || a.Address != c.PrivacyEmail {
			bad.Add("privacy_email", "must be one e-mail address, such as privacy@example.com")
		}
	}
	if c.WebhookURL != "" {
		// The address is only parsed here; where it leads is checked each
		// time a notice is sent, by the safehttp client.
		if _, err := safehttp.CheckURL(c.WebhookURL); err != nil {
			msg := "must be an https address"
			if e, ok := errs.As(err); ok && e.Fields["url"] != "" {
				msg = e.Fields["url"]
			}
			bad.Add("webhook_url", msg)
		}
	}
	return c, bad.Err()
}

// SetRecipientContact records where a sub-processor of the registry takes
// notices and returns the contact as stored. An unknown sub-processor is
// errs.NotFound whatever the contact says; a bad address or a webhook
// that is not https is errs.Invalid with the field named. Empty fields
// clear the contact. The caller writes the audit entry.
func SetRecipientContact(ctx context.Context, q database.Querier, c RecipientContact, now time.Time) (RecipientContact, error) {
	var n int
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM subprocessors WHERE id = ?`, c.Recipient).Scan(&n); err != nil {
		return c, err
	}
	if n == 0 {
		return c, errs.E(errs.NotFound, "there is no such sub-processor")
	}
	c, err := checkRecipientContact(c)
	if err != nil {
		return c, err
	}
	_, err = q.Exec(ctx, `INSERT INTO recipient_contacts (recipient, privacy_email, webhook_url, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (recipient) DO UPDATE SET privacy_email = excluded.privacy_email, webhook_url = excluded.webhook_url, updated_at = excluded.updated_at`,
		c.Recipient, orNull(c.PrivacyEmail), orNull(c.WebhookURL), now.UTC())
	return c, err
}

// RecipientNoticeCounts counts the Art. 19 notices per recipient and
// state (queued, sent, failed, no-contact), for staff to see which
// recipients notices reach.
func RecipientNoticeCounts(ctx context.Context, q database.Querier) (map[string]map[string]int, error) {
	rows, err := q.Query(ctx, `SELECT recipient, state, COUNT(*) FROM recipient_notices GROUP BY recipient, state`)
	if err != nil {
		return nil, err
	}
	type count struct {
		recipient, state string
		n                int
	}
	counts, err := collectRows(rows, func(s scanner) (count, error) {
		var c count
		return c, s.Scan(&c.recipient, &c.state, &c.n)
	})
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]int{}
	for _, c := range counts {
		if out[c.recipient] == nil {
			out[c.recipient] = map[string]int{}
		}
		out[c.recipient][c.state] = c.n
	}
	return out, nil
}

// restrictAndNotify sets or lifts the person's restriction in q's
// transaction and, when it newly comes into force, tells the recipients
// of their data (Art. 19 GDPR). A lift tells none of them: Art. 19 asks
// for notice of a restriction carried out, and Art. 18(3) wants only the
// person told before a lift. It returns the outbox ids to dispatch after
// the commit.
func restrictAndNotify(ctx context.Context, q database.Querier, secret []byte, m datamap.Map, actor audit.Party, personID string, restricted bool, now time.Time) ([]string, error) {
	was, err := Restricted(ctx, q, personID)
	if err != nil {
		return nil, err
	}
	if err := SetRestricted(ctx, q, secret, actor, personID, restricted, now); err != nil {
		return nil, err
	}
	if !restricted || was {
		return nil, nil
	}
	return notifyRecipients(ctx, q, secret, m, rights.Person{AccountID: personID}, rights.ChangeRestriction, now)
}

// RestrictAndNotify sets or lifts the person's restriction in q's
// transaction, sealing the audit entries with the store's key, and tells
// the recipients of their data of a restriction that newly comes into
// force (see SetRestrictedAndNotify). It returns the outbox ids to
// dispatch after the commit.
func (s *Store) RestrictAndNotify(ctx context.Context, q database.Querier, m datamap.Map, actor audit.Party, personID string, restricted bool, now time.Time) ([]string, error) {
	return restrictAndNotify(ctx, q, s.secret, m, actor, personID, restricted, now)
}

// SetRestrictedAndNotify is SetRestricted for staff acting on a person:
// the flag, its audit entry and the notices to the recipients of the
// person's data in one transaction. It returns the outbox ids to
// dispatch after the commit.
func SetRestrictedAndNotify(ctx context.Context, db *database.DB, secret []byte, actor audit.Party, personID string, restricted bool, now time.Time) ([]string, error) {
	var ids []string
	err := db.InTx(ctx, func(tx *database.Tx) error {
		var err error
		ids, err = restrictAndNotify(ctx, tx, secret, datamap.Default(), actor, personID, restricted, now)
		return err
	})
	return ids, err
}

// RecipientContacts lists the contacts recorded.
func RecipientContacts(ctx context.Context, q database.Querier) ([]RecipientContact, error) {
	rows, err := q.Query(ctx, `SELECT recipient, privacy_email, webhook_url FROM recipient_contacts ORDER BY recipient`)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, func(s scanner) (RecipientContact, error) {
		var (
			c        RecipientContact
			em, hook sql.NullString
		)
		err := s.Scan(&c.Recipient, &em, &hook)
		c.PrivacyEmail, c.WebhookURL = em.String, hook.String
		return c, err
	})
}

// NotifyRecipients tells each recipient of the person's data that it was
// rectified, erased or restricted (Art. 19 GDPR), in q's transaction: a
// message to the recipient's privacy contact through the outbox (the
// text is rights.RecipientNotice), or a webhook notice that the rights
// service delivers, or, without a contact, a notice recorded as having
// nowhere to go. Call it before the change removes the rows that tell
// who the recipients are (an erasure calls it when it starts). It
// returns the ids of the queued messages, to dispatch after the commit.
// The notices name the person by the audit log's pseudonym; what
// identifies them to the recipient leaves the database once delivered.
func (s *Store) NotifyRecipients(ctx context.Context, q database.Querier, m datamap.Map, person rights.Person, change rights.Change, now time.Time) ([]string, error) {
	return notifyRecipients(ctx, q, s.secret, m, person, change, now)
}

func notifyRecipients(ctx context.Context, q database.Querier, secret []byte, m datamap.Map, person rights.Person, change rights.Change, now time.Time) ([]string, error) {
	if !change.Valid() {
		return nil, errs.E(errs.Invalid, "unknown change %q", change)
	}
	p, err := ResolvePerson(ctx, q, m, person)
	if err != nil {
		return nil, err
	}
	return notifyResolved(ctx, q, secret, m, p, change, now)
}

// notifyResolved is NotifyRecipients for a person ResolvePerson has
// already completed, so that a caller holding one does not look the
// person up again.
func notifyResolved(ctx context.Context, q database.Querier, secret []byte, m datamap.Map, p rights.Person, change rights.Change, now time.Time) ([]string, error) {
	if p.Empty() {
		return nil, nil
	}
	recipients, err := resolvedRecipients(ctx, q, m, p)
	if err != nil {
		return nil, err
	}
	contacts, err := RecipientContacts(ctx, q)
	if err != nil {
		return nil, err
	}
	subject := erasureSubject(p)
	ref := audit.Ref(secret, subject.Kind, subject.ID)
	now = now.UTC()
	var mailIDs []string
	notified := 0
	for _, r := range recipients {
		ci := slices.IndexFunc(contacts, func(c RecipientContact) bool { return c.Recipient == r.ID })
		channel, state := "none", "no-contact"
		var mailID, payload string
		id := newRightsID("rnt_")
		switch {
		case ci >= 0 && contacts[ci].WebhookURL != "":
			channel, state = "webhook", "queued"
			body, err := rights.RecipientWebhook(id, r, p, change, now)
			if err != nil {
				return nil, err
			}
			payload = string(body)
		case ci >= 0 && contacts[ci].PrivacyEmail != "":
			channel, state = "mail", "queued"
			subject, text := rights.RecipientNotice(r, p, change)
			mailID, err = EnqueueMail(ctx, q, now, mail.Message{Category: mail.Transactional, Template: "rights.recipient_notice",
				To: contacts[ci].PrivacyEmail, Subject: subject, Text: text})
			if err != nil {
				return nil, err
			}
			mailIDs = append(mailIDs, mailID)
		}
		if channel != "none" {
			notified++
		}
		if _, err := q.Exec(ctx, `INSERT INTO recipient_notices (id, person_ref, recipient, change, channel, state, mail_id, payload, attempts, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)`, id, ref, rights.NoticeRecipient(r.ID), string(change), channel, state, orNull(mailID), orNull(payload), now); err != nil {
			return nil, err
		}
	}
	return mailIDs, AppendAudit(ctx, q, secret, audit.Entry{At: now, Actor: audit.Party{Kind: "system"}, Action: "rights.recipients_notified",
		Subject: subject, Purpose: "legal-compliance", Detail: map[string]string{
			"change": string(change), "recipients": strconv.Itoa(len(recipients)), "notified": strconv.Itoa(notified)}})
}

// WebhookNotice is a queued webhook notice with where it goes.
type WebhookNotice struct{ ID, Payload, URL string }

// QueuedWebhookNotices lists, oldest first and at most limit, the webhook
// notices waiting to be posted to their recipient's address.
func QueuedWebhookNotices(ctx context.Context, q database.Querier, limit int) ([]WebhookNotice, error) {
	rows, err := q.Query(ctx, `SELECT n.id, n.payload, c.webhook_url FROM recipient_notices n JOIN recipient_contacts c ON c.recipient = n.recipient
		WHERE n.state = 'queued' AND n.channel = 'webhook' AND n.payload IS NOT NULL AND c.webhook_url IS NOT NULL ORDER BY n.created_at LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, func(s scanner) (WebhookNotice, error) {
		var n WebhookNotice
		return n, s.Scan(&n.ID, &n.Payload, &n.URL)
	})
}

// WebhookNoticeSent records a delivered notice, which loses its body.
func WebhookNoticeSent(ctx context.Context, q database.Querier, id string, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE recipient_notices SET state = 'sent', payload = NULL, attempts = attempts + 1, sent_at = ? WHERE id = ?`, now.UTC(), id)
	return err
}

// WebhookNoticeFailed counts a failed attempt; the attempt numbered
// maxAttempts gives the notice up, and it loses its body too.
func WebhookNoticeFailed(ctx context.Context, q database.Querier, id string, maxAttempts int) error {
	_, err := q.Exec(ctx, `UPDATE recipient_notices SET attempts = attempts + 1,
		state = CASE WHEN attempts + 1 >= ? THEN 'failed' ELSE state END,
		payload = CASE WHEN attempts + 1 >= ? THEN NULL ELSE payload END WHERE id = ?`, maxAttempts, maxAttempts, id)
	return err
}

// purgeRecipientNoticeMail removes from the outbox the delivered (or
// given up) messages to recipients, which name the person, and marks
// their notices sent or failed.
func purgeRecipientNoticeMail(ctx context.Context, tx *database.Tx, now time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE recipient_notices SET state = 'sent', sent_at = ? WHERE state = 'queued' AND channel = 'mail'
		AND mail_id IN (SELECT id FROM mail_outbox WHERE status = 'sent')`, now.UTC()); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE recipient_notices SET state = 'failed' WHERE state = 'queued' AND channel = 'mail'
		AND mail_id IN (SELECT id FROM mail_outbox WHERE status = 'failed')`); err != nil {
		return err
	}
	return purgeSentMail(ctx, tx, "recipient_notices", "mail_id")
}
