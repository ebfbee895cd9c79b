package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/privacy/rights"
)

// burstSize is how many tries each burst fires at once: far more than any
// limit, as a script would.
const burstSize = 48

// burst sends the requests make builds, all at once, each from its own
// address so that only the limit under test can refuse them, and returns
// how many got each status.
func burst(h *harness, n int, build func(i int) *http.Request) map[int]int {
	var (
		mu       sync.Mutex
		statuses = map[int]int{}
		start    = make(chan struct{})
		wg       sync.WaitGroup
	)
	for i := range n {
		r := build(i)
		r.RemoteAddr = fmt.Sprintf("198.18.%d.%d:40000", i/200, 1+i%200)
		if r.Header.Get("Sec-Fetch-Site") == "" {
			r.Header.Set("Sec-Fetch-Site", "same-origin")
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			rec := httptest.NewRecorder()
			h.Srv.ServeHTTP(rec, r)
			mu.Lock()
			statuses[rec.Code]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return statuses
}

func formRequest(path string, form url.Values, cookies ...*http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range cookies {
		r.AddCookie(c)
	}
	return r
}

// wantLimitHeld checks a burst's answers: exactly limit tries were checked
// (and answered checked), every other one was refused with 429, and none
// failed.
func wantLimitHeld(t *testing.T, what string, got map[int]int, limit, checked int) {
	t.Helper()
	if got[checked] != limit || got[http.StatusTooManyRequests] != burstSize-limit || len(got) > 2 {
		t.Fatalf("%s: %d concurrent wrong tries were answered %v; want exactly %d answered %d and the other %d refused with 429",
			what, burstSize, got, limit, checked, burstSize-limit)
	}
}

// TestConcurrentGuessesStopAtTheLimit fires bursts of concurrent wrong
// guesses at each check that locks out, as one script against one
// instance or several against many would: passwords, second-factor codes,
// meeting passcodes and the codes of the public request form. Each check
// lets exactly its limit through, refuses the rest with 429 and never
// fails with a 500; the right secret typed after the limit, inside a
// further burst, does not get in.
func TestConcurrentGuessesStopAtTheLimit(t *testing.T) {
	t.Parallel()

	t.Run("passwords", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		m := h.newMember(t)
		got := burst(h, burstSize, func(int) *http.Request {
			return formRequest("/signin", url.Values{"email": {m.Email}, "password": {"wrong password"}})
		})
		wantLimitHeld(t, "sign-in", got, account.AccountThrottle.Limit, http.StatusUnauthorized)
		// The right password within a burst of wrong ones.
		got = burst(h, burstSize, func(i int) *http.Request {
			pw := "wrong password"
			if i == burstSize/2 {
				pw = m.Password
			}
			return formRequest("/signin", url.Values{"email": {m.Email}, "password": {pw}})
		})
		if got[http.StatusTooManyRequests] != burstSize {
			t.Fatalf("after the limit a burst with the right password was answered %v, want all 429", got)
		}
	})

	t.Run("second-factor codes", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		m := h.newMember(t)
		secret, _ := enableTOTP(t, h, h.signIn(t, m))
		c := h.anon()
		wantRedirect(t, signInForm(t, c, m.Email, m.Password), "/signin/code")
		challenge := c.cookies["sessions-challenge"]
		if challenge == nil {
			t.Fatal("no challenge cookie after the right password")
		}
		h.Clock.Advance(30 * time.Second) // the code that turned it on is spent
		right, _ := account.TOTPCode(secret, h.Clock.Now())
		wrong := "000000"
		if right == wrong {
			wrong = "111111"
		}
		got := burst(h, burstSize, func(int) *http.Request {
			return formRequest("/signin/code", url.Values{"code": {wrong}}, challenge)
		})
		wantLimitHeld(t, "second step", got, account.SecondStepThrottle.Limit, http.StatusUnauthorized)
		got = burst(h, burstSize, func(i int) *http.Request {
			code := wrong
			if i == burstSize/2 {
				code = right
			}
			return formRequest("/signin/code", url.Values{"code": {code}}, challenge)
		})
		if got[http.StatusTooManyRequests] != burstSize {
			t.Fatalf("after the limit a burst with the right code was answered %v, want all 429", got)
		}
		told := 0
		for _, r := range outboxTo(t, h, m.Email) {
			if r.Template == "account.second-step-locked" {
				told++
			}
		}
		if told != 1 {
			t.Fatalf("the owner was told %d times that the second step locked, want once", told)
		}
	})

	t.Run("meeting passcodes", func(t *testing.T) {
		t.Parallel()
		h := newHarnessOpts(t, harnessOptions{Video: emptyVideo})
		cm := newCallMeeting(t, h)
		cm.passcode(t, h, "tulip-42")
		ada := h.newMember(t)
		cm.member(t, h, ada, meeting.RoleParticipant)
		token := h.apiToken(t, ada)
		join := func(passcode string) *http.Request {
			r := httptest.NewRequest(http.MethodPost, cm.path("/join"), strings.NewReader(fmt.Sprintf(`{"passcode":%q}`, passcode)))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Authorization", "Bearer "+token)
			return r
		}
		got := burst(h, burstSize, func(i int) *http.Request { return join(fmt.Sprintf("guess-%d", i)) })
		wantLimitHeld(t, "passcode", got, meeting.PasscodeThrottle.Limit, http.StatusForbidden)
		got = burst(h, burstSize, func(i int) *http.Request {
			if i == burstSize/2 {
				return join("tulip-42")
			}
			return join(fmt.Sprintf("again-%d", i))
		})
		if got[http.StatusTooManyRequests] != burstSize {
			t.Fatalf("after the limit a burst with the right passcode was answered %v, want all 429", got)
		}
	})

	t.Run("request codes", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		verify, code := rqPublic(t, h, h.anon(), "requester@example.org")
		if code == "" {
			t.Fatal("no code e-mailed")
		}
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		got := burst(h, burstSize, func(int) *http.Request { return formRequest(verify, url.Values{"code": {wrong}}) })
		wantLimitHeld(t, "request code", got, rights.CodeAttempts, http.StatusUnprocessableEntity)
		got = burst(h, burstSize, func(i int) *http.Request {
			if i == burstSize/2 {
				return formRequest(verify, url.Values{"code": {code}})
			}
			return formRequest(verify, url.Values{"code": {wrong}})
		})
		if got[http.StatusTooManyRequests] != burstSize {
			t.Fatalf("after the limit a burst with the right code was answered %v, want all 429", got)
		}
		id := strings.TrimSuffix(strings.TrimPrefix(verify, "/privacy/request/"), "/verify")
		if n := h.count(t, `SELECT COUNT(*) FROM account_requests WHERE id = ? AND state = 'verifying'`, id); n != 1 {
			t.Fatal("the request was opened after its code was spent")
		}
	})
}
