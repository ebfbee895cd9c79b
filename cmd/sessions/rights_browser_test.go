package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
)

// TestBrowserPrivacyCentre runs the privacy centre in headless Chromium
// against the real binary: a member signs in, asks for a copy of all
// their data, watches its progress until the download appears, downloads
// the ZIP through their own session (it opens, and data.json names
// them), and then asks for their account to be deleted, which the
// erasure engine carries out.
func TestBrowserPrivacyCentre(t *testing.T) {
	t.Parallel()
	chromium := requireChromium(t)
	ctx := context.Background()
	db, target := dbtest.OpenTarget(t)
	const (
		name     = "Grace Exportwell"
		email    = "grace.exportwell@example.com"
		password = "compiler of compilers 1952"
	)
	id := browserMember(t, db, name, email, password).ID
	addr := freeAddr(t)
	s := startBinary(t, append(target.Env(), "SESSIONS_ADDR="+addr, "SESSIONS_BASE_URL=http://"+addr, "SESSIONS_ERASURE_LEASE=2s")...)
	b := newBrowser(t, chromium, 3*time.Minute)
	steps := browserSteps{t: t, ctx: b, s: s}
	fail, do := steps.fail, steps.do

	// Sign in; a cookie banner, if shown, is answered first so that it
	// covers nothing.
	do("sign in",
		chromedp.Navigate(s.url+"/signin"),
		chromedp.WaitVisible(chromedp.ID("email")),
	)
	if n, _ := chromedp.Run(b, chromedp.Evaluate[int](`document.querySelectorAll('#cookie-banner button[value="reject-all"]').length`)); n > 0 {
		do("answer the cookie banner", chromedp.Click(chromedp.CSS(`#cookie-banner button[value="reject-all"]`)),
			chromedp.WaitNotVisible(chromedp.ID("cookie-banner")))
	}
	do("sign in",
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".site-account-name")),
	)

	// Ask for a copy of everything; the page shows it being prepared with
	// its progress, and reloads itself until the download appears.
	do("request an export",
		chromedp.Navigate(s.url+"/account/privacy"),
		chromedp.WaitVisible(chromedp.Search(`//h1[contains(., "Your data")]`)),
		chromedp.Click(chromedp.CSS(`form[action="/account/exports"] input[value="access"] ~ button`)),
		chromedp.WaitVisible(chromedp.CSS(`#exports tr[data-export] progress`)),
	)
	progress, err := chromedp.Run(b, chromedp.Text(chromedp.CSS(`#exports tr[data-export]`)))
	if err != nil || !strings.Contains(progress, "%") {
		fail("read the progress", err)
	}
	do("wait for the download", chromedp.WaitVisible(chromedp.CSS(`#exports tr[data-state="ready"] a[href*="/download?t="]`)))

	// Download it with the browser's own session, as the link does.
	encoded, err := chromedp.Run(b, chromedp.Evaluate[string](`(async () => {
		const link = document.querySelector('#exports tr[data-state="ready"] a[href*="/download?t="]');
		const res = await fetch(link.href, {credentials: "same-origin"});
		if (!res.ok || res.headers.get("Content-Type") !== "application/zip") throw new Error("download answered " + res.status);
		const bytes = new Uint8Array(await res.arrayBuffer());
		let s = "";
		for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
		return btoa(s);
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		fail("download the ZIP", err)
	}
	body, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("the download does not open as a ZIP: %v", err)
	}
	var data []byte
	for _, f := range zr.File {
		if f.Name == "data.json" {
			r, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			data, _ = io.ReadAll(r)
			r.Close()
		}
	}
	if !bytes.Contains(data, []byte(name)) || !bytes.Contains(data, []byte(email)) {
		t.Fatalf("data.json does not hold the member's name and address (%d bytes)", len(data))
	}

	// Ask for deletion from the privacy centre.
	do("request deletion",
		chromedp.Navigate(s.url+"/account/privacy"),
		chromedp.Click(chromedp.CSS(`a[href="/account/close"]`)),
		chromedp.WaitVisible(chromedp.ID("f-delete")),
		chromedp.Click(chromedp.ID("f-delete")),
		chromedp.Click(chromedp.CSS(`form[action="/account/delete"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.Search(`//*[contains(., "We will delete it")]`)),
	)
	// The erasure engine takes the request up and removes the account.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var n int
		if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM accounts WHERE id = ?`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the account was not erased after the request; server log:\n%.3000s", s.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.stop(t)
	if logs := strings.ToLower(s.stderr.String()); strings.Contains(logs, email) || strings.Contains(logs, strings.ToLower(name)) {
		t.Error("the server log names the member")
	}
}
