package linuxabi

import (
	"maps"
	"slices"
)

// ArgKind says what an argument means, and so whether a filter may
// constrain it.
type ArgKind string

const (
	KindFlags   ArgKind = "flags"   // a bit set: generalised to "only bits seen"
	KindEnum    ArgKind = "enum"    // one of a few named values: exact set
	KindInt     ArgKind = "int"     // a small number (signal, resource): exact set
	KindFD      ArgKind = "fd"      // never constrained: values are accidents of timing
	KindPointer ArgKind = "pointer" // never constrained, never dereferenced
	KindLength  ArgKind = "length"  // never constrained
)

// Constrainable reports whether arguments of kind k are recorded and may
// appear in argument rules.
func (k ArgKind) Constrainable() bool {
	return k == KindFlags || k == KindEnum || k == KindInt
}

// ArgSpec describes one argument of one syscall.
type ArgSpec struct {
	Index int
	Name  string
	Kind  ArgKind
	// Width is 32 for C int/unsigned int arguments (compared on the low
	// word only) and 64 for long-sized ones.
	Width int
	// RecordMask selects the bits the recorder keeps and rules compare;
	// bits outside it (O_CLOEXEC, SOCK_NONBLOCK, FUTEX_PRIVATE_FLAG) say
	// nothing about what the program is allowed to do. 0 means all bits
	// of Width.
	RecordMask uint64
	// Consts names the symbol set used to print values (see Symbolize).
	Consts string

	// Risky says the values of this argument differ in what they let a
	// program do (DESIGN.md §5): above the exact level a rule constrains
	// it. Other arguments are harmless variation: recorded and shown,
	// constrained only at the exact level. Why is the one-line reason.
	Risky bool
	Why   string
	// SafeValues are allowed as a class whenever a risky enum (or Combos)
	// argument is constrained above the exact level: futex's non-PI ops,
	// the tty queries of ioctl.
	SafeValues []uint64
	// SafeBits of a risky flags argument may always be set above the
	// exact level (clone: every bit but the namespace ones).
	SafeBits uint64
	// Implies widens the bits seen of a risky flags argument: once a bit
	// of If was seen, the bits of Allow are allowed too (a program that
	// opens for writing may open O_RDWR as well as O_WRONLY).
	Implies []Implication
	// OnlyWithNetwork marks a risky argument whose risk is a way around
	// a profile's network section (MSG_FASTOPEN connects without
	// connect(2), the only call older Landlock checks): above the exact
	// level it is constrained only in profiles that have one.
	OnlyWithNetwork bool
	// Combos marks a flags argument whose risk is a combination of bits
	// (W^X): above the exact level its rule lists the combinations of
	// these bits seen, plus SafeValues, instead of their union.
	Combos uint64
	// Tiers raises the tier of a call whose value of this argument
	// matches one of them.
	Tiers []ValueTier
}

// Implication is one widening rule of a risky flags argument.
type Implication struct {
	If, Allow uint64
}

// ValueTier gives the values of an argument that make a call sensitive
// or critical: v matches when (v & Mask) is one of Values, or with Not
// when it is none of them, unless v is one of Except. Mask 0 means every
// bit.
type ValueTier struct {
	Mask   uint64
	Values []uint64
	Not    bool
	Except []uint64
	Tier   Tier
	Why    string
}

// Match reports whether value v (at the argument's width) matches t.
func (t ValueTier) Match(v uint64) bool {
	m := t.Mask
	if m == 0 {
		m = ^uint64(0)
	}
	return slices.Contains(t.Values, v&m) != t.Not && !slices.Contains(t.Except, v)
}

// ValueTier returns the highest tier a value of a raises its call to,
// and why ("" for ordinary).
func (a ArgSpec) ValueTier(v uint64) (Tier, string) {
	if a.Width == 32 {
		v &= 0xffffffff
	}
	best, why := Ordinary, ""
	for _, t := range a.Tiers {
		if t.Tier > best && t.Match(v) {
			best, why = t.Tier, t.Why
		}
	}
	return best, why
}

// MaxTier is the highest tier any value of a reaches: the tier of a call
// whose argument a is not constrained.
func (a ArgSpec) MaxTier() (Tier, string) {
	best, why := Ordinary, ""
	for _, t := range a.Tiers {
		if t.Tier > best {
			best, why = t.Tier, t.Why
		}
	}
	return best, why
}

// AllowedBits widens the bits seen of a risky flags argument by its safe
// bits and implications; the result is what a rule above the exact level
// allows (bits outside the record mask are always free).
func (a ArgSpec) AllowedBits(seen uint64) uint64 {
	out := seen | a.SafeBits
	for _, im := range a.Implies {
		if seen&im.If != 0 {
			out |= im.Allow
		}
	}
	return out
}

// Mask is the effective record mask of a: RecordMask limited to Width.
func (a ArgSpec) Mask() uint64 {
	m := a.RecordMask
	if m == 0 {
		m = ^uint64(0)
	}
	if a.Width == 32 {
		m &= 0xffffffff
	}
	return m
}

const (
	oCloexecNonblockFree = 0x3 | 0x40 | 0x80 | 0x200 | 0x400 | 0x200000 | 0x400000 // O_ACCMODE|O_CREAT|O_EXCL|O_TRUNC|O_APPEND|O_PATH|__O_TMPFILE
	sockTypeMask         = 0xffffffff &^ (0x80000 | 0x800)                         // drop SOCK_CLOEXEC|SOCK_NONBLOCK
	futexCmdMask         = 0x7f                                                    // FUTEX_CMD_MASK: drop PRIVATE and CLOCK_REALTIME

	setIDBits = 0o6000 // S_ISUID|S_ISGID: the file runs with its owner's or group's privileges

	// CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET: the mask
	// Docker's default profile checks clone against.
	cloneNamespaces = 0x7e020000
	cloneNewTime    = 0x80 // unshare and clone3 only: clone's low byte is the exit signal

	// MsgFastOpen is MSG_FASTOPEN: the send connects a TCP socket first.
	MsgFastOpen = 0x20000000
	// CloneVM|CloneThread make clone start a thread of the caller's
	// process; without CLONE_THREAD it makes a new process.
	CloneVM     = 0x100
	CloneThread = 0x10000
)

func e32(i int, name, consts string) ArgSpec {
	return ArgSpec{Index: i, Name: name, Kind: KindEnum, Width: 32, Consts: consts}
}
func f32(i int, name, consts string) ArgSpec {
	return ArgSpec{Index: i, Name: name, Kind: KindFlags, Width: 32, Consts: consts}
}
func f64(i int, name, consts string) ArgSpec {
	return ArgSpec{Index: i, Name: name, Kind: KindFlags, Width: 64, Consts: consts}
}
func i32(i int, name, consts string) ArgSpec {
	return ArgSpec{Index: i, Name: name, Kind: KindInt, Width: 32, Consts: consts}
}

// risky marks a as risk-bearing, harmless as harmless variation; both
// give the reason.
func (a ArgSpec) risky(why string) ArgSpec    { a.Risky, a.Why = true, why; return a }
func (a ArgSpec) harmless(why string) ArgSpec { a.Why = why; return a }

func (a ArgSpec) safe(vals ...uint64) ArgSpec { a.SafeValues = vals; return a }
func (a ArgSpec) safeBits(m uint64) ArgSpec   { a.SafeBits = m; return a }
func (a ArgSpec) combos(m uint64) ArgSpec     { a.Combos = m; return a }
func (a ArgSpec) implies(ifBits, allow uint64) ArgSpec {
	a.Implies = append(slices.Clip(a.Implies), Implication{ifBits, allow})
	return a
}

// tierIs raises calls whose value is one of vals, tierBits those with
// any bit of mask set, tierAll those with every bit of mask set, tierNot
// those whose value is none of vals.
func (a ArgSpec) tierIs(t Tier, why string, vals ...uint64) ArgSpec {
	a.Tiers = append(slices.Clip(a.Tiers), ValueTier{Values: vals, Tier: t, Why: why})
	return a
}
func (a ArgSpec) tierBits(t Tier, why string, mask uint64) ArgSpec {
	a.Tiers = append(slices.Clip(a.Tiers), ValueTier{Mask: mask, Values: []uint64{0}, Not: true, Tier: t, Why: why})
	return a
}
func (a ArgSpec) tierAll(t Tier, why string, mask uint64) ArgSpec {
	a.Tiers = append(slices.Clip(a.Tiers), ValueTier{Mask: mask, Values: []uint64{mask}, Tier: t, Why: why})
	return a
}
func (a ArgSpec) withTier(t ValueTier) ArgSpec {
	a.Tiers = append(slices.Clip(a.Tiers), t)
	return a
}
func (a ArgSpec) tierNot(t Tier, why string, vals ...uint64) ArgSpec {
	a.Tiers = append(slices.Clip(a.Tiers), ValueTier{Values: vals, Not: true, Tier: t, Why: why})
	return a
}

// Classes of values safe as a whole (see the reasons in argTable).
var (
	// TCGETS, TIOCGPGRP, TIOCOUTQ, TIOCGWINSZ, FIONREAD, FIONBIO,
	// TIOCGETD, TIOCGSID, FIONCLEX, FIOCLEX, TIOCGPTN, TCGETS2, FIGETBSZ,
	// FS_IOC_GETFLAGS.
	ioctlQueries = []uint64{0x5401, 0x540f, 0x5411, 0x5413, 0x541b, 0x5421, 0x5424, 0x5429, 0x5450, 0x5451, 0x80045430, 0x802c542a, 0x2, 0x80086601}
	// Every fcntl command but F_SETOWN (8), F_SETSIG (10), F_SETOWN_EX
	// (15), F_SETLEASE (1024) and F_NOTIFY (1026).
	fcntlOwn = []uint64{0, 1, 2, 3, 4, 5, 6, 7, 9, 11, 16, 36, 37, 38, 1025, 1030, 1031, 1032, 1033, 1034, 1035, 1036, 1037, 1038}
	// FUTEX_WAIT, WAKE, REQUEUE, CMP_REQUEUE, WAKE_OP, WAIT_BITSET,
	// WAKE_BITSET: everything but the priority-inheritance ops.
	futexPlain = []uint64{0, 1, 3, 4, 5, 9, 10}
	futexPI    = []uint64{6, 7, 8, 11, 12, 13}
	// Every madvise advice but MADV_REMOVE (9), MADV_MERGEABLE (12),
	// MADV_HWPOISON (100), MADV_SOFT_OFFLINE (101).
	madviseOwn = []uint64{0, 1, 2, 3, 4, 8, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 25, 102, 103}
	// prctl: queries (PR_GET_*, PR_CAPBSET_READ), naming (PR_SET_NAME,
	// PR_SET_VMA) and self-restriction (PR_SET_NO_NEW_PRIVS,
	// PR_CAPBSET_DROP, PR_SET_PDEATHSIG, PR_SET_MDWE, timer slack, THP).
	prctlOwn = []uint64{1, 2, 3, 7, 15, 16, 21, 23, 24, 27, 29, 30, 37, 38, 39, 40, 41, 42, 52, 65, 66, 0x53564d41}
	// arch_prctl: the thread pointer, CPU feature queries and requests,
	// enabling, locking and querying the shadow stack, the address tag
	// queries; not ARCH_SHSTK_DISABLE/UNLOCK, ARCH_MAP_VDSO_*,
	// ARCH_ENABLE_TAGGED_ADDR or ARCH_FORCE_TAGGED_SVA.
	archPrctlOwn = []uint64{0x1001, 0x1002, 0x1003, 0x1004, 0x1011, 0x1012, 0x1021, 0x1022, 0x1023, 0x1024, 0x1025, 0x4001, 0x4003, 0x5001, 0x5003, 0x5005}
)

// self is the pid argument of calls that act on a process: 0 is the
// caller; another pid reaches another process (the kernel only checks it
// belongs to the same user).
func self(i int, syscall string) ArgSpec {
	return ArgSpec{Index: i, Name: "pid", Kind: KindInt, Width: 32}.
		risky("0 is the caller itself; another pid " + syscall + " of another process of the same user").safe(0)
}

// msgFlags is the flags argument of the send calls.
func msgFlags(i int) ArgSpec {
	a := f32(i, "flags", "msg").
		risky("MSG_FASTOPEN connects a TCP socket and sends in one call, which Landlock checks against its port rules only since its socket_sendmsg hook (before, only connect(2) was checked); every other flag shapes the caller's own send").
		safeBits(0xffffffff &^ MsgFastOpen)
	a.OnlyWithNetwork = true
	return a
}

// setID is the mode argument of calls that set a file's mode. Its class
// is every mode without the set-ID bits: a chmod no run made (an
// in-place edit keeping the input's mode) may set permission bits only.
func setID(i int) ArgSpec {
	return ArgSpec{Index: i, Name: "mode", Kind: KindFlags, Width: 32, RecordMask: setIDBits, Consts: "mode"}.
		risky("S_ISUID/S_ISGID make a file run with its owner's privileges (TSP counts chmod among exploit calls for this); the permission bits are the program's business").
		safeBits(0xffffffff&^setIDBits).
		tierBits(Sensitive, "makes a set-user-ID or set-group-ID file", setIDBits)
}

// argTable is the argument-semantics table (DESIGN.md §5), keyed by
// syscall name; the same names mean the same arguments on every arch we
// support. Widths follow the kernel's SYSCALL_DEFINE signatures. Only
// scalar arguments worth recording are listed; every other argument
// (fds, pointers, lengths) is never recorded or constrained. Every
// argument says whether its values differ in risk, and why
// (TestArgTableReasons).
var mmapArgs = []ArgSpec{
	f64(2, "prot", "prot").risky("PROT_WRITE with PROT_EXEC breaks W^X; every other combination is ordinary").combos(7).safe(0, 1, 2, 3).
		tierAll(Sensitive, "writable and executable memory: injected code runs without another call", 0x2|0x4),
	f64(3, "flags", "map").harmless("MAP_FIXED, MAP_ANONYMOUS, MAP_STACK, MAP_NORESERVE place memory; they grant nothing"),
}

var argTable = map[string][]ArgSpec{
	"ioctl": {e32(1, "request", "ioctl").
		risky("TIOCSTI/TIOCLINUX inject terminal input, TIOCSETD loads line disciplines; tty and descriptor queries are safe as a class").
		safe(ioctlQueries...).
		tierIs(Critical, "TIOCSTI pushes input into the terminal: escapes su sessions and sandboxes (CVE-2017-5226); optional since Linux 6.2", 0x5412).
		tierIs(Critical, "TIOCLINUX pastes the console selection as input (CAP_SYS_ADMIN only since Linux 6.7)", 0x541c).
		tierIs(Sensitive, "TIOCSETD loads a line discipline module (n_hdlc: CVE-2017-2636); TIOCCONS redirects the console", 0x5423, 0x541d)},
	"socket": {
		e32(0, "domain", "af").risky("the family picks the protocol code reached; a new family is a new door, so no class is added").
			tierNot(Sensitive, "packet, netlink and rare families reach protocol code with a long CVE record (AF_PACKET: CVE-2017-7308, CVE-2020-14386; nf_tables through netlink: CVE-2022-32250, CVE-2024-1086; AF_VSOCK: CVE-2021-26708)", 0, 1, 2, 10),
		ArgSpec{Index: 1, Name: "type", Kind: KindEnum, Width: 32, RecordMask: sockTypeMask, Consts: "sock_type"}.
			risky("SOCK_RAW and SOCK_PACKET read and forge traffic").
			tierIs(Sensitive, "raw sockets read and forge traffic", 3, 10),
		e32(2, "protocol", "").risky("selects the netlink family (NETLINK_NETFILTER reaches nf_tables) or the raw protocol")},
	"socketpair": {
		e32(0, "domain", "af").risky("socketpair makes connected local pairs: AF_UNIX is the class").safe(1).
			tierNot(Sensitive, "families other than unix and inet", 0, 1, 2, 10),
		ArgSpec{Index: 1, Name: "type", Kind: KindEnum, Width: 32, RecordMask: sockTypeMask, Consts: "sock_type"}.
			risky("stream, datagram and seqpacket pairs are one class").safe(1, 2, 5),
		e32(2, "protocol", "").risky("0 is the class: a unix pair has no protocol").safe(0)},
	"mmap": mmapArgs,
	// The 32-bit arches' mmap, its offset in pages (i386's old mmap
	// takes a pointer).
	"mmap2": mmapArgs,
	"mprotect": {f64(2, "prot", "prot").risky("adding PROT_EXEC turns data into code (JIT, shellcode); other combinations are ordinary").combos(7).safe(0, 1, 2, 3).
		tierBits(Sensitive, "makes memory executable after the fact", 4)},
	"pkey_mprotect": {f64(2, "prot", "prot").risky("adding PROT_EXEC turns data into code (JIT, shellcode); other combinations are ordinary").combos(7).safe(0, 1, 2, 3).
		tierBits(Sensitive, "makes memory executable after the fact", 4)},
	"clone": {f64(0, "flags", "clone").risky("CLONE_NEW* create namespaces; every other bit is thread and process plumbing").
		safeBits(^uint64(cloneNamespaces)).
		tierBits(Critical, "creates namespaces: user namespaces make CAP_SYS_ADMIN-only kernel code reachable (CVE-2022-0185)", cloneNamespaces)},
	"unshare": {f64(0, "flags", "clone").risky("namespace bits create namespaces; CLONE_FILES, CLONE_FS and CLONE_SYSVSEM only unshare the caller's own tables").
		safeBits(0x200|0x400|0x40000).
		tierBits(Critical, "creates namespaces: user namespaces make CAP_SYS_ADMIN-only kernel code reachable (CVE-2022-0185)", cloneNamespaces|cloneNewTime)},
	"prctl": {e32(0, "option", "prctl").
		risky("a few options change privileges or another process's rights over this one; queries, naming and self-restriction are safe as a class").
		safe(prctlOwn...).
		tierIs(Sensitive, "PR_SET_MM rewrites the memory map, PR_SET_PTRACER lets another process trace this one, PR_CAP_AMBIENT/PR_SET_SECUREBITS/PR_SET_KEEPCAPS keep capabilities across exec and setuid", 35, 0x59616d61, 47, 28, 8)},
	"fcntl": {e32(1, "cmd", "fcntl").
		risky("leases, directory notification and F_SETOWN/F_SETSIG aim signals at other processes; every other command works on the caller's own descriptor or lock").
		safe(fcntlOwn...)},
	"setsockopt": {
		e32(1, "level", "sol").risky("the level picks the option code reached: SOL_IP/SOL_IPV6 reach netfilter (IPT_SO_SET_REPLACE, CVE-2021-22555), SOL_PACKET the packet rings (CVE-2017-7308)"),
		e32(2, "optname", "").risky("the option itself: SO_SNDBUFFORCE (CVE-2016-9793), PACKET_RX_RING, IPT_SO_SET_REPLACE")},
	"getsockopt": {
		e32(1, "level", "sol").harmless("reads the settings of the caller's own socket"),
		e32(2, "optname", "").harmless("reads the settings of the caller's own socket")},
	"futex": {ArgSpec{Index: 1, Name: "op", Kind: KindEnum, Width: 32, RecordMask: futexCmdMask, Consts: "futex"}.
		risky("priority-inheritance ops carry the futex CVE record (CVE-2014-3153); wait, wake and requeue are how every threaded program sleeps, a class").
		safe(futexPlain...).
		tierIs(Sensitive, "priority-inheritance futex ops (CVE-2014-3153)", futexPI...)},
	"madvise": {e32(2, "advice", "madv").
		risky("MADV_REMOVE frees a file's backing store, MADV_HWPOISON/SOFT_OFFLINE poison pages, MADV_MERGEABLE opts into KSM merging (a cross-process side channel); the rest are hints about the caller's own memory, a class").
		safe(madviseOwn...).
		tierIs(Sensitive, "poisons or offlines physical pages (CAP_SYS_ADMIN)", 100, 101)},
	"personality": {e32(0, "persona", "").
		risky("PER_LINUX and the query (0xffffffff) are the class; ADDR_NO_RANDOMIZE and READ_IMPLIES_EXEC weaken the next exec").
		safe(0, 0xffffffff).
		withTier(ValueTier{Mask: 0x0040000 | 0x0400000, Values: []uint64{0}, Not: true, Except: []uint64{0xffffffff}, Tier: Critical,
			Why: "turns off address space randomisation or makes readable memory executable in the next exec"})},
	"kill":         {i32(1, "sig", "signal").harmless("the kernel checks permission per target, whatever the signal")},
	"tgkill":       {i32(2, "sig", "signal").harmless("the kernel checks permission per target, whatever the signal")},
	"tkill":        {i32(1, "sig", "signal").harmless("the kernel checks permission per target, whatever the signal")},
	"rt_sigaction": {i32(0, "sig", "signal").harmless("a handler for one more signal changes only the caller's own behaviour")},
	"open": {ArgSpec{Index: 1, Name: "flags", Kind: KindFlags, Width: 32, RecordMask: oCloexecNonblockFree, Consts: "open"}.
		risky("write and create bits decide whether a program can change files; O_PATH and O_EXCL grant nothing, and a program that writes may also append or truncate").
		safeBits(0x200000|0x80).implies(0x3, 0x3|0x400|0x200).implies(0x40, 0x40|0x80|0x400000), setID(2)},
	"openat": {ArgSpec{Index: 2, Name: "flags", Kind: KindFlags, Width: 32, RecordMask: oCloexecNonblockFree, Consts: "open"}.
		risky("write and create bits decide whether a program can change files; O_PATH and O_EXCL grant nothing, and a program that writes may also append or truncate").
		safeBits(0x200000|0x80).implies(0x3, 0x3|0x400|0x200).implies(0x40, 0x40|0x80|0x400000), setID(3)},
	"sendto":    {msgFlags(3)},
	"send":      {msgFlags(3)},
	"sendmsg":   {msgFlags(2)},
	"sendmmsg":  {msgFlags(3)},
	"chmod":     {setID(1)},
	"fchmod":    {setID(1)},
	"fchmodat":  {setID(2)},
	"fchmodat2": {setID(2)},
	"arch_prctl": {e32(0, "code", "arch_prctl").
		risky("ARCH_SHSTK_DISABLE/UNLOCK switch off the shadow stack, a control-flow defence; the thread pointer and CPU feature calls are safe as a class").
		safe(archPrctlOwn...).
		tierIs(Sensitive, "switches off or unlocks the shadow stack (CET)", 0x5002, 0x5004)},
	"rt_sigprocmask":    {e32(0, "how", "sig_how").harmless("blocking or unblocking signals affects only the caller")},
	"ioprio_set":        {e32(0, "which", "").harmless("raising I/O priority needs CAP_SYS_ADMIN, which the kernel checks"), self(1, "changes the I/O priority")},
	"setpriority":       {self(1, "changes the priority")},
	"sched_setaffinity": {self(0, "moves the CPUs")},
	"sched_setparam":    {self(0, "changes the scheduling")},
	"sched_setattr":     {self(0, "changes the scheduling")},
	"fadvise64":         {e32(3, "advice", "fadv").harmless("page cache hints for the caller's own file")},
	"flock":             {f32(1, "operation", "").harmless("advisory locks on the caller's own descriptor")},
	"shutdown":          {e32(1, "how", "").harmless("which direction of the caller's own connection to close")},
	"lseek":             {e32(2, "whence", "seek").harmless("SEEK_DATA/SEEK_HOLE read the file's layout, nothing more")},
	"accept4":           {f32(3, "flags", "sock_type").harmless("CLOEXEC/NONBLOCK of the new descriptor")},
	"dup3":              {f32(2, "flags", "open").harmless("CLOEXEC of the new descriptor")},
	"pipe2":             {f32(1, "flags", "open").harmless("CLOEXEC/NONBLOCK/O_DIRECT of the new descriptors")},
	"eventfd2":          {f32(1, "flags", "open").harmless("CLOEXEC/NONBLOCK/semaphore mode of the new descriptor")},
	"epoll_create1":     {f32(0, "flags", "open").harmless("CLOEXEC of the new descriptor")},
	"epoll_ctl":         {e32(1, "op", "epoll_ctl").harmless("adds, changes or removes a descriptor in the caller's own epoll set")},
	"timerfd_create": {
		e32(0, "clockid", "clock").harmless("alarm clocks need CAP_WAKE_ALARM, which the kernel checks"),
		f32(1, "flags", "open").harmless("CLOEXEC/NONBLOCK of the new descriptor")},
	"clock_gettime": {e32(0, "clockid", "clock").harmless("reading a clock")},
	"clock_nanosleep": {
		e32(0, "clockid", "clock").harmless("which clock to sleep on"),
		f32(1, "flags", "").harmless("relative or absolute sleep")},
	"inotify_init1": {f32(0, "flags", "open").harmless("CLOEXEC/NONBLOCK of the new descriptor")},
	"memfd_create":  {f32(1, "flags", "").harmless("sealing and huge page options of an anonymous file")},
	"mremap":        {f64(3, "flags", "").harmless("MAYMOVE/FIXED/DONTUNMAP move the caller's own mapping; its protection stays")},
	"msync":         {f32(2, "flags", "").harmless("how to flush the caller's own mapping")},
	"getrandom":     {f32(2, "flags", "").harmless("blocking behaviour and entropy pool")},
	"membarrier":    {e32(0, "cmd", "").harmless("barriers across the caller's own threads")},
	"setns":         {f32(1, "nstype", "clone").risky("which kind of namespace to enter")},
	"seccomp": {
		e32(0, "op", "").risky("installing a filter versus querying the kernel"),
		f32(1, "flags", "").risky("SECCOMP_FILTER_FLAG_NEW_LISTENER hands this process's syscalls to another, TSYNC applies to every thread")},
	"bpf":       {e32(0, "cmd", "").risky("program loads reach the verifier, map commands do not")},
	"prlimit64": {self(0, "reads or sets the limits"), e32(1, "resource", "rlimit").harmless("raising a hard limit needs CAP_SYS_RESOURCE, which the kernel checks; most calls only read")},
	"setrlimit": {e32(0, "resource", "rlimit").harmless("raising a hard limit needs CAP_SYS_RESOURCE, which the kernel checks")},
	"getrlimit": {e32(0, "resource", "rlimit").harmless("reads a limit")},
	"wait4":     {f32(2, "options", "").harmless("which of the caller's own children to wait for")},
	"waitid": {
		e32(0, "idtype", "").harmless("which of the caller's own children to wait for"),
		f32(3, "options", "").harmless("which of the caller's own children to wait for")},
	"faccessat":          {f32(2, "mode", "access").harmless("asks a question, changes nothing")},
	"access":             {f32(1, "mode", "access").harmless("asks a question, changes nothing")},
	"sched_setscheduler": {self(0, "changes the scheduling"), e32(1, "policy", "").harmless("real-time policies need CAP_SYS_NICE, which the kernel checks")},
	"mount":              {f64(3, "flags", "").risky("remount and bind flags decide what a mount exposes")},
	"ptrace":             {ArgSpec{Index: 0, Name: "request", Kind: KindEnum, Width: 64}.risky("PTRACE_TRACEME versus attaching to and writing into other processes")},
}

// LookupArg returns the spec of argument index of syscall.
func LookupArg(syscall string, index int) (ArgSpec, bool) {
	for _, a := range argTable[syscall] {
		if a.Index == index {
			return a, true
		}
	}
	return ArgSpec{}, false
}

// RecordedArgs returns the arguments of syscall that are recorded.
func RecordedArgs(syscall string) []ArgSpec {
	var out []ArgSpec
	for _, a := range argTable[syscall] {
		if a.Kind.Constrainable() {
			out = append(out, a)
		}
	}
	return out
}

// argsDiffer names, per arch, the syscalls whose arguments are not those
// of the 64-bit syscall of the same name that the argument table
// describes: i386 mmap is old_mmap (one pointer to the six arguments;
// mmap2 is the real one), select is old_select (a pointer too),
// socketcall and ipc multiplex, and fadvise64 splits its offset over two
// registers, moving advice to the fifth. (clone's flags are the first
// argument on every arch, CONFIG_CLONE_BACKWARDS or not.)
var argsDiffer = map[string][]string{
	"i386": {"fadvise64", "ipc", "mmap", "select", "socketcall"},
}

// ArgsDiffer reports whether syscall name on arch takes other arguments
// than the argument table describes: nothing of the table applies.
func (a *Arch) ArgsDiffer(name string) bool {
	return slices.Contains(argsDiffer[a.Name], name)
}

// RecordedArgsOn is RecordedArgs for syscall name on arch: none where
// the table does not describe its arguments there.
func (a *Arch) RecordedArgsOn(name string) []ArgSpec {
	if a.ArgsDiffer(name) {
		return nil
	}
	return RecordedArgs(name)
}

// ArgTableSyscalls lists the syscalls with recorded arguments, sorted.
func ArgTableSyscalls() []string {
	return slices.Sorted(maps.Keys(argTable))
}

// RecordMasks returns, per argument index, the mask under which syscall's
// arguments are recorded (0 for arguments that are not recorded). The
// recorder hands these to the kernel; MaskArgs applies them in user space.
func RecordMasks(syscall string) [6]uint64 {
	var m [6]uint64
	for _, a := range RecordedArgs(syscall) {
		m[a.Index] = a.Mask()
	}
	return m
}

// RecordMasksOn is RecordMasks for syscall name on arch: none where
// the table does not describe its arguments there, and at most the
// arch's register width.
func (a *Arch) RecordMasksOn(name string) [6]uint64 {
	var m [6]uint64
	for _, spec := range a.RecordedArgsOn(name) {
		m[spec.Index] = spec.Mask()
		if a.Bits() == 32 {
			m[spec.Index] &= 0xffffffff
		}
	}
	return m
}

// MaskArgs keeps the recorded arguments of syscall, masked as the
// recorder masks them, so a call seen elsewhere (a seccomp notification,
// an audit record) aggregates like a recorded one.
func MaskArgs(syscall string, args [6]uint64) (vals [6]uint64, recorded [6]bool) {
	return maskArgs(RecordMasks(syscall), args)
}

// MaskArgs is MaskArgs for a call of arch.
func (a *Arch) MaskArgs(syscall string, args [6]uint64) (vals [6]uint64, recorded [6]bool) {
	return maskArgs(a.RecordMasksOn(syscall), args)
}

func maskArgs(masks, args [6]uint64) (vals [6]uint64, recorded [6]bool) {
	for i, m := range masks {
		if m != 0 {
			vals[i], recorded[i] = args[i]&m, true
		}
	}
	return vals, recorded
}
