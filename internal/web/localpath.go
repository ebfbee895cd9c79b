package web

import (
	"net/url"
	"path"
	"strings"
)

// afterSignIn is where signing in leads when no destination on this site
// was given: the start page, which for a member is their meetings.
const afterSignIn = "/"

// maxLocalPath bounds a destination; none of this site's is near it.
const maxLocalPath = 2048

// localPath is the one check of a destination that came with a request
// (after sign-in, after the second step, after a cookie choice or a
// notice): it returns raw rebuilt as a path on this site, or fallback.
//
// Browsers read a Location more loosely than url.Parse does: they drop
// tabs and newlines anywhere, take a backslash for a slash, and read a
// leading "//" as another host, so "/\t/evil.example" leaves the site. So
// a control character or a backslash anywhere, as typed or
// percent-encoded, refuses raw, and so does a path that is not already
// clean (a "//", a "." or ".." segment), decoded or not. What passes is
// rebuilt from its parsed path and query, without a fragment.
func localPath(raw, fallback string) string {
	if len(raw) > maxLocalPath || !strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "//") || unsafeInURL(raw) {
		return fallback
	}
	decoded, err := url.PathUnescape(raw)
	if err != nil || unsafeInURL(decoded) {
		return fallback
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.User != nil || u.Host != "" || u.Opaque != "" || !isCleanPath(u.Path) {
		return fallback
	}
	return (&url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery}).String()
}

// unsafeInURL reports a character that a browser drops or reads as a
// slash: ASCII control characters and the backslash.
func unsafeInURL(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' })
}

// isCleanPath reports whether p is a rooted path that path.Clean leaves
// as it is (but for a trailing slash): no "//", no "." or ".." segment.
func isCleanPath(p string) bool {
	if !strings.HasPrefix(p, "/") {
		return false
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}
