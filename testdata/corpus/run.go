package main

import (
	"archive/zip"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/internal/auditnl"
	"github.com/sysrec/sysrec/profiles"
)

// job is one program doing one job on several inputs: inputs[0] is
// recorded, the others are held out; reach are reaching runs.
type job struct {
	name string
	bin  string
	// pkg is the Debian package bin comes from (named when missing);
	// build, a Go package the corpus builds into bin.
	pkg, build string
	// tty runs the program with its standard input and output on a
	// pseudo-terminal.
	tty bool
	// server runs the program until its input's mix has been sent by
	// the client, then stops it with SIGTERM.
	server bool
	inputs []input
	reach  []input
}

// setup lays out an input's files in a run's directory.
type setup func(p *place) error

type input struct {
	desc  string
	setup setup
	args  func(p *place) []string
	// typed is written to the terminal of a tty job.
	typed string
	// mix drives a server: it returns what the server answered.
	mix func(p *place) string
	// failing marks an error path: the program must print the same
	// error it prints without sysrec.
	failing bool
	// leaked, for a reaching run, says whether the secret got out
	// (default: its marker or digest in anything the run printed or
	// wrote).
	leaked func(p *place, res *result) bool
}

// place is where one run happens: a fresh directory, its working
// directory, and a free port.
type place struct {
	root string
	port int
	// secret is the file a reaching run tries to read.
	secret string
}

// at is rel under the run's directory.
func (p *place) at(rel string) string { return filepath.Join(p.root, rel) }

type runner struct {
	sysrec  string
	work    string
	env     []string
	verbose bool
	fsOff   bool
	marker  string
	secrets []secret
	n       atomic.Int64
	// audit says the corpus turned audit on: the kernel writes
	// Landlock's refusal records only then.
	audit bool
}

// place makes a fresh directory for a run of in and sets it up.
func (r *runner) place(in input, secret string) (*place, error) {
	n := r.n.Add(1)
	d := filepath.Join(r.work, "runs", strconv.FormatInt(n, 10))
	if err := os.MkdirAll(d, 0o755); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	p := &place{root: d, port: port, secret: secret}
	if in.setup != nil {
		if err := in.setup(p); err != nil {
			return nil, fmt.Errorf("set up %q: %w", in.desc, err)
		}
	}
	return p, nil
}

// freePort is a loopback TCP port nothing listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// result is what one run of a program did.
type result struct {
	status int // the program's exit status, 128+N for signal N
	stdout []byte
	// stderr is the program's; sysrec holds sysrec's own lines.
	stderr     string
	sysrec     []string
	transcript string
	// stopped says the server still listened when the corpus stopped
	// it with SIGTERM.
	stopped bool
	// lingered says the command had not exited lingerWait after that
	// SIGTERM, and the corpus sent SIGTERM to its whole process group.
	lingered bool
}

// lingerWait is how long a stopped server's command may take to exit.
const lingerWait = 20 * time.Second

// exec runs in's program in p, under sysrec with the arguments pre
// (before "--") or, with pre nil, unconfined.
func (r *runner) exec(ctx context.Context, j job, in input, p *place, pre []string) (*result, error) {
	argv := append([]string{j.bin}, in.args(p)...)
	if pre != nil && r.audit {
		// A test run beside the corpus may have restored audit to off.
		if on, err := auditnl.Enabled(); err == nil && !on {
			auditnl.SetEnabled(true)
		}
	}
	if pre != nil {
		argv = append(append(append([]string{r.sysrec}, pre...), "--"), argv...)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = p.root, r.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 10 * time.Second
	var term *terminal
	if j.tty {
		var err error
		if term, err = openTerminal(); err != nil {
			return nil, err
		}
		defer term.close()
		cmd.Stdin, cmd.Stdout = term.tty, term.tty
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = cmd.Wait(); close(exited) }()
	if term != nil {
		term.tty.Close()
		go term.drain()
		if in.typed != "" {
			term.master.WriteString(in.typed)
		}
	}
	res := &result{}
	if j.server {
		if err := waitListening(ctx, p.port, exited); err != nil {
			res.transcript = "server not listening: " + err.Error()
		} else {
			res.transcript = in.mix(p)
		}
		res.stopped = stopServer(ctx, cmd.Process, p.port, exited)
		select {
		case <-exited:
		case <-time.After(lingerWait):
			// sysrec run waits for every process under its supervisor:
			// a server whose main process died leaves its children
			// (nginx's workers) behind, and they keep it waiting.
			res.lingered = true
			syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		}
	}
	select {
	case <-exited:
	case <-ctx.Done():
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		return nil, fmt.Errorf("%s: %w", strings.Join(argv, " "), ctx.Err())
	}
	// Whatever it started and left behind (a daemon's stray child) goes
	// with it: the group is the run's own.
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	var ee *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &ee) && !errors.Is(waitErr, exec.ErrWaitDelay) {
		return nil, fmt.Errorf("%s: %w", strings.Join(argv, " "), waitErr)
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		res.status = 128 + int(ws.Signal())
	} else {
		res.status = cmd.ProcessState.ExitCode()
	}
	if term != nil {
		res.stdout = term.output()
	} else {
		res.stdout = stdout.Bytes()
	}
	var own []string
	for _, line := range strings.SplitAfter(stderr.String(), "\n") {
		if strings.HasPrefix(line, "sysrec: ") && pre != nil {
			res.sysrec = append(res.sysrec, strings.TrimSpace(line))
		} else {
			own = append(own, line)
		}
	}
	res.stderr = strings.Join(own, "")
	if r.verbose {
		fmt.Fprintf(os.Stderr, "%s [%s] %q: exit %d %s\n", j.name, strings.Join(pre, " "), in.desc, res.status, strings.Join(res.sysrec, " | "))
		if res.status != 0 {
			fmt.Fprintf(os.Stderr, "\t%.300q\n", res.stderr)
		}
		if j.server {
			fmt.Fprintf(os.Stderr, "\t%.300q\n", res.transcript)
		}
	}
	return res, nil
}

// waitListening waits until something accepts connections on port, or
// the server exits, or 30 s pass.
func waitListening(ctx context.Context, port int, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-exited:
			return errors.New("it exited")
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// stopServer sends SIGTERM to a server that still listens. One that
// stopped listening has died (killed by seccomp, say): sysrec is still
// reporting it, and a SIGTERM then would cut the report short, so it gets
// 10 s to exit first.
func stopServer(ctx context.Context, proc *os.Process, port int, exited <-chan struct{}) (listening bool) {
	if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
		c.Close()
		listening = true
	} else {
		select {
		case <-exited:
			return false
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
		}
	}
	proc.Signal(syscall.SIGTERM)
	return listening
}

// terminal is a pseudo-terminal pair: the program gets tty, the corpus
// reads what it writes from master.
type terminal struct {
	master, tty *os.File
	mu          sync.Mutex
	buf         bytes.Buffer
	drained     chan struct{}
}

func openTerminal() (*terminal, error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("open pty: %w", err)
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		return nil, fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("pty number: %w", err)
	}
	if err := unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 80}); err != nil {
		m.Close()
		return nil, fmt.Errorf("pty size: %w", err)
	}
	t, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("open pty: %w", err)
	}
	return &terminal{master: m, tty: t, drained: make(chan struct{})}, nil
}

// drain reads the program's output until the last holder of the
// terminal closes it (EIO).
func (t *terminal) drain() {
	defer close(t.drained)
	b := make([]byte, 4096)
	for {
		n, err := t.master.Read(b)
		t.mu.Lock()
		t.buf.Write(b[:n])
		t.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (t *terminal) output() []byte {
	select {
	case <-t.drained:
	case <-time.After(5 * time.Second):
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Clone(t.buf.Bytes())
}

func (t *terminal) close() {
	t.tty.Close()
	t.master.Close()
}

// outcome is how one held-out run went, and why it failed.
type outcome struct {
	Passed   bool `json:"passed"`
	Status   int  `json:"status"`
	Baseline int  `json:"baseline_status"`
	// Killed is the syscall seccomp killed the program for.
	Killed string `json:"killed,omitempty"`
	// Phase lists the processes run killed (or refused) for an init-only
	// call made once serving: "nginx: socket (killed)".
	Phase []string `json:"phase_refusals,omitempty"`
	// Landlock is what Landlock refused ("read_file on $ROOT/in.txt").
	Landlock []string `json:"landlock,omitempty"`
	// Missing is every syscall `check --landlock off` reports the
	// profile lacks on this input (when a syscall killed the program).
	Missing []string `json:"missing,omitempty"`
	// Behind is what Landlock refused on the same input with seccomp
	// logging instead of killing: `run` names no refusal when seccomp
	// kills the program, and a refusal often sends it down the path
	// that gets it killed (an error message, an abort).
	Behind []string `json:"landlock_behind_kill,omitempty"`
	// Why is a failure sysrec did not name: another exit status or
	// error message, other answers to the client.
	Why string `json:"why,omitempty"`
}

var (
	killRE     = regexp.MustCompile(`killed by SIGSYS \(seccomp\): syscall (\S+)`)
	killedRE   = regexp.MustCompile(`killed by (SIG\w+)`)
	refusedRE  = regexp.MustCompile(`landlock refused (.*)$`)
	notAllowed = regexp.MustCompile(`^sysrec: check: (.*) not allowed by `)
)

// judge compares a confined run with the program's run on the same
// input without sysrec.
func (r *runner) judge(base, got *result, in input, p *place) outcome {
	o := outcome{Status: got.status, Baseline: base.status}
	for _, line := range got.sysrec {
		if m := killRE.FindStringSubmatch(line); m != nil {
			o.Killed = m[1]
		} else if m := killedRE.FindStringSubmatch(line); m != nil && m[1] == "SIGSYS" {
			o.Killed = "?"
		}
	}
	o.Landlock = r.refusals(got, p)
	for _, line := range got.sysrec {
		if m := phaseRefusalRE.FindStringSubmatch(line); m != nil {
			o.Phase = append(o.Phase, fmt.Sprintf("%s: %s (%s)", m[1], m[2], m[3]))
		}
	}
	var why []string
	// A server's status after the corpus's SIGTERM is its way of
	// stopping, not its answer to the input: lighttpd exits 0 or 1 at
	// random (measured: 1 without sysrec and 0 under it, then the
	// reverse, stderr empty both times). Servers that served to the
	// end are judged by their answers and by nothing being killed or
	// refused.
	if got.status != base.status && !(got.stopped && base.stopped) {
		why = append(why, fmt.Sprintf("exit status %d, %d without sysrec (last lines of stderr: %q, %q)", got.status, base.status, lastLine(r.clean(got.stderr, p)), lastLine(base.stderr)))
	}
	// The first line: later ones may carry a thread id (openssl) or a
	// pid.
	if in.failing {
		if g, b := firstLine(r.clean(got.stderr, p)), firstLine(base.stderr); g != b {
			why = append(why, fmt.Sprintf("error message %q, %q without sysrec", g, b))
		}
	}
	if got.lingered {
		why = append(why, fmt.Sprintf("still running %s after SIGTERM (processes its target left behind?): stopped by SIGTERM to its process group", lingerWait))
	}
	if got.transcript != base.transcript {
		why = append(why, "client: "+firstDiff(got.transcript, base.transcript))
	}
	o.Passed = len(why) == 0 && o.Killed == "" && len(o.Landlock) == 0 && len(o.Phase) == 0
	if !o.Passed && o.Killed == "" && len(o.Landlock) == 0 && len(o.Phase) == 0 {
		o.Why = strings.Join(why, "; ")
		for _, line := range got.sysrec {
			if strings.Contains(line, "killed by") {
				o.Why += "; " + line
			}
		}
	}
	return o
}

// clean puts $ROOT for the run's directory and $WORK for the corpus's
// into s, so runs compare and reports read.
func (r *runner) clean(s string, p *place) string {
	s = strings.ReplaceAll(s, p.root, "$ROOT")
	return strings.ReplaceAll(s, r.work, "$WORK")
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// firstDiff is the first line where got and want differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return fmt.Sprintf("%q, %q without sysrec", a, b)
		}
	}
	return ""
}

// leaked says whether a reaching run got the secret out: its marker, or
// the secret's SHA-256 or MD5, in what the program printed, what its
// client received, or any file it left in its directory (compressed or
// archived ones unpacked).
func (r *runner) leaked(p *place, res *result) bool {
	content := secretContent(r.marker)
	s256, m5 := sha256.Sum256(content), md5.Sum(content)
	needles := [][]byte{[]byte(r.marker), []byte(hex.EncodeToString(s256[:])), []byte(hex.EncodeToString(m5[:]))}
	has := func(b []byte) bool {
		for _, n := range needles {
			if bytes.Contains(b, n) {
				return true
			}
		}
		return false
	}
	if has(res.stdout) || has([]byte(res.stderr)) || has([]byte(res.transcript)) {
		return true
	}
	found := false
	filepath.WalkDir(p.root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || found || !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err == nil && (has(b) || has(unpack(b))) {
			found = true
		}
		return nil
	})
	return found
}

// unpack is b decompressed or unarchived, when it is gzip, bzip2, xz or
// zip data; else nil.
func unpack(b []byte) []byte {
	var rd io.Reader
	switch {
	case bytes.HasPrefix(b, []byte{0x1f, 0x8b}):
		z, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil
		}
		rd = z
	case bytes.HasPrefix(b, []byte("BZh")):
		rd = bzip2.NewReader(bytes.NewReader(b))
	case bytes.HasPrefix(b, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		cmd := exec.Command("/usr/bin/xz", "-dc")
		cmd.Stdin = bytes.NewReader(b)
		out, _ := cmd.Output()
		return out
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return nil
		}
		var all bytes.Buffer
		for _, f := range z.File {
			if rc, err := f.Open(); err == nil {
				io.Copy(&all, io.LimitReader(rc, 64<<20))
				rc.Close()
			}
		}
		return all.Bytes()
	default:
		return nil
	}
	out, _ := io.ReadAll(io.LimitReader(rd, 256<<20))
	return out
}

func secretContent(marker string) []byte {
	return []byte(fmt.Sprintf("%s needle foo 1,1\nneedle %s foo bar\n", marker, marker))
}

// baseline is every input of a job run without sysrec.
type baseline struct {
	inputs []*result
	// reach[i][k] says whether reaching input i leaks secret k without
	// sysrec (only those are measured).
	reach [][]bool
}

func (r *runner) baselines(ctx context.Context, j job) (*baseline, error) {
	b := &baseline{}
	for _, in := range j.inputs {
		p, err := r.place(in, "")
		if err != nil {
			return nil, err
		}
		res, err := r.exec(ctx, j, in, p, nil)
		if err != nil {
			return nil, err
		}
		if in.failing && res.status == 0 && res.stderr == "" {
			return nil, fmt.Errorf("the error path %q prints no error", in.desc)
		}
		res.stderr = r.clean(res.stderr, p)
		b.inputs = append(b.inputs, res)
		os.RemoveAll(p.root)
	}
	for _, in := range j.reach {
		var row []bool
		for _, s := range r.secrets {
			p, err := r.place(in, s.Path)
			if err != nil {
				return nil, err
			}
			res, err := r.exec(ctx, j, in, p, nil)
			if err != nil {
				return nil, err
			}
			leaked := r.leak(in, p, res)
			if r.verbose {
				fmt.Fprintf(os.Stderr, "%s %q, %s secret, without sysrec: leaked %v\n", j.name, in.desc, s.Kind, leaked)
			}
			row = append(row, leaked)
			os.RemoveAll(p.root)
		}
		b.reach = append(b.reach, row)
	}
	return b, nil
}

func (r *runner) leak(in input, p *place, res *result) bool {
	if in.leaked != nil {
		return in.leaked(p, res)
	}
	return r.leaked(p, res)
}

// record records j on its first input at level and returns the profile's
// path; fs is sysrec's --fs (empty: the default), extra more options of
// record, want the exit status
// the program has on that input without sysrec. A server's status is
// not compared: record stopped by SIGTERM stops it and exits 0.
//
// The recorded run's place is returned, left in place (the caller
// removes it): a user's held-out runs happen while the recorded data is
// still there, and rules naming it must find it.
func (r *runner) record(ctx context.Context, j job, level, fs, runtime string, want int, extra ...string) (profile string, p *place, err error) {
	in := j.inputs[0]
	p, err = r.place(in, "")
	if err != nil {
		return "", nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(p.root)
		}
	}()
	profile = filepath.Join(r.work, "profiles", fmt.Sprintf("%s-%s-%s.json", j.name, level, filepath.Base(p.root)))
	if err := os.MkdirAll(filepath.Dir(profile), 0o755); err != nil {
		return "", nil, err
	}
	pre := []string{"record", "--progress", "never", "--generalize", level, "--runtime", runtime, "-o", profile}
	if fs != "" {
		pre = append(pre, "--fs", fs)
	}
	pre = append(pre, extra...)
	res, err := r.exec(ctx, j, in, p, pre)
	if err != nil {
		return "", nil, err
	}
	if res.status != want && !j.server {
		return "", nil, fmt.Errorf("record %q exited %d:\n%s%s", in.desc, res.status, res.stderr, strings.Join(res.sysrec, "\n"))
	}
	if _, err := os.Stat(profile); err != nil {
		return "", nil, fmt.Errorf("record %q: %w\n%s", in.desc, err, strings.Join(res.sysrec, "\n"))
	}
	return profile, p, nil
}

// confined runs held-out input i of j under sysrec (pre) and judges it.
func (r *runner) confined(ctx context.Context, j job, b *baseline, i int, pre []string) (outcome, error) {
	in := j.inputs[i]
	p, err := r.place(in, "")
	if err != nil {
		return outcome{}, err
	}
	defer os.RemoveAll(p.root)
	res, err := r.exec(ctx, j, in, p, pre)
	if err != nil {
		return outcome{}, err
	}
	return r.judge(b.inputs[i], res, in, p), nil
}

// again runs j's recorded input once more under sysrec (pre), in the
// directory and on the port it was recorded with, laid out anew: an
// identical rerun.
func (r *runner) again(ctx context.Context, j job, b *baseline, p *place, pre []string) (outcome, error) {
	if err := relay(p, j.inputs[0]); err != nil {
		return outcome{}, err
	}
	res, err := r.exec(ctx, j, j.inputs[0], p, pre)
	if err != nil {
		return outcome{}, err
	}
	return r.judge(b.inputs[0], res, j.inputs[0], p), nil
}

// relay empties p and sets in up in it again.
func relay(p *place, in input) error {
	if err := os.RemoveAll(p.root); err != nil {
		return err
	}
	if err := os.MkdirAll(p.root, 0o755); err != nil {
		return err
	}
	if in.setup != nil {
		if err := in.setup(p); err != nil {
			return fmt.Errorf("set up %q: %w", in.desc, err)
		}
	}
	return nil
}

// behind fills o.Behind in when seccomp killed the program under the
// whole profile and Landlock was not named: it runs input i again with
// seccomp logging, in at (laid out anew) or, with at nil, in a fresh
// place.
func (r *runner) behind(ctx context.Context, j job, i int, profile string, at *place, o *outcome) error {
	if o.Killed == "" || len(o.Landlock) > 0 {
		return nil
	}
	in := j.inputs[i]
	p := at
	if p == nil {
		var err error
		if p, err = r.place(in, ""); err != nil {
			return err
		}
		defer os.RemoveAll(p.root)
	} else if err := relay(p, in); err != nil {
		return err
	}
	res, err := r.exec(ctx, j, in, p, []string{"run", "--profile", profile, "--default-action", "log"})
	if err != nil {
		return err
	}
	o.Behind = r.refusals(res, p)
	return nil
}

// refusals are the Landlock refusals sysrec named for a run.
func (r *runner) refusals(res *result, p *place) []string {
	var out []string
	for _, line := range res.sysrec {
		if m := refusedRE.FindStringSubmatch(line); m != nil && !slices.Contains(out, r.clean(m[1], p)) {
			out = append(out, r.clean(m[1], p))
		}
	}
	return out
}

// missing lists every syscall `check` reports the profile lacks on
// held-out input i of j, Landlock off.
func (r *runner) missing(ctx context.Context, j job, i int, profile string) ([]string, error) {
	in := j.inputs[i]
	p, err := r.place(in, "")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(p.root)
	res, err := r.exec(ctx, j, in, p, []string{"check", "--landlock", "off", "--profile", profile})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range res.sysrec {
		if m := notAllowed.FindStringSubmatch(line); m != nil {
			out = append(out, m[1])
		}
	}
	return out, nil
}

// measure records j at level and runs its held-out and reaching inputs.
func (r *runner) measure(ctx context.Context, j job, b *baseline, level string) (programResult, error) {
	pr := programResult{Name: j.name, Unobserved: []string{}, BroadWrites: []string{}}
	profile, rec, err := r.record(ctx, j, level, "", "auto", b.inputs[0].status)
	if err != nil {
		return pr, err
	}
	defer os.RemoveAll(rec.root)
	p, err := profiles.Load(profile)
	if err != nil {
		return pr, err
	}
	pr.count(p)
	if err := pr.countLandlock(profile); err != nil {
		return pr, err
	}
	var fsOff string
	if r.fsOff {
		var rec *place
		if fsOff, rec, err = r.record(ctx, j, level, "off", "auto", b.inputs[0].status); err != nil {
			return pr, err
		}
		defer os.RemoveAll(rec.root)
	}
	run := []string{"run", "--profile", profile}
	if pr.Again, err = r.again(ctx, j, b, rec, run); err != nil {
		return pr, err
	}
	if err := r.behind(ctx, j, 0, profile, rec, &pr.Again); err != nil {
		return pr, err
	}
	for i := 1; i < len(j.inputs); i++ {
		h := heldOutResult{Input: j.inputs[i].desc, Argv: r.argv(j, i)}
		if h.Whole, err = r.confined(ctx, j, b, i, run); err != nil {
			return pr, err
		}
		if h.Syscalls, err = r.confined(ctx, j, b, i, append(run, "--landlock", "off")); err != nil {
			return pr, err
		}
		if err := r.behind(ctx, j, i, profile, nil, &h.Whole); err != nil {
			return pr, err
		}
		if h.Whole.Killed != "" || h.Syscalls.Killed != "" {
			m, err := r.missing(ctx, j, i, profile)
			if err != nil {
				return pr, err
			}
			h.Syscalls.Missing = m
			if h.Whole.Killed != "" {
				h.Whole.Missing = m
			}
		}
		if fsOff != "" {
			o, err := r.confined(ctx, j, b, i, []string{"run", "--profile", fsOff})
			if err != nil {
				return pr, err
			}
			h.FsOff = &o
		}
		pr.add(h)
	}
	for i, in := range j.reach {
		for k, s := range r.secrets {
			if !b.reach[i][k] {
				pr.Unreachable++
				continue
			}
			p, err := r.place(in, s.Path)
			if err != nil {
				return pr, err
			}
			res, err := r.exec(ctx, j, in, p, []string{"run", "--profile", profile, "--default-action", "log"})
			if err != nil {
				return pr, err
			}
			rr := reachResult{Input: in.desc, Secret: s.Kind, Refused: !r.leak(in, p, res), Landlock: r.refusals(res, p)}
			os.RemoveAll(p.root)
			pr.addReach(rr)
		}
	}
	return pr, nil
}

// argv is held-out input i's command line, $ROOT for its directory and
// $PORT for its port.
func (r *runner) argv(j job, i int) []string {
	p := &place{root: "$ROOT"}
	return append([]string{j.bin}, j.inputs[i].args(p)...)
}

// rerunRecordings is how many recordings the reruns are spread over:
// whether one recording happened to see a timing-dependent call decides
// every rerun under its profile, so one recording would measure luck.
const rerunRecordings = 10

// reruns records j rerunRecordings times and runs it n times in all,
// each in the directory it was recorded in (an identical rerun) under
// one of those profiles, and counts the runs killed by seccomp and those
// that failed otherwise.
func (r *runner) reruns(ctx context.Context, j job, level, runtime string, n int) (kills, failed int, err error) {
	for rec := range rerunRecordings {
		k, f, err := r.rerunsOf(ctx, j, level, runtime, n/rerunRecordings+boolInt(rec < n%rerunRecordings))
		if err != nil {
			return 0, 0, err
		}
		kills += k
		failed += f
	}
	return kills, failed, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (r *runner) rerunsOf(ctx context.Context, j job, level, runtime string, n int) (kills, failed int, err error) {
	in := j.inputs[0]
	p, err := r.place(in, "")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(p.root)
	profile := filepath.Join(r.work, "profiles", fmt.Sprintf("%s-%s-%s-reruns-%s.json", j.name, level, runtime, filepath.Base(p.root)))
	if err := os.MkdirAll(filepath.Dir(profile), 0o755); err != nil {
		return 0, 0, err
	}
	res, err := r.exec(ctx, j, in, p, []string{"record", "--progress", "never", "--generalize", level, "--runtime", runtime, "-o", profile})
	if err != nil {
		return 0, 0, err
	}
	if res.status != 0 {
		return 0, 0, fmt.Errorf("record exited %d:\n%s", res.status, strings.Join(res.sysrec, "\n"))
	}
	for range n {
		res, err := r.exec(ctx, j, in, p, []string{"run", "--profile", profile})
		if err != nil {
			return 0, 0, err
		}
		switch {
		case res.status == 128+int(syscall.SIGSYS):
			kills++
		case res.status != 0:
			failed++
			if r.verbose {
				fmt.Fprintf(os.Stderr, "rerun exited %d: %s\n", res.status, strings.Join(res.sysrec, " | "))
			}
		}
	}
	return kills, failed, nil
}

// lastLine is the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
