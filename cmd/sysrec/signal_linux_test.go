package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/internal/testtarget"
	"github.com/sysrec/sysrec/profiles"
)

// startRecord starts `sysrec record` (this test binary, as testscript
// runs it) on the test target sleeping for a minute, and returns once
// the target runs.
func startRecord(t *testing.T, dir string, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	testenv.RequireRoot(t)
	target, err := testtarget.Build()
	if err != nil {
		t.Fatal(err)
	}
	started := filepath.Join(dir, "started")
	args = append(append([]string{"record", "--progress", "never"}, args...),
		"--", "/bin/sh", "-c", `touch "$1" && exec "$0" sleep 60s`, target, started)
	cmd := exec.Command("sysrec", args...)
	var stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	if err := testenv.WaitFile(started, 30*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	return cmd, &stderr
}

// waitExit waits for cmd to end, for at most d.
func waitExit(t *testing.T, cmd *exec.Cmd, d time.Duration, stderr *syncBuffer) *os.ProcessState {
	t.Helper()
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
		return cmd.ProcessState
	case <-time.After(d):
		t.Fatalf("sysrec still running %v after the signal\n%s", d, stderr.String())
		return nil
	}
}

// SIGTERM stops a recording: the target gets SIGTERM, the profile is
// written, sysrec exits 0.
func TestSIGTERMStopsRecord(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.json")
	cmd, stderr := startRecord(t, dir, "--duration", "10m", "-o", out)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The target gets SIGTERM at once and SIGKILL after 5 s at most.
	st := waitExit(t, cmd, 30*time.Second, stderr)
	if st.ExitCode() != 0 {
		t.Errorf("exit status %v, want 0\n%s", st, stderr.String())
	}
	if !strings.Contains(stderr.String(), "sysrec: record: terminated: stopping") {
		t.Errorf("stderr does not say why it stops:\n%s", stderr.String())
	}
	p, err := profiles.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if p.Recorded == nil || p.Recorded.ExitStatus != 128+int(syscall.SIGTERM) {
		t.Errorf("recorded %+v, want the target's exit status 143", p.Recorded)
	}
}

// The first signal asks for the profile; a second one ends sysrec even
// while writing it blocks (a FIFO whose reader reads nothing).
func TestSecondSignalEndsRecord(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "profile.json")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := os.OpenFile(fifo, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// One page: the profile does not fit, so sysrec's write blocks.
	if _, err := unix.FcntlInt(r.Fd(), unix.F_SETPIPE_SZ, 4096); err != nil {
		t.Fatal(err)
	}
	cmd, stderr := startRecord(t, dir, "-o", fifo)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Data in the FIFO: sysrec is writing the profile, and the pipe is
	// too small for it.
	fds := []unix.PollFd{{Fd: int32(r.Fd()), Events: unix.POLLIN}}
	for deadline := time.Now().Add(30 * time.Second); fds[0].Revents&unix.POLLIN == 0; {
		left := time.Until(deadline)
		if left <= 0 {
			t.Fatalf("sysrec wrote nothing to the FIFO\n%s", stderr.String())
		}
		if _, err := unix.Poll(fds, int(left.Milliseconds())+1); err != nil && !errors.Is(err, unix.EINTR) {
			t.Fatal(err)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	st := waitExit(t, cmd, 10*time.Second, stderr)
	if ws := st.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Errorf("sysrec ended with %v, want killed by SIGTERM\n%s", st, stderr.String())
	}
	if !strings.Contains(stderr.String(), "a second signal ends sysrec at once") {
		t.Errorf("stderr does not say a second signal ends sysrec:\n%s", stderr.String())
	}
}
