package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

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
	// gzipped is body compressed once at start, for the clients that
	// accept it; nil when compressing would not pay (images, tiny files).
	gzipped []byte
}

// pages renders the embedded templates. Each page template is parsed
// together with layout.html into its own set, so pages may each define
// "content" (and optionally "head" and "scripts") without clashing;
// whatever layout.html defines besides (such as "icon") every page can use.
type pages struct {
	sets   map[string]*template.Template
	assets map[string]asset  // by hashed name
	urls   map[string]string // plain name -> /static/hashed name
	// whoami finds the signed-in member for the navigation; nil or a nil
	// result means anonymous.
	whoami func(*http.Request) *principal
	// cookieState says what the cookie banner shows on a page: whether a
	// choice is still due, the visitor's current choice and whether a
	// Global Privacy Control signal is honoured (internal/web/cookies.go).
	cookieState func(*http.Request) *cookieBanner
	// noticeBanner says which significant version of the privacy notice a
	// signed-in member has yet to acknowledge, nil when none
	// (internal/web/notice.go).
	noticeBanner func(*http.Request, *principal) *noticeBanner
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
		if _, dup := p.urls[base]; dup {
			// Assets are looked up by base name, so two files with the same
			// name in different folders would shadow each other.
			return fmt.Errorf("static asset name %q is used twice", base)
		}
		ext := path.Ext(base)
		hashed := strings.TrimSuffix(base, ext) + "." + hex.EncodeToString(sum[:5]) + ext
		ct := mime.TypeByExtension(ext)
		if ct == "" {
			ct = "application/octet-stream"
		}
		p.assets[hashed] = asset{body: body, contentType: ct, gzipped: gzipAsset(body, ct)}
		p.urls[base] = "/static/" + hashed
		return nil
	})
	if err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		// asset turns "app.css" into its content-hash URL; an unknown name
		// fails the page instead of linking to nothing.
		"asset": func(name string) (string, error) {
			u, ok := p.urls[name]
			if !ok {
				return "", fmt.Errorf("no static asset %q", name)
			}
			return u, nil
		},
		// sentence shows an error message (written lower-case so it reads
		// well inside JSON and logs) as a sentence on a page.
		"sentence": sentence,
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	// Partials (templates/partial_*.html) hold pieces the layout includes
	// on every page, such as banners; they are parsed into every set and
	// are not pages themselves.
	partials, err := fs.Glob(templateFS, "templates/partial_*.html")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		base := path.Base(name)
		if base == "layout.html" || strings.HasPrefix(base, "partial_") {
			continue
		}
		files := append([]string{"templates/layout.html"}, partials...)
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, append(files, name)...)
		if err != nil {
			return nil, err
		}
		p.sets[strings.TrimSuffix(base, ".html")] = t
	}
	return p, nil
}

// sentence capitalises the first letter and ends s with a full stop unless
// it already ends with punctuation.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.ContainsAny(s[len(s)-1:], ".!?") {
		s += "."
	}
	return s
}

// view is what every page template receives.
type view struct {
	Title       string // the page's own title; the layout appends the product name
	Description string // optional meta description
	Section     string // which navigation entry is current: home, account, privacy or admin
	RequestID   string
	// Member is the signed-in member, nil for anonymous visitors; render
	// fills it in for the navigation.
	Member *principal
	// Cookies is the cookie banner's state; render fills it in.
	Cookies *cookieBanner
	// Notice is the privacy notice banner; render fills it in.
	Notice *noticeBanner
	Data   any
}

// render writes the named page. Templates are executed into a buffer first,
// so a failing template yields a clean error page, not half a page.
//
// Pages default to Cache-Control: no-store: many of them show personal
// data, and HTML must never outlive the asset hashes it links to. A
// handler that knows its page is public may set its own header first.
func (p *pages) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) error {
	t, ok := p.sets[name]
	if !ok {
		return fmt.Errorf("no page template %q", name)
	}
	v.RequestID = logging.RequestID(r.Context())
	if v.Member == nil && p.whoami != nil {
		v.Member = p.whoami(r)
	}
	if v.Cookies == nil && p.cookieState != nil {
		v.Cookies = p.cookieState(r)
	}
	if v.Notice == nil && v.Member != nil && p.noticeBanner != nil {
		v.Notice = p.noticeBanner(r, v.Member)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	_, err := buf.WriteTo(w)
	return err
}

type errorView struct {
	Status  int
	Title   string
	Hint    string // what the status means for the person, in plain words
	Message string // the error's own safe message; empty for internal errors
	Fields  map[string]string
	// Forbidden says how to get a staff role, on a staff refusal.
	Forbidden *forbiddenView
}

// errorTexts gives each status a heading and a plain explanation, so the
// page helps even when the error carries no message of its own.
var errorTexts = map[int][2]string{
	http.StatusBadRequest:            {"This request could not be read", "Check the address or the form and try again."},
	http.StatusUnauthorized:          {"Sign-in needed", "This page is only open to people who prove who they are."},
	http.StatusForbidden:             {"Not allowed", "You do not have access to this page or action."},
	http.StatusNotFound:              {"Page not found", "The address may be mistyped, or the page may have moved."},
	http.StatusMethodNotAllowed:      {"Not allowed here", "This address does not accept that kind of request."},
	http.StatusConflict:              {"Something changed in the meantime", "Reload the page and try again."},
	http.StatusRequestEntityTooLarge: {"Too large", "What you sent is larger than this server accepts."},
	http.StatusUnsupportedMediaType:  {"Unsupported format", "What you sent is in a format this address does not accept."},
	http.StatusUnprocessableEntity:   {"Please check what you entered", "Some of the information is not valid."},
	http.StatusTooManyRequests:       {"Too many requests", "Please wait a minute, then try again."},
	http.StatusInternalServerError:   {"Something went wrong", "An unexpected error stopped this request. It has been logged for the operator."},
	http.StatusServiceUnavailable:    {"Temporarily unavailable", "The service cannot answer right now. Please try again in a moment."},
}

// renderError writes the HTML error page. It must not fail, so a broken
// template falls back to plain text. It shows the error's safe message and
// the request id, never anything from an internal error.
func (p *pages) renderError(w http.ResponseWriter, r *http.Request, status int, message string, fields map[string]string, reqID string, forbidden *forbiddenView) {
	texts, ok := errorTexts[status]
	if !ok {
		texts = [2]string{http.StatusText(status), ""}
		if status >= 500 {
			texts = errorTexts[http.StatusInternalServerError]
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	ev := errorView{Status: status, Title: texts[0], Hint: texts[1], Message: message, Fields: fields, Forbidden: forbidden}
	err := p.render(w, r, status, "error", view{Title: texts[0], Data: ev})
	if err != nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, "%s (request %s)\n", texts[0], reqID)
	}
}

// static serves an embedded asset by its hashed name. Any other name,
// including the plain name or an outdated hash, is not found: a stale page
// must not get a different file under an immutable URL.
func (s *Server) static(w http.ResponseWriter, r *http.Request) error {
	a, ok := s.pages.assets[r.PathValue("file")]
	if !ok {
		return errs.E(errs.NotFound, "no such file")
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	body := a.body
	if a.gzipped != nil {
		addVary(h, "Accept-Encoding")
		if acceptsGzip(r) && mayCompress(r) {
			h.Set("Content-Encoding", "gzip")
			body = a.gzipped
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return nil
	}
	_, err := w.Write(body)
	return err
}

// gzipAsset compresses an asset at the best level once, so that no
// request pays for it; nil when it is not text or does not get smaller
// by enough to matter.
func gzipAsset(body []byte, contentType string) []byte {
	if !compressible(contentType) || len(body) < compressMinSize {
		return nil
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(body)
	_ = zw.Close()
	if buf.Len() > len(body)*9/10 {
		return nil
	}
	return buf.Bytes()
}
