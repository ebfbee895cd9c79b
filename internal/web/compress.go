package web

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Response compression. Pages, style sheets, scripts and JSON shrink to
// a fifth or less with gzip, which is what a phone on a slow network
// notices most; the call script alone goes from 590 KB to about 150 KB.
// Static assets are compressed once, when the server starts (static in
// pages.go); everything else is compressed here, as it is written.
//
// What is left alone: bodies under compressMinSize (gzip's framing would
// make them larger), types that are compressed already (images, video,
// archives), downloads (Content-Disposition: attachment), ranges (a range
// of a gzip stream is not the range asked for), server-sent events and
// upgraded connections (each event must reach the browser when written),
// and responses that set their own Content-Encoding.
//
// BREACH: a compressed response leaks, through its length, whether text
// an attacker put into it matches a secret elsewhere in it. Our pages
// carry no CSRF token (http.CrossOriginProtection checks the Origin and
// Sec-Fetch-Site headers instead), and the one-time secrets a page shows
// (a new API token, recovery codes, a second-factor key) are answers to
// same-origin form posts, which no other site can make the browser send.
// To keep the remaining case closed, a page requested by another site
// (Sec-Fetch-Site: cross-site), which is how an attacker would make a
// browser fetch it many times with a chosen query, is never compressed.

// compressMinSize is the smallest body worth compressing.
const compressMinSize = 1024

// compressibleTypes are the media types compressed: text of every kind
// the product serves, and JSON.
var compressibleTypes = map[string]bool{
	"text/html":                true,
	"text/css":                 true,
	"text/plain":               true,
	"text/javascript":          true,
	"text/calendar":            true,
	"application/javascript":   true,
	"application/json":         true,
	"application/problem+json": true,
	"application/schema+json":  true,
	"image/svg+xml":            true,
}

// compressible reports whether a response of Content-Type ct is text
// worth compressing.
func compressible(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return compressibleTypes[mt] || strings.HasSuffix(mt, "+json")
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip
// (RFC 9110 §12.5.3: a q-value of 0 refuses; "*" stands for anything not
// named).
func acceptsGzip(r *http.Request) bool {
	gzipQ, starQ := -1.0, -1.0
	for _, field := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(field, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			q := 1.0
			if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "gzip", "x-gzip":
				gzipQ = q
			case "*":
				starQ = q
			}
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return starQ > 0
}

// mayCompress reports whether the request may get a compressed answer
// at all, before its handler runs.
func mayCompress(r *http.Request) bool {
	switch {
	case r.Method == http.MethodHead:
		return false
	case r.Header.Get("Range") != "":
		return false
	case r.Header.Get("Upgrade") != "":
		return false
	case strings.EqualFold(r.Header.Get("Sec-Fetch-Site"), "cross-site"):
		return false
	}
	return true
}

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression)
	return w
}}

// compress is the middleware: it answers in gzip where the client
// accepts it and the response is worth it.
func compress(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !mayCompress(r) {
			next.ServeHTTP(w, r)
			return
		}
		cw := &compressWriter{ResponseWriter: w, accepts: acceptsGzip(r)}
		defer cw.close()
		next.ServeHTTP(cw, r)
	})
}

// compressWriter holds back the first compressMinSize bytes of a body
// whose type is worth compressing, then writes the rest through gzip or,
// when the body stayed small, as it is.
type compressWriter struct {
	http.ResponseWriter
	accepts bool

	status  int  // the status the handler wrote, held back with the body
	decided bool // headers are out: gz or plain from here on
	passing bool // not compressing: writes go straight through
	buf     bytes.Buffer
	gz      *gzip.Writer
}

func (w *compressWriter) WriteHeader(status int) {
	if w.decided || w.status != 0 {
		return
	}
	if status < 200 && status != 0 {
		// Informational answers (103 Early Hints) go out at once.
		w.ResponseWriter.WriteHeader(status)
		return
	}
	w.status = status
	if !w.worthCompressing() {
		w.passThrough()
	}
}

// worthCompressing looks at the headers the handler set.
func (w *compressWriter) worthCompressing() bool {
	h := w.Header()
	switch {
	case w.status == http.StatusNoContent || w.status == http.StatusNotModified || w.status == http.StatusPartialContent:
		return false
	case h.Get("Content-Encoding") != "":
		return false
	case strings.HasPrefix(strings.TrimSpace(strings.ToLower(h.Get("Content-Disposition"))), "attachment"):
		return false
	case !compressible(h.Get("Content-Type")):
		return false
	}
	if n, err := strconv.Atoi(h.Get("Content-Length")); err == nil && n < compressMinSize {
		return false
	}
	// The answer depends on Accept-Encoding from here on, whether or not
	// this client gets gzip: a shared cache must keep both.
	addVary(h, "Accept-Encoding")
	return w.accepts
}

// passThrough sends the held status and body as they are.
func (w *compressWriter) passThrough() {
	w.decided, w.passing = true, true
	w.ResponseWriter.WriteHeader(w.statusOr200())
	if w.buf.Len() > 0 {
		_, _ = w.ResponseWriter.Write(w.buf.Bytes())
		w.buf.Reset()
	}
}

// startGzip sends the headers of a compressed answer and the held body
// through gzip.
func (w *compressWriter) startGzip() error {
	w.decided = true
	h := w.Header()
	h.Del("Content-Length")
	h.Set("Content-Encoding", "gzip")
	w.ResponseWriter.WriteHeader(w.statusOr200())
	w.gz = gzipWriters.Get().(*gzip.Writer)
	w.gz.Reset(w.ResponseWriter)
	_, err := w.gz.Write(w.buf.Bytes())
	w.buf.Reset()
	return err
}

func (w *compressWriter) statusOr200() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

func (w *compressWriter) Write(b []byte) (int, error) {
	if w.status == 0 && !w.decided {
		if w.Header().Get("Content-Type") == "" {
			// As net/http would, so the decision sees the real type.
			w.Header().Set("Content-Type", http.DetectContentType(b))
		}
		w.WriteHeader(http.StatusOK)
	}
	switch {
	case w.passing:
		return w.ResponseWriter.Write(b)
	case w.gz != nil:
		return w.gz.Write(b)
	}
	w.buf.Write(b)
	if w.buf.Len() >= compressMinSize {
		if err := w.startGzip(); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}

// Flush sends what is held: a handler that flushes wants the browser to
// see it now, so the decision cannot wait for more bytes.
func (w *compressWriter) Flush() {
	if !w.decided {
		if w.status == 0 {
			w.WriteHeader(http.StatusOK)
		}
		if !w.decided {
			if err := w.startGzip(); err != nil {
				return
			}
		}
	}
	if w.gz != nil {
		_ = w.gz.Flush()
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// close ends the body: a body that stayed small goes out as it is.
func (w *compressWriter) close() {
	switch {
	case w.gz != nil:
		_ = w.gz.Close()
		w.gz.Reset(nil)
		gzipWriters.Put(w.gz)
		w.gz = nil
	case !w.decided && (w.status != 0 || w.buf.Len() > 0):
		w.Header().Del("Content-Length")
		w.Header().Set("Content-Length", strconv.Itoa(w.buf.Len()))
		w.passThrough()
	}
}

// Hijack hands the connection over for an upgrade the middleware did not
// see coming; nothing may have been written yet.
func (w *compressWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.decided && !w.passing {
		return nil, nil, errors.New("web: hijack after a compressed body began")
	}
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the real writer for
// deadlines.
func (w *compressWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// addVary adds name to the Vary header unless it is listed already.
func addVary(h http.Header, name string) {
	for _, v := range h.Values("Vary") {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), name) {
				return
			}
		}
	}
	h.Add("Vary", name)
}
