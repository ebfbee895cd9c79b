package main

import (
	"context"
	"fmt"
	"time"

	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/config"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/retention"
	"github.com/sessionshq/sessions/internal/service/retain"
	"github.com/sessionshq/sessions/internal/service/wire"
)

func init() {
	register(Bench{
		Name: "retention",
		About: "the retention engine over 1,000,000 accounts and 10,000,000 analytics events (quick: 10,000 and 100,000): " +
			"rows per second for each rule, next to a raw SQL DELETE or INSERT of the same rows on a second copy of the same data",
		Run: benchRetention,
	})
}

// retentionNow is the moment the benchmark's data is aged against.
var retentionNow = time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)

var benchSecret = []byte("bench-retention-secret-0123456789abcdef")

// retentionSizes are the numbers of accounts and of analytics events.
func retentionSizes(quick bool) (accounts, events int) {
	if quick {
		return 10_000, 100_000
	}
	return 1_000_000, 10_000_000
}

func benchRetention(ctx context.Context, e *Env) error {
	accounts, events := retentionSizes(e.Quick)
	engineDB, closeEngine, err := openDB(ctx, e)
	if err != nil {
		return err
	}
	defer closeEngine()
	e.Logf("generating %d accounts and %d analytics events, twice", accounts, events)
	start := time.Now()
	if err := fillRetention(ctx, engineDB, accounts, events); err != nil {
		return err
	}
	e.Report("generate one copy of the data", time.Since(start).Seconds(), "s")
	rawEnv := *e
	rawEnv.Dir = e.Dir + "/raw"
	rawDB, closeRaw, err := openDB(ctx, &rawEnv)
	if err != nil {
		return err
	}
	defer closeRaw()
	if err := fillRetention(ctx, rawDB, accounts, events); err != nil {
		return err
	}

	periods, err := retention.NewPeriods(datamap.Default(), nil)
	if err != nil {
		return err
	}
	plan := retention.Build(datamap.Default())
	// Each rule on its own, timed: the engine's plan cut down to it.
	only := func(rule, table string) retention.Plan {
		var p retention.Plan
		for _, s := range plan.Sweeps {
			if s.Rule == rule && s.Table == table {
				p.Sweeps = append(p.Sweeps, s)
			}
		}
		for _, r := range plan.People {
			if r.Rule == rule && r.Table == table {
				p.People = append(p.People, r)
			}
		}
		return p
	}
	services, err := wire.New(wire.Parts{
		Config: config.Config{BaseURL: "https://meet.example.com"}, DB: engineDB, Clock: clock.NewFake(retentionNow), Secret: benchSecret,
	})
	if err != nil {
		return err
	}
	engine := func(p retention.Plan) (retention.Run, time.Duration, error) {
		t0 := time.Now()
		run, err := services.Retention.Run(ctx, retain.Options{Plan: &p, Trigger: retention.ByCommand})
		return run, time.Since(t0), err
	}
	raw := func(stmts ...string) (int64, time.Duration, error) {
		t0 := time.Now()
		var n int64
		for _, q := range stmts {
			res, err := rawDB.Exec(ctx, q)
			if err != nil {
				return n, 0, err
			}
			k, _ := res.RowsAffected()
			n += k
		}
		return n, time.Since(t0), nil
	}
	cut := func(rule string) string {
		c, _ := periods.Cutoff(rule, retentionNow)
		return sqlTime(engineDB, c)
	}

	// Analytics events past 25 months.
	run, took, err := engine(only("analytics-25m", "analytics_events"))
	if err != nil {
		return err
	}
	n := run.Total(retention.Delete)
	rn, rtook, err := raw(`DELETE FROM analytics_events WHERE occurred_at < ` + cut("analytics-25m"))
	if err != nil {
		return err
	}
	e.Logf("analytics: engine %d rows in %s, raw %d in %s", n, took, rn, rtook)
	e.ReportVs("analytics-25m: events deleted", float64(n)/took.Seconds(), float64(rn)/rtook.Seconds(), "rows/s", "raw DELETE")

	// Unused accounts: warnings for those within 30 days of five years,
	// erasure started for those warned long enough ago.
	run, took, err = engine(only(retention.InactiveRule, "accounts"))
	if err != nil {
		return err
	}
	warned, erased := run.Total(retention.Warn), run.Total(retention.Erase)
	warnCut, _ := periods.Cutoff(retention.InactiveRule, retentionNow)
	rn, rtook, err = raw(
		`INSERT INTO inactivity_warnings (account_id, last_active_at, warned_at, erase_after)
			SELECT id, last_active_at, `+sqlTime(rawDB, retentionNow)+`, `+sqlTime(rawDB, retentionNow.AddDate(0, 0, 30))+` FROM accounts a
			WHERE status = 'active' AND last_active_at < `+sqlTime(rawDB, warnCut.Add(retention.DefaultWarning))+`
			AND NOT EXISTS (SELECT 1 FROM inactivity_warnings w WHERE w.account_id = a.id)`,
		`DELETE FROM accounts WHERE status = 'active' AND last_active_at < `+cut(retention.InactiveRule)+`
			AND id IN (SELECT account_id FROM inactivity_warnings WHERE erase_after <= `+sqlTime(rawDB, retentionNow)+`)`)
	if err != nil {
		return err
	}
	e.Logf("inactive: engine warned %d and started %d erasures in %s; raw %d rows in %s", warned, erased, took, rn, rtook)
	e.ReportVs("account-inactive-5y: members warned or handed to erasure", float64(warned+erased)/took.Seconds(), float64(rn)/rtook.Seconds(),
		"people/s", "raw INSERT of the warnings + DELETE of the accounts")

	// Accounts left deactivated past the grace period.
	run, took, err = engine(only(retention.DeactivatedRule, "accounts"))
	if err != nil {
		return err
	}
	erased = run.Total(retention.Erase)
	rn, rtook, err = raw(`DELETE FROM accounts WHERE status = 'deactivated' AND deactivated_at < ` + cut(retention.DeactivatedRule))
	if err != nil {
		return err
	}
	e.Logf("deactivated: engine started %d erasures in %s; raw %d in %s", erased, took, rn, rtook)
	e.ReportVs("account-deactivated: members handed to erasure", float64(erased)/took.Seconds(), float64(rn)/rtook.Seconds(),
		"people/s", "raw DELETE of the accounts")
	e.Report("analytics events deleted", float64(n), "rows")
	e.Report("members warned", float64(warned), "people")
	return nil
}

// sqlTime writes t as a literal the engine compares its columns with.
func sqlTime(db *database.DB, t time.Time) string {
	if db.Dialect() == database.Postgres {
		return "TIMESTAMPTZ '" + t.UTC().Format("2006-01-02 15:04:05") + "+00'"
	}
	return "'" + t.UTC().Format("2006-01-02 15:04:05") + "'"
}

// fillRetention writes the accounts and events with SQL alone: on SQLite
// a recursive CTE, on PostgreSQL generate_series. Events are spread over
// the 50 months before retentionNow, so about half are past 25 months.
// Of the accounts, 1 in 50 was last used six years ago and already warned
// long enough ago, 1 in 50 is within the warning window, 1 in 100 was
// deactivated 60 days ago, and the rest were used within the last three
// years.
func fillRetention(ctx context.Context, db *database.DB, accounts, events int) error {
	var series func(n int) (with, from string)
	var ago func(unit string, expr string) string
	base := retentionNow.Format("2006-01-02 15:04:05")
	if db.Dialect() == database.Postgres {
		series = func(n int) (string, string) { return "", fmt.Sprintf("generate_series(1, %d) AS s(i)", n) }
		ago = func(unit, expr string) string {
			return "(TIMESTAMPTZ '" + base + "+00' - (" + expr + ") * INTERVAL '1 " + unit + "')"
		}
	} else {
		series = func(n int) (string, string) {
			return fmt.Sprintf("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d) ", n), "s"
		}
		ago = func(unit, expr string) string {
			return "datetime('" + base + "', '-' || (" + expr + ") || ' " + unit + "s')"
		}
	}
	minutes50 := 50 * 30 * 24 * 60
	with, from := series(events)
	if _, err := db.Exec(ctx, `INSERT INTO analytics_events (occurred_at, day, kind, path, name, visitor_id, ip_prefix) `+with+
		`SELECT `+ago("minute", fmt.Sprintf("(i * 7919) %% %d", minutes50))+`, '2030-01-01', 'pageview', '/', '', 'av_' || i, '203.0.113.0' FROM `+from); err != nil {
		return fmt.Errorf("generate events: %w", err)
	}
	with, from = series(accounts)
	lastActive := `CASE WHEN i % 50 = 1 THEN ` + ago("day", "2192") + ` WHEN i % 50 = 2 THEN ` + ago("day", "1816") + ` ELSE ` + ago("day", "i % 1000") + ` END`
	if _, err := db.Exec(ctx, `INSERT INTO accounts (id, email, password_hash, password_changed_at, name, status, created_at, updated_at, last_active_at, deactivated_at) `+with+
		`SELECT 'acc_bench_' || i, 'member' || i || '@example.com', 'x', `+ago("day", "3000")+`, 'Member ' || i,
			CASE WHEN i % 100 = 3 THEN 'deactivated' ELSE 'active' END, `+ago("day", "3000")+`, `+ago("day", "3000")+`, `+lastActive+`,
			CASE WHEN i % 100 = 3 THEN `+ago("day", "60")+` ELSE NULL END FROM `+from); err != nil {
		return fmt.Errorf("generate accounts: %w", err)
	}
	// The long-unused accounts were warned 40 days ago.
	if _, err := db.Exec(ctx, `INSERT INTO inactivity_warnings (account_id, last_active_at, warned_at, erase_after)
		SELECT id, last_active_at, `+ago("day", "40")+`, `+ago("day", "10")+` FROM accounts WHERE last_active_at < `+ago("day", "2000")); err != nil {
		return fmt.Errorf("generate warnings: %w", err)
	}
	return nil
}
