package main

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
)

// TestEveryBenchmarkRuns runs each benchmark at its quick sizes, so that a
// change that breaks one is caught by the test suite. It checks that the
// table has figures, never what they are.
func TestEveryBenchmarkRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every benchmark")
	}
	// The suite runs once per engine; so do the benchmarks.
	engine := "sqlite"
	if os.Getenv("SESSIONS_TEST_DATABASE") == "postgres" {
		engine = "postgres"
	}
	var out strings.Builder
	if err := run(context.Background(), []string{"-quick", "-db", engine}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, b := range registry {
		if !strings.Contains(out.String(), "| "+b.Name+" |") {
			t.Errorf("%s reported no figure:\n%s", b.Name, out.String())
		}
	}
}

// TestOnlyRunsTheNamedBenchmarks checks -only picks exactly the named
// benchmarks, in name order, and refuses a name that does not exist.
func TestOnlyRunsTheNamedBenchmarks(t *testing.T) {
	saved := registry
	t.Cleanup(func() { registry = saved })
	var ran []string
	registry = nil
	for _, name := range []string{"c", "a", "b"} {
		register(Bench{Name: name, About: name, Run: func(_ context.Context, e *Env) error {
			ran = append(ran, name)
			e.Report("figure", 1, "n")
			return nil
		}})
	}
	if err := run(context.Background(), []string{"-only", "b,a"}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if strings.Join(ran, ",") != "a,b" {
		t.Errorf("ran %v, want a,b", ran)
	}
	if err := run(context.Background(), []string{"-only", "a,nope"}, io.Discard, io.Discard); err == nil {
		t.Error("an unknown name was accepted")
	}
}
