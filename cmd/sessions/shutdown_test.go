package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestBinaryDrainsOnSIGTERM: after SIGTERM the server keeps serving for
// the drain period while /readyz answers 503, so a load balancer moves
// traffic away before the listener closes. A request in flight when the
// signal came is answered, new requests during the drain are answered
// (and told to close their connection, so none is left idle for the
// balancer to reuse just as it is closed), and the process then exits 0.
func TestBinaryDrainsOnSIGTERM(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	// Long enough for the few requests below on a busy machine.
	const drain = 10 * time.Second
	s := startBinary(t, "SESSIONS_DRAIN_TIMEOUT="+drain.String())
	if resp, body := s.get(t, "/readyz"); resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz before SIGTERM: %d %s", resp.StatusCode, body)
	}

	// A request in flight: its headers and half its body are sent
	// before the signal, the rest during the drain.
	body := `{"type":"pageview","path":"/"}`
	conn, err := net.Dial("tcp", s.url[len("http://"):])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	head := "POST /api/analytics/events HTTP/1.1\r\nHost: " + s.url[len("http://"):] +
		"\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	if _, err := io.WriteString(conn, head+body[:10]); err != nil {
		t.Fatal(err)
	}
	// The server has the connection once it answers on another.
	if resp, _ := s.get(t, "/healthz"); resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %d", resp.StatusCode)
	}

	signalled := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// /readyz turns unready while the server still answers.
	client := &http.Client{Timeout: 10 * time.Second}
	for {
		resp, err := client.Get(s.url + "/readyz")
		if err != nil {
			t.Fatalf("/readyz during the drain: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			break
		}
		if resp.StatusCode != http.StatusOK || time.Since(signalled) > drain {
			t.Fatalf("/readyz after SIGTERM: %d, want 503 while draining", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Everything else is still served, on a connection that then closes.
	resp, err := client.Get(s.url + "/")
	if err != nil {
		t.Fatalf("a new request during the drain: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !resp.Close {
		t.Fatalf("a new request during the drain: %d, closing=%v; want 200 and Connection: close", resp.StatusCode, resp.Close)
	}
	// The request in flight finishes.
	if _, err := io.WriteString(conn, body[10:]); err != nil {
		t.Fatal(err)
	}
	inflight, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the request in flight at SIGTERM got no answer: %v", err)
	}
	inflight.Body.Close()
	if inflight.StatusCode != http.StatusAccepted {
		t.Fatalf("the request in flight at SIGTERM: %d, want 202", inflight.StatusCode)
	}

	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("exit after the drain: %v; stderr:\n%s", err, s.stderr.String())
		}
	case <-time.After(drain + 30*time.Second):
		t.Fatalf("the server did not stop after the drain; stderr:\n%s", s.stderr.String())
	}
}
