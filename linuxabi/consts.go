package linuxabi

import (
	"fmt"
	"sort"
	"strings"
)

// symbol is one named value of a constant set.
type symbol struct {
	name string
	v    uint64
}

// consts are the symbol sets named by ArgSpec.Consts, with the values
// shared by x86_64, aarch64, riscv64 and arm (asm-generic), used to print
// argument rules. Sets of flags list single bits (and named zero values).
var consts = map[string][]symbol{
	"af": {{"AF_UNSPEC", 0}, {"AF_UNIX", 1}, {"AF_INET", 2}, {"AF_AX25", 3}, {"AF_IPX", 4}, {"AF_APPLETALK", 5},
		{"AF_NETROM", 6}, {"AF_BRIDGE", 7}, {"AF_ATMPVC", 8}, {"AF_X25", 9}, {"AF_INET6", 10}, {"AF_KEY", 15},
		{"AF_NETLINK", 16}, {"AF_PACKET", 17}, {"AF_RDS", 21}, {"AF_CAN", 29}, {"AF_BLUETOOTH", 31},
		{"AF_ALG", 38}, {"AF_VSOCK", 40}, {"AF_XDP", 44}},
	"sock_type": {{"SOCK_STREAM", 1}, {"SOCK_DGRAM", 2}, {"SOCK_RAW", 3}, {"SOCK_RDM", 4}, {"SOCK_SEQPACKET", 5},
		{"SOCK_PACKET", 10}, {"SOCK_NONBLOCK", 0x800}, {"SOCK_CLOEXEC", 0x80000}},
	"prot": {{"PROT_NONE", 0}, {"PROT_READ", 1}, {"PROT_WRITE", 2}, {"PROT_EXEC", 4}, {"PROT_SEM", 8},
		{"PROT_GROWSDOWN", 0x01000000}, {"PROT_GROWSUP", 0x02000000}},
	"access": {{"F_OK", 0}, {"X_OK", 1}, {"W_OK", 2}, {"R_OK", 4}},
	"map": {{"MAP_SHARED", 1}, {"MAP_PRIVATE", 2}, {"MAP_SHARED_VALIDATE", 3}, {"MAP_FIXED", 0x10}, {"MAP_ANONYMOUS", 0x20},
		{"MAP_GROWSDOWN", 0x100}, {"MAP_DENYWRITE", 0x800}, {"MAP_EXECUTABLE", 0x1000}, {"MAP_LOCKED", 0x2000},
		{"MAP_NORESERVE", 0x4000}, {"MAP_POPULATE", 0x8000}, {"MAP_NONBLOCK", 0x10000}, {"MAP_STACK", 0x20000},
		{"MAP_HUGETLB", 0x40000}, {"MAP_FIXED_NOREPLACE", 0x100000}},
	"clone": {{"CSIGNAL", 0xff}, {"CLONE_VM", 0x100}, {"CLONE_FS", 0x200}, {"CLONE_FILES", 0x400},
		{"CLONE_SIGHAND", 0x800}, {"CLONE_PIDFD", 0x1000}, {"CLONE_PTRACE", 0x2000}, {"CLONE_VFORK", 0x4000},
		{"CLONE_PARENT", 0x8000}, {"CLONE_THREAD", 0x10000}, {"CLONE_NEWNS", 0x20000}, {"CLONE_SYSVSEM", 0x40000},
		{"CLONE_SETTLS", 0x80000}, {"CLONE_PARENT_SETTID", 0x100000}, {"CLONE_CHILD_CLEARTID", 0x200000},
		{"CLONE_DETACHED", 0x400000}, {"CLONE_UNTRACED", 0x800000}, {"CLONE_CHILD_SETTID", 0x1000000},
		{"CLONE_NEWCGROUP", 0x2000000}, {"CLONE_NEWUTS", 0x4000000}, {"CLONE_NEWIPC", 0x8000000},
		{"CLONE_NEWUSER", 0x10000000}, {"CLONE_NEWPID", 0x20000000}, {"CLONE_NEWNET", 0x40000000}, {"CLONE_IO", 0x80000000}},
	"open": {{"O_RDONLY", 0}, {"O_WRONLY", 1}, {"O_RDWR", 2}, {"O_CREAT", 0x40}, {"O_EXCL", 0x80},
		{"O_NOCTTY", 0x100}, {"O_TRUNC", 0x200}, {"O_APPEND", 0x400}, {"O_NONBLOCK", 0x800}, {"O_DSYNC", 0x1000},
		{"O_ASYNC", 0x2000}, {"O_NOATIME", 0x40000}, {"O_CLOEXEC", 0x80000}, {"O_PATH", 0x200000}, {"O_TMPFILE", 0x400000}},
	"fcntl": {{"F_DUPFD", 0}, {"F_GETFD", 1}, {"F_SETFD", 2}, {"F_GETFL", 3}, {"F_SETFL", 4}, {"F_GETLK", 5},
		{"F_SETLK", 6}, {"F_SETLKW", 7}, {"F_SETOWN", 8}, {"F_GETOWN", 9}, {"F_SETSIG", 10}, {"F_GETSIG", 11},
		{"F_OFD_GETLK", 36}, {"F_OFD_SETLK", 37}, {"F_OFD_SETLKW", 38}, {"F_SETLEASE", 1024}, {"F_GETLEASE", 1025},
		{"F_NOTIFY", 1026}, {"F_DUPFD_CLOEXEC", 1030}, {"F_SETPIPE_SZ", 1031}, {"F_GETPIPE_SZ", 1032},
		{"F_ADD_SEALS", 1033}, {"F_GET_SEALS", 1034},
		{"F_SETOWN_EX", 15}, {"F_GETOWN_EX", 16}, {"F_GET_RW_HINT", 1035}, {"F_SET_RW_HINT", 1036},
		{"F_GET_FILE_RW_HINT", 1037}, {"F_SET_FILE_RW_HINT", 1038}},
	"futex": {{"FUTEX_WAIT", 0}, {"FUTEX_WAKE", 1}, {"FUTEX_FD", 2}, {"FUTEX_REQUEUE", 3}, {"FUTEX_CMP_REQUEUE", 4},
		{"FUTEX_WAKE_OP", 5}, {"FUTEX_LOCK_PI", 6}, {"FUTEX_UNLOCK_PI", 7}, {"FUTEX_TRYLOCK_PI", 8},
		{"FUTEX_WAIT_BITSET", 9}, {"FUTEX_WAKE_BITSET", 10}, {"FUTEX_WAIT_REQUEUE_PI", 11},
		{"FUTEX_CMP_REQUEUE_PI", 12}, {"FUTEX_LOCK_PI2", 13}},
	"prctl": {{"PR_SET_PDEATHSIG", 1}, {"PR_GET_PDEATHSIG", 2}, {"PR_GET_DUMPABLE", 3}, {"PR_SET_DUMPABLE", 4},
		{"PR_GET_KEEPCAPS", 7}, {"PR_SET_KEEPCAPS", 8}, {"PR_SET_NAME", 15}, {"PR_GET_NAME", 16},
		{"PR_GET_SECCOMP", 21}, {"PR_SET_SECCOMP", 22}, {"PR_CAPBSET_READ", 23}, {"PR_CAPBSET_DROP", 24},
		{"PR_SET_TIMERSLACK", 29}, {"PR_SET_CHILD_SUBREAPER", 36}, {"PR_SET_NO_NEW_PRIVS", 38},
		{"PR_GET_NO_NEW_PRIVS", 39}, {"PR_CAP_AMBIENT", 47}, {"PR_SET_VMA", 0x53564d41},
		{"PR_GET_SECUREBITS", 27}, {"PR_SET_SECUREBITS", 28}, {"PR_GET_TIMERSLACK", 30}, {"PR_SET_MM", 35},
		{"PR_GET_CHILD_SUBREAPER", 37}, {"PR_GET_TID_ADDRESS", 40}, {"PR_SET_THP_DISABLE", 41},
		{"PR_GET_THP_DISABLE", 42}, {"PR_GET_SPECULATION_CTRL", 52}, {"PR_SET_MDWE", 65}, {"PR_GET_MDWE", 66},
		{"PR_SET_PTRACER", 0x59616d61}},
	"madv": {{"MADV_NORMAL", 0}, {"MADV_RANDOM", 1}, {"MADV_SEQUENTIAL", 2}, {"MADV_WILLNEED", 3},
		{"MADV_DONTNEED", 4}, {"MADV_FREE", 8}, {"MADV_REMOVE", 9}, {"MADV_DONTFORK", 10}, {"MADV_DOFORK", 11},
		{"MADV_MERGEABLE", 12}, {"MADV_UNMERGEABLE", 13}, {"MADV_HUGEPAGE", 14}, {"MADV_NOHUGEPAGE", 15},
		{"MADV_DONTDUMP", 16}, {"MADV_DODUMP", 17}, {"MADV_WIPEONFORK", 18}, {"MADV_KEEPONFORK", 19},
		{"MADV_COLD", 20}, {"MADV_PAGEOUT", 21}, {"MADV_POPULATE_READ", 22}, {"MADV_POPULATE_WRITE", 23},
		{"MADV_COLLAPSE", 25},
		{"MADV_HWPOISON", 100}, {"MADV_SOFT_OFFLINE", 101}, {"MADV_GUARD_INSTALL", 102}, {"MADV_GUARD_REMOVE", 103}},
	"signal": {{"0", 0}, {"SIGHUP", 1}, {"SIGINT", 2}, {"SIGQUIT", 3}, {"SIGILL", 4}, {"SIGTRAP", 5}, {"SIGABRT", 6},
		{"SIGBUS", 7}, {"SIGFPE", 8}, {"SIGKILL", 9}, {"SIGUSR1", 10}, {"SIGSEGV", 11}, {"SIGUSR2", 12},
		{"SIGPIPE", 13}, {"SIGALRM", 14}, {"SIGTERM", 15}, {"SIGSTKFLT", 16}, {"SIGCHLD", 17}, {"SIGCONT", 18},
		{"SIGSTOP", 19}, {"SIGTSTP", 20}, {"SIGTTIN", 21}, {"SIGTTOU", 22}, {"SIGURG", 23}, {"SIGXCPU", 24},
		{"SIGXFSZ", 25}, {"SIGVTALRM", 26}, {"SIGPROF", 27}, {"SIGWINCH", 28}, {"SIGIO", 29}, {"SIGPWR", 30}, {"SIGSYS", 31}},
	"arch_prctl": {{"ARCH_SET_GS", 0x1001}, {"ARCH_SET_FS", 0x1002}, {"ARCH_GET_FS", 0x1003}, {"ARCH_GET_GS", 0x1004},
		{"ARCH_GET_CPUID", 0x1011}, {"ARCH_SET_CPUID", 0x1012}, {"ARCH_GET_XCOMP_SUPP", 0x1021},
		{"ARCH_GET_XCOMP_PERM", 0x1022}, {"ARCH_REQ_XCOMP_PERM", 0x1023}, {"ARCH_SHSTK_ENABLE", 0x5001},
		{"ARCH_SHSTK_STATUS", 0x5005},
		{"ARCH_GET_XCOMP_GUEST_PERM", 0x1024}, {"ARCH_REQ_XCOMP_GUEST_PERM", 0x1025}, {"ARCH_MAP_VDSO_X32", 0x2001},
		{"ARCH_MAP_VDSO_32", 0x2002}, {"ARCH_MAP_VDSO_64", 0x2003}, {"ARCH_GET_UNTAG_MASK", 0x4001},
		{"ARCH_ENABLE_TAGGED_ADDR", 0x4002}, {"ARCH_GET_MAX_TAG_BITS", 0x4003}, {"ARCH_FORCE_TAGGED_SVA", 0x4004},
		{"ARCH_SHSTK_DISABLE", 0x5002}, {"ARCH_SHSTK_LOCK", 0x5003}, {"ARCH_SHSTK_UNLOCK", 0x5004}},
	"sig_how": {{"SIG_BLOCK", 0}, {"SIG_UNBLOCK", 1}, {"SIG_SETMASK", 2}},
	"sol": {{"SOL_IP", 0}, {"SOL_SOCKET", 1}, {"SOL_TCP", 6}, {"SOL_UDP", 17}, {"SOL_IPV6", 41}, {"SOL_RAW", 255},
		{"SOL_NETLINK", 270}, {"SOL_TLS", 282}},
	"msg": {{"MSG_OOB", 1}, {"MSG_PEEK", 2}, {"MSG_DONTROUTE", 4}, {"MSG_CTRUNC", 8}, {"MSG_PROXY", 0x10},
		{"MSG_TRUNC", 0x20}, {"MSG_DONTWAIT", 0x40}, {"MSG_EOR", 0x80}, {"MSG_WAITALL", 0x100}, {"MSG_FIN", 0x200},
		{"MSG_SYN", 0x400}, {"MSG_CONFIRM", 0x800}, {"MSG_RST", 0x1000}, {"MSG_ERRQUEUE", 0x2000},
		{"MSG_NOSIGNAL", 0x4000}, {"MSG_MORE", 0x8000}, {"MSG_WAITFORONE", 0x10000}, {"MSG_BATCH", 0x40000},
		{"MSG_ZEROCOPY", 0x4000000}, {"MSG_FASTOPEN", 0x20000000}, {"MSG_CMSG_CLOEXEC", 0x40000000}},
	"epoll_ctl": {{"EPOLL_CTL_ADD", 1}, {"EPOLL_CTL_DEL", 2}, {"EPOLL_CTL_MOD", 3}},
	"clock": {{"CLOCK_REALTIME", 0}, {"CLOCK_MONOTONIC", 1}, {"CLOCK_PROCESS_CPUTIME_ID", 2},
		{"CLOCK_THREAD_CPUTIME_ID", 3}, {"CLOCK_MONOTONIC_RAW", 4}, {"CLOCK_REALTIME_COARSE", 5},
		{"CLOCK_MONOTONIC_COARSE", 6}, {"CLOCK_BOOTTIME", 7}, {"CLOCK_REALTIME_ALARM", 8}, {"CLOCK_BOOTTIME_ALARM", 9}},
	"rlimit": {{"RLIMIT_CPU", 0}, {"RLIMIT_FSIZE", 1}, {"RLIMIT_DATA", 2}, {"RLIMIT_STACK", 3}, {"RLIMIT_CORE", 4},
		{"RLIMIT_RSS", 5}, {"RLIMIT_NPROC", 6}, {"RLIMIT_NOFILE", 7}, {"RLIMIT_MEMLOCK", 8}, {"RLIMIT_AS", 9},
		{"RLIMIT_LOCKS", 10}, {"RLIMIT_SIGPENDING", 11}, {"RLIMIT_MSGQUEUE", 12}, {"RLIMIT_NICE", 13},
		{"RLIMIT_RTPRIO", 14}, {"RLIMIT_RTTIME", 15}},
	"seek": {{"SEEK_SET", 0}, {"SEEK_CUR", 1}, {"SEEK_END", 2}, {"SEEK_DATA", 3}, {"SEEK_HOLE", 4}},
	"fadv": {{"POSIX_FADV_NORMAL", 0}, {"POSIX_FADV_RANDOM", 1}, {"POSIX_FADV_SEQUENTIAL", 2},
		{"POSIX_FADV_WILLNEED", 3}, {"POSIX_FADV_DONTNEED", 4}, {"POSIX_FADV_NOREUSE", 5}},
	"ioctl": {{"TCGETS", 0x5401}, {"TCSETS", 0x5402}, {"TCSETSW", 0x5403}, {"TCSETSF", 0x5404}, {"TIOCSCTTY", 0x540e},
		{"TIOCGPGRP", 0x540f}, {"TIOCSPGRP", 0x5410}, {"TIOCGWINSZ", 0x5413}, {"TIOCSWINSZ", 0x5414},
		{"FIONREAD", 0x541b}, {"TIOCLINUX", 0x541c}, {"FIONBIO", 0x5421}, {"TIOCNOTTY", 0x5422},
		{"TIOCGPTN", 0x80045430}, {"TIOCSPTLCK", 0x40045431}, {"FIONCLEX", 0x5450}, {"FIOCLEX", 0x5451},
		{"FIOASYNC", 0x5452}, {"TIOCGPTPEER", 0x5441},
		{"FIGETBSZ", 0x2}, {"TIOCOUTQ", 0x5411}, {"TIOCSTI", 0x5412}, {"TIOCCONS", 0x541d},
		{"TIOCSETD", 0x5423}, {"TIOCGETD", 0x5424}, {"TIOCGSID", 0x5429}, {"TCGETS2", 0x802c542a},
		{"FS_IOC_GETFLAGS", 0x80086601}, {"FICLONE", 0x40049409}},
	"mode": {{"S_IXOTH", 0o1}, {"S_IWOTH", 0o2}, {"S_IROTH", 0o4}, {"S_IXGRP", 0o10}, {"S_IWGRP", 0o20}, {"S_IRGRP", 0o40},
		{"S_IXUSR", 0o100}, {"S_IWUSR", 0o200}, {"S_IRUSR", 0o400}, {"S_ISVTX", 0o1000}, {"S_ISGID", 0o2000}, {"S_ISUID", 0o4000}},
}

// Symbolize prints v with the names of set: a flag set as NAME|NAME|0x..
// (unnamed bits in hex), an enum as its name or its number.
func Symbolize(set string, v uint64, flags bool) string {
	syms := consts[set]
	if !flags {
		for _, s := range syms {
			if s.v == v {
				return s.name
			}
		}
		return fmt.Sprint(v)
	}
	var parts []string
	rest := v
	if set == "clone" && v&0xff != 0 {
		// The low byte of clone flags is the signal sent at the child's exit.
		parts = append(parts, Symbolize("signal", v&0xff, false))
		rest &^= 0xff
	}
	if set == "open" {
		// The access mode is a 2-bit enum, not flags: O_RDONLY is 0.
		for _, s := range syms[:3] {
			if s.v == v&3 {
				parts = append(parts, s.name)
			}
		}
		rest &^= 3
	}
	// Widest fields first (CSIGNAL before single bits).
	ordered := append([]symbol(nil), syms...)
	sort.SliceStable(ordered, func(i, j int) bool { return ordered[i].v > ordered[j].v })
	for _, s := range ordered {
		if s.v != 0 && rest&s.v == s.v {
			parts = append(parts, s.name)
			rest &^= s.v
		}
	}
	if rest != 0 {
		parts = append(parts, fmt.Sprintf("%#x", rest))
	}
	if len(parts) == 0 {
		for _, s := range syms {
			if s.v == 0 {
				return s.name
			}
		}
		return "0"
	}
	sort.Strings(parts)
	return strings.Join(parts, "|")
}
