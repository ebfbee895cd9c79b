package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sessionshq/sessions/internal/service/wire"
	"github.com/sessionshq/sessions/internal/web"
)

// TestOpenRoutesAreRateLimited: one address flooding an open route that
// writes gets 429 with Retry-After once its share is used up, and the
// analytics events it sends meanwhile are not stored; another address is
// not affected.
func TestOpenRoutesAreRateLimited(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	flood := h.anon()
	flood.ip = "198.51.100.7"
	body := `{"type":"pageview","path":"/"}`
	var limited *response
	for i := 0; i < 400 && limited == nil; i++ {
		res := flood.do(t, http.MethodPost, "/api/analytics/events", strings.NewReader(body),
			http.Header{"Content-Type": {"application/json"}, "Sec-Fetch-Site": {"same-origin"}})
		if res.StatusCode == http.StatusTooManyRequests {
			limited = res
		}
	}
	if limited == nil {
		t.Fatal("400 requests from one address were never refused")
	}
	if limited.Header.Get("Retry-After") == "" || !strings.Contains(limited.Header.Get("Content-Type"), "problem+json") {
		t.Fatalf("429 without Retry-After or problem details: %v", limited.Header)
	}
	other := h.anon()
	other.ip = "203.0.113.8"
	res := other.do(t, http.MethodPost, "/api/analytics/events", strings.NewReader(body),
		http.Header{"Content-Type": {"application/json"}, "Sec-Fetch-Site": {"same-origin"}})
	if res.StatusCode == http.StatusTooManyRequests {
		t.Fatal("another address was refused too")
	}
	if n := h.count(t, "SELECT COUNT(*) FROM analytics_events"); n != 0 {
		t.Fatalf("%d analytics events stored without consent", n)
	}
}

// TestOpenRoutesCountAnIPv6ClientPerSlash64: a client that takes a new
// address from its /64 for every request is held to one share, as is one
// that alternates between an IPv4 address and its IPv4-mapped IPv6 form;
// the next /64 is another client.
func TestOpenRoutesCountAnIPv6ClientPerSlash64(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := `{"type":"pageview","path":"/"}`
	send := func(ip string) int {
		c := h.anon()
		c.ip = ip
		return c.do(t, http.MethodPost, "/api/analytics/events", strings.NewReader(body),
			http.Header{"Content-Type": {"application/json"}, "Sec-Fetch-Site": {"same-origin"}}).StatusCode
	}
	flood := map[string]func(i int) string{
		"one /64":        func(i int) string { return fmt.Sprintf("2001:db8:7:8:%x::%x", i, i+1) },
		"IPv4 or mapped": func(i int) string { return []string{"192.0.2.44", "::ffff:192.0.2.44"}[i%2] },
	}
	for name, ip := range flood {
		refused := false
		for i := 0; i < 400 && !refused; i++ {
			refused = send(ip(i)) == http.StatusTooManyRequests
		}
		if !refused {
			t.Errorf("%s: 400 requests were never refused", name)
		}
	}
	if status := send("2001:db8:7:9::1"); status == http.StatusTooManyRequests {
		t.Error("the neighbouring /64 was refused too")
	}
}

// TestOpenRouteLimitHoldsAcrossInstances: two instances on one database,
// as behind a load balancer, count one address together. A flood spread
// over both at once is admitted exactly as often as the limit says, not
// once per instance.
func TestOpenRouteLimitHoldsAcrossInstances(t *testing.T) {
	t.Parallel()
	const limit, perWorker = 300, 200
	first := newHarness(t)
	second := *first
	second.Srv = anotherInstance(t, first)
	var admitted, refused, other atomic.Int64
	var wg sync.WaitGroup
	for _, h := range []*harness{first, &second, first, &second} {
		wg.Go(func() {
			c := h.anon()
			c.ip = "198.51.100.7"
			for range perWorker {
				res := c.do(t, http.MethodPost, "/api/analytics/events", strings.NewReader(`{"type":"pageview","path":"/"}`),
					http.Header{"Content-Type": {"application/json"}, "Sec-Fetch-Site": {"same-origin"}})
				switch res.StatusCode {
				case http.StatusAccepted:
					admitted.Add(1)
				case http.StatusTooManyRequests:
					refused.Add(1)
				default:
					other.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if admitted.Load() != limit || other.Load() != 0 {
		t.Fatalf("two instances admitted %d of %d requests from one address (and answered %d otherwise), want exactly %d",
			admitted.Load(), 4*perWorker, other.Load(), limit)
	}
}

// anotherInstance is a second server on h's database, configuration,
// clock and secret, built as another process would build it: its own
// services and its own memory.
func anotherInstance(t *testing.T, h *harness) *web.Server {
	t.Helper()
	services, err := wire.New(wire.Parts{Config: h.Config, DB: h.DB, Clock: h.Clock, Secret: h.Secret, Mail: h.Mail,
		Passwords: harnessHasher, Blobs: h.Blobs})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Deps{Config: h.Config, Clock: h.Clock, Log: h.Srv.Log, Secret: h.Secret, Services: services})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}
