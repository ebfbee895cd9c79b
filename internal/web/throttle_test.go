package web_test

import (
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
