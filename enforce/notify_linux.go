package enforce

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/bpfprog"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// struct seccomp_notif and struct seccomp_notif_resp (linux/seccomp.h).
type seccompNotif struct {
	ID    uint64
	PID   uint32
	Flags uint32
	Nr    int32
	Arch  uint32
	IP    uint64
	Args  [6]uint64
}

type seccompNotifResp struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

// MaxViolations bounds the distinct violations a supervisor keeps, so a
// target that makes endless distinct calls cannot exhaust memory; the
// calls beyond it are counted in Violations' dropped result.
const MaxViolations = 1 << 16

// NotifyOptions say how NotifyCommand answers calls the filter sends to
// user space (its user_notif actions).
type NotifyOptions struct {
	// Deny fails those calls with EPERM; otherwise they run.
	Deny bool
	// OnNew is called once per distinct violation (syscall and recorded
	// argument values, masked as a recording masks them), with the pid
	// that made it first. It runs on the supervisor's goroutine.
	OnNew func(s profiles.Sample, pid int)
	// Phases, when set, decides the calls of a profile's init entries by
	// the phase of the process that makes them.
	Phases *PhaseOptions
	// OnOutlived, when set, is called once if the target has exited
	// while processes it started still run under its filter: Run goes on
	// answering their calls and returns when the last one is gone (a
	// daemon's forked processes stay supervised; without a supervisor
	// their notified calls would fail with ENOSYS).
	OnOutlived func(Exit)
	// Made, when set (run: the instantiated profile's filesystem.made),
	// are the files the supervisor makes for the target (see
	// made_linux.go): the calls profiles.Profile.Making sends it. Those
	// of Phases' init entries are made only while their process is in
	// init.
	Made []profiles.MadeFile
	// ThreadNames (run: the profile's filesystem.thread_names) has the
	// supervisor open the comm file of a thread of the caller's own
	// process for it (threadname_linux.go).
	ThreadNames bool
}

// PhaseOptions say how a supervisor decides the calls of a profile's
// init entries (profiles.Profile.Supervised sends them to it): while the
// calling process has not started serving, the call runs; after, or when
// its process is not tracked (fail closed), it is refused. The decision
// reads the phase and the registers only, never the caller's memory, so
// letting a call continue is safe.
type PhaseOptions struct {
	Tracker *PhaseTracker
	// Init reports whether a notified call is for one of the profile's
	// init entries; nil: every notified call is (run's filter without
	// made files sends no other). The others are check's violations, or
	// run's calls sent for made files (NotifyOptions.Made).
	Init func(linuxabi.SeccompData) bool
	// Notified, when set (run: profiles.Profile.Notified), is the action
	// an init call of a process in a phase gets (an untracked process's
	// counts as serving): allow runs it, errno fails it, log runs it and
	// reports it, any other action SIGKILLs its process (before the
	// reply, so the call never runs). Unset (check), a serving process's
	// call runs and is a violation, a sample of the serving phase.
	Notified func(profiles.Phase) profiles.Action
	// OnRefused is called once per (executable, syscall) refused, on the
	// supervisor's goroutine.
	OnRefused func(Refusal)
}

// Refusal is an init call a supervisor refused.
type Refusal struct {
	PID     int    // the calling process (thread group)
	Exe     string // the calling thread's comm
	Syscall string
	// Untracked: sysrec did not know the process's phase (it was not
	// forked by a tracked process, or the map was full).
	Untracked bool
	Action    profiles.Action
}

// String is the sentence run prints.
func (r Refusal) String() string {
	what := "in its serving phase"
	if r.Untracked {
		what = "while sysrec did not know its phase"
	}
	verb := "killed"
	switch r.Action.Kind {
	case profiles.Errno:
		verb = "refused with " + r.Action.String()
	case profiles.Log:
		verb = "let run (" + r.Action.String() + ")"
	}
	return fmt.Sprintf("pid %d (%s) called %s %s: %s", r.PID, profiles.Printable(r.Exe), r.Syscall, what, verb)
}

// NotifyCommand is like Command, but the filter's user_notif actions go
// to a supervisor in this process instead of failing: each call is
// answered as opts says and aggregated into Violations.
func NotifyCommand(filter []byte, argv []string, opts NotifyOptions) (*Cmd, error) {
	c, err := Command(filter, argv)
	if err != nil {
		return nil, err
	}
	arch, err := linuxabi.Native()
	if err != nil {
		return nil, err
	}
	c.notify = &supervisor{opts: opts, arch: arch, index: map[sampleKey]int{}, refused: map[string]bool{}}
	if len(opts.Made) > 0 || opts.ThreadNames {
		if c.notify.maker, err = newMaker(opts.Made, opts.ThreadNames); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Violations returns the distinct calls the supervisor saw, each with
// its count, and how many calls were not kept because MaxViolations
// distinct ones already were. Call it after Run.
func (c *Cmd) Violations() (samples []profiles.Sample, dropped uint64) {
	if c.notify == nil {
		return nil, 0
	}
	c.notify.mu.Lock()
	defer c.notify.mu.Unlock()
	return append([]profiles.Sample(nil), c.notify.samples...), c.notify.dropped
}

type sampleKey struct {
	arch  string
	nr    int
	args  [6]uint64
	phase profiles.Phase
}

type supervisor struct {
	opts    NotifyOptions
	arch    *linuxabi.Arch
	mu      sync.Mutex
	index   map[sampleKey]int
	samples []profiles.Sample
	dropped uint64
	refused map[string]bool // exe and syscall reported
	status  [1024]byte      // the start of a caller's /proc status
	maker   *maker          // NotifyOptions.Made and ThreadNames
}

// enforcing reports whether the supervisor enforces a profile (run with
// phases) rather than checks one.
func (s *supervisor) enforcing() bool {
	return s.opts.Phases != nil && s.opts.Phases.Notified != nil
}

// takeListener reads the listener's fd number from the helper and copies
// the listener with pidfd_getfd (Linux 5.6). EOF means the helper died
// before installing the filter.
func takeListener(pid int, ready io.Reader) (int, error) {
	// One short write (atomic on a pipe); the helper keeps its end open
	// until it execs, so this does not wait for EOF.
	b := make([]byte, 16)
	n, err := ready.Read(b)
	if err != nil && err != io.EOF {
		return -1, fmt.Errorf("read listener from helper: %w", err)
	}
	fd, err := strconv.Atoi(strings.TrimSpace(string(b[:n])))
	if err != nil {
		return -1, errors.New("helper exited before installing the filter")
	}
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return -1, fmt.Errorf("pidfd_open: %w", err)
	}
	defer unix.Close(pidfd)
	l, err := unix.PidfdGetfd(pidfd, fd, 0)
	if err != nil {
		return -1, fmt.Errorf("pidfd_getfd: %w", err)
	}
	return l, nil
}

// serve answers notifications until no task is left under the filter.
func (s *supervisor) serve(listener int) error {
	// Callers wait for each answer: no migrations between threads.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer unix.Close(listener)
	if s.maker != nil {
		defer s.maker.close()
	}
	if s.opts.Phases != nil || s.maker != nil {
		// A caller waits for each answer: the kernel switches to this
		// thread at once instead of waking it on another CPU (6.6; older
		// kernels refuse the flag and wake it as before).
		unix.Syscall(unix.SYS_IOCTL, uintptr(listener), unix.SECCOMP_IOCTL_NOTIF_SET_FLAGS, unix.SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP)
	}
	violation := unix.Errno(0)
	if s.opts.Deny {
		violation = unix.EPERM
	}
	for {
		fds := []unix.PollFd{{Fd: int32(listener), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return fmt.Errorf("poll: %w", err)
		}
		if fds[0].Revents&unix.POLLIN == 0 {
			return nil // POLLHUP: every task under the filter is gone
		}
		var n seccompNotif
		if err := ioctl(listener, unix.SECCOMP_IOCTL_NOTIF_RECV, unsafe.Pointer(&n)); err != nil {
			if errors.Is(err, unix.EINTR) || errors.Is(err, unix.ENOENT) {
				continue // ENOENT: the task died before we read it
			}
			return fmt.Errorf("receive: %w", err)
		}
		resp, ok := s.answer(listener, &n, violation)
		if !ok {
			continue // the caller is gone
		}
		if err := ioctl(listener, unix.SECCOMP_IOCTL_NOTIF_SEND, unsafe.Pointer(&resp)); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("respond: %w", err)
		}
	}
}

// answer decides notification n; false: the calling task is gone.
// violation is what a violation of check gets (0: the call runs).
func (s *supervisor) answer(listener int, n *seccompNotif, violation unix.Errno) (seccompNotifResp, bool) {
	d := linuxabi.SeccompData{Nr: n.Nr, Arch: n.Arch, Args: n.Args}
	resp := seccompNotifResp{ID: n.ID, Flags: unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE}
	deny := func(e unix.Errno) {
		if e != 0 {
			resp.Flags, resp.Error = 0, -int32(e)
		}
	}
	ph := s.opts.Phases
	if ph == nil && s.maker != nil {
		return s.makeFile(listener, n)
	}
	if ph == nil {
		s.record(int(n.PID), d, profiles.PhaseAny)
		deny(violation)
		return resp, true
	}
	p, ok := s.phaseOf(listener, n)
	if !ok {
		return resp, false
	}
	if ph.Init != nil && !ph.Init(d) && s.maker != nil {
		// run: a call of an entry for any phase, sent for made files.
		return s.makeFile(listener, n)
	}
	if ph.Init != nil && !ph.Init(d) {
		// check: a call no entry allows, tagged with its phase.
		s.record(int(n.PID), d, p.phase())
		deny(violation)
		return resp, true
	}
	if ph.Notified == nil {
		if p.phase() != profiles.PhaseInit {
			s.record(int(n.PID), d, profiles.PhaseServing)
			deny(violation)
		}
		return resp, true
	}
	act := ph.Notified(p.phase())
	switch act.Kind {
	case profiles.Allow:
		if s.maker != nil {
			return s.makeFile(listener, n)
		}
		return resp, true
	case profiles.Errno:
		deny(unix.Errno(act.Data))
	case profiles.Log:
	default:
		// kill_process, kill_thread, trap, trace (no tracer): SIGKILL
		// first, so the process never returns from the call. The pidfd
		// is the caller's process only if the notification is still
		// pending once it is open.
		pidfd, err := unix.PidfdOpen(p.tgid, 0)
		if err == nil {
			defer unix.Close(pidfd)
		}
		if !notifValid(listener, n.ID) {
			return resp, false
		}
		deny(unix.EPERM)
		act = profiles.ActKillProcess
		if err != nil || unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0) != nil {
			act = profiles.ActEPERM // not a process sysrec can kill: the call fails instead
		}
	}
	name := fmt.Sprintf("syscall %d", n.Nr)
	if a, ok := linuxabi.ArchByAudit(n.Arch); ok {
		name = a.SyscallName(int(n.Nr))
		if a != s.arch {
			name = a.Name + " " + name
		}
	}
	s.refuse(Refusal{PID: p.tgid, Exe: p.comm, Syscall: name, Untracked: !p.tracked, Action: act})
	return resp, true
}

// callerPhase is what the supervisor knows of a notification's caller.
type callerPhase struct {
	tgid    int
	comm    string
	state   uint32
	tracked bool
}

// phase is the phase a sample of the caller is tagged with: an untracked
// process's calls count as serving ones (fail closed).
func (p callerPhase) phase() profiles.Phase {
	if p.tracked && p.state&bpfprog.PhaseServing == 0 {
		return profiles.PhaseInit
	}
	return profiles.PhaseServing
}

// phaseOf finds the process of n's calling thread and its phase. The
// thread's pid was read from the kernel with the notification, but the
// thread may have died and its pid been reused since: only once
// SECCOMP_IOCTL_NOTIF_ID_VALID says the notification is still pending
// (so the thread is alive, its pid its own) is what /proc and the map
// said about it trusted. false: the caller is gone.
func (s *supervisor) phaseOf(listener int, n *seccompNotif) (callerPhase, bool) {
	var p callerPhase
	tgid, comm, err := tgidOf(int(n.PID), s.status[:])
	if err == nil {
		p.tgid, p.comm = tgid, comm
		p.state, p.tracked = s.opts.Phases.Tracker.State(tgid)
	}
	if !notifValid(listener, n.ID) {
		return p, false
	}
	if err != nil {
		// Alive yet unreadable: refused, as a process sysrec does not
		// know is.
		p.tgid, p.tracked = int(n.PID), false
	}
	return p, true
}

// notifValid reports whether notification id is still pending.
func notifValid(listener int, id uint64) bool {
	return ioctl(listener, unix.SECCOMP_IOCTL_NOTIF_ID_VALID, unsafe.Pointer(&id)) == nil
}

// refuse reports r once per executable and syscall.
func (s *supervisor) refuse(r Refusal) {
	k := r.Exe + "\x00" + r.Syscall
	s.mu.Lock()
	if s.refused[k] || len(s.refused) >= MaxViolations {
		s.mu.Unlock()
		return
	}
	s.refused[k] = true
	s.mu.Unlock()
	if s.opts.Phases.OnRefused != nil {
		s.opts.Phases.OnRefused(r)
	}
}

// parseStatus reads the Tgid and Name lines of /proc/PID/status.
func parseStatus(b []byte) (tgid int, comm string, err error) {
	tgid = -1
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":\t")
		switch k {
		case "Name":
			comm = v
		case "Tgid":
			if tgid, err = strconv.Atoi(v); err != nil {
				return 0, "", fmt.Errorf("read status: Tgid %q", v)
			}
		}
	}
	if tgid < 0 {
		return 0, "", errors.New("read status: no Tgid line")
	}
	return tgid, comm, nil
}

// record aggregates one call as a recording would: by syscall and its
// recorded argument values, masked by the argument table; a call of the
// compat ABI (i386 on x86_64) as a sample of its arch.
func (s *supervisor) record(pid int, d linuxabi.SeccompData, phase profiles.Phase) {
	sample := profiles.Sample{Nr: int(d.Nr), Phase: phase}
	if a, ok := linuxabi.ArchByAudit(d.Arch); ok && (a == s.arch || a.Name == s.arch.Compat) {
		if a != s.arch {
			sample.Arch = a.Name
		}
		sample.Name = a.SyscallName(int(d.Nr))
		sample.Args, sample.Recorded = a.MaskArgs(sample.Name, d.Args)
	}
	k := sampleKey{sample.Arch, sample.Nr, sample.Args, phase}
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.index[k]; ok {
		s.samples[i].Count++
		return
	}
	if len(s.samples) >= MaxViolations {
		s.dropped++
		return
	}
	sample.Count = 1
	s.index[k] = len(s.samples)
	s.samples = append(s.samples, sample)
	if s.opts.OnNew != nil {
		s.opts.OnNew(sample, pid)
	}
}

func ioctl(fd int, req uint, arg unsafe.Pointer) error {
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(arg))
	if errno != 0 {
		return errno
	}
	return nil
}
