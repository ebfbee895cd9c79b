package meeting

import (
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/video"
)

func TestRolesMatchCallGrants(t *testing.T) {
	for _, c := range []struct {
		r Role
		v video.Role
	}{{Host, video.Host}, {CoHost, video.CoHost}, {RoleParticipant, video.Participant}} {
		if string(c.r) != string(c.v) {
			t.Errorf("role %q is %q in the video package", c.r, c.v)
		}
	}
}

func TestCheckRefusesBadSchedules(t *testing.T) {
	base := Input{Title: "Planning", Start: "2026-03-02T10:00", TimeZone: "Europe/Berlin", DurationMinutes: 30}
	cases := []struct {
		name  string
		edit  func(*Input)
		field string
	}{
		{"no title", func(in *Input) { in.Title = "  " }, "title"},
		{"unknown zone", func(in *Input) { in.TimeZone = "Mars/Olympus" }, "time_zone"},
		{"local zone", func(in *Input) { in.TimeZone = "Local" }, "time_zone"},
		{"bad start", func(in *Input) { in.Start = "next tuesday" }, "start"},
		{"zero duration", func(in *Input) { in.DurationMinutes = 0 }, "duration_minutes"},
		{"too long", func(in *Input) { in.DurationMinutes = 1441 }, "duration_minutes"},
		{"garbage rule", func(in *Input) { in.RRule = "EVERY TUESDAY" }, "rrule"},
		{"yearly", func(in *Input) { in.RRule = "FREQ=YEARLY" }, "rrule"},
		{"hourly", func(in *Input) { in.RRule = "FREQ=HOURLY" }, "rrule"},
		{"times of day", func(in *Input) { in.RRule = "FREQ=DAILY;BYHOUR=9" }, "rrule"},
		{"count and until", func(in *Input) { in.RRule = "FREQ=DAILY;COUNT=3;UNTIL=20260310T000000Z" }, "rrule"},
		{"huge count", func(in *Input) { in.RRule = "FREQ=DAILY;COUNT=5000" }, "rrule"},
		{"dtstart inside", func(in *Input) { in.RRule = "FREQ=DAILY;DTSTART=20260101T000000Z" }, "rrule"},
		{"exdate not an occurrence", func(in *Input) {
			in.RRule = "FREQ=WEEKLY;COUNT=3"
			in.ExDates = []string{"2026-03-10T10:00"}
		}, "exdates"},
		{"passcode too short", func(in *Input) { p := "12"; in.Passcode = &p }, "passcode"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := base
			c.edit(&in)
			_, err := Check(in)
			e, ok := errs.As(err)
			if !ok || e.Code != errs.Invalid || e.Fields[c.field] == "" {
				t.Fatalf("got %v, want an Invalid error on %s", err, c.field)
			}
		})
	}
	if _, err := Check(base); err != nil {
		t.Fatalf("the valid input: %v", err)
	}
}

// TestSeriesKeepsWallTime checks that a weekly series in Berlin stays at
// 10:00 local time across the start of daylight saving, that exceptions
// are left out, and where the series and its links end.
func TestSeriesKeepsWallTime(t *testing.T) {
	d, err := Check(Input{Title: "Stand-up", Start: "2026-03-16T10:00", TimeZone: "Europe/Berlin", DurationMinutes: 15,
		RRule: "rrule:freq=weekly;count=4", ExDates: []string{"2026-03-23T10:00"}})
	if err != nil {
		t.Fatal(err)
	}
	if d.RRule != "FREQ=WEEKLY;COUNT=4" {
		t.Fatalf("normalised rule %q", d.RRule)
	}
	got := d.Occurrences(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	want := []time.Time{
		time.Date(2026, 3, 16, 9, 0, 0, 0, time.UTC), // CET, UTC+1
		time.Date(2026, 3, 30, 8, 0, 0, 0, time.UTC), // CEST, UTC+2
		time.Date(2026, 4, 6, 8, 0, 0, 0, time.UTC),
	}
	if len(got) != len(want) {
		t.Fatalf("occurrences %v, want %v", got, want)
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Fatalf("occurrence %d is %v, want %v", i, got[i], want[i])
		}
	}
	end, ok := d.LastEnd()
	if !ok || !end.Equal(want[2].Add(15*time.Minute)) {
		t.Fatalf("last end %v %v", end, ok)
	}
	if !d.InviteExpiry().Equal(end.Add(InviteGrace)) {
		t.Fatalf("invite expiry %v", d.InviteExpiry())
	}
	next, ok := d.Next(time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC))
	if !ok || !next.Equal(want[1]) {
		t.Fatalf("next %v %v: the removed occurrence must be skipped", next, ok)
	}
	open, err := ParseSchedule("2026-03-16T10:00", "Europe/Berlin", 15, "FREQ=DAILY", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := open.LastEnd(); ok {
		t.Fatal("an open-ended series has a last end")
	}
	if !open.InviteExpiry().Equal(open.StartsAt.AddDate(1, 0, 0).Add(InviteGrace)) {
		t.Fatalf("open-ended expiry %v", open.InviteExpiry())
	}
}

func TestCalendarForSeries(t *testing.T) {
	d, err := Check(Input{Title: "Review, weekly; with notes", Description: "Line one\nLine two", Start: "2026-03-16T10:00",
		TimeZone: "Europe/Berlin", DurationMinutes: 30, RRule: "FREQ=WEEKLY;UNTIL=20260601T000000Z", ExDates: []string{"2026-03-23T10:00"}})
	if err != nil {
		t.Fatal(err)
	}
	m := Meeting{ID: "mtg_1", Title: d.Title, Description: d.Description, Schedule: d.Schedule, State: Scheduled, ICalSequence: 3,
		CreatedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	ics := string(Calendar(CalendarInput{Meeting: m, Method: Request, Organiser: CalendarPerson{Name: "Hanna", Email: "hanna@example.com"},
		Attendee: CalendarPerson{Email: "guest@example.org"}, URL: "https://sessions.test/j/tok", Domain: "sessions.test",
		Now: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)}))
	for _, want := range []string{
		"METHOD:REQUEST", "UID:mtg_1@sessions.test", "SEQUENCE:3",
		"DTSTART;TZID=Europe/Berlin:20260316T100000", "RRULE:FREQ=WEEKLY;UNTIL=20260601T000000Z",
		"EXDATE;TZID=Europe/Berlin:20260323T100000", "BEGIN:VTIMEZONE", "TZID:Europe/Berlin",
		"BEGIN:DAYLIGHT", "DTSTART:20260329T020000", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200",
		`SUMMARY:Review\, weekly\; with notes`, `Line one\nLine two`, "mailto:guest@example.org",
		`DESCRIPTION:Every Monday\, until 1 June 2026 (Europe/Berlin time).\n\nLine one`, "ORGANIZER;CN=Hanna:mailto:hanna@example.com",
	} {
		// Long lines are folded (RFC 5545 3.1); unfolded, they read whole.
		if !strings.Contains(strings.ReplaceAll(ics, "\r\n ", ""), want) {
			t.Errorf("the calendar lacks %q:\n%s", want, ics)
		}
	}
	for _, line := range strings.Split(ics, "\r\n") {
		if len(line) > 75 {
			t.Errorf("line longer than 75 octets: %q", line)
		}
	}
	m.State = Cancelled
	if c := string(Calendar(CalendarInput{Meeting: m, Method: Cancel, Domain: "sessions.test", Now: m.CreatedAt})); !strings.Contains(c, "METHOD:CANCEL") || !strings.Contains(c, "STATUS:CANCELLED") {
		t.Errorf("cancellation:\n%s", c)
	}
}

func TestSniffFile(t *testing.T) {
	ok := map[string][]byte{
		PDF:  []byte("%PDF-1.7\n..."),
		PNG:  []byte("\x89PNG\r\n\x1a\n\x00\x00"),
		JPEG: []byte("\xff\xd8\xff\xe0\x00\x10JFIF"),
		WebP: []byte("RIFF\x00\x00\x00\x00WEBPVP8 "),
		Text: []byte("Minutes of the meeting\n- item one\n"),
		DOCX: ooxml(t, "word", nil),
		XLSX: ooxml(t, "xl", nil),
		PPTX: ooxml(t, "ppt", nil),
		ODT:  odf(t, ODT, nil),
		ODS:  odf(t, ODS, nil),
	}
	for want, b := range ok {
		if got, err := SniffFile(b); err != nil || got != want {
			t.Errorf("%s: got %q %v", want, got, err)
		}
	}
	refused := map[string][]byte{
		"executable":  []byte("MZ\x90\x00\x03\x00\x00\x00"),
		"binary":      {0, 1, 2, 3, 0xfe},
		"plain zip":   zipOf(t, part{name: "notes.txt", body: "x"}),
		"macro docx":  ooxml(t, "word", &ooxmlExtra{parts: []part{{name: "word/vbaProject.bin", body: "x"}}}),
		"legacy word": []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
	}
	for name, b := range refused {
		if _, err := SniffFile(b); errs.CodeOf(err) != errs.Unsupported {
			t.Errorf("%s: %v, want Unsupported", name, err)
		}
	}
	if _, err := SniffFile(make([]byte, MaxFileBytes+1)); errs.CodeOf(err) != errs.TooLarge {
		t.Errorf("oversized: %v", err)
	}
}

func TestLinks(t *testing.T) {
	cases := []struct {
		url, provider, embed string
	}{
		{"https://docs.google.com/document/d/abc_123/edit#heading", GoogleDrive, "https://docs.google.com/document/d/abc_123/preview"},
		{"https://drive.google.com/file/d/XYZ/view?usp=sharing", GoogleDrive, "https://drive.google.com/file/d/XYZ/preview"},
		{"https://miro.com/app/board/uXjVabc=/", Miro, "https://miro.com/app/live-embed/uXjVabc=/"},
		{"https://1drv.ms/w/s!abc", OneDrive, ""},
		{"https://contoso.sharepoint.com/:w:/g/doc", OneDrive, ""},
		{"https://example.com/agenda", Web, ""},
	}
	for _, c := range cases {
		_, link, provider, err := CheckLink(LinkInput{URL: c.url})
		if err != nil || provider != c.provider {
			t.Errorf("%s: %q %v", c.url, provider, err)
			continue
		}
		r := Resource{Kind: LinkResource, URL: link, Provider: provider}
		if got := r.EmbedURL(); got != c.embed {
			t.Errorf("%s: embed %q, want %q", c.url, got, c.embed)
		}
	}
	for _, bad := range []string{"http://example.com", "javascript:alert(1)", "https://user:pw@example.com/", "ftp://x", "https://"} {
		if _, _, _, err := CheckLink(LinkInput{URL: bad}); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("%s: %v, want Invalid", bad, err)
		}
	}
}

func TestPasscode(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	m := Meeting{ID: "mtg_1", PasscodeHash: HashPasscode(secret, "mtg_1", "4711")}
	if err := CheckPasscode(secret, m, " 4711 "); err != nil {
		t.Fatal(err)
	}
	if err := CheckPasscode(secret, m, "4712"); errs.CodeOf(err) != errs.Forbidden {
		t.Fatalf("wrong passcode: %v", err)
	}
	if HashPasscode(secret, "mtg_2", "4711") == m.PasscodeHash {
		t.Fatal("the same passcode hashes alike in two meetings")
	}
	if err := CheckPasscode(secret, Meeting{ID: "x"}, ""); err != nil {
		t.Fatal("a meeting without passcode refused")
	}
}
