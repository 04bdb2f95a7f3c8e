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

// ArgSpec describes one argument of one syscall as the kernel takes it.
// Whether its values differ in risk is sysrec's judgement, not a kernel
// fact: see policy.Arg.
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
}

// Mask is the effective record mask of a: RecordMask limited to Width.
func (a ArgSpec) Mask() uint64 {
	m := a.RecordMask
	if m == 0 {
		m = ^uint64(0)
	}
	return m & WidthMask(a.Width)
}

// WidthMask is the part of a register an argument of width bits
// occupies: the low word of a 32-bit (C int) argument, whose high word
// the kernel never reads, or all of it. Every truncation of a value or
// a mask to an argument's width is this mask.
func WidthMask(width int) uint64 {
	if width == 32 {
		return 0xffffffff
	}
	return ^uint64(0)
}

const (
	oCloexecNonblockFree = 0x3 | 0x40 | 0x80 | 0x200 | 0x400 | 0x200000 | 0x400000 // O_ACCMODE|O_CREAT|O_EXCL|O_TRUNC|O_APPEND|O_PATH|__O_TMPFILE
	sockTypeMask         = 0xffffffff &^ (0x80000 | 0x800)                         // drop SOCK_CLOEXEC|SOCK_NONBLOCK
	futexCmdMask         = 0x7f                                                    // FUTEX_CMD_MASK: drop PRIVATE and CLOCK_REALTIME

	// OCreat is O_CREAT, the same on every arch sysrec knows (asm-generic
	// and x86).
	OCreat = 0x40

	// ModeSetID is S_ISUID|S_ISGID: the file runs with its owner's or
	// group's privileges.
	ModeSetID = 0o6000

	// CloneNamespaces is CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|
	// NEWPID|NEWNET: the mask Docker's default profile checks clone
	// against.
	CloneNamespaces = 0x7e020000
	// CloneNewTime is CLONE_NEWTIME, for unshare and clone3 only:
	// clone's low byte is the exit signal.
	CloneNewTime = 0x80

	// MsgFastOpen is MSG_FASTOPEN: the send connects a TCP socket first.
	MsgFastOpen = 0x20000000
	// SolTCP is SOL_TCP (IPPROTO_TCP), the level of TCP's own socket
	// options.
	SolTCP = 6
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

// pid is the pid argument of calls that act on a process.
func pid(i int) ArgSpec {
	return ArgSpec{Index: i, Name: "pid", Kind: KindInt, Width: 32}
}

// mode is the mode argument of calls that set a file's mode, recorded
// for its set-ID bits only: the permission bits are the program's
// business.
func mode(i int) ArgSpec {
	return ArgSpec{Index: i, Name: "mode", Kind: KindFlags, Width: 32, RecordMask: ModeSetID, Consts: "mode"}
}

// argTable is the argument table, keyed by syscall name; the same names
// mean the same arguments on every arch we support. Widths follow the
// kernel's SYSCALL_DEFINE signatures. Only scalar arguments worth
// recording are listed; every other argument (fds, pointers, lengths) is
// never recorded or constrained. Each says in policy whether its values
// differ in risk, and why.

var mmapArgs = []ArgSpec{f64(2, "prot", "prot"), f64(3, "flags", "map")}

var argTable = map[string][]ArgSpec{
	"ioctl":      {e32(1, "request", "ioctl")},
	"socket":     {e32(0, "domain", "af"), ArgSpec{Index: 1, Name: "type", Kind: KindEnum, Width: 32, RecordMask: sockTypeMask, Consts: "sock_type"}, e32(2, "protocol", "")},
	"socketpair": {e32(0, "domain", "af"), ArgSpec{Index: 1, Name: "type", Kind: KindEnum, Width: 32, RecordMask: sockTypeMask, Consts: "sock_type"}, e32(2, "protocol", "")},
	"mmap":       mmapArgs,
	// The 32-bit arches' mmap, its offset in pages (i386's old mmap
	// takes a pointer).
	"mmap2":              mmapArgs,
	"mprotect":           {f64(2, "prot", "prot")},
	"pkey_mprotect":      {f64(2, "prot", "prot")},
	"clone":              {f64(0, "flags", "clone")},
	"unshare":            {f64(0, "flags", "clone")},
	"prctl":              {e32(0, "option", "prctl")},
	"fcntl":              {e32(1, "cmd", "fcntl")},
	"setsockopt":         {e32(1, "level", "sol"), e32(2, "optname", "")},
	"getsockopt":         {e32(1, "level", "sol"), e32(2, "optname", "")},
	"futex":              {ArgSpec{Index: 1, Name: "op", Kind: KindEnum, Width: 32, RecordMask: futexCmdMask, Consts: "futex"}},
	"madvise":            {e32(2, "advice", "madv")},
	"personality":        {e32(0, "persona", "")},
	"kill":               {i32(1, "sig", "signal")},
	"tgkill":             {i32(2, "sig", "signal")},
	"tkill":              {i32(1, "sig", "signal")},
	"rt_sigaction":       {i32(0, "sig", "signal")},
	"open":               {ArgSpec{Index: 1, Name: "flags", Kind: KindFlags, Width: 32, RecordMask: oCloexecNonblockFree, Consts: "open"}, mode(2)},
	"openat":             {ArgSpec{Index: 2, Name: "flags", Kind: KindFlags, Width: 32, RecordMask: oCloexecNonblockFree, Consts: "open"}, mode(3)},
	"sendto":             {f32(3, "flags", "msg")},
	"send":               {f32(3, "flags", "msg")},
	"sendmsg":            {f32(2, "flags", "msg")},
	"sendmmsg":           {f32(3, "flags", "msg")},
	"chmod":              {mode(1)},
	"fchmod":             {mode(1)},
	"fchmodat":           {mode(2)},
	"fchmodat2":          {mode(2)},
	"arch_prctl":         {e32(0, "code", "arch_prctl")},
	"rt_sigprocmask":     {e32(0, "how", "sig_how")},
	"ioprio_set":         {e32(0, "which", ""), pid(1)},
	"setpriority":        {pid(1)},
	"sched_setaffinity":  {pid(0)},
	"sched_setparam":     {pid(0)},
	"sched_setattr":      {pid(0)},
	"fadvise64":          {e32(3, "advice", "fadv")},
	"flock":              {f32(1, "operation", "")},
	"shutdown":           {e32(1, "how", "")},
	"lseek":              {e32(2, "whence", "seek")},
	"accept4":            {f32(3, "flags", "sock_type")},
	"dup3":               {f32(2, "flags", "open")},
	"pipe2":              {f32(1, "flags", "open")},
	"eventfd2":           {f32(1, "flags", "open")},
	"epoll_create1":      {f32(0, "flags", "open")},
	"epoll_ctl":          {e32(1, "op", "epoll_ctl")},
	"timerfd_create":     {e32(0, "clockid", "clock"), f32(1, "flags", "open")},
	"clock_gettime":      {e32(0, "clockid", "clock")},
	"clock_nanosleep":    {e32(0, "clockid", "clock"), f32(1, "flags", "")},
	"inotify_init1":      {f32(0, "flags", "open")},
	"memfd_create":       {f32(1, "flags", "")},
	"mremap":             {f64(3, "flags", "")},
	"msync":              {f32(2, "flags", "")},
	"getrandom":          {f32(2, "flags", "")},
	"membarrier":         {e32(0, "cmd", "")},
	"setns":              {f32(1, "nstype", "clone")},
	"seccomp":            {e32(0, "op", ""), f32(1, "flags", "")},
	"bpf":                {e32(0, "cmd", "")},
	"prlimit64":          {pid(0), e32(1, "resource", "rlimit")},
	"setrlimit":          {e32(0, "resource", "rlimit")},
	"getrlimit":          {e32(0, "resource", "rlimit")},
	"wait4":              {f32(2, "options", "")},
	"waitid":             {e32(0, "idtype", ""), f32(3, "options", "")},
	"faccessat":          {f32(2, "mode", "access")},
	"access":             {f32(1, "mode", "access")},
	"sched_setscheduler": {pid(0), e32(1, "policy", "")},
	"mount":              {f64(3, "flags", "")},
	"ptrace":             {ArgSpec{Index: 0, Name: "request", Kind: KindEnum, Width: 64}},
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
		m[spec.Index] = spec.Mask() & WidthMask(a.Bits())
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
