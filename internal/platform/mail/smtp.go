package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Sender hands one composed message to a mail server.
type Sender interface {
	Send(ctx context.Context, from, to string, msg []byte) error
}

// SMTPConfig is how to reach the SMTP server.
type SMTPConfig struct {
	Addr     string // host:port
	Security string // "starttls" (default), "tls" or "none"
	Username string // empty: no authentication
	Password string
	// HelloName is the name given in EHLO; the public host name is a good
	// choice. Empty means "localhost".
	HelloName string
	// TLS overrides the TLS settings (tests trust their own certificate
	// with it); nil verifies the server against the system's roots.
	TLS *tls.Config
	// Timeout bounds one delivery, connection included; zero means 1 minute.
	Timeout time.Duration
}

// SMTP delivers over one new connection per message, which suits the
// volume of a meeting platform and leaves nothing to keep alive.
type SMTP struct{ cfg SMTPConfig }

// NewSMTP returns a Sender for cfg.
func NewSMTP(cfg SMTPConfig) *SMTP {
	if cfg.Security == "" {
		cfg.Security = "starttls"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Minute
	}
	return &SMTP{cfg: cfg}
}

// Stages of an SMTP delivery, named in errors.
const (
	StageConnect   = "connect"
	StageTLS       = "tls"
	StageHello     = "hello"
	StageAuth      = "auth"
	StageSender    = "sender"
	StageRecipient = "recipient"
	StageData      = "data"
)

// SendError is a failed delivery. Its Error text holds only the stage and
// the SMTP status codes, never the server's free text, which often quotes
// the recipient's address; the cause is kept for errors.As.
type SendError struct {
	Stage string
	Err   error
}

func (e *SendError) Unwrap() error { return e.Err }

func (e *SendError) Error() string {
	var se *smtp.SMTPError
	switch {
	case errors.As(e.Err, &se):
		s := fmt.Sprintf("%s: SMTP %d", e.Stage, se.Code)
		if c := se.EnhancedCode; c != smtp.EnhancedCodeNotSet && c != smtp.NoEnhancedCode {
			s += fmt.Sprintf(" %d.%d.%d", c[0], c[1], c[2])
		}
		return s
	case errors.Is(e.Err, context.DeadlineExceeded), isTimeout(e.Err):
		return e.Stage + ": timed out"
	case errors.Is(e.Err, context.Canceled):
		return e.Stage + ": cancelled"
	}
	var ne *net.OpError
	if errors.As(e.Err, &ne) {
		return e.Stage + ": network error (" + ne.Op + ")"
	}
	var ce *tls.CertificateVerificationError
	if errors.As(e.Err, &ce) {
		return e.Stage + ": the server's certificate is not trusted"
	}
	return e.Stage + ": failed"
}

// Permanent reports whether the server refused the message for good (a
// 5xx reply to the envelope or the content), so retrying cannot help.
func (e *SendError) Permanent() bool {
	var se *smtp.SMTPError
	if !errors.As(e.Err, &se) || se.Code/100 != 5 {
		return false
	}
	switch e.Stage {
	case StageSender, StageRecipient, StageData:
		return true
	}
	return false
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Send delivers msg to one recipient.
func (s *SMTP) Send(ctx context.Context, from, to string, msg []byte) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	fail := func(stage string, err error) error {
		// An error caused by the deadline closing the connection reads
		// as a timeout, not as a broken network.
		if cerr := ctx.Err(); cerr != nil {
			err = fmt.Errorf("%w: %w", cerr, err)
		}
		return &SendError{Stage: stage, Err: err}
	}
	host, _, err := net.SplitHostPort(s.cfg.Addr)
	if err != nil {
		return fail(StageConnect, err)
	}
	tlsConfig := s.cfg.TLS
	if tlsConfig == nil {
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		tlsConfig = tlsConfig.Clone()
	}
	if tlsConfig.ServerName == "" {
		tlsConfig.ServerName = host
	}

	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fail(StageConnect, err)
	}
	// The client sets its own deadline per command; closing the
	// connection when ctx ends bounds the delivery as a whole, so a stuck
	// server cannot hold a worker.
	stopWatch := context.AfterFunc(ctx, func() { conn.Close() })
	defer stopWatch()

	var c *smtp.Client
	switch s.cfg.Security {
	case "tls":
		tc := tls.Client(conn, tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return fail(StageTLS, err)
		}
		c = smtp.NewClient(tc)
	case "none":
		c = smtp.NewClient(conn)
	default:
		// The greeting before STARTTLS names us "localhost"; the one that
		// counts, inside TLS, uses HelloName below.
		if c, err = smtp.NewClientStartTLS(conn, tlsConfig); err != nil {
			conn.Close()
			return fail(StageTLS, err)
		}
	}
	defer c.Close()
	c.CommandTimeout = s.cfg.Timeout
	c.SubmissionTimeout = s.cfg.Timeout
	if err := c.Hello(s.helloName()); err != nil {
		return fail(StageHello, err)
	}
	if s.cfg.Username != "" {
		if _, encrypted := c.TLSConnectionState(); !encrypted && !isLoopback(host) {
			// A password is never sent in the clear over the network.
			return fail(StageAuth, errors.New("refusing to authenticate without TLS"))
		}
		if err := c.Auth(sasl.NewPlainClient("", s.cfg.Username, s.cfg.Password)); err != nil {
			return fail(StageAuth, err)
		}
	}
	if err := c.Mail(from, nil); err != nil {
		return fail(StageSender, err)
	}
	if err := c.Rcpt(to, nil); err != nil {
		return fail(StageRecipient, err)
	}
	w, err := c.Data()
	if err != nil {
		return fail(StageData, err)
	}
	if _, err := bytes.NewReader(msg).WriteTo(w); err != nil {
		w.Close()
		return fail(StageData, err)
	}
	if err := w.Close(); err != nil {
		return fail(StageData, err)
	}
	// The message is accepted once DATA is answered; a failed QUIT does
	// not undo that.
	_ = c.Quit()
	return nil
}

func (s *SMTP) helloName() string {
	if s.cfg.HelloName != "" {
		return s.cfg.HelloName
	}
	return "localhost"
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
