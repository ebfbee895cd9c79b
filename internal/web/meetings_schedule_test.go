package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// pickerForm is the new-meeting form as a browser sends it: a weekly
// series chosen with the recurrence picker, no RRULE typed.
func pickerForm(extra url.Values) url.Values {
	v := url.Values{
		"title": {"Stand-up"}, "start_date": {"2026-03-10"}, "start_time": {"09:00"}, "time_zone": {"Europe/Berlin"},
		"duration_minutes": {"45"}, "repeat": {"weekly"}, "repeat_interval": {"1"}, "repeat_days": {"TU", "TH"},
		"repeat_monthly": {"date"}, "repeat_ends": {"count"}, "repeat_count": {"8"}, "lobby": {"on"},
	}
	for k, vals := range extra {
		v[k] = vals
	}
	return v
}

// meetingFromRedirect reads the new meeting's id from the answer to the
// form.
func meetingFromRedirect(t *testing.T, res *response) string {
	t.Helper()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d\n%.3000s", res.StatusCode, res.Body)
	}
	loc := res.Header.Get("Location")
	id, _, _ := strings.Cut(strings.TrimPrefix(loc, "/meetings/"), "?")
	if !strings.HasPrefix(id, "mtg_") {
		t.Fatalf("redirected to %q", loc)
	}
	return id
}

func TestMeetingPickerMakesTheRuleAndTheGuestReadsItInWords(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	host := h.newMember(t)
	b := h.signIn(t, host)
	id := meetingFromRedirect(t, b.postForm(t, "/meetings", pickerForm(url.Values{"invite": {"Guest@Example.org"}})))

	var m struct {
		RRule string `json:"rrule"`
	}
	h.apiClient(t, host).get(t, "/api/meetings/"+id).decode(t, &m)
	if m.RRule != "FREQ=WEEKLY;COUNT=8;BYDAY=TU,TH" && m.RRule != "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=8" {
		t.Fatalf("stored rule %q", m.RRule)
	}

	msg := h.nextMail(t)
	if msg.EnvelopeTo[0] != "guest@example.org" {
		t.Fatalf("mail to %v", msg.EnvelopeTo)
	}
	const sentence = "Every Tuesday and Thursday, 8 times"
	if !strings.Contains(msg.Text, "Repeats: "+sentence) || strings.Contains(msg.Text, "FREQ=") {
		t.Errorf("the invitation does not say the rule in words:\n%s", msg.Text)
	}
	ics := strings.ReplaceAll(calendarOf(t, msg), "\r\n ", "")
	if !strings.Contains(ics, `DESCRIPTION:Every Tuesday and Thursday\, 8 times (Europe/Berlin time).`) {
		t.Errorf("the calendar description lacks the sentence:\n%s", ics)
	}

	page := b.get(t, "/meetings/"+id)
	if !strings.Contains(page.text(), sentence) || strings.Contains(page.text(), "FREQ=") {
		t.Errorf("the page does not say the rule in words:\n%.3000s", page.Body)
	}
	// The edit form reads the rule back into the picker.
	for _, want := range []string{`value="weekly" selected`, `value="TU" checked`, `value="TH" checked`, `value="count" checked`, `name="repeat_count" type="number" min="1" max="1000" inputmode="numeric" value="8"`} {
		if !strings.Contains(page.text(), want) {
			t.Errorf("the edit form lacks %s", want)
		}
	}
	if list := b.get(t, "/meetings").text(); !strings.Contains(list, sentence) {
		t.Errorf("the list does not say the rule")
	}
}

func TestMeetingFormRefusesBadPickerInputNamingTheField(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.signIn(t, h.newMember(t))
	for name, tc := range map[string]struct {
		form url.Values
		want string
	}{
		"unknown frequency":       {pickerForm(url.Values{"repeat": {"hourly"}}), "Repeats: must be one of the choices offered"},
		"count not a number":      {pickerForm(url.Values{"repeat_count": {"many"}}), "The number of meetings must be from 1 to 1000"},
		"end date not a date":     {pickerForm(url.Values{"repeat_ends": {"until"}, "repeat_until": {"spring"}}), "The last day must be a date"},
		"unknown weekday":         {pickerForm(url.Values{"repeat_days": {"TU", "XX"}}), "The days must be days of the week"},
		"malformed hidden rule":   {pickerForm(url.Values{"repeat": {"custom"}, "rrule": {"FREQ=SOMETIMES"}}), "This way of repeating must be an RRULE"},
		"unknown time zone":       {pickerForm(url.Values{"time_zone": {"Europe/Atlantis"}}), "Time zone must be an IANA time zone"},
		"skipped date not in it":  {pickerForm(url.Values{"skip_dates": {"2026-03-11"}}), "Skipped dates: each must be an occurrence of the series"},
		"skipped date not a date": {pickerForm(url.Values{"skip_dates": {"11 March"}}), "Skipped dates: each must be a date"},
		"time missing":            {pickerForm(url.Values{"start_time": {""}}), "The date and time must be a date and time"},
		"guest address not one":   {pickerForm(url.Values{"invite": {"ana@example.org, not-an-address"}}), "Invite not-an-address:"},
	} {
		res := b.postForm(t, "/meetings", tc.form)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.text(), tc.want) {
			t.Errorf("%s: %d, want 422 saying %q\n%.200s", name, res.StatusCode, tc.want, extractErrors(res.text()))
		}
	}
	if n := h.count(t, `SELECT COUNT(*) FROM meetings`); n != 0 {
		t.Fatalf("%d meetings stored from bad input", n)
	}
	if n := h.deliverMail(t); n != 0 {
		t.Fatalf("%d messages sent for meetings never made", n)
	}
}

// extractErrors keeps the field errors of a page, for a failure message.
func extractErrors(page string) string {
	var out []string
	for _, part := range strings.Split(page, `class="field-error">`)[1:] {
		msg, _, _ := strings.Cut(part, "</p>")
		out = append(out, msg)
	}
	return strings.Join(out, " | ")
}

func TestMeetingPageShowsTimesInTheReadersZone(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.signIn(t, h.newMember(t))
	id := meetingFromRedirect(t, b.postForm(t, "/meetings", pickerForm(url.Values{"repeat": {""}})))
	if page := b.get(t, "/meetings/"+id).text(); !strings.Contains(page, "Tuesday 10 March 2026, 09:00–09:45") || !strings.Contains(page, "(Europe/Berlin)") {
		t.Fatalf("without a zone of their own, the meeting's:\n%.3000s", page)
	}
	b.cookies["tz"] = &http.Cookie{Name: "tz", Value: "America/New_York"}
	page := b.get(t, "/meetings/"+id).text()
	for _, want := range []string{"Tuesday 10 March 2026, 04:00–04:45", "your time, America/New_York", "09:00 in Europe/Berlin"} {
		if !strings.Contains(page, want) {
			t.Errorf("in the reader's zone, the page lacks %q", want)
		}
	}
	b.cookies["tz"] = &http.Cookie{Name: "tz", Value: "Mars/Olympus"}
	if page := b.get(t, "/meetings/"+id).text(); !strings.Contains(page, "09:00–09:45") {
		t.Errorf("an unknown zone in the cookie is not ignored")
	}
	// The new-meeting form starts in the reader's zone.
	b.cookies["tz"] = &http.Cookie{Name: "tz", Value: "Asia/Tokyo"}
	if form := b.get(t, "/meetings/new").text(); !strings.Contains(form, `name="time_zone" list="m-tz-list" value="Asia/Tokyo"`) ||
		!strings.Contains(form, `<option value="Pacific/Auckland">`) {
		t.Errorf("the form does not start in the reader's zone or offers no zones")
	}
}

func TestMeetingRemovalsAskFirst(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	host := h.newMember(t)
	b := h.signIn(t, host)
	id := meetingFromRedirect(t, b.postForm(t, "/meetings", pickerForm(url.Values{"invite": {"guest@example.org"}})))
	h.deliverMail(t)
	var ps struct {
		Participants []struct {
			ID   string `json:"id"`
			Role string `json:"role"`
		} `json:"participants"`
	}
	h.apiClient(t, host).get(t, "/api/meetings/"+id+"/participants").decode(t, &ps)
	guest := ""
	for _, p := range ps.Participants {
		if p.Role == "participant" {
			guest = p.ID
		}
	}
	path := "/meetings/" + id + "/participants/" + guest + "/remove"

	// A press that was not confirmed (no dialog without JavaScript) gets
	// a page that asks, and removes nobody.
	res := b.postForm(t, path, url.Values{})
	if res.StatusCode != http.StatusOK || !strings.Contains(res.text(), "Remove guest@example.org?") ||
		!strings.Contains(res.text(), `name="confirm" value="yes"`) || !strings.Contains(res.text(), `action="`+path+`"`) {
		t.Fatalf("unconfirmed: %d\n%.3000s", res.StatusCode, res.Body)
	}
	if n := h.count(t, `SELECT COUNT(*) FROM meeting_participants WHERE id = ?`, guest); n != 1 {
		t.Fatal("removed without being confirmed")
	}
	res = b.postForm(t, path, url.Values{"confirm": {"yes"}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasSuffix(res.Header.Get("Location"), "#people") {
		t.Fatalf("confirmed: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if n := h.count(t, `SELECT COUNT(*) FROM meeting_participants WHERE id = ?`, guest); n != 0 {
		t.Fatal("not removed once confirmed")
	}
	// Cancelling the meeting asks too.
	if res := b.postForm(t, "/meetings/"+id+"/cancel", nil); res.StatusCode != http.StatusOK || !strings.Contains(res.text(), "Cancel Stand-up?") {
		t.Fatalf("unconfirmed cancel: %d", res.StatusCode)
	}
	if n := h.count(t, `SELECT COUNT(*) FROM meetings WHERE state = 'cancelled'`); n != 0 {
		t.Fatal("cancelled without being confirmed")
	}
}

func TestMeetingAgendaItemsAreEditedInPlace(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	host := h.newMember(t)
	c := h.apiClient(t, host)
	id := createMeeting(t, c, nil)
	var item struct {
		ID string `json:"id"`
	}
	c.sendJSON(t, http.MethodPost, "/api/meetings/"+id+"/agenda", map[string]any{"title": "Roadmap", "planned_minutes": 10}).decode(t, &item)
	b := h.signIn(t, host)
	path := "/meetings/" + id + "/agenda/" + item.ID

	res := b.postForm(t, path, url.Values{"title": {"Roadmap for Q3"}, "planned_minutes": {"20"}, "notes": {"Bring numbers"}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasSuffix(res.Header.Get("Location"), "#agenda") {
		t.Fatalf("edit: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	page := b.get(t, "/meetings/"+id).text()
	if !strings.Contains(page, "Roadmap for Q3") || !strings.Contains(page, "Bring numbers") || !strings.Contains(page, "20 min") {
		t.Fatalf("the page does not show the edit:\n%.3000s", page)
	}
	res = b.postForm(t, path, url.Values{"title": {""}, "planned_minutes": {"20"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.text(), "Title must not be empty") {
		t.Fatalf("empty title: %d", res.StatusCode)
	}
	// The refused edit stays open on its item.
	if !strings.Contains(res.text(), `<details class="mtg-edit" open>`) {
		t.Error("the refused edit form is not open")
	}
}
