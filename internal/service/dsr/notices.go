package dsr

import (
	"context"
	"io"
	"strings"

	"github.com/sessionshq/sessions/internal/platform/safehttp"
	"github.com/sessionshq/sessions/internal/privacy/rights"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// Art. 19 GDPR: who receives a person's data, and the notices that tell
// those recipients when it is rectified, erased or restricted. The
// notices are recorded (store.NotifyRecipients) in the transaction of
// the change; the messages to privacy contacts go through the outbox,
// and the webhook notices are posted here.

// webhookBatch bounds the webhook notices one delivery run posts.
const webhookBatch = 50

// PersonRecipients lists who receives the person's data: the recipients
// the data map declares for the tables the person has rows in, named
// from the sub-processor registry, and the services their data was
// delivered to, with those deliveries.
func (s *Service) PersonRecipients(ctx context.Context, person rights.Person) ([]rights.Recipient, error) {
	return store.PersonRecipients(ctx, s.env.Store.DB, *s.env.Map, person)
}

// notifyRecipients records the Art. 19 notices of change to person in the
// use case's transaction tx, and delivers their messages after it
// commits.
func (s *Service) notifyRecipients(ctx context.Context, tx *service.Tx, person rights.Person, change rights.Change) error {
	ids, err := s.env.Store.NotifyRecipients(ctx, tx, *s.env.Map, person, change, s.env.Now())
	if err != nil {
		return err
	}
	tx.Deliver(ids...)
	return nil
}

// DeliverRecipientNotices posts the queued webhook notices, a bounded
// number per call. A delivered notice loses its body; one that failed
// rights.TransferAttempts times is given up, and loses it too. It
// returns how many went out. The client is env.Outbound on purpose: a
// webhook address is typed by staff, and only its checks (https, public
// addresses at every dial and redirect) stand between it and our own
// network.
func (s *Service) DeliverRecipientNotices(ctx context.Context) (int, error) {
	db := s.env.Store.DB
	items, err := store.QueuedWebhookNotices(ctx, db, webhookBatch)
	if err != nil {
		return 0, err
	}
	client := s.outbound()
	sent := 0
	for _, it := range items {
		ok := false
		if u, err := safehttp.CheckURL(it.URL); err == nil {
			body := it.Payload
			res, err := client.Post(ctx, u, "application/json", int64(len(body)), func() (io.ReadCloser, error) {
				return io.NopCloser(strings.NewReader(body)), nil
			})
			ok = err == nil && res.Status >= 200 && res.Status < 300
		}
		if ok {
			sent++
			err = store.WebhookNoticeSent(ctx, db, it.ID, s.env.Now())
		} else {
			err = store.WebhookNoticeFailed(ctx, db, it.ID, rights.TransferAttempts)
		}
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}
