package ratelimit

import (
	"context"
	"sync"
	"time"
)

// Window limits how often one client may do something: at most Limit
// times in each window of the clock Period long. Windows start where
// time.Time.Truncate puts them (a minute's window starts on the minute).
// Name tells the windows of one limit from another's where they are
// stored.
type Window struct {
	Name   string
	Limit  int
	Period time.Duration
}

// Bounds returns the start and the end of the window holding now.
func (w Window) Bounds(now time.Time) (start, end time.Time) {
	start = now.UTC().Truncate(w.Period)
	return start, start.Add(w.Period)
}

// Counter counts requests per key and window where every server instance
// counts, so that N instances admit a window's limit between them rather
// than N times it.
type Counter interface {
	// Hit adds one request to key's count in the window of limit name
	// that runs from start to end, and returns the count with it. It is
	// one atomic step: of any number of concurrent hits, on any instance,
	// each returns a different count.
	Hit(ctx context.Context, name, key string, start, end time.Time) (int, error)
}

// Limiter decides whether a client may make one more request. Web asks
// it on the routes anyone may call; the implementation may change (a
// batching one, another store) without web noticing.
type Limiter interface {
	// Allow counts one request of client and reports whether it may go
	// ahead and, when not, how long until it may (whole seconds, at
	// least one).
	Allow(ctx context.Context, client string) (ok bool, retryAfter time.Duration, err error)
}

// Shared is the Limiter of a Window on a Counter that every instance
// shares. Clients are counted under a keyed digest (Key), so the counter
// never holds the value itself (an IP address, say).
//
// Each instance also remembers, until its window ends, the clients it saw
// over the limit, and refuses them without counting again: a flood from
// one client costs the shared counter one write per request admitted
// plus one per instance, not one per request. A count only grows within
// its window, so the memory never refuses anyone the counter would admit.
type Shared struct {
	window  Window
	counter Counter
	secret  []byte
	now     func() time.Time

	mu   sync.Mutex
	full map[string]time.Time // digest → end of the window it is full in
}

// maxFull bounds the memory of clients over the limit; past it, the
// instance asks the counter again, which is slower but just as right.
const maxFull = 100_000

// NewShared returns the limiter of w on c; secret keys the digests.
func NewShared(w Window, c Counter, secret []byte, now func() time.Time) *Shared {
	return &Shared{window: w, counter: c, secret: secret, now: now, full: map[string]time.Time{}}
}

// Allow implements Limiter.
func (l *Shared) Allow(ctx context.Context, client string) (bool, time.Duration, error) {
	now := l.now()
	start, end := l.window.Bounds(now)
	key := Key(l.secret, l.window.Name, client)
	if l.isFull(key, now) {
		return false, waitUntil(now, end), nil
	}
	n, err := l.counter.Hit(ctx, l.window.Name, key, start, end)
	if err != nil {
		return false, 0, err
	}
	if n <= l.window.Limit {
		return true, 0, nil
	}
	l.remember(key, end, now)
	return false, waitUntil(now, end), nil
}

func (l *Shared) isFull(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	end, ok := l.full[key]
	return ok && now.Before(end)
}

func (l *Shared) remember(key string, end, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.full) >= maxFull {
		for k, e := range l.full {
			if !now.Before(e) {
				delete(l.full, k)
			}
		}
		if len(l.full) >= maxFull {
			return
		}
	}
	l.full[key] = end
}

// waitUntil is the time from now to end in whole seconds, rounded up, at
// least one, for Retry-After.
func waitUntil(now, end time.Time) time.Duration {
	wait := end.Sub(now)
	if r := wait % time.Second; r != 0 {
		wait += time.Second - r
	}
	return max(wait, time.Second)
}

// PruneArgs is the periodic job that deletes the counts of windows that
// have ended; a count is of no use once its window is over.
type PruneArgs struct{}

func (PruneArgs) Kind() string { return "ratelimit.prune" }

// PruneEvery is how often that job runs.
const PruneEvery = 5 * time.Minute
