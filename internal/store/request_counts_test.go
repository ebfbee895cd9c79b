package store_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/store"
)

// TestRequestCountsAreAtomicAndPruned: concurrent hits on one window,
// from two handles on the database as two instances hold, each get a
// count of their own, none lost; other limits, keys and windows count
// apart; pruning deletes only windows that have ended.
func TestRequestCountsAreAtomicAndPruned(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	instances := []*store.RequestCounts{store.NewRequestCounts(db), store.NewRequestCounts(db)}
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	end := start.Add(time.Minute)

	const hits = 40
	counts := make(chan int, hits)
	var wg sync.WaitGroup
	for i := range hits {
		wg.Go(func() {
			n, err := instances[i%2].Hit(ctx, "open", "k1", start, end)
			if err != nil {
				t.Error(err)
			}
			counts <- n
		})
	}
	wg.Wait()
	close(counts)
	var got []int
	for n := range counts {
		got = append(got, n)
	}
	slices.Sort(got)
	for i, n := range got {
		if n != i+1 {
			t.Fatalf("concurrent hits returned %v, want each of 1..%d once", got, hits)
		}
	}
	for _, other := range []struct {
		name, key string
		start     time.Time
	}{{"open", "k2", start}, {"other", "k1", start}, {"open", "k1", end}} {
		n, err := instances[0].Hit(ctx, other.name, other.key, other.start, other.start.Add(time.Minute))
		if err != nil || n != 1 {
			t.Fatalf("hit on %+v = %d, %v; want a count of its own", other, n, err)
		}
	}

	pruned, err := store.PruneRequestCounts(ctx, db, end)
	if err != nil || pruned != 3 {
		t.Fatalf("pruning at the first window's end deleted %d rows (%v), want its 3", pruned, err)
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM request_counts WHERE window_start = ?`, end); n != 1 {
		t.Fatalf("%d counts of the running window left, want 1", n)
	}
}
