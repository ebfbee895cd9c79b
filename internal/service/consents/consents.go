// Package consents holds the use cases of consent: the cookie tool, the
// consent ledger, restriction, the purpose gate's inputs and first-party
// analytics. The web handlers, the sign-in and background jobs (the
// marketing campaigns) all ask the purpose gate through Allowed or
// AllowedOnRequest here, so its inputs are loaded in one place.
//
// The ledger is append-only: every use case here adds records, none
// changes or removes one.
package consents

import (
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/privacy/consent"
	"github.com/sessionshq/sessions/internal/privacy/cookies"
	"github.com/sessionshq/sessions/internal/service"
)

// Service runs the use cases of consent: the cookie tool, the consent
// ledger, restriction, the purpose gate's inputs and first-party
// analytics.
type Service struct{ env *service.Env }

// New builds the service.
func New(env *service.Env) *Service { return &Service{env: env} }

// Browser is what a request says about the browser behind it: the
// cookie choice it holds, its Global Privacy Control signal, and the
// evidence a ledger record keeps of where a choice was made.
type Browser struct {
	// Choice is the valid cookie choice the browser holds, current or
	// lapsed; HasChoice is false when it holds none.
	Choice    cookies.Choice
	HasChoice bool
	// GPC is true when the request carries the Global Privacy Control
	// signal.
	GPC bool
	// IP is the client's address as the request gave it; records keep
	// it truncated.
	IP string
	// UserAgent is the request's User-Agent; records keep only the
	// browser and system family it names.
	UserAgent string
}

// current is the browser's choice while it still stands: made under the
// cookie notice in force, less than six months ago. A lapsed choice
// allows nothing optional until it is made again.
func (b Browser) current(now time.Time) (cookies.Choice, bool) {
	if !b.HasChoice || !b.Choice.Current(now) {
		return cookies.Choice{}, false
	}
	return b.Choice, true
}

// ip is the address a record keeps: truncated, so it shows roughly where
// a choice came from without identifying the device.
func (b Browser) ip() string { return consent.TruncateIP(b.IP) }

// client is what a record keeps of the User-Agent: the browser and system
// family, such as "Firefox on Linux", as the list of sign-in sessions
// shows it. The full string, with its versions and extensions, would
// help single a device out for the five years a record is kept, and the
// evidence of a choice does not need it. "" when the request sent none.
func (b Browser) client() string {
	if b.UserAgent == "" {
		return ""
	}
	return account.DescribeClient(b.UserAgent)
}
