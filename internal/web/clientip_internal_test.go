package web

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestResolveClientIP(t *testing.T) {
	t.Parallel()
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	cases := []struct {
		name    string
		peer    string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"no proxies configured: header ignored", "203.0.113.9:5000", []string{"198.51.100.1"}, nil, "203.0.113.9"},
		{"untrusted peer: header ignored", "203.0.113.9:5000", []string{"198.51.100.1"}, trusted, "203.0.113.9"},
		{"trusted proxy: its client", "10.1.1.1:5000", []string{"198.51.100.1"}, trusted, "198.51.100.1"},
		{"spoofed left entries are skipped", "10.1.1.1:5000", []string{"1.2.3.4, 198.51.100.1"}, trusted, "198.51.100.1"},
		{"chain of trusted proxies", "10.1.1.1:5000", []string{"198.51.100.1, 10.2.2.2"}, trusted, "198.51.100.1"},
		{"several headers", "10.1.1.1:5000", []string{"1.2.3.4", "198.51.100.7"}, trusted, "198.51.100.7"},
		{"malformed hop", "10.1.1.1:5000", []string{"1.2.3.4, not-an-ip"}, trusted, "10.1.1.1"},
		{"only trusted hops", "10.1.1.1:5000", []string{"10.3.3.3"}, trusted, "10.1.1.1"},
		{"ipv6 proxy", "[::1]:5000", []string{"2001:db8::5"}, trusted, "2001:db8::5"},
	}
	for _, tc := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.peer
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := resolveClientIP(r, tc.trusted); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}
