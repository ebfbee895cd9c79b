package meeting

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/platform/mail"
)

// Invitation is what an invitation e-mail is made from.
type Invitation struct {
	// Meeting is the meeting; its host is the organiser the message names,
	// so the message is linked to them too (mail.Message.AboutID).
	Meeting Meeting
	// Organiser is the host; its address goes into the calendar object.
	Organiser CalendarPerson
	// To is the participant the message is for.
	To CalendarPerson
	// PersonID is the participant's account id, "" for a guest.
	PersonID string
	// Link is the participant's personal link (BaseURL + "/j/" + token).
	Link string
	// PageURL is the meeting's page, for members; "" for guests.
	PageURL string
	Domain  string
	Now     time.Time
}

// InvitationMail is the e-mail that invites a participant, or tells them
// of a change when update is true, with the meeting as an iCalendar
// REQUEST attached so that calendar programs add or update it.
func InvitationMail(in Invitation, update bool) mail.Message {
	m := in.Meeting
	host := in.Organiser.Name
	if host == "" {
		host = "The host"
	}
	subject := "Invitation: " + oneLine(m.Title)
	lead := fmt.Sprintf("%s invited you to a meeting on Sessions.", host)
	template := "meeting.invitation"
	if update {
		subject = "Updated: " + oneLine(m.Title)
		lead = "A meeting you are invited to has changed. The calendar entry attached replaces the one you had."
		template = "meeting.update"
	}
	title, description := oneLine(m.Title), strings.ReplaceAll(m.Description, "\r", "")
	var b strings.Builder
	fmt.Fprintf(&b, "Hello,\n\n%s\n\n%s\nWhen: %s\n", lead, title, m.DescribeFirst())
	if m.Recurring() {
		fmt.Fprintf(&b, "Repeats: %s\n", m.Sentence())
	}
	if description != "" {
		fmt.Fprintf(&b, "\n%s\n", description)
	}
	fmt.Fprintf(&b, "\nJoin with your personal link:\n%s\n\nThe link is yours alone; please do not pass it on.", in.Link)
	if in.PageURL != "" {
		fmt.Fprintf(&b, " When signed in you can also join from the meeting's page:\n%s", in.PageURL)
	}
	b.WriteString("\n\nThe attached calendar file adds the meeting to your calendar.\n\nSessions\n")
	cal := Calendar(CalendarInput{Meeting: m, Method: Request, Organiser: in.Organiser, Attendee: in.To,
		URL: in.Link, Domain: in.Domain, Now: in.Now})
	return mail.Message{
		PersonID: in.PersonID,
		AboutID:  in.Meeting.HostID,
		Category: mail.Transactional,
		Template: template,
		To:       in.To.Email,
		Subject:  subject,
		Text:     b.String(),
		Attachments: []mail.Attachment{{
			Filename: "invite.ics", ContentType: "text/calendar; charset=utf-8; method=REQUEST", Data: cal,
		}},
		// The personal link lets its holder into the meeting; the title
		// and the description are the meeting's content, which staff
		// never read.
		Secrets: []string{in.Link},
		Private: []string{title, description},
	}
}

// CancellationMail tells a participant that the meeting was cancelled,
// with an iCalendar CANCEL that removes it from their calendar.
func CancellationMail(in Invitation) mail.Message {
	m := in.Meeting
	text := fmt.Sprintf("Hello,\n\nThe meeting \"%s\" (%s) was cancelled. The attached calendar file removes it from your calendar, and your link to it no longer lets you in.\n\nSessions\n",
		oneLine(m.Title), m.Describe())
	cal := Calendar(CalendarInput{Meeting: m, Method: Cancel, Organiser: in.Organiser, Attendee: in.To,
		Domain: in.Domain, Now: in.Now})
	return mail.Message{
		PersonID: in.PersonID,
		AboutID:  in.Meeting.HostID,
		Category: mail.Transactional,
		Template: "meeting.cancel",
		To:       in.To.Email,
		Subject:  "Cancelled: " + oneLine(m.Title),
		Text:     text,
		Attachments: []mail.Attachment{{
			Filename: "cancel.ics", ContentType: "text/calendar; charset=utf-8; method=CANCEL", Data: cal,
		}},
		Private: []string{oneLine(m.Title)},
	}
}

// Links makes the addresses mailed to participants.
type Links struct {
	// BaseURL is the server's public address, without a trailing slash.
	BaseURL string
	// Domain is its host name, which makes iCalendar UIDs unique.
	Domain string
}

// LinksFor makes the links of the server at baseURL, its public address;
// iCalendar UIDs fall back to "localhost" when it names no host.
func LinksFor(baseURL string) Links {
	base := strings.TrimSuffix(baseURL, "/")
	domain := "localhost"
	if u, err := url.Parse(base); err == nil && u.Hostname() != "" {
		domain = u.Hostname()
	}
	return Links{BaseURL: base, Domain: domain}
}

// Personal is a participant's personal link for the token.
func (l Links) Personal(token string) string { return l.BaseURL + "/j/" + token }

// Page is the meeting's page, for members.
func (l Links) Page(meetingID string) string { return l.BaseURL + "/meetings/" + meetingID }
