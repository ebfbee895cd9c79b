package safehttp_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/safehttp"
)

func TestPublicOnly(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"93.184.215.14", true},
		{"2606:4700:4700::1111", true},
		{"8.8.8.8", true},
		{"127.0.0.1", false},
		{"127.255.1.2", false},
		{"::1", false},
		{"0.0.0.0", false},
		{"::", false},
		{"0.1.2.3", false},
		{"10.0.0.1", false},
		{"172.16.5.4", false},
		{"172.31.255.255", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false}, // cloud metadata
		{"fe80::1", false},
		{"fe80::1%eth0", false},
		{"fc00::1", false},
		{"fd12:3456::1", false},
		{"100.64.0.1", false},
		{"100.127.255.254", false},
		{"224.0.0.1", false},
		{"239.255.255.250", false},
		{"ff02::1", false},
		{"255.255.255.255", false},
		{"240.0.0.1", false},
		{"192.0.2.1", false},
		{"198.18.0.1", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.0.0.1", false},
		{"::ffff:169.254.169.254", false},
		{"::ffff:8.8.8.8", true},
		{"2001:db8::1", false},
		{"3fff::1", false},
		{"2001:2::1", false},
	} {
		a, err := netip.ParseAddr(tc.addr)
		if err != nil {
			t.Fatalf("%s: %v", tc.addr, err)
		}
		if got := safehttp.PublicOnly(a); got != tc.want {
			t.Errorf("PublicOnly(%s) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}

// TestIPv4CarriedInIPv6IsJudgedOrRefused: https://[::127.0.0.1]/ passed
// the check, because the IPv4-compatible form slipped past every list.
// Each way of carrying IPv4 in IPv6 is either judged by the IPv4 address
// the traffic ends up at or refused outright.
func TestIPv4CarriedInIPv6IsJudgedOrRefused(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want bool
	}{
		// IPv4-compatible and IPv4-translated forms reach the IPv4
		// address on some stacks: refused whatever they carry.
		{"::127.0.0.1", false},
		{"::10.0.0.1", false},
		{"::169.254.169.254", false},
		{"::8.8.8.8", false},
		{"::ffff:0:127.0.0.1", false},
		{"::ffff:0:8.8.8.8", false},
		// IPv4-mapped: judged as the IPv4 address.
		{"::ffff:100.64.0.1", false},
		{"::ffff:192.0.2.1", false},
		{"::ffff:0.0.0.0", false},
		// NAT64's well-known prefix: judged by the IPv4 address it leads to.
		{"64:ff9b::7f00:1", false},
		{"64:ff9b::10.0.0.1", false},
		{"64:ff9b::192.168.1.1", false},
		{"64:ff9b::169.254.169.254", false},
		{"64:ff9b::100.64.0.1", false},
		{"64:ff9b::8.8.8.8", true},
		// Local-use NAT64, 6to4 and Teredo: refused, public IPv4 or not.
		{"64:ff9b:1::8.8.8.8", false},
		{"2002:7f00:1::", false},
		{"2002:a00:1::1", false},
		{"2002:808:808::1", false},
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", false},
		{"2001:0:53aa:64c:0:0:f5ff:fffe", false},
	} {
		a, err := netip.ParseAddr(tc.addr)
		if err != nil {
			t.Fatalf("%s: %v", tc.addr, err)
		}
		if got := safehttp.PublicOnly(a); got != tc.want {
			t.Errorf("PublicOnly(%s) = %v, want %v", tc.addr, got, tc.want)
		}
	}
	u, err := safehttp.CheckURL("https://[::127.0.0.1]/import")
	if err != nil {
		t.Fatal(err)
	}
	if err := (&safehttp.Client{}).Check(context.Background(), u); !errors.Is(err, safehttp.ErrRefused) {
		t.Fatalf("Check(https://[::127.0.0.1]/) = %v, want refused", err)
	}
}

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		raw string
		ok  bool
	}{
		{"https://import.example.com/sessions", true},
		{"  https://example.com  ", true},
		{"http://example.com/", false},
		{"ftp://example.com/", false},
		{"file:///etc/passwd", false},
		{"gopher://example.com", false},
		{"https://user:pw@example.com/", false},
		{"https:///path", false},
		{"//example.com", false},
		{"example.com", false},
		{"", false},
		{"https://example.com:0/", false},
		{"https://" + strings.Repeat("a", safehttp.MaxURLBytes) + ".com", false},
	} {
		_, err := safehttp.CheckURL(tc.raw)
		if (err == nil) != tc.ok {
			t.Errorf("CheckURL(%q) = %v, want ok %v", tc.raw, err, tc.ok)
		}
		if err != nil && errs.CodeOf(err) != errs.Invalid {
			t.Errorf("CheckURL(%q) code %s, want invalid", tc.raw, errs.CodeOf(err))
		}
	}
}

func TestPrivateTargetsAreRefused(t *testing.T) {
	ctx := context.Background()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("a refused target was reached")
	}))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	c := &safehttp.Client{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	for _, host := range []string{"127.0.0.1", "[::1]", "localhost", "[::ffff:127.0.0.1]", "[::127.0.0.1]", "[::ffff:0:127.0.0.1]", "[64:ff9b::127.0.0.1]", "[2002:7f00:1::1]", "10.1.2.3", "169.254.169.254", "[fe80::1]", "100.64.1.1", "0.0.0.0", "[fd00::1]", "224.0.0.1"} {
		u, err := safehttp.CheckURL("https://" + host + ":" + strconv.Itoa(port) + "/import")
		if err != nil {
			t.Fatalf("%s: %v", host, err)
		}
		if host != "localhost" {
			if err := c.Check(ctx, u); err == nil || errs.CodeOf(err) != errs.Invalid {
				t.Errorf("Check(%s) = %v, want refused", host, err)
			}
		}
		// Dialling refuses too, whatever the check said: this is what
		// stops a name that resolves elsewhere by the time of the request.
		_, err = c.Post(ctx, u, "application/json", 2, body("{}"))
		if !errors.Is(err, safehttp.ErrRefused) {
			t.Errorf("Post to %s = %v, want ErrRefused", host, err)
		}
	}
}

func TestRedirectToPrivateTargetIsRefused(t *testing.T) {
	ctx := context.Background()
	inner := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the redirect target was reached")
	}))
	defer inner.Close()
	outer := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inner.URL+"/steal", http.StatusTemporaryRedirect)
	}))
	defer outer.Close()
	outerAddr := netip.MustParseAddrPort(outer.Listener.Addr().String())
	// Both servers listen on loopback: the first dial (to the server
	// that redirects) is allowed, any later one stands for a private
	// target and is refused.
	allowed := 0
	c := &safehttp.Client{RootCAs: outer.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs,
		Allow: func(a netip.Addr) bool { allowed++; return allowed == 1 && a == outerAddr.Addr() }}
	u, _ := url.Parse(outer.URL + "/import")
	_, err := c.Post(ctx, u, "application/json", 2, body("{}"))
	if !errors.Is(err, safehttp.ErrRefused) {
		t.Fatalf("Post through a redirect = %v, want ErrRefused", err)
	}
}

func TestPostReachesAnAllowedHTTPSServer(t *testing.T) {
	var got []byte
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write(bytes.Repeat([]byte("x"), 1<<20))
	}))
	defer srv.Close()
	c := &safehttp.Client{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs,
		Allow: func(a netip.Addr) bool { return a.IsLoopback() }, MaxResponseBytes: 100}
	u, _ := url.Parse(srv.URL)
	res, err := c.Post(context.Background(), u, "application/json", 7, body(`{"a":1}`))
	if err != nil || res.Status != http.StatusAccepted || string(got) != `{"a":1}` || len(res.Body) != 100 {
		t.Fatalf("Post = %d %d bytes %q, %v", res.Status, len(res.Body), got, err)
	}
	// Without the relaxed check the same server is refused.
	_, err = (&safehttp.Client{RootCAs: c.RootCAs}).Post(context.Background(), u, "application/json", 7, body(`{"a":1}`))
	if !errors.Is(err, safehttp.ErrRefused) {
		t.Fatalf("the default client reached loopback: %v", err)
	}
}

func body(s string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(s)), nil }
}
