//go:build linux && !nosfu

package video

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/livekit/protocol/livekit"
	"github.com/livekit/protocol/signalling"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
	"google.golang.org/protobuf/proto"

	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/tlstest"
	"github.com/sessionshq/sessions/internal/video/videotest"
)

// A firewall case runs in a network namespace of its own: the test binary
// starts itself again inside one, with this variable naming the case, so
// the rules it sets touch nothing else on the machine and vanish with it.
const firewallCaseEnv = "SESSIONS_TEST_FIREWALL_CASE"

// firewallNodeIP is the SFU's address in the namespace, on an interface
// that is not loopback, as on a real server.
const firewallNodeIP = "10.99.0.1"

// The relay's own UDP ports, below the kernel's ephemeral range, so that a
// rule can let the relay reach the SFU without letting clients' UDP out.
const relayPorts = "20000-20099"

type firewallCase struct {
	name string
	// refuse is what the firewall blocks, as ip-rule selectors. UDP
	// between the TURN relay and the SFU, on this machine, always passes,
	// as it does behind a firewall in front of a server.
	refuse []string
	// iceTCP and turn say whether the SFU offers ICE/TCP on 7881 and TURN
	// (UDP on 3478, TLS on 443).
	iceTCP, turn bool
	// run has people join and checks whether media flows, as connects
	// says it must or must not: the cases where it must not show that the
	// firewall really blocks what the others get around.
	run      func(t *testing.T, sfu *SFU, connects bool)
	connects bool
}

// Two networks: one that drops UDP, and one that lets out nothing but
// HTTPS (UDP and TCP to the ICE/TCP port refused).
var (
	noUDP     = []string{"ipproto udp"}
	onlyHTTPS = []string{"ipproto udp", "ipproto tcp dport 7881"}
)

var firewallCases = []firewallCase{
	// The listener is a client that, like a browser, does ICE over TCP;
	// the speaker gets through over TURN/TLS.
	{name: "UDP blocked, media over ICE/TCP", refuse: noUDP, iceTCP: true, turn: true, run: listenOverICETCP, connects: true},
	{name: "UDP blocked and no ICE/TCP: no media", refuse: noUDP, turn: true, run: listenOverICETCP},
	// TURN/TLS on 443 is the way through; the SFU still offers ICE/TCP
	// and TURN/UDP.
	{name: "only TCP 443 open, media both ways over TURN/TLS", refuse: onlyHTTPS, iceTCP: true, turn: true, run: talkWithSDK, connects: true},
	{name: "only TCP 443 open and no TURN: no call", refuse: onlyHTTPS, iceTCP: true, run: talkWithSDK},
}

// TestCallThroughFirewall: behind a firewall that drops UDP, a client that
// does ICE over TCP, as browsers do, receives the call's media over TCP;
// behind one that lets out only TCP 443, two people talk both ways over
// TURN/TLS with a certificate their systems trust. The same firewalls
// without those ways through leave them without media, which shows the
// rules block what they claim.
func TestCallThroughFirewall(t *testing.T) {
	if name := os.Getenv(firewallCaseEnv); name != "" {
		for _, c := range firewallCases {
			if c.name == name {
				runFirewallCase(t, c)
				return
			}
		}
		t.Fatalf("no firewall case %q", name)
	}
	if os.Geteuid() != 0 {
		t.Skip("a network namespace with its own routing rules needs root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip from iproute2")
	}
	if testing.Short() {
		t.Skip("starts the SFU once per case in a network namespace")
	}
	dir := t.TempDir()
	cert, key := tlstest.WriteSelfSigned(t, dir, firewallNodeIP)
	for _, c := range firewallCases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestCallThroughFirewall$", "-test.v", "-test.count=1", "-test.timeout=5m")
			cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
			cmd.Env = append(os.Environ(), firewallCaseEnv+"="+c.name,
				"SESSIONS_TEST_TURN_CERT="+cert, "SESSIONS_TEST_TURN_KEY="+key,
				// The clients trust the TURN server's certificate as a
				// browser trusts a public one.
				"SSL_CERT_FILE="+cert)
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "firewall case ran") {
				t.Fatalf("in its own network namespace: %v\n%s", err, out)
			}
			for _, line := range strings.Split(string(out), "\n") {
				if strings.Contains(line, "firewall_test.go") {
					t.Log(strings.TrimSpace(line))
				}
			}
		})
	}
}

// runFirewallCase runs inside the namespace: it builds the network and the
// firewall, starts the SFU and has two people join.
func runFirewallCase(t *testing.T, c firewallCase) {
	setUpFirewall(t, c)
	cfg := EmbeddedConfig{NodeIP: firewallNodeIP, Port: 7880, UDPPort: 7882}
	if c.iceTCP {
		cfg.TCPPort = 7881
	}
	if c.turn {
		// TLS on 443, where LiveKit tells clients to find it, and the
		// relay on relayPorts.
		cfg.TURN = TURNConfig{
			UDPPort: 3478, TLSPort: 443, Domain: firewallNodeIP,
			CertFile: os.Getenv("SESSIONS_TEST_TURN_CERT"), KeyFile: os.Getenv("SESSIONS_TEST_TURN_KEY"),
			RelayPortRangeStart: 20000, RelayPortRangeEnd: 20099,
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	sfu, err := StartEmbedded(ctx, cfg, clock.System{}, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		defer cancel()
		_ = sfu.Close(ctx)
	})
	t.Log("firewall case ran")
	c.run(t, sfu, c.connects)
}

// noConnection is how long a join that must fail is given. Joining waits
// for the media connection, and a bound is the only way to learn it never
// comes; a slow machine can only make such a case pass more surely.
const noConnection = 15 * time.Second

// talkWithSDK has two people join with LiveKit's Go SDK and speak, and
// checks that each hears the other.
func talkWithSDK(t *testing.T, sfu *SFU, connects bool) {
	if !connects {
		token, err := sfu.Token(guestGrant)
		if err != nil {
			t.Fatal(err)
		}
		room, err := lksdk.ConnectToRoomWithToken(sfu.URL(), token, &lksdk.RoomCallback{},
			lksdk.WithAutoSubscribe(true), lksdk.WithConnectTimeout(noConnection))
		if err == nil {
			room.Disconnect()
			t.Fatal("the call connected although the firewall should have left no way through")
		}
		t.Logf("no call, as expected: %v", err)
		return
	}
	guestHears, hostHears := videotest.NewListener(), videotest.NewListener()
	guest := join(t, sfu, guestGrant, guestHears.Callback())
	host := join(t, sfu, hostGrant, hostHears.Callback())
	speaking, stop := context.WithCancel(context.Background())
	defer stop()
	videotest.Speak(speaking, t, host)
	videotest.Speak(speaking, t, guest)
	videotest.WaitUntil(t, "the guest hears the host", func() bool { return guestHears.Packets() > 100 })
	videotest.WaitUntil(t, "the host hears the guest", func() bool { return hostHears.Packets() > 100 })
	t.Logf("media flows both ways: the guest received %d RTP packets, the host %d", guestHears.Packets(), hostHears.Packets())
}

// listenOverICETCP has the host speak through the SDK (over TURN/TLS, the
// only way it has) and the guest listen over ICE/TCP alone.
func listenOverICETCP(t *testing.T, sfu *SFU, connects bool) {
	host := join(t, sfu, hostGrant, &lksdk.RoomCallback{})
	speaking, stop := context.WithCancel(context.Background())
	defer stop()
	videotest.Speak(speaking, t, host)

	token, err := sfu.Token(guestGrant)
	if err != nil {
		t.Fatal(err)
	}
	guest := joinOverICETCP(t, sfu.URL(), token)
	if !connects {
		select {
		case <-guest.connected:
			t.Fatal("the guest connected although the firewall should have left no way through")
		case <-time.After(noConnection):
			t.Logf("no connection for the guest, as expected; it received %d RTP packets", guest.packets.Load())
		}
		return
	}
	select {
	case <-guest.connected:
	case <-time.After(patience):
		t.Fatal("the guest's ICE/TCP connection never came up")
	}
	videotest.WaitUntil(t, "the guest hears the host", func() bool { return guest.packets.Load() > 100 })
	t.Logf("the guest received %d RTP packets over ICE/TCP, on %s", guest.packets.Load(), guest.pair())
}

// tcpListener is someone in a call whose only way to the SFU is ICE over
// TCP, as a browser's behind a firewall that drops UDP. LiveKit's Go SDK
// cannot be that client (pion gathers TCP candidates only when told, and
// the SDK offers no such setting), so this one speaks LiveKit's signalling
// itself: it answers the SFU's offers on one receiving peer connection
// and exchanges candidates, publishing nothing.
type tcpListener struct {
	ws        *websocket.Conn
	writeMu   sync.Mutex
	pc        *webrtc.PeerConnection
	packets   atomic.Int64
	connected chan struct{}
}

func joinOverICETCP(t *testing.T, url, token string) *tcpListener {
	t.Helper()
	var se webrtc.SettingEngine
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4})
	var media webrtc.MediaEngine
	if err := media.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	// No ICE servers: TURN must not carry this client.
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(&media), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	l := &tcpListener{pc: pc, connected: make(chan struct{})}
	var once sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(l.connected) })
		}
	})
	pc.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		go func() {
			for {
				if _, _, err := track.ReadRTP(); err != nil {
					return
				}
				l.packets.Add(1)
			}
		}()
	})
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			l.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Trickle{
				Trickle: signalling.ToProtoTrickle(c.ToJSON(), livekit.SignalTarget_SUBSCRIBER, false)}})
		}
	})
	ws, _, err := websocket.DefaultDialer.Dial(url+"/rtc?access_token="+token+"&protocol=17&auto_subscribe=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	l.ws = ws
	done := make(chan struct{})
	t.Cleanup(func() {
		close(done)
		_ = ws.Close()
		_ = pc.Close()
	})
	go l.answer(t)
	go func() {
		tick := time.NewTicker(5 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				l.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Ping{Ping: time.Now().UnixMilli()}})
			}
		}
	}()
	return l
}

// answer handles the SFU's signalling until the connection ends.
func (l *tcpListener) answer(t *testing.T) {
	for {
		_, data, err := l.ws.ReadMessage()
		if err != nil {
			return
		}
		var res livekit.SignalResponse
		if err := proto.Unmarshal(data, &res); err != nil {
			t.Errorf("signalling: %v", err)
			return
		}
		switch m := res.Message.(type) {
		case *livekit.SignalResponse_Offer:
			offer, _, _ := signalling.FromProtoSessionDescription(m.Offer)
			if err := l.pc.SetRemoteDescription(offer); err != nil {
				t.Errorf("offer: %v", err)
				return
			}
			answer, err := l.pc.CreateAnswer(nil)
			if err == nil {
				err = l.pc.SetLocalDescription(answer)
			}
			if err != nil {
				t.Errorf("answer: %v", err)
				return
			}
			l.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Answer{
				Answer: signalling.ToProtoSessionDescription(answer, m.Offer.GetId(), nil)}})
		case *livekit.SignalResponse_Trickle:
			if m.Trickle.GetTarget() != livekit.SignalTarget_SUBSCRIBER {
				continue
			}
			candidate, err := signalling.FromProtoTrickle(m.Trickle)
			if err == nil {
				err = l.pc.AddICECandidate(candidate)
			}
			if err != nil {
				t.Errorf("candidate: %v", err)
			}
		}
	}
}

func (l *tcpListener) send(req *livekit.SignalRequest) {
	data, err := proto.Marshal(req)
	if err != nil {
		return
	}
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	_ = l.ws.WriteMessage(websocket.BinaryMessage, data)
}

// pair names the transport of the selected candidate pair.
func (l *tcpListener) pair() string {
	sctp := l.pc.SCTP()
	if sctp == nil {
		return "an unknown transport"
	}
	p, err := sctp.Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || p == nil {
		return "an unknown transport"
	}
	return p.Local.Protocol.String() + " to port " + strconv.Itoa(int(p.Remote.Port))
}

// setUpFirewall gives the namespace a network interface carrying the
// SFU's address and routing rules that refuse what the case blocks: a
// refused packet fails at sending, as behind a firewall that rejects it.
// The rules must come before the local table, which is moved behind them.
func setUpFirewall(t *testing.T, c firewallCase) {
	t.Helper()
	cmds := [][]string{
		{"link", "set", "lo", "up"},
		{"link", "add", "fw0", "type", "veth", "peer", "name", "fw1"},
		{"addr", "add", firewallNodeIP + "/24", "dev", "fw0"},
		{"link", "set", "fw0", "up"},
		{"link", "set", "fw1", "up"},
	}
	for _, family := range []string{"-4", "-6"} {
		cmds = append(cmds, []string{family, "rule", "add", "pref", "100", "lookup", "local"},
			[]string{family, "rule", "del", "pref", "0"})
		// Lower preferences are looked at first: what is allowed, then
		// what is refused, then the local table.
		relayToSFU := []string{"ipproto udp sport " + relayPorts, "ipproto udp dport " + relayPorts}
		for i, sel := range relayToSFU {
			cmds = append(cmds, slices.Concat([]string{family, "rule", "add", "pref", strconv.Itoa(1 + i)}, strings.Fields(sel), []string{"lookup", "local"}))
		}
		for i, sel := range c.refuse {
			cmds = append(cmds, slices.Concat([]string{family, "rule", "add", "pref", strconv.Itoa(50 + i)}, strings.Fields(sel), []string{"prohibit"}))
		}
	}
	for _, args := range cmds {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
}
