package web

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/meeting"
)

// The shell pages are the entrances to the product: the start page, which
// for a signed-in member is their meetings, and for anyone else says what
// the product is. The member area (account.go), the privacy centre and
// the staff console (staff.go) have their own handlers.

func (s *Server) homePage(w http.ResponseWriter, r *http.Request) error {
	if p, ok := s.currentPrincipal(r); ok && !p.Token {
		return s.dashboardPage(w, withPrincipal(r, p))
	}
	return s.pages.render(w, r, http.StatusOK, "home", view{
		Title:       "Meetings that keep their privacy promises",
		Description: "Self-hosted online meetings with agendas, resources and video calls, whose privacy notice is generated from the code that handles personal data.",
		Section:     "home",
	})
}

// Bounds of the dashboard's lists; the meetings page lists everything.
const (
	dashboardUpcoming = 8
	dashboardPast     = 5
	dashboardAgenda   = 4
)

// dashboardView is a member's start page.
type dashboardView struct {
	Zone      string // the time zone times are shown in
	ZoneKnown bool   // false: the page asks the browser for its zone
	Date      string // today, in Zone
	Today     []dashboardRow
	Upcoming  []dashboardRow
	Past      []dashboardRow
	// Started is the instant meeting just created, with its link to share.
	Started *dashboardStarted
}

// dashboardRow is one meeting on the dashboard: for today and upcoming,
// its next occurrence; for the past, its last.
type dashboardRow struct {
	ID, Title string
	Day       string // "Tue 10 Mar", in the viewer's zone
	Time      string // "10:00–11:00"
	Live      bool   // on now
	Recurring bool
	Cancelled bool
	Host      bool
	// Agenda is the start of a past meeting's agenda, with its notes.
	Agenda     []meeting.AgendaItem
	MoreAgenda int
}

type dashboardStarted struct {
	ID, Title, Link string
}

// dashboardPage shows the member's meetings: today's, the next ones and
// the last ones with their agenda notes, in the member's time zone.
func (s *Server) dashboardPage(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	ctx := r.Context()
	loc, known, err := s.Services.Accounts.TimeZone(ctx, p.AccountID)
	if err != nil {
		return err
	}
	list, err := s.Services.Meetings.List(ctx, p.AccountID)
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	local := now.In(loc)
	dayStart := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	dayEnd := dayStart.AddDate(0, 0, 1)
	v := dashboardView{Zone: loc.String(), ZoneKnown: known, Date: local.Format("Monday 2 January 2006")}

	type upcoming struct {
		row  dashboardRow
		next time.Time
	}
	var next []upcoming
	type past struct {
		row  dashboardRow
		last time.Time
	}
	var done []past
	for _, l := range list {
		row := dashboardRow{ID: l.ID, Title: l.Title, Recurring: l.Recurring(), Cancelled: l.State == meeting.Cancelled, Host: l.Access.IsHost()}
		d := l.Duration()
		span := func(start time.Time) {
			st := start.In(loc)
			row.Day = st.Format("Mon 2 Jan")
			row.Time = st.Format("15:04") + "–" + st.Add(d).In(loc).Format("15:04")
			row.Live = !start.After(now) && start.Add(d).After(now)
		}
		if row.Cancelled {
			span(l.StartsAt)
			done = append(done, past{row, l.StartsAt})
			continue
		}
		today := l.Occurrences(dayStart.UTC(), dayEnd.UTC())
		for _, start := range today {
			span(start)
			v.Today = append(v.Today, row)
		}
		if start, ok := l.Next(now); ok {
			if !start.Before(dayEnd) {
				span(start)
				next = append(next, upcoming{row, start})
			}
			continue
		}
		if len(today) == 0 {
			last := l.StartsAt
			if occ := l.Occurrences(now.AddDate(0, 0, -400), now); len(occ) > 0 {
				last = occ[len(occ)-1]
			}
			span(last)
			done = append(done, past{row, last})
		}
	}
	slices.SortFunc(v.Today, func(a, b dashboardRow) int { return strings.Compare(a.Time, b.Time) })
	slices.SortFunc(next, func(a, b upcoming) int { return a.next.Compare(b.next) })
	for i, u := range next {
		if i == dashboardUpcoming {
			break
		}
		v.Upcoming = append(v.Upcoming, u.row)
	}
	slices.SortFunc(done, func(a, b past) int { return b.last.Compare(a.last) })
	for i, d := range done {
		if i == dashboardPast {
			break
		}
		row := d.row
		if !row.Cancelled {
			items, err := s.Services.Meetings.Agenda(ctx, p.AccountID, row.ID)
			if err != nil {
				return err
			}
			if len(items) > dashboardAgenda {
				row.MoreAgenda = len(items) - dashboardAgenda
				items = items[:dashboardAgenda]
			}
			row.Agenda = items
		}
		v.Past = append(v.Past, row)
	}

	if id := r.URL.Query().Get("started"); id != "" {
		if m, _, err := s.Services.Meetings.Get(ctx, p.AccountID, id); err == nil {
			v.Started = &dashboardStarted{ID: m.ID, Title: m.Title, Link: meeting.LinksFor(s.Config.BaseURL).Page(m.ID)}
		}
	}
	return s.pages.render(w, r, http.StatusOK, "dashboard", view{Title: "My meetings", Section: "meetings", Member: p, Data: v})
}

// instantMeetingForm answers POST /meetings/instant: a meeting that starts
// now, in the member's zone, and the dashboard with its link to share.
func (s *Server) instantMeetingForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	p := mustPrincipal(r)
	loc, _, err := s.Services.Accounts.TimeZone(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	m, err := s.Services.Meetings.StartNow(r.Context(), p.AccountID, r.PostForm.Get("title"), loc)
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/?started="+m.ID+"#started", http.StatusSeeOther)
	return nil
}

// timeZoneForm answers POST /account/timezone: the member's time zone,
// chosen by them or reported by their browser's script, then back to
// the page it came from.
func (s *Server) timeZoneForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	if err := s.Services.Accounts.SetTimeZone(r.Context(), mustPrincipal(r).AccountID, r.PostForm.Get("time_zone")); err != nil {
		return err
	}
	http.Redirect(w, r, localPath(r.PostForm.Get("next"), "/"), http.StatusSeeOther)
	return nil
}
