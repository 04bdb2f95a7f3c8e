package enforce

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/bpfprog"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// ErrNoPhases wraps why this process cannot know the phase of the
// processes it supervises: the caller says how to run without.
var ErrNoPhases = errors.New("cannot track phases")

// PhaseTracker is the enforcer's view of each supervised process's phase:
// bpfprog's phase object, loaded with one transition and attached. A
// process is tracked once Enrol'd, and so is every process it forks.
type PhaseTracker struct {
	objs  bpfprog.PhaseObjects
	links []link.Link
}

// initPidNS is the inode of the initial pid namespace (PROC_PID_INIT_INO,
// include/linux/proc_ns.h): fixed since 3.8.
const initPidNS = 0xEFFFFFFC

// TrackPhases loads and attaches the phase object for transition t on
// the native arch. The programs key processes by their pid in the
// initial pid namespace and the supervisor names them by its own pid
// namespace's numbers, so it must run in the initial one; and it needs
// BPF (root, or CAP_BPF and CAP_PERFMON).
func TrackPhases(t profiles.Transition) (*PhaseTracker, error) {
	return trackPhases(t, bpfprog.PhaseMaxProcesses)
}

// trackPhases is TrackPhases with a map of maxProcs processes.
func trackPhases(t profiles.Transition, maxProcs uint32) (*PhaseTracker, error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/pid", &st); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoPhases, err)
	}
	if st.Ino != initPidNS {
		return nil, fmt.Errorf("%w: sysrec runs in a pid namespace other than the initial one, whose pids the kernel's phase programs cannot be matched with", ErrNoPhases)
	}
	arch, err := linuxabi.Native()
	if err != nil {
		return nil, err
	}
	after, err := t.Numbers(arch)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoPhases, err)
	}
	rule, err := bpfprog.NewPhaseRule(after, t.Blocking, t.Gate == profiles.GateListen)
	if err != nil {
		return nil, err
	}
	spec, err := bpfprog.PhaseSpec()
	if err != nil {
		return nil, fmt.Errorf("load phase program: %w", err)
	}
	spec.Maps["phases"].MaxEntries = maxProcs
	if err := spec.Variables["rule"].Set(rule); err != nil {
		return nil, fmt.Errorf("set phase rule: %w", err)
	}
	for v, name := range bpfprog.PhaseNumbers {
		if nr, ok := arch.Number(name); ok {
			if err := spec.Variables[v].Set(uint32(nr)); err != nil {
				return nil, fmt.Errorf("set %s: %w", v, err)
			}
		}
	}
	// Harmless where BPF memory is cgroup-accounted; needed before 5.11.
	_ = rlimit.RemoveMemlock()
	pt := &PhaseTracker{}
	if err := spec.LoadAndAssign(&pt.objs, nil); err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("%w: load phase program: %+v", ErrNoPhases, ve)
		}
		return nil, fmt.Errorf("%w: load phase program: %w", ErrNoPhases, err)
	}
	for _, p := range []*ebpf.Program{pt.objs.PhaseSysEnter, pt.objs.PhaseFork, pt.objs.PhaseExit} {
		l, err := link.AttachTracing(link.TracingOptions{Program: p})
		if err != nil {
			pt.Close()
			return nil, fmt.Errorf("%w: attach phase program: %w", ErrNoPhases, err)
		}
		pt.links = append(pt.links, l)
	}
	return pt, nil
}

// Close detaches the programs and frees the map.
func (pt *PhaseTracker) Close() error {
	for _, l := range pt.links {
		l.Close()
	}
	return pt.objs.Close()
}

// Enrol starts tracking process pid (a pid of the initial pid
// namespace), in init. Call it before the process can fork or exec, and
// before Seal.
func (pt *PhaseTracker) Enrol(pid int) error {
	if err := pt.objs.Phases.Update(uint32(pid), uint32(0), ebpf.UpdateAny); err != nil {
		return fmt.Errorf("enrol process %d: %w", pid, err)
	}
	return nil
}

// Seal freezes the map against system calls (BPF_MAP_FREEZE, 5.2):
// from here on only the tracker's programs, whose writes a freeze does
// not stop, change a state. A process that may open the map by its id
// (BPF_MAP_GET_FD_BY_ID, CAP_SYS_ADMIN) reads it and no more; writing it
// needs a BPF program of its own (run refuses phases to a profile that
// allows loading one). The rule and numbers are read-only to programs
// and frozen at load (.rodata); lost_forks (.bss, mapped writable, so it
// cannot be frozen) only counts, no decision reads it.
func (pt *PhaseTracker) Seal() error {
	if err := pt.objs.Phases.Freeze(); err != nil {
		return fmt.Errorf("freeze phase map: %w", err)
	}
	return nil
}

// State returns process pid's phase bits (bpfprog.PhaseListened,
// bpfprog.PhaseServing) and whether it is tracked.
func (pt *PhaseTracker) State(pid int) (uint32, bool) {
	var st uint32
	if err := pt.objs.Phases.Lookup(uint32(pid), &st); err != nil {
		return 0, false
	}
	return st, true
}

// LostForks is how many processes forked by tracked ones found the map
// full (bpfprog.PhaseMaxProcesses): untracked, each was refused its init
// calls.
func (pt *PhaseTracker) LostForks() uint64 {
	var n uint64
	if err := pt.objs.LostForks.Get(&n); err != nil {
		return 0
	}
	return n
}

// tgidOf reads the thread group id of thread tid from /proc: the start
// of its status file (Name, Umask, State, Tgid come first), in one read
// into a buffer of the supervisor's, as it runs for every init call.
func tgidOf(tid int, buf []byte) (tgid int, comm string, err error) {
	fd, err := unix.Open("/proc/"+strconv.Itoa(tid)+"/status", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, "", err
	}
	n, err := unix.Read(fd, buf)
	unix.Close(fd)
	if err != nil {
		return 0, "", err
	}
	return parseStatus(buf[:n])
}
