package videotest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	lklogger "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// Patience bounds each wait of a call test: generous for a loaded two-core
// machine, never an expectation of speed, since every wait ends as soon as
// its condition holds.
const Patience = 45 * time.Second

// Connect joins a LiveKit room with a token, subscribing to every track,
// as a browser in a meeting does. The SDK's own logging is silenced: it
// would only bury the test's output.
func Connect(url, token string, cb *lksdk.RoomCallback) (*lksdk.Room, error) {
	lksdk.SetLogger(lklogger.GetDiscardLogger())
	return lksdk.ConnectToRoomWithToken(url, token, cb, lksdk.WithAutoSubscribe(true), lksdk.WithConnectTimeout(Patience))
}

// Listener is someone in a call who counts the RTP packets of every
// track they receive, so a test can tell that media flows and not just
// signalling, and who notices being disconnected and a track being muted.
type Listener struct {
	packets          atomic.Int64
	disconnected     chan struct{}
	disconnectedOnce sync.Once
	muted            chan struct{}
}

// NewListener returns a listener; join with its Callback.
func NewListener() *Listener {
	return &Listener{disconnected: make(chan struct{}), muted: make(chan struct{}, 1)}
}

// Callback is the room callback to connect the listener with.
func (l *Listener) Callback() *lksdk.RoomCallback {
	return &lksdk.RoomCallback{
		OnDisconnected: func() { l.disconnectedOnce.Do(func() { close(l.disconnected) }) },
		ParticipantCallback: lksdk.ParticipantCallback{
			OnTrackSubscribed: func(track *webrtc.TrackRemote, _ *lksdk.RemoteTrackPublication, _ *lksdk.RemoteParticipant) {
				go func() {
					for {
						if _, _, err := track.ReadRTP(); err != nil {
							return
						}
						l.packets.Add(1)
					}
				}()
			},
			OnTrackMuted: func(lksdk.TrackPublication, lksdk.Participant) {
				select {
				case l.muted <- struct{}{}:
				default:
				}
			},
		},
	}
}

// Packets is how many RTP packets the listener has received so far.
func (l *Listener) Packets() int64 { return l.packets.Load() }

// Disconnected is closed once the listener's connection ended.
func (l *Listener) Disconnected() <-chan struct{} { return l.disconnected }

// Muted receives when a track the listener hears was muted.
func (l *Listener) Muted() <-chan struct{} { return l.muted }

// Speak publishes a microphone on room and sends Opus silence in 20 ms
// frames, as an open microphone in a quiet room does, until ctx ends.
func Speak(ctx context.Context, t testing.TB, room *lksdk.Room) {
	t.Helper()
	mic, err := webrtc.NewTrackLocalStaticSample(
		webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "mic", "host")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := room.LocalParticipant.PublishTrack(mic, &lksdk.TrackPublicationOptions{
		Name: "microphone", Source: livekit.TrackSource_MICROPHONE,
	}); err != nil {
		t.Fatalf("publish: %v", err)
	}
	go func() {
		silence := []byte{0xf8, 0xff, 0xfe} // one 20 ms Opus frame of silence
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				_ = mic.WriteSample(media.Sample{Data: silence, Duration: 20 * time.Millisecond})
			}
		}
	}()
}

// WaitUntil polls cond until it holds, failing the test after Patience.
func WaitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
