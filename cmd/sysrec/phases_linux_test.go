package main

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/internal/testtarget"
	"github.com/sysrec/sysrec/profiles"
)

// TestPhaseAttack performs the attack phases exist for, through the
// commands a person runs and on profiles sysrec learned (pipeline's
// TestPhasesAttack* enforce hand-written ones): unmodified servers built
// three ways (testdata/phaseserver/server.c compiled dynamic and static
// with gcc, and the Go test target's server) are recorded with the
// defaults while they serve (ordinary requests answered by a child they
// fork), their start-up making the attack's calls (socket, setuid, an
// exec). Then, under `sysrec run` of that profile:
//   - the same start-up calls are allowed (the server comes up);
//   - a request that makes it call socket(AF_INET), setuid or
//     execve("/bin/sh") once it serves gets it killed, and run names the
//     call;
//   - the same calls from a child it forks while serving get the child
//     killed, and the server goes on serving;
//   - under the same profile's union (`run --phases off`, one filter, as
//     before phases; Landlock off, which would refuse the shell the
//     recording never ran) every one of those calls succeeds: the
//     refusals come from the phase.
func TestPhaseAttack(t *testing.T) {
	testenv.RequireRoot(t)
	gcc := testenv.RequireTool(t, "gcc")
	bin := t.TempDir()
	src := filepath.Join("..", "..", "testdata", "phaseserver", "server.c")
	for _, link := range []string{"dynamic", "static"} {
		args := []string{"-O2", "-o", filepath.Join(bin, link), src}
		if link == "static" {
			args = append([]string{"-static"}, args...)
		}
		if out, err := exec.Command(gcc, args...).CombinedOutput(); err != nil {
			t.Fatalf("gcc %s: %v\n%s", link, err, out)
		}
	}
	target := testtarget.Path(t)
	for _, server := range []struct {
		name string
		argv []string // the server's command line, its directory to follow
	}{
		{"dynamic", []string{filepath.Join(bin, "dynamic")}},
		{"static", []string{filepath.Join(bin, "static")}},
		{"go", []string{target, "server"}},
	} {
		t.Run(server.name, func(t *testing.T) {
			dir := t.TempDir()
			profile := filepath.Join(t.TempDir(), "profile.json")
			argv := slices.Concat(server.argv, []string{dir})
			rec := startServer(t, target, dir, slices.Concat([]string{"record", "--progress", "never", "-o", profile, "--"}, argv, []string{"init"})...)
			// Ordinary traffic: requests whose answer a child it forks
			// makes (with no call of the attack's).
			for range 2 {
				if got := rec.ask(t, "fork-none"); got != "errno=0" {
					t.Fatalf("fork-none while recording: %q", got)
				}
			}
			rec.ask(t, "quit")
			if code, ok := rec.wait(20 * time.Second); !ok || code != 0 {
				t.Fatalf("record exited %d (ended: %v):\n%s", code, ok, rec.out)
			}
			checkInitOnly(t, profile)
			run := slices.Concat([]string{"run", "--profile", profile, "--"}, argv)

			t.Run("init", func(t *testing.T) {
				s := startServer(t, target, dir, slices.Concat(run, []string{"init"})...)
				s.ask(t, "quit")
				if code, ok := s.wait(10 * time.Second); !ok || code != 0 || strings.Contains(s.out.String(), "serving phase") {
					t.Errorf("the attack's calls during start-up: run exited %d (ended: %v):\n%s", code, ok, s.out)
				}
				// Read once it exited: a C server's stdout to a pipe is
				// fully buffered until then.
				for _, want := range []string{"init socket errno=0", "init setuid errno=0", "init exec errno=2"} {
					if !strings.Contains(s.out.String(), want) {
						t.Errorf("start-up: no %q:\n%s", want, s.out)
					}
				}
			})
			for _, call := range []struct{ req, name string }{{"socket", "socket"}, {"setuid", "setuid"}, {"exec", "execve"}} {
				t.Run("serving/"+call.req, func(t *testing.T) {
					s := startServer(t, target, dir, run...)
					if got := s.ask(t, call.req); got != "closed" {
						t.Errorf("%s answered %q, want the server killed", call.req, got)
					}
					s.refused(t, call.name)
					if code, ok := s.wait(10 * time.Second); !ok || code != 128+9 {
						t.Errorf("run after the attack: exited %d (ended: %v), want 137 (SIGKILL):\n%s", code, ok, s.out)
					}
				})
			}
			t.Run("serving/child", func(t *testing.T) {
				s := startServer(t, target, dir, run...)
				for _, call := range []struct{ req, name string }{{"socket", "socket"}, {"setuid", "setuid"}, {"exec", "execve"}} {
					if got := s.ask(t, "fork-"+call.req); got != "killed by signal 9" {
						t.Errorf("fork-%s: %q, want the child killed by SIGKILL", call.req, got)
					}
					s.refused(t, call.name)
				}
				if got := s.ask(t, "fork-none"); got != "errno=0" {
					t.Errorf("an ordinary request after its children's attacks: %q", got)
				}
				s.ask(t, "quit")
				if code, ok := s.wait(10 * time.Second); !ok || code != 0 {
					t.Errorf("run exited %d (ended: %v):\n%s", code, ok, s.out)
				}
			})
			t.Run("union", func(t *testing.T) {
				s := startServer(t, target, dir, slices.Concat([]string{"run", "--phases", "off", "--landlock", "off", "--profile", profile, "--"}, argv)...)
				for _, req := range []string{"socket", "setuid", "fork-socket", "fork-setuid"} {
					if got := s.ask(t, req); got != "errno=0" {
						t.Errorf("%s without phases: %q, want errno=0", req, got)
					}
				}
				// The exec runs: the shell then dies of its first call
				// the profile lacks (sysrec never recorded a shell).
				s.ask(t, "exec")
				code, ok := s.wait(10 * time.Second)
				if out := s.out.String(); !ok || code != 128+31 || !strings.Contains(out, "killed by SIGSYS") || strings.Contains(out, "syscall execve") {
					t.Errorf("exec without phases: run exited %d (ended: %v), want the shell run and killed by SIGSYS for a call after its execve:\n%s", code, ok, out)
				}
			})
		})
	}
}

// checkInitOnly fails t unless the profile's entries for the attack's
// calls are all init-only.
func checkInitOnly(t *testing.T, profile string) {
	t.Helper()
	p, err := profiles.Load(profile)
	if err != nil {
		t.Fatal(err)
	}
	for _, call := range []string{"socket", "setuid", "execve"} {
		n := 0
		for _, s := range p.Syscalls {
			if s.Name != call {
				continue
			}
			n++
			if s.Phase != profiles.PhaseInit {
				t.Errorf("%s: %s allowed in phase %q, want init only", profile, profiles.FormatCall(s), s.Phase)
			}
		}
		if n == 0 {
			t.Errorf("%s: no entry for %s, which the start-up made", profile, call)
		}
	}
}

// phaseServer is a phase test server (testdata/phaseserver, the test
// target's server) under a sysrec command.
type phaseServer struct {
	*backgroundCmd
	target, dir string
}

// startServer runs sysrec with args, whose target is a phase test
// server in dir, and waits until it listens (it writes dir/port).
func startServer(t *testing.T, target, dir string, args ...string) *phaseServer {
	t.Helper()
	if err := os.Remove(filepath.Join(dir, "port")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	s := &phaseServer{backgroundCmd: startBackground(t, args...), target: target, dir: dir}
	listening := make(chan error, 1)
	go func() { listening <- testenv.WaitFile(filepath.Join(dir, "port"), 20*time.Second) }()
	select {
	case err := <-listening:
		if err != nil {
			t.Fatalf("sysrec %s: the server did not come up: %v\n%s", strings.Join(args, " "), err, s.out)
		}
	case <-s.exited:
		t.Fatalf("sysrec %s ended before the server listened:\n%s", strings.Join(args, " "), s.out)
	}
	return s
}

// ask sends one request (through the test target's client) and returns
// the answer, "closed" when the server died before answering.
func (s *phaseServer) ask(t *testing.T, req string) string {
	t.Helper()
	out, err := exec.Command(s.target, "ask", s.dir, req).CombinedOutput()
	if err != nil {
		t.Fatalf("ask %s: %v\n%s", req, err, out)
	}
	return strings.TrimSpace(string(out))
}

// refused waits for run to say it killed a process for call in its
// serving phase.
func (s *phaseServer) refused(t *testing.T, call string) {
	t.Helper()
	if !s.out.waitFor("called "+call+" in its serving phase: killed", 10*time.Second) {
		t.Errorf("run did not name %s refused in the serving phase:\n%s", call, s.out)
	}
}
