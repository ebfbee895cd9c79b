package video

import (
	"log/slog"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"

	"github.com/sessionshq/sessions/internal/platform/clock"
)

func TestTokenGrantsFollowRole(t *testing.T) {
	sfu := testSFU(t)
	// No role gets roomAdmin: it would open LiveKit's server API to the
	// token's holder, past the product's moderation rules.
	tests := []struct {
		role      Role
		roomAdmin bool
	}{
		{Host, false},
		{CoHost, false},
		{Participant, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.role), func(t *testing.T) {
			token, err := sfu.Token(Grant{Room: "ses-1", Identity: "par-7", Name: "Erika Mustermann", Role: tt.role, Door: 3})
			if err != nil {
				t.Fatal(err)
			}
			v, err := auth.ParseAPIToken(token)
			if err != nil {
				t.Fatal(err)
			}
			claims, grants, err := v.Verify("secret-secret-secret-secret-secret")
			if err != nil {
				t.Fatal(err)
			}
			g := grants.Video
			if g == nil || !g.RoomJoin || g.Room != "ses-1" {
				t.Fatalf("token does not admit to the room: %+v", g)
			}
			if g.RoomAdmin != tt.roomAdmin {
				t.Errorf("roomAdmin = %v, want %v", g.RoomAdmin, tt.roomAdmin)
			}
			if !g.GetCanPublish() || !g.GetCanSubscribe() {
				t.Error("every role must publish and subscribe")
			}
			if g.RoomCreate || g.RoomList || g.RoomRecord || g.IngressAdmin || g.GetCanUpdateOwnMetadata() {
				t.Errorf("token grants more than a call needs: %+v", g)
			}
			if doorOf(grants.Attributes) != 3 {
				t.Errorf("the token carries door generation %q, want 3", grants.Attributes[doorAttribute])
			}
			if grants.Identity != "par-7" || grants.Name != "Erika Mustermann" {
				t.Errorf("identity %q name %q", grants.Identity, grants.Name)
			}
			if life := claims.ExpiresAt.Sub(claims.IssuedAt.Time); life > DefaultTokenTTL {
				t.Errorf("token lives %v, longer than %v", life, DefaultTokenTTL)
			}
		})
	}
}

func TestTokenRefusesBadGrants(t *testing.T) {
	sfu := testSFU(t)
	for name, g := range map[string]Grant{
		"e-mail as identity": {Room: "ses-1", Identity: "erika@example.com", Role: Participant},
		"no identity":        {Room: "ses-1", Role: Participant},
		"no room":            {Identity: "par-7", Role: Participant},
		"unknown role":       {Room: "ses-1", Identity: "par-7", Role: "owner"},
	} {
		t.Run(name, func(t *testing.T) {
			if token, err := sfu.Token(g); err == nil {
				t.Fatalf("minted %q", token)
			}
		})
	}
}

func TestTokenTTLIsConfigurable(t *testing.T) {
	sfu, err := Connect(ExternalConfig{URL: "ws://x", APIKey: "k", APISecret: "s", TokenTTL: 30 * time.Second}, clock.System{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	token, _ := sfu.Token(Grant{Room: "r", Identity: "i", Role: Participant})
	v, _ := auth.ParseAPIToken(token)
	claims, _, err := v.Verify("s")
	if err != nil {
		t.Fatal(err)
	}
	if life := claims.ExpiresAt.Sub(claims.IssuedAt.Time); life != 30*time.Second {
		t.Errorf("token lives %v", life)
	}
}
