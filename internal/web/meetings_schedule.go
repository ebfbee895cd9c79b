package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/service/meetings"
)

// The scheduling form: date and time pickers, a searchable time zone, the
// recurrence picker and skipped dates. The RRULE is made on the server
// from the picker's fields (meeting.Repeat), so the form works without
// JavaScript; static/schedule.js only hides the choices that do not apply
// and fills in the browser's time zone.

// viewerZoneCookie names the cookie in which a browser may tell its time
// zone, for a member who has not saved one.
const viewerZoneCookie = "tz"

// viewerZone is the zone the member reading a page lives in: the one saved
// on their profile (the dashboard takes it from the browser the first
// time), else the browser's tz cookie; false when neither names a known
// zone. Handlers behind s.member only.
func (s *Server) viewerZone(r *http.Request) (*time.Location, bool, error) {
	loc, known, err := s.Services.Accounts.TimeZone(r.Context(), mustPrincipal(r).AccountID)
	if err != nil || known {
		return loc, known, err
	}
	c, err := r.Cookie(viewerZoneCookie)
	if err != nil {
		return nil, false, nil
	}
	loc, known = meeting.LoadZone(c.Value)
	return loc, known, nil
}

type dayChoice struct {
	Code, Name string
	Checked    bool
}

type colleagueChoice struct {
	meetings.Colleague
	Checked bool
}

// scheduleForm is the meeting form's values and messages, with the
// fields that take several values.
type scheduleForm struct {
	*meetingForm
	Days  []dayChoice
	Skips []string
	// Custom says a rule the picker cannot show, kept as it is.
	Custom string
	// Recurring shows the skipped dates, which only a series has.
	Recurring  bool
	Zones      []string
	Colleagues []colleagueChoice
}

// scheduleFields are the single-valued fields of the meeting form.
var scheduleFields = []string{"title", "description", "start_date", "start_time", "time_zone", "duration_minutes",
	"repeat", "repeat_interval", "repeat_monthly", "repeat_ends", "repeat_count", "repeat_until", "rrule",
	"passcode", "lobby", "org_id", "follows_id", "invite"}

// weekOrder is the week as the picker lists it, Monday first.
var weekOrder = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

func newScheduleForm(f *meetingForm, days []time.Weekday, skips []string) *scheduleForm {
	sf := &scheduleForm{meetingForm: f, Skips: skips, Zones: meeting.ZoneNames()}
	for _, d := range weekOrder {
		sf.Days = append(sf.Days, dayChoice{Code: meeting.WeekdayCode(d), Name: d.String(), Checked: slices.Contains(days, d)})
	}
	if f.Values["repeat"] == meeting.RepeatCustom {
		if loc, ok := meeting.LoadZone(f.Values["time_zone"]); ok {
			if start, ok := meeting.ParseTime(f.Values["start_date"]+"T"+f.Values["start_time"], loc); ok {
				sf.Custom = meeting.RuleSentence(f.Values["rrule"], start.In(loc))
			}
		}
		if sf.Custom == "" {
			sf.Custom = "As set"
		}
	}
	sf.Recurring = f.Values["repeat"] != "" || len(skips) > 0
	return sf
}

// scheduleFormOf is the form that edits m.
func scheduleFormOf(m meeting.Meeting) *scheduleForm {
	loc := m.Location()
	start := m.StartsAt.In(loc)
	rep := meeting.RepeatOf(m.RRule, start)
	f := newMeetingForm()
	f.Values = map[string]string{
		"title": m.Title, "description": m.Description, "start_date": start.Format("2006-01-02"), "start_time": start.Format("15:04"),
		"time_zone": m.TimeZone, "duration_minutes": strconv.Itoa(m.DurationMinutes), "repeat": rep.Freq,
		"repeat_interval": strconv.Itoa(max(rep.Interval, 1)), "repeat_monthly": rep.Monthly, "repeat_ends": rep.Ends,
		"repeat_until": rep.Until, "rrule": rep.Custom, "follows_id": m.FollowsID,
	}
	if rep.Count > 0 {
		f.Values["repeat_count"] = strconv.Itoa(rep.Count)
	}
	if m.Lobby {
		f.Values["lobby"] = "on"
	}
	return newScheduleForm(f, rep.Days, m.SkipDates())
}

// scheduleFormFrom is the form as it was sent, with the refusal's
// messages.
func scheduleFormFrom(r *http.Request, err error) *scheduleForm {
	f := orgFormFrom(r, err, scheduleFields...)
	var days []time.Weekday
	for _, code := range r.PostForm["repeat_days"] {
		if d, ok := meeting.ParseWeekday(code); ok {
			days = append(days, d)
		}
	}
	var skips []string
	for _, s := range r.PostForm["skip_dates"] {
		if strings.TrimSpace(s) != "" {
			skips = append(skips, s)
		}
	}
	// The passcode is never sent back into the page.
	delete(f.Values, "passcode")
	return newScheduleForm(f, days, skips)
}

// meetingInputFromForm reads the meeting form into in. The passcode
// field is left alone when empty unless "remove_passcode" is ticked.
func meetingInputFromForm(r *http.Request, in meeting.Input) meeting.Input {
	f := r.PostForm
	in.Title, in.Description, in.TimeZone = f.Get("title"), f.Get("description"), f.Get("time_zone")
	in.Start = f.Get("start")
	if f.Has("start_date") {
		in.Start = strings.TrimSpace(f.Get("start_date")) + "T" + strings.TrimSpace(f.Get("start_time"))
	}
	in.DurationMinutes, _ = strconv.Atoi(strings.TrimSpace(f.Get("duration_minutes")))
	in.FollowsID = f.Get("follows_id")
	if f.Has("repeat") {
		in.Repeat = repeatFromForm(r)
		in.RRule, in.ExDates, in.SkipDates = "", nil, f["skip_dates"]
	} else {
		// A form without the picker, as older pages sent it.
		in.RRule = f.Get("rrule")
		in.ExDates = strings.FieldsFunc(f.Get("exdates"), func(r rune) bool { return r == ',' || r == '\n' || r == '\r' })
	}
	in.Lobby = f.Get("lobby") != ""
	in.Passcode = nil
	if pc := f.Get("passcode"); pc != "" {
		in.Passcode = &pc
	} else if f.Get("remove_passcode") != "" {
		empty := ""
		in.Passcode = &empty
	}
	return in
}

// repeatFromForm reads the recurrence picker. A number or a day that
// cannot be read is passed on as one out of range, so that the check
// names its field.
func repeatFromForm(r *http.Request) *meeting.Repeat {
	f := r.PostForm
	num := func(name string) int {
		s := strings.TrimSpace(f.Get(name))
		if s == "" {
			return 0
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return -1
		}
		return n
	}
	rep := &meeting.Repeat{Freq: f.Get("repeat"), Interval: num("repeat_interval"), Monthly: f.Get("repeat_monthly"),
		Ends: f.Get("repeat_ends"), Count: num("repeat_count"), Until: f.Get("repeat_until"), Custom: f.Get("rrule")}
	for _, code := range f["repeat_days"] {
		d, ok := meeting.ParseWeekday(code)
		if !ok {
			d = -1
		}
		rep.Days = append(rep.Days, d)
	}
	return rep
}

// invitedFromForm is who the new-meeting form invites: the addresses
// typed, one a line or separated by commas, and the colleagues ticked.
func invitedFromForm(r *http.Request) []string {
	out := strings.FieldsFunc(r.PostForm.Get("invite"), func(r rune) bool { return r == ',' || r == ';' || r == '\n' || r == '\r' })
	return append(out, r.PostForm["invite_member"]...)
}

// meetingTimes is when a meeting's next (or first) occurrence is, said
// for the person reading the page: in their own zone when the browser
// told it, else in the meeting's.
type meetingTimes struct {
	// When is the date and time span, such as "Tuesday 10 March 2026,
	// 10:00–11:00".
	When string
	// Zone labels When's zone: "your time, Europe/Berlin" or "Europe/Berlin".
	Zone string
	// Elsewhere is the start in the meeting's own zone when the reader's
	// differs: "16:00 in America/New_York".
	Elsewhere string
	// Repeats is the series' sentence, "" for a single meeting.
	Repeats string
	// Upcoming is false once the last occurrence is over.
	Upcoming bool
}

// timesFor says when m takes place, in mine when ok: the reader's zone.
func timesFor(m meeting.Meeting, now time.Time, mine *time.Location, ok bool) meetingTimes {
	at, upcoming := m.Next(now)
	if !upcoming || m.State == meeting.Cancelled {
		at = m.StartsAt
	}
	loc, zone := m.Location(), m.TimeZone
	if ok {
		loc, zone = mine, "your time, "+mine.String()
	}
	start, end := at.In(loc), at.Add(m.Duration()).In(loc)
	t := meetingTimes{Zone: zone, Repeats: m.Sentence(), Upcoming: upcoming && m.State == meeting.Scheduled}
	t.When = start.Format("Monday 2 January 2006, 15:04") + "–" + end.Format("15:04")
	if start.YearDay() != end.YearDay() {
		t.When = start.Format("Monday 2 January 2006, 15:04") + " – " + end.Format("Monday 2 January, 15:04")
	}
	if ok && mine.String() != m.TimeZone {
		other := at.In(m.Location())
		t.Elsewhere = other.Format("15:04") + " in " + m.TimeZone
		if other.YearDay() != start.YearDay() {
			t.Elsewhere = other.Format("Monday 15:04") + " in " + m.TimeZone
		}
		if t.Repeats != "" {
			t.Repeats += " (" + m.TimeZone + " time)"
		}
	}
	return t
}

// fieldOf reports whether err is an Invalid error naming one of fields.
func fieldOf(err error, fields ...string) bool {
	e, ok := errs.As(err)
	if !ok {
		return false
	}
	for _, f := range fields {
		if e.Fields[f] != "" {
			return true
		}
	}
	return false
}
