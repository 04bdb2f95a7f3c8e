package pipeline

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sysrec/sysrec/enforce"
	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/internal/testtarget"
	"github.com/sysrec/sysrec/profiles"
)

// phasedServer is the test target's server (target server) under Run
// with a hand-written phased profile: every call allowed, the named ones
// in init only.
type phasedServer struct {
	t      *testing.T
	target string
	dir    string
	out    bytes.Buffer
	mu     sync.Mutex
	refus  []enforce.Refusal
	done   chan struct{}
	exit   enforce.Exit
	err    error
}

// server is the test target's server command.
func server(t *testing.T) []string { return []string{testtarget.Path(t), "server"} }

func newPhasedServer(t *testing.T) *phasedServer {
	t.Helper()
	testenv.RequireRoot(t)
	return &phasedServer{t: t, target: testtarget.Path(t), dir: t.TempDir(), done: make(chan struct{})}
}

// startPhased runs prog DIR args... under Run with phasedProfile(init).
func startPhased(t *testing.T, init, prog []string, args ...string) *phasedServer {
	t.Helper()
	return startProfile(t, phasedProfile(t, init...), prog, args...)
}

// phasedProfile is the test target's profile that allows every call,
// those named in init only.
func phasedProfile(t *testing.T, init ...string) *profiles.Profile {
	t.Helper()
	prof := filepath.Join(t.TempDir(), "profile.json")
	if out, err := exec.Command(testtarget.Path(t), append([]string{"phased-profile", prof}, init...)...).CombinedOutput(); err != nil {
		t.Fatalf("target phased-profile: %v\n%s", err, out)
	}
	p, err := profiles.Load(prof)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startProfile runs prog DIR args... under Run with profile p.
func startProfile(t *testing.T, p *profiles.Profile, prog []string, args ...string) *phasedServer {
	t.Helper()
	s := newPhasedServer(t)
	return s.start(p, prog, args...)
}

func (s *phasedServer) start(p *profiles.Profile, prog []string, args ...string) *phasedServer {
	t := s.t
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() {
		cancel()
		<-s.done
	})
	go func() {
		defer close(s.done)
		argv := append(append(slices.Clone(prog), s.dir), args...)
		s.exit, s.err = Run(ctx, p, argv, RunOptions{
			Stdio:    Stdio{Out: &s.out, Err: &s.out},
			Landlock: LandlockOff,
			OnRefused: func(r enforce.Refusal) {
				s.mu.Lock()
				s.refus = append(s.refus, r)
				s.mu.Unlock()
			},
		})
	}()
	select {
	case <-s.done:
		t.Fatalf("server ended before it listened: %v, %+v, refused %v\n%s", s.err, s.exit, s.refused(), s.out.String())
	case err := <-waitPort(s.dir):
		if err != nil {
			t.Fatalf("server did not listen: %v\n%s", err, s.out.String())
		}
	}
	return s
}

func waitPort(dir string) <-chan error {
	c := make(chan error, 1)
	go func() { c <- testenv.WaitFile(filepath.Join(dir, "port"), 30*time.Second) }()
	return c
}

// ask sends the server a request and returns its answer.
func (s *phasedServer) ask(req string) string {
	s.t.Helper()
	out, err := exec.Command(s.target, "ask", s.dir, req).CombinedOutput()
	if err != nil {
		s.t.Fatalf("ask %s: %v\n%s", req, err, out)
	}
	return strings.TrimSpace(string(out))
}

// wait returns how Run ended.
func (s *phasedServer) wait() enforce.Exit {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		s.t.Fatalf("server still running\n%s", s.out.String())
	}
	if s.err != nil {
		s.t.Fatalf("run: %v\n%s", s.err, s.out.String())
	}
	return s.exit
}

// refused returns the syscalls refused, as "exe/syscall/killed".
func (s *phasedServer) refused() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.refus {
		out = append(out, r.Syscall+"/"+r.Action.String())
	}
	return out
}

// pwned lists the files the attacker's /bin/sh wrote.
func pwned(t *testing.T, dir string) []string {
	m, err := filepath.Glob(filepath.Join(dir, "pwned-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestPhasesAttackServing: a server whose init made socket, setuid and
// exec (all three allowed then) is killed the moment it makes any of
// them once it serves, before the call runs: /bin/sh never writes its
// file, and the refusal names the call.
func TestPhasesAttackServing(t *testing.T) {
	for _, call := range []string{"socket", "setuid", "exec"} {
		t.Run(call, func(t *testing.T) {
			s := startPhased(t, []string{"socket", "setuid", "execve"}, server(t), "init")
			if got := s.ask(call); got != "closed" {
				t.Errorf("%s in serving: answered %q, want the server killed (closed)", call, got)
			}
			ex := s.wait()
			if ex.SignalName() != "SIGKILL" {
				t.Errorf("server ended %+v, want killed by SIGKILL", ex)
			}
			name := map[string]string{"exec": "execve"}[call]
			if name == "" {
				name = call
			}
			if got, want := s.refused(), []string{name + "/kill_process"}; !slices.Equal(got, want) {
				t.Errorf("refused %v, want %v", got, want)
			}
			if p := pwned(t, s.dir); p != nil {
				t.Errorf("the shell ran: %v", p)
			}
			out := s.out.String()
			for _, want := range []string{"init socket errno=0", "init setuid errno=0", "init exec errno=2"} {
				if !strings.Contains(out, want) {
					t.Errorf("in init: no %q (allowed before serving)\n%s", want, out)
				}
			}
		})
	}
}

// TestPhasesAttackFork: a child forked while serving is serving from its
// first instruction: each of the calls kills it; the server lives on. A
// child forked before its parent served keeps init powers: the same
// calls run (its exec of /bin/sh writes the file).
func TestPhasesAttackFork(t *testing.T) {
	s := startPhased(t, []string{"socket", "setuid", "execve"}, server(t))
	for _, req := range []string{"fork-socket", "fork-setuid", "fork-exec"} {
		if got := s.ask(req); got != "killed by signal 9" {
			t.Errorf("%s: %q, want the child killed by signal 9", req, got)
		}
	}
	if p := pwned(t, s.dir); p != nil {
		t.Errorf("a child forked in serving ran the shell: %v", p)
	}
	for _, tc := range []struct{ req, want string }{
		{"early-socket", "errno=0"},
		{"early-setuid", "errno=0"},
		{"early-exec", "exited 0"},
	} {
		if got := s.ask(tc.req); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.req, got, tc.want)
		}
	}
	if p := pwned(t, s.dir); len(p) != 1 {
		t.Errorf("the early child's exec: %v, want one file", p)
	}
	if got := s.ask("quit"); got != "closed" {
		t.Errorf("quit: %q", got)
	}
	if ex := s.wait(); ex.Status != 0 {
		t.Errorf("server ended %+v, want 0\n%s", ex, s.out.String())
	}
	got := s.refused()
	slices.Sort(got)
	if want := []string{"execve/kill_process", "setuid/kill_process", "socket/kill_process"}; !slices.Equal(got, want) {
		t.Errorf("refused %v, want %v", got, want)
	}
}

// TestPhasesAttackThreadExec: a serving process whose thread other than
// the leader execs a program (execve allowed in every phase here) is the
// same process, still serving: the new image's socket kills it. The
// server's own serving thread is not the leader either, so a phase kept
// per thread (the exec'ing thread takes the leader's id) would give the
// new image init back.
func TestPhasesAttackThreadExec(t *testing.T) {
	s := startPhased(t, []string{"socket", "setuid"}, server(t), "thread")
	if got := s.ask("thread-exec"); got != "closed" {
		t.Errorf("thread-exec: %q", got)
	}
	ex := s.wait()
	if ex.SignalName() != "SIGKILL" {
		t.Errorf("ended %+v, want killed by SIGKILL\n%s", ex, s.out.String())
	}
	if b, err := os.ReadFile(filepath.Join(s.dir, "after-exec")); err == nil {
		t.Errorf("the exec'd image made its socket call: %s", b)
	}
	if got, want := s.refused(), []string{"socket/kill_process"}; !slices.Equal(got, want) {
		t.Errorf("refused %v, want %v", got, want)
	}
}

// TestPhasesAttackC: the same attacks on an unmodified C server
// (testdata/phaseserver), dynamically and statically linked: each init
// call of the serving server, or of a child it forks, is refused before
// it runs.
func TestPhasesAttackC(t *testing.T) {
	testenv.RequireRoot(t)
	gcc := testenv.RequireTool(t, "gcc")
	for _, link := range []string{"dynamic", "static"} {
		t.Run(link, func(t *testing.T) {
			bin := filepath.Join(t.TempDir(), "server")
			args := []string{"-O2", "-o", bin, filepath.Join("..", "testdata", "phaseserver", "server.c")}
			if link == "static" {
				args = append([]string{"-static"}, args...)
			}
			if out, err := exec.Command(gcc, args...).CombinedOutput(); err != nil {
				t.Fatalf("gcc: %v\n%s", err, out)
			}
			s := startPhased(t, []string{"socket", "setuid", "execve"}, []string{bin})
			for _, req := range []string{"fork-socket", "fork-setuid", "fork-exec"} {
				if got := s.ask(req); got != "killed by signal 9" {
					t.Errorf("%s: %q, want the child killed by signal 9", req, got)
				}
			}
			if got := s.ask("exec"); got != "closed" {
				t.Errorf("exec: %q, want the server killed", got)
			}
			if ex := s.wait(); ex.SignalName() != "SIGKILL" {
				t.Errorf("server ended %+v, want killed by SIGKILL\n%s", ex, s.out.String())
			}
			if p := pwned(t, s.dir); p != nil {
				t.Errorf("the shell ran: %v", p)
			}
			got := s.refused()
			slices.Sort(got)
			if want := []string{"execve/kill_process", "setuid/kill_process", "socket/kill_process"}; !slices.Equal(got, want) {
				t.Errorf("refused %v, want %v", got, want)
			}
		})
	}
}

// TestPhasesOutlived: a target that exits while a process it started
// still runs leaves that process supervised (its init calls still
// answered), Run says so, and returns once the last process is gone.
func TestPhasesOutlived(t *testing.T) {
	testenv.RequireRoot(t)
	dir := t.TempDir()
	target := testtarget.Path(t)
	prof := filepath.Join(dir, "profile.json")
	if out, err := exec.Command(target, "phased-profile", prof, "socket").CombinedOutput(); err != nil {
		t.Fatalf("target phased-profile: %v\n%s", err, out)
	}
	p, err := profiles.Load(prof)
	if err != nil {
		t.Fatal(err)
	}
	// The shell's child waits for a line on a FIFO the test writes once
	// Run has said the target exited; the shell exits at once.
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	outlived := make(chan enforce.Exit, 1)
	done := make(chan error, 1)
	// A file, not a buffer: exec.Cmd would wait for the child to close
	// the pipe it copies a buffer through before the shell counted as
	// exited.
	out, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	output := func() string { b, _ := os.ReadFile(out.Name()); return string(b) }
	go func() {
		ex, err := Run(context.Background(), p, []string{"/bin/sh", "-c", "(read x < " + fifo + "; echo child $x) & exit 3"}, RunOptions{
			Stdio:      Stdio{Out: out, Err: out},
			Landlock:   LandlockOff,
			OnOutlived: func(ex enforce.Exit) { outlived <- ex },
		})
		if err == nil && ex.Status != 3 {
			err = errors.New("exit status " + strconv.Itoa(ex.Status) + ", want 3")
		}
		done <- err
	}()
	select {
	case ex := <-outlived:
		if ex.Status != 3 {
			t.Errorf("OnOutlived: status %d, want 3", ex.Status)
		}
	case err := <-done:
		t.Fatalf("Run returned while the child lived: %v\n%s", err, output())
	case <-time.After(30 * time.Second):
		t.Fatal("no OnOutlived within 30 s")
	}
	if err := os.WriteFile(fifo, []byte("ends\n"), 0); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v\n%s", err, output())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after the last process exited")
	}
	if !strings.Contains(output(), "child ends") {
		t.Errorf("the child did not run to its end:\n%s", output())
	}
}
