package emit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// An OCI runtime installs the container's seccomp filter in its own init
// process and then, still under that filter, finishes setting up and
// execs the container's process. A profile recorded from the program
// alone lacks those calls, and the container never starts (Docker:
// "cannot start a stopped process"). ContainerRuntimes is what each runtime
// calls in that window, learned on this machine's versions by
// TestContainerSetup (strace of the runtime's init from the filter's
// install to its execve, with and without no_new_privs); the OCI and
// SPO formats add those calls the profile does not already allow, and
// nothing more.

// ContainerSetupCall is one call a runtime's init makes after installing the
// filter and before exec'ing the container's process.
type ContainerSetupCall struct {
	Name string
	// Args constrain the arguments the argument table records to the
	// values the runtime passed (masked as the table masks them).
	Args []profiles.ArgRule
	// WithoutNNP: made only when the container runs without
	// no_new_privs (Docker's and Podman's default): the runtime then
	// installs the filter before it drops privileges, so dropping them
	// happens under the filter.
	WithoutNNP bool
	// Timing: made in some runs only (the Go runtime of runc's init
	// waking or waiting for another thread, returning from a signal).
	Timing bool
	Reason string
}

// ContainerRuntime is the setup calls of one OCI runtime, learned on one version.
type ContainerRuntime struct {
	Name    string // runc, crun
	Version string // as `NAME --version` prints it on its first line
	Source  string // how and where the calls were learned
	Calls   []ContainerSetupCall
}

// ContainerRuntimes returns the setup calls of every runtime sysrec knows.
func ContainerRuntimes() []ContainerRuntime {
	out := make([]ContainerRuntime, len(containerRuntimes))
	for i, r := range containerRuntimes {
		r.Calls = slices.Clone(r.Calls)
		out[i] = r
	}
	return out
}

func in(index int, mask uint64, values ...uint64) []profiles.ArgRule {
	return []profiles.ArgRule{{Index: index, Op: profiles.OpIn, Mask: mask, Values: values}}
}

// signals 1..64 but 32 and 33 (glibc's own): what crun resets.
func crunSignals() []uint64 {
	var s []uint64
	for n := uint64(1); n <= 64; n++ {
		if n != 32 && n != 33 {
			s = append(s, n)
		}
	}
	return s
}

// The masks the recorder applies (O_CLOEXEC and O_NONBLOCK dropped from
// open flags, FUTEX_PRIVATE_FLAG from futex ops): a setup call is
// matched as the recorder would have recorded it.
var (
	openAccessMask = linuxabi.RecordMasks("openat")[2]
	futexCmdMask   = linuxabi.RecordMasks("futex")[1]
)

var containerRuntimes = []ContainerRuntime{
	{
		Name:    "runc",
		Version: "runc version 1.1.5+ds1",
		Source:  "strace -f of `runc run` (Debian 12 runc 1.1.5+ds1-1+deb12u1, go1.19.8, libseccomp 2.5.4; Linux 6.18), the installing thread from prctl(PR_SET_SECCOMP) to execve, 10 runs each with and without noNewPrivileges, by `runc run` and by `runc create` + `runc start` (TestContainerSetup)",
		Calls: []ContainerSetupCall{
			{Name: "close", Reason: "closes the init pipe, the log pipe, the exec fifo and the /proc/self/fd listing (standard_init_linux.go)"},
			{Name: "openat", Args: in(2, openAccessMask, 0, 1), Reason: "opens the exec fifo for writing (O_WRONLY) to signal `runc start`, /proc/self/fd and /proc files for reading"},
			{Name: "write", Reason: "writes \"0\" to the exec fifo: the container is started"},
			{Name: "getpid", Reason: "the container's pid for the state passed to startContainer hooks"},
			{Name: "epoll_ctl", Args: in(1, 0, 1), Reason: "Go's os.Open registers /proc/self/fd with the poller (EPOLL_CTL_ADD, fails with EPERM for a directory)"},
			{Name: "fstatfs", Reason: "UnsafeCloseFrom checks /proc/self/fd is on procfs before trusting it"},
			{Name: "getdents64", Reason: "UnsafeCloseFrom lists /proc/self/fd to close what the container must not inherit"},
			{Name: "execve", Reason: "execs the container's process under the filter"},
			{Name: "futex", Args: in(1, futexCmdMask, 0, 1), Timing: true, Reason: "Go runtime of runc init: FUTEX_WAIT/FUTEX_WAKE between its threads (seen in 8 of 10 runs with, 9 of 10 without no_new_privs)"},
			{Name: "rt_sigreturn", Timing: true, Reason: "Go runtime of runc init: returns from a preemption signal (seen in 3 of 10 and 1 of 10 runs)"},
			// What else the Go runtime can do on the installing thread, at
			// moments that depend on timing (not seen in 40 traced runs;
			// an enforced container failed to start 1 in about 40 under
			// load): a mark assist scanning another goroutine's stack
			// preempts it and backs off, an allocation grows the heap or
			// starts a thread (which inherits the filter and sets up its
			// signal stack under it). See runtime/preempt.go, mgcmark.go,
			// lock_futex.go, mem_linux.go, os_linux.go (go1.19).
			{Name: "tgkill", Args: in(2, 0, 23), Timing: true, Reason: "Go runtime of runc init: preempts another goroutine with SIGURG (GC stack scan)"},
			{Name: "sched_yield", Timing: true, Reason: "Go runtime of runc init: osyield while waiting for a goroutine to stop or a runtime lock"},
			{Name: "nanosleep", Timing: true, Reason: "Go runtime of runc init: usleep while waiting for a goroutine to stop"},
			{Name: "mmap", Args: []profiles.ArgRule{{Index: 2, Op: profiles.OpIn, Values: []uint64{0, 3}}, {Index: 3, Op: profiles.OpIn, Values: []uint64{0x22, 0x32}}}, Timing: true, Reason: "Go runtime of runc init: heap growth (PROT_NONE reserve, then PROT_READ|PROT_WRITE with MAP_FIXED; MAP_PRIVATE|MAP_ANONYMOUS)"},
			{Name: "munmap", Timing: true, Reason: "Go runtime of runc init: returns memory"},
			{Name: "madvise", Args: in(2, 0, 4, 8, 14, 15, 25), Timing: true, Reason: "Go runtime of runc init: scavenger and huge-page hints (MADV_DONTNEED, FREE, HUGEPAGE, NOHUGEPAGE, COLLAPSE)"},
			{Name: "clone", Args: in(0, 0, 0xd0f00), Timing: true, Reason: "Go runtime of runc init: a new thread (CLONE_VM|FS|FILES|SIGHAND|SYSVSEM|THREAD|SETTLS, the runtime's only flags)"},
			{Name: "rt_sigprocmask", Args: in(0, 0, 0, 1, 2), Timing: true, Reason: "Go runtime of runc init: blocks signals around clone; the new thread sets its mask"},
			{Name: "sigaltstack", Timing: true, Reason: "Go runtime of runc init: a new thread installs its signal stack under the inherited filter"},
			{Name: "gettid", Timing: true, Reason: "Go runtime of runc init: a new thread learns its id"},
			{Name: "fcntl", Args: in(1, 0, 2), WithoutNNP: true, Reason: "CloseExecFrom marks every inherited descriptor close-on-exec (F_SETFD)"},
			{Name: "chdir", WithoutNNP: true, Reason: "enters process.cwd"},
			{Name: "capget", WithoutNNP: true, Reason: "reads the capability sets before changing them"},
			{Name: "read", WithoutNNP: true, Reason: "reads /proc/sys/kernel/cap_last_cap and the user and group databases"},
			{Name: "prctl", Args: in(0, 0, 8, 24, 47), WithoutNNP: true, Reason: "PR_CAPBSET_DROP for the bounding set, PR_SET_KEEPCAPS around setuid, PR_CAP_AMBIENT for the ambient set"},
			{Name: "newfstatat", WithoutNNP: true, Reason: "stats /dev/null for stdio and the executable for exec.LookPath"},
			{Name: "fstat", WithoutNNP: true, Reason: "fixStdioPermissions stats descriptors 0, 1 and 2"},
			{Name: "setgroups", WithoutNNP: true, Reason: "sets process.user.additionalGids"},
			{Name: "setgid", WithoutNNP: true, Reason: "sets process.user.gid"},
			{Name: "setuid", WithoutNNP: true, Reason: "sets process.user.uid"},
			{Name: "getcwd", WithoutNNP: true, Reason: "checks the working directory after changing user"},
			{Name: "capset", WithoutNNP: true, Reason: "sets process.capabilities"},
			{Name: "getppid", WithoutNNP: true, Reason: "checks the parent is still alive after setuid cleared the parent-death signal"},
			{Name: "faccessat2", WithoutNNP: true, Reason: "exec.LookPath checks the executable is executable"},
		},
	},
	{
		Name:    "crun",
		Version: "crun version 1.8.1",
		Source:  "strace -f of `crun run` (Debian 12 crun 1.8.1-1+deb12u1, libseccomp 2.5.4; Linux 6.18), the installing thread from seccomp(SECCOMP_SET_MODE_FILTER) to execve, 10 runs each with and without noNewPrivileges, by `crun run` and by `crun create` + `crun start` (TestContainerSetup)",
		Calls: []ContainerSetupCall{
			{Name: "close", Reason: "closes the seccomp filter's descriptor and the sync socket"},
			{Name: "execve", Reason: "execs the container's process under the filter"},
			{Name: "prctl", Args: in(0, 0, 8, 24, 47), WithoutNNP: true, Reason: "PR_CAPBSET_DROP for the bounding set, PR_SET_KEEPCAPS around setresuid, PR_CAP_AMBIENT for the ambient set"},
			{Name: "setresgid", WithoutNNP: true, Reason: "sets process.user.gid"},
			{Name: "setresuid", WithoutNNP: true, Reason: "sets process.user.uid"},
			{Name: "capset", WithoutNNP: true, Reason: "sets process.capabilities"},
			{Name: "rt_sigprocmask", Args: in(0, 0, 1), WithoutNNP: true, Reason: "unblocks every signal for the container's process (SIG_UNBLOCK)"},
			{Name: "rt_sigaction", Args: in(0, 0, crunSignals()...), WithoutNNP: true, Reason: "resets every signal's handler to the default (1..64 but glibc's 32 and 33)"},
			{Name: "write", WithoutNNP: true, Reason: "tells crun's parent process the container is ready"},
			{Name: "pselect6", WithoutNNP: true, Reason: "create/start (as Podman runs it): waits on the exec fifo for `crun start`"},
			{Name: "read", WithoutNNP: true, Reason: "create/start: reads `crun start`'s byte from the exec fifo"},
		},
	},
}

// ContainerSetupAll and ContainerSetupNone are the two spellings of
// Options.ContainerSetup that name no runtime.
const (
	ContainerSetupAll  = "all"
	ContainerSetupNone = "none"
)

// containerSetupCalls resolves a ContainerSetup spec: "" or "all" (every
// runtime, with and without no_new_privs), "none", or a comma-separated
// list of runtimes, each optionally with ":nnp" for containers run
// with no_new_privs (Docker's --security-opt no-new-privileges).
func containerSetupCalls(spec string) ([]ContainerSetupCall, []string, error) {
	if spec == ContainerSetupNone {
		return nil, nil, nil
	}
	type want struct{ nnp bool }
	wanted := map[string]want{}
	if spec == "" || spec == ContainerSetupAll {
		for _, r := range containerRuntimes {
			wanted[r.Name] = want{}
		}
	} else {
		for _, part := range strings.Split(spec, ",") {
			name, mode, _ := strings.Cut(strings.TrimSpace(part), ":")
			if mode != "" && mode != "nnp" {
				return nil, nil, fmt.Errorf("runtime setup %q: unknown mode %q (want RUNTIME or RUNTIME:nnp)", part, mode)
			}
			if !slices.ContainsFunc(containerRuntimes, func(r ContainerRuntime) bool { return r.Name == name }) {
				return nil, nil, fmt.Errorf("runtime setup %q: unknown runtime %q (known: %s, or all, none)", part, name, strings.Join(containerRuntimeNames(), ", "))
			}
			wanted[name] = want{nnp: mode == "nnp"}
		}
	}
	var calls []ContainerSetupCall
	var from []string
	for _, r := range containerRuntimes {
		w, ok := wanted[r.Name]
		if !ok {
			continue
		}
		for _, c := range r.Calls {
			if c.WithoutNNP && w.nnp {
				continue
			}
			calls = append(calls, c)
			from = append(from, r.Name+" ("+r.Version+")")
		}
	}
	return calls, from, nil
}

func containerRuntimeNames() []string {
	var names []string
	for _, r := range containerRuntimes {
		names = append(names, r.Name)
	}
	return names
}

// WithContainerSetup returns a copy of p that also allows the setup calls
// of the runtimes spec names (see Options.ContainerSetup) which p does not
// already allow. The added entries come after p's own, so p's decision
// stands wherever p has an entry that matches.
func WithContainerSetup(p *profiles.Profile, spec string) (*profiles.Profile, error) {
	calls, from, err := containerSetupCalls(spec)
	if err != nil {
		return nil, err
	}
	out := p.Clone()
	for i, c := range calls {
		if covered(p, c) {
			continue
		}
		if !knownSyscall(p, c.Name) {
			continue
		}
		// Merge into an entry added for the same call by another runtime.
		merged := false
		for j := len(p.Syscalls); j < len(out.Syscalls); j++ {
			s := &out.Syscalls[j]
			if s.Name != c.Name {
				continue
			}
			if joined, ok := profiles.UnionRules(c.Name, s.Args, c.Args); ok {
				s.Args = joined
				s.Reason += "; " + from[i] + ": " + c.Reason
				merged = true
				break
			}
		}
		if merged {
			continue
		}
		out.Syscalls = append(out.Syscalls, profiles.Syscall{
			Name:   c.Name,
			Args:   slices.Clone(c.Args),
			Reason: "runtime setup, " + from[i] + ": " + c.Reason,
		})
	}
	return out, nil
}

// knownSyscall reports whether one of p's arches has the call (arm64
// has no open or newfstatat of its own, for one).
func knownSyscall(p *profiles.Profile, name string) bool {
	return slices.ContainsFunc(p.Arch, func(a string) bool {
		arch, err := linuxabi.LookupArch(a)
		if err != nil {
			return false
		}
		_, ok := arch.Number(name)
		return ok
	})
}

// covered reports whether p already allows every call c stands for:
// some entry of p allows a superset of c's calls, and no entry before
// it could give any of them another action.
func covered(p *profiles.Profile, c ContainerSetupCall) bool {
	for _, s := range p.Syscalls {
		if s.Name != c.Name {
			continue
		}
		if s.EffectiveAction() != profiles.ActAllow {
			return false
		}
		if profiles.RulesImply(c.Name, c.Args, s.Args) {
			return true
		}
	}
	return false
}
