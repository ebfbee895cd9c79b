package meeting_test

import (
	"slices"
	"testing"

	"github.com/sessionshq/sessions/internal/meeting"
)

func TestEveryOfferedZoneLoads(t *testing.T) {
	names := meeting.ZoneNames()
	if len(names) < 300 || names[0] != "UTC" || !slices.Contains(names, "Europe/Berlin") || !slices.Contains(names, "America/Sao_Paulo") {
		t.Fatalf("%d zones offered: %v", len(names), names[:min(len(names), 5)])
	}
	for _, n := range names {
		if _, ok := meeting.LoadZone(n); !ok {
			t.Errorf("%q is offered but does not load", n)
		}
	}
}
