package meeting_test

import (
	"slices"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/meeting"
)

// berlinStart is a Tuesday, the second of its month, 09:30 in Berlin.
func berlinStart(t *testing.T) time.Time {
	t.Helper()
	loc, ok := meeting.LoadZone("Europe/Berlin")
	if !ok {
		t.Fatal("no Europe/Berlin")
	}
	return time.Date(2026, 3, 10, 9, 30, 0, 0, loc)
}

func TestRepeatRuleFromPicker(t *testing.T) {
	start := berlinStart(t)
	for _, tc := range []struct {
		name     string
		in       meeting.Repeat
		rule     string
		sentence string
	}{
		{"never", meeting.Repeat{}, "", ""},
		{"daily", meeting.Repeat{Freq: meeting.RepeatDaily}, "FREQ=DAILY", "Every day"},
		{"every 3 days, 5 times", meeting.Repeat{Freq: meeting.RepeatDaily, Interval: 3, Ends: meeting.EndsAfter, Count: 5},
			"FREQ=DAILY;INTERVAL=3;COUNT=5", "Every 3 days, 5 times"},
		{"weekdays", meeting.Repeat{Freq: meeting.RepeatWeekdays, Interval: 4}, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
			"Every weekday, Monday to Friday"},
		{"weekly on the start's day", meeting.Repeat{Freq: meeting.RepeatWeekly}, "FREQ=WEEKLY;BYDAY=TU", "Every Tuesday"},
		{"Tuesday and Thursday, 8 times", meeting.Repeat{Freq: meeting.RepeatWeekly,
			Days: []time.Weekday{time.Thursday, time.Tuesday, time.Thursday}, Ends: meeting.EndsAfter, Count: 8},
			"FREQ=WEEKLY;BYDAY=TU,TH;COUNT=8", "Every Tuesday and Thursday, 8 times"},
		{"fortnightly on three days", meeting.Repeat{Freq: meeting.RepeatWeekly, Interval: 2,
			Days: []time.Weekday{time.Sunday, time.Monday, time.Wednesday}},
			"FREQ=WEEKLY;BYDAY=MO,WE,SU;INTERVAL=2", "Every 2 weeks on Monday, Wednesday and Sunday"},
		{"monthly by date until a day", meeting.Repeat{Freq: meeting.RepeatMonthly, Ends: meeting.EndsOn, Until: "2026-06-10"},
			// The last day is included: 23:59:59 in Berlin (summer time) is 21:59:59 UTC.
			"FREQ=MONTHLY;BYMONTHDAY=10;UNTIL=20260610T215959Z", "Every month on the 10th, until 10 June 2026"},
		{"monthly by weekday", meeting.Repeat{Freq: meeting.RepeatMonthly, Monthly: meeting.MonthlyByWeekday},
			"FREQ=MONTHLY;BYDAY=2TU", "Every month on the second Tuesday"},
		{"once", meeting.Repeat{Freq: meeting.RepeatDaily, Ends: meeting.EndsAfter, Count: 1}, "FREQ=DAILY;COUNT=1", "Every day, once"},
		{"custom kept", meeting.Repeat{Freq: meeting.RepeatCustom, Custom: "FREQ=MONTHLY;BYMONTH=3,9"}, "FREQ=MONTHLY;BYMONTH=3,9",
			"Every month on the 10th (FREQ=MONTHLY;BYMONTH=3,9)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rule, err := tc.in.Rule(start)
			if err != nil || rule != tc.rule {
				t.Fatalf("Rule = %q, %v; want %q", rule, err, tc.rule)
			}
			if got := meeting.RuleSentence(rule, start); got != tc.sentence {
				t.Errorf("sentence = %q, want %q", got, tc.sentence)
			}
			// The checked rule (as stored) says the same, and reads back
			// into the same choices.
			d, err := meeting.Check(meeting.Input{Title: "T", Start: "2026-03-10T09:30", TimeZone: "Europe/Berlin",
				DurationMinutes: 30, Repeat: &tc.in})
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if got := d.Sentence(); got != tc.sentence {
				t.Errorf("stored rule %q says %q, want %q", d.RRule, got, tc.sentence)
			}
			back, err := meeting.RepeatOf(d.RRule, start).Rule(start)
			if err != nil || back != rule {
				t.Errorf("read back as %+v, which gives %q (%v), want %q", meeting.RepeatOf(d.RRule, start), back, err, rule)
			}
		})
	}
}

func TestMonthlyByWeekdayInTheFifthWeekIsTheLast(t *testing.T) {
	start := time.Date(2026, 3, 31, 9, 0, 0, 0, time.UTC) // the last Tuesday of March
	rule, err := meeting.Repeat{Freq: meeting.RepeatMonthly, Monthly: meeting.MonthlyByWeekday}.Rule(start)
	if err != nil || rule != "FREQ=MONTHLY;BYDAY=-1TU" {
		t.Fatalf("rule %q, %v", rule, err)
	}
	if got := meeting.RuleSentence(rule, start); got != "Every month on the last Tuesday" {
		t.Fatalf("sentence %q", got)
	}
}

func TestRepeatRuleRefusesNonsenseNamingTheField(t *testing.T) {
	start := berlinStart(t)
	for field, in := range map[string]meeting.Repeat{
		"repeat":          {Freq: "hourly"},
		"repeat_interval": {Freq: meeting.RepeatDaily, Interval: 500},
		"repeat_days":     {Freq: meeting.RepeatWeekly, Days: []time.Weekday{9}},
		"repeat_monthly":  {Freq: meeting.RepeatMonthly, Monthly: "sometimes"},
		"repeat_ends":     {Freq: meeting.RepeatDaily, Ends: "whenever"},
		"repeat_count":    {Freq: meeting.RepeatDaily, Ends: meeting.EndsAfter, Count: 0},
		"repeat_until":    {Freq: meeting.RepeatDaily, Ends: meeting.EndsOn, Until: "next spring"},
	} {
		_, err := in.Rule(start)
		if e, ok := errs.As(err); !ok || e.Code != errs.Invalid || e.Fields[field] == "" {
			t.Errorf("%s: %v, want Invalid naming the field", field, err)
		}
	}
	_, err := meeting.Repeat{Freq: meeting.RepeatDaily, Ends: meeting.EndsOn, Until: "2026-03-09"}.Rule(start)
	if e, ok := errs.As(err); !ok || e.Fields["repeat_until"] == "" {
		t.Errorf("an end before the start: %v", err)
	}
}

func TestSkipDatesBecomeOccurrencesAtTheSeriesTime(t *testing.T) {
	in := meeting.Input{Title: "T", Start: "2026-03-10T09:30", TimeZone: "Europe/Berlin", DurationMinutes: 30,
		Repeat: &meeting.Repeat{Freq: meeting.RepeatWeekly}, SkipDates: []string{"2026-03-31", ""}}
	d, err := meeting.Check(in)
	if err != nil {
		t.Fatal(err)
	}
	// 31 March is after the change to summer time: 09:30 in Berlin is 07:30 UTC.
	if want := []time.Time{time.Date(2026, 3, 31, 7, 30, 0, 0, time.UTC)}; !slices.EqualFunc(d.ExDates, want, time.Time.Equal) {
		t.Fatalf("ExDates = %v, want %v", d.ExDates, want)
	}
	if got := d.SkipDates(); !slices.Equal(got, []string{"2026-03-31"}) {
		t.Fatalf("SkipDates = %v", got)
	}
	in.SkipDates = []string{"2026-04-01"} // a Wednesday: no meeting that day
	if _, err := meeting.Check(in); !hasField(err, "exdates") {
		t.Fatalf("a date without an occurrence: %v", err)
	}
	in.SkipDates = []string{"1 April"}
	if _, err := meeting.Check(in); !hasField(err, "exdates") {
		t.Fatalf("a date that is not one: %v", err)
	}
}

func hasField(err error, field string) bool {
	e, ok := errs.As(err)
	return ok && e.Code == errs.Invalid && e.Fields[field] != ""
}
