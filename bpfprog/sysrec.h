/* Types shared between sysrec.bpf.c and Go (bpf2go -type). */
#ifndef SYSREC_H
#define SYSREC_H

#define SYSREC_MAX_NR 1024 /* syscall numbers at or above this carry no argument masks */
#define SYSREC_COMM_LEN 16

/* One distinct thing a target did: a syscall with its masked scalar
 * arguments, by an executable. The hash map aggregates calls per key, so
 * the map grows with distinct keys, never with events. */
struct key {
	__u32 nr;
	__u32 abi; /* KEY_NATIVE, or KEY_COMPAT: nr and args are of the other ABI's table */
	__u64 args[6];
	char exe[SYSREC_COMM_LEN];
};

enum {
	KEY_NATIVE = 0,
	KEY_COMPAT = 1, /* i386 on x86_64, AArch32 on arm64 */
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

/* Indexes into the per-CPU stats array. */
enum stat {
	STAT_LOST_KEYS = 0,   /* counts map full: calls not stored */
	STAT_LOST_ERRNOS = 1, /* errnos map full */
	STAT_LOST_EXES = 2,   /* no exe storage for a process: it goes uncounted */
	STAT_COMPAT = 3,      /* with record_files: calls through another ABI (i386 on x86_64, AArch32 on arm64), whose files and ports are not recorded */
	STAT_LOST_LEFT = 4,   /* exes_left map full: a process left the target, its exe not kept */
	STAT_MAX = 5,
};

#endif
