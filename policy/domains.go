package policy

// Domain is a set of ordinary syscalls that act on the same kind of
// object in the same direction: reading a file's content, changing a
// file's metadata, naming files, managing the caller's memory. A job that
// did one of them on its input does the others on other inputs: a
// program that lstat()s the files it walks reads the symbolic links among
// them; one that writes files truncates them; one whose buffers grew
// with mmap moves them with mremap. Domains are wider than families, so
// the reducer adds a domain's members only where static analysis shows
// the binary can reach them (LevelRelated).
//
// Domains are where the input decides which call is made: the files a
// job meets (their kind, size, links, attributes), the memory its data
// needs, the descriptors it waits on. Calls about the caller itself
// (identity, signal handling, clocks, its descriptor table) do not vary
// with the input, so they form no domain.
//
// Every member is ordinary (TestDomainsOrdinary), and every family lies
// inside one domain.
type Domain struct {
	Name    string
	Members []string
	Why     string
}

var domains = []Domain{
	{"file-read", []string{"read", "pread64", "readv", "preadv", "preadv2", "lseek", "_llseek", "readahead",
		"fadvise64", "fadvise64_64", "arm_fadvise64_64"},
		"reading the content of files the program opened"},
	{"file-write", []string{"write", "pwrite64", "writev", "pwritev", "pwritev2", "ftruncate", "truncate",
		"ftruncate64", "truncate64", "fallocate", "fsync", "fdatasync", "sync_file_range", "arm_sync_file_range",
		"copy_file_range", "sendfile", "sendfile64"},
		"changing the content of files the program may write: writing, copying, truncating, flushing"},
	{"open", []string{"open", "openat"}, "opening files; what an open may do is the flags rule's business"},
	{"metadata-read", []string{"stat", "lstat", "fstat", "newfstatat", "statx", "stat64", "lstat64", "fstat64",
		"fstatat64", "statfs", "fstatfs", "statfs64", "fstatfs64", "access", "faccessat", "faccessat2",
		"readlink", "readlinkat", "getxattr", "lgetxattr", "fgetxattr", "getxattrat", "listxattr", "llistxattr",
		"flistxattr", "listxattrat", "file_getattr"},
		"inspecting names and files: status, permissions, link targets, extended attributes"},
	{"metadata-write", []string{"chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat",
		"chown32", "fchown32", "lchown32", "utime", "utimes", "futimesat", "utimensat", "setxattr", "lsetxattr",
		"fsetxattr", "setxattrat", "removexattr", "lremovexattr", "fremovexattr", "removexattrat", "umask", "file_setattr"},
		"changing files' modes, owners, times and extended attributes (copying them, as cp -a and tar do)"},
	{"names", []string{"mkdir", "mkdirat", "rename", "renameat", "renameat2", "unlink", "unlinkat", "rmdir",
		"link", "linkat", "symlink", "symlinkat"},
		"making, renaming and removing names: directories, links, temporary files"},
	{"directories", []string{"getdents", "getdents64", "chdir", "fchdir", "getcwd"}, "walking directories"},
	{"memory", []string{"mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise", "brk", "mincore", "msync"},
		"the caller's own memory: buffers grow, move and shrink with the input"},
	{"poll", []string{"poll", "ppoll", "select", "pselect6", "_newselect", "epoll_wait", "epoll_pwait", "epoll_pwait2",
		"epoll_create", "epoll_create1", "epoll_ctl", "eventfd", "eventfd2", "timerfd_create", "timerfd_settime",
		"timerfd_gettime", "signalfd", "signalfd4"},
		"waiting for descriptors"},
	{"network", []string{"accept", "accept4", "sendto", "sendmsg", "sendmmsg", "send", "recvfrom", "recvmsg",
		"recvmmsg", "recv", "getsockname", "getpeername", "getsockopt", "shutdown"},
		"talking over sockets the program already has (opening them is socket's, with its rules)"},
}

var domainOf = func() map[string]*Domain {
	m := map[string]*Domain{}
	for i := range domains {
		for _, n := range domains[i].Members {
			if _, dup := m[n]; dup {
				panic("policy: " + n + " is in two domains")
			}
			m[n] = &domains[i]
		}
	}
	return m
}()

// DomainOf returns the domain of the syscall called name.
func DomainOf(name string) (Domain, bool) {
	d, ok := domainOf[name]
	if !ok {
		return Domain{}, false
	}
	return *d, true
}

// Domains lists every domain.
func Domains() []Domain {
	out := make([]Domain, len(domains))
	copy(out, domains)
	return out
}

// Job is work that crosses domains: a program that showed it on the
// recorded input (When) does the rest of it (Also) on other inputs. A
// program that writes a file may replace it through a temporary name
// beside it, remove what it gave up on, and set the mode and times of
// what it wrote; one that read extended attributes while writing keeps
// them on the copy. Like domains, jobs are wider than families, so the
// reducer adds their members only where static analysis shows the binary
// can reach them (LevelRelated). Every member is ordinary (TestJobsOrdinary).
//
// Not a job: a program recorded without writing any file that writes one
// later (a database recorded read-only, then asked to save) does other
// work: its profile refuses the write at every level, since the write
// bits of open come from runs only (static analysis sees no flags).
// Nor is listing a directory by itself: what would show the job (an
// open and a status of what it names) is what the loader does to every
// library, so every program, true(1) included, would list directories;
// a writer lists where it writes (write-files), and the reducer lets a
// program list what its command line names (addListing).
type Job struct {
	Name string
	// When is a conjunction of alternatives: the job is shown when, for
	// every element, a run made one of its calls.
	When [][]Call
	Also []string
	Why  string
}

// Call is a syscall a run made; with Arg, only when that flags argument
// had one of Bits set in some call.
type Call struct {
	Name string
	Arg  string
	Bits uint64
}

// writeOpens are the opens that write: O_WRONLY or O_RDWR, and creat.
var writeOpens = []Call{{"open", "flags", 0x3}, {"openat", "flags", 0x3}, {Name: "creat"}}

var jobs = []Job{
	{"write-files", [][]Call{writeOpens},
		[]string{"rename", "renameat", "renameat2", "unlink", "unlinkat", "chmod", "fchmod", "fchmodat", "umask",
			"utime", "utimes", "futimesat", "utimensat", "getpid", "getdents64", "mkdir", "mkdirat"},
		"a program that writes files writes some in place: to a temporary name beside the file (its pid in the name, the mode set by umask and fchmod), renamed over it, removed when it gives up, with the times set as the input's (in-place edits, uploads, an index refresh); it picks backup names by listing the directory (patch when a hunk fails), where Landlock lets it (read_dir where it makes files); and it makes the directories its files go in when the input holds some (an extraction whose next archive has directories: cpio -id, unzip), where Landlock lets it (make_dir in a directory the command line names for the files it makes)"},
	{"keep-attributes", [][]Call{writeOpens, {{Name: "getxattr"}, {Name: "lgetxattr"}, {Name: "fgetxattr"}, {Name: "listxattr"}, {Name: "llistxattr"}, {Name: "flistxattr"}}},
		[]string{"setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr", "chown", "fchown", "lchown", "fchownat"},
		"a program that read extended attributes while writing files copies them (cp -a, tar, rsync): attributes and owner go to the copy; giving a file to another user needs CAP_CHOWN, which the kernel checks"},
	{"copy-tree", [][]Call{writeOpens, {{Name: "mkdir"}, {Name: "mkdirat"}}},
		[]string{"symlink", "symlinkat", "readlink", "readlinkat", "link", "linkat"},
		"a program that made directories and wrote files in them builds a tree (cp -a, rsync, tar x, unzip): its next source may hold symlinks and hard links, which it reads and makes again (Landlock: make_sym where it makes directories and files)"},
}

// Jobs lists every job.
func Jobs() []Job {
	out := make([]Job, len(jobs))
	copy(out, jobs)
	return out
}
