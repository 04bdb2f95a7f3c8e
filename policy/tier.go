package policy

import (
	"fmt"
	"maps"
	"slices"
)

// Tier is how far a syscall (or one value of one of its arguments) reaches
// beyond the ordinary work of a process. Generalisation never widens a
// profile into a sensitive or critical syscall that no run made; show and
// diff print the tier so that a reviewer, or a CI gate (diff --fail-on),
// can stop at the doors that matter.
type Tier int

const (
	// Ordinary: file, memory, time, signal and descriptor work on the
	// caller's own objects. Variants of one operation are
	// interchangeable (see Families).
	Ordinary Tier = iota
	// Sensitive: changes identity or privileges, starts programs, creates
	// device nodes or installs filters: legitimate in some programs,
	// never a variant of something else.
	Sensitive
	// Critical: reaches another process, the whole system, or kernel
	// code with a long vulnerability record. Docker's default profile
	// denies nearly all of these unless the container holds a capability.
	Critical
)

var tierNames = []string{"ordinary", "sensitive", "critical"}

func (t Tier) String() string {
	if t < 0 || int(t) >= len(tierNames) {
		return fmt.Sprintf("tier(%d)", int(t))
	}
	return tierNames[t]
}

// ParseTier reads a tier name.
func ParseTier(s string) (Tier, error) {
	if i := slices.Index(tierNames, s); i >= 0 {
		return Tier(i), nil
	}
	return 0, fmt.Errorf("unknown tier %q (want ordinary, sensitive or critical)", s)
}

// Sources of the tiers below:
//
//   - Docker's default seccomp profile (moby profiles/seccomp/default.json):
//     the syscalls it allows only to a container holding a capability
//     (CAP_SYS_ADMIN: mount, umount2, unshare, setns, bpf, perf_event_open,
//     fanotify_init, the fsopen/fsmount family, sethostname, syslog,
//     quotactl, lookup_dcookie; CAP_SYS_PTRACE: ptrace, process_vm_*,
//     kcmp, pidfd_getfd, process_madvise; CAP_SYS_MODULE, CAP_SYS_BOOT,
//     CAP_SYS_TIME, CAP_SYS_RAWIO, CAP_SYS_CHROOT, CAP_SYS_PACCT,
//     CAP_SYS_NICE for the NUMA calls, CAP_DAC_READ_SEARCH for
//     open_by_handle_at) and those it never allows (kexec_*, keyctl,
//     add_key, request_key, userfaultfd, swapon/swapoff, the obsolete
//     calls). TestDockerCapabilityGated checks every one is sensitive or
//     critical here.
//   - Kernel vulnerabilities per syscall as Confine (Ghavamnia et al.,
//     RAID 2020) and Temporal System Call Specialization (Ghavamnia et
//     al., USENIX Security 2020) map them: a CVE counts against the
//     syscalls whose removal blocks the path to the bug (keyctl:
//     CVE-2016-0728; bpf: CVE-2017-16995, CVE-2021-3490; perf_event_open:
//     CVE-2013-2094; futex PI ops: CVE-2014-3153). TSP also lists the
//     calls exploit payloads rely on once they run: execve/execveat, the
//     set*id family, mprotect(PROT_EXEC), socket endpoints.
//   - io_uring: Google reported in 2023 that 60% of the kernel exploits
//     submitted to its kCTF VRP targeted io_uring, and turned it off in
//     ChromeOS, Android apps and its production servers.
//
// Argument values carry tiers too (Arg.Tiers): socket(AF_PACKET),
// clone(CLONE_NEWUSER), ioctl(TIOCSTI), mmap(PROT_WRITE|PROT_EXEC).
type tierGroup struct {
	tier  Tier
	why   string
	names []string
}

var tierGroups = []tierGroup{
	// Critical.
	{Critical, "acts on another process's memory, descriptors or execution (Docker: CAP_SYS_PTRACE)",
		[]string{"ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd", "process_madvise"}},
	{Critical, "loads code into the kernel or exposes its events (Docker: CAP_SYS_ADMIN/CAP_BPF/CAP_PERFMON; verifier and perf CVEs)",
		[]string{"bpf", "perf_event_open"}},
	{Critical, "io_uring: 60% of Google's 2023 kCTF exploit submissions; off in ChromeOS, Android and Google servers",
		[]string{"io_uring_setup", "io_uring_enter", "io_uring_register"}},
	{Critical, "userfaultfd pauses kernel accesses to user memory: the standard way exploits widen race windows (Docker: denied)",
		[]string{"userfaultfd"}},
	{Critical, "kernel keyrings (CVE-2016-0728; Docker: denied)",
		[]string{"keyctl", "add_key", "request_key"}},
	{Critical, "changes the mount tree or the root directory (Docker: CAP_SYS_ADMIN/CAP_SYS_CHROOT; fsconfig CVE-2022-0185)",
		[]string{"mount", "umount", "umount2", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "open_tree_attr", "mount_setattr", "pivot_root", "chroot"}},
	{Critical, "enters or creates namespaces; user namespaces make CAP_SYS_ADMIN-only kernel code reachable (Docker: CAP_SYS_ADMIN)",
		[]string{"unshare", "setns"}},
	{Critical, "clone3's flags are behind a pointer no filter can read, so allowing it allows every namespace flag (Docker answers it ENOSYS; libc then falls back to clone)",
		[]string{"clone3"}},
	{Critical, "loads or removes kernel modules (Docker: CAP_SYS_MODULE or denied)",
		[]string{"init_module", "finit_module", "delete_module", "create_module", "query_module", "get_kernel_syms"}},
	{Critical, "replaces or stops the running kernel (Docker: CAP_SYS_BOOT or denied)",
		[]string{"kexec_load", "kexec_file_load", "reboot"}},
	{Critical, "raw hardware and segment access (Docker: CAP_SYS_RAWIO or denied; Linux made modify_ldt optional after the 2015 LDT bugs)",
		[]string{"iopl", "ioperm", "modify_ldt", "vm86", "vm86old", "pciconfig_read", "pciconfig_write", "pciconfig_iobase"}},
	{Critical, "file handles bypass path permission checks: the 2014 'shocker' container escape (Docker: CAP_DAC_READ_SEARCH)",
		[]string{"open_by_handle_at", "name_to_handle_at"}},
	{Critical, "personality can turn off address space randomisation for the next exec (Docker allows only five values)",
		[]string{"personality"}},
	{Critical, "sets the system clock (Docker: CAP_SYS_TIME)",
		[]string{"settimeofday", "stime", "clock_settime", "clock_settime64", "adjtimex", "clock_adjtime", "clock_adjtime64"}},
	{Critical, "system-wide administration (Docker: CAP_SYS_ADMIN, CAP_SYS_PACCT, CAP_SYSLOG or denied)",
		[]string{"swapon", "swapoff", "acct", "quotactl", "quotactl_fd", "syslog", "lookup_dcookie", "_sysctl", "nfsservctl", "bdflush", "fanotify_init"}},
	{Critical, "moves another process's pages between NUMA nodes (Docker: CAP_SYS_NICE)",
		[]string{"move_pages"}},
	{Critical, "obsolete or unimplemented: nothing legitimate calls it (Docker: denied)",
		[]string{"uselib", "sysfs", "ustat", "afs_syscall", "tuxcall", "security", "vserver", "putpmsg", "getpmsg", "uprobe", "uretprobe"}},

	// Sensitive.
	{Sensitive, "changes the caller's user or group identity (TSP: used by exploit payloads)",
		[]string{"setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid", "setfsgid", "setgroups",
			"setuid32", "setgid32", "setreuid32", "setregid32", "setresuid32", "setresgid32", "setfsuid32", "setfsgid32", "setgroups32"}},
	{Sensitive, "changes the caller's capabilities", []string{"capset"}},
	{Sensitive, "starts another program (TSP: the first thing a payload does)", []string{"execve", "execveat"}},
	{Sensitive, "creates device nodes and FIFOs", []string{"mknod", "mknodat"}},
	{Sensitive, "renames the host (Docker: CAP_SYS_ADMIN)", []string{"sethostname", "setdomainname"}},
	{Sensitive, "NUMA memory policy (Docker: CAP_SYS_NICE)", []string{"mbind", "set_mempolicy", "get_mempolicy", "set_mempolicy_home_node", "migrate_pages"}},
	{Sensitive, "hangs up the terminal for every process on it (Docker: CAP_SYS_TTY_CONFIG)", []string{"vhangup"}},
	{Sensitive, "installs seccomp filters; a listener hands this process's syscalls to another", []string{"seccomp"}},
	{Sensitive, "changes the caller's LSM context", []string{"lsm_set_self_attr"}},
	{Sensitive, "reads the mount and namespace topology (new in Linux 6.8+, in no Docker profile)", []string{"statmount", "listmount", "listns"}},
	{Sensitive, "multiplexes every socket or IPC call behind a pointer no filter can read", []string{"socketcall", "ipc"}},
}

type tierInfo struct {
	tier Tier
	why  string
}

var tiers = func() map[string]tierInfo {
	m := map[string]tierInfo{}
	for _, g := range tierGroups {
		for _, n := range g.names {
			if _, dup := m[n]; dup {
				panic("policy: " + n + " is in two tier groups")
			}
			m[n] = tierInfo{g.tier, g.why}
		}
	}
	return m
}()

// TierOf returns the tier of the syscall called name and why it is in it
// ("" for ordinary syscalls). Names no table knows are ordinary: profiles
// only hold names some table knows.
func TierOf(name string) (Tier, string) {
	t := tiers[name]
	return t.tier, t.why
}

// TieredSyscalls lists the sensitive and critical syscalls, sorted.
func TieredSyscalls() []string {
	return slices.Sorted(maps.Keys(tiers))
}
