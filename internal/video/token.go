package video

import (
	"errors"
	"strconv"
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
	// Door is the person's door generation when the token is minted. It
	// travels in the token's attributes, which LiveKit copies into the
	// refreshed tokens it hands connected clients and reports in its
	// participant_joined webhook, so that a connection made with a token
	// from before a host turned the person away can be told apart.
	Door int64
}

// doorAttribute names the participant attribute carrying Grant.Door.
// Everyone in the call can read attributes; a count is no personal data.
const doorAttribute = "door"

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
		SetAttributes(map[string]string{doorAttribute: strconv.FormatInt(g.Door, 10)}).
		ToJWT()
}

// doorOf reads the door generation a participant's token carried: 0 when
// it carried none (a token minted before generations existed), and -1,
// older than any, when it is not a number.
func doorOf(attributes map[string]string) int64 {
	v, ok := attributes[doorAttribute]
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

func videoGrant(g Grant) (*auth.VideoGrant, error) {
	v := &auth.VideoGrant{RoomJoin: true, Room: g.Room}
	// Set every permission explicitly: LiveKit grants all of them when none
	// is set, which would be the wrong default to fall into by omission.
	v.SetCanPublish(true)
	v.SetCanSubscribe(true)
	v.SetCanPublishData(true) // raise hand and reactions travel as data messages
	// Nor may anyone change their own attributes, the door generation
	// among them.
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
