package web

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestMeetingBundleIsCurrent proves, without Node.js, that the committed
// static/meeting.js is what scripts/build-assets.sh makes from the
// committed sources: the script records the SHA-256 of every input and of
// its output in web/bundle.sha256, and this test recomputes them. Editing
// a source, the lock file or the build script without rebuilding, or
// editing the bundle by hand, fails here.
func TestMeetingBundleIsCurrent(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	f, err := os.Open(filepath.Join(root, "web", "bundle.sha256"))
	if err != nil {
		t.Fatalf("%v (run scripts/build-assets.sh)", err)
	}
	defer f.Close()
	recorded := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, path, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 {
			t.Fatalf("web/bundle.sha256: unreadable line %q", sc.Text())
		}
		recorded[path] = sum
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}

	// Every file the bundle is made from must be listed, so a new source
	// file cannot slip past the check.
	want := []string{"web/package.json", "web/package-lock.json", "scripts/build-assets.sh", "internal/web/static/meeting.js"}
	err = filepath.WalkDir(filepath.Join(root, "web", "src"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		want = append(want, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range want {
		if _, ok := recorded[p]; !ok {
			t.Errorf("web/bundle.sha256 does not list %s: run scripts/build-assets.sh", p)
		}
	}
	for p, sum := range recorded {
		body, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		got := sha256.Sum256(body)
		if hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s changed since the bundle was built: run scripts/build-assets.sh", p)
		}
	}

	// The page links the bundle by its embedded name.
	if _, err := staticFS.ReadFile("static/meeting.js"); err != nil {
		t.Errorf("the bundle is not embedded: %v", err)
	}
}

func TestRoomContentSecurityPolicy(t *testing.T) {
	t.Parallel()
	if !strings.Contains(contentSecurityPolicy, "connect-src 'self';") {
		t.Fatalf("the site policy no longer has the connect-src the room extends: %s", contentSecurityPolicy)
	}
	tests := []struct {
		sfu  string
		want []string // connect-src sources after 'self'
	}{
		{"ws://127.0.0.1:8080", []string{"ws://127.0.0.1:8080", "http://127.0.0.1:8080"}},
		{"http://sessions.example:8080", []string{"ws://sessions.example:8080", "http://sessions.example:8080"}},
		{"wss://livekit.example.com", []string{"wss://livekit.example.com", "https://livekit.example.com"}},
		{"wss://livekit.example.com/some/path?x=1", []string{"wss://livekit.example.com", "https://livekit.example.com"}},
		{"ftp://livekit.example.com", nil},
		{"wss://bad host; script-src *", nil},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.sfu, func(t *testing.T) {
			got := roomContentSecurityPolicy(tt.sfu)
			var connect []string
			for d := range strings.SplitSeq(got, ";") {
				if f := strings.Fields(d); len(f) > 0 && f[0] == "connect-src" {
					connect = f[1:]
				}
			}
			if !slices.Equal(connect, append([]string{"'self'"}, tt.want...)) {
				t.Errorf("connect-src %v, want 'self' %v", connect, tt.want)
			}
			// Nothing but connect-src may change.
			if strings.Replace(got, strings.Join(append([]string{" 'self'"}, tt.want...), " "), " 'self'", 1) != contentSecurityPolicy {
				t.Errorf("the policy changed beyond connect-src: %s", got)
			}
		})
	}
}
