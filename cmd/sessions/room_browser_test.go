package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/platform/mail/mailtest"
	"github.com/sessionshq/sessions/internal/store"
)

// TestBrowserMeetingRoom joins one meeting from two headless Chromium
// browsers with fake cameras, microphones and screens, through our own
// pages, on the real binary and its embedded SFU: the host signs in and
// opens the room at 1280 px; the guest opens the personal link from the
// invitation mail at 390 px, gives a name, asks to join and waits until
// the host admits them from the knock banner. No element with the hidden
// attribute may show, and the guest's page holds no host tool. Each must
// see the other's video playing and the other's microphone state; chat
// written by both, interleaved, must reach both sides in order without a
// reload; a question marked answered shows so on both; a screen share is
// shown large and its tile goes at once when it stops; the host ends the
// call for everyone, and the guest is told. At 390 px nothing may stick
// out sideways.
func TestBrowserMeetingRoom(t *testing.T) {
	t.Parallel()
	oneCallAtATime(t)
	chromium := requireChromium(t)
	ctx := context.Background()
	db, target := dbtest.OpenTarget(t)
	smtp := mailtest.Start(t)

	const password = "correct horse battery staple"
	host := browserMember(t, db, "Hanna Host", "hanna.host@example.com", password)
	now := time.Now().UTC()
	apiToken := account.NewAPIToken()
	if err := store.CreateAPIToken(ctx, db, account.APIToken{ID: account.NewTokenID(), AccountID: host.ID, Name: "room test",
		Scopes: []account.Scope{account.ScopeMeetings}, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)},
		account.TokenDigest(apiToken)); err != nil {
		t.Fatal(err)
	}

	addr := freeAddr(t)
	env := append(target.Env(),
		"SESSIONS_ADDR="+addr, "SESSIONS_BASE_URL=http://"+addr,
		"SESSIONS_SMTP_ADDR="+smtp.Addr, "SESSIONS_SMTP_TLS=none",
		"SESSIONS_VIDEO_PORT=0", "SESSIONS_VIDEO_UDP_PORT=0")
	s := startBinary(t, env...)

	// The host makes the meeting and invites the guest through the API.
	var m struct {
		ID      string `json:"id"`
		RoomURL string `json:"room_url"`
	}
	apiCall(t, s, apiToken, http.MethodPost, "/api/meetings", map[string]any{
		"title": "Browser stand-up", "start": now.Add(time.Hour).Format(time.RFC3339), "time_zone": "Europe/Bucharest",
		"duration_minutes": 30, "lobby": true,
	}, &m)
	apiCall(t, s, apiToken, http.MethodPost, "/api/meetings/"+m.ID+"/participants", map[string]any{
		"email": "gustav.guest@example.com", "role": "participant",
	}, nil)
	msg := smtp.Next(t)
	link := regexp.MustCompile(`https?://\S+/j/[A-Za-z0-9._~-]+`).FindString(msg.Text)
	if !strings.HasPrefix(link, s.url+"/j/") {
		t.Fatalf("no personal link to %s in the invitation:\n%s", s.url, msg.Text)
	}

	hostB := newRoomBrowser(t, chromium, "host", s)
	guestB := newRoomBrowser(t, chromium, "guest", s)

	// The host signs in and joins first, on a laptop's screen: hosts pass
	// the lobby.
	hostB.do("host signs in and opens the room",
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(s.url+"/signin"),
		chromedp.SendKeys(chromedp.ID("email"), host.Email),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".site-account-name")),
		chromedp.Navigate(s.url+"/meetings/"+m.ID+"/room"),
		chromedp.WaitVisible(chromedp.ID("prejoin")),
	)
	// The device check shows the fake camera before anything is sent,
	// and says nothing about the camera being off.
	hostB.waitJS("the camera preview plays", `document.getElementById("preview").videoWidth > 0`)
	hostB.noHiddenShown("the device check")
	hostB.screenshot(1280, "prejoin")
	hostB.do("host joins", chromedp.Click(chromedp.ID("join-button")), chromedp.WaitVisible(chromedp.ID("call")))
	// The call has the window to itself.
	if hostB.evalBool(`Array.from(document.querySelectorAll("body > header, body > footer")).some(e => e.getBoundingClientRect().height > 0)`) {
		t.Error("the site's header or footer is shown in the call")
	}

	// The guest comes by the personal link, at a phone's width.
	guestB.do("guest opens the link at 390 px",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.SendKeys(chromedp.ID("name"), "Gustav Guest"),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("prejoin")),
	)
	guestB.waitJS("the guest's camera preview plays", `document.getElementById("preview").videoWidth > 0`)
	guestB.noHiddenShown("the guest's device check")
	guestB.fitsWidth("the device check", 390)
	guestB.screenshot(390, "prejoin")
	// The server renders no host tool for a guest, hidden or not.
	if guestB.evalBool(`["host-tools", "lock-toggle", "knock", "end-all"].some(id => document.getElementById(id)) || !!document.getElementById("room").dataset.endUrl`) {
		t.Error("the guest's page offers host tools")
	}
	guestB.do("guest asks to join", chromedp.Click(chromedp.ID("join-button")), chromedp.WaitVisible(chromedp.ID("lobby-wait")))

	// The host is told by a banner over the call, wherever the panels
	// are, and admits the guest from it.
	hostB.do("host looks at the agenda", chromedp.Click(chromedp.ID("tab-agenda")))
	hostB.waitJS("the knock banner names the guest",
		`(() => { const k = document.getElementById("knock"); return !k.hidden && k.textContent.includes("Gustav Guest"); })()`)
	hostB.waitJS("the People tab counts the guest", `document.getElementById("people-count").textContent === "1"`)
	hostB.screenshot(1280, "knock")
	hostB.do("host admits the guest from the banner", chromedp.Click(chromedp.ID("knock-admit")))
	guestB.do("the guest is let in", chromedp.WaitVisible(chromedp.ID("call")))
	hostB.waitJS("the knock banner goes", `document.getElementById("knock").hidden`)

	// Each sees the other's video playing, named.
	for _, b := range []*roomBrowser{hostB, guestB} {
		// livekit-client's adaptive stream pauses videos scrolled out of
		// sight: look at the grid, as a person would.
		b.evalBool(`document.getElementById("grid").scrollIntoView({block: "start"}), true`)
		b.waitJS("the other's video has frames",
			`(() => { const v = document.querySelector("#grid .tile:not(.tile-local) video"); return !!v && v.videoWidth > 0; })()`)
		first := b.evalFloat(`document.querySelector("#grid .tile:not(.tile-local) video").currentTime`)
		b.waitJS("the other's video advances",
			fmt.Sprintf(`document.querySelector("#grid .tile:not(.tile-local) video").currentTime > %f`, first))
		b.noHiddenShown("the call")
	}
	if name := hostB.evalString(`document.querySelector("#grid .tile:not(.tile-local) .tile-name").textContent`); name != "Gustav Guest" {
		t.Errorf("the host's tile of the guest is named %q", name)
	}
	if name := guestB.evalString(`document.querySelector("#grid .tile:not(.tile-local) .tile-name").textContent`); name != host.Name {
		t.Errorf("the guest's tile of the host is named %q", name)
	}
	// Every tile says whether the microphone and camera are on.
	guestB.do("the guest mutes", chromedp.Click(chromedp.ID("toggle-mic")))
	hostB.waitJS("the host's tile of the guest shows the microphone off",
		`(() => { const t = document.querySelector("#grid .tile:not(.tile-local)"); return t.dataset.mic === "off" && !!t.querySelector(".flag-mic-off"); })()`)
	guestB.do("the guest unmutes", chromedp.Click(chromedp.ID("toggle-mic")))
	hostB.waitJS("the host's tile of the guest shows the microphone on",
		`document.querySelector("#grid .tile:not(.tile-local)").dataset.mic === "on"`)

	// Chat goes both ways, interleaved, through our server: writing a
	// message must not stop the writer from receiving the others'. Every
	// other message is sent with Enter.
	chat := []struct {
		from *roomBrowser
		text string
	}{
		{guestB, "Guest one"}, {hostB, "Host one"}, {guestB, "Guest two"},
		{hostB, "Host two"}, {guestB, "Guest three"}, {hostB, "Host three"},
	}
	var want []string
	for i, c := range chat {
		if i == 0 {
			// The host is on another tab: the Chat tab counts what is new.
			c.from.send(c.text, true)
			hostB.waitJS("the Chat tab shows one unread message", `document.getElementById("chat-unread").textContent === "1"`)
			hostB.do("the host opens the chat", chromedp.Click(chromedp.ID("tab-chat")))
			hostB.waitJS("opening the chat clears the count", `document.getElementById("chat-unread").textContent === ""`)
		} else {
			c.from.send(c.text, i%2 == 0)
		}
		want = append(want, c.text)
		// Each sees the conversation so far, in order, without a reload.
		js := fmt.Sprintf(`JSON.stringify(Array.from(document.querySelectorAll("#chat-list .message-body")).map(e => e.textContent)) === %q`, mustJSON(t, want))
		hostB.waitJS("the host reads every message so far", js)
		guestB.waitJS("the guest reads every message so far", js)
	}
	if hostB.evalBool(`!document.getElementById("chat-status").hidden`) || guestB.evalBool(`!document.getElementById("chat-status").hidden`) {
		t.Error("the chat says it lost its connection")
	}

	// A question, marked answered by the host, shows answered on both sides.
	guestB.do("the guest asks a question", chromedp.Click(chromedp.ID("chat-question")))
	guestB.send("Can we see the slides?", false)
	hostB.waitJS("the host sees the question", `Array.from(document.querySelectorAll("#chat-list .message-question .message-body")).some(e => e.textContent === "Can we see the slides?")`)
	if guestB.evalBool(`!!document.querySelector("#chat-list .message-answer")`) {
		t.Error("the guest is offered to mark questions answered")
	}
	hostB.do("the host marks it answered", chromedp.Click(chromedp.CSS("#chat-list .message-question .message-answer")))
	for _, b := range []*roomBrowser{hostB, guestB} {
		b.waitJS("the question shows answered", `!!document.querySelector("#chat-list .message-answered") && document.querySelector("#chat-list .message-answered .badge").textContent === "Answered"`)
	}

	// Speaker view puts one person large; the devices can be changed in
	// the call, with the microphone's level shown.
	hostB.do("the host switches to speaker view", chromedp.Click(chromedp.ID("toggle-view")))
	hostB.waitJS("the guest is the large tile", `!!document.querySelector("#grid .tile-main:not(.tile-local)")`)
	hostB.do("the host opens the devices", chromedp.Click(chromedp.ID("open-settings")), chromedp.WaitVisible(chromedp.ID("devices")))
	hostB.waitJS("the cameras and microphones are listed", `document.querySelectorAll("#call-camera option").length > 0 && document.querySelectorAll("#call-mic option").length > 0`)
	hostB.screenshot(1280, "devices")
	hostB.do("the host closes the devices", chromedp.Click(chromedp.CSS("#devices button[type=submit]")), chromedp.WaitNotVisible(chromedp.ID("devices")))
	hostB.do("the host goes back to the grid", chromedp.Click(chromedp.ID("toggle-view")))
	hostB.waitJS("no tile is large in the grid", `!document.querySelector("#grid .tile-main")`)

	// The guest shares a screen (Chromium's fake capture): the host sees
	// it large; when the guest stops, the tile goes at once.
	guestB.do("the guest shares a screen", chromedp.Click(chromedp.ID("toggle-screen")))
	hostB.waitJS("the host sees the screen large",
		`(() => { const v = document.querySelector("#grid .tile-screen.tile-main video"); return !!v && v.videoWidth > 0; })()`)
	hostB.screenshot(1280, "screen")
	guestB.screenshot(390, "screen")
	guestB.fitsWidth("the call with a screen shared", 390)
	guestB.do("the guest stops sharing", chromedp.Click(chromedp.ID("toggle-screen")))
	hostB.waitJSWithin(5*time.Second, "the screen's tile goes at once", `document.querySelectorAll("#grid .tile-screen").length === 0`)

	guestB.fitsWidth("the call", 390)
	guestB.screenshot(390, "call")
	hostB.screenshot(1280, "call")

	// The host ends the call for everyone; the guest is told so.
	hostB.evalBool(`window.confirm = () => true, true`)
	hostB.do("the host ends the call for everyone", chromedp.Click(chromedp.ID("end-all")), chromedp.WaitVisible(chromedp.ID("ended")))
	guestB.do("the guest sees the call ended", chromedp.WaitVisible(chromedp.ID("ended")))
	if text := guestB.evalString(`document.getElementById("ended-text").textContent`); text != "The host ended the session for everyone." {
		t.Errorf("the guest is told %q", text)
	}
	guestB.screenshot(390, "ended")

	s.stop(t)
	logs := strings.ToLower(s.stderr.String())
	for _, marker := range []string{host.Email, "gustav", "hanna", "guest one", "host three", "slides"} {
		if strings.Contains(logs, marker) {
			t.Errorf("the server log contains %q", marker)
		}
	}
}

// apiCall sends a JSON request with the bearer token and decodes a 2xx
// answer into out.
func apiCall(t *testing.T, s *server, token, method, path string, body, out any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, s.url+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var raw json.RawMessage
	_ = json.NewDecoder(res.Body).Decode(&raw)
	if res.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// roomBrowser is one person's headless Chromium with a fake camera and
// microphone that the page may use without asking.
type roomBrowser struct {
	t    *testing.T
	name string
	ctx  context.Context
	s    *server
}

// Waits are generous bounds for a loaded two-core machine running two
// browsers and the SFU; each returns as soon as its condition holds.
const roomPatience = 60 * time.Second

func newRoomBrowser(t *testing.T, chromium, name string, s *server) *roomBrowser {
	t.Helper()
	ctx := newBrowser(t, chromium, 5*time.Minute,
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		// Screen sharing picks the whole (fake) screen without asking.
		chromedp.Flag("auto-select-desktop-capture-source", "Entire screen"),
	)
	// The browser lives as long as the context of the first run, so start
	// it here on the test-long context, not on a step's shorter one.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("%s: start Chromium: %v", name, err)
	}
	return &roomBrowser{t: t, name: name, ctx: ctx, s: s}
}

func (b *roomBrowser) fail(step string, err error) {
	b.t.Helper()
	loc, _ := chromedp.Run(b.ctx, chromedp.Location())
	status, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(document.getElementById("room-status") || {}).textContent || ""`))
	tiles, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`JSON.stringify(Array.from(document.querySelectorAll("#grid .tile")).map(t => {
		const v = t.querySelector("video");
		return {key: t.dataset.key, cls: t.className, sid: v.dataset.sid || "", stream: !!v.srcObject,
			tracks: v.srcObject ? v.srcObject.getTracks().map(k => k.kind + ":" + k.readyState + ":" + k.muted) : [],
			ready: v.readyState, paused: v.paused, w: v.videoWidth, time: v.currentTime};
	}))`))
	b.t.Fatalf("%s: %s: %v\nat %s\nroom status: %q\ntiles: %s\nserver log:\n%.4000s", b.name, step, err, loc, status, tiles, b.s.stderr.String())
}

func (b *roomBrowser) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, roomPatience)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(step, err)
	}
}

// waitJS polls a JavaScript condition until it holds.
func (b *roomBrowser) waitJS(what, cond string) {
	b.t.Helper()
	b.waitJSWithin(roomPatience, what, cond)
}

func (b *roomBrowser) evalBool(js string) bool {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](js))
	if err != nil {
		b.fail(js, err)
	}
	return v
}

func (b *roomBrowser) evalFloat(js string) float64 {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[float64](js))
	if err != nil {
		b.fail(js, err)
	}
	return v
}

func (b *roomBrowser) evalString(js string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.fail(js, err)
	}
	return v
}

// waitJSWithin is waitJS with a tighter bound, for what must happen at once.
func (b *roomBrowser) waitJSWithin(d time.Duration, what, cond string) {
	b.t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](cond))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("still false after %v: %s", d, cond)
			}
			b.fail(what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// send writes a chat message and sends it, with the Enter key or the Send
// button.
func (b *roomBrowser) send(text string, enter bool) {
	b.t.Helper()
	if enter {
		b.do("send "+text+" with Enter", chromedp.SendKeys(chromedp.ID("chat-body"), text+"\r"))
	} else {
		b.do("send "+text, chromedp.SendKeys(chromedp.ID("chat-body"), text), chromedp.Click(chromedp.CSS("#chat-form button[type=submit]")))
	}
	b.waitJS("the message box empties", `document.getElementById("chat-body").value === ""`)
}

// noHiddenShown requires that no element with the hidden attribute is
// displayed: a stylesheet's display rule must not override it.
func (b *roomBrowser) noHiddenShown(when string) {
	b.t.Helper()
	shown := b.evalString(`Array.from(document.querySelectorAll("[hidden]")).filter(e => getComputedStyle(e).display !== "none").map(e => e.tagName + "#" + e.id).join(", ")`)
	if shown != "" {
		b.t.Errorf("%s: %s: hidden yet displayed: %s", b.name, when, shown)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fitsWidth requires that nothing on the page is wider than the viewport.
func (b *roomBrowser) fitsWidth(when string, width int) {
	b.t.Helper()
	if got := b.evalFloat(`document.documentElement.scrollWidth`); got > float64(width) {
		wide := b.evalString(fmt.Sprintf(`Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > %d).slice(0, 5).map(e => e.tagName + "#" + e.id + "." + e.className).join(", ")`, width))
		b.t.Errorf("%s: %s is %v px wide at a %d px viewport; sticking out: %s", b.name, when, got, width, wide)
	}
}

// screenshot takes a picture of the viewport, checks its width and, when
// SESSIONS_TEST_SCREENSHOTS names a folder, keeps it there for a person
// to look at.
func (b *roomBrowser) screenshot(width int, what string) {
	b.t.Helper()
	b.evalBool(`window.scrollTo(0, 0), true`)
	shot, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.fail("screenshot", err)
	}
	img, err := png.DecodeConfig(bytes.NewReader(shot))
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	// Mobile emulation may scale by the device pixel ratio.
	if img.Width%width != 0 {
		b.t.Errorf("the screenshot is %d px wide, not a multiple of %d", img.Width, width)
	}
	if dir := os.Getenv("SESSIONS_TEST_SCREENSHOTS"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("room-%s-%d-%s.png", b.name, width, what)), shot, 0o644)
	}
}
