package ratelimit

import (
	"sync"
	"time"
)

// Buckets is a per-key token bucket held in memory, for open endpoints
// that anyone may call often (the cookie tool, the analytics collector,
// one-click unsubscribe). Each instance counts on its own: that bounds what
// one client can make one instance do, which is the point, without a
// database write per request. Failure counters that must agree across
// instances (sign-in) use Policy and the database instead.
type Buckets struct {
	mu      sync.Mutex
	perSec  float64
	burst   float64
	now     func() time.Time
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// maxKeys bounds memory: past it, buckets that have refilled are dropped.
const maxKeys = 100_000

// NewBuckets allows burst requests at once per key, refilled at perMinute.
func NewBuckets(perMinute, burst int, now func() time.Time) *Buckets {
	return &Buckets{perSec: float64(perMinute) / 60, burst: float64(burst), now: now, buckets: map[string]*bucket{}}
}

// Take spends one token of key. When none is left it reports how long
// until the next one.
func (b *Buckets) Take(key string) (ok bool, retryAfter time.Duration) {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	bk, found := b.buckets[key]
	if !found {
		if len(b.buckets) >= maxKeys {
			b.prune(now)
		}
		bk = &bucket{tokens: b.burst, at: now}
		b.buckets[key] = bk
	}
	bk.tokens = min(b.burst, bk.tokens+now.Sub(bk.at).Seconds()*b.perSec)
	bk.at = now
	if bk.tokens >= 1 {
		bk.tokens--
		return true, 0
	}
	wait := time.Duration((1 - bk.tokens) / b.perSec * float64(time.Second))
	return false, max(wait, time.Second)
}

// prune drops the buckets that are full again, which behave exactly like
// missing ones.
func (b *Buckets) prune(now time.Time) {
	for k, bk := range b.buckets {
		if bk.tokens+now.Sub(bk.at).Seconds()*b.perSec >= b.burst {
			delete(b.buckets, k)
		}
	}
}
