//go:build !nosfu

package video

// The embedded SFU: LiveKit's server compiled into this binary. It is in
// by default; building with -tags nosfu leaves it out (embedded_none.go),
// for a smaller binary that only talks to an external LiveKit.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/livekit/livekit-server/pkg/config"
	"github.com/livekit/livekit-server/pkg/routing"
	"github.com/livekit/livekit-server/pkg/service"
	"github.com/livekit/livekit-server/pkg/telemetry/prometheus"
	lklogger "github.com/livekit/protocol/logger"

	"github.com/sessionshq/sessions/internal/platform/clock"
)

// HasEmbedded reports whether this build carries the embedded SFU.
const HasEmbedded = true

// StartEmbedded starts a single-node LiveKit SFU inside this process and
// returns once it accepts connections. Close stops it.
//
// LiveKit keeps some state per process: its logger (the last SFU started
// sets it) and its Prometheus collectors (labelled with the first node's
// id). Several SFUs on different ports can run at once, as tests do.
func StartEmbedded(ctx context.Context, cfg EmbeddedConfig, clk clock.Clock, log *slog.Logger) (*SFU, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	body, err := cfg.livekitConfig()
	if err != nil {
		return nil, err
	}
	// Install the logger before anything in LiveKit derives its own from it.
	lklogger.SetLogger(newLiveKitLogger(log.Handler(), cfg.LogLevel.Level()), "livekit")

	conf, err := config.NewConfig(string(body), true, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("video: LiveKit config: %w", err)
	}
	if err := conf.ValidateKeys(); err != nil {
		return nil, fmt.Errorf("video: LiveKit keys: %w", err)
	}
	node, err := routing.NewLocalNode(conf)
	if err != nil {
		return nil, fmt.Errorf("video: LiveKit node: %w", err)
	}
	// InitializeServer's stats worker dereferences the collectors this
	// creates. Init is idempotent; the node id of the first call sticks as a
	// metric label.
	if err := prometheus.Init(string(node.NodeID()), node.NodeType()); err != nil {
		return nil, fmt.Errorf("video: LiveKit metrics: %w", err)
	}
	server, err := service.InitializeServer(conf, node)
	if err != nil {
		// Most often the UDP port is taken: the media sockets open here.
		return nil, fmt.Errorf("video: LiveKit server: %w", err)
	}

	started := make(chan error, 1)
	go func() { started <- server.Start() }()

	// Start blocks for the server's lifetime and only returns early when a
	// listener fails, so wait for whichever comes first.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !server.IsRunning() {
		select {
		case err := <-started:
			if err == nil {
				err = errors.New("stopped during start")
			}
			return nil, fmt.Errorf("video: LiveKit start: %w", err)
		case <-ctx.Done():
			// Start cannot be interrupted, and Stop does nothing until the
			// server runs: stop it once it is up, unless it failed anyway.
			go func() {
				for !server.IsRunning() {
					select {
					case <-started:
						return
					case <-time.After(20 * time.Millisecond):
					}
				}
				server.Stop(true)
			}()
			return nil, ctx.Err()
		case <-tick.C:
		}
	}

	sfu := newSFU(cfg.PublicURL, "http://"+proxyTarget(cfg), cfg.APIKey, cfg.APISecret, cfg.TokenTTL, clk, log)
	sfu.signal = sfu.guarded(newSignalProxy(proxyTarget(cfg), log))
	var once sync.Once
	sfu.stop = func(ctx context.Context) error {
		var err error
		once.Do(func() {
			// End every call first: stopping alone drops the sockets without
			// a word, and clients then retry with back-off for a long while
			// instead of showing that the call is over.
			sfu.endAllCalls(ctx)
			done := make(chan struct{})
			// force: rather than wait for people to hang up, which can take
			// for ever, drop whoever is left.
			go func() { server.Stop(true); close(done) }()
			select {
			case <-done:
				err = <-started
			case <-ctx.Done():
				err = fmt.Errorf("video: LiveKit stop: %w", ctx.Err())
			}
		})
		return err
	}

	// The ports say what a firewall must let in; 0 is off.
	log.Info("embedded video server started",
		slog.Int("port", cfg.Port), slog.Bool("loopback_only", cfg.loopbackOnly()),
		slog.Int("udp_port", cfg.UDPPort), slog.Int("ice_tcp_port", cfg.TCPPort),
		slog.Int("turn_udp_port", cfg.TURN.UDPPort), slog.Int("turn_tls_port", cfg.TURN.TLSPort))
	return sfu, nil
}
