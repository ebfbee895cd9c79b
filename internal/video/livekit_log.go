package video

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
	"strings"
	"time"

	lklogger "github.com/livekit/protocol/logger"
	"github.com/livekit/protocol/logger/zaputil"
)

// LiveKit logs through its own process-wide logger. Left alone it discards
// everything; its usual set-up (config.InitLoggerFromConfig) writes with zap
// to stderr and, worse, replaces slog's default logger. Instead we hand it a
// logger that writes into our slog handler and lets through only fields known
// to hold ids, kinds and counts: LiveKit logs display names, SDP and ICE
// candidates (which carry IP addresses), user agents and whole protobufs at
// various levels, and a denylist would miss the next one it adds.

// livekitSafeKeys are the LiveKit log fields whose values are ids, states or
// numbers. Identities and room names are ours and opaque.
var livekitSafeKeys = map[string]bool{
	"room": true, "roomID": true, "participant": true, "pID": true, "participantID": true,
	"subscriberID": true, "publisherID": true, "trackID": true, "nodeID": true,
	"kind": true, "source": true, "mime": true, "mimeType": true, "codec": true,
	"state": true, "status": true, "reason": true, "error": true, "muted": true,
	"layer": true, "spatial": true, "temporal": true, "ssrc": true, "count": true,
	"size": true, "limit": true, "timeout": true, "duration": true, "retry": true,
	"attempt": true, "version": true, "portHttp": true, "rtc.portUDP": true,
	"rtc.portTCP": true, "rtc.portICERange": true, "connID": true, "cid": true,
	"event": true, "method": true, "code": true, "messageType": true, "direction": true,
	"numParticipants": true, "connectionType": true, "closedByClient": true,
	"iceDuration": true, "joinDuration": true, "connectTime": true,
}

// ipPattern matches IPv4 and IPv6 addresses inside free text (messages from
// pion, error strings). It over-matches times like 12:30:45; losing those is
// the cheaper mistake.
var ipPattern = regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b|\b[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}\b`)

func scrub(s string) string { return ipPattern.ReplaceAllString(s, "[ip]") }

// slogLiveKit implements LiveKit's logger interface on top of a slog handler.
type slogLiveKit struct {
	h      slog.Handler
	min    slog.Level
	name   string
	values []any
}

// newLiveKitLogger returns a LiveKit logger that writes to h at min and above.
func newLiveKitLogger(h slog.Handler, min slog.Level) lklogger.Logger {
	return &slogLiveKit{h: h, min: min}
}

func (l *slogLiveKit) Debugw(msg string, kv ...any) { l.log(slog.LevelDebug, msg, nil, kv) }
func (l *slogLiveKit) Infow(msg string, kv ...any)  { l.log(slog.LevelInfo, msg, nil, kv) }
func (l *slogLiveKit) Warnw(msg string, err error, kv ...any) {
	l.log(slog.LevelWarn, msg, err, kv)
}
func (l *slogLiveKit) Errorw(msg string, err error, kv ...any) {
	l.log(slog.LevelError, msg, err, kv)
}

func (l *slogLiveKit) log(level slog.Level, msg string, err error, kv []any) {
	ctx := context.Background()
	// Every hang-up aborts the data channels, and LiveKit warns about each
	// one: five warnings per person leaving is noise, not news.
	if level == slog.LevelWarn && err != nil && strings.Contains(err.Error(), "User Initiated Abort") {
		level = slog.LevelDebug
	}
	if level < l.minFor() || !l.h.Enabled(ctx, level) {
		return
	}
	r := slog.NewRecord(time.Now(), level, "livekit: "+scrub(msg), 0)
	if l.name != "" {
		r.AddAttrs(slog.String("component", l.name))
	}
	// LiveKit often repeats a key (room, participant) between a logger's
	// values and the call's; the later one wins, as in zap.
	var keys []string
	values := map[string]any{}
	add := func(pairs []any) {
		for i := 0; i+1 < len(pairs); i += 2 {
			key, ok := pairs[i].(string)
			if !ok || !livekitSafeKeys[key] {
				continue
			}
			v, ok := safeValue(pairs[i+1])
			if !ok {
				continue
			}
			if _, seen := values[key]; !seen {
				keys = append(keys, key)
			}
			values[key] = v
		}
	}
	add(l.values)
	add(kv)
	if err != nil {
		add([]any{"error", err})
	}
	for _, k := range keys {
		r.AddAttrs(slog.Any(k, values[k]))
	}
	_ = l.h.Handle(ctx, r)
}

// minFor keeps pion (WebRTC) below error quiet unless everything was asked
// for: it warns about routine ICE events in every call. LiveKit's own
// default (logging.pion_level) does the same.
func (l *slogLiveKit) minFor() slog.Level {
	if l.min > slog.LevelDebug && strings.Contains(l.name, "pion") {
		return max(l.min, slog.LevelError)
	}
	return l.min
}

// safeValue lets through scalars only: a struct or protobuf under a safe key
// could still hold a name or an address.
func safeValue(v any) (any, bool) {
	switch v := v.(type) {
	case nil:
		return nil, false
	case error:
		return scrub(v.Error()), true
	case time.Duration, time.Time, bool:
		return v, true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		// LiveKit's id types (livekit.ParticipantIdentity, …) are strings.
		return scrub(rv.String()), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if s, ok := v.(fmt.Stringer); ok { // enums such as livekit.TrackType
			return s.String(), true
		}
		return rv.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return rv.Uint(), true
	case reflect.Float32, reflect.Float64:
		return rv.Float(), true
	case reflect.Bool:
		return rv.Bool(), true
	}
	return nil, false
}

func (l *slogLiveKit) with(f func(*slogLiveKit)) *slogLiveKit {
	c := *l
	c.values = append([]any(nil), l.values...)
	f(&c)
	return &c
}

func (l *slogLiveKit) WithValues(kv ...any) lklogger.Logger {
	return l.with(func(c *slogLiveKit) { c.values = append(c.values, kv...) })
}

func (l *slogLiveKit) WithName(name string) lklogger.Logger {
	return l.with(func(c *slogLiveKit) {
		if c.name != "" {
			name = c.name + "." + name
		}
		c.name = name
	})
}

func (l *slogLiveKit) WithComponent(component string) lklogger.Logger { return l.WithName(component) }

func (l *slogLiveKit) WithUnlikelyValues(kv ...any) lklogger.UnlikelyLogger {
	return lklogger.NewUnlikelyLogger(l, kv...)
}

// Call depth, sampling and deferred values tune zap's output; a slog handler
// has no use for them.
func (l *slogLiveKit) WithCallDepth(int) lklogger.Logger { return l }
func (l *slogLiveKit) WithItemSampler() lklogger.Logger  { return l }
func (l *slogLiveKit) WithoutSampler() lklogger.Logger   { return l }
func (l *slogLiveKit) WithDeferredValues() (lklogger.Logger, lklogger.DeferredFieldResolver) {
	return l, zaputil.NoOpDeferrer{}
}
