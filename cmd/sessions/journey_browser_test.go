package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sessionshq/sessions/internal/platform/mail/mailtest"
)

// TestBrowserMeetingJourney is a team's first meeting on the real binary,
// from two headless Chromium browsers with fake cameras, microphones and
// screens, through the pages only. The host signs up, confirms the
// address from the mail and lands on their meetings; schedules a weekly
// meeting with the date, time, zone and recurrence pickers, typing no
// rule, and invites a guest by address in the same form. The guest's
// invitation says in words how the meeting repeats. The host joins from
// the meeting's page; the guest joins through the link in the mail and
// knocks; the host admits them from the banner. Both chat, interleaved
// and with Enter, and each reads all six messages without a reload. The
// guest shares a screen, which the host sees large; when it stops, the
// host's screen tile goes at once. The host ends the call for everyone,
// and the guest is told.
func TestBrowserMeetingJourney(t *testing.T) {
	t.Parallel()
	oneCallAtATime(t)
	chromium := requireChromium(t)
	smtp := mailtest.Start(t)
	addr := freeAddr(t)
	s := startBinary(t,
		"SESSIONS_ADDR="+addr, "SESSIONS_BASE_URL=http://"+addr,
		"SESSIONS_SMTP_ADDR="+smtp.Addr, "SESSIONS_SMTP_TLS=none")

	const (
		hostName   = "Hedda Journey"
		hostEmail  = "hedda.journey@example.com"
		password   = "a meeting every tuesday"
		guestName  = "Gunnar Journey"
		guestEmail = "gunnar.journey@example.org"
		title      = "Tuesday and Thursday sync"
		zone       = "Europe/Bucharest"
	)
	host := newRoomBrowser(t, chromium, "host", s)
	guest := newRoomBrowser(t, chromium, "guest", s)
	submit := func(action string) chromedp.Action[chromedp.Void] {
		return chromedp.Click(chromedp.CSS(`form[action="` + action + `"] button[type="submit"]`))
	}
	heading := func(text string) chromedp.Action[chromedp.Void] {
		return chromedp.WaitVisible(chromedp.Search(`//h1[contains(., "` + text + `")]`))
	}

	// 1. Sign up from the start page, confirm the address from the mail,
	// and follow the pages to the member's meetings.
	host.do("sign up",
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(s.url+"/"),
		chromedp.Click(chromedp.CSS(`a.btn-primary[href="/signup"]`)),
		heading("Create your Sessions account"),
		chromedp.SendKeys(chromedp.ID("name"), hostName),
		chromedp.SendKeys(chromedp.ID("email"), hostEmail),
		chromedp.SendKeys(chromedp.ID("password"), password),
		submit("/signup"),
		heading("Check your inbox"),
	)
	verify := journeyMail(t, smtp, hostEmail)
	link := verifyLink.FindString(verify.Text)
	if !strings.HasPrefix(link, s.url+"/verify-email?token=") {
		t.Fatalf("no confirmation link for %s in the mail:\n%s", s.url, verify.Text)
	}
	host.do("confirm the address",
		chromedp.Navigate(link),
		heading("Confirm your e-mail address"),
		submit("/verify-email"),
		heading("Your address is confirmed"),
	)
	// The notice's next step: signing in where the sign-up did not, or
	// straight on where it did.
	next := host.evalString(`document.querySelector("main a.btn-primary").getAttribute("href")`)
	host.do("take the next step", chromedp.Click(chromedp.CSS(`main a.btn-primary`)))
	if next == "/signin" {
		host.do("sign in",
			heading("Sign in to Sessions"),
			chromedp.SendKeys(chromedp.ID("email"), hostEmail),
			chromedp.SendKeys(chromedp.ID("password"), password),
			submit("/signin"),
		)
	}
	host.do("land on my meetings", heading("My meetings"), chromedp.WaitVisible(chromedp.CSS(".site-account-name")))
	// Like most people, the host refuses what is optional.
	host.do("refuse optional cookies",
		chromedp.Click(chromedp.CSS(`button[data-cookie-action="reject-all"]`)),
		chromedp.WaitNotVisible(chromedp.CSS(`button[data-cookie-action="reject-all"]`)),
	)
	if loc := host.evalString(`location.href`); loc != s.url+"/" {
		t.Errorf("the member landed on %s, want the dashboard at /", loc)
	}
	host.shot(1280, "dashboard")
	host.do("the dashboard at a phone's width", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	host.fitsWidth("the dashboard", 390)
	host.shot(390, "dashboard")
	host.do("back to a laptop's width", chromedp.EmulateViewport(1280, 800))

	// 2. Schedule a weekly meeting through the pickers and invite the
	// guest in the same form. The first meeting is next Tuesday at ten
	// in the meeting's zone; it repeats on Tuesdays and Thursdays, eight
	// times.
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	first := time.Now().In(loc).AddDate(0, 0, 1)
	for first.Weekday() != time.Tuesday {
		first = first.AddDate(0, 0, 1)
	}
	host.do("open the new-meeting form",
		chromedp.Click(chromedp.CSS(`main a[href="/meetings/new"]`)),
		heading("New meeting"),
		chromedp.SendKeys(chromedp.ID("m-title"), title),
		// Typed into the date and time pickers as a person would, field
		// by field in the browser's (US English) order.
		chromedp.SendKeys(chromedp.ID("m-date"), first.Format("01022006")),
		chromedp.SendKeys(chromedp.ID("m-time"), "1000AM"),
		// The zone the browser suggested is selected and typed over.
		chromedp.Focus(chromedp.ID("m-tz")),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("m-tz").select()`),
		chromedp.SendKeys(chromedp.ID("m-tz"), zone),
		// A closed select takes the first letters of its option.
		chromedp.SendKeys(chromedp.ID("m-repeat"), "Weekly"),
	)
	if v := host.evalString(`document.getElementById("m-date").value + " " + document.getElementById("m-time").value`); v != first.Format("2006-01-02")+" 10:00" {
		t.Fatalf("the pickers hold %q, want %s 10:00", v, first.Format("2006-01-02"))
	}
	if v := host.evalString(`document.getElementById("m-tz").value`); v != zone {
		t.Fatalf("the zone picker holds %q, want %s", v, zone)
	}
	if v := host.evalString(`document.getElementById("m-repeat").value`); v != "weekly" {
		t.Fatalf("the recurrence picker holds %q, want weekly", v)
	}
	host.do("choose the days and the end",
		chromedp.WaitVisible(chromedp.CSS(`input[name="repeat_days"][value="TU"]`)),
		chromedp.Click(chromedp.CSS(`input[name="repeat_days"][value="TU"]`)),
		chromedp.Click(chromedp.CSS(`input[name="repeat_days"][value="TH"]`)),
		chromedp.Click(chromedp.CSS(`input[name="repeat_ends"][value="count"]`)),
		chromedp.SendKeys(chromedp.ID("m-count"), "8"),
	)
	if !host.evalBool(`document.querySelector('input[name="lobby"]').checked`) {
		host.do("guests wait in the lobby", chromedp.Click(chromedp.CSS(`input[name="lobby"]`)))
	}
	host.do("invite the guest", chromedp.SendKeys(chromedp.ID("m-invite"), guestEmail))
	if host.evalBool(`Array.from(document.querySelectorAll("form[data-schedule] input, form[data-schedule] textarea")).some(e => /FREQ=/.test(e.value))`) {
		t.Error("the form asks for a raw recurrence rule")
	}
	if bad := host.evalString(`Array.from(document.querySelectorAll("form[data-schedule] :invalid")).map(e => e.name + "=" + JSON.stringify(e.value) + ": " + e.validationMessage).join("; ")`); bad != "" {
		t.Fatalf("the browser refuses the form: %s", bad)
	}
	host.shot(1280, "schedule")
	host.do("create the meeting", chromedp.Click(chromedp.CSS(`form[action="/meetings"] button[type="submit"]`)))
	host.waitJS("the meeting's page or the form's errors",
		fmt.Sprintf(`document.querySelector("h1").textContent.trim() === %q || !!document.querySelector(".field-error, .alert-danger")`, title))
	if problems := host.evalString(`Array.from(document.querySelectorAll(".field-error, .alert-danger")).map(e => e.textContent.trim()).join(" | ")`); problems != "" {
		t.Fatalf("the meeting was not created: %s", problems)
	}
	const sentence = "Every Tuesday and Thursday, 8 times"
	if repeats := host.evalString(`(document.querySelector(".mtg-repeats") || {}).textContent || ""`); !strings.Contains(repeats, sentence) {
		t.Errorf("the meeting's page says it repeats %q, want %q", repeats, sentence)
	}
	host.shot(1280, "meeting")
	// Home lists it among what is coming up.
	host.do("back to my meetings", chromedp.Click(chromedp.CSS(`.site-header a.brand`)), heading("My meetings"))
	if !host.evalBool(fmt.Sprintf(`Array.from(document.querySelectorAll(".meeting-title")).some(a => a.textContent.trim() === %q)`, title)) {
		t.Errorf("the dashboard does not list %q", title)
	}
	host.do("open the meeting from the dashboard",
		chromedp.Click(chromedp.Search(fmt.Sprintf(`//a[contains(@class, "meeting-title")][normalize-space(.) = %q]`, title))),
		heading(title),
	)

	// 3. The guest's invitation says how the meeting repeats in words,
	// and carries the guest's personal link.
	invitation := journeyMail(t, smtp, guestEmail)
	if !strings.Contains(invitation.Text, "Repeats: "+sentence) {
		t.Errorf("the invitation does not say %q:\n%s", sentence, invitation.Text)
	}
	if strings.Contains(invitation.Text, "FREQ=") {
		t.Errorf("the invitation shows the raw rule:\n%s", invitation.Text)
	}
	joinLink := regexp.MustCompile(`https?://\S+/j/[A-Za-z0-9._~-]+`).FindString(invitation.Text)
	if !strings.HasPrefix(joinLink, s.url+"/j/") {
		t.Fatalf("no personal link to %s in the invitation:\n%s", s.url, invitation.Text)
	}

	// 4. The host joins from the meeting's page; the guest comes by the
	// link, knocks, and the host admits them from the banner.
	host.do("the host opens the room",
		chromedp.Click(chromedp.CSS(`.mtg-header a.btn-primary[href$="/room"]`)),
		chromedp.WaitVisible(chromedp.ID("prejoin")),
	)
	host.waitJS("the host's camera preview plays", `document.getElementById("preview").videoWidth > 0`)
	host.do("the host joins", chromedp.Click(chromedp.ID("join-button")), chromedp.WaitVisible(chromedp.ID("call")))

	guest.do("the guest opens the link from the mail",
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(joinLink),
		chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.SendKeys(chromedp.ID("name"), guestName),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("prejoin")),
	)
	guest.waitJS("the guest's camera preview plays", `document.getElementById("preview").videoWidth > 0`)
	guest.do("the guest asks to join", chromedp.Click(chromedp.ID("join-button")), chromedp.WaitVisible(chromedp.ID("lobby-wait")))
	guest.shot(1280, "lobby")
	host.waitJS("the knock banner names the guest",
		fmt.Sprintf(`(() => { const k = document.getElementById("knock"); return !!k && !k.hidden && k.textContent.includes(%q); })()`, guestName))
	host.shot(1280, "knock")
	host.do("the host admits the guest", chromedp.Click(chromedp.ID("knock-admit")))
	guest.do("the guest is let in", chromedp.WaitVisible(chromedp.ID("call")))
	host.waitJS("the knock banner goes", `document.getElementById("knock").hidden`)

	// 5. Three messages each, interleaved, every one sent with Enter;
	// both read the whole conversation, in order, without a reload.
	for _, b := range []*roomBrowser{host, guest} {
		if b.evalBool(`document.getElementById("chat-body").offsetParent === null`) {
			b.do("open the chat", chromedp.Click(chromedp.ID("tab-chat")))
		}
	}
	// A mark on each page that a reload would wipe.
	for _, b := range []*roomBrowser{host, guest} {
		b.evalBool(`window.journeyMark = true`)
	}
	var said []string
	for i := range 6 {
		from, who := host, "Host"
		if i%2 == 1 {
			from, who = guest, "Guest"
		}
		text := fmt.Sprintf("%s message %d", who, i/2+1)
		from.send(text, true)
		said = append(said, text)
		// Both read the conversation so far before the other answers:
		// having written must not stop anyone from receiving.
		so := fmt.Sprintf(`JSON.stringify(Array.from(document.querySelectorAll("#chat-list .message-body")).map(e => e.textContent)) === %q`, mustJSON(t, said))
		host.waitJS(fmt.Sprintf("the host reads the %d messages so far", len(said)), so)
		guest.waitJS(fmt.Sprintf("the guest reads the %d messages so far", len(said)), so)
	}
	for _, b := range []*roomBrowser{host, guest} {
		if !b.evalBool(`window.journeyMark === true`) {
			t.Errorf("%s: the room reloaded during the chat", b.name)
		}
	}
	host.shot(1280, "chat")
	guest.shot(1280, "chat")
	guest.do("the guest's call at a phone's width", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	guest.waitJS("the call is laid out for a phone", `document.documentElement.clientWidth === 390`)
	guest.fitsWidth("the call", 390)
	guest.shot(390, "call")
	guest.do("the guest's call at a laptop's width", chromedp.EmulateViewport(1280, 800))

	// 6. The guest shares a screen through the page's own button: the
	// page's getDisplayMedia gets Chromium's fake screen (the fake media
	// flags, with --auto-select-desktop-capture-source answering the
	// picker), and the page publishes it as a screen share. The host sees
	// it large; when the guest stops, the host's tile goes at once.
	guest.do("the guest shares a screen", chromedp.Click(chromedp.ID("toggle-screen")))
	host.waitJS("the host sees the screen large",
		`(() => { const v = document.querySelector("#grid .tile-screen.tile-main video"); return !!v && v.videoWidth > 0; })()`)
	host.shot(1280, "screen")
	guest.shot(1280, "screen")
	guest.do("the guest stops sharing", chromedp.Click(chromedp.ID("toggle-screen")))
	host.waitJSWithin(5*time.Second, "the host's screen tile goes at once", `document.querySelectorAll("#grid .tile-screen").length === 0`)

	// 7. The host ends the call for everyone; the guest is told.
	host.evalBool(`window.confirm = () => true, true`)
	host.do("the host ends the call for everyone", chromedp.Click(chromedp.ID("end-all")), chromedp.WaitVisible(chromedp.ID("ended")))
	guest.do("the guest sees the call ended", chromedp.WaitVisible(chromedp.ID("ended")))
	if text := guest.evalString(`document.getElementById("ended-text").textContent`); text != "The host ended the session for everyone." {
		t.Errorf("the guest is told %q", text)
	}
	host.shot(1280, "ended")
	guest.shot(1280, "ended")

	s.stop(t)
	logs := strings.ToLower(s.stderr.String())
	for _, marker := range []string{hostEmail, guestEmail, "hedda", "gunnar", password, strings.ToLower(title), "message 3"} {
		if strings.Contains(logs, marker) {
			t.Errorf("the server log contains %q", marker)
		}
	}
}

// journeyMail waits for the next mail to addr, passing over mail to
// anyone else.
func journeyMail(t *testing.T, smtp *mailtest.Server, addr string) *mailtest.Message {
	t.Helper()
	for range 10 {
		m := smtp.Next(t)
		if len(m.EnvelopeTo) == 1 && m.EnvelopeTo[0] == addr {
			return m
		}
	}
	t.Fatalf("no mail to %s among the next ten", addr)
	return nil
}

// shot keeps a picture of the whole page as journey-<who>-<width>-<what>.png
// in the folder SESSIONS_TEST_SCREENSHOTS names, for a person to look at.
func (b *roomBrowser) shot(width int, what string) {
	b.t.Helper()
	dir := os.Getenv("SESSIONS_TEST_SCREENSHOTS")
	if dir == "" {
		return
	}
	img, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.fail("screenshot "+what, err)
	}
	if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("journey-%s-%d-%s.png", b.name, width, what)), img, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
