//go:build ignore

// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * files: the files and TCP ports the tasks of a recorded cgroup v2
 * subtree touch, as Landlock rights, aggregated in kernel in the
 * recording's maps. Not compiled on its own: sysrec.bpf.c includes it
 * (one object, so that sys_exit is one program doing both jobs: every
 * attached program costs every syscall of the host a dispatch) and
 * calls files_exit and files_exec for recordings of files (rec_state
 * files; nfiles counts them).
 *
 * BPF LSM, fentry and kprobes are not available where sysrec runs, so
 * there is no bpf_d_path: paths are rebuilt by walking dentries and
 * mounts up to the task's root, from BTF tracepoints. A successful
 * open-family call is resolved through the fd it returned (the object
 * actually opened: symlinks and bind mounts already resolved); calls
 * that name a path without returning an fd (mkdirat, unlinkat, ...)
 * are resolved as their directory fd (or cwd) plus the path string the
 * caller passed; execs through the binprm. TCP bind/connect ports are
 * read from the sockaddr. Work at sys_exit and exec, and at sys_enter
 * only for the recorded tasks' calls whose path string or sockaddr is
 * read from the caller's memory (and openat2, whose flags are: its
 * truncate is learned from the ctime it changed): the kernel's own copy
 * is gone at sys_exit, and the caller can change its memory while the
 * call runs, so the string (and its directory) or the address is read
 * at both ends and an access is learned only if they agree; a string
 * must moreover name one of the inodes whose ctime the call changed
 * (inode_ctime, from the kernel's ctime tracepoints), which user space
 * checks (path_changed) unless it was checked here. A port has no such
 * check: a caller that changes the address before the entry, back
 * before the kernel reads it, and again before the exit still wins.
 *
 * The path walk runs on every recorded access, but the string is built
 * only the first time a (path, rights) pair is seen: the walk first
 * hashes the dentries, and a hit in the counts map is one increment.
 *
 * Anything the walk cannot resolve (too deep, too long, not under the
 * task's root, a failed read, a full map) is counted in stats: never
 * silent.
 */
#include "files.h"

/* Landlock rights (include/uapi/linux/landlock.h). */
#define LL_EXECUTE (1U << 0)
#define LL_WRITE_FILE (1U << 1)
#define LL_READ_FILE (1U << 2)
#define LL_READ_DIR (1U << 3)
#define LL_REMOVE_DIR (1U << 4)
#define LL_REMOVE_FILE (1U << 5)
#define LL_MAKE_CHAR (1U << 6)
#define LL_MAKE_DIR (1U << 7)
#define LL_MAKE_REG (1U << 8)
#define LL_MAKE_SOCK (1U << 9)
#define LL_MAKE_FIFO (1U << 10)
#define LL_MAKE_BLOCK (1U << 11)
#define LL_MAKE_SYM (1U << 12)
#define LL_REFER (1U << 13)
#define LL_TRUNCATE (1U << 14)
#define LL_IOCTL_DEV (1U << 15)
#define LL_BIND_TCP (1U << 0)
#define LL_CONNECT_TCP (1U << 1)

/* uapi constants (stable across arches sysrec records: x86_64, arm64). */
#define O_ACCMODE 00000003
#define O_TRUNC 00001000
#define O_DIRECTORY 00200000
#define O_PATH 010000000
#define __O_TMPFILE 020000000
#define AT_FDCWD -100
#define AT_REMOVEDIR 0x200
#define RENAME_EXCHANGE 2
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define S_IFBLK 0060000
#define S_IFDIR 0040000
#define S_IFCHR 0020000
#define S_IFIFO 0010000
#define S_IFREG 0100000
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define IPPROTO_TCP 6
#define IPPROTO_MPTCP 262
#define AT_BASE 7
#define PIDFS_MAGIC 0x50494446
#define PROC_SUPER_MAGIC 0x9fa0
/* Kernel-internal f_mode bits: FMODE_READ/WRITE have never moved;
 * FMODE_CREATED is 1<<20 both before and after the 6.9 renumbering. */
#define FMODE_READ 0x1
#define FMODE_WRITE 0x2
#define FMODE_CREATED (1U << 20)

struct {
	PER_RECORDING(
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(map_flags, BPF_F_NO_PREALLOC); /* memory as used: a recording's keys, not its --max-keys */
		__uint(max_entries, 16384); /* sized by the recorder */
		__uint(key_size, sizeof(struct file_key));
		__uint(value_size, sizeof(__u64));
	);
} file_counts SEC(".maps");

/* hash -> path, written once per distinct path; only what is used is
 * allocated (4 KiB per path). */
struct {
	PER_RECORDING(
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(max_entries, 16384); /* sized by the recorder */
		__uint(map_flags, BPF_F_NO_PREALLOC);
		__uint(key_size, sizeof(__u64));
		__uint(value_size, sizeof(struct pathbuf));
	);
} paths SEC(".maps");

struct {
	PER_RECORDING(
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(map_flags, BPF_F_NO_PREALLOC); /* memory as used: a recording's keys, not its --max-keys */
		__uint(max_entries, 1024);
		__uint(key_size, sizeof(struct port_key));
		__uint(value_size, sizeof(__u64));
	);
} ports SEC(".maps");

/* syscall number -> enum file_op, filled by the loader from the arch's
 * table, so the C knows no syscall numbers. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FILES_MAX_NR);
	__type(key, __u32);
	__type(value, enum file_op);
} ops SEC(".maps");

/* Per CPU: SCRATCH_EXIT for sys_exit and exec, SCRATCH_ENTER for
 * sys_enter (a different program, which may run between them),
 * SCRATCH_CHANGED for the paths of the inodes a call changed. */
enum { SCRATCH_EXIT = 0, SCRATCH_ENTER = 1, SCRATCH_CHANGED = 2 };

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, struct pathbuf);
} scratch SEC(".maps");

/* What sys_enter read of a call whose path strings or sockaddr come
 * from the caller's memory, for sys_exit to compare, and the inodes the
 * call changed meanwhile (inode_ctime; for openat2 only those). */
struct pending {
	__u64 path[2]; /* path_id of each path argument, in call_paths order */
	__u32 addr;    /* the sockaddr's family and port, as read */
	__u32 nr;      /* the call */
	__u64 key;     /* sys_exit's copy: the key it was found under */
	__u32 rec;     /* the caller's recording */
	__u32 pad;
	struct changed changed;
	__u64 inode[FILES_MAX_CHANGED]; /* the inodes of changed.id */
};

/* Keyed by the task's registers' address, unique among live tasks;
 * deleted at the call's exit. An LRU: what a task that died in a call
 * left is evicted, and an entry evicted too early is counted
 * (FILES_STAT_RACED), never silent. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct pending);
} pending SEC(".maps");

/* Entries put in pending and not yet taken (more, after an eviction):
 * while it is 0, inode_ctime has nothing to do. */
__u64 inflight;

/* An access learned from a string in the caller's memory (its key in
 * file_counts: path, rights, exe) -> the inodes the last call that asked
 * for those rights by that string changed: user space keeps the access
 * only if the string names the inode of its role (the directory for a
 * make, remove or refer; the object for a truncate). Keyed by the rights
 * too: a later call with the same string and other rights (an unlink
 * after a mkdir) never vouches for an earlier one. */
struct {
	PER_RECORDING(
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(max_entries, 16384); /* sized by the recorder */
		__uint(map_flags, BPF_F_NO_PREALLOC);
		__uint(key_size, sizeof(struct file_key));
		__uint(value_size, sizeof(struct changed));
	);
} path_changed SEC(".maps");

struct auxv {
	__u64 w[FILES_AUXV_WORDS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct auxv);
} auxv_scratch SEC(".maps");

struct {
	PER_RECORDING(
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(map_flags, BPF_F_NO_PREALLOC); /* memory as used: a recording's keys, not its --max-keys */
		__uint(max_entries, 1024);
		__uint(key_size, sizeof(struct unix_key));
		__uint(value_size, sizeof(__u64));
	);
} unix_counts SEC(".maps");

/* The unix sockets the target bound (struct sock addresses): a datagram
 * it sends to one reaches its own socket, which the scope allows. A
 * socket freed and its memory reused for another process's is taken
 * for the target's: that keeps a scope (refuses more), never drops
 * one; a full map drops the scope for the sockets it misses. */
struct {
	PER_RECORDING(
		__uint(type, BPF_MAP_TYPE_LRU_HASH);
		__uint(max_entries, 1024);
		__uint(key_size, sizeof(__u64));
		__uint(value_size, sizeof(__u8));
	);
} own_unix SEC(".maps");

/* exe -> signals it sent to processes outside the target. */
struct {
	PER_RECORDING(
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(map_flags, BPF_F_NO_PREALLOC); /* memory as used: a recording's keys, not its --max-keys */
		__uint(max_entries, 1024);
		__uint(key_size, sizeof(struct exe_name));
		__uint(value_size, sizeof(__u64));
	);
} signals_outside SEC(".maps");

/* Per recording: file_stats[rec * FILES_STAT_MAX + i]. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SYSREC_MAX_RECS * FILES_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} file_stats SEC(".maps");

static __always_inline void fstat_inc(__u32 rec, __u32 i)
{
	inc(&file_stats, rec * FILES_STAT_MAX + i);
}

/* Kernel types, only the fields used, relocated by CO-RE. d_name and
 * f_path sit in anonymous unions in recent kernels; CO-RE finds them by
 * name. */
struct qstr {
	__u64 hash_len;
	const unsigned char *name;
} __attribute__((preserve_access_index));

struct super_block {
	__u32 s_dev;
	unsigned long s_magic;
} __attribute__((preserve_access_index));

struct hlist_head {
	struct hlist_node *first;
} __attribute__((preserve_access_index));

struct inode {
	unsigned short i_mode;
	unsigned long i_ino;
	struct super_block *i_sb;
	struct hlist_head i_dentry;
	void *i_private;
} __attribute__((preserve_access_index));

struct hlist_node {
	struct hlist_node *next;
} __attribute__((preserve_access_index));

struct dentry {
	struct dentry *d_parent;
	struct qstr d_name;
	struct inode *d_inode;
	union {
		struct hlist_node d_alias;
	} d_u;
} __attribute__((preserve_access_index));

struct vfsmount {
	struct dentry *mnt_root;
} __attribute__((preserve_access_index));

struct mount {
	struct mount *mnt_parent;
	struct dentry *mnt_mountpoint;
	struct vfsmount mnt;
	int mnt_id;
} __attribute__((preserve_access_index));

struct path {
	struct vfsmount *mnt;
	struct dentry *dentry;
} __attribute__((preserve_access_index));

struct file {
	unsigned int f_mode;
	unsigned int f_flags;
	void *private_data;
	struct inode *f_inode;
	struct path f_path;
} __attribute__((preserve_access_index));

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
} __attribute__((preserve_access_index));

struct files_struct {
	struct fdtable *fdt;
} __attribute__((preserve_access_index));

struct fs_struct {
	struct path root;
	struct path pwd;
} __attribute__((preserve_access_index));

struct mm_struct {
	unsigned long saved_auxv[2];
} __attribute__((preserve_access_index));

struct ns_common {
	unsigned int inum;
} __attribute__((preserve_access_index));

struct mnt_namespace {
	struct ns_common ns;
} __attribute__((preserve_access_index));

struct nsproxy {
	struct mnt_namespace *mnt_ns;
} __attribute__((preserve_access_index));


struct linux_binprm {
	struct file *file;
	const char *filename;
	const char *interp;
} __attribute__((preserve_access_index));

struct vm_area_struct {
	struct file *vm_file;
} __attribute__((preserve_access_index));

struct sock_common {
	unsigned short skc_family;
} __attribute__((preserve_access_index));

struct sock {
	struct sock_common __sk_common;
	__u16 sk_protocol;
	struct pid *sk_peer_pid;
} __attribute__((preserve_access_index));

struct sockaddr_un {
	unsigned short sun_family;
	char sun_path[UNIX_PATH_MAX];
} __attribute__((preserve_access_index));

struct unix_address {
	int len;
	struct sockaddr_un name[];
} __attribute__((preserve_access_index));

struct unix_sock {
	struct unix_address *addr;
	struct sock *peer;
} __attribute__((preserve_access_index));

struct upid {
	int nr;
} __attribute__((preserve_access_index));

struct pid {
	struct upid numbers[1];
} __attribute__((preserve_access_index));

struct proc_inode {
	struct pid *pid;
	struct inode vfs_inode;
} __attribute__((preserve_access_index));

extern struct task_struct *bpf_task_from_pid(__s32 pid) __ksym;
extern struct task_struct *bpf_task_from_vpid(__s32 vpid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

struct socket {
	short type;
	struct sock *sk;
} __attribute__((preserve_access_index));


static __always_inline __u32 op_of(__u32 nr)
{
	if (nr >= FILES_MAX_NR)
		return OP_NONE;
	__u32 *op = bpf_map_lookup_elem(&ops, &nr);
	return op ? *op : OP_NONE;
}

static __always_inline __u64 mix(__u64 h, __u64 v)
{
	h = (h ^ v) * 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

static __always_inline struct vfsmount *vfsmnt_of(struct mount *m)
{
	return (void *)m + bpf_core_field_offset(struct mount, mnt);
}

static __always_inline struct mount *mount_of(struct vfsmount *v)
{
	return (void *)v - bpf_core_field_offset(struct mount, mnt);
}

/* fd_file returns the struct file behind fd in the current task, or NULL. */
static __always_inline struct file *fd_file(__u64 fd)
{
	struct fdtable *fdt = bpf_get_current_task_btf()->files->fdt;
	if (!fdt || fd >= fdt->max_fds)
		return 0;
	struct file **fds = fdt->fd;
	struct file *f = 0;
	bpf_probe_read_kernel(&f, sizeof(f), fds + fd);
	return f;
}

enum walk_status {
	WALK_RUNNING = 0,
	WALK_DONE,
	WALK_DISCONNECTED,
	WALK_TOO_DEEP,
	WALK_TOO_LONG,
	WALK_FAULT,
};

struct walk {
	struct dentry *dentry;
	struct mount *mnt;
	struct dentry *mnt_root;
	struct dentry *root_dentry;
	struct vfsmount *root_mnt;
	__u64 hash;
	__u32 off;   /* bytes of scratch.s in use (copy pass) */
	__u32 depth; /* components taken */
	__u32 copy;  /* 0: hash only; 1: also copy the names into scratch buf */
	__u32 status;
	__u32 buf;
	__u32 maxd;  /* components it may take (the recording's max_depth) */
};

/* walk_step takes one step up: a component, or a mount crossing. */
static long walk_step(__u32 i, struct walk *w)
{
	/* Plain loads of w first: a CO-RE access through w would ask to
	 * relocate struct walk, which the kernel does not have. */
	struct dentry *d = KPTR(dentry, w->dentry);
	struct mount *m = KPTR(mount, w->mnt);
	if (d == w->root_dentry && vfsmnt_of(w->mnt) == w->root_mnt) {
		w->status = WALK_DONE;
		return 1;
	}
	struct dentry *parent = d->d_parent;
	if (d == w->mnt_root) {
		struct mount *pm = m->mnt_parent;
		if (!pm || pm == w->mnt) {
			/* The top of a mount tree that is not the task's root: a
			 * path outside a chroot, or an internal mount (pipes, ...). */
			w->status = WALK_DISCONNECTED;
			return 1;
		}
		w->dentry = m->mnt_mountpoint;
		w->mnt = pm;
		w->mnt_root = KPTR(mount, pm)->mnt.mnt_root;
		return 0;
	}
	if (!parent || d == parent) {
		w->status = WALK_DISCONNECTED; /* a dentry cut off from its tree */
		return 1;
	}
	if (w->depth >= w->maxd || w->depth >= FILES_MAX_DEPTH) {
		w->status = WALK_TOO_DEEP;
		return 1;
	}
	const unsigned char *name = d->d_name.name;
	if (!name) {
		w->status = WALK_FAULT;
		return 1;
	}
	/* The name hash is salted with the parent dentry by the kernel; the
	 * inode number tells apart two names of one directory whose 32-bit
	 * hashes collide. */
	w->hash = mix(mix(w->hash, d->d_name.hash_len), d->d_inode->i_ino);
	if (w->copy) {
		struct pathbuf *b = bpf_map_lookup_elem(&scratch, &w->buf);
		if (!b) {
			w->status = WALK_FAULT;
			return 1;
		}
		if (w->off >= FILES_PATH_MAX) {
			w->status = WALK_TOO_LONG;
			return 1;
		}
		long n = bpf_probe_read_kernel_str(&b->s[w->off & (FILES_PATH_MAX - 1)], FILES_NAME_MAX, name);
		if (n <= 0) {
			w->status = WALK_FAULT;
			return 1;
		}
		w->off += n;
	}
	w->depth++;
	w->dentry = parent;
	return 0;
}

static __always_inline void walk_init(struct walk *w, struct dentry *d, struct vfsmount *v, __u32 maxd)
{
	struct fs_struct *fs = bpf_get_current_task_btf()->fs;
	w->maxd = maxd;
	w->status = WALK_RUNNING;
	w->dentry = d;
	w->mnt = mount_of(v);
	w->mnt_root = KPTR(vfsmount, v)->mnt_root;
	w->root_dentry = fs->root.dentry;
	w->root_mnt = fs->root.mnt;
}

static __always_inline __u32 walk_stat(__u32 status)
{
	switch (status) {
	case WALK_DISCONNECTED: return FILES_STAT_DISCONNECTED;
	case WALK_TOO_LONG: return FILES_STAT_TOO_LONG;
	case WALK_FAULT: return FILES_STAT_FAULT;
	default: return FILES_STAT_TOO_DEEP; /* includes running out of steps */
	}
}

/* other_root reports whether the task sees another file tree than its
 * recorder (st): a path string it passed means something else there.
 * Its root is compared with the recorder's by mount id and inode: a
 * host whose "/" is mounted over the initramfs (switch_root) has a root
 * mount with a parent, and the same root as the recorder. */
static __always_inline int other_root(struct rec_state *st)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	if (BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum) != st->mntns)
		return 1;
	struct vfsmount *v = BPF_CORE_READ(task, fs, root.mnt);
	return BPF_CORE_READ(mount_of(v), mnt_id) != st->root_mnt ||
	       BPF_CORE_READ(task, fs, root.dentry, d_inode, i_ino) != st->root_ino;
}

/* One access to record: an object (dentry+mount) and/or a path string
 * relative to it. */
struct req {
	struct dentry *dentry; /* start of the walk (the object, or the directory str is relative to) */
	struct vfsmount *mnt;
	const char *str; /* path string, or NULL */
	__u32 str_user;  /* str is in user memory */
	__u32 access;
	__u32 verify;  /* count the access only if its path_id is want */
	__u32 rec;     /* the caller's recording */
	__u64 want;
	__u64 key;     /* with verify: the pending entry of the call */
	__u64 dirhash; /* out: identifies the directory holding the object */
};

struct strhash {
	__u64 h;
	__u64 dirh; /* h before the last '/' */
	__u32 n;
	__u32 buf; /* SCRATCH_* */
};

static long hash_byte(__u32 i, struct strhash *s)
{
	struct pathbuf *b = bpf_map_lookup_elem(&scratch, &s->buf);
	if (!b || i >= s->n)
		return 1;
	__u8 c = b->s[i & (FILES_PATH_MAX - 1)];
	if (c == '/')
		s->dirh = s->h;
	s->h = (s->h ^ c) * 0x100000001b3ULL;
	return 0;
}

/* read_path reads r's path string, if any, into scratch sh->buf and
 * hashes it into sh. Returns whether the directory r points at is part
 * of the path (1: walk it; 0: the string is absolute or there is no
 * directory), or -FILES_STAT_* if the string cannot be used. */
static __always_inline int read_path(struct req *r, struct strhash *sh)
{
	struct pathbuf *b = bpf_map_lookup_elem(&scratch, &sh->buf);
	if (!b)
		return -FILES_STAT_FAULT;
	int walk = r->dentry != 0;
	if (!r->str)
		return walk;
	long n;
	if (r->str_user)
		n = bpf_probe_read_user_str(b->s, FILES_PATH_MAX, r->str);
	else
		n = bpf_probe_read_kernel_str(b->s, FILES_PATH_MAX, r->str);
	if (n <= 0 || (n == 1 && !walk))
		return -FILES_STAT_FAULT;
	if (n >= FILES_PATH_MAX)
		return -FILES_STAT_TOO_LONG;
	if (n > 1) { /* "" (AT_EMPTY_PATH) names the directory fd's object itself */
		sh->n = n - 1;
		bpf_loop(FILES_PATH_MAX, hash_byte, sh, 0);
		sh->n = n;
		if (b->s[0] == '/')
			walk = 0; /* absolute: the directory does not matter */
	}
	return walk;
}

/* path_id names what a path argument designates, for sys_enter and
 * sys_exit to compare: the string and, when it is relative, the
 * directory it is relative to, by inode and mount (another dfd or cwd
 * at exit is another path). */
static __always_inline __u64 path_id(struct req *r, struct strhash *sh, int walk)
{
	if (!walk)
		return sh->h;
	__u64 ino = KPTR(dentry, r->dentry)->d_inode->i_ino;
	return mix(mix(sh->h, ino), KPTR(mount, mount_of(r->mnt))->mnt_id);
}

#define FNV_BASIS 0xcbf29ce484222325ULL
#define STRHASH_INIT(b) {.h = FNV_BASIS, .dirh = FNV_BASIS, .buf = (b)}

/* changed_inode reports whether inode i is one the call of pending
 * entry p changed. */
static __always_inline int changed_inode(struct pending *p, struct inode *i)
{
	__u64 ino = KPTR(inode, i)->i_ino;
	__u32 dev = KPTR(inode, i)->i_sb->s_dev;
	__u32 n = p->changed.n;
	for (__u32 j = 0; j < FILES_MAX_CHANGED; j++)
		if (j < n && p->changed.id[j].ino == ino && p->changed.id[j].dev == dev)
			return 1;
	return 0;
}

/* changed_here reports whether the inode r's walk starts from (the
 * directory a relative string is in, or the object) is one the call of
 * r's pending entry changed. */
static __always_inline int changed_here(struct req *r)
{
	struct pending *p = bpf_map_lookup_elem(&pending, &r->key);
	return p && changed_inode(p, KPTR(dentry, r->dentry)->d_inode);
}

/* changed_path is the path hash (struct changed) of inode, walked up to
 * the task's root through mount mnt or, failing that, through the
 * task's root mount; 0 if neither leads there (another mount: user
 * space then compares inode numbers). A global function: verified once. */
__attribute__((noinline)) __u64 changed_path(__u64 inode, __u64 mnt, __u32 maxd)
{
	struct hlist_node *first = KPTR(inode, inode)->i_dentry.first;
	if (!first)
		return 0; /* removed */
	struct dentry *d = (void *)first - bpf_core_field_offset(struct dentry, d_u.d_alias);
	struct task_struct *task = (void *)bpf_get_current_task();
	struct vfsmount *mnts[2] = {(void *)mnt, BPF_CORE_READ(task, fs, root.mnt)};
	for (int i = 0; i < 2; i++) {
		struct walk w = {.copy = 1, .buf = SCRATCH_CHANGED};
		walk_init(&w, d, mnts[i], maxd);
		bpf_loop(maxd + FILES_MAX_MOUNTS, walk_step, &w, 0);
		if (w.status != WALK_DONE)
			continue;
		struct strhash sh = STRHASH_INIT(SCRATCH_CHANGED);
		sh.n = w.off;
		bpf_loop(FILES_PATH_MAX, hash_byte, &sh, 0);
		return sh.h;
	}
	return 0;
}

/* keep_changed stores, for user space to check access k, what the call
 * of pending entry key changed, with the paths of the changed inodes
 * (mnt: the mount the call's string was relative to). */
static __always_inline int keep_changed(__u64 key, struct file_key *k, __u64 mnt, struct rec_state *st, void *path_changed)
{
	struct pending *p = bpf_map_lookup_elem(&pending, &key);
	if (!p || !path_changed)
		return -1;
	struct changed c = p->changed;
	__u64 inodes[FILES_MAX_CHANGED];
	__builtin_memcpy(inodes, p->inode, sizeof(inodes));
	for (int i = 0; i < FILES_MAX_CHANGED; i++)
		c.path[i] = i < c.n ? changed_path(inodes[i], mnt, st->max_depth) : 0;
	return bpf_map_update_elem(path_changed, k, &c, BPF_ANY);
}

/* record resolves one access and counts it. A global function: verified
 * once, not once per call site. Returns 0 if it was counted. */
__attribute__((noinline)) int record(struct req *r)
{
	__u32 z = SCRATCH_EXIT;
	struct pathbuf *b = bpf_map_lookup_elem(&scratch, &z);
	if (!b || !r)
		return -1;
	__u32 rec = r->rec;
	struct rec_state *st = rec_state(rec);
	if (!st)
		return -1;
	struct strhash sh = STRHASH_INIT(SCRATCH_EXIT);
	int walk = read_path(r, &sh);
	if (walk < 0) {
		fstat_inc(rec, -walk);
		return -1;
	}
	__u32 flags = sh.n ? FILES_F_STRING : 0;
	int verify = r->verify;
	if (verify) {
		if (path_id(r, &sh, walk) != r->want) {
			/* want 0: sys_enter could not read the string (a page
			 * not touched yet, such as a literal's on first use:
			 * bpf_probe_read_user does not fault it in). */
			fstat_inc(rec, r->want ? FILES_STAT_RACED : FILES_STAT_FAULT);
			return -1;
		}
		/* One component relative to a directory the call changed (or
		 * "": the object itself): what the kernel did, checked here.
		 * Otherwise user space resolves the string and checks it. */
		if (walk && sh.dirh == FNV_BASIS && changed_here(r))
			verify = 0;
	}

	struct walk w = {};
	if (walk) {
		walk_init(&w, r->dentry, r->mnt, st->max_depth);
		bpf_loop(st->max_depth + FILES_MAX_MOUNTS, walk_step, &w, 0);
		if (w.status != WALK_DONE) {
			fstat_inc(rec, walk_stat(w.status));
			return -1;
		}
	}
	r->dirhash = mix(w.hash, sh.dirh);
	if (!r->access)
		return 0; /* only the directory was asked for (the source of a link) */
	struct exe *e = exe_of(bpf_get_current_task_btf(), rec);
	if (!e)
		return 0; /* not counted (yet), as its syscalls are not */
	void *counts_map = of(&file_counts, rec), *paths_map = of(&paths, rec);
	if (!counts_map || !paths_map) {
		fstat_inc(rec, FILES_STAT_LOST_KEYS);
		return -1;
	}
	struct file_key k = {.hash = mix(w.hash, sh.h), .access = r->access};
	__builtin_memcpy(k.exe, e->name, sizeof(k.exe));
	if (verify) {
		/* Apart from the same path taken from the kernel (an open's
		 * fd, an exec): only this one is checked. */
		k.hash = mix(k.hash, FILES_F_VERIFY);
		flags |= FILES_F_VERIFY;
		if (keep_changed(r->key, &k, (__u64)r->mnt, st, of(&path_changed, rec))) {
			fstat_inc(rec, FILES_STAT_LOST_PATHS);
			return -1;
		}
	}
	__u64 *v = bpf_map_lookup_elem(counts_map, &k);
	if (v) {
		__sync_fetch_and_add(v, 1);
		return 0;
	}
	if (!bpf_map_lookup_elem(paths_map, &k.hash)) {
		/* First sight of this path: build its string. */
		if (walk) {
			walk_init(&w, r->dentry, r->mnt, st->max_depth);
			w.hash = 0;
			w.depth = 0;
			w.copy = 1;
			w.off = sh.n;
			bpf_loop(st->max_depth + FILES_MAX_MOUNTS, walk_step, &w, 0);
			if (w.status != WALK_DONE) {
				fstat_inc(rec, walk_stat(w.status));
				return -1;
			}
		} else {
			w.off = sh.n;
		}
		if (flags & FILES_F_STRING && other_root(st))
			flags |= FILES_F_OTHER_ROOT;
		b->len = w.off;
		b->flags = flags;
		if (bpf_map_update_elem(paths_map, &k.hash, b, BPF_NOEXIST) && !bpf_map_lookup_elem(paths_map, &k.hash)) {
			fstat_inc(rec, FILES_STAT_LOST_PATHS);
			return -1;
		}
	}
	add(counts_map, &k, &file_stats, rec * FILES_STAT_MAX + FILES_STAT_LOST_KEYS);
	return 0;
}

/* set_file points r at the object behind a struct file. */
static __always_inline int set_file(struct req *r, struct file *f)
{
	if (!f)
		return -1;
	struct file *kf = KPTR(file, f);
	r->dentry = kf->f_path.dentry;
	r->mnt = kf->f_path.mnt;
	return r->dentry && r->mnt ? 0 : -1;
}

/* set_at points r at a path string relative to a directory fd. */
static __always_inline int set_at(struct req *r, long dfd, __u64 str)
{
	r->str = (const char *)str;
	r->str_user = 1;
	if ((int)dfd == AT_FDCWD) {
		struct task_struct *task = (void *)bpf_get_current_task();
		r->dentry = BPF_CORE_READ(task, fs, pwd.dentry);
		r->mnt = BPF_CORE_READ(task, fs, pwd.mnt);
		return 0;
	}
	return set_file(r, fd_file(dfd));
}

static __always_inline __u32 inode_mode(struct file *f)
{
	return KPTR(file, f)->f_inode->i_mode & S_IFMT;
}

static __always_inline __u32 mknod_right(__u32 mode)
{
	switch (mode & S_IFMT) {
	case S_IFCHR: return LL_MAKE_CHAR;
	case S_IFBLK: return LL_MAKE_BLOCK;
	case S_IFIFO: return LL_MAKE_FIFO;
	case S_IFSOCK: return LL_MAKE_SOCK;
	default: return LL_MAKE_REG;
	}
}

/* opened records a successful open-family call returning fd. What
 * the opened file says decides: f_mode (read, write, FMODE_CREATED),
 * f_flags (O_PATH and __O_TMPFILE stay there; O_TRUNC does not:
 * do_dentry_open clears it). trunc: the call's flags, from its
 * registers, asked to truncate. p, for openat2, whose flags are in the
 * caller's memory (a thread can change them while the call runs): the
 * call truncated if it changed the opened file's ctime instead. */
static __always_inline void opened(__u32 rec, long fd, int trunc, struct pending *p)
{
	struct file *f = fd_file(fd);
	struct req r = {.rec = rec};
	if (set_file(&r, f)) {
		fstat_inc(rec, FILES_STAT_FAULT);
		return;
	}
	unsigned int fflags = KPTR(file, f)->f_flags;
	if (fflags & O_PATH)
		return; /* an O_PATH fd grants no Landlock-checked access */
	unsigned int fmode = KPTR(file, f)->f_mode;
	int dir = inode_mode(f) == S_IFDIR;
	if (fmode & FMODE_READ)
		r.access |= dir ? LL_READ_DIR : LL_READ_FILE;
	if (fmode & FMODE_WRITE)
		r.access |= LL_WRITE_FILE;
	if (p)
		trunc = changed_inode(p, KPTR(file, f)->f_inode);
	if (trunc && !dir)
		r.access |= LL_TRUNCATE;
	if (fflags & __O_TMPFILE) {
		/* An unnamed file in a directory: rights on the directory. */
		struct dentry *d = r.dentry;
		r.dentry = BPF_CORE_READ(d, d_parent);
	} else if (fmode & FMODE_CREATED) {
		/* Made by this call; the right is the directory's (the path
		 * names the object, user space puts it on its parent). */
		r.access |= LL_MAKE_REG;
	}
	if (r.access)
		record(&r);
}

/* at_path records a path-only call: the object dfd/str names, if its
 * path_id is want (what sys_enter read). */
static __always_inline int at_path(long dfd, __u64 str, __u32 access, __u64 *dirhash, struct pending *p, int i)
{
	struct req r = {.access = access, .verify = 1, .want = p->path[i & 1], .key = p->key, .rec = p->rec};
	if (set_at(&r, dfd, str)) {
		fstat_inc(p->rec, FILES_STAT_FAULT);
		return -1;
	}
	int err = record(&r);
	if (dirhash)
		*dirhash = r.dirhash;
	return err;
}

/* moved records rename and link: the object leaves one directory (or is
 * linked from it) and appears in another; crossing directories needs
 * refer on both. */
static __always_inline void moved(struct pending *p, long odfd, __u64 old, __u32 oacc, long ndfd, __u64 new, __u32 nacc)
{
	__u64 oh = 0, nh = 0;
	if (at_path(odfd, old, oacc, &oh, p, 0) | at_path(ndfd, new, nacc, &nh, p, 1))
		return;
	if (oh != nh) {
		at_path(odfd, old, LL_REFER, 0, p, 0);
		at_path(ndfd, new, LL_REFER, 0, p, 1);
	}
}

/* sockaddr_head reads the family and port of the sockaddr a bind or
 * connect names (0 if it has none). */
static __always_inline __u32 sockaddr_head(void *regs)
{
	__u32 head = 0;
	if (arg(regs, 2) < sizeof(head) || bpf_probe_read_user(&head, sizeof(head), (void *)arg(regs, 1)))
		return 0;
	return head;
}

/* tcp_port records the port of a TCP bind or connect, whatever the
 * call's outcome: Landlock checks the port before the call can fail for
 * another reason (ECONNREFUSED, EINPROGRESS, EADDRINUSE). want is the
 * sockaddr's head as sys_enter read it. */
static __always_inline void tcp_port(__u32 rec, void *regs, __u32 op, __u32 want)
{
	__u32 head = sockaddr_head(regs);
	__u16 *sa = (__u16 *)&head;
	if (!head)
		return;
	if (sa[0] != AF_INET && sa[0] != AF_INET6)
		return;
	/* Landlock's TCP rules are about TCP sockets (and MPTCP). */
	struct file *f = fd_file(arg(regs, 0));
	if (!f || inode_mode(f) != S_IFSOCK)
		return;
	struct socket *sock = BPF_CORE_READ(f, private_data);
	if (BPF_CORE_READ(sock, type) != SOCK_STREAM)
		return;
	__u16 proto = BPF_CORE_READ(sock, sk, sk_protocol);
	if (proto != IPPROTO_TCP && proto != IPPROTO_MPTCP)
		return;
	struct exe *e = exe_of(bpf_get_current_task_btf(), rec);
	if (!e)
		return;
	if (head != want) {
		fstat_inc(rec, FILES_STAT_RACED);
		return;
	}
	struct port_key k = {
		.port = __builtin_bswap16(sa[1]),
		.family = sa[0],
		.access = op == OP_BIND ? LL_BIND_TCP : LL_CONNECT_TCP,
	};
	__builtin_memcpy(k.exe, e->name, sizeof(k.exe));
	add(of(&ports, rec), &k, &file_stats, rec * FILES_STAT_MAX + FILES_STAT_LOST_PORTS);
}

/* unix_used records that the target reached unix socket sk: connected
 * to it, or sent it a datagram by its address. The name is sk's bound
 * address, the kernel's copy: what the caller's memory says does not
 * matter. An unnamed socket (a socketpair's) is not recorded: no scope
 * restricts it; nor an abstract one of the target's own (own: its
 * listener is a process of the target, or the target bound it): the
 * scope allows those, and recording them let a program that connected
 * to itself drop the scope. */
static __always_inline void unix_used(__u32 rec, struct sock *sk, int own)
{
	struct unix_address *a = KPTR(unix_sock, sk)->addr;
	if (!a)
		return;
	int len = KPTR(unix_address, a)->len - (int)sizeof(unsigned short);
	if (len <= 0)
		return;
	if (len > UNIX_PATH_MAX)
		len = UNIX_PATH_MAX;
	struct unix_key k = {.len = len};
	if (bpf_probe_read_kernel(k.name, len, KPTR(unix_address, a)->name[0].sun_path))
		return;
	if (own && !k.name[0])
		return;
	struct exe *e = exe_of(bpf_get_current_task_btf(), rec);
	if (!e)
		return;
	__builtin_memcpy(k.exe, e->name, sizeof(k.exe));
	add(of(&unix_counts, rec), &k, &file_stats, rec * FILES_STAT_MAX + FILES_STAT_LOST_SCOPES);
}

/* pid_in_rec reports whether the process pid names exists and is in
 * recording rec's subtree. */
static __always_inline int pid_in_rec(struct pid *pid, __u32 rec)
{
	if (!pid)
		return 0;
	struct task_struct *t = bpf_task_from_pid(KPTR(pid, pid)->numbers[0].nr);
	if (!t)
		return 0;
	int in = task_in_rec(t, rec);
	bpf_task_release(t);
	return in;
}

/* unix_sock_of returns the unix socket behind fd, or NULL. */
static __always_inline struct sock *unix_sock_of(__u64 fd)
{
	struct file *f = fd_file(fd);
	if (!f || inode_mode(f) != S_IFSOCK)
		return 0;
	struct socket *sock = KPTR(file, f)->private_data;
	struct sock *sk = KPTR(socket, sock)->sk;
	if (!sk || KPTR(sock, sk)->__sk_common.skc_family != AF_UNIX)
		return 0;
	return sk;
}

/* unix_bound notes the unix socket a successful bind of the target
 * bound (own_unix). */
static __always_inline void unix_bound(__u32 rec, void *regs)
{
	struct sock *sk = unix_sock_of(arg(regs, 0));
	__u64 key = (__u64)sk;
	__u8 one = 1;
	void *own = of(&own_unix, rec);
	if (sk && own)
		bpf_map_update_elem(own, &key, &one, BPF_ANY);
}

/* unix_connected records the peer of the unix socket a successful
 * connect connected: the socket made for it by a listener (it carries
 * the listener's address), or a datagram socket. A stream socket's
 * sk_peer_pid is the process that called listen (connect copies the
 * listener's credentials): whether the target connected to its own. */
static __always_inline void unix_connected(__u32 rec, void *regs)
{
	struct sock *sk = unix_sock_of(arg(regs, 0));
	if (!sk)
		return;
	struct sock *peer = KPTR(unix_sock, sk)->peer;
	if (peer)
		unix_used(rec, peer, pid_in_rec(KPTR(sock, sk)->sk_peer_pid, rec));
}

/* is_send reports whether op sends a message, maybe to an address. */
static __always_inline int is_send(__u32 op)
{
	return op == OP_SENDTO || op == OP_SENDMSG || op == OP_SENDMMSG;
}

/* send_addressed reports whether a send names a destination (sendto's
 * address, the first message's msg_name): only those get a pending
 * entry, for unix_ready to find. What the memory says only gates: the
 * destination recorded is the socket the kernel delivered to. */
static __always_inline int send_addressed(void *regs, __u32 op)
{
	if (op == OP_SENDTO)
		return arg(regs, 4) && arg(regs, 5) >= sizeof(unsigned short);
	__u64 name = 0; /* msg_name is the first field of struct msghdr (and of mmsghdr) */
	bpf_probe_read_user(&name, sizeof(name), (void *)arg(regs, 1));
	return name != 0;
}

/* unix_ready: the kernel queued data on socket sk, in the context of the
 * task that sent it. For an addressed send of a recorded task, that is
 * the unix socket it reached. */
static __always_inline void unix_ready(struct sock *sk)
{
	if (!*(volatile __u64 *)&inflight)
		return;
	if (KPTR(sock, sk)->__sk_common.skc_family != AF_UNIX)
		return;
	__u64 key = (__u64)bpf_task_pt_regs(bpf_get_current_task_btf());
	struct pending *p = bpf_map_lookup_elem(&pending, &key);
	__u64 at = (__u64)sk;
	if (!p || !is_send(op_of(p->nr)))
		return;
	void *own = of(&own_unix, p->rec);
	unix_used(p->rec, sk, own && bpf_map_lookup_elem(own, &at) != 0);
}

/* is_signal reports whether op sends a signal. */
static __always_inline int is_signal(__u32 op)
{
	return op >= OP_KILL && op <= OP_PIDFD_SEND_SIGNAL;
}

/* signal_outside counts a signal of the current task to a process
 * outside the target. */
static __always_inline void signal_outside(__u32 rec)
{
	struct exe *e = exe_of(bpf_get_current_task_btf(), rec);
	if (e)
		add(of(&signals_outside, rec), e->name, &file_stats, rec * FILES_STAT_MAX + FILES_STAT_LOST_SCOPES);
}

/* signal_generated: the kernel made signal for task, in the context of
 * the sender. Counted when the sender is a recorded task in one of the
 * signal calls (not the kernel's own signals, such as SIGCHLD to a
 * parent outside, which no Landlock scope restricts) and task is
 * outside the target: per process reached, so kill(0) and kill(-1) to
 * processes inside count nothing. */
static __always_inline void signal_generated(struct task_struct *task)
{
	if (!*(volatile __u32 *)&nfiles)
		return;
	struct task_struct *cur = bpf_get_current_task_btf();
	void *regs = (void *)bpf_task_pt_regs(cur);
	if (!is_signal(op_of(exit_nr(regs))) || compat(regs, cur))
		return;
	__u32 rec = rec_of_task(cur);
	struct rec_state *st = rec_state(rec);
	if (!st || !st->files)
		return;
	if (!task_in_rec(task, rec))
		signal_outside(rec);
}

/* pidfd_pid_nr returns the pid number (in the initial namespace) of
 * the process pidfd names (a pidfd, or a /proc/PID directory), or 0. */
static __always_inline int pidfd_pid_nr(__u64 pidfd)
{
	struct file *f = fd_file(pidfd);
	if (!f)
		return 0;
	struct inode *inode = KPTR(file, f)->f_inode;
	unsigned long magic = KPTR(inode, inode)->i_sb->s_magic;
	struct pid *pid = 0;
	if (magic == PIDFS_MAGIC)
		pid = KPTR(inode, inode)->i_private;
	else if (magic == PROC_SUPER_MAGIC)
		pid = KPTR(proc_inode, (void *)inode - bpf_core_field_offset(struct proc_inode, vfs_inode))->pid;
	return pid ? KPTR(pid, pid)->numbers[0].nr : 0;
}

/* signal_probe: a successful signal call with signal 0 (a check that
 * the target exists and may be signalled, which a Landlock scope
 * refuses just the same) generates no signal: the target is found from
 * the call's arguments (registers, not memory). Only a probe of one
 * process that exists and is outside the target counts as outside. A
 * probe of a process group or of every process (pid 0, negative)
 * never does: it succeeds when one process it reaches may be
 * signalled, and kill(0) reaches the caller itself, which the scope
 * allows; counting it let a program drop the scope with setsid() and
 * kill(0, 0). A target gone by now was not shown to be outside. */
static __always_inline void signal_probe(__u32 rec, void *regs, __u32 op)
{
	int tg = op == OP_TGKILL || op == OP_RT_TGSIGQUEUEINFO;
	if ((int)arg(regs, tg ? 2 : 1) != 0)
		return; /* a real signal: signal_generated saw it */
	struct task_struct *t = 0;
	if (op == OP_PIDFD_SEND_SIGNAL) {
		int nr = pidfd_pid_nr(arg(regs, 0));
		if (nr > 0)
			t = bpf_task_from_pid(nr);
	} else {
		int pid = (int)arg(regs, tg ? 1 : 0);
		if (pid > 0)
			t = bpf_task_from_vpid(pid);
	}
	if (!t)
		return;
	int in = task_in_rec(t, rec);
	bpf_task_release(t);
	if (!in)
		signal_outside(rec);
}

/* watched reports whether op names a path by a string, or a sockaddr,
 * in the caller's memory: read at sys_enter and again at sys_exit. */
static __always_inline int watched(__u32 op)
{
	return (op >= OP_MKDIR && op <= OP_TRUNCATE) || op == OP_BIND || op == OP_CONNECT;
}

/* call_paths gives the path arguments of a call that names paths by
 * string, as (directory fd, string) pairs in the order files_exit
 * records them, and returns how many: the one home of which registers
 * hold them, for sys_enter and sys_exit. */
static __always_inline int call_paths(__u32 op, void *regs, long d[2], __u64 s[2])
{
	d[0] = d[1] = AT_FDCWD;
	switch (op) {
	case OP_MKDIR:
	case OP_MKNOD:
	case OP_UNLINK:
	case OP_RMDIR:
	case OP_TRUNCATE:
		s[0] = arg(regs, 0);
		return 1;
	case OP_MKDIRAT:
	case OP_MKNODAT:
	case OP_UNLINKAT:
		d[0] = arg(regs, 0);
		s[0] = arg(regs, 1);
		return 1;
	case OP_RENAME:
	case OP_LINK:
		s[0] = arg(regs, 0);
		s[1] = arg(regs, 1);
		return 2;
	case OP_RENAMEAT:
	case OP_RENAMEAT2:
	case OP_LINKAT:
		d[0] = arg(regs, 0);
		s[0] = arg(regs, 1);
		d[1] = arg(regs, 2);
		s[1] = arg(regs, 3);
		return 2;
	case OP_SYMLINK:
		s[0] = arg(regs, 1);
		return 1;
	case OP_SYMLINKAT:
		d[0] = arg(regs, 1);
		s[0] = arg(regs, 2);
		return 1;
	case OP_BIND:
		s[0] = arg(regs, 1) + 2; /* sun_path, if it is a unix socket */
		return 1;
	}
	return 0;
}

/* enter_path_id is the path_id of dfd/str as sys_enter sees it (0: it
 * cannot be read; the call fails, or sys_exit disagrees). A global
 * function: verified once. */
__attribute__((noinline)) __u64 enter_path_id(long dfd, __u64 str)
{
	struct req r = {};
	if (set_at(&r, dfd, str))
		return 0;
	struct strhash sh = STRHASH_INIT(SCRATCH_ENTER);
	int walk = read_path(&r, &sh);
	if (walk < 0)
		return 0;
	return path_id(&r, &sh, walk);
}

/* files_enter keeps, for a call of a recorded task that names paths or
 * a sockaddr in its memory, what that memory says now, for files_exit
 * to compare. Other calls cost an array look-up. */
static __always_inline void files_enter(__u32 rec, void *regs, __u32 nr)
{
	__u32 op = op_of(nr);
	if (!watched(op) && op != OP_OPENAT2 && !(is_send(op) && send_addressed(regs, op)))
		return;
	long d[2];
	__u64 s[2] = {};
	struct pending p = {.nr = nr, .rec = rec};
	int n = call_paths(op, regs, d, s);
	if (n > 0)
		p.path[0] = enter_path_id(d[0], s[0]);
	if (n > 1)
		p.path[1] = enter_path_id(d[1], s[1]);
	if (op == OP_BIND || op == OP_CONNECT)
		p.addr = sockaddr_head(regs);
	__u64 key = (__u64)regs;
	if (!bpf_map_update_elem(&pending, &key, &p, BPF_ANY)) /* on failure, files_exit counts it */
		__sync_fetch_and_add(&inflight, 1);
}

/* drop_pending forgets the pending entry at key. */
static __always_inline void drop_pending(__u64 key)
{
	if (!bpf_map_delete_elem(&pending, &key))
		__sync_fetch_and_add(&inflight, -1);
}

/* inode_ctime notes, for a recorded call in progress (one sys_enter put
 * in pending), the inode whose ctime the kernel just changed on its
 * behalf: what the call really created, removed, renamed or truncated,
 * and in which directory, whatever its memory says by the exit. Every
 * ctime change of the host comes here; while no such call is in
 * progress it costs a load. */
static __always_inline void inode_ctime(struct inode *inode)
{
	if (!*(volatile __u64 *)&inflight)
		return;
	__u64 key = (__u64)bpf_task_pt_regs(bpf_get_current_task_btf());
	struct pending *p = bpf_map_lookup_elem(&pending, &key);
	if (!p)
		return;
	struct ident id = {.dev = inode->i_sb->s_dev, .ino = inode->i_ino};
	__u32 n = p->changed.n;
	for (__u32 i = 0; i < FILES_MAX_CHANGED; i++) {
		if (i >= n)
			break;
		if (p->changed.id[i].ino == id.ino && p->changed.id[i].dev == id.dev)
			return;
	}
	if (n < FILES_MAX_CHANGED) {
		p->changed.id[n] = id;
		p->inode[n] = (__u64)inode;
	}
	if (n <= FILES_MAX_CHANGED)
		p->changed.n = n + 1;
}

/* take_pending returns in p what sys_enter kept for this call of the
 * current task (task); files_exit forgets it when done. Returns -1,
 * having counted the access as raced if the task is counted, when there
 * is none. */
static __always_inline int take_pending(__u32 rec, void *regs, __u32 nr, struct pending *p)
{
	__u64 key = (__u64)regs;
	struct pending *e = bpf_map_lookup_elem(&pending, &key);
	if (e && e->nr == nr) {
		*p = *e;
		p->key = key;
		return 0;
	}
	if (e)
		drop_pending(key); /* a call whose exit was not seen */
	if (exe_of(bpf_get_current_task_btf(), rec))
		fstat_inc(rec, FILES_STAT_RACED);
	return -1;
}

/* fd_op records a successful call whose object the kernel names: the
 * fd an open returned, the fd ftruncate and ioctl were given. */
static __always_inline void fd_op(__u32 rec, void *regs, __u32 op, long ret)
{
	switch (op) {
	case OP_OPEN:
		opened(rec, ret, arg(regs, 1) & O_TRUNC, 0);
		break;
	case OP_OPENAT:
	case OP_OPEN_BY_HANDLE_AT:
		opened(rec, ret, arg(regs, 2) & O_TRUNC, 0);
		break;
	case OP_CREAT:
		opened(rec, ret, 1, 0);
		break;
	case OP_FTRUNCATE:
	case OP_IOCTL: {
		struct file *f = fd_file(arg(regs, 0));
		struct req r = {.access = op == OP_FTRUNCATE ? LL_TRUNCATE : LL_IOCTL_DEV, .rec = rec};
		if (set_file(&r, f)) {
			fstat_inc(rec, FILES_STAT_FAULT);
			break;
		}
		__u32 m = inode_mode(f);
		if (op == OP_IOCTL && m != S_IFCHR && m != S_IFBLK)
			break; /* ioctl_dev is about device files only */
		record(&r);
		break;
	}
	}
}

/* path_op records a call that names paths by string or a sockaddr in the
 * caller's memory; p is what files_enter and inode_ctime kept of it. */
static __always_inline void path_op(void *regs, __u32 op, long ret, struct pending *p)
{
	if (op == OP_CONNECT || op == OP_BIND) {
		tcp_port(p->rec, regs, op, p->addr);
		if (op == OP_CONNECT && ret == 0)
			unix_connected(p->rec, regs);
		if (op == OP_BIND && ret == 0)
			unix_bound(p->rec, regs);
		if (op == OP_CONNECT || ret < 0)
			return;
	}
	long d[2];
	__u64 s[2] = {};
	call_paths(op, regs, d, s);
	switch (op) {
	case OP_MKDIR:
	case OP_MKDIRAT:
		at_path(d[0], s[0], LL_MAKE_DIR, 0, p, 0);
		break;
	case OP_MKNOD:
		at_path(d[0], s[0], mknod_right(arg(regs, 1)), 0, p, 0);
		break;
	case OP_MKNODAT:
		at_path(d[0], s[0], mknod_right(arg(regs, 2)), 0, p, 0);
		break;
	case OP_UNLINK:
		at_path(d[0], s[0], LL_REMOVE_FILE, 0, p, 0);
		break;
	case OP_UNLINKAT:
		at_path(d[0], s[0], (arg(regs, 2) & AT_REMOVEDIR) ? LL_REMOVE_DIR : LL_REMOVE_FILE, 0, p, 0);
		break;
	case OP_RMDIR:
		at_path(d[0], s[0], LL_REMOVE_DIR, 0, p, 0);
		break;
	/* A rename may replace the target (remove_file there too); whether
	 * the object is a directory is not known here: recorded as a file. */
	case OP_RENAME:
	case OP_RENAMEAT:
	case OP_RENAMEAT2: {
		__u32 oacc = LL_REMOVE_FILE;
		if (op == OP_RENAMEAT2 && (arg(regs, 4) & RENAME_EXCHANGE))
			oacc |= LL_MAKE_REG;
		moved(p, d[0], s[0], oacc, d[1], s[1], LL_MAKE_REG | LL_REMOVE_FILE);
		break;
	}
	case OP_LINK:
	case OP_LINKAT:
		moved(p, d[0], s[0], 0, d[1], s[1], LL_MAKE_REG);
		break;
	case OP_SYMLINK:
	case OP_SYMLINKAT:
		at_path(d[0], s[0], LL_MAKE_SYM, 0, p, 0);
		break;
	case OP_TRUNCATE:
		at_path(d[0], s[0], LL_TRUNCATE, 0, p, 0);
		break;
	case OP_BIND: {
		/* A named unix socket is a file made in its directory. */
		__u16 family = 0;
		char first = 0;
		bpf_probe_read_user(&family, sizeof(family), (void *)arg(regs, 1));
		bpf_probe_read_user(&first, 1, (void *)s[0]);
		if (family == AF_UNIX && first)
			at_path(d[0], s[0], LL_MAKE_SOCK, 0, p, 0);
		break;
	}
	}
}

/* files_exit records the file or port a finished call touched. While
 * a recording records files, every task of the host comes here after
 * every syscall: a direct load and an inlined array lookup, no helper,
 * for calls that are not file operations; the task's recording is
 * sys_exit's kept decision (who). */
static __always_inline void files_exit(void *regs, __u32 nr, long ret)
{
	__u32 op = op_of(nr);
	if (op == OP_NONE)
		return;
	struct last *c = who(regs, LAST_EXIT);
	if (!c || c->state == LAST_OUTSIDE || !c->files)
		return;
	__u32 rec = c->rec;
	int port = op == OP_CONNECT || op == OP_BIND;
	if (ret < 0 && !port) {
		/* A failed call that files_enter kept: forget it, or inflight
		 * stays up and every ctime change of the host is looked up. */
		if (*(volatile __u64 *)&inflight && (watched(op) || op == OP_OPENAT2 || is_send(op)))
			drop_pending((__u64)regs);
		return;
	}
	/* nr is another call in the compat table (counted at sys_enter). */
	if (compat(regs, (void *)c->task))
		return;
	if (is_send(op)) {
		drop_pending((__u64)regs); /* unix_ready did the work */
		return;
	}
	if (is_signal(op)) {
		signal_probe(rec, regs, op);
		return;
	}
	if (op == OP_OPENAT2) {
		/* files_enter kept it: the inodes it changed tell whether it
		 * truncated (none kept: not learned as a truncate). */
		__u64 key = (__u64)regs;
		struct pending *p = bpf_map_lookup_elem(&pending, &key);
		opened(rec, ret, 0, p && p->nr == nr ? p : 0);
		drop_pending(key);
		return;
	}
	if (!watched(op)) {
		fd_op(rec, regs, op, ret);
		return;
	}
	struct pending p = {};
	if (take_pending(rec, regs, nr, &p))
		return;
	path_op(regs, op, ret, &p);
	drop_pending(p.key);
}

struct vma_ctx {
	struct file *file;
};

static long vma_file(struct task_struct *task, struct vm_area_struct *vma, struct vma_ctx *c)
{
	c->file = BPF_CORE_READ(vma, vm_file);
	return 0;
}

/* An exec needs execute and read_file on the executable, on a script
 * (bprm->file is then its interpreter) and on the ELF interpreter
 * (ld.so), which the kernel opens itself: found through AT_BASE in the
 * new auxv and the mapping there. */
static __always_inline void files_exec(__u32 rec, struct linux_binprm *bprm)
{
	struct req r = {.access = LL_EXECUTE | LL_READ_FILE, .rec = rec};
	if (set_file(&r, BPF_CORE_READ(bprm, file)))
		fstat_inc(rec, FILES_STAT_FAULT);
	else
		record(&r);

	const char *filename = BPF_CORE_READ(bprm, filename);
	if (filename != BPF_CORE_READ(bprm, interp)) {
		/* A script: filename is what was exec'd, as the caller spelled
		 * it (kernel memory). fexecve's /dev/fd/N names nothing. */
		char head[8] = {};
		bpf_probe_read_kernel_str(head, sizeof(head), filename);
		if (!(head[0] == '/' && head[1] == 'd' && head[2] == 'e' && head[3] == 'v' &&
		      head[4] == '/' && head[5] == 'f' && head[6] == 'd')) {
			struct req s = {.access = LL_EXECUTE | LL_READ_FILE, .str = filename, .rec = rec};
			struct task_struct *task = (void *)bpf_get_current_task();
			s.dentry = BPF_CORE_READ(task, fs, pwd.dentry);
			s.mnt = BPF_CORE_READ(task, fs, pwd.mnt);
			record(&s);
		}
	}

	__u32 z = 0;
	struct auxv *a = bpf_map_lookup_elem(&auxv_scratch, &z);
	if (!a)
		return;
	struct task_struct *task = (void *)bpf_get_current_task();
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	if (bpf_core_read(a->w, sizeof(a->w), &mm->saved_auxv))
		return;
	__u64 base = 0;
	for (int i = 0; i + 1 < FILES_AUXV_WORDS; i += 2) {
		if (a->w[i] == 0)
			break;
		if (a->w[i] == AT_BASE) {
			base = a->w[i + 1];
			break;
		}
	}
	if (!base)
		return; /* static binary: no interpreter */
	struct vma_ctx c = {};
	if (bpf_find_vma(bpf_get_current_task_btf(), base, vma_file, &c, 0) || !c.file) {
		fstat_inc(rec, FILES_STAT_FAULT);
		return;
	}
	struct req l = {.access = LL_EXECUTE | LL_READ_FILE, .rec = rec};
	if (!set_file(&l, c.file))
		record(&l);
	return;
}
