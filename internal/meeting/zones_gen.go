//go:build ignore

// zones_gen writes zones.txt, the time zone names offered by the
// scheduling form, from the zone database that ships with Go (the same
// one time/tzdata embeds), so that every name offered loads.
package main

import (
	"archive/zip"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// regions are the areas of the zone database people live in; the rest
// (Etc/GMT+5, US/Eastern, SystemV/...) are legacy or technical names.
var regions = []string{"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific"}

func main() {
	z, err := zip.OpenReader(filepath.Join(runtime.GOROOT(), "lib", "time", "zoneinfo.zip"))
	if err != nil {
		log.Fatal(err)
	}
	defer z.Close()
	names := []string{"UTC"}
	for _, f := range z.File {
		region, _, ok := strings.Cut(f.Name, "/")
		if ok && slices.Contains(regions, region) {
			names = append(names, f.Name)
		}
	}
	slices.Sort(names[1:])
	if err := os.WriteFile("zones.txt", []byte(strings.Join(names, "\n")+"\n"), 0o644); err != nil {
		log.Fatal(err)
	}
}
