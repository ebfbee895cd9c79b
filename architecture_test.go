// Package architecture_test holds the test that keeps the layers of
// ARCHITECTURE.md apart: web, cmd and jobs call services, services call
// the store and the domain, and everything sits on the platform.
package architecture_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/sessionshq/sessions/"

// layer names the layer of a package path relative to the module, "" for
// code outside the rule (the benchmarks and test helpers).
func layer(rel string) string {
	under := func(prefixes ...string) bool {
		for _, p := range prefixes {
			if rel == p || strings.HasPrefix(rel, p+"/") {
				return true
			}
		}
		return false
	}
	switch {
	case strings.HasSuffix(rel, "test") && (strings.HasSuffix(rel, "/dbtest") || strings.HasSuffix(rel, "/mailtest") || strings.HasSuffix(rel, "/s3test") || strings.HasSuffix(rel, "/videotest")):
		return "" // helpers that tests share
	case under("bench"):
		return "" // the benchmarks seed data as tests do
	case under("cmd"):
		return "cmd"
	case under("internal/app"):
		return "app"
	case under("internal/web"):
		return "web"
	case under("internal/service"):
		return "service"
	case under("internal/store"):
		return "store"
	case under("internal/platform", "internal/errs", "internal/country", "internal/video"):
		return "platform"
	case under("internal"):
		return "domain"
	}
	return ""
}

// allowed lists, per layer, the layers its packages may import. The
// wiring (app) builds everything but the HTTP front; cmd starts the
// server. web may not reach the database itself: its one way to the data
// is a service.
var allowed = map[string][]string{
	"platform": {"platform"},
	"domain":   {"domain", "platform"},
	"store":    {"store", "domain", "platform"},
	"service":  {"service", "store", "domain", "platform"},
	"web":      {"web", "service", "domain", "platform"},
	"app":      {"app", "service", "store", "domain", "platform"},
	"cmd":      {"cmd", "app", "web", "service", "domain", "platform"},
}

// forbidden are single packages a layer may not import although their
// layer is allowed: web opens no transaction.
var forbidden = map[string][]string{
	"web": {"internal/platform/database"},
}

// TestLayers reads the imports of every non-test Go file and fails on each
// one that points the wrong way.
func TestLayers(t *testing.T) {
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		from := layer(filepath.ToSlash(filepath.Dir(path)))
		if from == "" {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			rel, ok := strings.CutPrefix(p, module)
			if !ok {
				continue
			}
			to := layer(rel)
			if to == "" {
				t.Errorf("%s imports %s, which only tests and benchmarks may use", path, rel)
				continue
			}
			if !slices.Contains(allowed[from], to) {
				t.Errorf("%s (%s) imports %s (%s): the %s layer may import only %v", path, from, rel, to, from, allowed[from])
			}
			if slices.Contains(forbidden[from], rel) {
				t.Errorf("%s (%s) imports %s, which the %s layer may not use", path, from, rel, from)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Fatalf("only %d files checked: is the walk in the module's root?", checked)
	}
}

// TestLayerOf pins the mapping of paths to layers, so a moved folder cannot
// slip out of the rule unnoticed.
func TestLayerOf(t *testing.T) {
	for path, want := range map[string]string{
		"cmd/sessions":                      "cmd",
		"internal/app":                      "app",
		"internal/web":                      "web",
		"internal/service":                  "service",
		"internal/service/meetings":         "service",
		"internal/store":                    "store",
		"internal/platform/database":        "platform",
		"internal/platform/database/dbtest": "",
		"internal/video":                    "platform",
		"internal/platform/blob/s3test":     "",
		"internal/video/videotest":          "",
		"internal/privacy/datamap":          "domain",
		"internal/meeting":                  "domain",
		"bench":                             "",
	} {
		if got := layer(path); got != want {
			t.Errorf("layer(%q) = %q, want %q", path, got, want)
		}
	}
}
