package video

import (
	"errors"
	"strings"

	"github.com/livekit/protocol/auth"
)

// Role is the person's role in the meeting. It mirrors the meeting roles;
// LiveKit grants the same to every role, since acting on other people goes
// through the product's API, never through a token.
type Role string

const (
	Host        Role = "host"
	CoHost      Role = "co-host"
	Participant Role = "participant"
)

// Grant is what a token lets its holder do, for one person in one call.
type Grant struct {
	Room     string // the session's opaque id
	Identity string // the participant's opaque id, stable across reconnects; never an e-mail address
	Name     string // display name, shown to the others in the call
	Role     Role
}

// Token mints a short-lived LiveKit access token for g. The caller has
// already checked that the person may join; this only encodes what they may
// do once inside.
func (s *SFU) Token(g Grant) (string, error) {
	if g.Room == "" || g.Identity == "" {
		return "", errors.New("video: token needs a room and an identity")
	}
	// An identity is shown to every participant and written into LiveKit's
	// logs and webhooks; an address here would leak it to all of them.
	if strings.Contains(g.Identity, "@") {
		return "", errors.New("video: identity must be an opaque participant id")
	}
	video, err := videoGrant(g)
	if err != nil {
		return "", err
	}
	return auth.NewAccessToken(s.apiKey, s.apiSecret).
		SetIdentity(g.Identity).
		SetName(g.Name).
		SetValidFor(s.tokenTTL).
		SetVideoGrant(video).
		ToJWT()
}

func videoGrant(g Grant) (*auth.VideoGrant, error) {
	v := &auth.VideoGrant{RoomJoin: true, Room: g.Room}
	// Set every permission explicitly: LiveKit grants all of them when none
	// is set, which would be the wrong default to fall into by omission.
	v.SetCanPublish(true)
	v.SetCanSubscribe(true)
	v.SetCanPublishData(true) // raise hand and reactions travel as data messages
	v.SetCanUpdateOwnMetadata(false)
	// No role gets roomAdmin: with it, a token opens LiveKit's server API
	// for its room, and a co-host could remove the host, which the product
	// refuses. Hosts and co-hosts moderate through the product's API,
	// which checks the roles and asks LiveKit with the API secret.
	v.RoomAdmin = false
	switch g.Role {
	case Host, CoHost, Participant:
	default:
		return nil, errors.New("video: unknown role")
	}
	return v, nil
}
