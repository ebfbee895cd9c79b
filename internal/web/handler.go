package web

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/ratelimit"
)

// handlerFunc is the shape of every handler: it returns an error instead of
// writing one, and handle() maps it in one place.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// routeClass is the kind of client a route serves. The class, not the
// path, decides how a request is authenticated, whether it must come from
// our own origin, and whether errors are pages or problem+json.
type routeClass uint8

const (
	// pageRoute serves a person's browser: HTML pages and forms. The
	// session cookie authenticates; writes must come from our own origin.
	pageRoute routeClass = iota + 1
	// apiRoute serves programs: JSON, problem+json errors, a bearer token
	// (a session cookie only for reads). Since a browser never attaches a
	// bearer token on its own, no cross-origin check is needed.
	apiRoute
	// scriptRoute serves our own pages' scripts: JSON like the API, but
	// the session cookie authenticates writes too, so they must come from
	// our own origin, as forms must. A bearer token works as on the API.
	scriptRoute
)

// page, api and script register a route of their class with the default
// body limit; the *Limit forms take another limit, for uploads.
func (s *Server) page(pattern string, h handlerFunc)   { s.route(pageRoute, pattern, 0, h) }
func (s *Server) api(pattern string, h handlerFunc)    { s.route(apiRoute, pattern, 0, h) }
func (s *Server) script(pattern string, h handlerFunc) { s.route(scriptRoute, pattern, 0, h) }
func (s *Server) pageLimit(pattern string, limit int64, h handlerFunc) {
	s.route(pageRoute, pattern, limit, h)
}
func (s *Server) apiLimit(pattern string, limit int64, h handlerFunc) {
	s.route(apiRoute, pattern, limit, h)
}
func (s *Server) scriptLimit(pattern string, limit int64, h handlerFunc) {
	s.route(scriptRoute, pattern, limit, h)
}

// route registers a route. Every route goes through here, so the list of
// patterns is complete and every route gets its class's protections.
func (s *Server) route(class routeClass, pattern string, limit int64, h handlerFunc) {
	if limit <= 0 {
		limit = s.Config.MaxBodyBytes
	}
	s.patterns = append(s.patterns, pattern)
	cop := s.crossOrigin
	scope := tokenScopeFor(pattern)
	s.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if info, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok {
			info.pattern, info.class, info.scope = pattern, class, scope
		}
		if class != apiRoute {
			if err := cop.Check(r); err != nil {
				s.writeError(w, r, errs.E(errs.Forbidden, "cross-origin request refused"))
				return
			}
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}))
}

// classOf is the class of the route r matched. A request no route
// matched has none; its error speaks JSON under /api/, where programs
// call, and HTML elsewhere — the one place a path decides anything.
func classOf(r *http.Request) routeClass {
	if info, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok && info.class != 0 {
		return info.class
	}
	if r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/") {
		return apiRoute
	}
	return pageRoute
}

// isAPI reports whether r is answered in JSON: API and script routes.
func isAPI(r *http.Request) bool { return classOf(r) != pageRoute }

// decodeJSON reads a JSON body into dst, refusing unknown fields, trailing
// data and bodies over the size limit.
func decodeJSON(r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return errs.E(errs.Unsupported, "the body must be application/json")
		}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		if err == nil {
			return errs.E(errs.Malformed, "the body must hold a single JSON value")
		}
		return jsonError(err)
	}
	return nil
}

// readForm parses a browser form, mapping an oversized body to 413.
func readForm(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errs.E(errs.TooLarge, "the form is larger than %d bytes", tooBig.Limit)
		}
		return errs.E(errs.Malformed, "the form could not be read")
	}
	return nil
}

func jsonError(err error) error {
	var tooBig *http.MaxBytesError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		return errs.E(errs.TooLarge, "the body is larger than %d bytes", tooBig.Limit)
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return errs.E(errs.Malformed, "the body is not valid JSON")
	case errors.As(err, &typ):
		return &errs.Error{Code: errs.Malformed, Message: "a field has the wrong type", Fields: map[string]string{typ.Field: "must be " + typ.Type.String()}}
	case errors.Is(err, io.EOF):
		return errs.E(errs.Malformed, "the body is empty; a JSON object was expected")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &errs.Error{Code: errs.Malformed, Message: "the body has an unknown field", Fields: map[string]string{field: "unknown field"}}
	}
	return errs.E(errs.Malformed, "the body could not be read")
}

// writeJSON writes v with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	return jsonEncode(w, v)
}

// writeJSONNoStore is writeJSON for answers no cache may keep: personal
// data, console state, and live status that is stale the moment after.
func writeJSONNoStore(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, status, v)
}

func jsonEncode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// openRoutes limits the open routes that write — the cookie tool, the
// analytics collector, the guardian's confirmation, the first-admin setup,
// one-click unsubscribe, the guest's door and chat and the public request
// form — to this many requests per client address and minute, between
// them and across every instance (per /64 for IPv6, see
// ratelimit.ClientKey): far above what a person or a mail
// provider sends, far below a flood.
var openRoutes = ratelimit.Window{Name: "open-routes", Limit: 300, Period: time.Minute}

// throttled refuses a request with 429 and Retry-After once the caller's
// address has used up its share of the open routes.
func (s *Server) throttled(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ok, wait, err := s.openLimits.Allow(r.Context(), ratelimit.ClientKey(clientIP(r)))
		if err != nil {
			return err
		}
		if !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)))
			return errs.E(errs.RateLimited, "too many requests from this address; try again shortly")
		}
		return h(w, r)
	}
}
