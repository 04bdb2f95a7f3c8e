package enforce

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/bpfprog"
	"github.com/sysrec/sysrec/emit"
	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/internal/testtarget"
	"github.com/sysrec/sysrec/profiles"
)

// trackedCalls starts the test target's calls mode (one call a line of
// in, its result a line of out) enrolled in a tracker of the default
// transition. The calls use x86_64 and i386 numbers.
func trackedCalls(t *testing.T) (*PhaseTracker, *exec.Cmd, io.WriteCloser, *bufio.Reader) {
	t.Helper()
	testenv.RequireRoot(t)
	if runtime.GOARCH != "amd64" {
		t.Skip("the steps use x86_64 and i386 numbers")
	}
	pt, err := TrackPhases(profiles.DefaultTransition())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pt.Close() })
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
	t.Cleanup(func() { cmd.Process.Kill() })
	if err := pt.Enrol(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	return pt, cmd, in, bufio.NewReader(outp)
}

// TestPhaseTracker: the kernel's phase of a real process, call by call,
// under the default transition: a blocking wait counts only after
// listen, a wait with a zero timeout never, an i386 call never (whose
// number is x86_64's listen or poll), nothing takes a serving process
// back; its key goes when it exits.
func TestPhaseTracker(t *testing.T) {
	pt, cmd, in, out := trackedCalls(t)
	pid := cmd.Process.Pid
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

// TestPhaseMapSealed: once sealed, the map refuses every system call
// that would change a state (a serving process run as root opens it by
// its id: TestPhasesAttackPhaseMap), while the tracker's programs still
// step it. A BPF program of the caller's own still writes it: why run
// refuses phases to a profile that may load one.
func TestPhaseMapSealed(t *testing.T) {
	pt, cmd, in, out := trackedCalls(t)
	pid := uint32(cmd.Process.Pid)
	if err := pt.Seal(); err != nil {
		t.Fatal(err)
	}
	info, err := pt.objs.Phases.Info()
	if err != nil {
		t.Fatal(err)
	}
	id, _ := info.ID()
	byID, err := ebpf.NewMapFromID(id)
	if err != nil {
		t.Fatal(err)
	}
	defer byID.Close()
	for what, err := range map[string]error{
		"update": byID.Update(pid, uint32(bpfprog.PhaseServing), ebpf.UpdateExist),
		"delete": byID.Delete(pid),
		"enrol":  pt.Enrol(int(pid) + 1),
	} {
		if !errors.Is(err, syscall.EPERM) {
			t.Errorf("%s of the sealed map by a system call: %v, want EPERM", what, err)
		}
	}
	fmt.Fprintln(in, "50 1000 0") // listen: the program steps the state
	if _, err := out.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	if st, ok := pt.State(int(pid)); !ok || st != bpfprog.PhaseListened {
		t.Errorf("after listen: state %d (tracked %v), want %d", st, ok, bpfprog.PhaseListened)
	}

	// phases[pid] = 0 from a program of type syscall, run by BPF_PROG_RUN.
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:    ebpf.Syscall,
		Flags:   unix.BPF_F_SLEEPABLE,
		License: "GPL",
		Instructions: asm.Instructions{
			asm.StoreImm(asm.RFP, -4, int64(pid), asm.Word),
			asm.StoreImm(asm.RFP, -8, 0, asm.Word),
			asm.LoadMapPtr(asm.R1, byID.FD()),
			asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -4),
			asm.Mov.Reg(asm.R3, asm.RFP), asm.Add.Imm(asm.R3, -8),
			asm.Mov.Imm(asm.R4, 0),
			asm.FnMapUpdateElem.Call(),
			asm.Return(),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	if ret, err := prog.Run(&ebpf.RunOptions{}); err != nil || ret != 0 {
		t.Fatalf("run the program: %d, %v", ret, err)
	}
	if st, ok := pt.State(int(pid)); !ok || st != 0 {
		t.Errorf("after a program of its own wrote it: state %d (tracked %v), want 0: a freeze binds programs now, run may allow profiles that load them", st, ok)
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
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
