package proctest

import (
	"os"
	"os/exec"
	"testing"
)

// ChromiumPath finds the browser that the suite's browser tests drive: the
// one SESSIONS_TEST_CHROMIUM names, or an installed Chromium or Chrome
// (scripts/ensure-deps.sh installs Debian's chromium); "" when none is.
func ChromiumPath() string {
	if p := os.Getenv("SESSIONS_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// RequireChromium returns the browser's path, or skips the test where none
// is installed so that the rest of the suite still runs.
func RequireChromium(t testing.TB) string {
	t.Helper()
	p := ChromiumPath()
	if p == "" {
		t.Skip("no Chromium found (install it with scripts/ensure-deps.sh or set SESSIONS_TEST_CHROMIUM)")
	}
	return p
}
