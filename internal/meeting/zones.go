package meeting

import (
	_ "embed"
	"strings"
)

//go:generate go run zones_gen.go

//go:embed zones.txt
var zonesText string

// zones is ZoneNames' list, read once.
var zones = strings.Fields(zonesText)

// ZoneNames lists the IANA time zones a meeting may be scheduled in, as
// the scheduling form offers them: UTC, then the zone database's names
// by region, sorted. Every one loads with LoadZone.
func ZoneNames() []string { return zones }
