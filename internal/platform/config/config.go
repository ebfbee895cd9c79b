// Package config owns the server's settings: one typed struct, read from
// flags and SESSIONS_* environment variables (flags win), with *_FILE
// variants for secrets, validated once at start-up.
package config

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config is every setting the server and the operator commands read.
type Config struct {
	Addr        string // listen address
	BaseURL     string // public URL people reach the product at
	DataDir     string // SQLite file, blobs and other local state
	DatabaseURL string // postgres://… selects PostgreSQL; empty means SQLite in DataDir
	BlobURL     string // gocloud.dev/blob URL (s3://…); empty means DataDir/blobs

	SMTPAddr     string // host:port; empty keeps mail in the outbox
	SMTPUsername string
	SMTPPassword string // secret
	SMTPTLS      string // "starttls" (default), "tls" or "none"
	// SMTPTimeout bounds one delivery. A message claimed by a process that
	// died is sent by another once this and mail.LeaseMargin have passed.
	SMTPTimeout time.Duration
	MailFrom    string

	SecretKey string // secret used to sign links and tokens

	LogLevel  string
	LogFormat string // "json" or "text"

	// TrustedProxies are the load balancers whose X-Forwarded-For header
	// names the real client; nobody else's is believed.
	TrustedProxies []netip.Prefix

	JobWorkers      int
	MaxBodyBytes    int64
	ShutdownTimeout time.Duration
	// DrainTimeout is how long the server keeps serving after SIGTERM
	// while /readyz answers 503, so that load balancers stop sending it
	// requests before its listener closes.
	DrainTimeout time.Duration

	// ReactivationGrace is how long a deactivated account can be brought
	// back by signing in.
	ReactivationGrace time.Duration

	// Retention replaces the data map's period of the rules it names
	// (SESSIONS_RETENTION="analytics-25m=P13M,audit-5y=P6Y"). The
	// retention package parses and checks it against the data map
	// (retention.ParseOverrides); the command checks it at start.
	Retention string
	// InactivityWarning is how long before erasing an unused account its
	// owner is warned by e-mail.
	InactivityWarning time.Duration
	// ErasureLease is how long an erasure worker holds a run between two
	// batches; a run whose process died is taken up again once it lapses.
	ErasureLease time.Duration

	// InvitationsPerDay is how many meeting and organisation invitations
	// one account may send in a day (UTC); InvitationsPerAddressPerDay is
	// how many one address may receive in a day from people who share none
	// of its organisations.
	InvitationsPerDay           int
	InvitationsPerAddressPerDay int

	// Video calls run on an external LiveKit server or cluster when
	// LiveKitURL is set, and on an SFU embedded in this process otherwise.
	// Without a URL, a key and secret (both or neither) fix the embedded
	// SFU's keys, which are otherwise generated at every start.
	LiveKitURL       string
	LiveKitAPIKey    string
	LiveKitAPISecret string // secret
	// VideoBind are the addresses the embedded SFU's signalling and server
	// API port listens on; browsers reach signalling through our own
	// origin, so loopback suffices even on a LAN.
	VideoBind []netip.Addr
	// VideoNodeIP is the address media flows to, advertised to browsers:
	// the machine's LAN address to serve a LAN.
	VideoNodeIP netip.Addr
	// VideoPort (TCP, signalling) and VideoUDPPort (all media) of the
	// embedded SFU; 0 picks a free port at start.
	VideoPort    int
	VideoUDPPort int
	// VideoTCPPort is ICE over TCP, for networks that drop UDP; 0 is off.
	// LiveKit opens it on every interface, and the SFU leaves it (and
	// TURN) off while VideoNodeIP is loopback.
	VideoTCPPort int
	// VideoTURNUDPPort is LiveKit's TURN server over UDP on the node IP;
	// 0 is off.
	VideoTURNUDPPort int
	// VideoTURNTLSPort is TURN over TLS, on only with a certificate
	// (VideoTURNCertFile and VideoTURNKeyFile) or with VideoTURNExternalTLS
	// (a proxy in front terminates TLS). Browsers are sent to port 443 of
	// VideoTURNDomain, which must reach this port.
	VideoTURNTLSPort     int
	VideoTURNDomain      string
	VideoTURNCertFile    string
	VideoTURNKeyFile     string
	VideoTURNExternalTLS bool
}

// VideoTURNTLS reports whether the embedded SFU serves TURN over TLS.
func (c Config) VideoTURNTLS() bool { return c.VideoTURNCertFile != "" || c.VideoTURNExternalTLS }

// Error names the setting that is wrong and why.
type Error struct {
	Setting string
	Reason  string
}

func (e *Error) Error() string { return fmt.Sprintf("invalid setting %s: %s", e.Setting, e.Reason) }

type setting struct {
	name   string // flag name; the variable is SESSIONS_ + upper(name with - as _)
	usage  string
	secret bool // has a *_FILE variant
	def    string
	set    func(c *Config, v string) error
}

func (s setting) env() string {
	return "SESSIONS_" + strings.ToUpper(strings.ReplaceAll(s.name, "-", "_"))
}

func str(dst func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *dst(c) = strings.TrimSpace(v); return nil }
}

func port(dst func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 || n > 65535 {
			return errors.New("must be a port number from 0 to 65535")
		}
		*dst(c) = n
		return nil
	}
}

func count(lo, hi int, dst func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("must be a whole number from %d to %d", lo, hi)
		}
		*dst(c) = n
		return nil
	}
}

var settings = []setting{
	{name: "addr", usage: "listen address", def: "localhost:8080", set: str(func(c *Config) *string { return &c.Addr })},
	{name: "base-url", usage: "public URL of the product (default http://ADDR)", set: str(func(c *Config) *string { return &c.BaseURL })},
	{name: "data-dir", usage: "folder for the SQLite database, blobs and local state", def: "./data", set: str(func(c *Config) *string { return &c.DataDir })},
	{name: "database-url", usage: "postgres:// URL; empty uses SQLite in the data folder", secret: true, set: str(func(c *Config) *string { return &c.DatabaseURL })},
	{name: "blob-url", usage: "blob storage URL (s3://bucket?region=…); empty uses the data folder", secret: true, set: str(func(c *Config) *string { return &c.BlobURL })},
	{name: "smtp-addr", usage: "SMTP server host:port; empty keeps mail in the outbox", set: str(func(c *Config) *string { return &c.SMTPAddr })},
	{name: "smtp-username", usage: "SMTP user name", set: str(func(c *Config) *string { return &c.SMTPUsername })},
	{name: "smtp-password", usage: "SMTP password", secret: true, set: func(c *Config, v string) error { c.SMTPPassword = v; return nil }},
	{name: "smtp-tls", usage: "starttls, tls or none", def: "starttls", set: str(func(c *Config) *string { return &c.SMTPTLS })},
	{name: "smtp-timeout", usage: "how long one delivery may take; mail a crashed process had claimed is sent again 30s after this", def: "1m", set: func(c *Config, v string) error {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		// A delivery runs as a background job, which is cancelled after
		// two minutes whatever this says; the claim must end before that.
		if err != nil || d < time.Second || d > 90*time.Second {
			return errors.New("must be a duration from 1s to 90s, such as 1m")
		}
		c.SMTPTimeout = d
		return nil
	}},
	{name: "mail-from", usage: "sender address of outgoing mail", def: "Sessions <no-reply@sessions.localhost>", set: str(func(c *Config) *string { return &c.MailFrom })},
	{name: "secret-key", usage: "key that signs links and tokens (at least 32 bytes); generated into the data folder when empty", secret: true, set: func(c *Config, v string) error { c.SecretKey = v; return nil }},
	{name: "log-level", usage: "debug, info, warn or error", def: "info", set: str(func(c *Config) *string { return &c.LogLevel })},
	{name: "log-format", usage: "json or text", def: "json", set: str(func(c *Config) *string { return &c.LogFormat })},
	{name: "trusted-proxies", usage: "comma-separated addresses or CIDR ranges of proxies whose X-Forwarded-For is believed", set: func(c *Config, v string) error {
		c.TrustedProxies = nil
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			if !strings.Contains(part, "/") {
				addr, err := netip.ParseAddr(part)
				if err != nil {
					return fmt.Errorf("%q is not an IP address or CIDR range", part)
				}
				part = netip.PrefixFrom(addr, addr.BitLen()).String()
			}
			p, err := netip.ParsePrefix(part)
			if err != nil {
				return fmt.Errorf("%q is not an IP address or CIDR range", part)
			}
			c.TrustedProxies = append(c.TrustedProxies, p.Masked())
		}
		return nil
	}},
	{name: "job-workers", usage: "background job workers", def: "4", set: func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > 1000 {
			return errors.New("must be a whole number from 1 to 1000")
		}
		c.JobWorkers = n
		return nil
	}},
	{name: "max-body-bytes", usage: "largest request body accepted outside uploads", def: "1048576", set: func(c *Config, v string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < 1024 {
			return errors.New("must be a whole number of bytes, at least 1024")
		}
		c.MaxBodyBytes = n
		return nil
	}},
	{name: "reactivation-grace-days", usage: "days within which signing in reactivates a deactivated account", def: "30", set: func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > 3650 {
			return errors.New("must be a whole number of days from 1 to 3650")
		}
		c.ReactivationGrace = time.Duration(n) * 24 * time.Hour
		return nil
	}},
	{name: "retention", usage: "comma-separated rule=period pairs replacing the data map's retention periods, such as analytics-25m=P13M,audit-5y=P6Y", set: str(func(c *Config) *string { return &c.Retention })},
	{name: "inactivity-warning-days", usage: "days before erasing an unused account that its owner is warned by e-mail", def: "30", set: func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > 365 {
			return errors.New("must be a whole number of days from 1 to 365")
		}
		c.InactivityWarning = time.Duration(n) * 24 * time.Hour
		return nil
	}},
	{name: "invitations-per-day", usage: "meeting and organisation invitations one account may send per day (UTC)", def: "100", set: count(1, 100000, func(c *Config) *int { return &c.InvitationsPerDay })},
	{name: "invitations-per-address-per-day", usage: "invitations one address may receive per day from people outside its organisations", def: "10", set: count(1, 10000, func(c *Config) *int { return &c.InvitationsPerAddressPerDay })},
	{name: "livekit-url", usage: "ws:// or wss:// address of an external LiveKit server or cluster; empty runs the embedded SFU", set: str(func(c *Config) *string { return &c.LiveKitURL })},
	{name: "livekit-api-key", usage: "LiveKit API key (required with -livekit-url)", set: str(func(c *Config) *string { return &c.LiveKitAPIKey })},
	{name: "livekit-api-secret", usage: "LiveKit API secret (required with -livekit-url)", secret: true, set: func(c *Config, v string) error { c.LiveKitAPISecret = strings.TrimSpace(v); return nil }},
	{name: "video-bind", usage: "comma-separated addresses the embedded SFU's signalling port listens on", def: "127.0.0.1", set: func(c *Config, v string) error {
		c.VideoBind = nil
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			a, err := netip.ParseAddr(part)
			if err != nil {
				return fmt.Errorf("%q is not an IP address", part)
			}
			c.VideoBind = append(c.VideoBind, a)
		}
		if len(c.VideoBind) == 0 {
			return errors.New("must name at least one IP address")
		}
		return nil
	}},
	{name: "video-node-ip", usage: "address media flows to, advertised to browsers; the machine's LAN address to serve a LAN", def: "127.0.0.1", set: func(c *Config, v string) error {
		a, err := netip.ParseAddr(strings.TrimSpace(v))
		if err != nil || a.IsUnspecified() {
			return errors.New("must be one IP address of this machine, such as 192.168.1.20")
		}
		c.VideoNodeIP = a
		return nil
	}},
	{name: "video-port", usage: "TCP port of the embedded SFU's signalling (0: any free port)", def: "7880", set: port(func(c *Config) *int { return &c.VideoPort })},
	{name: "video-udp-port", usage: "UDP port all media of the embedded SFU goes through (0: any free port)", def: "7882", set: port(func(c *Config) *int { return &c.VideoUDPPort })},
	{name: "video-tcp-port", usage: "TCP port for ICE over TCP, media for networks that drop UDP; opened on every interface, only while the node IP is not loopback (0: off)", def: "7881", set: port(func(c *Config) *int { return &c.VideoTCPPort })},
	{name: "video-turn-udp-port", usage: "UDP port of the embedded SFU's TURN server on the node IP, only while the node IP is not loopback (0: off)", def: "3478", set: port(func(c *Config) *int { return &c.VideoTURNUDPPort })},
	{name: "video-turn-tls-port", usage: "TCP port of TURN over TLS, on with -video-turn-cert-file or -video-turn-external-tls; browsers connect to port 443 of -video-turn-domain, which must reach it", def: "5349", set: port(func(c *Config) *int { return &c.VideoTURNTLSPort })},
	{name: "video-turn-domain", usage: "name browsers reach TURN over TLS at, on port 443, and the certificate is for", set: str(func(c *Config) *string { return &c.VideoTURNDomain })},
	{name: "video-turn-cert-file", usage: "PEM certificate chain for TURN over TLS; turns it on", set: str(func(c *Config) *string { return &c.VideoTURNCertFile })},
	{name: "video-turn-key-file", usage: "PEM private key of -video-turn-cert-file", set: str(func(c *Config) *string { return &c.VideoTURNKeyFile })},
	{name: "video-turn-external-tls", usage: "true when a proxy in front terminates TLS for TURN and forwards plain TCP to -video-turn-tls-port; turns TURN over TLS on", def: "false", set: func(c *Config, v string) error {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return errors.New("must be true or false")
		}
		c.VideoTURNExternalTLS = b
		return nil
	}},
	{name: "erasure-lease", usage: "how long an erasure worker holds its run between batches; a run whose process died resumes once it lapses", def: "30s", set: func(c *Config, v string) error {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d < time.Second || d > time.Hour {
			return errors.New("must be a duration from 1s to 1h, such as 30s")
		}
		c.ErasureLease = d
		return nil
	}},
	{name: "drain-timeout", usage: "how long the server keeps serving after SIGTERM with /readyz unready, before it stops taking requests", def: "10s", set: func(c *Config, v string) error {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d < 0 || d > 10*time.Minute {
			return errors.New("must be a duration from 0s to 10m, such as 10s")
		}
		c.DrainTimeout = d
		return nil
	}},
	{name: "shutdown-timeout", usage: "how long shutdown waits for requests and jobs", def: "4s", set: func(c *Config, v string) error {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d <= 0 {
			return errors.New("must be a positive duration such as 4s")
		}
		c.ShutdownTimeout = d
		return nil
	}},
}

// Load reads settings from args (flags) and getenv. It returns the remaining
// positional arguments. A *Error names the first bad setting.
func Load(args []string, getenv func(string) string, stderr io.Writer) (Config, []string, error) {
	var c Config
	fs := flag.NewFlagSet("sessions", flag.ContinueOnError)
	fs.SetOutput(stderr)
	flags := make(map[string]*string, len(settings))
	for _, s := range settings {
		flags[s.name] = fs.String(s.name, "", fmt.Sprintf("%s (env %s)", s.usage, s.env()))
	}
	if err := fs.Parse(args); err != nil {
		return c, nil, &Error{Setting: "flags", Reason: err.Error()}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })

	for _, s := range settings {
		v, from, err := lookup(s, given[s.name], *flags[s.name], getenv)
		if err != nil {
			return c, nil, err
		}
		if v == "" {
			v = s.def
		}
		if err := s.set(&c, v); err != nil {
			return c, nil, &Error{Setting: from, Reason: err.Error()}
		}
	}
	if err := c.validate(); err != nil {
		return c, nil, err
	}
	return c, fs.Args(), nil
}

// lookup finds a setting's value: the flag, then SESSIONS_X, then the file
// named by SESSIONS_X_FILE. It returns where the value came from for errors.
func lookup(s setting, flagGiven bool, flagValue string, getenv func(string) string) (string, string, error) {
	if flagGiven {
		return flagValue, "-" + s.name, nil
	}
	if v := getenv(s.env()); v != "" {
		return v, s.env(), nil
	}
	if s.secret {
		if path := getenv(s.env() + "_FILE"); path != "" {
			b, err := os.ReadFile(path)
			if err != nil {
				return "", "", &Error{Setting: s.env() + "_FILE", Reason: "cannot read the file"}
			}
			return strings.TrimRight(string(b), "\r\n"), s.env() + "_FILE", nil
		}
	}
	return "", s.env(), nil
}

func (c *Config) validate() error {
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return &Error{"SESSIONS_ADDR", "must be host:port, such as localhost:8080"}
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return &Error{"SESSIONS_ADDR", "the port must be a number from 0 to 65535"}
	}
	if c.BaseURL == "" {
		if host == "" {
			host = "localhost"
		}
		c.BaseURL = "http://" + net.JoinHostPort(host, port)
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return &Error{"SESSIONS_BASE_URL", "must be an absolute http or https URL such as https://meet.example.com"}
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.DataDir == "" {
		return &Error{"SESSIONS_DATA_DIR", "must not be empty"}
	}
	if abs, err := filepath.Abs(c.DataDir); err == nil {
		c.DataDir = abs
	}
	if c.DatabaseURL != "" {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return &Error{"SESSIONS_DATABASE_URL", "must be a postgres:// URL, or empty for the embedded SQLite database"}
		}
	}
	if c.BlobURL != "" {
		if _, err := url.Parse(c.BlobURL); err != nil || !strings.Contains(c.BlobURL, "://") {
			return &Error{"SESSIONS_BLOB_URL", "must be a blob storage URL such as s3://bucket?region=eu-central-1"}
		}
	}
	if c.SMTPAddr != "" {
		if _, _, err := net.SplitHostPort(c.SMTPAddr); err != nil {
			return &Error{"SESSIONS_SMTP_ADDR", "must be host:port, such as smtp.example.com:587"}
		}
	}
	switch c.SMTPTLS {
	case "starttls", "tls", "none":
	default:
		return &Error{"SESSIONS_SMTP_TLS", "must be starttls, tls or none"}
	}
	if _, err := mail.ParseAddress(c.MailFrom); err != nil {
		return &Error{"SESSIONS_MAIL_FROM", "must be an e-mail address, optionally with a name"}
	}
	if c.SecretKey != "" && len(c.SecretKey) < 32 {
		return &Error{"SESSIONS_SECRET_KEY", "must be at least 32 bytes long"}
	}
	if err := c.validateVideo(); err != nil {
		return err
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return &Error{"SESSIONS_LOG_LEVEL", "must be debug, info, warn or error"}
	}
	switch c.LogFormat {
	case "json", "text":
	default:
		return &Error{"SESSIONS_LOG_FORMAT", "must be json or text"}
	}
	return nil
}

func (c *Config) validateVideo() error {
	if c.LiveKitURL != "" {
		u, err := url.Parse(c.LiveKitURL)
		if err != nil || u.Host == "" || (u.Scheme != "ws" && u.Scheme != "wss" && u.Scheme != "http" && u.Scheme != "https") {
			return &Error{"SESSIONS_LIVEKIT_URL", "must be a ws://, wss://, http:// or https:// URL such as wss://livekit.example.com"}
		}
		if c.LiveKitAPIKey == "" {
			return &Error{"SESSIONS_LIVEKIT_API_KEY", "is required with SESSIONS_LIVEKIT_URL"}
		}
		if c.LiveKitAPISecret == "" {
			return &Error{"SESSIONS_LIVEKIT_API_SECRET", "is required with SESSIONS_LIVEKIT_URL"}
		}
	}
	if (c.LiveKitAPIKey == "") != (c.LiveKitAPISecret == "") {
		return &Error{"SESSIONS_LIVEKIT_API_SECRET", "the LiveKit API key and secret go together: set both or neither"}
	}
	// The embedded SFU refuses shorter secrets; say so before it does. An
	// external server checks its own.
	if c.LiveKitURL == "" && c.LiveKitAPISecret != "" && len(c.LiveKitAPISecret) < 32 {
		return &Error{"SESSIONS_LIVEKIT_API_SECRET", "must be at least 32 characters long for the embedded SFU"}
	}
	return c.validateVideoFirewall()
}

// turnDomain is the rule LiveKit holds a TURN domain to.
var turnDomain = regexp.MustCompile(`^(?i)[a-z0-9-]+(\.[a-z0-9-]+)+\.?$`)

// validateVideoFirewall checks the embedded SFU's ways through firewalls:
// ports that do not collide, and TURN/TLS with all it needs.
func (c *Config) validateVideoFirewall() error {
	if c.LiveKitURL != "" {
		if c.VideoTURNTLS() || c.VideoTURNDomain != "" {
			return &Error{"SESSIONS_VIDEO_TURN_CERT_FILE", "TURN settings apply to the embedded SFU only; with SESSIONS_LIVEKIT_URL, configure TURN in LiveKit's own configuration (its turn section)"}
		}
		return nil
	}
	if c.VideoTCPPort != 0 && c.VideoTCPPort == c.VideoPort {
		return &Error{"SESSIONS_VIDEO_TCP_PORT", "must differ from SESSIONS_VIDEO_PORT: both are TCP ports"}
	}
	if c.VideoTURNUDPPort != 0 && c.VideoTURNUDPPort == c.VideoUDPPort {
		return &Error{"SESSIONS_VIDEO_TURN_UDP_PORT", "must differ from SESSIONS_VIDEO_UDP_PORT: both are UDP ports on the node IP"}
	}
	if (c.VideoTURNCertFile == "") != (c.VideoTURNKeyFile == "") {
		return &Error{"SESSIONS_VIDEO_TURN_KEY_FILE", "the TURN certificate and key go together: set both or neither"}
	}
	if !c.VideoTURNTLS() {
		return nil
	}
	if c.VideoTURNTLSPort == 0 {
		return &Error{"SESSIONS_VIDEO_TURN_TLS_PORT", "must be a port number for TURN over TLS, such as 5349"}
	}
	if c.VideoTURNTLSPort == c.VideoPort || c.VideoTURNTLSPort == c.VideoTCPPort {
		return &Error{"SESSIONS_VIDEO_TURN_TLS_PORT", "must differ from SESSIONS_VIDEO_PORT and SESSIONS_VIDEO_TCP_PORT"}
	}
	if c.VideoTURNDomain == "" {
		return &Error{"SESSIONS_VIDEO_TURN_DOMAIN", "is required for TURN over TLS: the name whose port 443 reaches the TURN TLS port, such as turn.example.com"}
	}
	if !turnDomain.MatchString(c.VideoTURNDomain) {
		return &Error{"SESSIONS_VIDEO_TURN_DOMAIN", "must be a domain name such as turn.example.com"}
	}
	if c.VideoTURNCertFile != "" && c.VideoTURNExternalTLS {
		return &Error{"SESSIONS_VIDEO_TURN_EXTERNAL_TLS", "a proxy terminating TLS and a certificate for TURN exclude each other: set one"}
	}
	if c.VideoTURNCertFile != "" {
		if _, err := tls.LoadX509KeyPair(c.VideoTURNCertFile, c.VideoTURNKeyFile); err != nil {
			return &Error{"SESSIONS_VIDEO_TURN_CERT_FILE", "cannot load the certificate and key: " + err.Error()}
		}
	}
	return nil
}

// Secure reports whether the product is served over TLS, which decides
// Secure cookies and HSTS.
func (c Config) Secure() bool { return strings.HasPrefix(c.BaseURL, "https://") }

// Usage lists every setting for the README and -h.
func Usage() []string {
	out := make([]string, 0, len(settings))
	for _, s := range settings {
		line := fmt.Sprintf("%s / -%s: %s", s.env(), s.name, s.usage)
		if s.def != "" {
			line += fmt.Sprintf(" (default %s)", s.def)
		}
		if s.secret {
			line += fmt.Sprintf("; or %s_FILE", s.env())
		}
		out = append(out, line)
	}
	return out
}

// SplitArgs separates the settings' flags (and their values) from
// everything else, so that a command's own flags such as --json pass
// through to the command untouched. Both -name and --name forms, with the
// value joined by = or in the next argument, are recognised.
func SplitArgs(args []string) (settingArgs, rest []string) {
	known := make(map[string]bool, len(settings))
	for _, s := range settings {
		known[s.name] = true
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i+1:]...)
			break
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || !known[name] {
			rest = append(rest, a)
			continue
		}
		settingArgs = append(settingArgs, a)
		if !hasValue && i+1 < len(args) {
			i++
			settingArgs = append(settingArgs, args[i])
		}
	}
	return settingArgs, rest
}
