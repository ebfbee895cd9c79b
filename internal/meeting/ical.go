package meeting

import (
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
)

// Method is the iTIP method of an iCalendar object (RFC 5546).
type Method string

const (
	// Request invites, or updates an invitation: a calendar program
	// replaces what it holds for the same UID when SEQUENCE is higher.
	Request Method = "REQUEST"
	// Cancel withdraws the meeting.
	Cancel Method = "CANCEL"
	// Publish is a plain copy of the meeting, for a download.
	Publish Method = "PUBLISH"
)

// CalendarPerson is someone named in an invitation.
type CalendarPerson struct {
	Name  string
	Email string
}

// CalendarInput is what an iCalendar object is made from.
type CalendarInput struct {
	Meeting Meeting
	Method  Method
	// Organiser is the host; without an address, the server's own sender
	// address stands in, since calendar programs require one.
	Organiser CalendarPerson
	// Attendee is the person the invitation is for; empty for a download.
	Attendee CalendarPerson
	// URL is where the person joins: their personal link, or the meeting's
	// page.
	URL string
	// Domain makes the UID globally unique: the server's host name.
	Domain string
	Now    time.Time
}

// UID is the meeting's iCalendar UID, the same in every invitation and
// update so that calendar programs recognise the meeting.
func UID(meetingID, domain string) string { return meetingID + "@" + domain }

// Calendar renders the meeting as an iCalendar object. A series is given
// in its own time zone, with a VTIMEZONE built from the zone database for
// the years it spans, so that recurrences keep their wall time across
// daylight saving; a single meeting is given in UTC.
func Calendar(in CalendarInput) []byte {
	m := in.Meeting
	cal := ics.NewCalendarFor("Sessions")
	cal.SetProductId("-//Sessions//Meetings//EN")
	cal.SetMethod(ics.Method(in.Method))
	cal.SetCalscale("GREGORIAN")

	loc := m.Location()
	if m.Recurring() {
		end, ok := m.LastEnd()
		if !ok {
			end = m.StartsAt.AddDate(MaxSeriesYears, 0, 0)
		}
		addZone(cal, loc, m.StartsAt, end)
	}
	ev := cal.AddEvent(UID(m.ID, in.Domain))
	ev.SetDtStampTime(in.Now)
	ev.SetCreatedTime(m.CreatedAt)
	ev.SetModifiedAt(m.UpdatedAt)
	ev.SetSequence(m.ICalSequence)
	if m.Recurring() {
		local := m.StartsAt.In(loc)
		ev.SetProperty(ics.ComponentPropertyDtStart, local.Format(localStamp), ics.WithTZID(loc.String()))
		ev.SetProperty(ics.ComponentPropertyDtEnd, local.Add(m.Duration()).Format(localStamp), ics.WithTZID(loc.String()))
		ev.AddRrule(m.RRule)
		for _, t := range m.ExDates {
			ev.AddExdate(t.In(loc).Format(localStamp), ics.WithTZID(loc.String()))
		}
	} else {
		ev.SetStartAt(m.StartsAt)
		ev.SetEndAt(m.StartsAt.Add(m.Duration()))
	}
	ev.SetSummary(oneLine(m.Title))
	desc := strings.ReplaceAll(m.Description, "\r", "")
	if m.Recurring() {
		// Calendar programs show the RRULE in their own words, if at
		// all; the description says it in ours, in the meeting's zone.
		repeats := m.Sentence() + " (" + m.TimeZone + " time)."
		if desc != "" {
			repeats += "\n\n" + desc
		}
		desc = repeats
	}
	if in.URL != "" {
		if desc != "" {
			desc += "\n\n"
		}
		desc += "Join: " + in.URL
		ev.SetURL(in.URL)
		ev.SetLocation(in.URL)
	}
	if desc != "" {
		ev.SetDescription(desc)
	}
	if in.Organiser.Email != "" {
		ev.SetOrganizer(in.Organiser.Email, ics.WithCN(oneLine(in.Organiser.Name)))
	}
	if in.Attendee.Email != "" {
		params := []ics.PropertyParameter{ics.WithRSVP(false), ics.ParticipationRoleReqParticipant}
		if in.Attendee.Name != "" {
			params = append(params, ics.WithCN(oneLine(in.Attendee.Name)))
		}
		ev.AddAttendee(in.Attendee.Email, params...)
	}
	if in.Method == Cancel || m.State == Cancelled {
		ev.SetStatus(ics.ObjectStatusCancelled)
	} else {
		ev.SetStatus(ics.ObjectStatusConfirmed)
	}
	// RFC 5545 lines end in CRLF.
	return []byte(cal.Serialize(ics.WithNewLine("\r\n")))
}

const localStamp = "20060102T150405"

// addZone adds a VTIMEZONE for loc with one observance for every offset
// in force between from and to, each starting at its transition. Listing
// the transitions one by one, rather than as rules, is what the zone
// database gives exactly, including changes of rule over the years.
func addZone(cal *ics.Calendar, loc *time.Location, from, to time.Time) {
	tz := cal.AddTimezone(loc.String())
	t := from.In(loc)
	for range 64 {
		name, offset := t.Zone()
		start, end := t.ZoneBounds()
		before := offset
		onset := "19700101T000000"
		if !start.IsZero() {
			_, before = start.Add(-time.Second).In(loc).Zone()
			// The onset is given in the local time in force before it.
			onset = start.In(time.FixedZone("", before)).Format(localStamp)
		}
		var obs *ics.ComponentBase
		if t.IsDST() {
			d := &ics.Daylight{}
			tz.Components = append(tz.Components, d)
			obs = &d.ComponentBase
		} else {
			s := tz.AddStandard()
			obs = &s.ComponentBase
		}
		obs.SetProperty(ics.ComponentPropertyDtStart, onset)
		obs.SetProperty(ics.ComponentProperty(ics.PropertyTzoffsetfrom), utcOffset(before))
		obs.SetProperty(ics.ComponentProperty(ics.PropertyTzoffsetto), utcOffset(offset))
		if name != "" && !strings.ContainsAny(name, "+-") {
			obs.SetProperty(ics.ComponentProperty(ics.PropertyTzname), name)
		}
		if end.IsZero() || end.After(to) {
			return
		}
		t = end.In(loc)
	}
}

// utcOffset formats seconds east of UTC as an iCalendar UTC-OFFSET.
func utcOffset(seconds int) string {
	sign := "+"
	if seconds < 0 {
		sign, seconds = "-", -seconds
	}
	h, m := seconds/3600, seconds%3600/60
	return sign + two(h) + two(m)
}

func two(n int) string { return string([]byte{byte('0' + n/10%10), byte('0' + n%10)}) }

// oneLine folds line breaks into spaces, for fields that are one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
