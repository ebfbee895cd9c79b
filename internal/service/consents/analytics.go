package consents

import (
	"context"
	"time"

	"github.com/sessionshq/sessions/internal/analytics"
	"github.com/sessionshq/sessions/internal/privacy/cookies"
	"github.com/sessionshq/sessions/internal/privacy/gate"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

// analyticsPurpose is the data map's purpose of first-party analytics.
const analyticsPurpose = "analytics"

// Hit is one event a page's script posted, checked, with what the web
// layer knows about where it came from.
type Hit struct {
	Event analytics.Checked
	// Route is the route pattern the event's path matched, such as
	// /orgs/{id}, so that no id in an address is stored.
	Route string
	// AnalyticsID is the browser's analytics id; one that is not today's
	// is replaced by a fresh one.
	AnalyticsID string
	// AccountID is the member signed in on the browser, "" for none.
	AccountID string
}

// Collected is what became of a hit.
type Collected struct {
	// Stored is true when the event was kept.
	Stored bool
	// NewID is the fresh analytics id the event was kept under, for the
	// browser's cookie until NewIDExpires; "" when the browser's own id
	// served.
	NewID        string
	NewIDExpires time.Time
}

// Collect keeps the event of h when the browser's cookie choice is
// current and allows analytics, the purpose gate agrees for the visitor,
// and a member signed in on the browser has not refused, withdrawn,
// objected or been held back by restriction or age. A member who never
// chose on their account is covered by the browser's choice. An event
// that may not be kept is dropped without error: the script cannot tell
// the refusal from a network failure, and nothing is kept.
func (s *Service) Collect(ctx context.Context, h Hit, b Browser) (Collected, error) {
	now := s.env.Clock.Now()
	choice, ok := b.current(now)
	if !ok || !choice.Allows(cookies.Analytics) {
		return Collected{}, nil
	}
	if !s.AllowedOnRequest(ctx, gate.Visitor(choice.VisitorID), analyticsPurpose, b).Allowed {
		return Collected{}, nil
	}
	if h.AccountID != "" {
		d := s.AllowedOnRequest(ctx, gate.Member(h.AccountID), analyticsPurpose, b)
		if !d.Allowed && d.Reason != gate.ReasonNoConsent {
			return Collected{}, nil
		}
	}
	var out Collected
	id := h.AnalyticsID
	if !analytics.VisitorIDFresh(id, now) {
		id = analytics.NewVisitorID(now)
		out.NewID, out.NewIDExpires = id, analytics.VisitorIDExpires(now)
	}
	ev := analytics.NewEvent(h.Event, h.Route, id, b.IP, now)
	if err := s.env.InTx(ctx, func(tx *service.Tx) error { return store.AppendAnalyticsEvent(ctx, tx, ev) }); err != nil {
		return Collected{}, err
	}
	out.Stored = true
	return out, nil
}

// AnalyticsReport is the aggregate report of the last days (one of
// analytics.Ranges, the default otherwise) for staff who may view
// analytics; counts under analytics.MinCount are suppressed.
func (s *Service) AnalyticsReport(ctx context.Context, actor service.Actor, days int) (analytics.Report, error) {
	if err := actor.Require(staff.ViewAnalytics); err != nil {
		return analytics.Report{}, err
	}
	rng := analytics.LastDays(days, s.env.Clock.Now())
	raw, err := store.AnalyticsCounts(ctx, s.env.Store.DB, rng)
	if err != nil {
		return analytics.Report{}, err
	}
	return analytics.BuildReport(raw, rng), nil
}
