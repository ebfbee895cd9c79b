package meeting

import (
	"slices"
	"strconv"
	"strings"
	"time"
	// The zone database is built in, so that time zones work on hosts
	// without one, such as minimal containers.
	_ "time/tzdata"

	"github.com/teambition/rrule-go"

	"github.com/sessionshq/sessions/internal/errs"
)

// Schedule is when a meeting takes place: the first occurrence, the time
// zone it was scheduled in, how long each occurrence lasts and, for a
// series, its recurrence rule and the occurrences removed from it.
//
// A series recurs in its time zone's wall time: a weekly meeting at 09:00
// in Europe/Berlin stays at 09:00 there when daylight saving begins, and
// so moves by an hour in UTC.
type Schedule struct {
	StartsAt        time.Time // UTC instant of the first occurrence
	TimeZone        string    // IANA name
	DurationMinutes int
	// RRule is the RFC 5545 RRULE value without "RRULE:", normalised
	// (UNTIL in UTC); "" for a single meeting.
	RRule   string
	ExDates []time.Time // UTC, sorted
}

// Limits on recurrence: they keep every series finite enough to list and
// to check, and its invitations meaningful.
const (
	MaxCount       = 1000
	MaxSeriesYears = 5
	MaxExDates     = 500
	// MaxListed bounds how many occurrences one call lists.
	MaxListed = 1000
)

// startLayouts are the local forms a start may take, besides RFC 3339;
// the first is what a browser's datetime-local input sends.
var startLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"}

// LoadZone returns the IANA time zone named tz; "Local" and "" are not
// zones a meeting can be in.
func LoadZone(tz string) (*time.Location, bool) {
	tz = strings.TrimSpace(tz)
	if tz == "" || tz == "Local" || len(tz) > 64 {
		return nil, false
	}
	loc, err := time.LoadLocation(tz)
	return loc, err == nil
}

// ParseTime reads s as an RFC 3339 instant or as a local date and time in
// loc, to the minute.
func ParseTime(s string, loc *time.Location) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC().Truncate(time.Minute), true
	}
	for _, layout := range startLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UTC().Truncate(time.Minute), true
		}
	}
	return time.Time{}, false
}

// ParseSchedule checks a schedule as a person gives it and returns it
// normalised, or an Invalid error with the fields at fault: start,
// time_zone, duration_minutes, rrule and exdates.
func ParseSchedule(start, tz string, minutes int, rr string, exdates []string) (Schedule, error) {
	v := errs.Validation{}
	s := Schedule{TimeZone: strings.TrimSpace(tz), DurationMinutes: minutes}
	loc, ok := LoadZone(tz)
	if !ok {
		v.Add("time_zone", "must be an IANA time zone such as Europe/Berlin")
		loc = time.UTC
	}
	if s.StartsAt, ok = ParseTime(start, loc); !ok {
		v.Add("start", "must be a date and time such as 2026-03-10T09:00")
	}
	if minutes < MinDurationMinutes || minutes > MaxDurationMinutes {
		v.Add("duration_minutes", "must be from 1 to 1440 minutes")
	}
	if err := v.Err(); err != nil {
		return Schedule{}, err
	}
	if strings.TrimSpace(rr) != "" {
		norm, msg := checkRRule(rr, s.StartsAt.In(loc))
		if msg != "" {
			v.Add("rrule", msg)
			return Schedule{}, v.Err()
		}
		s.RRule = norm
	}
	for _, raw := range exdates {
		if strings.TrimSpace(raw) == "" {
			continue
		}
		t, ok := ParseTime(raw, loc)
		if !ok {
			v.Add("exdates", "each must be a date and time such as 2026-03-17T09:00")
			break
		}
		if !s.IsOccurrence(t) {
			v.Add("exdates", "each must be an occurrence of the series")
			break
		}
		if !slices.ContainsFunc(s.ExDates, t.Equal) {
			s.ExDates = append(s.ExDates, t)
		}
	}
	if len(s.ExDates) > MaxExDates {
		v.Add("exdates", "at most 500 occurrences may be removed")
	}
	if err := v.Err(); err != nil {
		return Schedule{}, err
	}
	slices.SortFunc(s.ExDates, func(a, b time.Time) int { return a.Compare(b) })
	return s, nil
}

// checkRRule validates a recurrence rule for a series starting at start
// (in its zone) and returns it normalised, or a message for the person.
func checkRRule(raw string, start time.Time) (string, string) {
	const invalid = "must be an RRULE such as FREQ=WEEKLY;BYDAY=MO;COUNT=10"
	s := strings.ToUpper(strings.TrimSpace(raw))
	s = strings.TrimPrefix(s, "RRULE:")
	if s == "" || len(s) > 500 || strings.ContainsAny(s, "\r\n") {
		return "", invalid
	}
	opt, err := rrule.StrToROptionInLocation(s, time.UTC)
	if err != nil {
		return "", invalid
	}
	switch {
	case !opt.Dtstart.IsZero():
		return "", "must not hold DTSTART: the meeting's start is the series' start"
	case opt.Freq != rrule.DAILY && opt.Freq != rrule.WEEKLY && opt.Freq != rrule.MONTHLY:
		return "", "must repeat daily, weekly or monthly"
	case len(opt.Byhour) > 0 || len(opt.Byminute) > 0 || len(opt.Bysecond) > 0 || len(opt.Byeaster) > 0:
		return "", "must not set times of day: every occurrence starts at the meeting's time"
	case opt.Count != 0 && !opt.Until.IsZero():
		return "", "must not have both COUNT and UNTIL"
	case opt.Count < 0 || opt.Count > MaxCount:
		return "", "COUNT must be from 1 to 1000"
	case opt.Interval < 0 || opt.Interval > 366:
		return "", "INTERVAL must be from 1 to 366"
	case !opt.Until.IsZero() && opt.Until.Before(start):
		return "", "UNTIL must not be before the start"
	case !opt.Until.IsZero() && opt.Until.After(start.AddDate(MaxSeriesYears, 0, 0)):
		return "", "a series may last at most 5 years"
	}
	opt.Dtstart = start
	r, err := rrule.NewRRule(*opt)
	if err != nil {
		return "", invalid
	}
	if first := r.After(start, true); first.IsZero() {
		return "", "gives no occurrence"
	}
	opt.Dtstart = time.Time{}
	return opt.RRuleString(), ""
}

// Location is the meeting's time zone; UTC when the name is unknown,
// which a checked schedule never has.
func (s Schedule) Location() *time.Location {
	if loc, ok := LoadZone(s.TimeZone); ok {
		return loc
	}
	return time.UTC
}

// Duration is how long each occurrence lasts.
func (s Schedule) Duration() time.Duration { return time.Duration(s.DurationMinutes) * time.Minute }

// Recurring reports whether the schedule is a series.
func (s Schedule) Recurring() bool { return s.RRule != "" }

// rule is the series' recurrence, starting at the first occurrence in the
// meeting's zone; nil for a single meeting.
func (s Schedule) rule() *rrule.RRule {
	if s.RRule == "" {
		return nil
	}
	opt, err := rrule.StrToROptionInLocation(s.RRule, time.UTC)
	if err != nil {
		return nil
	}
	opt.Dtstart = s.StartsAt.In(s.Location())
	r, err := rrule.NewRRule(*opt)
	if err != nil {
		return nil
	}
	return r
}

// bounded reports whether the series ends (COUNT or UNTIL).
func (s Schedule) bounded() bool {
	opt, err := rrule.StrToROptionInLocation(s.RRule, time.UTC)
	return err == nil && (opt.Count > 0 || !opt.Until.IsZero())
}

// IsOccurrence reports whether t is the start of an occurrence of the
// rule, whether or not it was removed.
func (s Schedule) IsOccurrence(t time.Time) bool {
	r := s.rule()
	if r == nil {
		return t.Equal(s.StartsAt)
	}
	return len(r.Between(t, t, true)) > 0
}

// Occurrences lists the starts (UTC) of the occurrences that overlap
// [from, to), removed ones left out, at most MaxListed of them.
func (s Schedule) Occurrences(from, to time.Time) []time.Time {
	d := s.Duration()
	r := s.rule()
	var starts []time.Time
	if r == nil {
		starts = []time.Time{s.StartsAt}
	} else {
		starts = r.Between(from.Add(-d), to, true)
	}
	out := []time.Time{}
	for _, t := range starts {
		t = t.UTC()
		if !t.Add(d).After(from) || !t.Before(to) || slices.ContainsFunc(s.ExDates, t.Equal) {
			continue
		}
		out = append(out, t)
		if len(out) == MaxListed {
			break
		}
	}
	return out
}

// Next returns the start of the first occurrence that has not ended at
// now, and false when there is none left.
func (s Schedule) Next(now time.Time) (time.Time, bool) {
	d := s.Duration()
	r := s.rule()
	if r == nil {
		return s.StartsAt, s.StartsAt.Add(d).After(now)
	}
	next := r.Iterator()
	for {
		t, ok := next()
		if !ok {
			return time.Time{}, false
		}
		t = t.UTC()
		if t.Add(d).After(now) && !slices.ContainsFunc(s.ExDates, t.Equal) {
			return t, true
		}
		if t.After(now.AddDate(MaxSeriesYears+1, 0, 0)) {
			return time.Time{}, false
		}
	}
}

// LastEnd returns when the last occurrence ends, and false for a series
// without end.
func (s Schedule) LastEnd() (time.Time, bool) {
	r := s.rule()
	if r == nil {
		return s.StartsAt.Add(s.Duration()), true
	}
	if !s.bounded() {
		return time.Time{}, false
	}
	all := r.All()
	for i := len(all) - 1; i >= 0; i-- {
		t := all[i].UTC()
		if !slices.ContainsFunc(s.ExDates, t.Equal) {
			return t.Add(s.Duration()), true
		}
	}
	return s.StartsAt.Add(s.Duration()), true
}

// InviteExpiry is when personal invitation links stop working: 30 days
// after the last occurrence ends, or, for a series without end, 30 days
// after the first anniversary of its start.
func (s Schedule) InviteExpiry() time.Time {
	end, ok := s.LastEnd()
	if !ok {
		end = s.StartsAt.AddDate(1, 0, 0)
	}
	return end.Add(InviteGrace).UTC()
}

// Describe says in words when the meeting takes place, in its zone, for
// pages and e-mail.
func (s Schedule) Describe() string {
	out := s.DescribeFirst()
	if s.RRule != "" {
		out += "; " + lowerFirst(s.Sentence())
	}
	return out
}

// DescribeFirst says when the first occurrence is, in the meeting's
// zone, and how long it lasts.
func (s Schedule) DescribeFirst() string {
	return s.StartsAt.In(s.Location()).Format("Monday 2 January 2006, 15:04") + " (" + s.TimeZone + "), " + minutes(s.DurationMinutes)
}

// Sentence says how the series repeats, in the meeting's zone ("Every
// Tuesday and Thursday, 8 times"); "" for a single meeting.
func (s Schedule) Sentence() string {
	return RuleSentence(s.RRule, s.StartsAt.In(s.Location()))
}

// SkipDates are the removed occurrences as dates in the meeting's zone,
// the form a date input gives them back in.
func (s Schedule) SkipDates() []string {
	loc := s.Location()
	out := make([]string, 0, len(s.ExDates))
	for _, t := range s.ExDates {
		out = append(out, t.In(loc).Format("2006-01-02"))
	}
	return out
}

// OccurrenceOn is the start of the occurrence on the date day
// (2006-01-02) in the meeting's zone, at the series' time of day, in the
// local form ParseTime reads; "" when day is not a date.
func OccurrenceOn(day string, start time.Time) string {
	d, err := time.Parse("2006-01-02", strings.TrimSpace(day))
	if err != nil {
		return ""
	}
	return d.Format("2006-01-02") + "T" + start.Format("15:04")
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func minutes(n int) string {
	if n == 1 {
		return "1 minute"
	}
	return strconv.Itoa(n) + " minutes"
}
