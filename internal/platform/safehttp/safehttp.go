// Package safehttp sends requests to addresses people and staff type in,
// such as the service a member moves their data to, without letting
// them reach inside our network (server-side request forgery). Only
// https is spoken; every address is checked when it is dialled, not only
// when the name is first resolved, so a name that resolves to a public
// address for the check and to a private one for the request (DNS
// rebinding) is refused too; redirects are checked the same way; time
// and size are bounded.
package safehttp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
)

// Defaults of a Client.
const (
	DefaultTimeout          = 2 * time.Minute
	DefaultMaxResponseBytes = 64 << 10
	DefaultMaxRedirects     = 3
	// MaxURLBytes bounds an address people type.
	MaxURLBytes = 2048
)

// ErrRefused is wrapped by every error that refuses a target address.
var ErrRefused = errors.New("the address is not a public internet address")

// blocked are the ranges no request may reach besides those netip
// classifies (loopback, private, link-local, multicast, unspecified):
// shared address space, special-purpose, documentation and reserved
// ranges, and the IPv6 prefixes that carry IPv4 addresses in a way that
// cannot be judged here.
var blocked = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",       // "this network"
		"100.64.0.0/10",   // carrier-grade NAT, shared address space
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation
		"192.88.99.0/24",  // 6to4 relay anycast
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation
		"203.0.113.0/24",  // documentation
		"240.0.0.0/4",     // reserved, and the broadcast address
		// IPv4-compatible (deprecated), which some stacks still send to
		// the IPv4 address in its last 32 bits: [::127.0.0.1] is loopback.
		// It holds :: and ::1 too.
		"::/96",
		"::ffff:0:0:0/96", // IPv4-translated (SIIT), the same trick
		"64:ff9b:1::/48",  // local-use NAT64: the network's own translator, to any IPv4 it likes
		"100::/64",        // discard
		"2001::/32",       // Teredo: tunnels through a relay to an obfuscated IPv4 address
		"2001:2::/48",     // benchmarking
		"2001:db8::/32",   // documentation
		"2002::/16",       // 6to4 (deprecated): relays to the IPv4 address in bits 16 to 47
		"3fff::/20",       // documentation
		"fec0::/10",       // site-local, deprecated
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// nat64 is NAT64's well-known prefix. An IPv6-only host reaches IPv4
// services through it (DNS64 answers with these addresses), and the
// translator forwards to the IPv4 address in the last 32 bits, so the
// address is judged by that IPv4 address: 64:ff9b::8.8.8.8 is public,
// 64:ff9b::10.0.0.1 is not.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// PublicOnly reports whether addr is a public unicast address that a
// request may reach. An IPv4 address mapped into IPv6 (::ffff:0:0/96) is
// judged as the IPv4 address it is, and so is a NAT64 address; the other
// ways of putting IPv4 into IPv6 are refused.
func PublicOnly(addr netip.Addr) bool {
	addr = addr.Unmap()
	if nat64.Contains(addr) {
		return PublicOnly(netip.AddrFrom4([4]byte(addr.AsSlice()[12:16])))
	}
	if !addr.IsValid() || addr.Zone() != "" || addr.IsUnspecified() || addr.IsLoopback() || addr.IsPrivate() ||
		addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast() || addr.IsInterfaceLocalMulticast() || addr.IsMulticast() {
		return false
	}
	for _, p := range blocked {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}

// CheckURL parses an address typed by a person: absolute https, with a
// host, without user name or password, and not too long. It does not
// resolve the host; the Client checks the addresses it dials.
func CheckURL(raw string) (*url.URL, error) {
	invalid := func(msg string) error {
		return &errs.Error{Code: errs.Invalid, Message: "the address is not valid", Fields: map[string]string{"url": msg}}
	}
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, invalid("is required")
	}
	if len(raw) > MaxURLBytes {
		return nil, invalid(fmt.Sprintf("must be at most %d characters", MaxURLBytes))
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Opaque != "" {
		return nil, invalid("must be a full address such as https://example.com/import")
	}
	if u.Scheme != "https" {
		return nil, invalid("must start with https://")
	}
	if u.User != nil {
		return nil, invalid("must not hold a user name or password")
	}
	if u.Hostname() == "" {
		return nil, invalid("must name a host")
	}
	if p := u.Port(); p != "" && (p == "0" || len(p) > 5) {
		return nil, invalid("has an invalid port")
	}
	u.Fragment = ""
	return u, nil
}

// Client sends requests through the checks. The zero value is ready and
// allows public addresses only.
type Client struct {
	// Allow reports whether an address may be dialled; nil means
	// PublicOnly. Tests relax it to reach a server on loopback.
	Allow func(netip.Addr) bool
	// Resolver looks names up; nil means net.DefaultResolver.
	Resolver *net.Resolver
	// RootCAs replaces the system's trusted certificates; for tests.
	RootCAs *x509.CertPool
	// Timeout bounds a whole request, body included.
	Timeout time.Duration
	// MaxResponseBytes bounds how much of an answer is read.
	MaxResponseBytes int64
	// MaxRedirects bounds the redirects followed, each checked anew.
	MaxRedirects int
}

func (c *Client) allow(a netip.Addr) bool {
	if c.Allow != nil {
		return c.Allow(a.Unmap())
	}
	return PublicOnly(a)
}

func (c *Client) resolver() *net.Resolver {
	if c.Resolver != nil {
		return c.Resolver
	}
	return net.DefaultResolver
}

// refused is the error of a target the checks turn away.
func refused(host string) error {
	return &errs.Error{Code: errs.Invalid, Message: "the address does not lead to a public service",
		Fields: map[string]string{"url": "must lead to a public internet service, not a private or local network"}, Err: fmt.Errorf("%w: %s", ErrRefused, host)}
}

// Check resolves the address's host and refuses it unless every address
// it resolves to is allowed: the early answer a form gives. Dialling
// checks again.
func (c *Client) Check(ctx context.Context, u *url.URL) error {
	host := u.Hostname()
	if a, err := netip.ParseAddr(host); err == nil {
		if !c.allow(a) {
			return refused("literal address")
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	addrs, err := c.resolver().LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return &errs.Error{Code: errs.Invalid, Message: "the address's host was not found",
			Fields: map[string]string{"url": "names a host that was not found"}, Err: err}
	}
	for _, a := range addrs {
		if !c.allow(a) {
			return refused("resolved address")
		}
	}
	return nil
}

// control runs on every socket before it connects, with the address the
// resolver chose: the one place no rebinding can get past.
func (c *Client) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: unparsable %s", ErrRefused, network)
	}
	if !c.allow(ap.Addr()) {
		return fmt.Errorf("%w: dial refused", ErrRefused)
	}
	return nil
}

func (c *Client) httpClient() *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: c.control, Resolver: c.Resolver}
	transport := &http.Transport{
		// No proxy from the environment: the checks must see the target.
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: c.RootCAs},
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  60 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		ForceAttemptHTTP2:      true,
		DisableKeepAlives:      true,
	}
	maxRedirects := c.MaxRedirects
	if maxRedirects == 0 {
		maxRedirects = DefaultMaxRedirects
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &http.Client{
		Transport: transport,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxRedirects {
				return errors.New("too many redirects")
			}
			if req.URL.Scheme != "https" {
				return fmt.Errorf("%w: redirect away from https", ErrRefused)
			}
			// The new host's addresses are checked when it is dialled.
			return nil
		},
	}
}

// Response is what came back.
type Response struct {
	Status int
	// Body is the start of the answer, at most MaxResponseBytes.
	Body []byte
}

// Post sends body to u. body must be replayable through getBody for a
// redirect that keeps the method (307, 308); nil refuses such redirects.
func (c *Client) Post(ctx context.Context, u *url.URL, contentType string, size int64, getBody func() (io.ReadCloser, error)) (Response, error) {
	body, err := getBody()
	if err != nil {
		return Response{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), body)
	if err != nil {
		body.Close()
		return Response{}, err
	}
	req.GetBody = getBody
	req.ContentLength = size
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "Sessions data transfer")
	res, err := c.httpClient().Do(req)
	if err != nil {
		return Response{}, err
	}
	defer res.Body.Close()
	limit := c.MaxResponseBytes
	if limit <= 0 {
		limit = DefaultMaxResponseBytes
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, limit))
	return Response{Status: res.StatusCode, Body: b}, err
}
