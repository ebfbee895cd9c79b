// Package clock owns the notion of "now". Every deadline, retention rule and
// timestamp reads time through a Clock so that tests move time instead of
// sleeping.
package clock

import (
	"sync"
	"time"
)

// Clock tells the current time.
type Clock interface {
	Now() time.Time
}

// normalise keeps times comparable across both databases: PostgreSQL stores
// microseconds, so anything finer would not survive a round trip.
func normalise(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// System is the wall clock.
type System struct{}

// Now returns the current UTC time at microsecond precision.
func (System) Now() time.Time { return normalise(time.Now()) }

// Fake is a settable clock for tests.
type Fake struct {
	mu  sync.Mutex
	now time.Time
}

// NewFake returns a Fake set to t.
func NewFake(t time.Time) *Fake { return &Fake{now: normalise(t)} }

// Now returns the fake's current time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Set moves the clock to t.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = normalise(t)
}

// Advance moves the clock forward by d.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = normalise(f.now.Add(d))
}
