package bpfprog

import "github.com/cilium/ebpf"

// The C structs of files.bpf.c (files.h), as bpf2go lays them out.
type (
	FileKey      = filesFileKey
	PathBuf      = filesPathbuf
	PortKey      = filesPortKey
	FileOp       = filesFileOp
	FilesObjects = filesObjects
)

// What a syscall number does, for the files program's ops map (enum
// file_op in files.h). The recorder maps the arch's syscall names to them.
const (
	OpOpen           = filesFileOpOP_OPEN
	OpOpenat         = filesFileOpOP_OPENAT
	OpOpenat2        = filesFileOpOP_OPENAT2
	OpCreat          = filesFileOpOP_CREAT
	OpOpenByHandleAt = filesFileOpOP_OPEN_BY_HANDLE_AT
	OpMkdir          = filesFileOpOP_MKDIR
	OpMkdirat        = filesFileOpOP_MKDIRAT
	OpMknod          = filesFileOpOP_MKNOD
	OpMknodat        = filesFileOpOP_MKNODAT
	OpUnlink         = filesFileOpOP_UNLINK
	OpUnlinkat       = filesFileOpOP_UNLINKAT
	OpRmdir          = filesFileOpOP_RMDIR
	OpRename         = filesFileOpOP_RENAME
	OpRenameat       = filesFileOpOP_RENAMEAT
	OpRenameat2      = filesFileOpOP_RENAMEAT2
	OpLink           = filesFileOpOP_LINK
	OpLinkat         = filesFileOpOP_LINKAT
	OpSymlink        = filesFileOpOP_SYMLINK
	OpSymlinkat      = filesFileOpOP_SYMLINKAT
	OpTruncate       = filesFileOpOP_TRUNCATE
	OpFtruncate      = filesFileOpOP_FTRUNCATE
	OpIoctl          = filesFileOpOP_IOCTL
	OpBind           = filesFileOpOP_BIND
	OpConnect        = filesFileOpOP_CONNECT
)

// Indexes of the files program's per-CPU stats array (enum files_stat):
// accesses the recording could not keep.
const (
	FilesStatLostKeys     = uint32(filesFilesStatFILES_STAT_LOST_KEYS)
	FilesStatLostPaths    = uint32(filesFilesStatFILES_STAT_LOST_PATHS)
	FilesStatTooDeep      = uint32(filesFilesStatFILES_STAT_TOO_DEEP)
	FilesStatTooLong      = uint32(filesFilesStatFILES_STAT_TOO_LONG)
	FilesStatDisconnected = uint32(filesFilesStatFILES_STAT_DISCONNECTED)
	FilesStatFault        = uint32(filesFilesStatFILES_STAT_FAULT)
	FilesStatLostPorts    = uint32(filesFilesStatFILES_STAT_LOST_PORTS)
	FilesStatCount        = uint32(filesFilesStatFILES_STAT_MAX)
)

// FilesMaxNr bounds the syscall numbers the ops map holds (FILES_MAX_NR).
const FilesMaxNr = 1024

// FilesMaxDepth bounds the components one path walk may take
// (FILES_MAX_DEPTH); the loader's max_depth is at most this.
const FilesMaxDepth = 128

// PathFlagString marks a path whose first string is a path argument as
// the caller passed it (FILES_F_STRING).
const PathFlagString = 1

// PathFlagOtherRoot marks a path recorded from a task whose root or
// mount namespace is not the loader's (FILES_F_OTHER_ROOT): its strings
// cannot be resolved against the loader's file tree.
const PathFlagOtherRoot = 2

// FilesSpec returns a fresh copy of the files program's collection spec.
func FilesSpec() (*ebpf.CollectionSpec, error) { return loadFiles() }

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
