package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
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
