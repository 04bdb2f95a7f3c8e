package recorder

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/sysrec/sysrec/bpfprog"
	"github.com/sysrec/sysrec/profiles"
)

// phasesOf sums the counts of the samples of name by phase, and their
// errnos.
func phasesOf(rec *Recording, name string) (map[profiles.Phase]uint64, map[profiles.Phase]map[uint16]uint64) {
	counts, errs := map[profiles.Phase]uint64{}, map[profiles.Phase]map[uint16]uint64{}
	for _, s := range rec.Samples {
		if s.Name != name || s.Arch != "" {
			continue
		}
		counts[s.Phase] += s.Count
		for e, n := range s.Errors {
			if errs[s.Phase] == nil {
				errs[s.Phase] = map[uint16]uint64{}
			}
			errs[s.Phase][e] += n
		}
	}
	return counts, errs
}

// TestPhases records target serve (testdata/target/serve.go: a server's
// way into serving, each step marked by a call of its own) under the
// default transition, under --serving-after getppid's, and without one:
// each marker call is counted once, in the phase of its process at its
// entry. Under the default rule a wait that may block before listen
// (the gate) and a wait with a zero timeout after it (not blocking)
// leave the process in init; the wait that may block after listen
// starts serving and is itself a serving call; a child forked before
// that (it waits in read meanwhile) stays in init, one forked after
// serves from its first call; the exec keeps the phase, by a thread
// other than the leader too (which replaces the leader). The errnos of
// a call go with the key it was counted in. Once every process of the
// target has died, none of them is left in the phases map.
func TestPhases(t *testing.T) {
	target := rootTarget(t)
	phases := keptPhases(t)

	const init, serving = profiles.PhaseInit, profiles.PhaseServing
	def := profiles.DefaultTransition()
	for _, tc := range []struct {
		name string
		tr   *profiles.Transition
		// the phase of each marker call of serve, in order
		want map[string]profiles.Phase
		// the phase of its first and second dup(-1)
		dups [2]profiles.Phase
	}{
		{"default", &def,
			map[string]profiles.Phase{"getsid": init, "getppid": init, "getpgid": init, "getgid": init, "getpriority": serving, "getuid": serving, "getegid": serving},
			[2]profiles.Phase{init, serving}},
		{"serving-after getppid", &profiles.Transition{After: []string{"getppid"}},
			map[string]profiles.Phase{"getsid": init, "getppid": serving, "getpgid": serving, "getgid": serving, "getpriority": serving, "getuid": serving, "getegid": serving},
			[2]profiles.Phase{init, serving}},
		{"off", nil,
			map[string]profiles.Phase{"getsid": "", "getppid": "", "getpgid": "", "getgid": "", "getpriority": "", "getuid": "", "getegid": ""},
			[2]profiles.Phase{"", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			rec := record(t, Options{Command: []string{target, "serve"}, Transition: tc.tr, Stdout: &out, Stderr: testWriter{t}})
			if rec.ExitStatus != 0 || !strings.Contains(out.String(), "served") {
				t.Fatalf("target exited %d: %s", rec.ExitStatus, out.String())
			}
			if (rec.Transition == nil) != (tc.tr == nil) || tc.tr != nil && !rec.Transition.Equal(*tc.tr) {
				t.Errorf("recording's transition %+v, want %+v", rec.Transition, tc.tr)
			}
			for name, want := range tc.want {
				if got, _ := phasesOf(rec, name); len(got) != 1 || got[want] != 1 {
					t.Errorf("%s: calls by phase %v, want one in %q", name, got, want)
				}
			}
			const ebadf = 9
			dups, errs := phasesOf(rec, "dup")
			wantDups := map[profiles.Phase]uint64{}
			for _, p := range tc.dups {
				wantDups[p]++
			}
			for p, n := range wantDups {
				if dups[p] != n || errs[p][ebadf] != n {
					t.Errorf("dup(-1) in %q: %d calls, errnos %v; want %d failing with EBADF (all: %v %v)", p, dups[p], errs[p], n, dups, errs)
				}
			}
			for _, s := range rec.Samples {
				if (tc.tr == nil) != (s.Phase == "") {
					t.Errorf("sample %s of %s in phase %q with transition %v", s.Name, s.Exe, s.Phase, tc.tr)
				}
			}
			if tc.tr == &def {
				// The wait that starts serving is a serving call; the two
				// before it are not.
				if waits, _ := phasesOf(rec, "epoll_pwait"); waits[init] < 2 || waits[serving] < 1 {
					t.Errorf("epoll_pwait by phase %v, want 2 in init at least, and the one that started serving", waits)
				}
			}
			var pids [3]uint32
			if _, err := fmt.Sscanf(out.String(), "serve %d %d %d", &pids[0], &pids[1], &pids[2]); err != nil {
				t.Fatalf("target said %q: %v", out.String(), err)
			}
			var tid, pid int
			if i := strings.Index(out.String(), "exec by thread"); i < 0 {
				t.Errorf("target did not say which thread exec'd: %q", out.String())
			} else if _, err := fmt.Sscanf(out.String()[i:], "exec by thread %d of %d", &tid, &pid); err != nil || tid == pid {
				t.Errorf("target said %q: the exec must be by a thread other than the leader", out.String()[i:])
			}
			for _, pid := range pids {
				var state uint32
				if err := phases.Lookup(pid, &state); !errors.Is(err, ebpf.ErrKeyNotExist) {
					t.Errorf("process %d died, its phase state is still there (%#x, %v)", pid, state, err)
				}
			}
		})
	}
}

// TestPhasesInFlight: a call's errno goes with the phase the call was
// counted in, at its entry, even when another thread of its process
// started serving while it ran: target serve-race's recvfrom blocks in
// init, the main thread starts serving, then the recvfrom fails with
// ECONNRESET.
func TestPhasesInFlight(t *testing.T) {
	target := rootTarget(t)
	def := profiles.DefaultTransition()
	var out bytes.Buffer
	rec := record(t, Options{Command: []string{target, "serve-race"}, Transition: &def, Stdout: &out, Stderr: testWriter{t}})
	const econnreset = 104
	if rec.ExitStatus != 0 || out.String() != fmt.Sprintf("recvfrom errno=%d\n", econnreset) {
		t.Fatalf("target exited %d: %q", rec.ExitStatus, out.String())
	}
	calls, errs := phasesOf(rec, "recvfrom")
	if calls[profiles.PhaseInit] != 1 || calls[profiles.PhaseServing] != 0 || errs[profiles.PhaseInit][econnreset] != 1 || len(errs[profiles.PhaseServing]) != 0 {
		t.Errorf("recvfrom by phase %v, errnos %v; want one in init, failing there with ECONNRESET", calls, errs)
	}
	if ppolls, _ := phasesOf(rec, "ppoll"); ppolls[profiles.PhaseServing] != 1 {
		t.Errorf("ppoll by phase %v: the process did not start serving at it", ppolls)
	}
}

// TestPhasesCompat: calls through another ABI (i386 int $0x80) never
// step their process's state. target i386 makes i386 dup(-1), whose
// number is x86_64 socket's, then (native) an x86_64 socket: with
// serving after socket, the i386 calls are init and the x86_64 socket
// starts serving.
func TestPhasesCompat(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("int $0x80 is an x86_64 test")
	}
	target := rootTarget(t)
	victim := filepath.Join(t.TempDir(), "victim")
	rec := record(t, Options{Command: []string{target, "i386", victim, "native"}, Transition: &profiles.Transition{After: []string{"socket"}}})
	if rec.ExitStatus != 0 {
		t.Fatalf("target exited %d", rec.ExitStatus)
	}
	i386 := 0
	for _, s := range rec.Samples {
		switch {
		case s.Arch == "i386":
			i386++
			if s.Phase != profiles.PhaseInit {
				t.Errorf("i386 %s in %q: it came before any native socket", s.Name, s.Phase)
			}
		case s.Name == "socket" && s.Phase != profiles.PhaseServing:
			t.Errorf("x86_64 socket in %q, want serving: it starts serving", s.Phase)
		}
	}
	if sockets, _ := phasesOf(rec, "socket"); i386 != 4 || sockets[profiles.PhaseServing] != 1 {
		t.Errorf("%d i386 samples, x86_64 socket by phase %v; want 4, and one socket in serving", i386, sockets)
	}
}

// TestPhasesStaleKey: a process forked by a parent that has no phase
// state starts with none, whatever a process of its pid left: an entry
// of a pid that is free (a process whose exit the program missed) must
// not make the next process of that pid serve. The child's pid is
// chosen with clone3's set_tid, and the entry checked while it lives
// (its exit would remove it anyway).
func TestPhasesStaleKey(t *testing.T) {
	target := rootTarget(t)
	phases := keptPhases(t)
	b, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err != nil {
		t.Fatal(err)
	}
	pidMax, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		pid := uint32(pidMax/2 + rand.Intn(pidMax/2))
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			continue
		}
		if err := phases.Put(pid, uint32(bpfprog.PhaseListened|bpfprog.PhaseServing)); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(target, "clone-pid", strconv.Itoa(int(pid)))
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = testWriter{t}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		if line == "" {
			stdin.Close()
			var ee *exec.ExitError
			if err := cmd.Wait(); errors.As(err, &ee) && ee.ExitCode() == 3 {
				phases.Delete(pid)
				continue // taken meanwhile
			}
			t.Fatalf("target clone-pid %d said nothing", pid)
		}
		var state uint32
		err = phases.Lookup(pid, &state)
		stdin.Close()
		if werr := cmd.Wait(); werr != nil {
			t.Errorf("target clone-pid: %v", werr)
		}
		if line != fmt.Sprintf("cloned %d\n", pid) {
			t.Fatalf("target said %q", line)
		}
		if !errors.Is(err, ebpf.ErrKeyNotExist) {
			phases.Delete(pid)
			t.Fatalf("process %d of an untracked parent has the state a dead one left: %#x (%v)", pid, state, err)
		}
		return
	}
	t.Fatal("no free pid found")
}

// TestPhasesMapFull: a process whose state cannot be stored (the phases
// map is full) is a loss the recording counts, never a silent one; it
// stays in init.
func TestPhasesMapFull(t *testing.T) {
	target := rootTarget(t)
	phases := keptPhases(t)
	// Keys no pid can have (above PID_MAX_LIMIT, 2^22).
	var fill []uint32
	for i := range phases.MaxEntries() {
		fill = append(fill, 1<<30+i)
	}
	defer func() {
		for _, k := range fill {
			if err := phases.Delete(k); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
				t.Errorf("empty the phases map: %v", err)
				return
			}
		}
	}()
	for _, k := range fill {
		if err := phases.Put(k, uint32(0)); err != nil {
			t.Fatalf("fill the phases map: %v", err)
		}
	}
	def := profiles.DefaultTransition()
	rec := record(t, Options{Command: []string{target, "serve"}, Transition: &def})
	if rec.ExitStatus != 0 {
		t.Fatalf("target exited %d", rec.ExitStatus)
	}
	if got, _ := phasesOf(rec, "getpriority"); rec.Lost == 0 || got[profiles.PhaseInit] != 1 {
		t.Errorf("with the phases map full: %d calls lost, getpriority by phase %v; want some lost, getpriority in init", rec.Lost, got)
	}
}

// keptPhases opens the shared object's phases map (through the maps of
// a program a session holds) and keeps it, and the owner, until the
// test ends, beyond the test's recordings.
func keptPhases(t *testing.T) *ebpf.Map {
	t.Helper()
	s, err := startSession(testCgroup(t), sessionOptions{maxKeys: 64})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.close(); err != nil {
			t.Error(err)
		}
	})
	m := phasesMap(t, s)
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	return m
}

// phasesMap opens the shared object's phases map, through the maps of
// a program the session holds.
func phasesMap(t *testing.T, s *session) *ebpf.Map {
	t.Helper()
	info, err := s.prog("sys_enter").Info()
	if err != nil {
		t.Fatal(err)
	}
	ids, ok := info.MapIDs()
	if !ok {
		t.Fatal("no map ids of sys_enter")
	}
	for _, id := range ids {
		m, err := ebpf.NewMapFromID(id)
		if err != nil {
			t.Fatal(err)
		}
		mi, err := m.Info()
		if err == nil && mi.Name == "phases" {
			return m
		}
		m.Close()
	}
	t.Fatal("sys_enter uses no map named phases")
	return nil
}
