package ratelimit

import (
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/platform/clock"
)

func TestBuckets(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	b := NewBuckets(60, 3, clk.Now) // one a second, three at once
	for i := range 3 {
		if ok, _ := b.Take("a"); !ok {
			t.Fatalf("request %d refused within the burst", i+1)
		}
	}
	ok, wait := b.Take("a")
	if ok || wait != time.Second {
		t.Fatalf("fourth request: ok=%v wait=%v, want refused for 1s", ok, wait)
	}
	if ok, _ := b.Take("b"); !ok {
		t.Fatal("another key shares the first key's bucket")
	}
	clk.Advance(time.Second)
	if ok, _ := b.Take("a"); !ok {
		t.Fatal("no token after a second")
	}
	if ok, _ := b.Take("a"); ok {
		t.Fatal("more than one token after a second")
	}
	clk.Advance(time.Hour)
	b.prune(clk.Now())
	if len(b.buckets) != 0 {
		t.Fatalf("%d full buckets kept after pruning", len(b.buckets))
	}
}
