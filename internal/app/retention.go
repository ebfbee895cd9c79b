package app

import (
	"context"
	"time"

	"github.com/sessionshq/sessions/internal/platform/config"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/retention"
	"github.com/sessionshq/sessions/internal/store"
)

// RetentionPeriods are the periods in force: the data map's, with the
// operator's SESSIONS_RETENTION and the reactivation grace period.
func RetentionPeriods(cfg config.Config) (retention.Periods, error) {
	return retention.Configured(datamap.Default(), cfg.Retention, cfg.ReactivationGrace)
}

// RunRetention runs the retention engine once at the app's clock: for
// real, or dry to see what a real run would do. A scheduled run stops at
// retention.RunBudget and leaves the rest to the next; record keeps the
// run in the report.
func (a *App) RunRetention(ctx context.Context, trigger retention.Trigger, dry, record bool) (retention.Run, error) {
	periods, err := RetentionPeriods(a.Config)
	if err != nil {
		return retention.Run{}, &config.Error{Setting: "SESSIONS_RETENTION", Reason: err.Error()}
	}
	o := store.RetentionOptions{
		Plan: retention.Build(datamap.Default()), Periods: periods, Now: a.Clock.Now(),
		DryRun: dry, Trigger: trigger, Record: record, Warning: a.Config.InactivityWarning,
		Secret: a.Secret, BaseURL: a.Config.BaseURL, Log: a.Log,
	}
	if trigger == retention.BySchedule {
		// A budget of the job's running time, not of the data's age, so
		// the wall clock rather than the app's clock.
		o.Deadline = time.Now().Add(retention.RunBudget)
	}
	if a.Blobs != nil {
		o.DeleteFile = a.Blobs.Delete
	}
	if a.Mail != nil {
		o.Mailed = a.Mail.Dispatch
	}
	return store.RunRetention(ctx, a.DB, o)
}
