package meeting

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/teambition/rrule-go"

	"github.com/sessionshq/sessions/internal/errs"
)

// How a series repeats, as the scheduling form's recurrence picker gives
// it. People choose from these; the RRULE is made from them on the
// server, so nobody has to write one.
const (
	RepeatNever    = ""
	RepeatDaily    = "daily"
	RepeatWeekdays = "weekdays"
	RepeatWeekly   = "weekly"
	RepeatMonthly  = "monthly"
	// RepeatCustom keeps a rule the picker cannot show (one set through
	// the API) as it is, in the form's hidden rrule field.
	RepeatCustom = "custom"
)

// How a monthly series picks its day.
const (
	MonthlyByDate    = "date"    // the same day of the month as the start
	MonthlyByWeekday = "weekday" // the same weekday of the same week, such as the second Tuesday
)

// How a series ends.
const (
	EndsNever = "never"
	EndsAfter = "count" // after a number of occurrences
	EndsOn    = "until" // on a date, which is included
)

// Repeat is a recurrence as the picker gives it, before checking.
type Repeat struct {
	Freq     string // RepeatNever, RepeatDaily, ...
	Interval int    // every Interval days, weeks or months; 0 means 1
	// Days are the weekdays of a weekly series; none means the start's.
	Days    []time.Weekday
	Monthly string // MonthlyByDate (the default) or MonthlyByWeekday
	Ends    string // EndsNever (the default), EndsAfter or EndsOn
	Count   int
	Until   string // a date, 2006-01-02, in the meeting's zone
	// Rule is the rule kept as it is when Freq is RepeatCustom.
	Custom string
}

// weekdayCodes are the RRULE names of time.Weekday, Sunday first.
var weekdayCodes = [7]string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"}

// WeekdayCode is the RRULE name of d, such as "TU".
func WeekdayCode(d time.Weekday) string { return weekdayCodes[d%7] }

// ParseWeekday reads an RRULE weekday name such as "TU".
func ParseWeekday(code string) (time.Weekday, bool) {
	i := slices.Index(weekdayCodes[:], strings.ToUpper(strings.TrimSpace(code)))
	return time.Weekday(i), i >= 0
}

// Rule makes the RRULE value of the recurrence for a series whose first
// occurrence is start, in the meeting's zone: "" for a single meeting.
// A choice that does not make sense is an Invalid error naming the
// picker's field: repeat, repeat_interval, repeat_days, repeat_monthly,
// repeat_ends, repeat_count or repeat_until.
func (r Repeat) Rule(start time.Time) (string, error) {
	v := errs.Validation{}
	interval := r.Interval
	if interval == 0 {
		interval = 1
	}
	if interval < 1 || interval > 99 {
		v.Add("repeat_interval", "must be from 1 to 99")
	}
	var parts []string
	switch r.Freq {
	case RepeatNever:
		return "", nil
	case RepeatCustom:
		if strings.TrimSpace(r.Custom) == "" {
			v.Add("repeat", "must be one of the choices offered")
		}
		return strings.TrimSpace(r.Custom), v.Err()
	case RepeatDaily:
		parts = append(parts, "FREQ=DAILY")
	case RepeatWeekdays:
		parts = append(parts, "FREQ=WEEKLY", "BYDAY=MO,TU,WE,TH,FR")
		interval = 1
	case RepeatWeekly:
		days := slices.Clone(r.Days)
		if len(days) == 0 {
			days = []time.Weekday{start.Weekday()}
		}
		// Monday first, as people read a week.
		slices.SortFunc(days, func(a, b time.Weekday) int { return int((a+6)%7) - int((b+6)%7) })
		days = slices.Compact(days)
		codes := make([]string, 0, len(days))
		for _, d := range days {
			if d < time.Sunday || d > time.Saturday {
				v.Add("repeat_days", "must be days of the week")
				break
			}
			codes = append(codes, WeekdayCode(d))
		}
		parts = append(parts, "FREQ=WEEKLY", "BYDAY="+strings.Join(codes, ","))
	case RepeatMonthly:
		parts = append(parts, "FREQ=MONTHLY")
		switch r.Monthly {
		case "", MonthlyByDate:
			parts = append(parts, "BYMONTHDAY="+strconv.Itoa(start.Day()))
		case MonthlyByWeekday:
			parts = append(parts, "BYDAY="+strconv.Itoa(weekOfMonth(start))+WeekdayCode(start.Weekday()))
		default:
			v.Add("repeat_monthly", "must be by date or by weekday")
		}
	default:
		v.Add("repeat", "must be one of the choices offered")
		return "", v.Err()
	}
	if interval > 1 {
		parts = append(parts, "INTERVAL="+strconv.Itoa(interval))
	}
	switch r.Ends {
	case "", EndsNever:
	case EndsAfter:
		if r.Count < 1 || r.Count > MaxCount {
			v.Add("repeat_count", "must be from 1 to 1000 occurrences")
		}
		parts = append(parts, "COUNT="+strconv.Itoa(r.Count))
	case EndsOn:
		day, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(r.Until), start.Location())
		switch {
		case err != nil:
			v.Add("repeat_until", "must be a date such as 2026-06-30")
		case day.Before(startOfDay(start)):
			v.Add("repeat_until", "must not be before the first meeting")
		default:
			// The last day is included: the series may start on it.
			last := day.AddDate(0, 0, 1).Add(-time.Second)
			parts = append(parts, "UNTIL="+last.UTC().Format("20060102T150405Z"))
		}
	default:
		v.Add("repeat_ends", "must be never, after a number of times, or on a date")
	}
	if err := v.Err(); err != nil {
		return "", err
	}
	return strings.Join(parts, ";"), nil
}

// weekOfMonth is which week of its month t's weekday falls in, from 1,
// or -1 when it is the month's last such weekday and the fifth: "the
// last Friday" is what people mean then, and it exists every month.
func weekOfMonth(t time.Time) int {
	n := (t.Day()-1)/7 + 1
	if n == 5 {
		return -1
	}
	return n
}

func startOfDay(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}

// RepeatOf reads a normalised rule back into the picker's choices, for a
// form that edits it; a rule the picker cannot show comes back as
// RepeatCustom with the rule kept.
func RepeatOf(rule string, start time.Time) Repeat {
	if rule == "" {
		return Repeat{Freq: RepeatNever, Ends: EndsNever}
	}
	custom := Repeat{Freq: RepeatCustom, Custom: rule, Ends: EndsNever}
	opt, err := rrule.StrToROptionInLocation(rule, time.UTC)
	if err != nil || len(opt.Bysetpos)+len(opt.Bymonth)+len(opt.Byyearday)+len(opt.Byweekno) > 0 {
		return custom
	}
	r := Repeat{Interval: max(opt.Interval, 1), Ends: EndsNever}
	switch {
	case opt.Count > 0:
		r.Ends, r.Count = EndsAfter, opt.Count
	case !opt.Until.IsZero():
		r.Ends, r.Until = EndsOn, opt.Until.In(start.Location()).Format("2006-01-02")
	}
	days := make([]time.Weekday, 0, len(opt.Byweekday))
	for _, d := range opt.Byweekday {
		if d.N() != 0 && opt.Freq != rrule.MONTHLY {
			return custom
		}
		days = append(days, rruleDay(d))
	}
	switch opt.Freq {
	case rrule.DAILY:
		if len(days)+len(opt.Bymonthday) > 0 {
			return custom
		}
		r.Freq = RepeatDaily
	case rrule.WEEKLY:
		if len(opt.Bymonthday) > 0 {
			return custom
		}
		r.Freq, r.Days = RepeatWeekly, days
		if len(days) == 0 {
			r.Days = []time.Weekday{start.Weekday()}
		}
		if r.Interval == 1 && slices.Equal(r.Days, workweek) {
			r.Freq, r.Days = RepeatWeekdays, nil
		}
	case rrule.MONTHLY:
		r.Freq = RepeatMonthly
		switch {
		case len(days) == 0 && (len(opt.Bymonthday) == 0 || slices.Equal(opt.Bymonthday, []int{start.Day()})):
			r.Monthly = MonthlyByDate
		case len(opt.Bymonthday) == 0 && len(opt.Byweekday) == 1 && days[0] == start.Weekday() &&
			opt.Byweekday[0].N() == weekOfMonth(start):
			r.Monthly = MonthlyByWeekday
		default:
			return custom
		}
	default:
		return custom
	}
	return r
}

var workweek = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}

// rruleDay converts rrule-go's weekday, Monday 0, to time's, Sunday 0.
func rruleDay(d rrule.Weekday) time.Weekday { return time.Weekday((d.Day() + 1) % 7) }

// RuleSentence says in words how a series repeats, for pages, e-mail and
// calendar descriptions: "Every Tuesday and Thursday, 8 times". start is
// the first occurrence in the meeting's zone, which gives the days a rule
// leaves implicit and the zone of its end date. It is "" for a single
// meeting.
func RuleSentence(rule string, start time.Time) string {
	if rule == "" {
		return ""
	}
	opt, err := rrule.StrToROptionInLocation(rule, time.UTC)
	if err != nil {
		return "Repeats: " + rule
	}
	n := max(opt.Interval, 1)
	every := func(one, many string) string {
		if n == 1 {
			return "Every " + one
		}
		return "Every " + strconv.Itoa(n) + " " + many
	}
	days := make([]time.Weekday, 0, len(opt.Byweekday))
	for _, d := range opt.Byweekday {
		days = append(days, rruleDay(d))
	}
	var s string
	switch opt.Freq {
	case rrule.DAILY:
		s = every("day", "days")
	case rrule.WEEKLY:
		if len(days) == 0 {
			days = []time.Weekday{start.Weekday()}
		}
		slices.SortFunc(days, func(a, b time.Weekday) int { return int((a+6)%7) - int((b+6)%7) })
		switch {
		case slices.Equal(days, workweek) && n == 1:
			s = "Every weekday, Monday to Friday"
		case n == 1:
			s = "Every " + dayList(days)
		default:
			s = every("week", "weeks") + " on " + dayList(days)
		}
	case rrule.MONTHLY:
		s = every("month", "months") + " on "
		switch {
		case len(opt.Byweekday) > 0:
			var on []string
			for _, d := range opt.Byweekday {
				on = append(on, "the "+nth(d.N())+" "+rruleDay(d).String())
			}
			s += joinAnd(on)
		case len(opt.Bymonthday) > 0:
			var on []string
			for _, d := range opt.Bymonthday {
				on = append(on, "the "+ordinalDay(d))
			}
			s += joinAnd(on)
		default:
			s += "the " + ordinalDay(start.Day())
		}
	case rrule.YEARLY:
		s = every("year", "years")
	default:
		return "Repeats: " + rule
	}
	if len(opt.Bysetpos)+len(opt.Bymonth)+len(opt.Byyearday)+len(opt.Byweekno) > 0 {
		// Parts the picker never makes, set through the API: said as
		// they are rather than dropped.
		s += " (" + rule + ")"
	}
	switch {
	case opt.Count == 1:
		s += ", once"
	case opt.Count > 1:
		s += ", " + strconv.Itoa(opt.Count) + " times"
	case !opt.Until.IsZero():
		s += ", until " + opt.Until.In(start.Location()).Format("2 January 2006")
	}
	return s
}

func dayList(days []time.Weekday) string {
	names := make([]string, 0, len(days))
	for _, d := range days {
		names = append(names, d.String())
	}
	return joinAnd(names)
}

// joinAnd joins "a", "b", "c" as "a, b and c".
func joinAnd(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// nth names the week of a monthly weekday rule: 1 first, -1 last.
func nth(n int) string {
	switch n {
	case 0, 1:
		return "first"
	case 2:
		return "second"
	case 3:
		return "third"
	case 4:
		return "fourth"
	case 5:
		return "fifth"
	case -1:
		return "last"
	case -2:
		return "second-last"
	}
	return ordinal(n)
}

// ordinalDay names a day of the month: 10th, or "last day" for -1.
func ordinalDay(d int) string {
	if d == -1 {
		return "last day"
	}
	if d < 0 {
		return ordinal(-d) + " day from the end"
	}
	return ordinal(d)
}

func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return strconv.Itoa(n) + suffix
}
