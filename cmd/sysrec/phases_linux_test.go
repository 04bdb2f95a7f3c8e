package main

import (
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/profiles"
)

// attackCalls are what an attacker who took a server over does first:
// run a shell, open a socket of their own, change identity.
var attackCalls = []string{"execve", "socket", "setuid"}

// TestPhaseAttack performs the attack phases exist for, on unmodified
// servers built three ways (testdata/phaseserver: C compiled dynamic and
// static with gcc, and Go). Each is recorded with the defaults under
// ordinary traffic (pings, a request that forks a child), starting with
// the attack's calls made during its start-up; then, under `sysrec run`
// of that profile:
//   - the same start-up calls are allowed (the server comes up and
//     serves);
//   - a request that makes it call execve("/bin/sh"), socket(AF_INET) or
//     setuid once it serves gets it killed, and run names the call;
//   - the same calls from a child it forks while serving get the child
//     killed, and the server goes on serving;
//   - under the same profile's union (`run --phases off`, one filter, as
//     before phases) every one of those attacks succeeds: the refusals
//     come from the phase.
func TestPhaseAttack(t *testing.T) {
	testenv.RequireRoot(t)
	gcc := testenv.RequireTool(t, "gcc")
	dir := t.TempDir()
	src := filepath.Join("..", "..", "testdata", "phaseserver")
	builds := []struct {
		name string
		cmd  []string
	}{
		{"dynamic", []string{gcc, "-O2", "-o", filepath.Join(dir, "dynamic"), filepath.Join(src, "c", "server.c")}},
		{"static", []string{gcc, "-O2", "-static", "-o", filepath.Join(dir, "static"), filepath.Join(src, "c", "server.c")}},
		{"go", []string{"go", "build", "-o", filepath.Join(dir, "go"), "./" + filepath.Join(src, "go")}},
	}
	for _, b := range builds {
		if out, err := exec.Command(b.cmd[0], b.cmd[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("build the %s server: %v\n%s", b.name, err, out)
		}
	}
	for _, b := range builds {
		t.Run(b.name, func(t *testing.T) {
			server := filepath.Join(dir, b.name)
			port := freeLoopbackPort(t)
			profile := filepath.Join(dir, b.name+".json")
			rec := startServer(t, port, "record", "--progress", "never", "-o", profile, "--", server, port, "init")
			for _, req := range []string{"ping", "fork", "ping", "fork"} {
				rec.ask(t, req)
			}
			if code := rec.stop(); code != 0 {
				t.Fatalf("record exited %d:\n%s", code, rec.out)
			}
			checkInitOnly(t, profile)

			t.Run("init", func(t *testing.T) {
				s := startServer(t, port, "run", "--profile", profile, "--", server, port, "init")
				if got := s.ask(t, "ping"); got != "pong\n" {
					t.Errorf("ping after the start-up calls: %q", got)
				}
				if code := s.stop(); code != 0 || strings.Contains(s.out.String(), "serving phase") {
					t.Errorf("the attack's calls during start-up: run exited %d:\n%s", code, s.out)
				}
			})
			for _, call := range attackCalls {
				t.Run("serving/"+call, func(t *testing.T) {
					s := startServer(t, port, "run", "--profile", profile, "--", server, port, "plain")
					if got := s.ask(t, "ping"); got != "pong\n" {
						t.Fatalf("ping: %q", got)
					}
					if got := s.ask(t, "attack "+call); got != "" {
						t.Errorf("attack %s answered %q", call, got)
					}
					s.refused(t, call)
					code, ok := s.wait(10 * time.Second)
					if !ok || code != 128+9 {
						t.Errorf("run after the attack: exited %d (ended: %v), want 137 (SIGKILL):\n%s", code, ok, s.out)
					}
				})
			}
			t.Run("serving/child", func(t *testing.T) {
				s := startServer(t, port, "run", "--profile", profile, "--", server, port, "plain")
				for _, call := range attackCalls {
					if got := s.ask(t, "child "+call); got != "child killed by signal 9\n" {
						t.Errorf("child %s: %q, want it killed by SIGKILL", call, got)
					}
					s.refused(t, call)
				}
				if got := s.ask(t, "fork"); got != "child exited 7\n" {
					t.Errorf("an ordinary child after the attacks: %q", got)
				}
				if code := s.stop(); code != 0 {
					t.Errorf("run exited %d:\n%s", code, s.out)
				}
			})
			t.Run("union", func(t *testing.T) {
				s := startServer(t, port, "run", "--phases", "off", "--profile", profile, "--", server, port, "plain")
				for _, call := range attackCalls {
					want := "child exited 0\n"
					if got := s.ask(t, "child "+call); got != want {
						t.Errorf("child %s without phases: %q, want %q", call, got, want)
					}
				}
				for _, call := range []string{"socket", "setuid"} {
					if got, want := s.ask(t, "attack "+call), call+" ok\n"; got != want {
						t.Errorf("attack %s without phases: %q, want %q", call, got, want)
					}
				}
				s.ask(t, "attack execve")
				if code, ok := s.wait(10 * time.Second); !ok || code != 42 {
					t.Errorf("attack execve without phases: run exited %d (ended: %v), want 42 (sh -c 'exit 42'):\n%s", code, ok, s.out)
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
	for _, call := range attackCalls {
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

// phaseServer is a testdata/phaseserver server under a sysrec command.
type phaseServer struct {
	*backgroundCmd
	addr string
}

// startServer runs sysrec with args, whose target is a phase server on
// port, and waits until it listens.
func startServer(t *testing.T, port string, args ...string) *phaseServer {
	t.Helper()
	s := &phaseServer{backgroundCmd: startBackground(t, args...), addr: net.JoinHostPort("127.0.0.1", port)}
	if !s.out.waitForUnless("listening", 20*time.Second, s.exited) {
		t.Fatalf("sysrec %s: the server did not come up:\n%s", strings.Join(args, " "), s.out)
	}
	return s
}

// ask sends one request on a connection of its own and returns the whole
// answer ("" when the server died before answering).
func (s *phaseServer) ask(t *testing.T, req string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
	if err != nil {
		t.Fatalf("%s: %v\n%s", req, err, s.out)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(c, "%s\n", req); err != nil {
		t.Fatalf("%s: %v", req, err)
	}
	b, err := io.ReadAll(c)
	if err != nil && !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("%s: %v\n%s", req, err, s.out)
	}
	return string(b)
}

// refused waits for run to say it killed a process for call in its
// serving phase.
func (s *phaseServer) refused(t *testing.T, call string) {
	t.Helper()
	if !s.out.waitFor("called "+call+" in its serving phase: killed", 10*time.Second) {
		t.Errorf("run did not name %s refused in the serving phase:\n%s", call, s.out)
	}
}
