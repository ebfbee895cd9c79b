package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/platform/mail/mailtest"
)

// TestBrowserSchedulesAWeeklyMeetingWithThePickers schedules a weekly
// series in headless Chromium on the real binary, at a phone's width and
// at a desktop's, typing no RRULE: the date, time, time zone and
// recurrence come from the pickers, and a guest is invited in the same
// form. The guest's invitation says the rule in words, the page fits the
// width, and a removal asks in a dialog first.
func TestBrowserSchedulesAWeeklyMeetingWithThePickers(t *testing.T) {
	t.Parallel()
	chromium := requireChromium(t)
	smtp := mailtest.Start(t)
	target := dbtest.NewTarget(t)
	addr := freeAddr(t)
	s := startBinary(t, append(target.Env(), "SESSIONS_ADDR="+addr, "SESSIONS_BASE_URL=http://"+addr,
		"SESSIONS_SMTP_ADDR="+smtp.Addr, "SESSIONS_SMTP_TLS=none")...)
	db, err := database.Open(context.Background(), target.DatabaseURL, target.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const password = "weekly stand-up 0900"
	host := browserMember(t, db, "Hanna Host", "hanna.host@example.com", password)

	for _, width := range []int{390, 1280} {
		t.Run(strconv.Itoa(width), func(t *testing.T) {
			ctx := newBrowser(t, chromium, 2*time.Minute)
			steps := browserSteps{t: t, ctx: ctx, s: s}
			do := steps.do
			eval := func(step, js string) bool {
				t.Helper()
				v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
				if err != nil {
					steps.fail(step, err)
				}
				return v
			}
			shot := func(name string) {
				t.Helper()
				if w, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.documentElement.scrollWidth`)); err != nil || w > float64(width) {
					t.Errorf("%s is %v px wide at %d px (%v)", name, w, width, err)
				}
				if dir := os.Getenv("SESSIONS_TEST_SCREENSHOTS"); dir != "" {
					png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
					if err == nil {
						_ = os.WriteFile(filepath.Join(dir, "schedule-"+name+"-"+strconv.Itoa(width)+".png"), png, 0o644)
					}
				}
			}
			title := "Weekly planning " + strconv.Itoa(width)
			guest := "guest" + strconv.Itoa(width) + "@example.org"

			do("sign in",
				chromedp.EmulateViewport(int64(width), 900, func() chromedp.EmulateViewportOption {
					if width < 600 {
						return chromedp.EmulateMobile
					}
					return chromedp.EmulateLandscape
				}()),
				chromedp.Navigate(s.url+"/signin"),
				chromedp.SendKeys(chromedp.ID("email"), host.Email),
				chromedp.SendKeys(chromedp.ID("password"), password),
				chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type="submit"]`)),
				chromedp.WaitVisible(chromedp.CSS(".site-account-name")),
			)
			do("open the form",
				chromedp.Navigate(s.url+"/meetings/new"),
				chromedp.WaitVisible(chromedp.ID("m-title")),
			)
			// Only the choices that apply show: nothing of a series yet.
			if eval("days hidden", `!document.querySelector('[data-for="weekly"]').hidden`) {
				t.Error("the weekday choice shows before a weekly series is chosen")
			}
			// The browser's zone was put in (headless Chromium's is UTC
			// unless told otherwise); then choose another by typing a city.
			eval("clear the zone", `(document.getElementById('m-tz').value = '', true)`)
			do("fill the form",
				chromedp.SendKeys(chromedp.ID("m-title"), title),
				chromedp.SetValue(chromedp.ID("m-date"), "2026-03-10"),
				chromedp.SetValue(chromedp.ID("m-time"), "09:00"),
				chromedp.SendKeys(chromedp.ID("m-tz"), "Europe/Berlin"),
				chromedp.Clear(chromedp.ID("m-duration")),
				chromedp.SendKeys(chromedp.ID("m-duration"), "45"),
			)
			if !eval("choose weekly", `(() => { const s = document.getElementById('m-repeat'); s.value = 'weekly'; s.dispatchEvent(new Event('change')); return true })()`) {
				t.Fatal("no repeat picker")
			}
			do("choose the days and the end",
				chromedp.WaitVisible(chromedp.CSS(`input[name=repeat_days][value=TU]`)),
				chromedp.Click(chromedp.CSS(`input[name=repeat_days][value=TU]`)),
				chromedp.Click(chromedp.CSS(`input[name=repeat_days][value=TH]`)),
				chromedp.Click(chromedp.CSS(`input[name=repeat_ends][value=count]`)),
				chromedp.SendKeys(chromedp.ID("m-count"), "6"),
				chromedp.SendKeys(chromedp.ID("m-invite"), guest),
			)
			shot("form")
			do("create",
				chromedp.Click(chromedp.CSS(`form[action="/meetings"] button[type="submit"]`)),
				chromedp.WaitVisible(chromedp.Search(`//h1[contains(., "`+title+`")]`)),
			)
			page, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
			if err != nil {
				steps.fail("read the page", err)
			}
			if !strings.Contains(page, "Every Tuesday and Thursday, 6 times") || strings.Contains(page, "FREQ=") {
				t.Errorf("the page does not say the rule in words:\n%.2000s", page)
			}
			shot("page")

			msg := smtp.Next(t)
			if len(msg.EnvelopeTo) != 1 || msg.EnvelopeTo[0] != guest {
				t.Fatalf("the invitation went to %v", msg.EnvelopeTo)
			}
			if !strings.Contains(msg.Text, "Repeats: Every Tuesday and Thursday, 6 times") || strings.Contains(msg.Text, "FREQ=") {
				t.Errorf("the guest's invitation:\n%s", msg.Text)
			}

			// Removing the guest asks first, in a dialog; keeping them
			// changes nothing.
			do("ask before removing",
				chromedp.Click(chromedp.CSS(`#people form[data-confirm] button`)),
				chromedp.WaitVisible(chromedp.ID("confirm-dialog")),
			)
			shot("confirm")
			do("keep the guest",
				chromedp.Click(chromedp.CSS(`#confirm-dialog button[value=no]`)),
				chromedp.WaitNotVisible(chromedp.ID("confirm-dialog")),
			)
			if !eval("guest still listed", `document.querySelector('#people').textContent.includes('`+guest+`')`) {
				t.Error("the guest is gone although the removal was not confirmed")
			}
		})
	}
}
