package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/internal/testtarget"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
	"github.com/sysrec/sysrec/recorder"
	"github.com/sysrec/sysrec/reducer"
)

// recordServer records target server answering reqs (each answered
// want[req], when given), then quit, and returns the profile.
func recordServer(t *testing.T, want map[string]string, reqs ...string) *profiles.Profile {
	t.Helper()
	return recordServerOf(t, testtarget.Path(t), want, reqs...)
}

// recordServerOf is recordServer of a build of the target.
func recordServerOf(t *testing.T, target string, want map[string]string, reqs ...string) *profiles.Profile {
	t.Helper()
	testenv.RequireRoot(t)
	dir := t.TempDir()
	var out bytes.Buffer
	asked := make(chan error, 1)
	go func() {
		if err := <-waitPort(dir); err != nil {
			asked <- err
			return
		}
		for _, req := range append(reqs, "quit") {
			b, err := exec.Command(target, "ask", dir, req).CombinedOutput()
			if err != nil {
				asked <- err
				return
			}
			if w, ok := want[req]; ok && strings.TrimSpace(string(b)) != w {
				asked <- fmt.Errorf("recorded run: %s answered %q, want %q", req, b, w)
				return
			}
		}
		asked <- nil
	}()
	res, err := Record(context.Background(), RecordOptions{
		Recorder: recorder.Options{Command: []string{target, "server", dir}, Stdout: &out, Stderr: &out, MaxKeys: recorder.DefaultMaxKeys},
		Reduce:   reducer.Options{Runtime: RuntimeAuto},
		Output:   filepath.Join(t.TempDir(), "p.json"),
	})
	if err != nil {
		t.Fatalf("record: %v\n%s", err, out.Bytes())
	}
	if err := <-asked; err != nil {
		t.Fatalf("ask the recorded server: %v\n%s", err, out.Bytes())
	}
	if !res.Profile.HasPhases() {
		t.Fatalf("the recorded server never served:\n%s", profiles.Format(res.Profile))
	}
	return res.Profile
}

// decision returns what p decides for native call name with args in phase.
func decision(t *testing.T, p *profiles.Profile, name string, phase profiles.Phase, args ...uint64) profiles.Action {
	t.Helper()
	arch, err := linuxabi.Native()
	if err != nil {
		t.Fatal(err)
	}
	nr, ok := arch.Number(name)
	if !ok {
		t.Fatalf("no syscall %s", name)
	}
	d := linuxabi.SeccompData{Nr: int32(nr), Arch: arch.Audit}
	copy(d.Args[:], args)
	return p.Decide(d, phase)
}

// TestPhasesArgumentsOfInit: a recorded server that opened its TCP
// listener (socket(AF_INET)) in init and makes socket(AF_UNIX) while it
// serves must still be refused socket(AF_INET) once it serves: the
// kernel saw AF_INET only in init. The phase of an entry must not give
// the serving phase argument values only init used (the reverse shell
// of TestPhasesAttackServing, through the socket entry ordinary serving
// work keeps open).
func TestPhasesArgumentsOfInit(t *testing.T) {
	p := recordServer(t, map[string]string{"unix": "errno=0"}, "unix")
	const afInet, sockStream = 2, 1
	if a := decision(t, p, "socket", profiles.PhaseInit, afInet, sockStream); a.Kind != profiles.Allow {
		t.Fatalf("socket(AF_INET) in init: %s, want allow (the listener)", a)
	}
	if a := decision(t, p, "socket", profiles.PhaseServing, afInet, sockStream); a.Kind == profiles.Allow {
		t.Errorf("socket(AF_INET) in serving: allow; the recording saw it only in init")
	}

	// The attack on the real kernel, under the recorded profile.
	s := startProfile(t, p, server(t))
	if got := s.ask("unix"); got != "errno=0" {
		t.Errorf("unix in serving (recorded): %q, want errno=0", got)
	}
	if got := s.ask("socket"); got != "closed" {
		t.Errorf("socket(AF_INET) in serving: answered %q, want the server killed (closed)", got)
		s.ask("quit")
	}
	ex := s.wait()
	if ex.SignalName() != "SIGKILL" {
		t.Errorf("server ended %+v, want killed by SIGKILL\n%s", ex, s.out.String())
	}
	if got, want := s.refused(), []string{"socket/kill_process"}; !slices.Equal(got, want) {
		t.Errorf("refused %v, want %v", got, want)
	}
}

// TestPhasesAttackIoUring: io_uring's operations are no system calls:
// a serving server whose socket is init-only got socket(AF_INET) as
// IORING_OP_SOCKET, from a ring set up while serving or one set up in
// init, past the filter and the supervisor. Nothing confines another
// process's rings (IORING_REGISTER_RESTRICTIONS is the owner's choice,
// kernel.io_uring_disabled the host's), and refusing io_uring_enter in
// serving leaves an SQPOLL ring of init working: run refuses to enforce
// the phases of a profile that allows io_uring, before the server runs.
func TestPhasesAttackIoUring(t *testing.T) {
	for _, tc := range []struct {
		name  string
		init  []string // the profile's init-only calls
		extra []profiles.Syscall
		want  string
	}{
		{"ring in serving", []string{"socket"},
			[]profiles.Syscall{{Name: "io_uring_setup"}, {Name: "io_uring_enter"}}, "io_uring_setup in its init phase"},
		{"ring of init", []string{"socket"},
			[]profiles.Syscall{{Name: "io_uring_setup", Phase: profiles.PhaseInit}, {Name: "io_uring_enter"}}, "io_uring_setup in its init phase"},
		{"ring of init, enter init-only", []string{"socket"},
			[]profiles.Syscall{{Name: "io_uring_setup", Phase: profiles.PhaseInit}, {Name: "io_uring_enter", Phase: profiles.PhaseInit}}, "io_uring_setup in its init phase"},
		{"a ring from elsewhere", []string{"socket"},
			[]profiles.Syscall{{Name: "io_uring_enter"}}, "io_uring_enter in its serving phase"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := phasedProfile(t, tc.init...)
			p.Syscalls = append(p.Syscalls, tc.extra...)
			refusedPhases(t, p, tc.want)
		})
	}
}

// refusedPhases runs the test server under p and wants Run to refuse
// p's phases before it starts the server, naming want and --phases off.
func refusedPhases(t *testing.T, p *profiles.Profile, want string) {
	t.Helper()
	testenv.RequireRoot(t)
	dir := t.TempDir()
	var out bytes.Buffer
	_, err := Run(context.Background(), p, append(server(t), dir), RunOptions{Stdio: Stdio{Out: &out, Err: &out}, Landlock: LandlockOff})
	if !errors.Is(err, ErrPhases) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--phases off") {
		t.Errorf("run: %v, want phases refused, naming %q and --phases off\n%s", err, want, out.Bytes())
	}
	if _, err := os.Stat(filepath.Join(dir, "port")); err == nil {
		t.Errorf("the server ran")
	}
}

// TestPhasesAttackOwnListener: a serving server whose profile refuses
// socket after init, and lets it install seccomp filters, must not get
// an AF_INET socket by answering the call itself: it installs a filter
// that sends socket to a listener of its own (SECCOMP_RET_USER_NOTIF,
// SECCOMP_FILTER_FLAG_NEW_LISTENER) and continues the call from another
// thread (the kernel picks the newest of the filters whose actions tie,
// so the supervisor would never see the call). Held by the kernel: a
// filter with a listener under one that has one already is refused
// (EBUSY, has_duplicate_listener), and the supervisor's is always there.
func TestPhasesAttackOwnListener(t *testing.T) {
	s := startPhased(t, []string{"socket"}, server(t))
	got := s.ask("notif-socket")
	if got == "errno=0" {
		t.Errorf("serving server made socket(AF_INET) through a listener of its own: %q, want it refused", got)
	}
	if got != "closed" {
		s.ask("quit")
	}
	s.wait()
}

// TestPhasesForkAfterThreads: a recorded server that forked a process in
// init (its early child) and starts threads while it serves (a Go server
// whenever a goroutine blocks in a call and the runtime needs another
// thread; any server whose pool grows) must still be refused a fork
// once it serves (fork is a door phases close: policy.PhaseDoor).
// Threads and processes are both clone, and the clone rule constrains
// only the namespace bits: the serving phase's threads keep fork open.
func TestPhasesForkAfterThreads(t *testing.T) {
	// The recorded server also made socket(AF_UNIX) while serving: the
	// child's call, so that the fork is what the attack needs.
	p := recordServer(t, map[string]string{"threads": "ok", "unix": "errno=0"}, "threads", "unix")
	const sigchld = 17
	if a := decision(t, p, "clone", profiles.PhaseInit, sigchld); a.Kind != profiles.Allow {
		t.Fatalf("fork (clone SIGCHLD) in init: %s, want allow (the early child)", a)
	}
	if a := decision(t, p, "clone", profiles.PhaseServing, sigchld); a.Kind == profiles.Allow {
		t.Errorf("fork (clone SIGCHLD) in serving: allow; the recording forked only in init")
	}

	// The attack on the real kernel, under the recorded profile: a child
	// forked in serving runs (and answers errno=0).
	s := startProfile(t, p, server(t))
	if got := s.ask("fork-unix"); got != "closed" {
		t.Errorf("fork in serving: answered %q, want the server killed (closed)", got)
		s.ask("quit")
	}
	if ex := s.wait(); ex.SignalName() != "SIGKILL" {
		t.Errorf("server ended %+v (%+v), want killed by SIGKILL\n%s", ex, ex.Seccomp, s.out.String())
	}
}

// TestPhasesThreadsOfRuntime: the Go runtime starts threads whenever
// goroutines block, so a server recorded asking nothing of it (whose
// thread starts may all fall in init) still starts threads once it
// serves: the runtime's thread start is for every phase, while a fork
// only init made is not (TestPhasesForkAfterThreads). With cgo the
// threads start with glibc's pthread_create, through clone3 (and clone
// once clone3 is answered ENOSYS).
func TestPhasesThreadsOfRuntime(t *testing.T) {
	for _, tc := range []struct {
		name   string
		target func(testing.TB) string
	}{
		{"go", testtarget.Path},
		{"cgo", testtarget.PathCgo},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := tc.target(t)
			p := recordServerOf(t, target, nil)
			s := startProfile(t, p, []string{target, "server"})
			for range 2 {
				if got := s.ask("threads"); got != "ok" {
					t.Fatalf("16 locked threads in serving: %q, want ok\n%s\n%s", got, s.out.String(), profiles.Format(p))
				}
			}
			s.ask("quit")
			if ex := s.wait(); ex.Status != 0 || ex.Signal != 0 {
				t.Errorf("server ended %+v, want 0\n%s", ex, s.out.String())
			}
			if got := s.refused(); len(got) != 0 {
				t.Errorf("refused %v, want none\n%s", got, profiles.Format(p))
			}
		})
	}
}

// TestPhasesAttackZombieLeader: a serving process whose leader thread
// has exited (a zombie while its other threads live) is still one
// process in serving: its socket call is refused and kills it, though
// its pid, the key of its phase, names a zombie.
func TestPhasesAttackZombieLeader(t *testing.T) {
	s := startPhased(t, []string{"socket"}, server(t), "zombie-leader")
	if got := s.ask("leader-state"); got != "Z (zombie)" {
		t.Fatalf("leader thread: %q, want a zombie", got)
	}
	if got := s.ask("socket"); got != "closed" {
		t.Errorf("socket in serving with a zombie leader: answered %q, want the server killed (closed)", got)
		s.ask("quit")
	}
	if ex := s.wait(); ex.SignalName() != "SIGKILL" {
		t.Errorf("server ended %+v, want killed by SIGKILL\n%s", ex, s.out.String())
	}
	if got, want := s.refused(), []string{"socket/kill_process"}; !slices.Equal(got, want) {
		t.Errorf("refused %v, want %v", got, want)
	}
}

// TestPhasesAttackPhaseMap: a serving server run as root whose profile
// allows bpf's map commands (and refuses socket after init) must not get
// socket back by writing its own state in the supervisor's phase map:
// any process with CAP_SYS_ADMIN opens a map by id
// (BPF_MAP_GET_FD_BY_ID) and updated it ("maps=1 errno=0"). The map is
// frozen against system calls once the helper is enrolled: the update
// fails and socket kills the server. A program of its own would still
// write it (TestPhaseMapSealed): run refuses phases to a profile that
// allows bpf(BPF_PROG_LOAD).
func TestPhasesAttackPhaseMap(t *testing.T) {
	t.Run("map commands", func(t *testing.T) {
		s := startPhased(t, []string{"socket"}, server(t))
		if got := s.ask("reset-phase-socket"); got != "closed" {
			t.Errorf("serving server reset its phase and made socket(AF_INET): %q, want the server killed (closed)", got)
			s.ask("quit")
		}
		if ex := s.wait(); ex.SignalName() != "SIGKILL" {
			t.Errorf("server ended %+v, want killed by SIGKILL\n%s", ex, s.out.String())
		}
		if got, want := s.refused(), []string{"socket/kill_process"}; !slices.Equal(got, want) {
			t.Errorf("refused %v, want %v", got, want)
		}
	})
	t.Run("program loads", func(t *testing.T) {
		p := phasedProfile(t, "socket")
		p.Syscalls = append(p.Syscalls, profiles.Syscall{Name: "bpf", Phase: profiles.PhaseInit})
		refusedPhases(t, p, "bpf(BPF_PROG_LOAD) in its init phase")
	})
}

// TestPhasesAttackNewPidNamespace: a child a serving server forks into a
// new pid namespace (pid 1 there) is serving all the same: the phase map
// and the supervisor name it by its pid in the initial namespace.
func TestPhasesAttackNewPidNamespace(t *testing.T) {
	s := startPhased(t, []string{"socket", "setuid", "execve"}, server(t))
	for _, req := range []string{"newpid-socket", "newpid-setuid", "newpid-exec"} {
		if got := s.ask(req); got != "killed by signal 9" {
			t.Errorf("%s: %q, want the child killed by signal 9", req, got)
		}
	}
	if p := pwned(t, s.dir); p != nil {
		t.Errorf("a child in a new pid namespace ran the shell: %v", p)
	}
	s.ask("quit")
	if ex := s.wait(); ex.Status != 0 {
		t.Errorf("server ended %+v, want 0\n%s", ex, s.out.String())
	}
}

// TestPhaseEscape: which entries keep a profile's phases from holding.
func TestPhaseEscape(t *testing.T) {
	const progLoad = 5 // BPF_PROG_LOAD
	mapCmds := []profiles.ArgRule{{Index: 0, Op: profiles.OpIn, Values: []uint64{1, 2, 12, 14, 15}}}
	for _, tc := range []struct {
		name    string
		entries []profiles.Syscall
		want    string // "": phases hold
	}{
		{"none", nil, ""},
		{"io_uring_setup init-only", []profiles.Syscall{{Name: "io_uring_setup", Phase: profiles.PhaseInit}}, "io_uring_setup in its init phase"},
		{"io_uring_setup refused", []profiles.Syscall{{Name: "io_uring_setup", Action: profiles.ActEPERM}}, ""},
		{"io_uring_enter any phase", []profiles.Syscall{{Name: "io_uring_enter"}}, "io_uring_enter in its serving phase"},
		{"io_uring_enter init-only", []profiles.Syscall{{Name: "io_uring_enter", Phase: profiles.PhaseInit}}, ""},
		{"bpf map commands", []profiles.Syscall{{Name: "bpf", Args: mapCmds}}, ""},
		{"bpf program loads init-only", []profiles.Syscall{{Name: "bpf", Phase: profiles.PhaseInit, Args: []profiles.ArgRule{{Index: 0, Op: profiles.OpIn, Values: []uint64{progLoad}}}}}, "bpf(BPF_PROG_LOAD) in its init phase"},
		{"bpf logged", []profiles.Syscall{{Name: "bpf", Action: profiles.Action{Kind: profiles.Log}}}, "bpf(BPF_PROG_LOAD) in its init phase"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			arch, err := linuxabi.Native()
			if err != nil {
				t.Fatal(err)
			}
			p := &profiles.Profile{Version: 3, Arch: []string{arch.Name}, DefaultAction: profiles.ActKillProcess,
				Phases:   &profiles.Phases{Transition: profiles.DefaultTransition()},
				Syscalls: append([]profiles.Syscall{{Name: "socket", Phase: profiles.PhaseInit}}, tc.entries...)}
			err = phaseEscape(p)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("phaseEscape: %v, want phases to hold", err)
			case tc.want != "" && (!errors.Is(err, ErrPhases) || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("phaseEscape: %v, want phases refused naming %q", err, tc.want)
			}
			// record says the same when it writes the profile.
			var warned []string
			warnPhaseEscape(p, func(s string) { warned = append(warned, s) })
			if got := strings.Join(warned, "\n"); tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, "run and check will refuse this profile's phases") {
				t.Errorf("record's warning: %q", got)
			}
		})
	}
}

// TestPhaseEscapeDefault: under run --default-action log no entry
// allows io_uring_setup, the default does, and the refusal says so.
func TestPhaseEscapeDefault(t *testing.T) {
	arch, err := linuxabi.Native()
	if err != nil {
		t.Fatal(err)
	}
	p := &profiles.Profile{Version: 3, Arch: []string{arch.Name}, DefaultAction: profiles.ActLog,
		Phases:   &profiles.Phases{Transition: profiles.DefaultTransition()},
		Syscalls: []profiles.Syscall{{Name: "socket", Phase: profiles.PhaseInit}}}
	const want = "the default action log lets io_uring_setup run in the init phase"
	if err := phaseEscape(p); !errors.Is(err, ErrPhases) || !strings.Contains(err.Error(), want) {
		t.Errorf("phaseEscape: %v, want phases refused naming %q", err, want)
	}
}
