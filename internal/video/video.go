// Package video owns the video-call adapter: it runs LiveKit, either as an
// SFU embedded in this process or as an external server or cluster, mints
// the access tokens people join calls with, asks the server to mute or remove
// someone, and turns LiveKit's signed webhooks into plain attendance events.
//
// Nothing here decides who may join; callers check the session's rules first
// and only then ask for a token. Identities handed to LiveKit are opaque
// participant ids, never e-mail addresses, because LiveKit echoes them to
// every other participant, into webhooks and into its own logs.
package video

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/twitchtv/twirp"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/clock"
)

// DefaultTokenTTL bounds how long a minted token can be used to connect.
// Pages connect as soon as the door hands them a token, and once in the
// call LiveKit refreshes it on its own, so a minute cuts no call short and
// leaves little time for a token that leaked.
const DefaultTokenTTL = time.Minute

// SFU is a LiveKit server this process talks to, embedded or external. The
// rest of the product sees no difference between the two.
type SFU struct {
	url       string // for browsers and SDKs
	apiURL    string // LiveKit's server API, which only the API secret opens
	apiKey    string
	apiSecret string
	keys      auth.KeyProvider
	rooms     *lksdk.RoomServiceClient
	tokenTTL  time.Duration
	clock     clock.Clock
	log       *slog.Logger

	// stop ends an embedded server; nil for an external one, which we
	// neither started nor may stop.
	stop func(ctx context.Context) error
	// signal proxies browsers' signalling to an embedded server; nil for an
	// external one.
	signal http.Handler
	// gate, when set, decides which signalling connections signal lets
	// through (GuardSignalling).
	gate atomic.Pointer[Gate]
}

// ExternalConfig names an external LiveKit server or cluster.
type ExternalConfig struct {
	URL       string // ws:// or wss:// address clients connect to
	APIKey    string
	APISecret string
	TokenTTL  time.Duration // DefaultTokenTTL when zero
}

// Connect returns an SFU backed by an external LiveKit server or cluster. It
// does not dial: a cluster that is briefly unreachable at start-up should not
// stop the rest of the product from serving.
func Connect(cfg ExternalConfig, clk clock.Clock, log *slog.Logger) (*SFU, error) {
	switch {
	case !strings.HasPrefix(cfg.URL, "ws://") && !strings.HasPrefix(cfg.URL, "wss://") &&
		!strings.HasPrefix(cfg.URL, "http://") && !strings.HasPrefix(cfg.URL, "https://"):
		return nil, errors.New("LiveKit URL must start with ws://, wss://, http:// or https://")
	case cfg.APIKey == "" || cfg.APISecret == "":
		return nil, errors.New("LiveKit API key and secret are both required")
	}
	url := toWebSocketURL(cfg.URL)
	return newSFU(url, url, cfg.APIKey, cfg.APISecret, cfg.TokenTTL, clk, log), nil
}

// newSFU takes two URLs because an embedded server is reached by browsers
// through our own origin but by our server API calls directly on loopback.
func newSFU(publicURL, apiURL, key, secret string, ttl time.Duration, clk clock.Clock, log *slog.Logger) *SFU {
	if ttl <= 0 {
		ttl = DefaultTokenTTL
	}
	return &SFU{
		url:       publicURL,
		apiURL:    apiURL,
		apiKey:    key,
		apiSecret: secret,
		keys:      auth.NewSimpleKeyProvider(key, secret),
		rooms:     lksdk.NewRoomServiceClient(apiURL, key, secret),
		tokenTTL:  ttl,
		clock:     clk,
		log:       log,
	}
}

// toWebSocketURL keeps the URL handed to browsers in the scheme LiveKit's
// client SDKs expect, whichever form the operator wrote.
func toWebSocketURL(u string) string {
	switch {
	case strings.HasPrefix(u, "http://"):
		return "ws://" + strings.TrimPrefix(u, "http://")
	case strings.HasPrefix(u, "https://"):
		return "wss://" + strings.TrimPrefix(u, "https://")
	}
	return strings.TrimRight(u, "/")
}

// URL is the address browsers and SDKs connect to.
func (s *SFU) URL() string { return s.url }

// APIKey names the key tokens are signed with; the secret never leaves the
// package.
func (s *SFU) APIKey() string { return s.apiKey }

// Embedded reports whether this process runs the SFU itself.
func (s *SFU) Embedded() bool { return s.stop != nil }

// Close stops an embedded SFU, disconnecting everyone still in a call; for an
// external SFU it does nothing.
func (s *SFU) Close(ctx context.Context) error {
	if s.stop == nil {
		return nil
	}
	return s.stop(ctx)
}

// RemoveParticipant disconnects the participant from the call. It does not
// keep them out: the caller must also stop minting tokens for them.
func (s *SFU) RemoveParticipant(ctx context.Context, room, identity string) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	_, err := s.rooms.RemoveParticipant(ctx, &livekit.RoomParticipantIdentity{Room: room, Identity: identity})
	return serverError(s.leftMeanwhile(ctx, room, identity, err), "remove participant", "the participant is not in the call")
}

// leftMeanwhile turns the error of a removal that raced the participant's
// own departure into LiveKit's not-found. LiveKit checks its room store
// first and then asks the node that holds the participant; when the
// participant leaves between the two, no node answers and the call fails
// with psrpc's "no response from servers". Asking again tells the two
// apart: if the participant is gone, there was nothing left to remove.
func (s *SFU) leftMeanwhile(ctx context.Context, room, identity string, err error) error {
	if err == nil || !strings.Contains(err.Error(), "no response from servers") {
		return err
	}
	_, again := s.rooms.GetParticipant(ctx, &livekit.RoomParticipantIdentity{Room: room, Identity: identity})
	var te twirp.Error
	if errors.As(again, &te) && te.Code() == twirp.NotFound {
		return again
	}
	return err
}

// RemoveConnection ends one connection of a participant: the one LiveKit
// knows by connection (its participant sid). A later connection of the same
// person, made in the meantime, is left alone; when that connection is no
// longer there the error is errs.NotFound.
func (s *SFU) RemoveConnection(ctx context.Context, room, identity, connection string) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	p, err := s.rooms.GetParticipant(ctx, &livekit.RoomParticipantIdentity{Room: room, Identity: identity})
	if err != nil {
		return serverError(err, "remove connection", "the connection is not in the call")
	}
	if p.GetSid() != connection {
		return errs.E(errs.NotFound, "the connection is not in the call")
	}
	_, err = s.rooms.RemoveParticipant(ctx, &livekit.RoomParticipantIdentity{Room: room, Identity: identity})
	return serverError(s.leftMeanwhile(ctx, room, identity, err), "remove connection", "the connection is not in the call")
}

// Connection is one connection LiveKit holds in a call, whether or not
// its media is up yet.
type Connection struct {
	Identity   string // the participant's opaque id
	Connection string // LiveKit's participant sid
	Door       int64  // the door generation its token was minted at (Grant.Door)
	// Joining is true while only its signalling is up: LiveKit has not
	// reported it (participant_joined) and may never do so.
	Joining bool
}

// Rooms lists the calls the server holds, by room name.
func (s *SFU) Rooms(ctx context.Context) ([]string, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	res, err := s.rooms.ListRooms(ctx, &livekit.ListRoomsRequest{})
	if err != nil {
		return nil, serverError(err, "list rooms", "no call is running")
	}
	names := make([]string, 0, len(res.GetRooms()))
	for _, r := range res.GetRooms() {
		names = append(names, r.GetName())
	}
	return names, nil
}

// Connections lists the connections LiveKit holds in a call.
func (s *SFU) Connections(ctx context.Context, room string) ([]Connection, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	res, err := s.rooms.ListParticipants(ctx, &livekit.ListParticipantsRequest{Room: room})
	if err != nil {
		return nil, serverError(err, "list participants", "the call is not running")
	}
	out := make([]Connection, 0, len(res.GetParticipants()))
	for _, p := range res.GetParticipants() {
		out = append(out, Connection{
			Identity: p.GetIdentity(), Connection: p.GetSid(), Door: doorOf(p.GetAttributes()),
			// LiveKit's JOINED means the join response went out; its
			// participant_joined webhook waits for ACTIVE, media up.
			Joining: p.GetState() == livekit.ParticipantInfo_JOINING || p.GetState() == livekit.ParticipantInfo_JOINED,
		})
	}
	return out, nil
}

// MuteTrack mutes (or, where the server allows remote unmute, unmutes) one
// published track.
func (s *SFU) MuteTrack(ctx context.Context, room, identity, trackSID string, muted bool) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	_, err := s.rooms.MutePublishedTrack(ctx, &livekit.MuteRoomTrackRequest{
		Room: room, Identity: identity, TrackSid: trackSID, Muted: muted,
	})
	return serverError(err, "mute track", "the track is not in the call")
}

// MuteMicrophone mutes every microphone track the participant publishes,
// which is what a host means by "mute": the UI knows people, not tracks.
func (s *SFU) MuteMicrophone(ctx context.Context, room, identity string) error {
	lookup, cancel := bounded(ctx)
	defer cancel()
	p, err := s.rooms.GetParticipant(lookup, &livekit.RoomParticipantIdentity{Room: room, Identity: identity})
	if err != nil {
		return serverError(err, "mute microphone", "the participant is not in the call")
	}
	for _, t := range p.GetTracks() {
		if t.GetSource() == livekit.TrackSource_MICROPHONE && !t.GetMuted() {
			if err := s.MuteTrack(ctx, room, identity, t.GetSid(), true); err != nil {
				return err
			}
		}
	}
	return nil
}

// CloseRoom ends the call for everyone in it.
func (s *SFU) CloseRoom(ctx context.Context, room string) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	_, err := s.rooms.DeleteRoom(ctx, &livekit.DeleteRoomRequest{Room: room})
	return serverError(err, "close room", "the call is not running")
}

// bounded limits a call to the server API when the caller set no deadline,
// so that a hung SFU cannot hold a host's request open for ever.
func bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, 10*time.Second)
}

// serverError keeps LiveKit's wording away from clients: a missing room or
// participant becomes a NotFound with a safe message, anything else stays an
// internal error.
func serverError(err error, op, notFound string) error {
	if err == nil {
		return nil
	}
	var te twirp.Error
	if errors.As(err, &te) && te.Code() == twirp.NotFound {
		return errs.Wrap(errs.NotFound, err, notFound)
	}
	return fmt.Errorf("video: %s: %w", op, err)
}
