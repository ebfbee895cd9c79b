package web_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// gunzip returns the body of a gzip response, failing the test when it
// is not gzip.
func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("body is not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gzip body: %v", err)
	}
	return out
}

var assetHref = regexp.MustCompile(`/static/meeting\.[0-9a-f]+\.js|/static/app\.[0-9a-f]+\.css`)

// TestCompression: pages, style sheets, scripts and JSON come gzipped to
// a client that accepts gzip, and as they are to one that does not, with
// Vary: Accept-Encoding on both so no cache mixes them up; ranges,
// downloads, tiny bodies and pages another site asked for stay
// uncompressed.
func TestCompression(t *testing.T) {
	h := newHarness(t)
	ada := h.newMember(t)
	browser := h.signIn(t, ada)
	gz := http.Header{"Accept-Encoding": {"gzip, deflate, br"}}

	// The style sheet is on every page, the call script on the room's.
	id := createMeeting(t, h.apiClient(t, ada), nil)
	room := browser.get(t, "/meetings/"+id+"/room")
	assets := assetHref.FindAllString(h.anon().get(t, "/").text()+room.text(), -1)
	paths := append([]string{"/", "/privacy/record", "/privacy/subprocessors", "/api/openapi.json", "/api/subprocessors"}, assets...)
	if len(assets) == 0 {
		t.Fatalf("no asset URL on the home page")
	}
	for _, path := range paths {
		plain := h.anon().get(t, path)
		zipped := h.anon().do(t, http.MethodGet, path, nil, gz)
		if plain.StatusCode != http.StatusOK || zipped.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d / %d", path, plain.StatusCode, zipped.StatusCode)
		}
		if ce := plain.Header.Get("Content-Encoding"); ce != "" {
			t.Errorf("%s without Accept-Encoding: Content-Encoding %q", path, ce)
		}
		if ce := zipped.Header.Get("Content-Encoding"); ce != "gzip" {
			t.Errorf("%s with Accept-Encoding gzip: Content-Encoding %q, want gzip", path, ce)
			continue
		}
		for _, res := range []*http.Response{plain.Response, zipped.Response} {
			if !strings.Contains(strings.Join(res.Header.Values("Vary"), ","), "Accept-Encoding") {
				t.Errorf("%s: Vary %q lacks Accept-Encoding", path, res.Header.Values("Vary"))
			}
		}
		body := gunzip(t, zipped.Body)
		if len(zipped.Body) >= len(body) {
			t.Errorf("%s: gzip body %d bytes is not smaller than %d", path, len(zipped.Body), len(body))
		}
		if strings.HasPrefix(path, "/static/") && !bytes.Equal(body, plain.Body) {
			t.Errorf("%s: the gzipped asset differs from the plain one", path)
		}
		t.Logf("%s: %d bytes, %d gzipped", path, len(plain.Body), len(zipped.Body))
	}

	// Content-hashed assets are cached for a year and never revalidated.
	for _, a := range assets {
		if cc := h.anon().get(t, a).Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q", a, cc)
		}
	}

	// A signed-in member's page is compressed too.
	if ce := browser.do(t, http.MethodGet, "/account", nil, gz).Header.Get("Content-Encoding"); ce != "gzip" {
		t.Errorf("/account: Content-Encoding %q, want gzip", ce)
	}

	// gzip;q=0 refuses gzip.
	if ce := h.anon().do(t, http.MethodGet, "/", nil, http.Header{"Accept-Encoding": {"gzip;q=0, identity"}}).Header.Get("Content-Encoding"); ce != "" {
		t.Errorf("gzip;q=0: Content-Encoding %q", ce)
	}
	// A range is answered from the identity body.
	rng := h.anon().do(t, http.MethodGet, assets[0], nil, http.Header{"Accept-Encoding": {"gzip"}, "Range": {"bytes=0-99"}})
	if ce := rng.Header.Get("Content-Encoding"); ce != "" {
		t.Errorf("range request: Content-Encoding %q", ce)
	}
	// A page another site made the browser fetch stays uncompressed
	// (BREACH, compress.go).
	cross := h.anon().do(t, http.MethodGet, "/", nil, http.Header{"Accept-Encoding": {"gzip"}, "Sec-Fetch-Site": {"cross-site"}})
	if ce := cross.Header.Get("Content-Encoding"); ce != "" || cross.StatusCode != http.StatusOK {
		t.Errorf("cross-site page: status %d, Content-Encoding %q", cross.StatusCode, ce)
	}
	// A download keeps its bytes as they are.
	dl := browser.do(t, http.MethodGet, "/account/consents/receipts.json", nil, gz)
	if dl.StatusCode != http.StatusOK || dl.Header.Get("Content-Encoding") != "" {
		t.Errorf("download: status %d, Content-Encoding %q", dl.StatusCode, dl.Header.Get("Content-Encoding"))
	}
	// A tiny body is not worth gzip's framing.
	tiny := h.anon().do(t, http.MethodGet, "/healthz", nil, gz)
	if tiny.Header.Get("Content-Encoding") != "" {
		t.Errorf("/healthz (%d bytes): Content-Encoding %q", len(tiny.Body), tiny.Header.Get("Content-Encoding"))
	}
}
