package reducer

import (
	"fmt"

	"github.com/sysrec/sysrec/profiles"
)

// Runtimes with background threads make some calls at moments that
// depend on timing: one run makes them, the next may not. A profile
// learned from one run would then kill a later run. The runtime baseline
// adds those calls (with their arguments) for a runtime the target is
// known to use.
const (
	RuntimeNone = ""
	RuntimeGo   = "go"
)

// goRuntime lists what the Go runtime (1.21+, linux) does on its own at
// timing-dependent moments; see runtime/os_linux.go, lock_futex.go,
// signal_unix.go and mem_linux.go.
var goRuntime = []profiles.Syscall{
	{Name: "sched_yield", Reason: "go runtime: osyield while spinning on a runtime lock"},
	{Name: "nanosleep", Reason: "go runtime: usleep in sysmon and lock backoff"},
	{Name: "futex", Reason: "go runtime: parking and waking threads (FUTEX_WAIT/WAKE_PRIVATE)",
		Args: []profiles.ArgRule{{Index: 1, Op: profiles.OpIn, Mask: 0x7f, Values: []uint64{0, 1}}}},
	{Name: "getpid", Reason: "go runtime: preemption signals go to tgkill(getpid(), tid)"},
	{Name: "tgkill", Reason: "go runtime: SIGURG preempts a running goroutine (sysmon, GC)",
		Args: []profiles.ArgRule{{Index: 2, Op: profiles.OpIn, Values: []uint64{23}}}},
	{Name: "gettid", Reason: "go runtime: every new thread"},
	{Name: "sigaltstack", Reason: "go runtime: every new thread"},
	{Name: "rt_sigprocmask", Reason: "go runtime: every new thread",
		Args: []profiles.ArgRule{{Index: 0, Op: profiles.OpIn, Values: []uint64{0, 1, 2}}}},
	{Name: "clone", Reason: "go runtime: a new thread when one blocks in a syscall (CLONE_VM|FS|FILES|SIGHAND|SYSVSEM|THREAD|SETTLS)",
		Args: []profiles.ArgRule{{Index: 0, Op: profiles.OpSubset, Mask: 0x100 | 0x200 | 0x400 | 0x800 | 0x40000 | 0x10000 | 0x80000}}},
	{Name: "mmap", Reason: "go runtime: heap growth (PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED)",
		Args: []profiles.ArgRule{{Index: 2, Op: profiles.OpSubset, Mask: 0x3}, {Index: 3, Op: profiles.OpSubset, Mask: 0x2 | 0x20 | 0x10 | 0x4000}}},
	{Name: "munmap", Reason: "go runtime: returning memory"},
	{Name: "madvise", Reason: "go runtime: the scavenger and huge page hints",
		Args: []profiles.ArgRule{{Index: 2, Op: profiles.OpIn, Values: []uint64{4, 8, 14, 15, 25}}}},
	{Name: "rt_sigreturn", Reason: "go runtime: return from the preemption signal"},
	{Name: "epoll_pwait", Reason: "go runtime: an idle scheduler polls the network poller once it is in use"},
}

// runtimeBaseline returns the baseline profile of runtime rt for arches.
func runtimeBaseline(rt string, arches []string, def profiles.Action) (*profiles.Profile, error) {
	switch rt {
	case RuntimeNone:
		return nil, nil
	case RuntimeGo:
		p := &profiles.Profile{Version: profiles.Version, Arch: arches, DefaultAction: def}
		p.Syscalls = append(p.Syscalls, goRuntime...)
		return p, nil
	}
	return nil, fmt.Errorf("unknown runtime %q (want go or none)", rt)
}
