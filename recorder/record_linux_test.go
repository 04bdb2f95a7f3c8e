package recorder

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/internal/testtarget"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// TestMain checks that recordings leave no cgroup, fd, BPF map or link
// behind.
func TestMain(m *testing.M) {
	if os.Getenv("SYSREC_NS_CHILD") == "1" {
		os.Exit(namespaceChild())
	}
	if argv := os.Getenv("SYSREC_TEST_RECORD"); argv != "" {
		os.Exit(recordChild(argv))
	}
	if mode := os.Getenv("SYSREC_TEST_DIAL"); mode != "" {
		os.Exit(dialChild(mode))
	}
	// This binary's recordings (and the recorder processes it starts)
	// share an owner of their own.
	if os.Getenv(instanceEnv) == "" {
		os.Setenv(instanceEnv, fmt.Sprintf("test-%d", os.Getpid()))
	}
	fds := openFDs()
	code := testtarget.Run(m)
	// The lock of this binary's owner, gone by now (the last recording
	// out waited for it).
	os.Remove(ownerLock())
	if after := openFDs(); after > fds {
		fmt.Fprintf(os.Stderr, "leaked %d file descriptors\n", after-fds)
		code = 1
	}
	if mount, err := CgroupMount(); err == nil {
		left, _ := filepath.Glob(filepath.Join(mount, fmt.Sprintf("sysrec-%d-*", os.Getpid())))
		if len(left) > 0 {
			fmt.Fprintf(os.Stderr, "leaked cgroups: %v\n", left)
			code = 1
		}
	}
	os.Exit(code)
}

func openFDs() int {
	entries, _ := os.ReadDir("/proc/self/fd")
	return len(entries)
}

// rootTarget skips (or fails) unless the test runs as root, then
// returns the test target: as another user, building it is not even
// tried.
func rootTarget(t *testing.T) string {
	t.Helper()
	testenv.RequireRoot(t)
	return testtarget.Path(t)
}

// record records opts. Call it from the test's goroutine only: it may
// end the test.
func record(t *testing.T, opts Options) *Recording {
	t.Helper()
	testenv.RequireRoot(t)
	if opts.Stdout == nil {
		opts.Stdout = testWriter{t}
		opts.Stderr = testWriter{t}
	}
	rec, err := Record(context.Background(), opts)
	if err != nil {
		t.Fatalf("Record: %v", err)
	}
	return rec
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) { w.t.Logf("%s", b); return len(b), nil }

// byName sums the counts of samples by syscall name, for samples of exe.
func byName(rec *Recording, exe string) map[string]uint64 {
	m := map[string]uint64{}
	for _, s := range rec.Samples {
		if exe == "" || s.Exe == exe {
			m[s.Name] += s.Count
		}
	}
	return m
}

// busyLoop runs getppid in a loop outside any recorded cgroup until the
// returned stop is called.
func busyLoop(t *testing.T, target string) (stop func()) {
	cmd := exec.Command(target, "loop", "1000000000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return func() { cmd.Process.Kill(); cmd.Wait() }
}

// TestMatchesStrace records a multi-threaded, forking target under
// strace -f in the same run: every syscall the target made must be
// counted exactly as often as strace counted it, and nothing from a busy
// process beside it may appear.
func TestMatchesStrace(t *testing.T) {
	target := rootTarget(t)
	strace := testenv.RequireTool(t, "strace")
	stop := busyLoop(t, target)
	defer stop()

	out := filepath.Join(t.TempDir(), "strace.txt")
	rec := record(t, Options{Command: []string{strace, "-f", "-qq", "-o", out, target, "tree", "200"}})
	if rec.ExitStatus != 0 || rec.Lost != 0 {
		t.Fatalf("exit %d, lost %d", rec.ExitStatus, rec.Lost)
	}
	want := parseStrace(t, out)
	got := byName(rec, "target")
	for name := range mergeKeys(want.calls, want.unsure) {
		if n := got[name]; n < want.calls[name] || n > want.calls[name]+want.unsure[name] {
			t.Errorf("%s: recorded %d calls, strace saw %d (+%d unfinished at exit)", name, n, want.calls[name], want.unsure[name])
		}
	}
	for name, n := range got {
		if want.calls[name]+want.unsure[name] == 0 {
			t.Errorf("%s: recorded %d calls that strace did not see", name, n)
		}
	}
	gotErrs := map[string]uint64{}
	for _, s := range rec.Samples {
		if s.Exe == "target" {
			for errno, n := range s.Errors {
				// A tracee killed in its syscall-entry stop skips the call:
				// sys_exit fires with -ENOSYS for a call that never entered.
				// Only tracers cause it, and the target makes no ENOSYS call.
				if errno != uint16(unix.ENOSYS) {
					gotErrs[s.Name] += n
				}
			}
		}
	}
	// A call that failed while its process was being killed shows as
	// "= ?" in strace (no exit stop for a dying tracee) but did fail.
	for name := range mergeKeys(want.errors, gotErrs) {
		if n := gotErrs[name]; n < want.errors[name] || n > want.errors[name]+want.unsure[name] {
			t.Errorf("%s: recorded %d failures, strace saw %d (+%d calls unfinished at exit)", name, n, want.errors[name], want.unsure[name])
		}
	}
	if got["getcwd"] != 5*200 {
		t.Errorf("getcwd: %d calls, want 1000 (4 threads and a child, 200 each)", got["getcwd"])
	}
	if all := byName(rec, ""); all["getppid"] != 0 {
		t.Errorf("recorded %d getppid calls of an unrelated process", all["getppid"])
	}
}

var (
	straceCall    = regexp.MustCompile(`^(\d+)\s+([a-z0-9_]+)\(`)
	straceResumed = regexp.MustCompile(`^(\d+)\s+<\.\.\. ([a-z0-9_]+) resumed>`)
	straceFailed  = regexp.MustCompile(`\) += -1 E[A-Z0-9]+ `)
)

// straceCounts is what strace -f saw of each syscall.
type straceCounts struct {
	calls  map[string]uint64 // calls that returned or are known to have run
	errors map[string]uint64
	// unsure counts calls strace printed as unfinished that never
	// returned: at exit_group, a thread stopped at syscall entry by
	// ptrace dies before the call runs (no sys_enter), while a thread
	// blocked inside futex dies the same way but did enter. strace shows
	// both alike.
	unsure map[string]uint64
}

// parseStrace counts calls and failures per syscall in strace -f output.
// It counts entries, not returns as strace -c does, so exit_group and
// calls still blocked when the process exits are included, as they are
// in the recording.
func parseStrace(t *testing.T, path string) straceCounts {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := straceCounts{map[string]uint64{}, map[string]uint64{}, map[string]uint64{}}
	unfinished := map[string]string{} // pid -> syscall
	for _, line := range strings.Split(string(b), "\n") {
		name := ""
		if m := straceCall.FindStringSubmatch(line); m != nil {
			name = m[2]
			switch {
			case strings.HasSuffix(line, "<unfinished ...>"):
				unfinished[m[1]] = name
			case strings.HasSuffix(line, "= ?"):
				// Unfinished at exit, printed on one line ("...) = ?" or
				// "<unfinished ...>) = ?"): a thread killed by another's
				// exit_group while stopped at syscall entry never runs
				// the call (the kernel skips it, sys_exit sees -ENOSYS),
				// one killed inside a blocking call did run it. Under
				// load this caught 1 run in ~60 of TestMatchesStrace.
				c.unsure[name]++
			case strings.HasSuffix(line, "<detached ...>"):
				// A thread other than the leader exec'd: strace prints
				// the execve for that thread and again, resumed, for the
				// leader whose pid the process keeps. One call.
				c.unsure[name]++
			default:
				c.calls[name]++
			}
		} else if m := straceResumed.FindStringSubmatch(line); m != nil {
			name = m[2]
			delete(unfinished, m[1])
			if strings.HasSuffix(line, "= ?") {
				c.unsure[name]++ // ended by exit_group: maybe before it ran
			} else {
				c.calls[name]++
			}
		}
		if name != "" && straceFailed.MatchString(line) {
			c.errors[name]++
		}
	}
	for _, name := range unfinished {
		c.unsure[name]++
	}
	if len(c.calls) == 0 {
		t.Fatal("strace saw nothing")
	}
	return c
}

func mergeKeys(ms ...map[string]uint64) map[string]bool {
	keys := map[string]bool{}
	for _, m := range ms {
		for k := range m {
			keys[k] = true
		}
	}
	return keys
}

// TestArgs checks the recorded argument values of calls with known
// arguments, masked as the table says (SOCK_CLOEXEC dropped).
func TestArgs(t *testing.T) {
	target := rootTarget(t)
	rec := record(t, Options{Command: []string{target, "args"}})
	type call struct {
		name string
		args [6]uint64
	}
	seen := map[call]bool{}
	for _, s := range rec.Samples {
		seen[call{s.Name, s.Args}] = true
	}
	for _, c := range []call{
		{"socket", [6]uint64{unix.AF_INET, unix.SOCK_STREAM}},
		{"socket", [6]uint64{unix.AF_UNIX, unix.SOCK_DGRAM}},
		{"mmap", [6]uint64{2: unix.PROT_READ, 3: unix.MAP_PRIVATE | unix.MAP_ANONYMOUS}},
		{"ioctl", [6]uint64{1: unix.TIOCINQ}}, // FIONREAD,
		{"fcntl", [6]uint64{1: unix.F_GETFL}},
	} {
		if !seen[c] {
			t.Errorf("no sample %s%v", c.name, c.args)
		}
	}
	for _, s := range rec.Samples {
		if s.Name == "socket" && s.Args[1]&unix.SOCK_CLOEXEC != 0 {
			t.Errorf("socket type %#x keeps SOCK_CLOEXEC, which the table masks", s.Args[1])
		}
	}
}

// TestArgsMatchStrace compares the recorded argument values with what
// strace decodes (raw, numeric) from the same run: every (syscall,
// masked arguments) tuple with the same count.
func TestArgsMatchStrace(t *testing.T) {
	target := rootTarget(t)
	strace := testenv.RequireTool(t, "strace")
	names := []string{"socket", "mmap", "ioctl", "fcntl", "openat", "futex"}
	out := filepath.Join(t.TempDir(), "strace.txt")
	rec := record(t, Options{Command: []string{strace, "-f", "-qq", "-e", "trace=" + strings.Join(names, ","), "-e", "raw=all", "-o", out, target, "args"}})
	if rec.ExitStatus != 0 || rec.Lost != 0 {
		t.Fatalf("exit %d, lost %d", rec.ExitStatus, rec.Lost)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`^\d+\s+([a-z0-9_]+)\(([^)]*)`)
	want, unsure := map[string]uint64{}, map[string]uint64{}
	for _, l := range strings.Split(string(b), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		var args [6]uint64
		for i, a := range strings.Split(m[2], ", ") {
			if i < 6 {
				args[i], _ = strconv.ParseUint(strings.TrimSpace(a), 0, 64)
			}
		}
		key := tuple(m[1], args)
		if strings.HasSuffix(l, "<unfinished ...>") {
			unsure[key]++ // may have been killed at entry (see parseStrace)
		} else {
			want[key]++
		}
	}
	got := map[string]uint64{}
	for _, s := range rec.Samples {
		if s.Exe == "target" && slices.Contains(names, s.Name) {
			got[tuple(s.Name, s.Args)] += s.Count
		}
	}
	for k := range mergeKeys(want, got, unsure) {
		if got[k] < want[k] || got[k] > want[k]+unsure[k] {
			t.Errorf("%s: recorded %d, strace saw %d (+%d unfinished)", k, got[k], want[k], unsure[k])
		}
	}
	if len(want) < 5 {
		t.Errorf("strace saw only %v", want)
	}
}

// tuple is name(masked recorded args) as the recorder keys it.
func tuple(name string, args [6]uint64) string {
	var parts []string
	for _, spec := range linuxabi.RecordedArgs(name) {
		parts = append(parts, fmt.Sprintf("%#x", args[spec.Index]&spec.Mask()))
	}
	return name + "(" + strings.Join(parts, ", ") + ")"
}

// TestConcurrent runs two recordings at once: neither sees the other.
func TestConcurrent(t *testing.T) {
	target := rootTarget(t)
	commands := [][]string{{target, "tree", "100"}, {target, "loop", "100000"}}
	recs := make([]*Recording, len(commands))
	var wg sync.WaitGroup
	for i, c := range commands {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Not record: t.Fatal must not be called from a goroutine.
			rec, err := Record(context.Background(), Options{Command: c, Stdout: testWriter{t}, Stderr: testWriter{t}})
			if err != nil {
				t.Errorf("Record %v: %v", c, err)
			}
			recs[i] = rec
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	a, b := recs[0], recs[1]
	if n := byName(a, "")["getppid"]; n != 0 {
		t.Errorf("tree recording saw %d getppid calls of the loop recording", n)
	}
	if n := byName(b, "")["getcwd"]; n != 0 {
		t.Errorf("loop recording saw %d getcwd calls of the tree recording", n)
	}
	if n := byName(b, "")["getppid"]; n != 100000 {
		t.Errorf("loop recording: %d getppid calls, want 100000", n)
	}
}

// TestChildCgroup: a target that moves into a child cgroup of its own
// (as container runtimes do) is still recorded.
func TestChildCgroup(t *testing.T) {
	target := rootTarget(t)
	mount, err := CgroupMount()
	if err != nil {
		t.Fatal(err)
	}
	script := `cg=$CGMOUNT$(sed -n 's/^0:://p' /proc/self/cgroup) && mkdir "$cg/inner" && echo $$ > "$cg/inner/cgroup.procs" && exec "$TARGET" stray`
	rec := record(t, Options{
		Command: []string{"/bin/sh", "-c", script},
		Env:     append(os.Environ(), "CGMOUNT="+mount, "TARGET="+target),
	})
	if rec.ExitStatus != 0 {
		t.Fatalf("exit status %d", rec.ExitStatus)
	}
	if n := byName(rec, "target")["getpriority"]; n != 1 {
		t.Errorf("getpriority in the child cgroup: %d calls, want 1", n)
	}
	if len(rec.Left) != 0 {
		t.Errorf("a move within the recorded subtree counted as leaving it: %v", rec.Left)
	}
}

// startInCgroup starts the target in a cgroup of its own, outside
// Record, and waits until it says it is ready. It returns the target's
// stdin and cgroup, and a channel closed when the target has exited and
// been reaped.
func startInCgroup(t *testing.T, args ...string) (stdin io.WriteCloser, cg *cgroup, pid int, exited <-chan struct{}) {
	target := rootTarget(t)
	cg = testCgroup(t)
	cmd := exec.Command(target, args...)
	out := newReadyWriter(t)
	cmd.Stdout, cmd.Stderr = out, testWriter{t}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	startIn(t, cg, cmd)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })
	waitReady(t, out)
	return stdin, cg, cmd.Process.Pid, done
}

// testCgroup makes a cgroup of the test's own, removed when it ends.
func testCgroup(t *testing.T) *cgroup {
	t.Helper()
	mount, err := CgroupMount()
	if err != nil {
		t.Fatal(err)
	}
	cg, err := newCgroup(mount)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cg.remove() })
	return cg
}

// startIn starts cmd born inside cg (clone3 CLONE_INTO_CGROUP).
func startIn(t *testing.T, cg *cgroup, cmd *exec.Cmd) {
	t.Helper()
	fd, err := unix.Open(cg.path, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	cmd.SysProcAttr = cgroupAttr(fd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
}

// readyWriter logs what a target writes and closes ready when it has
// written the line "ready".
type readyWriter struct {
	t     *testing.T
	mu    sync.Mutex
	buf   []byte
	ready chan struct{}
}

func newReadyWriter(t *testing.T) *readyWriter {
	return &readyWriter{t: t, ready: make(chan struct{})}
}

func (w *readyWriter) Write(b []byte) (int, error) {
	w.t.Logf("%s", b)
	w.mu.Lock()
	defer w.mu.Unlock()
	seen := bytes.Contains(w.buf, []byte("ready\n"))
	w.buf = append(w.buf, b...)
	if !seen && bytes.Contains(w.buf, []byte("ready\n")) {
		close(w.ready)
	}
	return len(b), nil
}

// readyTimeout bounds every wait for a target's event: far beyond what
// a loaded machine needs, short of the test binary's own timeout.
const readyTimeout = 2 * time.Minute

// waitReady waits for the target to say "ready". Call it from the test's
// goroutine.
func waitReady(t *testing.T, w *readyWriter) {
	t.Helper()
	select {
	case <-w.ready:
	case <-time.After(readyTimeout):
		t.Fatalf("the target did not say ready within %s", readyTimeout)
	}
}

// cancelWhenReady cancels the recording once the target has said "ready"
// and returns when it did.
func cancelWhenReady(t *testing.T, w *readyWriter, cancel context.CancelFunc) (cancelled <-chan time.Time) {
	c := make(chan time.Time, 1)
	go func() {
		select {
		case <-w.ready:
		case <-time.After(readyTimeout):
			t.Errorf("the target did not say ready within %s", readyTimeout)
		}
		c <- time.Now()
		cancel()
	}()
	return c
}

// TestFollow records a running process by pid and by cgroup path: the
// calls it makes after the recording starts are seen.
func TestFollow(t *testing.T) {
	for _, by := range []string{"pid", "cgroup"} {
		t.Run(by, func(t *testing.T) {
			// The waiter blocks until its stdin closes, then calls getppid once.
			stdin, cg, pid, _ := startInCgroup(t, "waiter", "1")
			opts := Options{ProgressInterval: 10 * time.Millisecond}
			if by == "pid" {
				opts.PID = pid
			} else {
				opts.Cgroup = cg.path
			}
			// Progress runs once the programs are attached: then wake
			// the waiter. Record ends when its cgroup empties.
			var once sync.Once
			opts.Progress = func(Progress) { once.Do(func() { stdin.Close() }) }
			rec := record(t, opts)
			if n := byName(rec, "target")["getppid"]; n != 1 {
				t.Errorf("getppid of the followed process: %d calls, want 1: %v", n, byName(rec, ""))
			}
			if rec.ExitStatus != -1 {
				t.Errorf("exit status %d for a process sysrec did not start, want -1", rec.ExitStatus)
			}
		})
	}
}

// TestStop: cancelling the context (Ctrl-C) stops a long target and
// still returns what was recorded.
func TestStop(t *testing.T) {
	target := rootTarget(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := newReadyWriter(t)
	cancelWhenReady(t, out, cancel)
	rec, err := Record(ctx, Options{Command: []string{target, "block"}, Stdout: out, Stderr: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	if rec.ExitStatus != 128+int(unix.SIGTERM) {
		t.Errorf("exit status %d, want %d (SIGTERM)", rec.ExitStatus, 128+int(unix.SIGTERM))
	}
	// Two: the target re-execs itself once to quieten its runtime.
	if byName(rec, "target")["execve"] != 2 {
		t.Errorf("recording of the stopped target lacks its execs: %v", byName(rec, ""))
	}
}

// TestStopIgnoringTerm: a target that ignores SIGTERM is killed when the
// grace period (StopTimeout) is over, and the recording is returned.
func TestStopIgnoringTerm(t *testing.T) {
	target := rootTarget(t)
	const grace = 300 * time.Millisecond
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		out := newReadyWriter(t)
		cancelled := cancelWhenReady(t, out, cancel)
		rec, err := Record(ctx, Options{Command: []string{target, "ignore-term"}, Stdout: out, Stderr: testWriter{t}, StopTimeout: grace})
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(<-cancelled); d < grace {
			t.Errorf("killed %s after the stop, before the %s grace period was over", d, grace)
		}
		checkKilled(t, rec)
	})
	t.Run("duration", func(t *testing.T) {
		// Duration stops at a time, not on an event: the target must
		// have said ready (ignoring SIGTERM) before it, or this run says
		// nothing about ignoring targets.
		const d = 2 * time.Second
		out := newReadyWriter(t)
		start := time.Now()
		readyAt := make(chan time.Time, 1)
		go func() {
			select {
			case <-out.ready:
				readyAt <- time.Now()
			case <-time.After(readyTimeout):
			}
		}()
		rec, err := Record(context.Background(), Options{Command: []string{target, "ignore-term"}, Stdout: out, Stderr: testWriter{t}, StopTimeout: grace, Duration: d})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-out.ready:
			if at := <-readyAt; at.Sub(start) >= d {
				t.Skipf("the target was ready only %s after the start, after the %s duration (machine too loaded)", at.Sub(start), d)
			}
		default:
			t.Skipf("the target never said ready within the %s duration (machine too loaded): exit status %d", d, rec.ExitStatus)
		}
		if e := time.Since(start); e < d+grace {
			t.Errorf("recording returned after %s, before the duration %s and grace period %s were over", e, d, grace)
		}
		checkKilled(t, rec)
	})
}

func checkKilled(t *testing.T, rec *Recording) {
	t.Helper()
	if rec.ExitStatus != 128+int(unix.SIGKILL) {
		t.Errorf("exit status %d, want %d (SIGKILL)", rec.ExitStatus, 128+int(unix.SIGKILL))
	}
	if byName(rec, "target")["execve"] != 2 {
		t.Errorf("recording of the killed target lacks its execs: %v", byName(rec, ""))
	}
	if rec.Duration <= 0 {
		t.Errorf("recording duration %s", rec.Duration)
	}
}

// TestMapFull forces a tiny map: the calls that did not fit are counted.
// Calls without recorded arguments are counted in the calls array, not
// the map.
func TestMapFull(t *testing.T) {
	rec := record(t, Options{Command: []string{rootTarget(t), "args"}, MaxKeys: 4})
	withArgs := 0
	for _, s := range rec.Samples {
		if slices.Contains(s.Recorded[:], true) {
			withArgs++
		}
	}
	if withArgs > 4 || withArgs == 0 {
		t.Errorf("%d samples with recorded arguments in a 4-key map", withArgs)
	}
	if rec.Lost == 0 {
		t.Error("map of 4 keys overflowed without a lost count")
	}
}

// TestLauncher: by default the Go launcher's pre-exec calls are not
// charged; with IncludeLauncher they are.
func TestLauncher(t *testing.T) {
	target := rootTarget(t)
	without := record(t, Options{Command: []string{target, "normal"}})
	with := record(t, Options{Command: []string{target, "normal"}, IncludeLauncher: true})
	var launcher uint64
	for _, s := range with.Samples {
		if s.Exe != "target" {
			launcher += s.Count
		}
	}
	if launcher == 0 {
		t.Error("IncludeLauncher recorded no pre-exec calls")
	}
	for _, s := range without.Samples {
		if s.Exe != "target" {
			t.Errorf("pre-exec call %s by %q charged without IncludeLauncher", s.Name, s.Exe)
		}
	}
	if n := byName(without, "target")["execve"]; n != 2 {
		t.Errorf("execve counted %d times, want 2 (sysrec's exec of the target, its re-exec of itself)", n)
	}
}

// TestRootCgroupRefused: a pid in the root cgroup would mean recording
// the whole host.
func TestRootCgroupRefused(t *testing.T) {
	target := rootTarget(t)
	cmd := exec.Command(target, "block")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	mount, _ := CgroupMount()
	if err := os.WriteFile(filepath.Join(mount, "cgroup.procs"), []byte(strconv.Itoa(cmd.Process.Pid)), 0); err != nil {
		t.Fatal(err)
	}
	_, err := Record(context.Background(), Options{PID: cmd.Process.Pid})
	if err == nil || !strings.Contains(err.Error(), "root cgroup") {
		t.Errorf("Record of a pid in the root cgroup: %v", err)
	}
}

// namespaceChild records the target from inside a cgroup namespace.
func namespaceChild() int {
	rec, err := Record(context.Background(), Options{Command: []string{os.Getenv("TARGET"), "stray"}})
	if err != nil {
		fmt.Println(err)
		return 1
	}
	fmt.Printf("getpriority=%d\n", byName(rec, "target")["getpriority"])
	return 0
}

// TestCgroupNamespace records from inside a private cgroup namespace
// with cgroup2 mounted at its root, as in a container: the depth seen
// there is relative, and the BPF program must find the real one.
func TestCgroupNamespace(t *testing.T) {
	testenv.RequireRoot(t)
	unshare := testenv.RequireTool(t, "unshare")
	mount, err := CgroupMount()
	if err != nil {
		t.Fatal(err)
	}
	outer, err := newCgroup(mount)
	if err != nil {
		t.Fatal(err)
	}
	defer outer.remove()
	fd, err := unix.Open(outer.path, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	script := `mount --make-rprivate / && umount "$0" && mount -t cgroup2 none "$0" && exec "$@"`
	cmd := exec.Command(unshare, "-C", "-m", "sh", "-c", script, mount, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SYSREC_NS_CHILD=1", "TARGET="+rootTarget(t))
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "getpriority=1") {
		t.Fatalf("recording inside a cgroup namespace: %v\n%s", err, out)
	}
}

func TestNoTarget(t *testing.T) {
	if _, err := Record(context.Background(), Options{}); err != ErrNoTarget {
		t.Errorf("Record with no target: %v, want ErrNoTarget", err)
	}
}

// TestHeavyLoad records a target that starts thousands of short-lived
// processes, orphans and threads while busy processes run beside it:
// every getppid call the target knows it made is counted, under the
// executable that made it, and nothing is lost.
//
// SYSREC_TEST_FORKS=20000 outnumbers the 16384 entries of the LRU map
// that once held each process's exe (it evicted the idle waiter, whose
// calls went to its parent's exe); the default keeps the suite fast and
// still catches orphans, whose calls that map silently dropped.
func TestHeavyLoad(t *testing.T) {
	target := rootTarget(t)
	for range 3 {
		stop := busyLoop(t, target)
		defer stop()
	}
	forks, threads, orphans, calls := 3000, 300, 100, 10
	if testing.Short() {
		forks, threads, orphans = 500, 50, 20
	}
	if n, err := strconv.Atoi(os.Getenv("SYSREC_TEST_FORKS")); err == nil {
		forks = n
	}
	var out strings.Builder
	rec := record(t, Options{
		Command: []string{target, "storm", strconv.Itoa(forks), strconv.Itoa(threads), strconv.Itoa(orphans), strconv.Itoa(calls)},
		Stdout:  &out,
		Stderr:  testWriter{t},
	})
	var made, waited uint64
	if _, err := fmt.Sscanf(out.String(), "storm target=%d exe=%d", &made, &waited); err != nil || rec.ExitStatus != 0 {
		t.Fatalf("target: exit %d, output %q", rec.ExitStatus, out.String())
	}
	if want := uint64((forks + threads + orphans) * calls); made != want {
		t.Fatalf("target says it made %d getppid calls, want %d", made, want)
	}
	t.Logf("%d processes, %d orphans, %d threads: %d getppid calls", forks, orphans, threads, made)
	if rec.Lost != 0 {
		t.Errorf("lost %d", rec.Lost)
	}
	if got := byName(rec, "target")["getppid"]; got != made {
		t.Errorf("getppid by target: recorded %d, the target made %d", got, made)
	}
	if got := byName(rec, "exe")["getppid"]; got != waited {
		t.Errorf("getppid by the waiter (exe): recorded %d, it made %d", got, waited)
	}
	if got, want := byName(rec, "")["getppid"], made+waited; got != want {
		t.Errorf("getppid by anyone: recorded %d, want %d (the busy processes beside it are not recorded)", got, want)
	}
}

// TestManyExes: 70 executables, more than the calls array has slots
// for, each making 100+i getppid calls; the first 64 are counted in the
// array, the rest in the hash map, and every count is exact. Between
// them the shell runs, so every CPU's last-task entry keeps changing.
func TestManyExes(t *testing.T) {
	target := rootTarget(t)
	dir := t.TempDir()
	var script strings.Builder
	for i := range 70 {
		name := fmt.Sprintf("exe%02d", i)
		// Hard links: the target re-execs itself as os.Executable,
		// which resolves a symlink to "target".
		if err := os.Link(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&script, "%s/%s loop %d\n", dir, name, 100+i)
	}
	rec := record(t, Options{Command: []string{"/bin/sh", "-c", script.String()}})
	for i := range 70 {
		name := fmt.Sprintf("exe%02d", i)
		if got := byName(rec, name)["getppid"]; got != uint64(100+i) {
			t.Errorf("%s: %d getppid calls recorded, want %d", name, got, 100+i)
		}

	}
	if rec.Lost != 0 {
		t.Errorf("lost %d", rec.Lost)
	}
}

// TestCgroupMoves: a process moved out of the recorded cgroup stops
// being counted (and is counted as having left) and one moved in
// starts, at once, although sys_enter
// keeps per CPU what it decided for the last task (the task's css_set
// is part of that entry's key).
func TestCgroupMoves(t *testing.T) {
	target := rootTarget(t)
	in, out := testCgroup(t), testCgroup(t)
	type proc struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		lines *bufio.Scanner
	}
	start := func(cg *cgroup, argv ...string) *proc {
		p := &proc{cmd: exec.Command(argv[0], argv[1:]...)}
		p.cmd.Stderr = testWriter{t}
		stdout, err := p.cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		p.lines = bufio.NewScanner(stdout)
		if p.stdin, err = p.cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		startIn(t, cg, p.cmd)
		t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
		return p
	}
	// expect reads the target's next line (a pipe: the read blocks until
	// it comes or the target dies).
	expect := func(p *proc, want string) {
		t.Helper()
		if !p.lines.Scan() || p.lines.Text() != want {
			t.Fatalf("target said %q (%v), want %q", p.lines.Text(), p.lines.Err(), want)
		}
	}
	phase := func(p *proc, n string) {
		t.Helper()
		if _, err := io.WriteString(p.stdin, "go\n"); err != nil {
			t.Fatal(err)
		}
		expect(p, "done "+n)
	}
	move := func(p *proc, to *cgroup) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(to.path, "cgroup.procs"), []byte(strconv.Itoa(p.cmd.Process.Pid)), 0); err != nil {
			t.Fatal(err)
		}
	}
	// A sleeper keeps the recorded cgroup populated while the others move.
	sleeper := start(in, testenv.RequireTool(t, "sleep"), "1000")
	leaving := start(in, target, "phases", "1000", "2000")
	coming := start(out, target, "phases", "3000", "4000")
	expect(leaving, "ready")
	expect(coming, "ready")

	attached := make(chan struct{})
	var once sync.Once
	done := make(chan *Recording, 1)
	go func() {
		rec, err := Record(context.Background(), Options{Cgroup: in.path, ProgressInterval: 10 * time.Millisecond,
			Progress: func(Progress) { once.Do(func() { close(attached) }) }})
		if err != nil {
			t.Error(err)
		}
		done <- rec
	}()
	select {
	case <-attached:
	case <-time.After(readyTimeout):
		t.Fatal("the recording did not start")
	}
	phase(leaving, "1000") // counted
	move(leaving, out)
	phase(leaving, "2000") // not counted
	phase(coming, "3000")  // not counted
	move(coming, in)
	phase(coming, "4000") // counted
	leaving.stdin.Close()
	coming.stdin.Close()
	leaving.cmd.Wait()
	coming.cmd.Wait()
	sleeper.cmd.Process.Kill()
	var rec *Recording
	select {
	case rec = <-done:
	case <-time.After(readyTimeout):
		t.Fatal("the recording did not end with its cgroup")
	}
	if rec == nil {
		return
	}
	// A run the kernel skipped (a recursion miss: a task preempted in
	// the shared program on its CPU) is counted in Lost, never as
	// another call: on a loaded host the count may fall short by that
	// much, never exceed.
	if got := byName(rec, "target")["getppid"]; got > 5000 || got+rec.Lost < 5000 {
		t.Errorf("getppid: %d calls recorded (%d lost), want 5000 (1000 before one target left, 4000 after the other came)", got, rec.Lost)
	}
	if want := []profiles.ExeCount{{Exe: "target", Count: 1}}; !slices.Equal(rec.Left, want) {
		t.Errorf("left: %v, want %v (the one that left)", rec.Left, want)
	}
}
