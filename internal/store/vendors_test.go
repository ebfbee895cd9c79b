package store_test

import (
	"context"
	"errors"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/privacy/vendors"
	"github.com/sessionshq/sessions/internal/store"
)

func TestSeedSubprocessorsInsertsOnceAndKeepsEdits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 123456000, time.UTC))
	seed := vendors.Seed()

	n, err := store.SeedSubprocessors(ctx, db, seed, clk.Now())
	if err != nil || n != len(seed) {
		t.Fatalf("first seed inserted %d (%v), want %d", n, err, len(seed))
	}
	got, err := store.GetSubprocessor(ctx, db, vendors.Mailjet)
	if err != nil {
		t.Fatal(err)
	}
	want := seed[slices.IndexFunc(seed, func(s vendors.Subprocessor) bool { return s.ID == vendors.Mailjet })]
	want.CreatedAt, want.UpdatedAt = clk.Now(), clk.Now()
	if !equalSubprocessor(got, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
	}

	// Staff move Mailjet and switch it off.
	clk.Advance(time.Hour)
	edit := vendors.Update{Activity: "Marketing e-mail", Country: "BE", Mechanism: vendors.WithinEEA, DataCategories: []string{"contact.email"}, Active: false}
	before, edited, err := store.UpdateSubprocessor(ctx, db, vendors.Mailjet, edit, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if edited.Country != "BE" || edited.Active || !edited.UpdatedAt.Equal(clk.Now()) || !edited.CreatedAt.Equal(want.CreatedAt) {
		t.Fatalf("edit returned %+v", edited)
	}
	// The entry as it stood, for the caller's audit entry (see
	// console.TestUpdateSubprocessorIsAudited).
	if !equalSubprocessor(before, want) {
		t.Fatalf("edit's before:\n got %+v\nwant %+v", before, want)
	}

	// A restart seeds again: nothing is inserted and the edit stays.
	clk.Advance(time.Hour)
	n, err = store.SeedSubprocessors(ctx, db, vendors.Seed(), clk.Now())
	if err != nil || n != 0 {
		t.Fatalf("second seed inserted %d (%v), want 0", n, err)
	}
	again, err := store.GetSubprocessor(ctx, db, vendors.Mailjet)
	if err != nil {
		t.Fatal(err)
	}
	if !equalSubprocessor(again, edited) {
		t.Fatalf("seeding overwrote a staff edit:\n got %+v\nwant %+v", again, edited)
	}

	// A release that adds an entry inserts just that one.
	extra := append(vendors.Seed(), vendors.Subprocessor{ID: "acme", Name: "Acme", Activity: "Testing", Purpose: "service",
		Country: "US", Mechanism: vendors.StandardClauses, Website: "https://acme.example", Active: true})
	if n, err := store.SeedSubprocessors(ctx, db, extra, clk.Now()); err != nil || n != 1 {
		t.Fatalf("seed with a new entry inserted %d (%v), want 1", n, err)
	}
	acme, err := store.GetSubprocessor(ctx, db, "acme")
	if err != nil || acme.DataCategories == nil || len(acme.DataCategories) != 0 {
		t.Fatalf("entry without categories: %+v (%v)", acme, err)
	}
}

func TestSeedSubprocessorsConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, target := dbtest.OpenTarget(t)
	// Separate connections, as separate server instances would have.
	var wg sync.WaitGroup
	counts := make([]int, 4)
	errsSeen := make([]error, 4)
	for i := range counts {
		db, err := database.Open(ctx, target.DatabaseURL, target.DataDir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts[i], errsSeen[i] = store.SeedSubprocessors(ctx, db, vendors.Seed(), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		}()
	}
	wg.Wait()
	total := 0
	for i := range counts {
		if errsSeen[i] != nil {
			t.Fatalf("instance %d: %v", i, errsSeen[i])
		}
		total += counts[i]
	}
	if total != len(vendors.Seed()) {
		t.Fatalf("instances inserted %d entries in all, want %d", total, len(vendors.Seed()))
	}
}

func TestListSubprocessors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := store.SeedSubprocessors(ctx, db, vendors.Seed(), now); err != nil {
		t.Fatal(err)
	}
	off := vendors.Update{Activity: "Analytics tool", Country: "US", Mechanism: vendors.StandardClauses, Active: false}
	if _, _, err := store.UpdateSubprocessor(ctx, db, vendors.LogRocket, off, now); err != nil {
		t.Fatal(err)
	}
	all, err := store.ListSubprocessors(ctx, db, false)
	if err != nil {
		t.Fatal(err)
	}
	active, err := store.ListSubprocessors(ctx, db, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 25 || len(active) != 24 {
		t.Fatalf("all %d, active %d; want 25 and 24", len(all), len(active))
	}
	for _, s := range active {
		if s.ID == vendors.LogRocket {
			t.Error("an inactive entry is listed as active")
		}
	}
	// Sorted by name whatever the case: "ngrok" sits between N and O.
	var names []string
	for _, s := range all {
		names = append(names, s.Name)
	}
	i, j := slices.Index(names, "New Relic"), slices.Index(names, "ngrok")
	k := slices.Index(names, "OpenAI")
	if !(i < j && j < k) {
		t.Errorf("order %v", names)
	}
}

func TestUpdateUnknownSubprocessor(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	_, _, err := store.UpdateSubprocessor(context.Background(), db, "nobody", vendors.Update{Activity: "x", Country: "US", Mechanism: vendors.StandardClauses}, time.Now())
	if errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("got %v, want NotFound", err)
	}
	_, err = store.GetSubprocessor(context.Background(), db, "nobody")
	if errs.CodeOf(err) != errs.NotFound || errors.Is(err, database.ErrNotFound) {
		t.Fatalf("got %v, want a NotFound *errs.Error", err)
	}
}

func equalSubprocessor(a, b vendors.Subprocessor) bool {
	return a.ID == b.ID && a.Name == b.Name && a.Activity == b.Activity && a.Purpose == b.Purpose &&
		a.Country == b.Country && a.Mechanism == b.Mechanism && slices.Equal(a.DataCategories, b.DataCategories) &&
		a.Website == b.Website && a.Active == b.Active && a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt)
}

var staffActor = audit.Party{Kind: "operator"}
