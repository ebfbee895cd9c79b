package store

import (
	"context"
	"fmt"
	"time"

	"github.com/sessionshq/sessions/internal/analytics"
	"github.com/sessionshq/sessions/internal/platform/database"
)

// This file holds first-party analytics: events are appended one by one
// and read back only as counts per day, per route and per feature; no
// query here returns a single visitor's events.

// AppendAnalyticsEvent stores one event. The caller has checked the
// visitor's analytics consent and truncated the address.
func AppendAnalyticsEvent(ctx context.Context, q database.Querier, e analytics.Event) error {
	_, err := q.Exec(ctx, `INSERT INTO analytics_events (occurred_at, day, kind, path, name, visitor_id, ip_prefix)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.At.UTC().Truncate(time.Microsecond), e.Day(), string(e.Kind), e.Path, e.Name, e.VisitorID, e.IPPrefix)
	if err != nil {
		return fmt.Errorf("append an analytics event: %w", err)
	}
	return nil
}

// AnalyticsCounts counts the events of the days of r.
func AnalyticsCounts(ctx context.Context, q database.Querier, r analytics.Range) (analytics.Raw, error) {
	var raw analytics.Raw
	rows, err := q.Query(ctx, `SELECT day, COUNT(DISTINCT visitor_id),
		SUM(CASE WHEN kind = 'pageview' THEN 1 ELSE 0 END)
		FROM analytics_events WHERE day >= ? AND day <= ? GROUP BY day ORDER BY day`, r.From, r.To)
	if err != nil {
		return raw, err
	}
	for rows.Next() {
		var d analytics.DayTotals
		if err := rows.Scan(&d.Day, &d.Visits, &d.PageViews); err != nil {
			rows.Close()
			return raw, err
		}
		raw.Days = append(raw.Days, d)
		raw.Visits += d.Visits
		raw.PageViews += d.PageViews
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return raw, err
	}

	rows, err = q.Query(ctx, `SELECT path, COUNT(*) FROM analytics_events
		WHERE kind = 'pageview' AND day >= ? AND day <= ? GROUP BY path ORDER BY COUNT(*) DESC, path LIMIT ?`,
		r.From, r.To, analytics.TopPagesLimit)
	if err != nil {
		return raw, err
	}
	for rows.Next() {
		var p analytics.PageTotal
		if err := rows.Scan(&p.Path, &p.Views); err != nil {
			rows.Close()
			return raw, err
		}
		raw.Pages = append(raw.Pages, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return raw, err
	}

	rows, err = q.Query(ctx, `SELECT day, name, COUNT(*) FROM analytics_events
		WHERE kind = 'feature' AND day >= ? AND day <= ? GROUP BY day, name ORDER BY day, name`, r.From, r.To)
	if err != nil {
		return raw, err
	}
	defer rows.Close()
	for rows.Next() {
		var f analytics.FeatureDay
		if err := rows.Scan(&f.Day, &f.Name, &f.Uses); err != nil {
			return raw, err
		}
		raw.Features = append(raw.Features, f)
		raw.FeatureUses += f.Uses
	}
	return raw, rows.Err()
}
