package policy

// AnyPhase reports whether the syscall called name may be needed at any
// moment of a process's life, whatever phase a recording saw it in, and
// why: a call a runtime, an allocator or the kernel makes on its own at
// moments no workload decides (a lock contended, a heap grown, a signal
// delivered). A profile never restricts such a call to the init phase,
// even when every recorded call of it came before its process served:
// the next run may make it while serving, and a kill there is a serving
// daemon killed for nothing. Every member is ordinary
// (TestAnyPhaseOrdinary): phases never keep a door open for this reason.
//
// The set is the intersection of what the phase work found necessary
// after the transition: TSP's and SysPart's serving filters keep memory
// management, futex, time, signal return and exit in every program they
// measured (Ghavamnia et al., USENIX Security 2020, Table 2's serving
// sets; SysPart, CCS 2023, §4.8), and egress-eddie's hand-written Go
// filter installed after initialisation (cmd/egress-eddie/seccomp.go)
// keeps futex, mmap, munmap, madvise, nanosleep, sched_yield,
// rt_sigreturn, rt_sigprocmask, sigaltstack, restart_syscall, getpid,
// gettid and exit_group.
func AnyPhase(name string) (bool, string) {
	why, ok := anyPhase[name]
	return ok, why
}

// AnyPhaseSyscalls lists the members of every AnyPhase group, by group.
func AnyPhaseSyscalls() [][]string {
	out := make([][]string, len(anyPhaseGroups))
	for i, g := range anyPhaseGroups {
		out[i] = append([]string(nil), g.names...)
	}
	return out
}

type anyPhaseGroup struct {
	why   string
	names []string
}

var anyPhaseGroups = []anyPhaseGroup{
	{"memory: malloc grows and trims its heaps (brk, mmap, mprotect of a thread arena, mremap on realloc, madvise/munmap on free) whenever the input makes it allocate; argument rules (W^X) still apply (TSP/SysPart serving sets; egress-eddie: mmap, munmap, madvise)",
		[]string{"brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise"}},
	{"futex: every lock that is contended waits and wakes on a futex, at moments timing decides (TSP/SysPart serving sets; egress-eddie)",
		[]string{"futex", "futex_time64"}},
	{"time: clocks and sleeps are read and taken by timers, logs and backoff at any moment, usually through the vDSO when it can (egress-eddie: nanosleep)",
		[]string{"clock_gettime", "clock_gettime64", "gettimeofday", "time", "clock_getres", "clock_getres_time64", "nanosleep", "clock_nanosleep", "clock_nanosleep_time64"}},
	{"signals: returning from a handler, and the masks a runtime sets around critical sections and on its alternate stack, follow signal delivery, not the program's phase (egress-eddie: rt_sigreturn, rt_sigprocmask, sigaltstack)",
		[]string{"rt_sigreturn", "sigreturn", "rt_sigprocmask", "sigprocmask", "sigaltstack"}},
	{"restart: the kernel restarts an interrupted sleep with it after a signal (egress-eddie)",
		[]string{"restart_syscall"}},
	{"thread identity: runtimes and loggers ask who is calling at any moment (Go: tgkill(getpid(), gettid()) preemption; egress-eddie: getpid, gettid)",
		[]string{"gettid", "getpid"}},
	{"yield: spinning locks give up the CPU while they wait (Go runtime, V8; egress-eddie: sched_yield)",
		[]string{"sched_yield"}},
	{"close: descriptors are closed whenever a connection, a file or a pipe is done (TSP/SysPart serving sets; nginx's worker serving set measured here)",
		[]string{"close"}},
	{"exit: a thread or process may end in any phase (TSP/SysPart keep exit_group; egress-eddie)",
		[]string{"exit", "exit_group"}},
}

var anyPhase = func() map[string]string {
	m := map[string]string{}
	for _, g := range anyPhaseGroups {
		for _, n := range g.names {
			if _, dup := m[n]; dup {
				panic("policy: " + n + " is in two any-phase groups")
			}
			m[n] = g.why
		}
	}
	return m
}()

// PhaseDoor reports whether the syscall called name opens a door an
// exploit running in a serving process would use, and why: such a call
// recorded only before its process served is refused once it serves.
// Every sensitive or critical syscall is one (its tier says why), and so
// are the ordinary calls Temporal System Call Specialization counts among
// the security-critical ones exploit payloads rely on (Ghavamnia et al.,
// USENIX Security 2020, §6: execve, fork, clone, socket, bind, listen,
// connect, chmod, the set*id family, ptrace, mprotect), less those that
// work only on what the process already holds (accept, recvfrom, sendto
// on its sockets) or that policy.AnyPhase keeps (mprotect, with its
// argument rules).
//
// Ordinary calls that are not doors (a read, a stat, a directory walk,
// a pipe) stay allowed in every phase: a new request may well need one
// the recorded requests did not, Landlock still decides which files, and
// refusing it kills a serving daemon for little gain. The strict split
// (every call recorded only in init refused after) is
// reducer.PhasesAll.
func PhaseDoor(name string) (bool, string) {
	if t, why := TierOf(name); t > Ordinary {
		return true, t.String() + ": " + why
	}
	why, ok := phaseDoors[name]
	return ok, why
}

var phaseDoors = func() map[string]string {
	m := map[string]string{}
	for why, names := range map[string][]string{
		"a new socket or endpoint: a reverse shell, a scan or an exfiltration channel needs one (TSP's socket, bind, listen, connect)": {"socket", "socketpair", "bind", "listen", "connect"},
		"a new process: how a payload starts its own program or survives its request (TSP's fork, clone)":                              {"fork", "vfork", "clone"},
		"a permission change: makes a dropped file executable or a secret readable (TSP's chmod)":                                      {"chmod", "fchmod", "fchmodat", "fchmodat2"},
	} {
		for _, n := range names {
			m[n] = why
		}
	}
	return m
}()
