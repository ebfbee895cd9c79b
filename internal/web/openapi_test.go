package web

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// openAPIDoc is the part of an OpenAPI 3.1 document these tests read.
type openAPIDoc struct {
	OpenAPI string `json:"openapi"`
	Info    struct {
		Title   string `json:"title"`
		Version string `json:"version"`
	} `json:"info"`
	Paths map[string]map[string]json.RawMessage `json:"paths"`
}

// openAPIMethods are the keys of a path item that name operations; the
// others (parameters, summary, servers…) describe the path itself.
var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// openAPIWildcard matches a ServeMux wildcard: {id}, {rest...} or {$}.
var openAPIWildcard = regexp.MustCompile(`\{([^}.$]*)(\.\.\.)?\$?\}`)

// openAPIPath turns a ServeMux path into an OpenAPI path template:
// "/api/x/{id}" stays, "/api/files/{path...}" becomes "/api/files/{path}",
// and the end anchor {$} disappears.
func openAPIPath(muxPath string) string {
	return openAPIWildcard.ReplaceAllStringFunc(muxPath, func(w string) string {
		if w == "{$}" {
			return ""
		}
		m := openAPIWildcard.FindStringSubmatch(w)
		return "{" + m[1] + "}"
	})
}

// loadOpenAPI reads the document the server serves, so the test checks
// what clients get.
func loadOpenAPI(t *testing.T, env *shellEnv) openAPIDoc {
	t.Helper()
	res := env.get("/api/openapi.json")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/openapi.json: status %d", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var doc openAPIDoc
	if err := json.Unmarshal(res.body, &doc); err != nil {
		t.Fatalf("the OpenAPI document is not valid JSON: %v", err)
	}
	return doc
}

func TestOpenAPIPathConversion(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/api/openapi.json":                "/api/openapi.json",
		"/api/requests/{id}":               "/api/requests/{id}",
		"/api/orgs/{org}/members/{member}": "/api/orgs/{org}/members/{member}",
		"/api/files/{path...}":             "/api/files/{path}",
		"/api/{$}":                         "/api/",
	} {
		if got := openAPIPath(in); got != want {
			t.Errorf("openAPIPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t, newShellServer(t, nil))
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	if doc.Info.Title == "" || doc.Info.Version == "" {
		t.Errorf("info needs a title and a version: %+v", doc.Info)
	}
	if len(doc.Paths) == 0 {
		t.Fatalf("the document has no paths")
	}
	for path, item := range doc.Paths {
		if !strings.HasPrefix(path, "/api/") {
			t.Errorf("path %s is outside /api/; browser pages are not part of the API", path)
		}
		for key, raw := range item {
			if !slices.Contains(openAPIMethods, key) {
				continue
			}
			var op struct {
				Responses map[string]json.RawMessage `json:"responses"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Errorf("%s %s: %v", key, path, err)
				continue
			}
			if len(op.Responses) == 0 {
				t.Errorf("%s %s has no responses", strings.ToUpper(key), path)
			}
		}
	}
}

// TestOpenAPIDescribesEveryAPIRoute fails when a route under /api/ is
// registered but not documented, and when the document promises a route
// that the server does not have.
func TestOpenAPIDescribesEveryAPIRoute(t *testing.T) {
	t.Parallel()
	env := newShellServer(t, nil)
	doc := loadOpenAPI(t, env)

	routed := map[string]bool{} // "get /api/x/{id}"
	for _, pattern := range env.srv.Patterns() {
		method, path, ok := strings.Cut(pattern, " ")
		if !ok {
			path, method = pattern, ""
		}
		if !strings.HasPrefix(path, "/api/") {
			continue
		}
		if method == "" {
			t.Errorf("API route %q names no method, so it answers every method; name one", pattern)
			continue
		}
		oaPath := openAPIPath(path)
		key := strings.ToLower(method)
		routed[key+" "+oaPath] = true
		item, ok := doc.Paths[oaPath]
		if !ok {
			t.Errorf("route %q is not in openapi.json: add paths[%q][%q]", pattern, oaPath, key)
			continue
		}
		if _, ok := item[key]; !ok {
			t.Errorf("route %q is not in openapi.json: paths[%q] has no %q operation", pattern, oaPath, key)
		}
	}

	for path, item := range doc.Paths {
		for key := range item {
			if !slices.Contains(openAPIMethods, key) {
				continue
			}
			// A GET route answers HEAD too, so a documented HEAD is served.
			if routed[key+" "+path] || (key == "head" && routed["get "+path]) {
				continue
			}
			t.Errorf("openapi.json documents %s %s, which no route serves", strings.ToUpper(key), path)
		}
	}
}

// TestOpenAPINamesEachRoutesTokenScope fails when an operation's security
// requirement does not list the one token scope the server asks of its
// route (scopes.go), or offers a token where the server takes none.
func TestOpenAPINamesEachRoutesTokenScope(t *testing.T) {
	t.Parallel()
	env := newShellServer(t, nil)
	doc := loadOpenAPI(t, env)
	for _, pattern := range env.srv.Patterns() {
		method, path, _ := strings.Cut(pattern, " ")
		if !strings.HasPrefix(path, "/api/") {
			continue
		}
		raw, ok := doc.Paths[openAPIPath(path)][strings.ToLower(method)]
		if !ok {
			continue // TestOpenAPIDescribesEveryAPIRoute reports it
		}
		var op struct {
			Security []map[string][]string `json:"security"`
		}
		if err := json.Unmarshal(raw, &op); err != nil {
			t.Fatalf("%s: %v", pattern, err)
		}
		var bearer []string
		hasBearer := false
		for _, req := range op.Security {
			if scopes, ok := req["memberBearer"]; ok {
				bearer, hasBearer = scopes, true
			}
		}
		scope := string(tokenScopeFor(pattern))
		switch {
		case !hasBearer:
			// A public route, or one no token may use.
			if scope != "" && len(op.Security) > 0 && !slices.ContainsFunc(op.Security, func(m map[string][]string) bool { return len(m) == 0 }) {
				t.Errorf("%s takes a token with the %s scope, but openapi.json offers no memberBearer", pattern, scope)
			}
		case scope == "":
			t.Errorf("%s takes no token, but openapi.json offers memberBearer", pattern)
		case !slices.Equal(bearer, []string{scope}):
			t.Errorf("%s needs the %s scope; openapi.json lists %q", pattern, scope, bearer)
		}
	}
}
