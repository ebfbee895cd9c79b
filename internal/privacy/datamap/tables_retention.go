package datamap

import (
	"fmt"
	"regexp"
	"strconv"
)

// retentionTables are the legal holds, the record of the retention runs
// and the warnings mailed before an inactive account is erased.
func retentionTables() []Table {
	return []Table{legalHolds(), retentionRuns(), retentionRunRules(), inactivityWarnings()}
}

func legalHolds() Table {
	uses := []Use{{"legal-claims", LegitimateInterest}, {"legal-compliance", LegalObligation}}
	col := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: uses,
			Source: source, Retention: "legal-hold-30d", Erasure: deleted(), Recipients: hosting()}
	}
	return Table{
		Name:        "legal_holds",
		Description: "Legal holds placed by the privacy officer: while one is in force, retention and erasure leave the person's data alone. Who placed and released each hold, and why, is in the audit log.",
		Subjects:    []Subject{Member, Guest},
		PersonKeys:  []PersonKey{{"person_id", KeyPersonID}, {"person_id", KeyParticipantID}},
		Columns: []Column{
			plain("id", "Random id of the hold."),
			col("person_id", "Account id of the member, or participant id of the guest, whose data is held.", Derived, "pseudonym.id"),
			col("reason", "The privacy officer's note of the claim the data is held for.", Derived, "activity.audit-trail"),
			col("starts_at", "When the hold begins, as the privacy officer set it.", Derived, "activity.audit-trail"),
			col("ends_at", "When the hold ends, if an end was set, or when it was released.", Derived, "activity.audit-trail"),
			col("released_at", "When the hold was released before its end.", Observed, "activity.audit-trail"),
			col("created_at", "When the hold was placed.", Observed, "activity.audit-trail"),
		},
	}
}

func retentionRuns() Table {
	return Table{
		Name:        "retention_runs",
		Description: "Every run of the retention engine, real or dry, with when it started and finished; it names nobody.",
		Columns: []Column{
			plain("id", "Random id of the run."),
			plain("started_at", "When the run started."),
			plain("finished_at", "When the run finished; empty if it was cut short."),
			plain("dry_run", "Whether the run only counted what it would remove."),
			plain("trigger", "Whether the schedule, the operator's command or staff started the run."),
			plain("state", "Whether the run is working, done or failed."),
			plain("error", "A short code of what stopped a failed run, never data from the rows."),
		},
	}
}

func retentionRunRules() Table {
	return Table{
		Name:        "retention_run_rules",
		Description: "What each retention run did under each rule to each table, as counts only.",
		Parents:     []ForeignKey{{"run_id", "retention_runs", "id"}},
		Columns: []Column{
			plain("run_id", "The run."),
			plain("rule", "Id of the retention rule."),
			plain("table_name", "The table the rule was applied to."),
			plain("action", "Whether rows were deleted or cleared, people warned or handed to erasure."),
			plain("row_count", "How many rows or people, a count."),
			plain("held_count", "How many were left alone because of a legal hold, a count."),
		},
	}
}

func inactivityWarnings() Table {
	uses := []Use{{"account", Contract}, {"service-communications", LegitimateInterest}}
	col := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: uses,
			Source: source, Retention: "with-account", Erasure: deleted(), Recipients: hosting()}
	}
	return Table{
		Name:        "inactivity_warnings",
		Description: "The warning mailed to a member whose unused account is due to be erased, which the erasure waits for; signing in voids it.",
		Subjects:    []Subject{Member},
		PersonKeys:  []PersonKey{{"account_id", KeyPersonID}},
		Parents:     []ForeignKey{{"account_id", "accounts", "id"}},
		Columns: []Column{
			col("account_id", "Id of the member warned.", Derived, "pseudonym.id"),
			col("last_active_at", "When the account had last been used when the warning went out.", Observed, "account.sign-in-history"),
			col("warned_at", "When the warning was queued.", Observed, "activity.audit-trail"),
			col("erase_after", "The earliest moment the account may be erased, at least the notice period after the warning.", Derived, "activity.audit-trail"),
		},
	}
}

// isoPeriod is the subset of ISO 8601 durations a retention period may
// take: years, months and days, such as P5Y, P13M or P1Y6M.
var isoPeriod = regexp.MustCompile(`^P(?:(\d{1,3})Y)?(?:(\d{1,4})M)?(?:(\d{1,5})D)?$`)

// ParsePeriod reads an ISO 8601 period of years, months and days, such as
// P25M or P90D, as Period.ISO writes it. Weeks and times of day are
// refused: retention is counted in calendar days. A zero period is
// refused too, since it would delete data the moment it is written.
func ParsePeriod(s string) (Period, error) {
	m := isoPeriod.FindStringSubmatch(s)
	if m == nil || s == "P" {
		return Period{}, fmt.Errorf("%q is not a period such as P5Y, P13M or P90D", s)
	}
	var p Period
	for i, dst := range []*int{&p.Years, &p.Months, &p.Days} {
		if m[i+1] != "" {
			*dst, _ = strconv.Atoi(m[i+1])
		}
	}
	if p.IsZero() {
		return Period{}, fmt.Errorf("%q is an empty period", s)
	}
	return p, nil
}
