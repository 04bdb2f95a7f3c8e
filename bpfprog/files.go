package bpfprog

import "bytes"

// The C structs of files.bpf.c (files.h), as bpf2go lays them out.
type (
	FileKey = sysrecFileKey
	PathBuf = sysrecPathbuf
	PortKey = sysrecPortKey
	FileOp  = sysrecFileOp
	Changed = sysrecChanged
	Ident   = sysrecIdent
	UnixKey = sysrecUnixKey
)

// What a syscall number does, for the files program's ops map (enum
// file_op in files.h). The recorder maps the arch's syscall names to them.
const (
	OpOpen           = sysrecFileOpOP_OPEN
	OpOpenat         = sysrecFileOpOP_OPENAT
	OpOpenat2        = sysrecFileOpOP_OPENAT2
	OpCreat          = sysrecFileOpOP_CREAT
	OpOpenByHandleAt = sysrecFileOpOP_OPEN_BY_HANDLE_AT
	OpMkdir          = sysrecFileOpOP_MKDIR
	OpMkdirat        = sysrecFileOpOP_MKDIRAT
	OpMknod          = sysrecFileOpOP_MKNOD
	OpMknodat        = sysrecFileOpOP_MKNODAT
	OpUnlink         = sysrecFileOpOP_UNLINK
	OpUnlinkat       = sysrecFileOpOP_UNLINKAT
	OpRmdir          = sysrecFileOpOP_RMDIR
	OpRename         = sysrecFileOpOP_RENAME
	OpRenameat       = sysrecFileOpOP_RENAMEAT
	OpRenameat2      = sysrecFileOpOP_RENAMEAT2
	OpLink           = sysrecFileOpOP_LINK
	OpLinkat         = sysrecFileOpOP_LINKAT
	OpSymlink        = sysrecFileOpOP_SYMLINK
	OpSymlinkat      = sysrecFileOpOP_SYMLINKAT
	OpTruncate       = sysrecFileOpOP_TRUNCATE
	OpFtruncate      = sysrecFileOpOP_FTRUNCATE
	OpIoctl          = sysrecFileOpOP_IOCTL
	OpBind           = sysrecFileOpOP_BIND
	OpConnect        = sysrecFileOpOP_CONNECT
	// The calls the Landlock scopes are about: a send may reach a unix
	// socket by its address, a signal a process outside the target.
	OpSendto           = sysrecFileOpOP_SENDTO
	OpSendmsg          = sysrecFileOpOP_SENDMSG
	OpSendmmsg         = sysrecFileOpOP_SENDMMSG
	OpKill             = sysrecFileOpOP_KILL
	OpTkill            = sysrecFileOpOP_TKILL
	OpTgkill           = sysrecFileOpOP_TGKILL
	OpRtSigqueueinfo   = sysrecFileOpOP_RT_SIGQUEUEINFO
	OpRtTgsigqueueinfo = sysrecFileOpOP_RT_TGSIGQUEUEINFO
	OpPidfdSendSignal  = sysrecFileOpOP_PIDFD_SEND_SIGNAL
)

// Indexes of the files program's per-CPU stats array (enum files_stat):
// accesses the recording could not keep.
const (
	FilesStatLostKeys     = uint32(sysrecFilesStatFILES_STAT_LOST_KEYS)
	FilesStatLostPaths    = uint32(sysrecFilesStatFILES_STAT_LOST_PATHS)
	FilesStatTooDeep      = uint32(sysrecFilesStatFILES_STAT_TOO_DEEP)
	FilesStatTooLong      = uint32(sysrecFilesStatFILES_STAT_TOO_LONG)
	FilesStatDisconnected = uint32(sysrecFilesStatFILES_STAT_DISCONNECTED)
	FilesStatFault        = uint32(sysrecFilesStatFILES_STAT_FAULT)
	FilesStatLostPorts    = uint32(sysrecFilesStatFILES_STAT_LOST_PORTS)
	FilesStatRaced        = uint32(sysrecFilesStatFILES_STAT_RACED)
	FilesStatLostScopes   = uint32(sysrecFilesStatFILES_STAT_LOST_SCOPES)
	FilesStatCount        = uint32(sysrecFilesStatFILES_STAT_MAX)
)

// FilesMaxNr bounds the syscall numbers the ops map holds (FILES_MAX_NR).
const FilesMaxNr = 1024

// FilesMaxDepth bounds the components one path walk may take
// (FILES_MAX_DEPTH); the loader's max_depth is at most this.
const FilesMaxDepth = 128

// PathFlagString marks a path whose first string is a path argument as
// the caller passed it (FILES_F_STRING).
const PathFlagString = 1

// PathFlagVerify marks a path whose string the kernel read from the
// caller's memory (FILES_F_VERIFY): keep it only if it names one of the
// inodes the last call with the same string and rights changed (the
// PathChanged map, by file key).
const PathFlagVerify = 4

// PathFlagOtherRoot marks a path recorded from a task whose root or
// mount namespace is not the loader's (FILES_F_OTHER_ROOT): its strings
// cannot be resolved against the loader's file tree.
const PathFlagOtherRoot = 2

// Strings splits the stored path into its NUL-terminated strings, in
// the order the kernel wrote them (leaf first).
func (p *PathBuf) Strings() []string {
	n := int(p.Len)
	if n > len(p.S) {
		n = len(p.S)
	}
	var out []string
	start := 0
	for i := 0; i < n; i++ {
		if p.S[i] == 0 {
			b := make([]byte, i-start)
			for j := range b {
				b[j] = byte(p.S[start+j])
			}
			out = append(out, string(b))
			start = i + 1
		}
	}
	return out
}

// UnixName returns the socket's name as Recording.Unix shows it: its
// path, or "@" and its abstract name (a NUL in it as "@", as ss and
// /proc/net/unix show it), and whether it is abstract.
func (k *UnixKey) UnixName() (name string, abstract bool) {
	n := min(int(k.Len), len(k.Name))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(k.Name[i])
	}
	if n > 0 && b[0] == 0 {
		for i := range b {
			if b[i] == 0 {
				b[i] = '@'
			}
		}
		return string(b), true
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b), false
}
