// Package mailtest runs a real SMTP server on loopback for tests. It
// accepts (or, on request, refuses) what it is sent, and parses each
// message with net/mail and mime/multipart, so tests in any package can
// assert the headers and bodies a person would receive.
//
//	srv := mailtest.Start(t)
//	... configure the code under test with srv.Addr ...
//	msg := srv.Next(t)
//	if msg.Header.Get("To") != "ada@example.com" { ... }
package mailtest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/sessionshq/sessions/internal/platform/tlstest"
)

// Wait bounds how long Next waits for a message; it stops a hung test and
// measures nothing.
const Wait = 30 * time.Second

// Options change how the server behaves.
type Options struct {
	// STARTTLS offers STARTTLS with a certificate made for the test;
	// ImplicitTLS speaks TLS from the first byte instead. ClientTLS
	// returns a client configuration that trusts it.
	STARTTLS    bool
	ImplicitTLS bool
	// Username and Password, when set, are required through AUTH PLAIN
	// before a message is accepted.
	Username string
	Password string
}

// Message is one message the server accepted.
type Message struct {
	EnvelopeFrom string
	EnvelopeTo   []string
	Raw          []byte
	Header       mail.Header
	// Subject is the decoded Subject header.
	Subject string
	// ContentType is the media type of the whole message.
	ContentType string
	// Text and HTML are the decoded bodies, with line ends as "\n".
	Text string
	HTML string
	// ParseError is set when the message is not well formed; Next fails
	// the test on it.
	ParseError error
}

// Server is a running test server.
type Server struct {
	// Addr is host:port on 127.0.0.1.
	Addr string

	opts      Options
	clientTLS *tls.Config
	arrived   chan *Message

	mu       sync.Mutex
	received []*Message
	refusal  *smtp.SMTPError
	attempts int
}

// Start runs a plain server that accepts everything. It stops when the
// test ends.
func Start(tb testing.TB) *Server { return StartWith(tb, Options{}) }

// StartWith runs a server with the given options.
func StartWith(tb testing.TB, o Options) *Server {
	tb.Helper()
	s := &Server{opts: o, arrived: make(chan *Message, 1000)}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{srv: s}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout = Wait
	srv.WriteTimeout = Wait
	srv.MaxMessageBytes = 10 << 20
	srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("mailtest: listen: %v", err)
	}
	if o.STARTTLS || o.ImplicitTLS {
		serverTLS, clientTLS, err := selfSigned()
		if err != nil {
			tb.Fatalf("mailtest: certificate: %v", err)
		}
		s.clientTLS = clientTLS
		if o.ImplicitTLS {
			ln = tls.NewListener(ln, serverTLS)
		} else {
			srv.TLSConfig = serverTLS
		}
	} else {
		// Without TLS a test may still try AUTH over loopback.
		srv.AllowInsecureAuth = true
	}
	s.Addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { _ = srv.Close() })
	return s
}

// ClientTLS returns a TLS configuration that trusts this server; nil for a
// server without TLS.
func (s *Server) ClientTLS() *tls.Config {
	if s.clientTLS == nil {
		return nil
	}
	return s.clientTLS.Clone()
}

// Refuse makes the server answer every recipient with the given SMTP code
// (4xx for a temporary failure, 5xx for a permanent one) until Accept.
func (s *Server) Refuse(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	class := code / 100
	s.refusal = &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{class, 0, 0}, Message: "refused by the test server"}
}

// Accept undoes Refuse.
func (s *Server) Accept() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refusal = nil
}

// Attempts counts the recipients the server was offered, refused or not.
func (s *Server) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// Messages returns what has been accepted so far, oldest first.
func (s *Server) Messages() []*Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Message(nil), s.received...)
}

// Next waits for the next accepted message and fails the test if none
// arrives within Wait or it does not parse.
func (s *Server) Next(tb testing.TB) *Message {
	tb.Helper()
	select {
	case m := <-s.arrived:
		if m.ParseError != nil {
			tb.Fatalf("mailtest: received a malformed message: %v\n%s", m.ParseError, m.Raw)
		}
		return m
	case <-time.After(Wait):
		tb.Fatalf("mailtest: no message arrived within %s", Wait)
		return nil
	}
}

type session struct {
	srv    *Server
	authed bool
	from   string
	to     []string
}

func (se *session) AuthMechanisms() []string {
	if se.srv.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (se *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != se.srv.opts.Username || password != se.srv.opts.Password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		se.authed = true
		return nil
	}), nil
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if se.srv.opts.Username != "" && !se.authed {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}
	}
	se.from = from
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	se.srv.mu.Lock()
	defer se.srv.mu.Unlock()
	se.srv.attempts++
	if r := se.srv.refusal; r != nil {
		return r
	}
	se.to = append(se.to, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := Parse(raw)
	m.EnvelopeFrom = se.from
	m.EnvelopeTo = append([]string(nil), se.to...)
	se.srv.mu.Lock()
	se.srv.received = append(se.srv.received, m)
	se.srv.mu.Unlock()
	se.srv.arrived <- m
	return nil
}

func (se *session) Reset() { se.from, se.to = "", nil }

func (se *session) Logout() error { return nil }

// Parse reads a raw RFC 5322 message into a Message. Problems are reported
// in ParseError rather than returned, so a test sees the raw bytes too.
func Parse(raw []byte) *Message {
	m := &Message{Raw: raw}
	if !bytes.Contains(raw, []byte("\r\n")) || bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\n")) {
		m.ParseError = errors.New("line ends must all be CRLF")
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		m.ParseError = err
		return m
	}
	m.Header = msg.Header
	dec := new(mime.WordDecoder)
	if m.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		m.ParseError = fmt.Errorf("subject: %w", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		m.ParseError = fmt.Errorf("content-type: %w", err)
		return m
	}
	m.ContentType = mt
	if !strings.HasPrefix(mt, "multipart/") {
		body, err := decode(msg.Body, msg.Header.Get("Content-Transfer-Encoding"))
		if err != nil {
			m.ParseError = err
			return m
		}
		m.assign(mt, body)
		return m
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			m.ParseError = fmt.Errorf("multipart: %w", err)
			return m
		}
		// NextPart decodes quoted-printable itself and drops the header.
		body, err := decode(p, p.Header.Get("Content-Transfer-Encoding"))
		if err != nil {
			m.ParseError = err
			return m
		}
		pt, _, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil {
			m.ParseError = fmt.Errorf("part content-type: %w", err)
			return m
		}
		m.assign(pt, body)
	}
	return m
}

func (m *Message) assign(mediaType, body string) {
	body = strings.ReplaceAll(body, "\r\n", "\n")
	switch mediaType {
	case "text/plain":
		m.Text = body
	case "text/html":
		m.HTML = body
	}
}

func decode(r io.Reader, cte string) (string, error) {
	if strings.EqualFold(strings.TrimSpace(cte), "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return "", fmt.Errorf("body: %w", err)
	}
	return string(b), nil
}

// selfSigned makes a certificate for 127.0.0.1 and localhost and a client
// configuration that trusts only it.
func selfSigned() (server, client *tls.Config, err error) {
	cert, err := tlstest.SelfSigned("127.0.0.1", "localhost")
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	server = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	client = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return server, client, nil
}
