// Package errs owns the one error type that crosses package boundaries.
//
// Domain code returns *Error with a Code and a message that is safe to show
// to the person who made the request. Anything else that reaches the edge is
// treated as an internal error: logged with the request id, never shown.
// The HTTP mapping lives in exactly one place, internal/web/errors.go.
package errs

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Code classifies an error by what the caller did wrong (or that we did).
type Code string

const (
	Invalid      Code = "invalid"      // the input breaks a rule: 422, or 400 when unparseable
	Malformed    Code = "malformed"    // the body could not be parsed at all: 400
	Unauthorized Code = "unauthorized" // not signed in, or bad credentials: 401
	Forbidden    Code = "forbidden"    // signed in but not allowed: 403
	NotFound     Code = "not_found"    // 404
	BadMethod    Code = "bad_method"   // 405
	Conflict     Code = "conflict"     // 409
	TooLarge     Code = "too_large"    // 413
	Unsupported  Code = "unsupported"  // 415
	RateLimited  Code = "rate_limited" // 429
	Unavailable  Code = "unavailable"  // 503
	Internal     Code = "internal"     // 500, message never shown
)

// Error is a failure whose Message may be shown to the requester.
type Error struct {
	Code    Code
	Message string
	// Fields holds per-field messages for validation failures.
	Fields map[string]string
	// Err is the underlying cause, for logs only.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an *Error with a formatted, safe message.
func E(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap attaches a cause that is logged but never shown.
func Wrap(code Code, err error, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// Validation collects field-level messages; Err returns nil when none were added.
type Validation map[string]string

// Add records a message for a field, keeping the first one.
func (v Validation) Add(field, message string) {
	if _, ok := v[field]; !ok {
		v[field] = message
	}
}

// Err returns an Invalid error carrying the field messages, or nil.
func (v Validation) Err() error {
	if len(v) == 0 {
		return nil
	}
	return &Error{Code: Invalid, Message: "some fields are not valid", Fields: map[string]string(v)}
}

// CodeOf returns the Code of err, Internal for anything that is not an *Error.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// As returns the *Error inside err, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Wait is the cause of a refusal for too many attempts: how long until
// the next may succeed. The HTTP layer turns it into Retry-After.
type Wait struct{ For time.Duration }

func (w *Wait) Error() string { return "locked for " + w.For.String() }

// TooSoon refuses with RateLimited until wait has passed, saying so the
// way people say it: whole minutes, rounded up.
func TooSoon(wait time.Duration) *Error {
	m := int((wait + time.Minute - 1) / time.Minute)
	when := "a minute"
	if m > 1 {
		when = strconv.Itoa(m) + " minutes"
	}
	return &Error{Code: RateLimited, Message: "too many attempts; try again in " + when, Err: &Wait{For: wait}}
}

// WaitOf is how long a refusal for too many attempts asks to wait, 0 for
// any other error.
func WaitOf(err error) time.Duration {
	var w *Wait
	if errors.As(err, &w) {
		return w.For
	}
	return 0
}
