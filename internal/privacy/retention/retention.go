// Package retention owns scheduled deletion and anonymisation: it reads
// the data map's retention rules and works out, for every table, what a
// retention run removes and when, with the periods the operator may set in
// place of the map's. Rows go by one of two roads. Rows whose rule runs
// from a column of their own are swept in place: deleted, or their
// personal columns cleared while the row stays. People themselves (a
// member's account left unused or deactivated, a guest's places in
// meetings) are handed whole to the erasure engine, so that one engine
// decides what erasing a person means. Legal holds stop both roads.
//
// The package knows no SQL and no HTTP; internal/store carries the plan
// out in batches, and a table added to the data map with an anchored rule
// is swept with no change here.
package retention

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/privacy/datamap"
)

// The rules about people rather than rows. Their tables are found in the
// data map: the one whose own id is a person's account id, and the one
// whose own id is a participant id.
const (
	// InactiveRule ends an account nobody used, after a warning.
	InactiveRule = "account-inactive-5y"
	// DeactivatedRule ends an account left deactivated past the grace
	// period in which signing in brings it back.
	DeactivatedRule = "account-deactivated"
	// GuestRule ends what is kept about a guest after their last meeting.
	GuestRule = "guest-12m"
)

// DefaultWarning is how long before an inactive account's erasure its
// owner is warned by e-mail.
const DefaultWarning = 30 * 24 * time.Hour

// DefaultBatch bounds the rows one statement of a run touches, and so the
// size of every transaction a run opens.
const DefaultBatch = 1000

// Action is what a run does under a rule.
type Action string

const (
	// Delete removes expired rows.
	Delete Action = "delete"
	// Anonymise clears the personal columns of expired rows and keeps them.
	Anonymise Action = "anonymise"
	// Warn mails the owner of an account that is about to be erased.
	Warn Action = "warn"
	// Erase hands a person to the erasure engine.
	Erase Action = "erase"
)

// Periods are the retention periods in force: the data map's, with the
// operator's overrides.
type Periods map[string]datamap.Period

// NewPeriods returns the data map's periods for every anchored rule,
// overridden by the operator's. An override of a rule the map lacks, or of
// one that ends with an event rather than a period, is refused, naming the
// rule.
func NewPeriods(m datamap.Map, overrides map[string]datamap.Period) (Periods, error) {
	p := Periods{}
	for _, r := range m.Retention {
		if r.Anchor != "" {
			p[r.ID] = r.Period
		}
	}
	ids := make([]string, 0, len(overrides))
	for id := range overrides {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		r, ok := m.Rule(id)
		switch {
		case !ok:
			return nil, fmt.Errorf("there is no retention rule %q", id)
		case r.Anchor == "":
			return nil, fmt.Errorf("retention rule %q ends with an event, not after a period", id)
		case overrides[id].IsZero():
			return nil, fmt.Errorf("retention rule %q needs a period longer than zero", id)
		}
		p[id] = overrides[id]
	}
	return p, nil
}

// Cutoff returns the moment before which an anchor has expired at now
// under the rule, and false for a rule without a period.
func (p Periods) Cutoff(rule string, now time.Time) (time.Time, bool) {
	d, ok := p[rule]
	if !ok || d.IsZero() {
		return time.Time{}, false
	}
	return now.UTC().AddDate(-d.Years, -d.Months, -d.Days), true
}

// Clear is a column an anonymising sweep clears: to NULL, or to
// Replacement when the column cannot be empty.
type Clear struct {
	Column      string
	Replacement *string
}

// Sweep is one rule applied to the rows of one table.
type Sweep struct {
	Rule  string
	Table string
	// Anchor is the column the period runs from.
	Anchor string
	Action Action
	// Clear lists the columns an Anonymise sweep clears.
	Clear []Clear
	// HeldBy are the columns naming the person a row belongs to; a row
	// whose person is under a legal hold stays.
	HeldBy []string
	// Files are columns naming files in blob storage, deleted with the row.
	Files []string
	// Example is the column whose values a dry run shows, the row's id.
	Example string
	// Chained marks the audit log, a hash chain: its rows go only from
	// the head, oldest first and without gaps, and the store keeps a
	// sealed anchor of the last one removed so that the rest still
	// verifies. An expired entry behind one that must stay (a young one,
	// or one a legal hold keeps) waits for it.
	Chained bool
}

// ChainedTable is the one table whose sweeps are Chained.
const ChainedTable = "audit_log"

// PersonKind tells the three rules about people apart.
type PersonKind string

const (
	Inactive    PersonKind = "inactive"
	Deactivated PersonKind = "deactivated"
	Guest       PersonKind = "guest"
)

// PersonRule is a rule whose expiry erases a person through the erasure
// engine.
type PersonRule struct {
	Rule  string
	Kind  PersonKind
	Table string
	// ID is the column holding the person's account id or participant id.
	ID     string
	Anchor string
	// Email is the column of the address: where an inactive member is
	// warned, and by which a guest's places are gathered into one person.
	Email string
	// Member is, for guests, the account id column that is empty on a
	// guest's place and set on a member's.
	Member string
}

// Plan is everything a run does, in order: rows first, then people.
type Plan struct {
	Sweeps []Sweep
	People []PersonRule
}

// Rules lists the rule ids the plan enforces, each once, sorted.
func (p Plan) Rules() []string {
	var ids []string
	for _, s := range p.Sweeps {
		ids = append(ids, s.Rule)
	}
	for _, r := range p.People {
		ids = append(ids, r.Rule)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// Build works the plan out from the data map. A table whose rows end
// under a rule of their own is swept under it (rowSweep). A personal column is swept
// under its own retention rule and, when it is kept under a legal
// obligation, under the rule that ends the keeping too, so a kept value
// never outlives it. Where every personal column of a row has expired, or
// the table's rows are deleted at erasure, the row goes; otherwise the
// expired columns are cleared and the row stays. Only rules with an anchor
// and a period are swept; rules that end with an event are carried out by
// whatever ends them.
func Build(m datamap.Map) Plan {
	var plan Plan
	for _, t := range m.Tables {
		if kind, id := personTable(t); kind != "" {
			plan.People = append(plan.People, personRules(m, t, kind, id)...)
			continue
		}
		plan.Sweeps = append(plan.Sweeps, sweepsOf(m, t)...)
		if s, ok := rowSweep(m, t); ok {
			plan.Sweeps = append(plan.Sweeps, s)
		}
	}
	return plan
}

// rowSweep is the sweep of a table whose rows hold no personal data but
// end under a rule of their own (datamap.Table.Retention): they are
// deleted, with the files they name.
func rowSweep(m datamap.Map, t datamap.Table) (Sweep, bool) {
	r, ok := m.Rule(t.Retention)
	if !ok || r.Anchor == "" || r.Period.IsZero() || r.AtEnd != datamap.Delete {
		return Sweep{}, false
	}
	if _, ok := t.Column(r.Anchor); !ok {
		return Sweep{}, false
	}
	s := Sweep{Rule: r.ID, Table: t.Name, Anchor: r.Anchor, Action: Delete, HeldBy: holdKeys(t), Example: exampleColumn(t)}
	for _, c := range t.Columns {
		if c.BlobKey {
			s.Files = append(s.Files, c.Name)
		}
	}
	return s, true
}

// personTable reports whether the rows of t are people (an account) or a
// person's places in meetings, and the id column.
func personTable(t datamap.Table) (datamap.KeyKind, string) {
	for _, k := range t.PersonKeys {
		if k.Column == "id" && (k.Holds == datamap.KeyPersonID || k.Holds == datamap.KeyParticipantID) {
			return k.Holds, k.Column
		}
	}
	return "", ""
}

func keyOf(t datamap.Table, kind datamap.KeyKind, except string) string {
	for _, k := range t.PersonKeys {
		if k.Holds == kind && k.Column != except {
			return k.Column
		}
	}
	return ""
}

func personRules(m datamap.Map, t datamap.Table, kind datamap.KeyKind, id string) []PersonRule {
	var out []PersonRule
	add := func(rule string, pk PersonKind, member string) {
		r, ok := m.Rule(rule)
		if !ok || r.Anchor == "" {
			return
		}
		if _, ok := t.Column(r.Anchor); !ok {
			return
		}
		out = append(out, PersonRule{Rule: rule, Kind: pk, Table: t.Name, ID: id, Anchor: r.Anchor,
			Email: keyOf(t, datamap.KeyEmail, ""), Member: member})
	}
	switch kind {
	case datamap.KeyPersonID:
		add(InactiveRule, Inactive, "")
		add(DeactivatedRule, Deactivated, "")
	case datamap.KeyParticipantID:
		if member := keyOf(t, datamap.KeyPersonID, id); member != "" {
			add(GuestRule, Guest, member)
		}
	}
	return out
}

func sweepsOf(m datamap.Map, t datamap.Table) []Sweep {
	personal := t.PersonalColumns()
	byRule := map[string][]datamap.Column{}
	var order []string
	for _, c := range personal {
		rules := []string{c.Retention}
		if c.Erasure != nil && c.Erasure.Action == datamap.KeepLegalObligation && c.Erasure.Until != c.Retention {
			rules = append(rules, c.Erasure.Until)
		}
		for _, id := range rules {
			r, ok := m.Rule(id)
			if !ok || r.Anchor == "" || r.Period.IsZero() {
				continue
			}
			if _, ok := t.Column(r.Anchor); !ok {
				continue
			}
			if _, seen := byRule[id]; !seen {
				order = append(order, id)
			}
			byRule[id] = append(byRule[id], c)
		}
	}
	var out []Sweep
	for _, id := range order {
		r, _ := m.Rule(id)
		cols := byRule[id]
		s := Sweep{Rule: id, Table: t.Name, Anchor: r.Anchor, HeldBy: holdKeys(t), Example: exampleColumn(t), Chained: t.Name == ChainedTable}
		whole := t.RowErasure() == datamap.Delete || len(cols) == len(personal)
		if r.AtEnd == datamap.Delete && whole {
			s.Action = Delete
			for _, c := range t.Columns {
				if c.BlobKey {
					s.Files = append(s.Files, c.Name)
				}
			}
		} else {
			s.Action = Anonymise
			for _, c := range cols {
				cl := Clear{Column: c.Name}
				if c.Erasure != nil {
					cl.Replacement = c.Erasure.Replacement
				}
				s.Clear = append(s.Clear, cl)
			}
		}
		out = append(out, s)
	}
	return out
}

// holdKeys are the columns a legal hold can name a row's person by.
func holdKeys(t datamap.Table) []string {
	var out []string
	for _, k := range t.PersonKeys {
		if (k.Holds == datamap.KeyPersonID || k.Holds == datamap.KeyNamedPersonID || k.Holds == datamap.KeyParticipantID) && !slices.Contains(out, k.Column) {
			out = append(out, k.Column)
		}
	}
	return out
}

// exampleColumn picks the column that names a row: its id, its position,
// or else its first column.
func exampleColumn(t datamap.Table) string {
	for _, name := range []string{"id", "seq", "digest"} {
		if _, ok := t.Column(name); ok {
			return name
		}
	}
	if len(t.Columns) > 0 {
		return t.Columns[0].Name
	}
	return ""
}

// Result is what a run did, or would do, under one rule to one table.
type Result struct {
	Rule   string `json:"rule"`
	Table  string `json:"table"`
	Action Action `json:"action"`
	// Rows counts the rows deleted or cleared, or the people warned or
	// handed to erasure.
	Rows int64 `json:"rows"`
	// Held counts those a legal hold kept.
	Held int64 `json:"held"`
	// Examples are a few ids of what a dry run would remove; a real run
	// keeps none, so its report names nobody.
	Examples []string `json:"examples,omitempty"`
}

// Key names the result within a run.
func (r Result) Key() string { return r.Rule + " " + r.Table + " " + string(r.Action) }

// Trigger says who started a run.
type Trigger string

const (
	BySchedule Trigger = "schedule"
	ByCommand  Trigger = "command"
)

// State is where a run stands.
type State string

const (
	Running State = "running"
	Done    State = "done"
	// Partial: the run stopped at its time budget; the next run continues
	// where it stopped, since every step is idempotent.
	Partial State = "partial"
	Failed  State = "failed"
)

// Run is one run of the engine with what it did.
type Run struct {
	ID         string     `json:"id"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	DryRun     bool       `json:"dry_run"`
	Trigger    Trigger    `json:"trigger"`
	State      State      `json:"state"`
	Error      string     `json:"error,omitempty"`
	Results    []Result   `json:"results"`
}

// Total adds up the rows of the results with the action.
func (r Run) Total(a Action) int64 {
	var n int64
	for _, res := range r.Results {
		if res.Action == a {
			n += res.Rows
		}
	}
	return n
}

// Merge adds res to the run's results, summing counts under the same rule,
// table and action, and keeping up to MaxExamples examples.
func (r *Run) Merge(res Result) {
	for i := range r.Results {
		if r.Results[i].Key() == res.Key() {
			r.Results[i].Rows += res.Rows
			r.Results[i].Held += res.Held
			r.Results[i].Examples = appendExamples(r.Results[i].Examples, res.Examples)
			return
		}
	}
	res.Examples = appendExamples(nil, res.Examples)
	r.Results = append(r.Results, res)
}

// MaxExamples bounds the ids a dry run shows per rule and table.
const MaxExamples = 5

func appendExamples(dst, src []string) []string {
	for _, e := range src {
		if len(dst) >= MaxExamples {
			break
		}
		if !slices.Contains(dst, e) {
			dst = append(dst, e)
		}
	}
	return dst
}

// Describe is the rule's description from the data map, for pages that
// list what a rule removes.
func Describe(m datamap.Map, rule string) string {
	if r, ok := m.Rule(rule); ok {
		return r.Description
	}
	return ""
}

// ErrorCode turns a failure into the short code kept on a failed run,
// which carries no data from the rows.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	msg := strings.ToLower(err.Error())
	switch {
	case strings.Contains(msg, "context deadline exceeded"):
		return "timeout"
	case strings.Contains(msg, "context canceled"):
		return "cancelled"
	}
	return "error"
}

// RunArgs is the periodic job that runs the engine.
type RunArgs struct{}

// Kind names the job.
func (RunArgs) Kind() string { return "retention.run" }

// RunEvery is how often the job runs: often enough that what expires
// within the day, such as e-mailed links, goes within the hour.
const RunEvery = time.Hour

// RunBudget is how long one scheduled run works before it stops after
// its batch in progress, under the job engine's time limit; a large
// backlog is worked off over several runs.
const RunBudget = 90 * time.Second

// Configured returns the periods in force for an operator's settings:
// their overrides (SESSIONS_RETENTION, see ParseOverrides), and the grace
// period of deactivated accounts, which has a setting of its own, in
// whole days.
func Configured(m datamap.Map, overrides string, grace time.Duration) (Periods, error) {
	all, err := ParseOverrides(m, overrides)
	if err != nil {
		return Periods{}, err
	}
	if days := int(grace / (24 * time.Hour)); days > 0 {
		all[DeactivatedRule] = datamap.Period{Days: days}
	}
	return NewPeriods(m, all)
}

// ParseOverrides reads an operator's rule=period pairs, such as
// "analytics-25m=P13M,audit-5y=P6Y". Only rules that run a period from a
// column can be given one; the grace period of deactivated accounts has a
// setting of its own.
func ParseOverrides(m datamap.Map, text string) (map[string]datamap.Period, error) {
	out := map[string]datamap.Period{}
	for _, part := range strings.Split(text, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, value, ok := strings.Cut(part, "=")
		id = strings.TrimSpace(id)
		if !ok || id == "" {
			return nil, fmt.Errorf("%q is not rule=period, such as analytics-25m=P13M", part)
		}
		r, known := m.Rule(id)
		switch {
		case !known:
			return nil, fmt.Errorf("there is no retention rule %q", id)
		case id == DeactivatedRule:
			return nil, fmt.Errorf("the grace period of deactivated accounts is set by SESSIONS_REACTIVATION_GRACE_DAYS")
		case r.Anchor == "":
			return nil, fmt.Errorf("retention rule %q ends with an event, not after a period", id)
		}
		if _, dup := out[id]; dup {
			return nil, fmt.Errorf("retention rule %q is given twice", id)
		}
		p, err := datamap.ParsePeriod(strings.TrimSpace(value))
		if err != nil {
			return nil, fmt.Errorf("retention rule %q: %v", id, err)
		}
		out[id] = p
	}
	return out, nil
}

// RetiredAuthPurgeArgs and RetiredAnalyticsPurgeArgs are the periodic
// purges this engine replaced. An instance upgraded from a version that
// scheduled them may still hold queued ones, which without a worker
// would fail at every try until the job engine gave up on them. Their
// workers do nothing, so each completes at its next try, and nothing
// schedules them again.
//
// Deleting them in a migration would be tidier, but the job engine's
// tables are created after the product's migrations run, so on a fresh
// install a migration that touched them would fail.
type (
	RetiredAuthPurgeArgs      struct{}
	RetiredAnalyticsPurgeArgs struct{}
)

// Kind names the retired job as it was queued.
func (RetiredAuthPurgeArgs) Kind() string { return "account.purge" }

// Kind names the retired job as it was queued.
func (RetiredAnalyticsPurgeArgs) Kind() string { return "analytics.purge" }
