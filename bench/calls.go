package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livekit/protocol/livekit"
	lklogger "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/config"
	"github.com/sessionshq/sessions/internal/service/wire"
	"github.com/sessionshq/sessions/internal/store"
	"github.com/sessionshq/sessions/internal/video"
	"github.com/sessionshq/sessions/internal/web"
)

func init() {
	register(Bench{
		Name: "tokens",
		About: "joining a call through our HTTP API: many members of one meeting POST /api/meetings/{id}/join " +
			"at once (bearer token, every join rule checked, a LiveKit token minted); joins per second and latency, " +
			"next to minting the same tokens alone",
		Run: benchTokens,
	})
	register(Bench{
		Name: "sfu",
		About: "embedded LiveKit SFU: audio-only participants (each publishing Opus in 20 ms packets, " +
			"as an open microphone does) are added step by step while one listener hears them all; " +
			"packet loss is counted from RTP sequence gaps at the listener. The simulated participants " +
			"run in the benchmark process, so they share this machine's cores with the SFU.",
		Run: benchSFU,
	})
}

func benchTokens(ctx context.Context, e *Env) error {
	members, joins, workers := 200, 4000, 16
	if e.Quick {
		members, joins, workers = 10, 100, 4
	}
	db, done, err := openDB(ctx, e)
	if err != nil {
		return err
	}
	defer done()
	// One host invites every member, more than a day's default limit.
	vars := map[string]string{"SESSIONS_BASE_URL": "http://sessions.bench", "SESSIONS_DATA_DIR": e.Dir,
		"SESSIONS_INVITATIONS_PER_DAY": "100000"}
	cfg, _, err := config.Load(nil, func(k string) string { return vars[k] }, io.Discard)
	if err != nil {
		return err
	}
	secret := []byte("bench-secret-of-at-least-32-bytes-long")
	clk := clock.System{}
	log := slog.New(slog.DiscardHandler)
	// An external SFU that is never dialled: minting a token is local work,
	// and it is the join path up to the token that is measured.
	sfu, err := video.Connect(video.ExternalConfig{URL: "ws://127.0.0.1:7880", APIKey: "APIbench",
		APISecret: "bench-livekit-secret-of-at-least-32-chars"}, clk, log)
	if err != nil {
		return err
	}
	services, err := wire.New(wire.Parts{Config: cfg, DB: db, Clock: clk, Log: log, Secret: secret, Video: sfu})
	if err != nil {
		return err
	}
	srv, err := web.New(web.Deps{Config: cfg, Clock: clk, Log: log, Secret: secret, Video: sfu, Services: services})
	if err != nil {
		return err
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	e.Logf("making a meeting with %d members", members)
	now := clk.Now()
	newMember := func(i int) (account.Account, error) {
		a := account.Account{ID: account.NewID(), Email: fmt.Sprintf("bench%d@example.com", i), EmailVerifiedAt: &now,
			PasswordHash: "x", PasswordChangedAt: now, Name: fmt.Sprintf("Member %d", i), Status: account.Active,
			CreatedAt: now, UpdatedAt: now, LastActiveAt: now}
		return a, store.CreateAccount(ctx, db, a)
	}
	host, err := newMember(0)
	if err != nil {
		return err
	}
	in := meeting.Input{Title: "Token bench", Start: now.Add(time.Hour).Format(time.RFC3339),
		TimeZone: "UTC", DurationMinutes: 60, Lobby: true}
	m, err := services.Meetings.Create(ctx, host.ID, "", in)
	if err != nil {
		return err
	}
	tokens := make([]string, 0, members)
	for i := 1; i <= members; i++ {
		a, err := newMember(i)
		if err != nil {
			return err
		}
		if _, err := services.Meetings.Invite(ctx, host.ID, m.ID, a.Email, string(meeting.RoleParticipant)); err != nil {
			return err
		}
		tok := account.NewAPIToken()
		if err := store.CreateAPIToken(ctx, db, account.APIToken{ID: account.NewTokenID(), AccountID: a.ID, Name: "bench",
			Scopes: []account.Scope{account.ScopeMeetings}, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)},
			account.TokenDigest(tok)); err != nil {
			return err
		}
		tokens = append(tokens, tok)
	}

	// Every member joins in turn from a pool of concurrent clients; the
	// first join of each asks at the door, later ones find them let in.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	url := ts.URL + "/api/meetings/" + m.ID + "/join"
	var next atomic.Int64
	var failed atomic.Int64
	lats := make([]Latencies, workers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(joins) || ctx.Err() != nil {
					return
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("{}"))
				req.Header.Set("Authorization", "Bearer "+tokens[i%int64(len(tokens))])
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				res, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					failed.Add(1)
					continue
				}
				lats[w].Add(time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if n := failed.Load(); n > 0 {
		return fmt.Errorf("%d of %d joins failed", n, joins)
	}
	var all Latencies
	for i := range lats {
		all.Merge(&lats[i])
	}

	// The same number of tokens minted directly, on as many goroutines:
	// the part of a join no server work can avoid.
	next.Store(0)
	mintStart := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(joins) {
				_, _ = sfu.Token(video.Grant{Room: m.ID, Identity: "par_bench", Name: "Member", Role: video.Participant})
			}
		}()
	}
	wg.Wait()
	mint := time.Since(mintStart)

	rate := float64(joins) / elapsed.Seconds()
	e.Logf("%d joins by %d clients in %s", joins, workers, elapsed.Round(time.Millisecond))
	e.ReportVs(fmt.Sprintf("joins per second (%d concurrent clients)", workers), rate, float64(joins)/mint.Seconds(), "joins/s", "SFU.Token alone")
	e.ReportLatencies("join latency", &all)
	return nil
}

// sfuSteps are the participant counts tried in turn; the search stops at
// the first step whose loss passes sfuLossLimit, or when sfuBudget is spent.
var (
	sfuSteps      = []int{5, 10, 20, 30, 40, 60, 80, 100, 130, 160, 200, 250, 300, 350, 400, 500, 600, 800, 1000}
	sfuQuickSteps = []int{2, 4}
)

const (
	sfuLossLimit = 0.01
	sfuBudget    = 6 * time.Minute
)

func benchSFU(ctx context.Context, e *Env) error {
	lksdk.SetLogger(lklogger.GetDiscardLogger())
	steps, window := sfuSteps, 3*time.Second
	if e.Quick {
		steps, window = sfuQuickSteps, time.Second
	}
	sfu, err := startBenchSFU(ctx)
	if err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = sfu.Close(stopCtx)
	}()

	const room = "bench-sfu"
	listen := newLossCounter()
	listener, err := benchJoin(sfu, room, "par_listener", true, &lksdk.RoomCallback{
		ParticipantCallback: lksdk.ParticipantCallback{
			OnTrackSubscribed: func(track *webrtc.TrackRemote, _ *lksdk.RemoteTrackPublication, _ *lksdk.RemoteParticipant) {
				go listen.read(track)
			},
		},
	})
	if err != nil {
		return fmt.Errorf("listener: %w", err)
	}
	defer listener.Disconnect()

	speakers := newSpeakers()
	defer speakers.stop()

	deadline := time.Now().Add(sfuBudget)
	carried, firstLossy := 0, 0
	var carriedLoss float64
	for _, n := range steps {
		if time.Now().After(deadline) {
			e.Logf("time budget spent before %d participants", n)
			break
		}
		for speakers.count() < n {
			id := fmt.Sprintf("par_speaker_%03d", speakers.count())
			r, err := benchJoin(sfu, room, id, false, &lksdk.RoomCallback{})
			if err != nil {
				return fmt.Errorf("participant %d joins: %w", speakers.count()+1, err)
			}
			if err := speakers.add(r); err != nil {
				return fmt.Errorf("participant %d publishes: %w", speakers.count()+1, err)
			}
		}
		if err := listen.waitForTracks(ctx, n, 60*time.Second); err != nil {
			e.Logf("%d participants: %v", n, err)
			firstLossy = n
			break
		}
		time.Sleep(time.Second) // let the newest streams settle
		before := listen.snapshot()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(window):
		}
		loss := listen.lossSince(before)
		e.Logf("%d participants: %.3f%% loss", n, loss*100)
		e.Report(fmt.Sprintf("packet loss with %d participants", n), loss*100, "%")
		if loss > sfuLossLimit {
			firstLossy = n
			break
		}
		carried, carriedLoss = n, loss
	}
	e.Report("participants carried with loss ≤ 1%", float64(carried), "participants")
	if carried > 0 {
		e.Report("packet loss at that count", carriedLoss*100, "%")
	}
	if firstLossy > 0 {
		e.Report("first count with loss > 1%", float64(firstLossy), "participants")
	} else {
		e.Logf("loss stayed under 1%% up to the last step tried (%d)", carried)
		e.Report("first count with loss > 1% (not reached: the search stopped here)", float64(carried), "participants")
	}
	return nil
}

// startBenchSFU starts the embedded SFU on free loopback ports, retrying
// when another process takes a port in between.
func startBenchSFU(ctx context.Context) (*video.SFU, error) {
	var lastErr error
	for range 3 {
		tcp, err := freePort("tcp")
		if err != nil {
			return nil, err
		}
		udp, err := freePort("udp")
		if err != nil {
			return nil, err
		}
		startCtx, cancel := context.WithTimeout(ctx, time.Minute)
		sfu, err := video.StartEmbedded(startCtx, video.EmbeddedConfig{Port: tcp, UDPPort: udp}, clock.System{}, slog.New(slog.DiscardHandler))
		cancel()
		if err == nil {
			return sfu, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func freePort(network string) (int, error) {
	if network == "udp" {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func benchJoin(sfu *video.SFU, room, identity string, subscribe bool, cb *lksdk.RoomCallback) (*lksdk.Room, error) {
	token, err := sfu.Token(video.Grant{Room: room, Identity: identity, Name: identity, Role: video.Participant})
	if err != nil {
		return nil, err
	}
	return lksdk.ConnectToRoomWithToken(sfu.URL(), token, cb,
		lksdk.WithAutoSubscribe(subscribe), lksdk.WithConnectTimeout(time.Minute))
}

// speakers are the publishing participants. One goroutine writes every
// microphone's 20 ms frame on each tick, so the load grows with the SFU's
// work, not with the number of timers.
type speakers struct {
	mu     sync.Mutex
	rooms  []*lksdk.Room
	tracks []*webrtc.TrackLocalStaticSample
	done   chan struct{}
	wg     sync.WaitGroup
}

func newSpeakers() *speakers {
	s := &speakers{done: make(chan struct{})}
	s.wg.Add(1)
	go s.speak()
	return s
}

func (s *speakers) add(r *lksdk.Room) error {
	mic, err := webrtc.NewTrackLocalStaticSample(
		webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "mic", r.LocalParticipant.Identity())
	if err != nil {
		r.Disconnect()
		return err
	}
	if _, err := r.LocalParticipant.PublishTrack(mic, &lksdk.TrackPublicationOptions{
		Name: "microphone", Source: livekit.TrackSource_MICROPHONE,
	}); err != nil {
		r.Disconnect()
		return err
	}
	s.mu.Lock()
	s.rooms = append(s.rooms, r)
	s.tracks = append(s.tracks, mic)
	s.mu.Unlock()
	return nil
}

func (s *speakers) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.rooms)
}

func (s *speakers) speak() {
	defer s.wg.Done()
	frame := []byte{0xf8, 0xff, 0xfe} // one 20 ms Opus frame of silence
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-tick.C:
		}
		s.mu.Lock()
		tracks := s.tracks
		s.mu.Unlock()
		for _, t := range tracks {
			_ = t.WriteSample(media.Sample{Data: frame, Duration: 20 * time.Millisecond})
		}
	}
}

func (s *speakers) stop() {
	close(s.done)
	s.wg.Wait()
	s.mu.Lock()
	rooms := s.rooms
	s.mu.Unlock()
	for _, r := range rooms {
		r.Disconnect()
	}
}

// lossCounter keeps, per subscribed track, how many RTP packets arrived
// and the highest sequence number seen (extended past 16-bit wraps): the
// difference between the two over a window is what was lost.
type lossCounter struct {
	mu      sync.Mutex
	tracks  map[*webrtc.TrackRemote]*seqStats
	changed chan struct{}
}

type seqStats struct {
	received uint64
	highest  uint64 // extended sequence number
	started  bool
}

func newLossCounter() *lossCounter {
	return &lossCounter{tracks: map[*webrtc.TrackRemote]*seqStats{}, changed: make(chan struct{}, 1)}
}

func (l *lossCounter) read(track *webrtc.TrackRemote) {
	st := &seqStats{}
	l.mu.Lock()
	l.tracks[track] = st
	l.mu.Unlock()
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		l.mu.Lock()
		if !st.started {
			st.highest, st.started = uint64(pkt.SequenceNumber), true
			select {
			case l.changed <- struct{}{}:
			default:
			}
		} else if d := int16(pkt.SequenceNumber - uint16(st.highest)); d > 0 {
			// The signed distance from the highest so far extends the
			// 16-bit number across wraps; late packets do not move it.
			st.highest += uint64(d)
		}
		st.received++
		l.mu.Unlock()
	}
}

// waitForTracks waits until n tracks have delivered packets.
func (l *lossCounter) waitForTracks(ctx context.Context, n int, patience time.Duration) error {
	deadline := time.After(patience)
	for {
		l.mu.Lock()
		live := 0
		for _, st := range l.tracks {
			if st.started {
				live++
			}
		}
		l.mu.Unlock()
		if live >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return fmt.Errorf("the listener receives only %d of %d streams", live, n)
		case <-l.changed:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

type seqSnapshot map[*webrtc.TrackRemote]seqStats

func (l *lossCounter) snapshot() seqSnapshot {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := seqSnapshot{}
	for t, st := range l.tracks {
		if st.started {
			s[t] = *st
		}
	}
	return s
}

// lossSince returns the share of packets lost since the snapshot, over the
// tracks that were flowing when it was taken.
func (l *lossCounter) lossSince(before seqSnapshot) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var expected, got uint64
	for t, b := range before {
		now := l.tracks[t]
		expected += now.highest - b.highest
		got += now.received - b.received
	}
	if expected == 0 {
		return 1 // nothing arrived at all: everything was lost
	}
	if got >= expected {
		return 0 // duplicates or reordering across the edge of the window
	}
	return 1 - float64(got)/float64(expected)
}
