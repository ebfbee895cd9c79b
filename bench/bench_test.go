package main

import (
	"context"
	"io"
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
	var out strings.Builder
	if err := run(context.Background(), []string{"-quick"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, b := range registry {
		if !strings.Contains(out.String(), "| "+b.Name+" |") {
			t.Errorf("%s reported no figure:\n%s", b.Name, out.String())
		}
	}
}
