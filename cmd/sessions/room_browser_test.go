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
// browsers with fake cameras and microphones, through our own pages, on
// the real binary and its embedded SFU: the host signs in and opens the
// room; the guest opens the personal link from the invitation mail, gives
// a name, asks to join and waits in the lobby until the host admits them
// from the room's People panel. Then each must see the other's video
// playing (videoWidth > 0 and currentTime advancing), a chat message
// must reach the other side, and at 390 px wide nothing may stick out
// sideways.
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

	// The host signs in and joins first: hosts pass the lobby.
	hostB.do("host signs in and opens the room",
		chromedp.Navigate(s.url+"/signin"),
		chromedp.SendKeys(chromedp.ID("email"), host.Email),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".site-account-name")),
		chromedp.Navigate(s.url+"/meetings/"+m.ID+"/room"),
		chromedp.WaitVisible(chromedp.ID("prejoin")),
	)
	// The device check shows the fake camera before anything is sent.
	hostB.waitJS("the camera preview plays", `document.getElementById("preview").videoWidth > 0`)
	hostB.do("host joins", chromedp.Click(chromedp.ID("join-button")), chromedp.WaitVisible(chromedp.ID("call")))

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
	guestB.fitsWidth("the device check", 390)
	guestB.do("guest asks to join", chromedp.Click(chromedp.ID("join-button")), chromedp.WaitVisible(chromedp.ID("lobby-wait")))

	// The host sees the guest waiting and admits them.
	hostB.do("host opens the People panel", chromedp.Click(chromedp.ID("tab-people")))
	hostB.waitJS("the guest shows in the lobby list",
		`Array.from(document.querySelectorAll("#lobby-list .person-name")).some(e => e.textContent === "Gustav Guest")`)
	hostB.do("host admits the guest", chromedp.Click(chromedp.Search(`//ul[@id="lobby-list"]//button[normalize-space()="Admit"]`)))
	guestB.do("the guest is let in", chromedp.WaitVisible(chromedp.ID("call")))

	// Each sees the other's video playing, named.
	for _, b := range []*roomBrowser{hostB, guestB} {
		// livekit-client's adaptive stream pauses videos scrolled out of
		// sight, and clicking the panels below may have scrolled the grid
		// away: look at it, as a person would.
		b.evalBool(`document.getElementById("grid").scrollIntoView({block: "start"}), true`)
		b.waitJS("the other's video has frames",
			`(() => { const v = document.querySelector("#grid .tile:not(.tile-local) video"); return !!v && v.videoWidth > 0; })()`)
		first := b.evalFloat(`document.querySelector("#grid .tile:not(.tile-local) video").currentTime`)
		b.waitJS("the other's video advances",
			fmt.Sprintf(`document.querySelector("#grid .tile:not(.tile-local) video").currentTime > %f`, first))
	}
	if name := hostB.evalString(`document.querySelector("#grid .tile:not(.tile-local) .tile-name").textContent`); name != "Gustav Guest" {
		t.Errorf("the host's tile of the guest is named %q", name)
	}
	if name := guestB.evalString(`document.querySelector("#grid .tile:not(.tile-local) .tile-name").textContent`); name != host.Name {
		t.Errorf("the guest's tile of the host is named %q", name)
	}
	// Moderation is offered to the host only.
	if !hostB.evalBool(`!document.getElementById("host-tools").hidden`) {
		t.Error("the host has no host controls")
	}
	if !guestB.evalBool(`document.getElementById("host-tools").hidden`) {
		t.Error("the guest is shown host controls")
	}

	// Chat goes through our server and reaches the other side.
	guestB.do("the guest writes in the chat",
		chromedp.SendKeys(chromedp.ID("chat-body"), "Hello from the phone"),
		chromedp.Click(chromedp.CSS("#chat-form button[type=submit]")),
	)
	hostB.do("the host opens the chat", chromedp.Click(chromedp.ID("tab-chat")))
	hostB.waitJS("the host reads the guest's message",
		`Array.from(document.querySelectorAll("#chat-list .message-body")).some(e => e.textContent === "Hello from the phone")`)

	guestB.fitsWidth("the call", 390)
	guestB.screenshot(390)

	// Leaving ends the call on this page.
	guestB.do("the guest leaves", chromedp.Click(chromedp.ID("leave")), chromedp.WaitVisible(chromedp.ID("ended")))
	hostB.waitJS("the guest's tile goes", `document.querySelectorAll("#grid .tile").length === 1`)

	s.stop(t)
	logs := strings.ToLower(s.stderr.String())
	for _, marker := range []string{host.Email, "gustav", "hanna", "hello from the phone"} {
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
	deadline := time.Now().Add(roomPatience)
	for {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](cond))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("still false: %s", cond)
			}
			b.fail(what, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
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
func (b *roomBrowser) screenshot(width int) {
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
		_ = os.WriteFile(filepath.Join(dir, "room-"+b.name+".png"), shot, 0o644)
	}
}
