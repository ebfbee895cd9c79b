package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/logging"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// asset is one embedded static file, served under a name that carries a
// hash of its content so that browsers may cache it forever.
type asset struct {
	body        []byte
	contentType string
}

// pages renders the embedded templates. Each page template is parsed
// together with layout.html into its own set.
type pages struct {
	sets   map[string]*template.Template
	assets map[string]asset  // by hashed name
	urls   map[string]string // plain name -> /static/hashed name
}

func newPages() (*pages, error) {
	p := &pages{sets: map[string]*template.Template{}, assets: map[string]asset{}, urls: map[string]string{}}
	err := fs.WalkDir(staticFS, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		base := path.Base(name)
		ext := path.Ext(base)
		hashed := strings.TrimSuffix(base, ext) + "." + hex.EncodeToString(sum[:5]) + ext
		ct := mime.TypeByExtension(ext)
		if ct == "" {
			ct = "application/octet-stream"
		}
		p.assets[hashed] = asset{body: body, contentType: ct}
		p.urls[base] = "/static/" + hashed
		return nil
	})
	if err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		"asset": func(name string) (string, error) {
			u, ok := p.urls[name]
			if !ok {
				return "", fmt.Errorf("no static asset %q", name)
			}
			return u, nil
		},
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		base := path.Base(name)
		if base == "layout.html" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", name)
		if err != nil {
			return nil, err
		}
		p.sets[strings.TrimSuffix(base, ".html")] = t
	}
	return p, nil
}

// view is what every page template receives.
type view struct {
	Title     string
	Section   string // which navigation entry is current
	RequestID string
	Data      any
}

// render writes the named page. Templates are executed into a buffer first,
// so a failing template yields a clean error page, not half a page.
func (p *pages) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) error {
	t, ok := p.sets[name]
	if !ok {
		return fmt.Errorf("no page template %q", name)
	}
	v.RequestID = logging.RequestID(r.Context())
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := buf.WriteTo(w)
	return err
}

type errorView struct {
	Status  int
	Title   string
	Message string
	Fields  map[string]string
}

// renderError writes the HTML error page. It must not fail, so a broken
// template falls back to plain text.
func (p *pages) renderError(w http.ResponseWriter, r *http.Request, status int, message string, fields map[string]string, reqID string) {
	title := http.StatusText(status)
	if status >= 500 {
		title = "Internal error"
	}
	w.Header().Set("Cache-Control", "no-store")
	err := p.render(w, r, status, "error", view{Title: title, Data: errorView{Status: status, Title: title, Message: message, Fields: fields}})
	if err != nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, "%s (request %s)\n", title, reqID)
	}
}

// static serves an embedded asset by its hashed name.
func (s *Server) static(w http.ResponseWriter, r *http.Request) error {
	a, ok := s.pages.assets[r.PathValue("file")]
	if !ok {
		return errs.E(errs.NotFound, "no such file")
	}
	w.Header().Set("Content-Type", a.contentType)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	_, err := w.Write(a.body)
	return err
}

func (s *Server) homePage(w http.ResponseWriter, r *http.Request) error {
	return s.pages.render(w, r, http.StatusOK, "home", view{Title: "Sessions", Section: "home"})
}
