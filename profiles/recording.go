package profiles

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Recording is what the recorder saw: plain data, no kernel handles.
type Recording struct {
	Arch    string   // arch name, as in linuxabi.LookupArch
	Command []string // argv of the target, if sysrec started it
	// Dir and Env are the target's working directory and environment
	// when sysrec started it: with Command, what the profile's
	// templates are recognised from (see Invocation).
	Dir string
	Env []string
	// ArgFiles are the small files Command's arguments name, read
	// before the target started (Invocation.Files).
	ArgFiles map[int][]byte
	// ArgPrograms are the programs Command's words name through $PATH
	// (Invocation.Programs), resolved before the target started.
	ArgPrograms []string
	// ArgLinks are the symbolic links Command's arguments name, resolved
	// before the target started (Invocation.Links).
	ArgLinks map[string]string
	Kernel   string // uname release
	// Transition is the rule the recorder tagged each sample's phase
	// with; nil when it did not track phases.
	Transition *Transition
	Samples    []Sample
	// Lost counts syscalls the kernel could not store (map full): the
	// recording is incomplete when it is not zero.
	Lost uint64
	// Compat counts, when files were recorded, the calls made through
	// another syscall ABI than Arch's (i386 calls through int $0x80 on
	// x86_64, an AArch32 task's calls on arm64): they are samples of
	// their own arch (Sample.Arch), but their files and ports are not
	// recorded, so the recording is incomplete when it is not zero.
	Compat uint64
	// Left counts, per executable, the processes that left the recorded
	// cgroup subtree while they were recorded (moved to a cgroup outside
	// it, e.g. by writing their pid to the root cgroup.procs, or born
	// outside it by clone3 with CLONE_INTO_CGROUP): what they did
	// afterwards is not recorded. Moves within the subtree (container
	// runtimes placing their processes) do not count.
	Left       []ExeCount
	Duration   time.Duration
	ExitStatus int // of the target; -1 if it was not started by sysrec

	// Files and Ports are what the target tree touched, when file
	// recording was on: the input of the profile's Landlock sections.
	Files []FileAccess
	Ports []PortAccess
	// FilesUnresolved counts file accesses that could not be turned into
	// a full path (truncated walk, a file with no path, a full map): the
	// filesystem section may miss them.
	FilesUnresolved uint64
	// Unix and SignalsOutside are what the Landlock scopes restrict,
	// recorded with Files (file recording on). Unix lists the unix
	// sockets the target reached: each successful connect, and each
	// datagram a send delivered to a socket named by its address (not
	// sends on a connected socket: its connect is listed). Not listed,
	// since the scope allows them: a connect to an abstract socket whose
	// listener (the process that called listen, the socket's peer
	// credentials) is in the recorded subtree, and a datagram to an
	// abstract socket the target bound. A profile whose
	// recordings list no abstract socket can take the
	// abstract-unix-socket scope.
	Unix []UnixAccess
	// SignalsOutside counts, per executable, the signals the target sent
	// to processes outside the recorded cgroup subtree (kill, tkill,
	// tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo, pidfd_send_signal;
	// signal 0 too, which the scope refuses just the same, when it names
	// one process that exists and is outside; a probe of a process group
	// or of every process (pid 0 or negative) with signal 0 does not
	// count: kill(0) reaches the caller, which the scope allows). A
	// profile whose recordings have none can take the signal scope.
	SignalsOutside []ExeCount
	// FilesRaced counts, among FilesUnresolved, the accesses whose path
	// string or socket address (read from the caller's memory) differed
	// at the call's exit from what it was at its entry, or did not name
	// what the call changed: the caller changed it while the call ran,
	// so neither is trusted; and those whose string passes a symlink the
	// target may have changed since (a link, or a directory before it,
	// changed during the recording): it may name another place now.
	FilesRaced uint64
}

// FileAccess is one resolved path and the Landlock rights (linuxabi
// LandlockFS bits) the target used on it. Path names the object: the
// rights Landlock checks on the directory holding an object (make_*,
// remove_*, refer) are reported on the object made, removed or moved,
// and belong on its parent directory (make_reg on /tmp/x: x was created
// in /tmp).
type FileAccess struct {
	Path   string
	Access uint64
	Count  uint64
	Exe    string // the executable it is charged to, as Sample.Exe
}

// UnixAccess is one unix socket the target reached, named by the address
// it is bound to (the kernel's copy, not what the caller passed).
type UnixAccess struct {
	// Name is the socket's path as it was bound (possibly relative to
	// the binder's directory), or "@" and its abstract name (a NUL in it
	// shown as "@").
	Name     string
	Abstract bool // an abstract socket: what LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET restricts
	Count    uint64
	Exe      string
}

// PortAccess is one TCP port the target bound or connected to, with the
// Landlock network right (bind_tcp, connect_tcp bits).
type PortAccess struct {
	Port   uint16
	Access uint64
	Count  uint64
	Exe    string
}

// Sample is one distinct (syscall, recorded argument values) key.
type Sample struct {
	// Arch is the arch whose table Nr, Name and Args are of: "" means
	// the recording's (Recording.Arch); "i386" for a call an x86_64
	// process made through int $0x80.
	Arch string
	Nr   int
	Name string
	// Args holds the masked values of the arguments the table records
	// for this syscall (Recorded[i] says whether Args[i] is meaningful).
	Args     [6]uint64
	Recorded [6]bool
	Count    uint64
	// Errors counts failed calls by errno number.
	Errors map[uint16]uint64
	// Exe is the comm of the task that made the call, when known.
	Exe string
	// Phase is the phase its process was in (PhaseInit or PhaseServing),
	// when the recording tracked phases (Recording.Transition).
	Phase Phase
}

// Invocation is the command line and environment r was recorded with.
func (r *Recording) Invocation() Invocation {
	return Invocation{Args: r.Command, Dir: r.Dir, Env: r.Env, Files: r.ArgFiles, Programs: r.ArgPrograms, Links: r.ArgLinks}
}

// Total is the number of calls in r.
func (r *Recording) Total() uint64 {
	var n uint64
	for _, s := range r.Samples {
		n += s.Count
	}
	return n
}

// ExeCount is a count charged to an executable (named as Sample.Exe).
type ExeCount struct {
	Exe   string `json:"exe"`
	Count uint64 `json:"count"`
}

// AddExeCounts returns a with the counts of b added, one entry per
// executable, sorted by name.
func AddExeCounts(a, b []ExeCount) []ExeCount {
	if len(b) == 0 {
		return a
	}
	sum := map[string]uint64{}
	for _, c := range slices.Concat(a, b) {
		sum[c.Exe] += c.Count
	}
	out := make([]ExeCount, 0, len(sum))
	for _, exe := range slices.Sorted(maps.Keys(sum)) {
		out = append(out, ExeCount{Exe: exe, Count: sum[exe]})
	}
	return out
}

// Gaps says what the recording could not record, one phrase per kind
// of loss; empty when it is complete. record --strict fails on any.
func (r *Recording) Gaps() []string { return gaps(r.Lost, r.Compat, r.Left) }

// Gaps is Recording.Gaps for the recordings a profile was learned from.
func (r *Recorded) Gaps() []string { return gaps(r.Lost, r.Compat, r.Left) }

func gaps(lost, compat uint64, left []ExeCount) []string {
	var out []string
	if lost > 0 {
		out = append(out, fmt.Sprintf("%d calls lost", lost))
	}
	if compat > 0 {
		out = append(out, fmt.Sprintf("%d calls through another syscall ABI whose files and ports are not recorded", compat))
	}
	if len(left) > 0 {
		var n uint64
		var by []string
		for _, l := range left {
			n += l.Count
			by = append(by, fmt.Sprintf("%s ×%d", l.Exe, l.Count))
		}
		out = append(out, fmt.Sprintf("%d processes left the recorded cgroup (%s)", n, strings.Join(by, ", ")))
	}
	return out
}
