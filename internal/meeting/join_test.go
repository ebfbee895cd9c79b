package meeting

import (
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
)

func TestJoinRules(t *testing.T) {
	open := Meeting{ID: "mtg_1", State: Scheduled, Lobby: true}
	withCode := open
	withCode.PasscodeHash = "x"
	locked := open
	locked.Locked = true
	noLobby := open
	noLobby.Lobby = false
	cancelled := open
	cancelled.State = Cancelled

	member := Participant{ID: "par_m", AccountID: "acc_1", Role: RoleParticipant}
	guest := Participant{ID: "par_g", Email: "g@example.com", Role: RoleParticipant}
	host := Participant{ID: "par_h", AccountID: "acc_h", Role: Host}
	coHost := Participant{ID: "par_c", Role: CoHost}
	in := func(p Participant, state string) Participant { p.LobbyState = state; return p }
	ask := JoinRequest{Asking: true}
	askOK := JoinRequest{Asking: true, PasscodeOK: true}
	look := JoinRequest{}

	cases := []struct {
		name  string
		m     Meeting
		p     Participant
		req   JoinRequest
		want  Standing
		next  string
		error errs.Code
	}{
		{"member asks", open, member, ask, Admitted, LobbyAdmitted, ""},
		{"member looks before asking", open, member, look, "", "", errs.Conflict},
		{"admitted member looks", open, in(member, LobbyAdmitted), look, Admitted, "", ""},
		{"guest asks and waits", open, guest, ask, Waiting, LobbyWaiting, ""},
		{"waiting guest looks", open, in(guest, LobbyWaiting), look, Waiting, "", ""},
		{"admitted guest looks", open, in(guest, LobbyAdmitted), look, Admitted, "", ""},
		{"guest without lobby", noLobby, guest, ask, Admitted, LobbyAdmitted, ""},
		{"waiting guest after the lobby is turned off", noLobby, in(guest, LobbyWaiting), look, Admitted, "", ""},
		{"denied guest", open, in(guest, LobbyDenied), ask, "", "", errs.Forbidden},
		{"denied member", open, in(member, LobbyDenied), look, "", "", errs.Forbidden},
		{"passcode missing", withCode, member, ask, "", "", errs.Forbidden},
		{"passcode right", withCode, member, askOK, Admitted, LobbyAdmitted, ""},
		{"passcode not asked again once through", withCode, in(member, LobbyAdmitted), ask, Admitted, "", ""},
		{"guest with passcode waits", withCode, guest, askOK, Waiting, LobbyWaiting, ""},
		{"locked keeps newcomers out", locked, member, askOK, "", "", errs.Forbidden},
		{"locked keeps the admitted out too", locked, in(guest, LobbyAdmitted), look, "", "", errs.Forbidden},
		{"host ignores lock, passcode and lobby", func() Meeting { m := withCode; m.Locked = true; return m }(), host, look, Admitted, "", ""},
		{"co-host ignores the lock", locked, coHost, ask, Admitted, "", ""},
		{"cancelled", cancelled, host, ask, "", "", errs.Conflict},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, next, err := Join(c.m, c.p, c.req)
			if c.error != "" {
				if errs.CodeOf(err) != c.error {
					t.Fatalf("error %v, want %s", err, c.error)
				}
				return
			}
			if err != nil || got != c.want || next != c.next {
				t.Fatalf("got %q, next %q, err %v; want %q, next %q", got, next, err, c.want, c.next)
			}
		})
	}
}

func TestInCallIgnoresTheLock(t *testing.T) {
	m := Meeting{State: Scheduled, Lobby: true, Locked: true}
	if !InCall(m, Participant{AccountID: "acc", Role: RoleParticipant, LobbyState: LobbyAdmitted}) {
		t.Error("an admitted member lost the chat when the meeting was locked")
	}
	if InCall(m, Participant{Role: RoleParticipant, LobbyState: LobbyWaiting}) {
		t.Error("a waiting guest may chat")
	}
	if InCall(m, Participant{AccountID: "acc", Role: RoleParticipant}) {
		t.Error("a member who never joined may chat")
	}
}

func TestCheckGuest(t *testing.T) {
	invited := Participant{Email: "Gina@Example.com"}
	d, err := CheckGuest(invited, "  Gina  ", "gina@example.COM")
	if err != nil || d.Name != "Gina" || d.Email != "gina@example.com" {
		t.Fatalf("got %+v, %v", d, err)
	}
	if _, err := CheckGuest(invited, "Gina", "someone.else@example.com"); errs.CodeOf(err) != errs.Forbidden {
		t.Errorf("another address: %v, want forbidden", err)
	}
	if _, err := CheckGuest(invited, "", "not an address"); errs.CodeOf(err) != errs.Invalid {
		t.Errorf("bad input: %v, want invalid", err)
	}
}

func TestCheckMessage(t *testing.T) {
	if k, b, err := CheckMessage("", "  hello "); err != nil || k != Chat || b != "hello" {
		t.Fatalf("got %q %q %v", k, b, err)
	}
	long := make([]rune, MaxMessageRunes+1)
	for i := range long {
		long[i] = 'a'
	}
	for _, c := range []struct{ kind, body string }{{"poll", "x"}, {"chat", ""}, {"chat", string(long)}, {"question", "a\x00b"}} {
		if _, _, err := CheckMessage(c.kind, c.body); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("%q %q: %v, want invalid", c.kind, c.body, err)
		}
	}
}

// A connection to the call is held to the door's rules, and to the door
// generation its token was minted at.
func TestMayStayInCall(t *testing.T) {
	now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	later, earlier := now.Add(time.Hour), now.Add(-time.Hour)
	open := Meeting{ID: "mtg_1", State: Scheduled, Lobby: true}
	locked := open
	locked.Locked = true
	noLobby := open
	noLobby.Lobby = false
	cancelled := open
	cancelled.State = Cancelled

	member := Participant{ID: "par_m", AccountID: "acc_1", Role: RoleParticipant, LobbyState: LobbyAdmitted}
	guest := Participant{ID: "par_g", Role: RoleParticipant, LobbyState: LobbyAdmitted, InviteExpiresAt: &later}
	host := Participant{ID: "par_h", AccountID: "acc_h", Role: Host}
	coHost := Participant{ID: "par_c", AccountID: "acc_c", Role: CoHost, LobbyState: LobbyDenied, DoorGeneration: 2}
	with := func(p Participant, f func(*Participant)) Participant { f(&p); return p }
	removed := func(p *Participant) { p.LobbyState, p.DoorGeneration = LobbyDenied, 1 }
	readmitted := func(p *Participant) { p.LobbyState, p.DoorGeneration = LobbyAdmitted, 1 }

	cases := []struct {
		name string
		m    Meeting
		p    Participant
		door int64
		want string
	}{
		{"admitted member", open, member, 0, ""},
		{"admitted guest", open, guest, 0, ""},
		{"host", locked, host, 0, ""},
		{"co-host turned away still runs the meeting", locked, coHost, 0, ""},
		{"removed member with the token from before", open, with(member, removed), 0, RefusedOldToken},
		{"removed member with a token from after", open, with(member, removed), 1, RefusedTurnedAway},
		{"let in again with the token from before", open, with(guest, readmitted), 0, RefusedOldToken},
		{"let in again with a fresh token", open, with(guest, readmitted), 1, ""},
		{"a token that carried no number", open, guest, -1, RefusedOldToken},
		{"locked meeting", locked, member, 0, RefusedLocked},
		{"guest waiting in the lobby", open, with(guest, func(p *Participant) { p.LobbyState = LobbyWaiting }), 0, RefusedNotAdmitted},
		{"waiting guest once the lobby is off", noLobby, with(guest, func(p *Participant) { p.LobbyState = LobbyWaiting }), 0, ""},
		{"door reset after the call ended", open, with(member, func(p *Participant) { p.LobbyState = "" }), 0, RefusedNotAdmitted},
		{"guest whose link expired", open, with(guest, func(p *Participant) { p.InviteExpiresAt = &earlier }), 0, RefusedNoLink},
		{"guest whose link was revoked", open, with(guest, func(p *Participant) { p.InviteExpiresAt = nil }), 0, RefusedNoLink},
		{"cancelled meeting", cancelled, host, 0, RefusedCancelled},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := MayStayInCall(c.m, c.p, c.door, now); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}
