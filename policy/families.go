package policy

// Family is a set of syscalls that are variants of one operation: the
// same work on a path, a descriptor or a directory descriptor, with or
// without an offset, a vector or flags. A program that makes one of them
// may make another on the next input (libc picks openat or open, stat or
// statx, by version and by argument), and allowing the others opens no
// new door. Every member is ordinary (TestFamiliesOrdinary): a family
// never widens into a sensitive or critical syscall.
//
// Members that share a risk-bearing argument carry it under the same
// name (open and openat both call it "flags"), so a rule learned on one
// member applies to the others.
type Family struct {
	Name    string
	Members []string
	Why     string
}

var families = []Family{
	{"open", []string{"open", "openat"}, "open is openat(AT_FDCWD); the flags rule carries over (openat2 is left out: its flags are behind a pointer)"},
	{"stat", []string{"stat", "lstat", "fstat", "newfstatat", "statx", "stat64", "lstat64", "fstat64", "fstatat64"}, "file status by path, link, descriptor or directory descriptor; glibc picks by version"},
	{"statfs", []string{"statfs", "fstatfs", "statfs64", "fstatfs64"}, "file system status by path or descriptor"},
	{"access", []string{"access", "faccessat", "faccessat2"}, "permission check by path or directory descriptor"},
	{"dup", []string{"dup", "dup2", "dup3"}, "duplicate a descriptor"},
	{"rename", []string{"rename", "renameat", "renameat2"}, "rename by path or directory descriptor"},
	{"unlink", []string{"unlink", "unlinkat", "rmdir"}, "remove a name; unlinkat(AT_REMOVEDIR) is rmdir"},
	{"mkdir", []string{"mkdir", "mkdirat"}, "make a directory"},
	{"link", []string{"link", "linkat"}, "make a hard link"},
	{"symlink", []string{"symlink", "symlinkat"}, "make a symbolic link"},
	{"readlink", []string{"readlink", "readlinkat"}, "read a symbolic link"},
	{"read", []string{"read", "pread64", "readv", "preadv", "preadv2"}, "read from a descriptor, at an offset or into a vector"},
	{"write", []string{"write", "pwrite64", "writev", "pwritev", "pwritev2"}, "write to a descriptor, at an offset or from a vector"},
	{"poll", []string{"poll", "ppoll", "select", "pselect6", "_newselect", "epoll_wait", "epoll_pwait", "epoll_pwait2"}, "wait for descriptors to become ready"},
	{"epoll_create", []string{"epoll_create", "epoll_create1"}, "make an epoll instance"},
	{"wait", []string{"wait4", "waitid", "waitpid"}, "wait for a child"},
	{"getdents", []string{"getdents", "getdents64"}, "read directory entries"},
	{"sync", []string{"fsync", "fdatasync"}, "flush a file to its device"},
	{"getxattr", []string{"getxattr", "lgetxattr", "fgetxattr", "getxattrat"}, "read an extended attribute by path, link or descriptor"},
	{"listxattr", []string{"listxattr", "llistxattr", "flistxattr", "listxattrat"}, "list extended attributes"},
	{"setxattr", []string{"setxattr", "lsetxattr", "fsetxattr", "setxattrat"}, "set an extended attribute"},
	{"removexattr", []string{"removexattr", "lremovexattr", "fremovexattr", "removexattrat"}, "remove an extended attribute"},
	{"utime", []string{"utime", "utimes", "futimesat", "utimensat"}, "set file times"},
	{"chmod", []string{"chmod", "fchmod", "fchmodat", "fchmodat2"}, "change a file's mode"},
	{"chown", []string{"chown", "fchown", "lchown", "fchownat", "chown32", "fchown32", "lchown32"}, "change a file's owner; giving files away needs CAP_CHOWN, which the kernel checks for every variant alike"},
	{"truncate", []string{"truncate", "ftruncate", "truncate64", "ftruncate64"}, "set a file's size by path or descriptor"},
	{"pipe", []string{"pipe", "pipe2"}, "make a pipe"},
	{"sleep", []string{"nanosleep", "clock_nanosleep"}, "sleep"},
	{"time", []string{"time", "gettimeofday", "clock_gettime", "clock_getres"}, "read a clock (usually answered by the vDSO)"},
	{"chdir", []string{"chdir", "fchdir"}, "change the working directory"},
	{"eventfd", []string{"eventfd", "eventfd2"}, "make an event descriptor"},
	{"inotify_init", []string{"inotify_init", "inotify_init1"}, "make an inotify instance"},
	{"signalfd", []string{"signalfd", "signalfd4"}, "make a signal descriptor"},
	{"accept", []string{"accept", "accept4"}, "accept a connection on a socket the program already listens on"},
	{"send", []string{"sendto", "sendmsg", "sendmmsg", "send"}, "send on a socket the program already has"},
	{"recv", []string{"recvfrom", "recvmsg", "recvmmsg", "recv"}, "receive on a socket the program already has"},
	{"rlimit", []string{"getrlimit", "setrlimit", "prlimit64", "ugetrlimit"}, "read or set resource limits (glibc's getrlimit is prlimit64 on new kernels); raising a hard limit needs CAP_SYS_RESOURCE in every variant"},
	{"copy", []string{"sendfile", "copy_file_range"}, "copy between two descriptors in the kernel; coreutils picks by version and file system"},
}

var familyOf = func() map[string]*Family {
	m := map[string]*Family{}
	for i := range families {
		for _, n := range families[i].Members {
			if _, dup := m[n]; dup {
				panic("policy: " + n + " is in two families")
			}
			m[n] = &families[i]
		}
	}
	return m
}()

// FamilyOf returns the family of the syscall called name.
func FamilyOf(name string) (Family, bool) {
	f, ok := familyOf[name]
	if !ok {
		return Family{}, false
	}
	return *f, true
}

// Families lists every family.
func Families() []Family {
	out := make([]Family, len(families))
	copy(out, families)
	return out
}
