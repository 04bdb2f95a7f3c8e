/* Types shared between sysrec.bpf.c and Go (bpf2go -type). */
#ifndef SYSREC_H
#define SYSREC_H

#define SYSREC_MAX_NR 1024 /* syscall numbers at or above this carry no argument masks */
#define SYSREC_COMM_LEN 16
#define SYSREC_MAX_RECS 256 /* recordings the shared object serves at once */
#define SYSREC_NO_REC 0xffffffffu

/* PER_RECORDING(shape) declares, inside a map's struct, an array of the
 * recordings' own maps of that shape, by recording id. Each recording
 * makes its maps (its sizes, its memory) and the owner puts them here.
 * The shape gives key and value sizes, not types: clang leaves a key
 * type of a map in a map a forward declaration. */
#define PER_RECORDING(...)                            \
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);     \
	__uint(max_entries, SYSREC_MAX_RECS);         \
	__type(key, __u32);                           \
	__array(values, struct { __VA_ARGS__ })

/* One distinct thing a target did: a syscall with its masked scalar
 * arguments, by an executable. The hash map aggregates calls per key, so
 * the map grows with distinct keys, never with events. */
struct key {
	__u32 nr;
	__u16 abi;   /* KEY_NATIVE, or KEY_COMPAT: nr and args are of the other ABI's table */
	__u16 phase; /* KEY_INIT, or KEY_SERVING: the phase of the calling process (phase.h) at the call's entry */
	__u64 args[6];
	char exe[SYSREC_COMM_LEN];
};

enum {
	KEY_NATIVE = 0,
	KEY_COMPAT = 1, /* i386 on x86_64, AArch32 on arm64 */
};

enum {
	KEY_INIT = 0, /* also every call of a recording that does not track phases */
	KEY_SERVING = 1,
	KEY_PHASES = 2,
};

/* An executable's name, as keys carry it: its comm at exec. */
struct exe_name {
	char name[SYSREC_COMM_LEN];
};

/* Which bits of each argument of a syscall to keep (0: not recorded). */
struct argmask {
	__u64 mask[6];
};

struct errkey {
	struct key key;
	__u32 err;
	__u32 pad;
};

/* One registered recording, at its id in the recs array; the cgroup
 * it records maps to that id in the targets map. Written by the owner
 * before the cgroup is registered; next_slot is the program's. */
struct rec_state {
	__u64 seq;      /* unique per registration: an exe charged under another seq is stale */
	__u64 cgid;     /* cgroup v2 id (inode) of the recorded subtree */
	__u64 root_ino; /* files: the inode number of the recorder's root */
	__u32 require_exec; /* only count processes that exec'd after the start */
	__u32 files;    /* also record files and ports */
	__u32 max_depth; /* files: components a walk may take (<= FILES_MAX_DEPTH) */
	__u32 mntns;    /* files: the recorder's mount namespace (inode number) */
	__u32 root_mnt; /* files: the mount id of the recorder's root */
	__u32 next_slot; /* exe slots handed out so far (may exceed max_exes) */
	__u32 phases;   /* track each process's phase under the recording's rule (phase_rules) */
	__u32 pad;
};

/* Indexes into the per-CPU stats array, per recording: stats[rec * STAT_MAX + i]. */
enum stat {
	STAT_LOST_KEYS = 0,   /* counts map full: calls not stored */
	STAT_LOST_ERRNOS = 1, /* errnos map full */
	STAT_LOST_EXES = 2,   /* no exe storage for a process: it goes uncounted */
	STAT_COMPAT = 3,      /* with record_files: calls through another ABI (i386 on x86_64, AArch32 on arm64), whose files and ports are not recorded */
	STAT_LOST_LEFT = 4,   /* exes_left map full: a process left the target, its exe not kept */
	STAT_LOST_PHASES = 5, /* a process's phase not stored (phases map full, thread mark not made): calls that may carry the wrong phase */
	STAT_MAX = 6,
};

#endif
