package policy

import (
	"fmt"
	"maps"
	"slices"

	"github.com/sysrec/sysrec/linuxabi"
)

// Arg is one recorded argument of one syscall (linuxabi.ArgSpec, the
// kernel's facts) with sysrec's judgement of it: whether its values
// differ in risk, why, which values are safe as a class, and which raise
// the tier of the call.
type Arg struct {
	linuxabi.ArgSpec

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
	// KeyedBy, when set, is the argument whose value gives this one its
	// meaning: an option number means one option at one level and
	// another at the next. Rules keep such an argument's values per
	// value of its key (one entry per key value, or per set of key
	// values with the same values here), never their product.
	KeyedBy *Key
	// SafeAt are the safe values of a keyed argument at one value of
	// its key (SafeValues are safe at every key value).
	SafeAt map[uint64][]uint64
	// Read, when set, says when the kernel reads this argument at all:
	// only when argument Read.Index has one of Read.Bits set (open's
	// mode only when it creates a file). A call that cannot set those
	// bits passes this argument unread, whatever its register holds, so
	// its values there carry no risk (EntryTier).
	Read *ReadWhen
}

// ReadWhen is when the kernel reads an argument (Arg.Read): argument
// Index has one of Bits set.
type ReadWhen struct {
	Index int
	Bits  uint64
	Why   string
}

// Key is the argument that gives a keyed argument its meaning, and why
// (with the source).
type Key struct {
	Index int
	Why   string
}

// KeyOf returns, for syscall, the index of the argument that gives
// others their meaning and the indexes of those it keys; false when no
// recorded argument of syscall is keyed. Only arguments the argument
// table records can be keyed: fcntl's arg (keyed by cmd), prctl's arg2
// (by option) and ioctl's request (by the descriptor's device, which is
// no argument) are not recorded, so no rule can pair them.
func KeyOf(syscall string) (key int, keyed []int, ok bool) {
	for _, a := range argTable[syscall] {
		if a.KeyedBy != nil {
			key, ok = a.KeyedBy.Index, true
			keyed = append(keyed, a.Index)
		}
	}
	return key, keyed, ok
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
func (a Arg) ValueTier(v uint64) (Tier, string) {
	v &= linuxabi.WidthMask(a.Width)
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
func (a Arg) MaxTier() (Tier, string) {
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
func (a Arg) AllowedBits(seen uint64) uint64 {
	out := seen | a.SafeBits
	for _, im := range a.Implies {
		if seen&im.If != 0 {
			out |= im.Allow
		}
	}
	return out
}

// on is the judgement of argument i; the table's init fills in the
// kernel's facts from linuxabi.
func on(i int) Arg { return Arg{ArgSpec: linuxabi.ArgSpec{Index: i}} }

// risky marks a as risk-bearing, harmless as harmless variation; both
// give the reason.
func (a Arg) risky(why string) Arg    { a.Risky, a.Why = true, why; return a }
func (a Arg) harmless(why string) Arg { a.Why = why; return a }

func (a Arg) safe(vals ...uint64) Arg { a.SafeValues = vals; return a }
func (a Arg) safeBits(m uint64) Arg   { a.SafeBits = m; return a }
func (a Arg) combos(m uint64) Arg     { a.Combos = m; return a }
func (a Arg) implies(ifBits, allow uint64) Arg {
	a.Implies = append(slices.Clip(a.Implies), Implication{ifBits, allow})
	return a
}

// keyedBy says argument i gives a its meaning; safeAt gives a's safe
// values at one value of its key.
func (a Arg) keyedBy(i int, why string) Arg {
	a.KeyedBy = &Key{Index: i, Why: why}
	return a
}

// readWhen says a is read only when argument i has one of bits set.
func (a Arg) readWhen(i int, bits uint64, why string) Arg {
	a.Read = &ReadWhen{Index: i, Bits: bits, Why: why}
	return a
}

func (a Arg) safeAt(key uint64, vals ...uint64) Arg {
	m := maps.Clone(a.SafeAt)
	if m == nil {
		m = map[uint64][]uint64{}
	}
	m[key] = vals
	a.SafeAt = m
	return a
}

// tierIs raises calls whose value is one of vals, tierBits those with
// any bit of mask set, tierAll those with every bit of mask set, tierNot
// those whose value is none of vals.
func (a Arg) tierIs(t Tier, why string, vals ...uint64) Arg {
	a.Tiers = append(slices.Clip(a.Tiers), ValueTier{Values: vals, Tier: t, Why: why})
	return a
}
func (a Arg) tierBits(t Tier, why string, mask uint64) Arg {
	a.Tiers = append(slices.Clip(a.Tiers), ValueTier{Mask: mask, Values: []uint64{0}, Not: true, Tier: t, Why: why})
	return a
}
func (a Arg) tierAll(t Tier, why string, mask uint64) Arg {
	a.Tiers = append(slices.Clip(a.Tiers), ValueTier{Mask: mask, Values: []uint64{mask}, Tier: t, Why: why})
	return a
}
func (a Arg) withTier(t ValueTier) Arg {
	a.Tiers = append(slices.Clip(a.Tiers), t)
	return a
}
func (a Arg) tierNot(t Tier, why string, vals ...uint64) Arg {
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
	// At SOL_TCP: TCP_NODELAY (1), TCP_CORK (3), TCP_QUICKACK (12), the
	// options tcp(7) gives for when the caller's own connection sends a
	// partial segment or an ACK (sendfile(2) advises TCP_CORK to send a
	// header and a file in full segments); do_tcp_setsockopt only flips
	// bits of that socket and pushes what it holds. Not TCP_ULP (loads a
	// protocol under the socket: CVE-2023-0461), TCP_REPAIR, TCP_MD5SIG,
	// TCP_FASTOPEN_CONNECT (connects without connect(2)), TCP_CONGESTION.
	tcpSending   = []uint64{1, 3, 12}
	archPrctlOwn = []uint64{0x1001, 0x1002, 0x1003, 0x1004, 0x1011, 0x1012, 0x1021, 0x1022, 0x1023, 0x1024, 0x1025, 0x4001, 0x4003, 0x5001, 0x5003, 0x5005}
)

// openCreates are the open flags that make the kernel read the mode
// (O_CREAT, __O_TMPFILE), and modeUnread why (open(2): "if neither
// O_CREAT nor O_TMPFILE is specified, then mode is ignored"; fs/open.c
// build_open_how zeroes it). A recorded open for reading shows whatever
// the register held, set-ID bits included (measured: redis's open of a
// file for reading, mode S_ISUID).
const (
	openCreates = 0x40 | 0x400000
	modeUnread  = "open(2): if neither O_CREAT nor O_TMPFILE is specified, mode is ignored (build_open_how zeroes it)"
)

// Why an argument is keyed by another (Arg.KeyedBy).
const (
	// setsockopt(2), getsockopt(2): "optname and any specified options
	// are passed uninterpreted to the appropriate protocol module for
	// interpretation"; the level names the module (net/socket.c hands
	// SOL_SOCKET to sock_setsockopt, every other level to the socket's
	// own protocol, which switches on it).
	levelKeysOption = "the level names the protocol module that interprets the option number (setsockopt(2)): 1 is SO_DEBUG at SOL_SOCKET, TCP_NODELAY at SOL_TCP, IPV6_ADDRFORM (which swaps a live socket's protocol under it) at SOL_IPV6"
	// socket(2): "the protocol number to use is specific to the
	// communication domain in which communication is to take place";
	// __sock_create hands it to the family's create function.
	familyKeysProtocol = "the family interprets the protocol number (socket(2): it is specific to the communication domain): 6 is IPPROTO_TCP in AF_INET, NETLINK_XFRM in AF_NETLINK"
)

// self is the pid argument of calls that act on a process: 0 is the
// caller; another pid reaches another process (the kernel only checks it
// belongs to the same user).
func self(i int, syscall string) Arg {
	return on(i).
		risky("0 is the caller itself; another pid " + syscall + " of another process of the same user").safe(0)
}

// msgFlags is the flags argument of the send calls.
func msgFlags(i int) Arg {
	a := on(i).
		risky("MSG_FASTOPEN connects a TCP socket and sends in one call, which Landlock checks against its port rules only since its socket_sendmsg hook (before, only connect(2) was checked); every other flag shapes the caller's own send").
		safeBits(0xffffffff &^ linuxabi.MsgFastOpen)
	a.OnlyWithNetwork = true
	return a
}

// setID is the mode argument of calls that set a file's mode. Its class
// is every mode without the set-ID bits: a chmod no run made (an
// in-place edit keeping the input's mode) may set permission bits only.
func setID(i int) Arg {
	return on(i).
		risky("S_ISUID/S_ISGID make a file run with its owner's privileges (TSP counts chmod among exploit calls for this); the permission bits are the program's business").
		safeBits(0xffffffff&^linuxabi.ModeSetID).
		tierBits(Sensitive, "makes a set-user-ID or set-group-ID file", linuxabi.ModeSetID)
}

// argTable is sysrec's judgement of every argument linuxabi records
// (DESIGN.md §5), keyed by syscall name. Every argument says whether it
// is risky and why (TestArgTableReasons).
var mmapArgs = []Arg{
	on(2).risky("PROT_WRITE with PROT_EXEC breaks W^X; every other combination is ordinary").combos(7).safe(0, 1, 2, 3).
		tierAll(Sensitive, "writable and executable memory: injected code runs without another call", 0x2|0x4),
	on(3).harmless("MAP_FIXED, MAP_ANONYMOUS, MAP_STACK, MAP_NORESERVE place memory; they grant nothing"),
}

var argTable = map[string][]Arg{
	"ioctl": {on(1).
		risky("TIOCSTI/TIOCLINUX inject terminal input, TIOCSETD loads line disciplines; tty and descriptor queries are safe as a class").
		safe(ioctlQueries...).
		tierIs(Critical, "TIOCSTI pushes input into the terminal: escapes su sessions and sandboxes (CVE-2017-5226); optional since Linux 6.2", 0x5412).
		tierIs(Critical, "TIOCLINUX pastes the console selection as input (CAP_SYS_ADMIN only since Linux 6.7)", 0x541c).
		tierIs(Sensitive, "TIOCSETD loads a line discipline module (n_hdlc: CVE-2017-2636); TIOCCONS redirects the console", 0x5423, 0x541d)},
	"socket": {
		on(0).risky("the family picks the protocol code reached; a new family is a new door, so no class is added").
			tierNot(Sensitive, "packet, netlink and rare families reach protocol code with a long CVE record (AF_PACKET: CVE-2017-7308, CVE-2020-14386; nf_tables through netlink: CVE-2022-32250, CVE-2024-1086; AF_VSOCK: CVE-2021-26708)", 0, 1, 2, 10),
		on(1).
			risky("SOCK_RAW and SOCK_PACKET read and forge traffic").
			tierIs(Sensitive, "raw sockets read and forge traffic", 3, 10),
		on(2).risky("selects the netlink family (NETLINK_NETFILTER reaches nf_tables) or the raw protocol").
			keyedBy(0, familyKeysProtocol),
	},
	"socketpair": {
		on(0).risky("socketpair makes connected local pairs: AF_UNIX is the class").safe(1).
			tierNot(Sensitive, "families other than unix and inet", 0, 1, 2, 10),
		on(1).
			risky("stream, datagram and seqpacket pairs are one class").safe(1, 2, 5),
		on(2).risky("0 is the class: a unix pair has no protocol").safe(0).
			keyedBy(0, familyKeysProtocol),
	},
	"mmap": mmapArgs,
	// The 32-bit arches' mmap, its offset in pages (i386's old mmap
	// takes a pointer).
	"mmap2": mmapArgs,
	"mprotect": {on(2).risky("adding PROT_EXEC turns data into code (JIT, shellcode); other combinations are ordinary").combos(7).safe(0, 1, 2, 3).
		tierBits(Sensitive, "makes memory executable after the fact", 4)},
	"pkey_mprotect": {on(2).risky("adding PROT_EXEC turns data into code (JIT, shellcode); other combinations are ordinary").combos(7).safe(0, 1, 2, 3).
		tierBits(Sensitive, "makes memory executable after the fact", 4)},
	"clone": {on(0).risky("CLONE_NEW* create namespaces; every other bit is thread and process plumbing").
		safeBits(^uint64(linuxabi.CloneNamespaces)).
		tierBits(Critical, "creates namespaces: user namespaces make CAP_SYS_ADMIN-only kernel code reachable (CVE-2022-0185)", linuxabi.CloneNamespaces)},
	"unshare": {on(0).risky("namespace bits create namespaces; CLONE_FILES, CLONE_FS and CLONE_SYSVSEM only unshare the caller's own tables").
		safeBits(0x200|0x400|0x40000).
		tierBits(Critical, "creates namespaces: user namespaces make CAP_SYS_ADMIN-only kernel code reachable (CVE-2022-0185)", linuxabi.CloneNamespaces|linuxabi.CloneNewTime)},
	"prctl": {on(0).
		risky("a few options change privileges or another process's rights over this one; queries, naming and self-restriction are safe as a class").
		safe(prctlOwn...).
		tierIs(Sensitive, "PR_SET_MM rewrites the memory map, PR_SET_PTRACER lets another process trace this one, PR_CAP_AMBIENT/PR_SET_SECUREBITS/PR_SET_KEEPCAPS keep capabilities across exec and setuid", 35, 0x59616d61, 47, 28, 8)},
	"fcntl": {on(1).
		risky("leases, directory notification and F_SETOWN/F_SETSIG aim signals at other processes; every other command works on the caller's own descriptor or lock").
		safe(fcntlOwn...)},
	"setsockopt": {
		on(1).risky("the level picks the option code reached: SOL_IP/SOL_IPV6 reach netfilter (IPT_SO_SET_REPLACE, CVE-2021-22555), SOL_PACKET the packet rings (CVE-2017-7308)"),
		on(2).risky("the option itself: SO_SNDBUFFORCE (CVE-2016-9793), PACKET_RX_RING, IPT_SO_SET_REPLACE").
			keyedBy(1, levelKeysOption).
			safeAt(linuxabi.SolTCP, tcpSending...),
	},
	"getsockopt": {
		on(1).harmless("reads the settings of the caller's own socket"),
		on(2).harmless("reads the settings of the caller's own socket").
			keyedBy(1, levelKeysOption),
	},
	"futex": {on(1).
		risky("priority-inheritance ops carry the futex CVE record (CVE-2014-3153); wait, wake and requeue are how every threaded program sleeps, a class").
		safe(futexPlain...).
		tierIs(Sensitive, "priority-inheritance futex ops (CVE-2014-3153)", futexPI...)},
	"madvise": {on(2).
		risky("MADV_REMOVE frees a file's backing store, MADV_HWPOISON/SOFT_OFFLINE poison pages, MADV_MERGEABLE opts into KSM merging (a cross-process side channel); the rest are hints about the caller's own memory, a class").
		safe(madviseOwn...).
		tierIs(Sensitive, "poisons or offlines physical pages (CAP_SYS_ADMIN)", 100, 101)},
	"personality": {on(0).
		risky("PER_LINUX and the query (0xffffffff) are the class; ADDR_NO_RANDOMIZE and READ_IMPLIES_EXEC weaken the next exec").
		safe(0, 0xffffffff).
		withTier(ValueTier{Mask: 0x0040000 | 0x0400000, Values: []uint64{0}, Not: true, Except: []uint64{0xffffffff}, Tier: Critical,
			Why: "turns off address space randomisation or makes readable memory executable in the next exec"})},
	"kill":         {on(1).harmless("the kernel checks permission per target, whatever the signal")},
	"tgkill":       {on(2).harmless("the kernel checks permission per target, whatever the signal")},
	"tkill":        {on(1).harmless("the kernel checks permission per target, whatever the signal")},
	"rt_sigaction": {on(0).harmless("a handler for one more signal changes only the caller's own behaviour")},
	"open": {
		on(1).
			risky("write and create bits decide whether a program can change files; O_PATH and O_EXCL grant nothing, and a program that writes may also append or truncate").
			safeBits(0x200000|0x80).implies(0x3, 0x3|0x400|0x200).implies(0x40, 0x40|0x80|0x400000),
		setID(2).readWhen(1, openCreates, modeUnread),
	},
	"openat": {
		on(2).
			risky("write and create bits decide whether a program can change files; O_PATH and O_EXCL grant nothing, and a program that writes may also append or truncate").
			safeBits(0x200000|0x80).implies(0x3, 0x3|0x400|0x200).implies(0x40, 0x40|0x80|0x400000),
		setID(3).readWhen(2, openCreates, modeUnread),
	},
	"sendto":    {msgFlags(3)},
	"send":      {msgFlags(3)},
	"sendmsg":   {msgFlags(2)},
	"sendmmsg":  {msgFlags(3)},
	"chmod":     {setID(1)},
	"fchmod":    {setID(1)},
	"fchmodat":  {setID(2)},
	"fchmodat2": {setID(2)},
	"arch_prctl": {on(0).
		risky("ARCH_SHSTK_DISABLE/UNLOCK switch off the shadow stack, a control-flow defence; the thread pointer and CPU feature calls are safe as a class").
		safe(archPrctlOwn...).
		tierIs(Sensitive, "switches off or unlocks the shadow stack (CET)", 0x5002, 0x5004)},
	"rt_sigprocmask": {on(0).harmless("blocking or unblocking signals affects only the caller")},
	"ioprio_set": {
		on(0).harmless("raising I/O priority needs CAP_SYS_ADMIN, which the kernel checks"),
		self(1, "changes the I/O priority"),
	},
	"setpriority":       {self(1, "changes the priority")},
	"sched_setaffinity": {self(0, "moves the CPUs")},
	"sched_setparam":    {self(0, "changes the scheduling")},
	"sched_setattr":     {self(0, "changes the scheduling")},
	"fadvise64":         {on(3).harmless("page cache hints for the caller's own file")},
	"flock":             {on(1).harmless("advisory locks on the caller's own descriptor")},
	"shutdown":          {on(1).harmless("which direction of the caller's own connection to close")},
	"lseek":             {on(2).harmless("SEEK_DATA/SEEK_HOLE read the file's layout, nothing more")},
	"accept4":           {on(3).harmless("CLOEXEC/NONBLOCK of the new descriptor")},
	"dup3":              {on(2).harmless("CLOEXEC of the new descriptor")},
	"pipe2":             {on(1).harmless("CLOEXEC/NONBLOCK/O_DIRECT of the new descriptors")},
	"eventfd2":          {on(1).harmless("CLOEXEC/NONBLOCK/semaphore mode of the new descriptor")},
	"epoll_create1":     {on(0).harmless("CLOEXEC of the new descriptor")},
	"epoll_ctl":         {on(1).harmless("adds, changes or removes a descriptor in the caller's own epoll set")},
	"timerfd_create": {
		on(0).harmless("alarm clocks need CAP_WAKE_ALARM, which the kernel checks"),
		on(1).harmless("CLOEXEC/NONBLOCK of the new descriptor"),
	},
	"clock_gettime": {on(0).harmless("reading a clock")},
	"clock_nanosleep": {
		on(0).harmless("which clock to sleep on"),
		on(1).harmless("relative or absolute sleep"),
	},
	"inotify_init1": {on(0).harmless("CLOEXEC/NONBLOCK of the new descriptor")},
	"memfd_create":  {on(1).harmless("sealing and huge page options of an anonymous file")},
	"mremap":        {on(3).harmless("MAYMOVE/FIXED/DONTUNMAP move the caller's own mapping; its protection stays")},
	"msync":         {on(2).harmless("how to flush the caller's own mapping")},
	"getrandom":     {on(2).harmless("blocking behaviour and entropy pool")},
	"membarrier":    {on(0).harmless("barriers across the caller's own threads")},
	"setns":         {on(1).risky("which kind of namespace to enter")},
	"seccomp": {
		on(0).risky("installing a filter versus querying the kernel"),
		on(1).risky("SECCOMP_FILTER_FLAG_NEW_LISTENER hands this process's syscalls to another, TSYNC applies to every thread"),
	},
	"bpf": {on(0).risky("program loads reach the verifier, map commands do not")},
	"prlimit64": {
		self(0, "reads or sets the limits"),
		on(1).harmless("raising a hard limit needs CAP_SYS_RESOURCE, which the kernel checks; most calls only read"),
	},
	"setrlimit": {on(0).harmless("raising a hard limit needs CAP_SYS_RESOURCE, which the kernel checks")},
	"getrlimit": {on(0).harmless("reads a limit")},
	"wait4":     {on(2).harmless("which of the caller's own children to wait for")},
	"waitid": {
		on(0).harmless("which of the caller's own children to wait for"),
		on(3).harmless("which of the caller's own children to wait for"),
	},
	"faccessat": {on(2).harmless("asks a question, changes nothing")},
	"access":    {on(1).harmless("asks a question, changes nothing")},
	"sched_setscheduler": {
		self(0, "changes the scheduling"),
		on(1).harmless("real-time policies need CAP_SYS_NICE, which the kernel checks"),
	},
	"mount":  {on(3).risky("remount and bind flags decide what a mount exposes")},
	"ptrace": {on(0).risky("PTRACE_TRACEME versus attaching to and writing into other processes")},
}

func init() {
	for name, args := range argTable {
		for i, a := range args {
			spec, ok := linuxabi.LookupArg(name, a.Index)
			if !ok {
				panic(fmt.Sprintf("policy: %s argument %d is not in linuxabi's argument table", name, a.Index))
			}
			a.ArgSpec = spec
			args[i] = a
		}
	}
}

// LookupArg returns argument index of syscall with its judgement.
func LookupArg(syscall string, index int) (Arg, bool) {
	for _, a := range argTable[syscall] {
		if a.Index == index {
			return a, true
		}
	}
	return Arg{}, false
}

// RecordedArgs is linuxabi.RecordedArgs with the judgement of each.
func RecordedArgs(syscall string) []Arg {
	return withPolicy(syscall, linuxabi.RecordedArgs(syscall))
}

// RecordedArgsOn is RecordedArgs for syscall name on arch: none where
// linuxabi does not describe its arguments there.
func RecordedArgsOn(arch *linuxabi.Arch, name string) []Arg {
	return withPolicy(name, arch.RecordedArgsOn(name))
}

func withPolicy(syscall string, specs []linuxabi.ArgSpec) []Arg {
	var out []Arg
	for _, s := range specs {
		if a, ok := LookupArg(syscall, s.Index); ok {
			out = append(out, a)
		}
	}
	return out
}
