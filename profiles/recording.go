package profiles

import "time"

// Recording is what the recorder saw: plain data, no kernel handles.
type Recording struct {
	Arch    string   // arch name, as in linuxabi.LookupArch
	Command []string // argv of the target, if sysrec started it
	// Dir and Env are the target's working directory and environment
	// when sysrec started it: with Command, what the profile's
	// templates are recognised from (see Invocation).
	Dir     string
	Env     []string
	Kernel  string // uname release
	Samples []Sample
	// Lost counts syscalls the kernel could not store (map full): the
	// recording is incomplete when it is not zero.
	Lost       uint64
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
}

// Invocation is the command line and environment r was recorded with.
func (r *Recording) Invocation() Invocation {
	return Invocation{Args: r.Command, Dir: r.Dir, Env: r.Env}
}

// Total is the number of calls in r.
func (r *Recording) Total() uint64 {
	var n uint64
	for _, s := range r.Samples {
		n += s.Count
	}
	return n
}
