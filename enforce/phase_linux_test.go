package enforce

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sysrec/sysrec/bpfprog"
	"github.com/sysrec/sysrec/emit"
	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/internal/testtarget"
	"github.com/sysrec/sysrec/profiles"
)

// TestPhaseTracker: the kernel's phase of a real process, call by call,
// under the default transition: a blocking wait counts only after
// listen, a wait with a zero timeout never, an i386 call never (whose
// number is x86_64's listen or poll), nothing takes a serving process
// back; its key goes when it exits.
func TestPhaseTracker(t *testing.T) {
	testenv.RequireRoot(t)
	if runtime.GOARCH != "amd64" {
		t.Skip("the steps use x86_64 and i386 numbers")
	}
	pt, err := TrackPhases(profiles.DefaultTransition())
	if err != nil {
		t.Fatal(err)
	}
	defer pt.Close()
	cmd := exec.Command(testtarget.Path(t), "calls")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	outp, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	pid := cmd.Process.Pid
	if err := pt.Enrol(pid); err != nil {
		t.Fatal(err)
	}
	out := bufio.NewReader(outp)
	const L, S = bpfprog.PhaseListened, bpfprog.PhaseServing
	for _, step := range []struct {
		call, why string
		want      uint32
	}{
		{"7 0 0 10", "poll for 10 ms before listen", 0},
		{"i386 50 0 0", "i386 getegid (x86_64's listen is 50)", 0},
		{"50 1000 0", "listen", L},
		{"7 0 0 0", "poll with a zero timeout", L},
		{"232 1000 0", "epoll_wait with a zero timeout", L},
		{"i386 7 -1 0 1", "i386 waitpid(-1, 0, WNOHANG) (x86_64's poll is 7, with dx a 1 ms timeout)", L},
		{"7 0 0 10", "poll for 10 ms", L | S},
		{"50 1000 0", "listen again", L | S},
	} {
		fmt.Fprintln(in, step.call)
		if _, err := out.ReadString('\n'); err != nil {
			t.Fatalf("%s: %v", step.why, err)
		}
		if st, ok := pt.State(pid); !ok || st != step.want {
			t.Errorf("after %s: state %d (tracked %v), want %d", step.why, st, ok, step.want)
		}
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if st, ok := pt.State(pid); ok {
		t.Errorf("exited process still tracked (state %d)", st)
	}
}

// TestPhaseStaleKey: a process forked by one sysrec does not track never
// inherits what the map says of its pid (a tracked process of that pid
// that died unseen): its key is deleted at its fork.
func TestPhaseStaleKey(t *testing.T) {
	testenv.RequireRoot(t)
	pt, err := TrackPhases(profiles.DefaultTransition())
	if err != nil {
		t.Fatal(err)
	}
	defer pt.Close()
	const lastPid = "/proc/sys/kernel/ns_last_pid"
	// Other processes of the host fork too: retry until the child gets
	// the pid the map holds a key for.
	for range 100 {
		b, err := os.ReadFile(lastPid)
		if err != nil {
			t.Fatal(err)
		}
		last, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		want := last + 50
		if err := pt.Enrol(want); err != nil { // the stale key: in init
			t.Fatal(err)
		}
		if err := os.WriteFile(lastPid, []byte(strconv.Itoa(want-1)), 0); err != nil {
			t.Fatal(err)
		}
		// cat waits for its stdin: alive, so its exit has not deleted
		// the key, when the map is read.
		cmd := exec.Command("cat")
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		_, tracked := pt.State(want)
		stdin.Close()
		cmd.Wait()
		if cmd.Process.Pid != want {
			continue
		}
		if tracked {
			t.Fatalf("pid %d, forked by an untracked process, inherited the stale key", want)
		}
		return
	}
	t.Fatal("no child got the pid asked for in 100 tries")
}

// TestPhasesUntracked: a process whose fork found the map full is not
// tracked, and is refused its init calls (fail closed), as is any
// process sysrec does not know the phase of. Here the server's child
// forked while serving would be refused anyway; the refusal says why.
func TestPhasesUntracked(t *testing.T) {
	testenv.RequireRoot(t)
	target := testtarget.Path(t)
	dir := t.TempDir()
	prof := filepath.Join(dir, "profile.json")
	if out, err := exec.Command(target, "phased-profile", prof, "socket").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	p, err := profiles.Load(prof)
	if err != nil {
		t.Fatal(err)
	}
	// Two processes: the server and the child it forks before serving.
	pt, err := trackPhases(p.Phases.Transition, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer pt.Close()
	filter, err := emit.Raw(p.Supervised(), emit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var refusals []Refusal
	cmd, err := NotifyCommand(filter, []string{target, "server", dir}, NotifyOptions{Phases: &PhaseOptions{
		Tracker: pt, Notified: p.Notified, OnRefused: func(r Refusal) { refusals = append(refusals, r) }}})
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	done := make(chan error, 1)
	go func() {
		_, err := cmd.Run(t.Context())
		done <- err
	}()
	if err := testenv.WaitFile(filepath.Join(dir, "port"), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	ask := func(req string) string {
		out, err := exec.Command(target, "ask", dir, req).CombinedOutput()
		if err != nil {
			t.Fatalf("ask %s: %v\n%s", req, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if got := ask("early-socket"); got != "errno=0" {
		t.Errorf("early child (tracked, init): %q", got)
	}
	if got := ask("fork-socket"); got != "killed by signal 9" {
		t.Errorf("untracked child: %q, want killed", got)
	}
	if got := ask("quit"); got != "closed" {
		t.Errorf("quit: %q", got)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server did not end")
	}
	if n := pt.LostForks(); n != 1 {
		t.Errorf("lost forks %d, want 1", n)
	}
	if len(refusals) != 1 || !refusals[0].Untracked || refusals[0].Syscall != "socket" {
		t.Fatalf("refusals %+v, want one of socket, untracked", refusals)
	}
	if got := refusals[0].String(); !strings.Contains(got, "called socket while sysrec did not know its phase: killed") {
		t.Errorf("report %q", got)
	}
}

// TestServingPhase: a Go program that can be changed applies its whole
// filter, makes socket (allowed in init), enters its serving phase with
// ServingPhase, and its next socket call is killed by the kernel.
func TestServingPhase(t *testing.T) {
	testenv.RequireRoot(t)
	cmd := exec.Command(testtarget.Path(t), "serving-phase")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("serving-phase: %v, want killed\n%s", err, out.String())
	}
	if ws := ee.Sys().(syscall.WaitStatus); ws.Signal() != syscall.SIGSYS {
		t.Errorf("ended %v, want killed by SIGSYS", ee)
	}
	if got := out.String(); got != "init socket errno=0\n" {
		t.Errorf("output %q, want the init socket only", got)
	}
}
