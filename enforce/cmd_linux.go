package enforce

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/exitstatus"
	"github.com/sysrec/sysrec/linuxabi"
)

// Cmd is a target command that runs under a seccomp filter. Set its
// stdio and call Run.
type Cmd struct {
	Args   []string // the target's argv; Args[0] is looked up in PATH
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Env is the target's environment; nil means sysrec's.
	Env []string
	// Landlock, when set, restricts files and TCP ports (applied before
	// the seccomp filter, in the same helper); LandlockMode says what to
	// do when the kernel cannot enforce all of it (best effort if unset).
	Landlock     *linuxabi.LandlockRuleset
	LandlockMode LandlockMode
	// Cgroup, when set, is the cgroup v2 directory the target is born in
	// (clone3 CLONE_INTO_CGROUP), so a recording of it sees the target's
	// first instruction.
	Cgroup string
	// BeforeExec, when set (NotifyCommand only), is called while the
	// target's process waits under its filter, in Cgroup, before it
	// execs: what must watch the target from its exec on starts there.
	// An error stops the target and is Run's.
	BeforeExec func() error

	path   string
	filter []byte
	notify *supervisor // NotifyCommand only
}

// Exit is how a target ended.
type Exit struct {
	PID int
	// Status is what a shell reports: the exit code, or 128+N when
	// signal N killed the target (159 is SIGSYS: a seccomp kill).
	Status int
	// Signal killed the target, or is 0.
	Signal syscall.Signal
	// Seccomp is the kernel's audit record of the call a SIGSYS death was
	// for; nil if the kernel logged none within AuditWait (rate-limited,
	// read by auditd, or kill_process missing from
	// /proc/sys/kernel/seccomp/actions_logged).
	Seccomp *Violation
	// Landlock lists the accesses Landlock refused the target, from the
	// kernel log (only while audit is enabled: auditctl -e 1).
	Landlock []LandlockDenial
}

// AuditWait bounds how long Run waits, after a SIGSYS death, for the
// kernel's audit record of it: the record can reach the log after the
// parent has already seen the death, later still on a loaded machine.
const AuditWait = 3 * time.Second

// Command returns a command that runs argv under filter (raw struct
// sock_filter bytes): sysrec re-executes itself as a small helper that
// installs the filter and then execs argv at once (see HelperMain). A
// target that cannot be found gives an error wrapping exec.ErrNotFound.
func Command(filter []byte, argv []string) (*Cmd, error) {
	if len(argv) == 0 {
		return nil, errors.New("no command")
	}
	if _, err := decode(filter); err != nil {
		return nil, err
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	return &Cmd{Args: argv, path: path, filter: filter}, nil
}

// Run starts the target, relays signals to it as system(3) would, and
// waits until it has exited (and, for NotifyCommand, until no task is
// left under the filter). Cancelling ctx sends the target SIGTERM.
func (c *Cmd) Run(ctx context.Context) (Exit, error) {
	served := false // once it serves, the supervisor closes its descriptors
	defer func() {
		if c.notify != nil && c.notify.maker != nil && !served {
			c.notify.maker.close()
		}
	}()
	self, err := os.Executable()
	if err != nil {
		return Exit{}, fmt.Errorf("find sysrec executable: %w", err)
	}
	mode0 := c.LandlockMode
	if mode0 == "" {
		mode0 = LandlockBestEffort
	}
	pl := plan{Filter: c.filter, Landlock: c.Landlock, LandlockMode: mode0}
	if c.notify != nil {
		// The one Landlock restriction a supervisor adds: the target
		// must not be able to signal it (or anything else outside its
		// tree). Killed, check's supervisor would leave a report never
		// finished; stopped, run's would leave the target's init calls
		// hanging (killed, it fails closed: the kernel fails every call
		// it would have decided with ENOSYS). Being in a Landlock domain
		// also keeps the target from ptrace, pidfd_getfd and
		// process_vm_* on the supervisor, which is in none: Landlock
		// refuses a process access to one outside its domain, so the
		// listener cannot be copied out of it.
		pl.Guard = linuxabi.LandlockScopeSignal
		var b [16]byte
		rand.Read(b[:])
		pl.Nonce = [2]uint64{binary.NativeEndian.Uint64(b[:8]), binary.NativeEndian.Uint64(b[8:])}
	}
	b, err := json.Marshal(pl)
	if err != nil {
		return Exit{}, fmt.Errorf("encode plan: %w", err)
	}
	var parent, child []*os.File
	defer func() {
		for _, f := range parent {
			f.Close()
		}
	}()
	pipe := func() (r, w *os.File, err error) {
		if r, w, err = os.Pipe(); err != nil {
			return nil, nil, fmt.Errorf("start helper: %w", err)
		}
		parent = append(parent, r, w) // closing twice is harmless
		return r, w, nil
	}
	planR, planW, err := pipe()
	if err != nil {
		return Exit{}, err
	}
	// Written from a goroutine: a large ruleset may not fit the pipe
	// buffer, and the helper reads it only once started.
	go func() {
		planW.Write(b)
		planW.Close()
	}()
	reportR, reportW, err := pipe()
	if err != nil {
		return Exit{}, err
	}
	child = append(child, planR, reportW)
	mode := modeExec
	var wakeW, readyR *os.File
	if c.notify != nil {
		mode = modeNotify
		wakeR, w, err := pipe()
		if err != nil {
			return Exit{}, err
		}
		r, readyW, err := pipe()
		if err != nil {
			return Exit{}, err
		}
		wakeW, readyR = w, r
		child = append(child, wakeR, readyW)
	}
	cmd := &exec.Cmd{
		Path:       self,
		Args:       append([]string{helperArg0, mode, c.path}, c.Args...),
		Stdin:      c.Stdin,
		Stdout:     c.Stdout,
		Stderr:     c.Stderr,
		Env:        c.Env,
		ExtraFiles: child,
	}
	if c.Cgroup != "" {
		cg, err := os.Open(c.Cgroup)
		if err != nil {
			return Exit{}, fmt.Errorf("open cgroup: %w", err)
		}
		defer cg.Close()
		cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(cg.Fd())}
	}
	// The kernel log is read from its end at start: only records written
	// after this point are ours to explain.
	var audit *AuditLog
	landlock := c.Landlock != nil || pl.Guard != 0
	if c.notify == nil || c.notify.enforcing() || landlock {
		if audit, err = OpenAuditLog(); err == nil {
			defer audit.Close()
		}
	}
	sigs, stopSignals := relaySignals()
	defer stopSignals()
	err = cmd.Start()
	for _, f := range child {
		f.Close()
	}
	if err != nil {
		return Exit{}, fmt.Errorf("start %s: %w", c.Args[0], err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// failed returns what the helper reported before its filter went on
	// (the report pipe reaches EOF at its exec, or when it exits).
	failed := func() error {
		msg, _ := io.ReadAll(reportR)
		if len(msg) == 0 {
			return nil
		}
		<-done
		return errors.New(string(msg))
	}
	var supervised chan error
	if c.notify == nil {
		if err := failed(); err != nil {
			return Exit{}, err
		}
	} else {
		supervised = make(chan error, 1)
		listener, err := takeListener(cmd.Process.Pid, readyR)
		if err != nil {
			if ferr := failed(); ferr != nil {
				return Exit{}, ferr
			}
		}
		if ph := c.notify.opts.Phases; err == nil && ph != nil {
			// The helper waits for the wake byte before it can exec or
			// fork: from here on, it and all it forks are tracked, and
			// no system call changes a state.
			if err = ph.Tracker.Enrol(cmd.Process.Pid); err == nil {
				err = ph.Tracker.Seal()
			}
		}
		if err == nil && c.BeforeExec != nil {
			if err := c.BeforeExec(); err != nil {
				cmd.Process.Kill()
				<-done
				return Exit{}, err
			}
		}
		if err == nil {
			served = true
			go func() { supervised <- c.notify.serve(listener) }()
			if _, err = wakeW.Write([]byte{1}); err != nil {
				err = fmt.Errorf("wake helper: %w", err)
			}
		}
		if err != nil {
			if listener >= 0 {
				unix.Close(listener)
			}
			cmd.Process.Kill()
			<-done
			return Exit{}, fmt.Errorf("supervise: %w", err)
		}
	}
	forwardUntilDone(ctx, cmd.Process, sigs, done)
	ex := Exit{PID: cmd.Process.Pid, Status: exitstatus.Shell(cmd.ProcessState)}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		ex.Signal = ws.Signal()
	}
	if ex.Signal == unix.SIGSYS && audit != nil {
		if v, ok := audit.Wait(ex.PID, time.Now().Add(AuditWait)); ok {
			ex.Seccomp = &v
		}
	}
	if landlock && audit != nil {
		// Denial records are written as the access is refused, before
		// the target can exit: they are in the log already.
		ex.Landlock = audit.LandlockDenials(ex.PID)
	}
	if supervised != nil {
		var err error
		select {
		case err = <-supervised:
		case <-time.After(outlivedAfter):
			// Not a synchronisation: the supervisor is waited for
			// either way; this only says why Run has not returned.
			if f := c.notify.opts.OnOutlived; f != nil {
				f(ex)
			}
			err = <-supervised
		}
		if err != nil {
			return ex, fmt.Errorf("supervise: %w", err)
		}
	}
	return ex, nil
}

// outlivedAfter is how long after its target exits Run waits for the
// supervisor to see every task under the filter gone before it says
// some are still running.
const outlivedAfter = 250 * time.Millisecond

// relaySignals sets up signal handling while a target runs, as system(3)
// does: the target is in sysrec's process group, so a terminal's Ctrl-C
// and Ctrl-\ reach it directly and sysrec ignores them (relaying them
// would deliver them twice); SIGTERM and SIGHUP sent to sysrec alone are
// passed on.
func relaySignals() (<-chan os.Signal, func()) {
	// Caught and dropped rather than signal.Ignore'd: SIG_IGN would be
	// inherited through execve by the target.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM, unix.SIGHUP)
	relay := make(chan os.Signal, 4)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				if s == unix.SIGTERM || s == unix.SIGHUP {
					relay <- s
				}
			case <-done:
				return
			}
		}
	}()
	return relay, func() {
		signal.Stop(sigs)
		close(done)
	}
}

// forwardUntilDone passes relayed signals on to the target and turns a
// cancelled ctx into SIGTERM, until the target exits.
func forwardUntilDone(ctx context.Context, p *os.Process, sigs <-chan os.Signal, done <-chan error) {
	for {
		select {
		case s := <-sigs:
			p.Signal(s)
		case <-ctx.Done():
			ctx = context.Background() // fires once
			p.Signal(unix.SIGTERM)
		case <-done:
			return
		}
	}
}

// Notes are what the person who ran the target named name should know
// of its end, one sentence each: the signal that killed it (for a
// seccomp kill, the call it was for) and what Landlock refused it.
func (e Exit) Notes(name string) []string {
	var out []string
	if e.Signal != 0 {
		msg := fmt.Sprintf("%s killed by %s", name, e.SignalName())
		if e.Signal == syscall.SIGSYS {
			msg += " (seccomp): " + explainKill(e.Seccomp)
		}
		out = append(out, msg)
	}
	for _, d := range e.Landlock {
		out = append(out, "landlock refused "+d.String())
	}
	return out
}

// SignalName is the name of the signal that killed the target ("SIGSYS"),
// or "" when it exited.
func (e Exit) SignalName() string {
	if e.Signal == 0 {
		return ""
	}
	return unix.SignalName(e.Signal)
}
