package config

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeListsEverySetting keeps the README's configuration table true:
// a setting added here without a row there fails.
func TestReadmeListsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		row := "| `" + s.env() + "`"
		if !strings.Contains(string(readme), row) {
			t.Errorf("README.md has no configuration row for %s", s.env())
		}
		if !strings.Contains(string(readme), "`-"+s.name+"`") {
			t.Errorf("README.md does not name the flag -%s", s.name)
		}
	}
}
