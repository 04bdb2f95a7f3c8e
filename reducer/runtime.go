package reducer

import (
	"fmt"
	"slices"

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
	// RuntimeGlibc is a dynamically linked glibc program: when clone3
	// gets ENOSYS, glibc falls back to clone (pthread_create,
	// posix_spawn), so clone3 can be answered ENOSYS and clone checked.
	RuntimeGlibc = "glibc"
	// RuntimeGlibcThreads is a glibc program that creates threads (it
	// or a library it links imports pthread_create).
	RuntimeGlibcThreads = "glibc-threads"
	// RuntimePython is CPython, a glibc program with threads of its own.
	RuntimePython = "python"
	// RuntimeNode is node (V8 and libuv), a glibc program with threads
	// of its own.
	RuntimeNode = "node"
)

// Runtimes lists the runtime names Options.Runtime takes.
var Runtimes = []string{RuntimeGo, RuntimeGlibc, RuntimeGlibcThreads, RuntimePython, RuntimeNode}

// isGlibc reports whether rt is a glibc program's runtime.
func isGlibc(rt string) bool {
	return rt == RuntimeGlibc || rt == RuntimeGlibcThreads || rt == RuntimePython || rt == RuntimeNode
}

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

// glibcLocks is what every glibc program may do on its own, depending on
// timing or on the size of its input: its internal locks (stdio streams,
// malloc, the dynamic linker, atexit handlers) are futexes, waited on and
// woken when contended (measured: gzip wakes one on some inputs and not
// others), and malloc moves a block above the mmap threshold with mremap
// when it is realloc'd (measured: python3 and gcc on larger inputs).
var glibcLocks = []profiles.Syscall{
	{Name: "futex", Reason: "glibc: internal locks (stdio, malloc, the dynamic linker) wait and wake on futexes when contended",
		Args: []profiles.ArgRule{{Index: 1, Op: profiles.OpIn, Mask: 0x7f, Values: []uint64{0, 1, 9, 10}}}},
	{Name: "mremap", Reason: "glibc malloc: realloc of a block above the mmap threshold moves it with mremap; whether one grows that big depends on the input"},
}

// glibcErrors is how a glibc program says why it failed: perror dups
// stderr and fdopen()s the copy, which asks its mode with F_GETFL, then
// closes it (stdio-common/perror.c, libio/iofdopen.c). A recorded run
// that succeeded never makes them; a run on an input that fails does,
// and a profile that kills it there hides the error message (measured
// with strace: dup(2), fcntl(3, F_GETFL), close(3)).
var glibcErrors = []profiles.Syscall{
	{Name: "dup", Reason: "glibc perror: dups stderr to print the error on a stream of its own"},
	{Name: "fcntl", Reason: "glibc perror: fdopen of the copy of stderr asks its mode (F_GETFL)",
		Args: []profiles.ArgRule{{Index: 1, Op: profiles.OpIn, Values: []uint64{3}}}},
	{Name: "close", Reason: "glibc perror: closes its copy of stderr"},
}

// glibcThreads lists what glibc's threads do at moments that depend on
// timing or on the input (how many threads, whether a lock was
// contended); see nptl/allocatestack.c, nptl/pthread_create.c,
// malloc/arena.c and sysdeps/nptl/lowlevellock.h. A run whose threads
// never contended makes no futex call; the next one does.
var glibcThreads = []profiles.Syscall{
	{Name: "clone", Reason: "glibc threads: pthread_create, and fork/posix_spawn, call clone when clone3 gets ENOSYS",
		Args: []profiles.ArgRule{{Index: 0, Op: profiles.OpSubset, Mask: glibcClone}}},
	{Name: "clone3", Action: profiles.ActENOSYS, Reason: "glibc threads: clone3 passes its flags behind a pointer the filter cannot check; ENOSYS makes glibc fall back to clone, whose flags it does check"},
	{Name: "set_robust_list", Reason: "glibc threads: every new thread registers its robust mutex list"},
	{Name: "rseq", Reason: "glibc threads: every new thread registers its restartable sequence area"},
	{Name: "madvise", Reason: "glibc threads: a finished thread's stack and a trimmed malloc arena are released with MADV_DONTNEED",
		Args: []profiles.ArgRule{{Index: 2, Op: profiles.OpIn, Values: []uint64{4}}}},
	{Name: "mmap", Reason: "glibc threads: thread stacks, and a malloc arena per thread that contends for malloc",
		Args: []profiles.ArgRule{{Index: 2, Op: profiles.OpSubset, Mask: 0x3}, {Index: 3, Op: profiles.OpSubset, Mask: 0x2 | 0x20 | 0x4000 | 0x20000}}},
	{Name: "mprotect", Reason: "glibc threads: stack guard pages and growing malloc arenas",
		Args: []profiles.ArgRule{{Index: 2, Op: profiles.OpSubset, Mask: 0x3}}},
	{Name: "munmap", Reason: "glibc threads: freeing thread stacks and arenas"},
	{Name: "rt_sigprocmask", Reason: "glibc threads: pthread_create blocks every signal around clone",
		Args: []profiles.ArgRule{{Index: 0, Op: profiles.OpIn, Values: []uint64{0, 1, 2}}}},
}

// glibcThreadFiles are the files glibc's threads read on their own:
// malloc reads the overcommit policy before it shrinks a thread's arena
// (malloc/arena.c: shrink_heap, check_may_shrink_heap), which happens
// when a thread frees enough at the top of its arena: the input decides
// (measured: python3's http.server serving a 2 MB file, not a page).
var glibcThreadFiles = []baselineRule{
	{"/proc/sys/vm/overcommit_memory", llReadFile, "glibc threads: malloc reads the overcommit policy before shrinking a thread's arena (malloc/arena.c check_may_shrink_heap), when enough was freed"},
}

// zoneFiles are the files every runtime reads on its own: the time zone
// database, the first time a time is turned into local time (glibc's
// time/tzfile.c, Go's time/zoneinfo_unix.go: $TZ's file under
// /usr/share/zoneinfo, or /etc/localtime, a link into it that Landlock
// checks where it leads). A run that prints no date never reads it; the
// next one lists an archive (7zz l), writes a log line or an error with
// a date. Public data the distribution installs.
var zoneFiles = []baselineRule{
	{"/usr/share/zoneinfo", llReadFile, "time zones: localtime reads the time zone database ($TZ's file, or where /etc/localtime leads) the first time a date is printed, which the recorded input may not have done"},
}

// runtimeFiles returns the Landlock rules of runtime rt's baseline.
func runtimeFiles(rt string) []baselineRule {
	switch rt {
	case RuntimeGlibc, RuntimeGo:
		return zoneFiles
	case RuntimeGlibcThreads, RuntimePython, RuntimeNode:
		return append(slices.Clone(zoneFiles), glibcThreadFiles...)
	}
	return nil
}

// runtimeBaseline returns the baseline profile of runtime rt for arches,
// with rules in the form the level uses.
func runtimeBaseline(rt string, arches []string, def profiles.Action, level Level) (*profiles.Profile, error) {
	p := &profiles.Profile{Version: profiles.Version, Arch: arches, DefaultAction: def}
	switch rt {
	case RuntimeNone:
		return nil, nil
	case RuntimeGo:
		p.Syscalls = append(p.Syscalls, goRuntime...)
	case RuntimeGlibc:
		p.Syscalls = append(p.Syscalls, glibcLocks...)
		p.Syscalls = append(p.Syscalls, glibcErrors...)
	case RuntimeGlibcThreads:
		p.Syscalls = append(p.Syscalls, glibcLocks...)
		p.Syscalls = append(p.Syscalls, glibcErrors...)
		p.Syscalls = append(p.Syscalls, glibcThreads...)
	case RuntimePython:
		p.Syscalls = append(p.Syscalls, glibcLocks...)
		p.Syscalls = append(p.Syscalls, glibcErrors...)
		p.Syscalls = append(p.Syscalls, glibcThreads...)
		p.Syscalls = append(p.Syscalls, cpython...)
	case RuntimeNode:
		p.Syscalls = append(p.Syscalls, glibcLocks...)
		p.Syscalls = append(p.Syscalls, glibcErrors...)
		p.Syscalls = append(p.Syscalls, glibcThreads...)
		p.Syscalls = append(p.Syscalls, nodeRuntime...)
	default:
		return nil, fmt.Errorf("unknown runtime %q (want go, glibc, glibc-threads, python, node or none)", rt)
	}
	if level != LevelExact && level != "" {
		p.Syscalls = relaxEntries(p.Syscalls)
	}
	return p, nil
}

// cpython lists what CPython's own threads add to glibc's. The GIL is a
// condition variable its holder is asked to drop every 5 ms, a timed
// futex wait whose ops the glibc sets already allow; 50 reruns of a
// threaded script under profiles with the glibc sets were never killed
// (docs/generalisation.md), so nothing more is listed.
var cpython = []profiles.Syscall{}

// nodeRuntime lists what node's own threads add to glibc's: V8's
// spinning locks (the heap's and the compiler's background threads)
// yield the CPU while they spin, so whether a run calls sched_yield
// depends on timing (measured: node -e building a 200000-element array
// called it in 2 of 3 runs; the corpus's node held-out runs were killed
// by it at every level that did not reach it statically).
var nodeRuntime = []profiles.Syscall{
	{Name: "sched_yield", Reason: "node runtime: V8's spinning locks yield the CPU while they wait"},
}
