// Package proctest runs a server program as a child of a test: its output
// goes to a log file that the test prints only when it fails, it is waited
// for until it is ready, and it is stopped as an operator stops it when
// the test ends. The suite's real LiveKit and S3 servers run through it.
package proctest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Process is a started child program.
type Process struct {
	name    string
	logPath string
	exited  chan error
}

// Start runs cmd until the test ends. Stopping sends an interrupt, a
// second one after 5 s (an operator's two Ctrl-Cs: the first drains, the
// second forces) and kills it 10 s later.
func Start(t testing.TB, name string, cmd *exec.Cmd) *Process {
	t.Helper()
	p := &Process{name: name, logPath: filepath.Join(t.TempDir(), name+".log"), exited: make(chan error, 1)}
	logFile, err := os.Create(p.logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Signal(os.Interrupt)
			select {
			case <-p.exited:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-p.exited
			}
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.Output())
		}
	})
	return p
}

// WaitReady calls ready until it returns nil, failing the test when the
// program exits first or is not ready within a minute (generous: a loaded
// CI machine).
func (p *Process) WaitReady(t testing.TB, every time.Duration, ready func() error) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		select {
		case err := <-p.exited:
			t.Fatalf("%s exited: %v\n%s", p.name, err, p.Output())
		default:
		}
		err := ready()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is not ready: %v\n%s", p.name, err, p.Output())
		}
		time.Sleep(every)
	}
}

// Output is the end of what the program wrote.
func (p *Process) Output() string {
	out, _ := os.ReadFile(p.logPath)
	if len(out) > 4000 {
		out = out[len(out)-4000:]
	}
	return string(out)
}
