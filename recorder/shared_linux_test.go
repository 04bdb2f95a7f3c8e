package recorder

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/bpfprog"
	"github.com/sysrec/sysrec/internal/testenv"
)

// attachedShared counts, by program name, the BPF links held by the
// processes of this test binary's owner instance (instanceEnv: the
// owner, which alone holds links, and the recorders), by link and
// program IDs; holders is how many processes hold them.
func attachedShared(t *testing.T) (links map[string]int, holders int) {
	t.Helper()
	want := instanceEnv + "=" + os.Getenv(instanceEnv)
	links = map[string]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if !slices.Contains(strings.Split(string(env), "\x00"), want) {
			continue
		}
		held := false
		infos, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fdinfo/*", pid))
		for _, f := range infos {
			b, _ := os.ReadFile(f)
			for _, line := range strings.Split(string(b), "\n") {
				v, ok := strings.CutPrefix(line, "link_id:")
				if !ok {
					continue
				}
				id, _ := strconv.Atoi(strings.TrimSpace(v))
				l, err := link.NewFromID(link.ID(id))
				if err != nil {
					continue // detached meanwhile
				}
				info, err := l.Info()
				l.Close()
				if err != nil {
					continue
				}
				p, err := ebpf.NewProgramFromID(ebpf.ProgramID(info.Program))
				if err != nil {
					continue
				}
				pi, err := p.Info()
				p.Close()
				if err == nil {
					links[pi.Name]++
					held = true
				}
			}
		}
		if held {
			holders++
		}
	}
	return links, holders
}

// wantAttached checks that exactly one program is attached to each
// tracepoint of a recording (those of file recording with files), held
// by one process, or none at all.
func wantAttached(t *testing.T, when string, recording, files bool) {
	t.Helper()
	links, holders := attachedShared(t)
	want := map[string]int{}
	if recording {
		for _, n := range names(coreAttachments(&bpfprog.Objects{})) {
			want[n] = 1
		}
		if files {
			for _, n := range names(fileAttachments(&bpfprog.Objects{})) {
				want[n] = 1
			}
		}
	}
	if !maps.Equal(links, want) || (recording && holders != 1) {
		t.Errorf("%s: links by program %v held by %d processes, want %v held by one", when, links, holders, want)
	}
}

// profileOf is what a recording says about its target, with nothing
// that differs between runs (durations): every sample's executable,
// call, recorded arguments, count and errnos, and every file and port.
func profileOf(rec *Recording) []string {
	var out []string
	for _, s := range rec.Samples {
		out = append(out, fmt.Sprintf("%s %s %v %v ×%d %v", s.Exe, s.Name, s.Args, s.Recorded, s.Count, s.Errors))
	}
	for _, f := range rec.Files {
		out = append(out, fmt.Sprintf("file %s %s %#x", f.Exe, procPID.ReplaceAllString(f.Path, "/proc/PID/"), f.Access))
	}
	for _, p := range rec.Ports {
		out = append(out, fmt.Sprintf("port %s %d %#x", p.Exe, p.Port, p.Access))
	}
	out = append(out, fmt.Sprintf("lost %d unresolved %d left %v", rec.Lost, rec.FilesUnresolved, rec.Left))
	slices.Sort(out)
	return out
}

// procPID is a process's own /proc directory, which differs per run.
var procPID = regexp.MustCompile(`^/proc/[0-9]+/`)

// stdinRecording is a recording of a command that reads its stdin
// until it is closed: started by start, ended by closing w.
type stdinRecording struct {
	w        io.WriteCloser
	attached chan struct{}
	done     chan struct{}
	rec      *Recording
	err      error
}

func startStdinRecording(t *testing.T, argv []string, files bool) *stdinRecording {
	t.Helper()
	return startStdinRecordingOpts(t, Options{Command: argv, Files: files})
}

func (s *stdinRecording) stop(t *testing.T) *Recording {
	t.Helper()
	s.w.Close()
	select {
	case <-s.done:
	case <-time.After(time.Minute):
		t.Fatal("recording did not end a minute after its target's stdin was closed")
	}
	if s.err != nil {
		t.Fatal(s.err)
	}
	return s.rec
}

// programs reading stdin until it closes: 8 different ones.
var stdinPrograms = [][]string{
	{"cat"}, {"sort"}, {"wc", "-l"}, {"tee", "/dev/null"}, {"grep", "-c", "x"}, {"od", "-c"}, {"sed", "s/a/b/"}, {"head", "-n", "5"},
}

// TestConcurrentRecordings starts and stops 8 recordings of different
// programs in a random overlapping order: each profile equals the same
// program's recording alone, and throughout exactly one program is
// attached per tracepoint, from one object; none once the last ends.
func TestConcurrentRecordings(t *testing.T) {
	testenv.RequireRoot(t)
	wantAttached(t, "before", false, false)
	solo := make([][]string, len(stdinPrograms))
	for i, argv := range stdinPrograms {
		solo[i] = profileOf(startStdinRecording(t, argv, true).stop(t))
		wantAttached(t, fmt.Sprintf("after %v alone", argv), false, false)
	}

	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewSource(seed))
	order := rnd.Perm(len(stdinPrograms))
	running := map[int]*stdinRecording{}
	got := make([][]string, len(stdinPrograms))
	var events []string
	for len(order) > 0 || len(running) > 0 {
		// Start the next, or stop one of those running; never none
		// running until every one has started.
		if len(order) > 0 && (len(running) < 2 || rnd.Intn(2) == 0) {
			i := order[0]
			order = order[1:]
			running[i] = startStdinRecording(t, stdinPrograms[i], true)
			events = append(events, fmt.Sprintf("+%s", stdinPrograms[i][0]))
		} else {
			ids := slices.Sorted(maps.Keys(running))
			i := ids[rnd.Intn(len(ids))]
			got[i] = profileOf(running[i].stop(t))
			delete(running, i)
			events = append(events, fmt.Sprintf("-%s", stdinPrograms[i][0]))
		}
		wantAttached(t, strings.Join(events, " "), len(running) > 0, true)
	}
	t.Logf("order: %s", strings.Join(events, " "))
	for i, argv := range stdinPrograms {
		if !slices.Equal(got[i], solo[i]) {
			t.Errorf("%v beside the others differs from its recording alone:\nbeside: %q\nalone:  %q", argv, got[i], solo[i])
		}
	}
}

// TestMaxKeysOwnLoss: a recording whose map is too small loses calls;
// the one beside it loses none and sees what it sees alone.
func TestMaxKeysOwnLoss(t *testing.T) {
	testenv.RequireRoot(t)
	sort := []string{"sort"}
	alone := profileOf(startStdinRecording(t, sort, false).stop(t))
	small := startStdinRecordingOpts(t, Options{Command: []string{"cat"}, MaxKeys: 4})
	beside := startStdinRecording(t, sort, false)
	got := profileOf(beside.stop(t))
	tiny := small.stop(t)
	if tiny.Lost == 0 {
		t.Error("a recording with a 4-key map lost nothing")
	}
	if !slices.Equal(got, alone) {
		t.Errorf("the recording beside a full one differs from its recording alone:\nbeside: %q\nalone:  %q", got, alone)
	}
}

// startStdinRecordingOpts starts recording opts.Command, its stdin a
// pipe, and returns once it is attached.
func startStdinRecordingOpts(t *testing.T, opts Options) *stdinRecording {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &stdinRecording{w: w, attached: make(chan struct{}), done: make(chan struct{})}
	opts.Stdin, opts.Stdout, opts.Stderr = r, io.Discard, testWriter{t}
	opts.Attached = func() { close(s.attached) }
	go func() {
		defer close(s.done)
		defer r.Close()
		s.rec, s.err = Record(context.Background(), opts)
	}()
	select {
	case <-s.attached:
	case <-s.done:
		t.Fatalf("record %v: %v", opts.Command, s.err)
	case <-time.After(time.Minute):
		t.Fatalf("record %v: not attached after a minute", opts.Command)
	}
	return s
}

// TestNestedRecordings: a recording of a cgroup and one of a cgroup
// inside it. A task counts for the innermost recording that contains
// it: the inner target's calls are the inner recording's only, a
// process in the outer cgroup itself is the outer's.
func TestNestedRecordings(t *testing.T) {
	target := rootTarget(t)
	outer := testCgroup(t)
	blocker := exec.Command("cat")
	stdin, err := blocker.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	startIn(t, outer, blocker)
	blocked := make(chan error, 1)
	go func() { blocked <- blocker.Wait() }()

	attached := make(chan struct{})
	type result struct {
		rec *Recording
		err error
	}
	outerDone := make(chan result, 1)
	go func() {
		rec, err := Record(context.Background(), Options{Cgroup: outer.path, Attached: func() { close(attached) }})
		outerDone <- result{rec, err}
	}()
	select {
	case <-attached:
	case r := <-outerDone:
		t.Fatalf("outer recording: %v", r.err)
	}
	inner := record(t, Options{Cgroup: filepath.Join(outer.path, "inner"), Command: []string{target, "loop", "1000"}})
	out, err := runIn(outer, target, "loop", "300")
	if err != nil {
		t.Fatalf("loop in the outer cgroup: %v\n%s", err, out)
	}
	stdin.Close()
	<-blocked
	r := <-outerDone
	if r.err != nil {
		t.Fatal(r.err)
	}
	if n := byName(inner, "target")["getppid"]; n != 1000 {
		t.Errorf("inner recording: %d getppid, want 1000", n)
	}
	if n := byName(r.rec, "target")["getppid"]; n != 300 {
		t.Errorf("outer recording: %d getppid, want the 300 of its own process, not the inner recording's 1000", n)
	}
	if n := byName(r.rec, "cat")["exit_group"]; n != 1 {
		t.Errorf("outer recording: %d exit_group of the cat in it, want 1", n)
	}
}

// runIn runs argv born in cg and waits for it.
func runIn(cg *cgroup, argv ...string) ([]byte, error) {
	fd, err := unix.Open(cg.path, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	return cmd.CombinedOutput()
}

// recordChild is this test binary run as a recorder of its own
// (SYSREC_TEST_RECORD names the command): it prints "attached" once
// registered, then the profile as JSON.
func recordChild(argv string) int {
	rec, err := Record(context.Background(), Options{Command: strings.Fields(argv), Stdin: os.Stdin, Stdout: io.Discard, Stderr: os.Stderr,
		Files: true, Attached: func() { fmt.Println("attached") }})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	json.NewEncoder(os.Stdout).Encode(profileOf(rec))
	return 0
}

// recorderProcess is one recordChild.
type recorderProcess struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *bufio.Reader
	stderr strings.Builder
}

func startRecorderProcess(t *testing.T, argv string) *recorderProcess {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := &recorderProcess{cmd: exec.Command(exe)}
	p.cmd.Env = append(os.Environ(), "SYSREC_TEST_RECORD="+argv)
	p.cmd.Stderr = &p.stderr
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.out = bufio.NewReader(out)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.kill)
	line, err := p.out.ReadString('\n')
	if line != "attached\n" {
		t.Fatalf("recorder process: %q %v\n%s", line, err, p.stderr.String())
	}
	return p
}

// kill kills the recorder with SIGKILL, then what it started, left in
// its cgroup (and holding its stderr), and waits for it.
func (p *recorderProcess) kill() {
	p.cmd.Process.Kill()
	if mount, err := CgroupMount(); err == nil {
		left, _ := filepath.Glob(filepath.Join(mount, fmt.Sprintf("sysrec-%d-*", p.cmd.Process.Pid)))
		for _, path := range left {
			cg := &cgroup{path: path, owned: true}
			cg.remove()
		}
	}
	p.cmd.Wait()
}

// end closes the recorder's target's stdin and returns its profile, or
// the error it exited with.
func (p *recorderProcess) end() ([]string, error) {
	p.stdin.Close()
	var prof []string
	derr := json.NewDecoder(p.out).Decode(&prof)
	if err := p.cmd.Wait(); err != nil {
		return nil, fmt.Errorf("%v: %s", err, p.stderr.String())
	}
	return prof, derr
}

// ownerPid finds the owner this test binary started: the process of the
// same executable with ownerEnv set.
func ownerPid(t *testing.T) int {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if x, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); x != exe {
			continue
		}
		env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if slices.Contains(strings.Split(string(env), "\x00"), ownerEnv+"=2") && slices.Contains(strings.Split(string(env), "\x00"), instanceEnv+"="+os.Getenv(instanceEnv)) {
			return pid
		}
	}
	t.Fatal("no recorder owner running")
	return 0
}

// waitExit waits for pid, not a child of ours, to exit.
func waitExit(t *testing.T, pidfd int) {
	t.Helper()
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, int(time.Minute/time.Millisecond))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n == 0 {
			t.Fatalf("waiting for exit: %d %v", n, err)
		}
		return
	}
}

// TestKillParticipant kills, with SIGKILL, each participant of shared
// recordings in turn (three recorder processes and the owner the first
// one started): nothing stays attached. A killed recorder's
// registration goes with it and the others' recordings are whole; a
// killed owner detaches everything at once and the recordings end with
// an error, never with a silently partial profile.
func TestKillParticipant(t *testing.T) {
	testenv.RequireRoot(t)
	solo := profileOf(startStdinRecording(t, []string{"cat"}, true).stop(t))
	for _, victim := range []string{"owner", "first recorder", "second recorder"} {
		t.Run(victim, func(t *testing.T) {
			wantAttached(t, "before", false, false)
			var procs []*recorderProcess
			for range 3 {
				procs = append(procs, startRecorderProcess(t, "cat"))
			}
			wantAttached(t, "3 recorders", true, true)
			owner := ownerPid(t)
			pidfd, err := unix.PidfdOpen(owner, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(pidfd)
			switch victim {
			case "owner":
				if err := unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0); err != nil {
					t.Fatal(err)
				}
				waitExit(t, pidfd)
				wantAttached(t, "owner killed", false, false)
				for i, p := range procs {
					if _, err := p.end(); err == nil || !strings.Contains(err.Error(), "owner") {
						t.Errorf("recorder %d after its owner was killed: %v, want an error naming the owner", i, err)
					}
				}
				return
			case "first recorder":
				procs[0].kill()
				procs = procs[1:]
			case "second recorder":
				procs[1].kill()
				procs = append(procs[:1], procs[2:]...)
			}
			wantAttached(t, victim+" killed", true, true)
			for i, p := range procs {
				prof, err := p.end()
				if err != nil {
					t.Fatalf("recorder %d: %v", i, err)
				}
				if !slices.Equal(prof, solo) {
					t.Errorf("recorder %d beside a killed one:\n%q\nalone:\n%q", i, prof, solo)
				}
			}
			// The last recorder out waited for the owner to exit.
			waitExit(t, pidfd)
			wantAttached(t, "all ended", false, false)
		})
	}
}

// dialChild is this test binary run as another user
// (SYSREC_TEST_DIAL=connect|squat): connect asks the owner for its maps
// and prints what it got; squat takes the owner's socket name first and
// waits on stdin.
func dialChild(mode string) int {
	addr := &net.UnixAddr{Name: ownerSocket(), Net: "unixpacket"}
	if mode == "squat" {
		ln, err := net.ListenUnix("unixpacket", addr)
		if err != nil {
			fmt.Println(err)
			return 1
		}
		defer ln.Close()
		fmt.Println("listening")
		io.Copy(io.Discard, os.Stdin)
		return 0
	}
	conn, err := net.DialUnix("unixpacket", nil, addr)
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer conn.Close()
	m, fds, err := recv(conn)
	closeFDs(fds)
	if err != nil {
		fmt.Println("refused:", err)
		return 0
	}
	fmt.Printf("got %s with %d descriptors\n", m.Op, len(fds))
	return 0
}

// asNobody runs this test binary as uid/gid 65534 in dialChild mode,
// from a copy that user may run (go test builds it in a directory only
// root may enter).
func asNobody(t *testing.T, mode string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "sysrec-nobody")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	exe = filepath.Join(dir, "recorder.test")
	if err := os.WriteFile(exe, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), "SYSREC_TEST_DIAL="+mode)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	return cmd
}

// TestOwnerRefusesOtherUsers: another user connects to the owner of
// running recordings to take the shared maps and programs (and read
// what every recording counts): the owner closes the connection
// without a word.
func TestOwnerRefusesOtherUsers(t *testing.T) {
	testenv.RequireRoot(t)
	running := startStdinRecording(t, []string{"cat"}, false)
	defer running.stop(t)
	out, err := asNobody(t, "connect").CombinedOutput()
	if err != nil {
		t.Fatalf("connect as nobody: %v\n%s", err, out)
	}
	if !strings.HasPrefix(string(out), "refused:") {
		t.Errorf("another user connecting to the owner: %q, want refused", out)
	}
}

// TestOwnerSquatted: another user takes the owner's socket name before
// any recording runs, to hand root's recorders maps of its own: the
// recording refuses the socket's holder and fails, saying who holds it.
func TestOwnerSquatted(t *testing.T) {
	testenv.RequireRoot(t)
	wantAttached(t, "before", false, false)
	squat := asNobody(t, "squat")
	stdin, err := squat.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := squat.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := squat.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); squat.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if line != "listening\n" {
		t.Fatalf("squatter: %q %v", line, err)
	}
	_, err = Record(context.Background(), Options{Command: []string{"true"}})
	if err == nil || !strings.Contains(err.Error(), "held by uid 65534") {
		t.Errorf("recording with the owner's socket squatted: %v, want an error naming uid 65534", err)
	}
}
