package ratelimit

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/platform/clock"
)

// memoryCounter is a Counter two limiters can share, as two instances
// share the database, and that counts how often it is asked.
type memoryCounter struct {
	mu    sync.Mutex
	hits  map[string]int
	calls int
	keys  []string
}

func (c *memoryCounter) Hit(_ context.Context, name, key string, start, end time.Time) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hits == nil {
		c.hits = map[string]int{}
	}
	c.calls++
	c.keys = append(c.keys, key)
	k := name + "\x00" + key + "\x00" + start.String()
	c.hits[k]++
	return c.hits[k], nil
}

func TestSharedWindowHoldsAcrossInstances(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 9, 0, 20, 0, time.UTC))
	w := Window{Name: "open", Limit: 3, Period: time.Minute}
	counter := &memoryCounter{}
	instances := []*Shared{NewShared(w, counter, []byte("secret"), clk.Now), NewShared(w, counter, []byte("secret"), clk.Now)}
	ctx := context.Background()
	admitted := 0
	for i := range 8 {
		ok, wait, err := instances[i%2].Allow(ctx, "198.51.100.7")
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			admitted++
		} else if wait != 40*time.Second {
			t.Fatalf("refused with Retry-After %v, want the 40 s left of the window", wait)
		}
	}
	if admitted != 3 {
		t.Fatalf("two instances admitted %d requests of one client, want the limit of 3 between them", admitted)
	}
	if ok, _, _ := instances[0].Allow(ctx, "203.0.113.9"); !ok {
		t.Fatal("another client was refused")
	}
	clk.Advance(40 * time.Second)
	if ok, _, _ := instances[1].Allow(ctx, "198.51.100.7"); !ok {
		t.Fatal("the client was still refused in the next window")
	}
	for _, k := range counter.keys {
		if strings.Contains(k, "198.51.100.7") {
			t.Fatalf("the counter was given the client's address: %q", k)
		}
	}
}

// TestSharedWindowRefusesFloodFromMemory: once an instance saw a client
// over the limit, it refuses the client's further requests in that
// window without asking the shared counter, so a flood does not become a
// flood of database writes.
func TestSharedWindowRefusesFloodFromMemory(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
	counter := &memoryCounter{}
	l := NewShared(Window{Name: "open", Limit: 2, Period: time.Minute}, counter, []byte("secret"), clk.Now)
	ctx := context.Background()
	for range 1000 {
		if _, _, err := l.Allow(ctx, "198.51.100.7"); err != nil {
			t.Fatal(err)
		}
	}
	if counter.calls != 3 {
		t.Fatalf("1000 requests asked the counter %d times, want 3 (two admitted, one refused)", counter.calls)
	}
	clk.Advance(time.Minute)
	if ok, _, _ := l.Allow(ctx, "198.51.100.7"); !ok || counter.calls != 4 {
		t.Fatalf("the next window: ok=%v after %d calls, want admitted after asking the counter again", ok, counter.calls)
	}
}
