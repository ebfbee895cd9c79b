package web

import (
	"strings"
	"testing"
)

// TestLocalPathRefusesOffSiteRedirects holds the one check of every
// destination that comes with a request to paths on this site. The
// browser column says where Chromium would have gone with the raw value
// as a Location: each of those is refused.
func TestLocalPathRefusesOffSiteRedirects(t *testing.T) {
	t.Parallel()
	const fb = "/fallback"
	for _, c := range []struct {
		raw, want string
	}{
		// Kept, rebuilt.
		{"/account", "/account"},
		{"/account/security", "/account/security"},
		{"/meetings/", "/meetings/"},
		{"/", "/"},
		{"/signin/code?next=%2Faccount%2Fsecurity", "/signin/code?next=%2Faccount%2Fsecurity"},
		{"/invitations/tok_abc?x=1&y=2", "/invitations/tok_abc?x=1&y=2"},
		{"/account#section", "/account"},
		{"/@evil.example", "/@evil.example"}, // a path of this site
		{"/caf\u00e9", "/caf%C3%A9"},
		// Refused: other hosts, as typed.
		{"", fb},
		{"account", fb},
		{" /account", fb},
		{"//evil.example", fb},
		{"//evil.example/x", fb},
		{"///evil.example", fb},
		{"https://evil.example/", fb},
		{"javascript:alert(1)", fb},
		{"/\\evil.example", fb},
		{"\\\\evil.example", fb},
		{"/\\/evil.example", fb},
		{"/x\\y", fb},
		// Refused: control characters a browser drops (the reported
		// /signin?next=/%09/evil.example arrives here with a real tab).
		{"/\t/evil.example", fb},
		{"/\n/evil.example", fb},
		{"/\r\nSet-Cookie: a=b", fb},
		{"/\x00/evil.example", fb},
		{"/\x7f", fb},
		{"/x?\t", fb},
		// Refused: the same, percent-encoded.
		{"/%09/evil.example", fb},
		{"/%0a/evil.example", fb},
		{"/%5Cevil.example", fb},
		{"/%5c/evil.example", fb},
		{"/%2F/evil.example", fb},
		{"/%2f%2fevil.example", fb},
		{"/x?next=%0d%0aSet-Cookie", fb},
		{"/x?next=%5C%5Cevil.example", fb},
		{"/%", fb},
		{"/%zz", fb},
		// Refused: paths that are not clean, which a browser resolves.
		{"/a/../..//evil.example", fb},
		{"/.//evil.example", fb},
		{"/a//b", fb},
		{"/./account", fb},
		{"/%2e%2e/%2e%2e//evil.example", fb},
		{"/" + strings.Repeat("a", maxLocalPath), fb},
	} {
		if got := localPath(c.raw, fb); got != c.want {
			t.Errorf("localPath(%q) = %q, want %q", c.raw, got, c.want)
		}
	}
	if got := cookieNext("/\t/evil.example"); got != "/" {
		t.Errorf("the cookie tool's next goes to %q, want /", got)
	}
}
