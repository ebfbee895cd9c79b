// Package analytics owns the product's first-party analytics: which events
// exist and what they may carry, the daily-rotating random id that counts
// a visit once, the shortening of IP addresses before anything is stored,
// how long events are kept, and the aggregate report staff see, in which
// every count under five is suppressed so that no one's visit can be
// picked out.
//
// Events are collected only under the visitor's analytics consent; that
// check is the purpose gate's, made by internal/web before an event gets
// here. There is no fingerprinting: an event holds the page's route, a
// feature name, the day's random id and a truncated address, and nothing
// about the device. The package knows no HTTP and no SQL.
package analytics

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/privacy/consent"
)

// Kind is what an event records.
type Kind string

const (
	// PageView is a page being shown.
	PageView Kind = "pageview"
	// Feature is a feature being used, named by the page's markup.
	Feature Kind = "feature"
)

// Limits of what an event may carry. MaxBody bounds the whole JSON body a
// page's script posts; a larger one is refused before it is read.
const (
	MaxPath = 512
	MaxName = 64
	MaxBody = 2 << 10
)

// Input is an event as a page's script posts it.
type Input struct {
	Type string `json:"type"`
	Path string `json:"path"`
	Name string `json:"name,omitempty"`
}

var featureName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// Checked is an Input that passed Check.
type Checked struct {
	Kind Kind
	// Path is the page's path without query string or fragment.
	Path string
	Name string
}

// Check validates an input: a known type, a path on this site and, for a
// feature, a name of lower-case letters, digits, dots, dashes and
// underscores. Problems are reported per field as errs.Invalid.
func (in Input) Check() (Checked, error) {
	v := errs.Validation{}
	out := Checked{Kind: Kind(in.Type), Name: in.Name}
	switch out.Kind {
	case PageView, Feature:
	case "":
		v.Add("type", "is required: pageview or feature")
	default:
		v.Add("type", "must be pageview or feature")
	}
	p, err := CleanPath(in.Path)
	if err != nil {
		v.Add("path", err.Error())
	}
	out.Path = p
	switch {
	case out.Kind == Feature && in.Name == "":
		v.Add("name", "is required for a feature event")
	case out.Kind == PageView && in.Name != "":
		v.Add("name", "is only for feature events")
	case len(in.Name) > MaxName:
		v.Add("name", "must be at most 64 characters")
	case in.Name != "" && !featureName.MatchString(in.Name):
		v.Add("name", "must be lower-case letters, digits, dots, dashes or underscores")
	}
	return out, v.Err()
}

// pathError is a path's problem, worded for a field message.
type pathError string

func (e pathError) Error() string { return string(e) }

// CleanPath checks that raw is a path on this site and drops any query
// string or fragment, which may carry tokens or addresses.
func CleanPath(raw string) (string, error) {
	switch {
	case raw == "":
		return "", pathError("is required")
	case len(raw) > MaxPath:
		return "", pathError("must be at most 512 characters")
	case !utf8.ValidString(raw) || strings.ContainsFunc(raw, unicode.IsControl):
		return "", pathError("must be printable text")
	case raw[0] != '/' || strings.HasPrefix(raw, "//") || strings.Contains(raw, `\`):
		return "", pathError("must be a path on this site, starting with one /")
	}
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i]
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host != "" || u.Scheme != "" {
		return "", pathError("must be a path on this site, starting with one /")
	}
	return raw, nil
}

// Event is one stored event.
type Event struct {
	At   time.Time
	Kind Kind
	// Path is the route pattern of the page, such as /orgs/{id}.
	Path      string
	Name      string
	VisitorID string
	// IPPrefix is the requester's address truncated to its network.
	IPPrefix string
}

// Day is the UTC date of the event, as reports group it.
func (e Event) Day() string { return DayOf(e.At) }

// DayOf formats t's UTC date as reports and rows name days.
func DayOf(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// NewEvent builds the event to store from a checked input, the route
// pattern its path matched, the visitor's analytics id and the
// requester's address, which it truncates (IPv4 to /24, IPv6 to /48)
// so that the full address is never stored.
func NewEvent(c Checked, route, visitorID, ip string, now time.Time) Event {
	return Event{At: now.UTC(), Kind: c.Kind, Path: route, Name: c.Name, VisitorID: visitorID, IPPrefix: TruncateIP(ip)}
}

// TruncateIP keeps the network part of an address; see consent.TruncateIP,
// which the consent ledger uses too, so both keep exactly as much.
func TruncateIP(ip string) string { return consent.TruncateIP(ip) }

// Visitor ids. An id is drawn at random for one UTC day and carries that
// day, so it is replaced at the first event of the next day; every change
// of the cookie choice drops it too. It is never derived from anything
// about the device.

const visitorPrefix = "av_"

// NewVisitorID returns a fresh random id for the UTC day of now.
func NewVisitorID(now time.Time) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return visitorPrefix + now.UTC().Format("20060102") + "_" + hex.EncodeToString(b[:])
}

// VisitorIDFresh reports whether id is one NewVisitorID made on the UTC
// day of now; any other value, an older day's id included, is replaced.
func VisitorIDFresh(id string, now time.Time) bool {
	rest, ok := strings.CutPrefix(id, visitorPrefix)
	if !ok || len(rest) != 8+1+24 || rest[8] != '_' {
		return false
	}
	if _, err := hex.DecodeString(rest[9:]); err != nil {
		return false
	}
	return rest[:8] == now.UTC().Format("20060102")
}

// VisitorIDExpires is when an id drawn at now stops being used: the next
// UTC midnight.
func VisitorIDExpires(now time.Time) time.Time {
	d := now.UTC()
	return time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, time.UTC)
}
