package ratelimit

import "testing"

// TestClientKeyAggregatesIPv6ToItsSlash64: every address a client can
// choose inside its /64 lands on one counter; IPv4 stays per address and
// an IPv4-mapped IPv6 address counts as its IPv4 address.
func TestClientKeyAggregatesIPv6ToItsSlash64(t *testing.T) {
	same := [][2]string{
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff"},
		{"2001:db8:1:2::1", "2001:db8:1:2:a:b:c:d"},
		{"2001:db8:1:2::1", "2001:DB8:1:2::7"},
		{"fe80::1%eth0", "fe80::2"}, // a zone does not split a /64
		{"203.0.113.7", "::ffff:203.0.113.7"},
	}
	for _, s := range same {
		if ClientKey(s[0]) != ClientKey(s[1]) {
			t.Errorf("%s counts under %s and %s under %s: want one counter", s[0], ClientKey(s[0]), s[1], ClientKey(s[1]))
		}
	}
	differ := [][2]string{
		{"2001:db8:1:2::1", "2001:db8:1:3::1"}, // the next /64 is another client
		{"203.0.113.7", "203.0.113.8"},         // IPv4 stays per address
		{"::ffff:203.0.113.7", "203.0.113.8"},
	}
	for _, d := range differ {
		if ClientKey(d[0]) == ClientKey(d[1]) {
			t.Errorf("%s and %s share the counter %s", d[0], d[1], ClientKey(d[0]))
		}
	}
	if got := ClientKey("203.0.113.7"); got != "203.0.113.7" {
		t.Errorf("an IPv4 address is counted under %q, want the address itself", got)
	}
	if got := ClientKey("not an address"); got != "not an address" {
		t.Errorf("a value that is no address became %q", got)
	}
}
