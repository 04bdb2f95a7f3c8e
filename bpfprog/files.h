/* Types shared between files.bpf.c and Go (bpf2go -type). */
#ifndef SYSREC_FILES_H
#define SYSREC_FILES_H

#define FILES_MAX_NR 1024      /* syscall numbers at or above this are not file operations */
#define FILES_PATH_MAX 4096    /* PATH_MAX: a longer path is not resolved (counted) */
#define FILES_NAME_MAX 256     /* NAME_MAX + NUL: one component */
#define FILES_BUF (FILES_PATH_MAX + FILES_NAME_MAX)
#define FILES_MAX_DEPTH 128    /* upper bound of the loader's max_depth */
#define FILES_MAX_MOUNTS 16    /* mount crossings per walk */
#define FILES_AUXV_WORDS 64

/* One distinct (path, rights, exe) triple. The path is named by a 64-bit hash
 * of its dentries (address and name hash of each component) and of the
 * string part taken from the caller's memory; the string itself is
 * stored once per hash in the paths map. */
struct file_key {
	__u64 hash;
	__u32 access; /* Landlock LANDLOCK_ACCESS_FS_* bits */
	__u32 pad;
	char exe[16]; /* the executable it is charged to, as syscalls are */
};

/* A path as the kernel side stores it: NUL-terminated strings in s,
 * leaf first. When FILES_F_STRING is set the first string is the path
 * argument of the call as the caller spelled it (possibly several
 * components, possibly absolute); the rest are the components of the
 * directory it is relative to, walked up from the dentry to the task's
 * root. User space reverses and joins them. */
struct pathbuf {
	__u32 len; /* bytes of s in use */
	__u32 flags;
	char s[FILES_BUF];
};

#define FILES_F_STRING 1     /* s starts with a caller-supplied path string */
#define FILES_F_OTHER_ROOT 2 /* the caller has another root or mount namespace than the loader */
#define FILES_F_VERIFY 4     /* the string was read from the caller's memory: check it against
                              * the inodes the call changed (path_dirs) */

#define FILES_MAX_CHANGED 4 /* inodes a call may change that are kept (a rename changes 4) */

/* An inode, as stat(2) and the kernel both name it. */
struct ident {
	__u32 dev; /* the kernel's dev_t: major << 20 | minor */
	__u32 pad;
	__u64 ino;
};

/* The inodes whose ctime a call changed, in the order it changed them:
 * the directories it made, removed or renamed in and the objects
 * themselves. n > FILES_MAX_CHANGED: some were not kept. path[i] names
 * id[i] by where it was at the call's exit: FNV-1a 64 of its path's
 * components, leaf first, each followed by a NUL (0: it had none, or
 * not one the walk could take). */
struct changed {
	struct ident id[FILES_MAX_CHANGED];
	__u64 path[FILES_MAX_CHANGED];
	__u32 n;
	__u32 pad;
};

struct port_key {
	__u16 port;   /* host byte order */
	__u16 family; /* AF_INET or AF_INET6 */
	__u32 access; /* LANDLOCK_ACCESS_NET_* bits */
	char exe[16];
};

/* What the loader says a syscall number does (ops map). */
enum file_op {
	OP_NONE = 0,
	OP_OPEN,              /* open(path, flags) */
	OP_OPENAT,            /* openat(dfd, path, flags) */
	OP_OPENAT2,           /* openat2(dfd, path, how) */
	OP_CREAT,             /* creat(path, mode) */
	OP_OPEN_BY_HANDLE_AT, /* open_by_handle_at(mfd, handle, flags) */
	OP_MKDIR,             /* mkdir(path) */
	OP_MKDIRAT,           /* mkdirat(dfd, path) */
	OP_MKNOD,             /* mknod(path, mode) */
	OP_MKNODAT,           /* mknodat(dfd, path, mode) */
	OP_UNLINK,            /* unlink(path) */
	OP_UNLINKAT,          /* unlinkat(dfd, path, flags) */
	OP_RMDIR,             /* rmdir(path) */
	OP_RENAME,            /* rename(old, new) */
	OP_RENAMEAT,          /* renameat(odfd, old, ndfd, new) */
	OP_RENAMEAT2,         /* renameat2(odfd, old, ndfd, new, flags) */
	OP_LINK,              /* link(old, new) */
	OP_LINKAT,            /* linkat(odfd, old, ndfd, new, flags) */
	OP_SYMLINK,           /* symlink(target, new) */
	OP_SYMLINKAT,         /* symlinkat(target, ndfd, new) */
	OP_TRUNCATE,          /* truncate(path) */
	OP_FTRUNCATE,         /* ftruncate(fd) */
	OP_IOCTL,             /* ioctl(fd, ...) on a device */
	OP_BIND,              /* bind(fd, addr, len): a TCP port, or a unix socket file */
	OP_CONNECT,           /* connect(fd, addr, len): TCP, or a unix socket */
	OP_SENDTO,            /* sendto(fd, buf, len, flags, addr, alen): to a unix socket */
	OP_SENDMSG,           /* sendmsg(fd, msg, flags) */
	OP_SENDMMSG,          /* sendmmsg(fd, msgvec, n, flags) */
	OP_KILL,              /* kill(pid, sig): a signal, maybe to a process outside the target */
	OP_TKILL,             /* tkill(tid, sig) */
	OP_TGKILL,            /* tgkill(tgid, tid, sig) */
	OP_RT_SIGQUEUEINFO,   /* rt_sigqueueinfo(tgid, sig, info) */
	OP_RT_TGSIGQUEUEINFO, /* rt_tgsigqueueinfo(tgid, tid, sig, info) */
	OP_PIDFD_SEND_SIGNAL, /* pidfd_send_signal(pidfd, sig, info, flags) */
	OP_MAX,
};

/* Indexes into the per-CPU stats array. Every one of them is an access
 * the recording does not show: never silent. */
enum files_stat {
	FILES_STAT_LOST_KEYS = 0,   /* counts map full */
	FILES_STAT_LOST_PATHS = 1,  /* paths map full */
	FILES_STAT_TOO_DEEP = 2,    /* more components (or mounts) than the walk may take */
	FILES_STAT_TOO_LONG = 3,    /* longer than PATH_MAX */
	FILES_STAT_DISCONNECTED = 4,/* not reachable from the task's root (another root, an internal mount) */
	FILES_STAT_FAULT = 5,       /* a read of kernel or user memory failed (a path string in a page not
	                             * yet touched at sys_enter), or no file behind the fd */
	FILES_STAT_LOST_PORTS = 6,  /* ports map full */
	FILES_STAT_RACED = 7,       /* the path or address read from the caller's memory at exit differs from
	                             * the one read at entry (or the entry was not seen): not learned */
	FILES_STAT_LOST_SCOPES = 8, /* unix_counts or signals_outside map full */
	FILES_STAT_MAX = 9,
};

#define UNIX_PATH_MAX 108

/* One unix socket the target connected to, or sent a datagram to by
 * its address, by its bound address (the kernel's copy). */
struct unix_key {
	char name[UNIX_PATH_MAX]; /* sun_path: a path, or NUL and an abstract name */
	__u32 len;                /* bytes of name in use */
	char exe[16];
};

#endif
