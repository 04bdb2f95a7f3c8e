//go:build ignore

// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * sysrec: count the syscalls (with masked scalar arguments) made by the
 * tasks of one cgroup v2 subtree, aggregated in kernel.
 *
 * Attached as BTF tracepoints on sys_enter/sys_exit (raw_syscalls), which
 * need neither tracefs nor kprobes, and read the registers with direct
 * loads. With record_files set, sys_exit and sched_process_exec also
 * record the files and ports the target touches (files.bpf.c, included
 * below): one program per tracepoint. Every task on the host runs these
 * on every syscall. On this kind of host an attached program costs
 * ~58 ns a call and a helper call 7-40 ns (measured), so the common path
 * makes none: sys_enter keeps, per CPU, what it decided for the last
 * task (in the target? counted? as which exe?), keyed by the address of
 * its registers, and a call of that task again costs a few loads and
 * compares; a call whose arguments are not
 * recorded is then one add in an array indexed by (exe slot, syscall
 * number), no hash. sys_exit does nothing for a successful call that is
 * not a file operation.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "sysrec.h"
#include "files.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the loader before the program is loaded. */
volatile const __u64 target_cgid;     /* cgroup v2 id (inode) of the target */
volatile const __u32 target_level;    /* its depth below the cgroup2 root, as the loader sees it */
volatile const __u32 require_exec;    /* only count processes that exec'd after the start */
volatile const __u32 execve_nr = ~0u; /* to notice a successful exec */
volatile const __u32 execveat_nr = ~0u;
volatile const __u32 sigreturn_nr = ~0u; /* its "return value" is not an error */
volatile const __u32 compat_sigreturn_nr = ~0u; /* the same, in the compat table (i386 sigreturn, rt_sigreturn) */
volatile const __u32 compat_rt_sigreturn_nr = ~0u;
volatile const __u32 max_exes = 64;   /* exe slots in the calls array */
volatile const __u32 record_files;    /* also run files.bpf.c */
volatile const __u32 max_depth = 64;  /* files: components a walk may take (≤ FILES_MAX_DEPTH) */
volatile const __u32 host_mntns;      /* files: the loader's mount namespace (inode number) */
volatile const __u32 host_root_mnt;   /* files: the mount id of the loader's root */
volatile const __u64 host_root_ino;   /* files: the inode number of the loader's root */

/* The target's depth in the whole cgroup tree. The loader's guess is
 * relative to its cgroup namespace (inside a container it is too small);
 * the first call from a task in the target cgroup itself fixes it. */
__u32 level;
__u32 calibrated;

#define SYSREC_MAX_DEPTH 32

/* Exe slots handed out so far (may exceed max_exes: those exes are
 * counted in the hash map). */
__u32 next_slot;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384); /* resized by the loader */
	__type(key, struct key);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096); /* resized by the loader */
	__type(key, struct errkey);
	__type(value, __u64);
} errnos SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SYSREC_MAX_NR);
	__type(key, __u32);
	__type(value, struct argmask);
} masks SEC(".maps");

/* The executable a process is charged to: its comm at its last exec,
 * or its parent's at fork. Kept on the thread group leader, so it lives
 * exactly as long as the process: no capacity to outgrow (an LRU map
 * evicted idle processes under a storm of forks, and their calls went to
 * their parent's exe), no pid reuse. */
struct exe {
	char name[SYSREC_COMM_LEN];
	__u32 slot; /* in the calls array; >= max_exes: none */
	__u32 left; /* moved out of the target (counted in exes_left once) */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct exe);
} exes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* exe name -> processes that left the target while they were counted:
 * what they did outside it is not recorded. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct exe_name);
	__type(value, __u64);
} exes_left SEC(".maps");

/* exe name -> slot in calls. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64); /* resized by the loader to max_exes */
	__type(key, struct exe_name);
	__type(value, __u32);
} slots SEC(".maps");

/* Calls whose arguments are not recorded, by exe slot and number:
 * calls[slot * SYSREC_MAX_NR + nr]. Read by mapping it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 64 * SYSREC_MAX_NR); /* resized by the loader */
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

/* What sys_enter last decided on this CPU, and for which task. Only
 * sys_enter reads and writes it, and a program never runs twice at
 * once on one CPU (the kernel skips and counts a nested run), so the
 * entry is never torn.
 *
 * The task is known by its registers' address, which the tracepoint
 * passes: the top of its kernel stack, so no two live tasks share it
 * (bpf_get_current_task_btf would cost every syscall of the host ~17 ns
 * here). What could make a kept decision wrong bumps gen, and an entry
 * of an older gen is not used: a new task (it may have the stack of one
 * that exited), an exec (a new exe), a cgroup move, and the target's
 * depth being calibrated. */
struct last {
	__u64 regs; /* the task's pt_regs address */
	__u64 gen;  /* gen when it was decided */
	__u64 task; /* its task_struct, when counted: compat() reads it */
	__u32 state; /* LAST_* */
	__u32 slot;
	char name[SYSREC_COMM_LEN];
};

/* Bumped by every event that may change a decision kept in last. */
__u64 gen;

static __always_inline void bump(void)
{
	__sync_fetch_and_add(&gen, 1);
}

enum {
	LAST_OUTSIDE = 0, /* not in the target */
	LAST_UNCOUNTED,   /* in it, not counted (yet): the launcher before exec */
	LAST_COUNTED,
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct last);
} last SEC(".maps");

/* The same for calls of the compat ABI, filled by the loader from its
 * own table: the same name may take other arguments there (those get
 * no masks). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SYSREC_MAX_NR);
	__type(key, __u32);
	__type(value, struct argmask);
} masks_compat SEC(".maps");

/* Kernel register layouts, relocated by CO-RE; only the running arch's
 * flavour exists in the kernel BTF, the other branch is dead code. */
struct pt_regs___x86 {
	unsigned long bx, cx, bp, di, si, dx, r10, r8, r9, orig_ax;
} __attribute__((preserve_access_index));

struct pt_regs___arm64 {
	unsigned long regs[31];
	unsigned long pstate;
	unsigned long orig_x0;
	int syscallno;
} __attribute__((preserve_access_index));

/* x86 only: the thread-synchronous status, where the kernel marks the
 * syscall in progress as a 32-bit one. */
struct thread_info___x86 {
	__u32 status;
} __attribute__((preserve_access_index));

struct task_struct___x86 {
	struct thread_info___x86 thread_info;
} __attribute__((preserve_access_index));

struct kernfs_node {
	__u64 id;
} __attribute__((preserve_access_index));

struct cgroup_root {
	int hierarchy_id;
} __attribute__((preserve_access_index));

struct cgroup {
	int level;
	struct kernfs_node *kn;
	struct cgroup_root *root;
	struct cgroup *ancestors[];
} __attribute__((preserve_access_index));

struct task_struct {
	struct task_struct *group_leader;
	int pid;
	int tgid;
	char comm[SYSREC_COMM_LEN];
	struct nsproxy *nsproxy;
	struct fs_struct *fs;
	struct files_struct *files;
	struct mm_struct *mm;
} __attribute__((preserve_access_index));

/* bpf_rdonly_cast turns an address read from kernel memory back into a
 * typed pointer the verifier lets the program load from directly (the
 * loads fault-proof, like bpf_probe_read_kernel, but without a helper
 * call each). The verifier inlines it to a register move. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;
#define KPTR(type, p) ((struct type *)bpf_rdonly_cast((void *)(p), bpf_core_type_id_kernel(struct type)))

/* x86's TS_COMPAT (arch/x86/include/asm/thread_info.h, 0x0002 since
 * 2.6 and in 6.18): set on entry of every int $0x80, sysenter and
 * 32-bit syscall, cleared on the return to user space, so it is still
 * set at sys_exit and at an exec inside the call. */
#define TS_COMPAT 0x0002
/* arm64's PSR_MODE32_BIT (uapi asm/ptrace.h): the caller runs AArch32. */
#define PSR_MODE32_BIT 0x10

/* compat reports whether the current call of task (the current task),
 * whose registers are at regs, is one of the other ABI: an i386 call on
 * x86_64, whose number and argument registers mean something else in
 * the native table; an AArch32 call on arm64. Such a call is recorded
 * under the compat table (KEY_COMPAT, compat_arg), never the native
 * one. x86 keeps it in the task (a 64-bit process may use int $0x80),
 * arm64 in the saved processor state. */
static __always_inline int compat(void *regs, const void *task)
{
	if (bpf_core_field_exists(((struct thread_info___x86 *)0)->status))
		return KPTR(task_struct___x86, task)->thread_info.status & TS_COMPAT;
	return ((struct pt_regs___arm64 *)regs)->pstate & PSR_MODE32_BIT;
}

/* in_target reports whether the current task is in the target cgroup or
 * below it. */
static __always_inline int in_target(void)
{
	__u32 lvl = calibrated ? level : target_level;
	if (bpf_get_current_ancestor_cgroup_id(lvl) == target_cgid)
		return 1;
	if (calibrated || bpf_get_current_cgroup_id() != target_cgid)
		return 0;
	for (__u32 i = 0; i < SYSREC_MAX_DEPTH; i++) {
		if (bpf_get_current_ancestor_cgroup_id(i) == target_cgid) {
			level = i;
			calibrated = 1;
			bump();
			return 1;
		}
	}
	return 0;
}

static __always_inline void inc(void *stats, __u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(stats, &idx);
	if (v)
		(*v)++;
}

static __always_inline void stat_inc(__u32 idx)
{
	inc(&stats, idx);
}

/* arg reads argument i from the BTF-typed registers with a direct load
 * (at sys_exit they still hold what the call was given; arm64 keeps the
 * first in orig_x0). */
static __always_inline __u64 arg(void *regs, int i)
{
	if (bpf_core_field_exists(((struct pt_regs___x86 *)0)->di)) {
		struct pt_regs___x86 *r = regs;
		switch (i) {
		case 0: return r->di;
		case 1: return r->si;
		case 2: return r->dx;
		case 3: return r->r10;
		case 4: return r->r8;
		default: return r->r9;
		}
	}
	struct pt_regs___arm64 *r = regs;
	switch (i) {
	case 0: return r->orig_x0;
	case 1: return r->regs[1];
	case 2: return r->regs[2];
	case 3: return r->regs[3];
	case 4: return r->regs[4];
	default: return r->regs[5];
	}
}

/* compat_arg reads argument i of a compat call: i386 passes them in
 * bx, cx, dx, si, di, bp, AArch32 in r0-r5 as arm64 does. The kernel
 * reads only the low 32 bits (a 64-bit process making int $0x80 calls
 * chooses the high ones), so neither does the key. */
static __always_inline __u64 compat_arg(void *regs, int i)
{
	if (bpf_core_field_exists(((struct pt_regs___x86 *)0)->bx)) {
		struct pt_regs___x86 *r = regs;
		switch (i) {
		case 0: return (__u32)r->bx;
		case 1: return (__u32)r->cx;
		case 2: return (__u32)r->dx;
		case 3: return (__u32)r->si;
		case 4: return (__u32)r->di;
		default: return (__u32)r->bp;
		}
	}
	return (__u32)arg(regs, i);
}

/* exit_nr reads the syscall number from the registers. */
static __always_inline __u32 exit_nr(void *regs)
{
	if (bpf_core_field_exists(((struct pt_regs___x86 *)0)->orig_ax))
		return ((struct pt_regs___x86 *)regs)->orig_ax;
	return ((struct pt_regs___arm64 *)regs)->syscallno;
}

/* add adds one to the counter of key in a hash map, inserting it if
 * needed; a full map is counted in stats[lost], never silent. */
static __always_inline void add(void *map, void *key, void *stats, __u32 lost)
{
	__u64 one = 1, *v = bpf_map_lookup_elem(map, key);
	if (v) {
		__sync_fetch_and_add(v, 1);
		return;
	}
	if (!bpf_map_update_elem(map, key, &one, BPF_NOEXIST))
		return;
	/* Another CPU may have inserted it meanwhile. */
	v = bpf_map_lookup_elem(map, key);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		inc(stats, lost);
}

static __always_inline void count(struct key *k)
{
	add(&counts, k, &stats, STAT_LOST_KEYS);
}

static __always_inline int is_exec(__u32 nr)
{
	return nr == execve_nr || nr == execveat_nr;
}

/* slot_of returns the calls array slot of an exe name, handing out the
 * next one the first time; max_exes or more: no slot (hash map). */
static __always_inline __u32 slot_of(struct exe_name *name)
{
	__u32 *s = bpf_map_lookup_elem(&slots, name);
	if (s)
		return *s;
	__u32 n = __sync_fetch_and_add(&next_slot, 1);
	if (n >= max_exes)
		return n;
	if (!bpf_map_update_elem(&slots, name, &n, BPF_NOEXIST))
		return n;
	/* Another CPU gave this name a slot meanwhile; n stays unused. */
	s = bpf_map_lookup_elem(&slots, name);
	return s ? *s : max_exes;
}

/* set_exe charges e to name from now on. */
static __always_inline void set_exe(struct exe *e, const char *name)
{
	__builtin_memcpy(e->name, name, SYSREC_COMM_LEN);
	e->slot = slot_of((struct exe_name *)e->name);
}

/* exe_of returns the exe the current process (task is the current
 * task) is charged to, or NULL if it is not counted (yet): the launcher
 * before its exec. */
static __always_inline struct exe *exe_of(struct task_struct *task)
{
	struct task_struct *leader = task->group_leader;
	struct exe *e = bpf_task_storage_get(&exes, leader, 0, 0);
	if (e)
		return e;
	if (require_exec)
		return 0;
	/* A process that was running before the recording started (--pid,
	 * --cgroup), or the launcher: charged to its name. */
	e = bpf_task_storage_get(&exes, leader, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!e) {
		stat_inc(STAT_LOST_EXES);
		return 0;
	}
	char comm[SYSREC_COMM_LEN] = {};
	bpf_probe_read_kernel_str(comm, sizeof(comm), leader->comm);
	set_exe(e, comm);
	return e;
}

/* who returns what sys_enter knows of the current task, whose
 * registers are at regs: from the per-CPU entry when it is the same
 * task and nothing changed since (gen). */
static __always_inline struct last *who(void *regs)
{
	__u32 z = 0;
	struct last *c = bpf_map_lookup_elem(&last, &z);
	if (!c)
		return 0;
	/* Read before deciding: an event during the decision makes it
	 * stale at once. */
	__u64 g = *(volatile __u64 *)&gen;
	if (c->regs == (__u64)regs && c->gen == g)
		return c;
	c->regs = (__u64)regs;
	c->gen = g;
	c->state = LAST_OUTSIDE;
	if (in_target()) {
		struct task_struct *task = bpf_get_current_task_btf();
		struct exe *e = exe_of(task);
		c->state = LAST_UNCOUNTED;
		if (e) {
			c->state = LAST_COUNTED;
			c->task = (__u64)task;
			c->slot = e->slot;
			__builtin_memcpy(c->name, e->name, SYSREC_COMM_LEN);
		} else {
			/* Not kept: no exe may be transient (the task storage
			 * lock was busy on this CPU, or the launcher has not
			 * exec'd yet); ask again on the next call. */
			c->regs = 0;
		}
	}
	return c;
}

/* count_call counts one call nr of exe name (slot), with its arguments
 * from regs where the table records them. */
static __always_inline void count_call(const char *name, __u32 slot, __u32 nr, void *regs);

/* fill builds the key of the current call from the registers: at
 * sys_exit the argument registers still hold what the call was given
 * (x86_64 returns in ax, arm64 in x0 but keeps orig_x0), so the key
 * need not be carried from sys_enter to sys_exit. Returns the argument
 * mask of nr, if the table records any of its arguments. */
static __always_inline struct argmask *fill(struct key *k, const char *exe, __u32 nr, void *regs)
{
	__builtin_memcpy(k->exe, exe, SYSREC_COMM_LEN);
	k->nr = nr;
	if (nr >= SYSREC_MAX_NR)
		return 0;
	struct argmask *m = bpf_map_lookup_elem(&masks, &nr);
	if (!m || !(m->mask[0] | m->mask[1] | m->mask[2] | m->mask[3] | m->mask[4] | m->mask[5]))
		return 0;
#pragma unroll
	for (int i = 0; i < 6; i++)
		if (m->mask[i])
			k->args[i] = arg(regs, i) & m->mask[i];
	return m;
}

/* fill_compat is fill for a call of the compat ABI: its own table's
 * masks and registers. Compat calls are rare: always the hash map. */
static __always_inline void fill_compat(struct key *k, const char *exe, __u32 nr, void *regs)
{
	__builtin_memcpy(k->exe, exe, SYSREC_COMM_LEN);
	k->nr = nr;
	k->abi = KEY_COMPAT;
	if (nr >= SYSREC_MAX_NR)
		return;
	struct argmask *m = bpf_map_lookup_elem(&masks_compat, &nr);
	if (!m)
		return;
#pragma unroll
	for (int i = 0; i < 6; i++)
		if (m->mask[i])
			k->args[i] = compat_arg(regs, i) & m->mask[i];
}

/* count_compat counts one compat call nr of exe name. With file
 * recording it is also counted in STAT_COMPAT: the file recorder reads
 * the native table only, so its files and ports are not recorded. */
static __always_inline void count_compat(const char *name, __u32 nr, void *regs)
{
	struct key k = {};
	fill_compat(&k, name, nr, regs);
	count(&k);
	if (record_files)
		stat_inc(STAT_COMPAT);
}

static __always_inline void count_call(const char *name, __u32 slot, __u32 nr, void *regs)
{
	struct key k = {};
	if (!fill(&k, name, nr, regs) && slot < max_exes && nr < SYSREC_MAX_NR) {
		__u32 i = slot * SYSREC_MAX_NR + nr;
		__u64 *v = bpf_map_lookup_elem(&calls, &i);
		if (v) {
			__sync_fetch_and_add(v, 1);
			return;
		}
	}
	count(&k);
}

/* cgroup_in_target reports whether cgroup v2 cgroup cg is the target or
 * below it. Run on cgroup moves only: its reads need no economy. */
static __always_inline int cgroup_in_target(struct cgroup *cg)
{
	int depth = KPTR(cgroup, cg)->level;
	__u64 at = (__u64)cg + bpf_core_field_offset(struct cgroup, ancestors);
	for (int i = 0; i < SYSREC_MAX_DEPTH && i <= depth; i++) {
		struct cgroup *a = 0;
		if (bpf_probe_read_kernel(&a, sizeof(a), (void *)(at + i * sizeof(a))))
			return 0;
		if (KPTR(cgroup, a)->kn->id == target_cgid)
			return 1;
	}
	return 0;
}

#include "files.bpf.c"

SEC("tp_btf/sys_enter")
int sys_enter(__u64 *ctx)
{
	void *regs = (void *)ctx[0];
	struct last *c = who(regs);
	if (!c || c->state != LAST_COUNTED)
		return 0;
	/* Per call, not per task: a 64-bit process may make i386 calls.
	 * Their exec is counted here, charged to the exe that made it. */
	if (compat(regs, (void *)c->task)) {
		count_compat(c->name, (__u32)ctx[1], regs);
		return 0;
	}
	__u32 nr = (__u32)ctx[1];
	if (record_files)
		files_enter(regs, nr);
	if (is_exec(nr))
		return 0; /* counted at its exit, charged to the exe it made */
	count_call(c->name, c->slot, nr, regs);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int sched_process_exec(__u64 *ctx)
{
	bump(); /* a new exe for this task, wherever it is */
	if (!in_target())
		return 0;
	/* The process is now its new executable (comm is already the new
	 * one, and an exec'ing thread is its group leader by now): charge it
	 * from here on, starting with the exec that made it. */
	struct task_struct *task = bpf_get_current_task_btf();
	char comm[SYSREC_COMM_LEN] = {};
	bpf_get_current_comm(comm, SYSREC_COMM_LEN);
	/* Counted before: its sys_enter counted a compat exec already. */
	int counted = bpf_task_storage_get(&exes, task, 0, 0) != 0;
	struct exe *e = bpf_task_storage_get(&exes, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!e) {
		stat_inc(STAT_LOST_EXES);
		return 0;
	}
	set_exe(e, comm);
	void *regs = (void *)bpf_task_pt_regs(task);
	if (compat(regs, task)) {
		if (!counted)
			count_compat(e->name, exit_nr(regs), regs);
		return 0;
	}
	count_call(e->name, e->slot, exit_nr(regs), regs);
	if (record_files)
		files_exec((struct linux_binprm *)ctx[2]); /* charged to the new exe */
	return 0;
}

/* set_in_target notes where counted process e now is: outside the
 * target, it has left (a loss charged to its exe, once until it comes
 * back). */
static __always_inline void set_in_target(struct exe *e, int in)
{
	if (in) {
		e->left = 0;
		return;
	}
	if (e->left)
		return;
	e->left = 1;
	add(&exes_left, e->name, &stats, STAT_LOST_LEFT);
}

/* A new process inherits its parent's exe here, before it runs: looked
 * up at its first call instead, a child whose parent has already exited
 * (a daemon's double fork, any child under load) had no parent to
 * inherit from, and its calls were silently not counted. A child that
 * starts in another cgroup (clone3 with CLONE_INTO_CGROUP; no
 * cgroup_attach_task fires for it) has left the target: counted as
 * cgroup_attach_task counts a move out. */
SEC("tp_btf/sched_process_fork")
int sched_process_fork(__u64 *ctx)
{
	struct task_struct *child = (struct task_struct *)ctx[1];
	if (child->pid != child->tgid || !in_target())
		return 0; /* a thread shares its process's exe */
	struct exe *pe = bpf_task_storage_get(&exes, bpf_get_current_task_btf()->group_leader, 0, 0);
	if (!pe)
		return 0; /* not counted: its child is not either (until exec) */
	struct exe *e = bpf_task_storage_get(&exes, child, pe, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!e) {
		stat_inc(STAT_LOST_EXES);
		return 0;
	}
	set_in_target(e, task_in_target(child));
	return 0;
}

SEC("tp_btf/sys_exit")
int sys_exit(__u64 *ctx)
{
	void *regs = (void *)ctx[0];
	long ret = ctx[1];
	if (record_files)
		files_exit(regs, exit_nr(regs), ret);
	/* Only failed calls need work here. -512..-516 (ERESTARTSYS...)
	 * never reach user space: the call is restarted or becomes EINTR. */
	if (ret >= 0 || ret < -4095 || (ret <= -512 && ret >= -516))
		return 0;
	if (!in_target())
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	int cpt = compat(regs, task);
	__u32 nr = exit_nr(regs);
	if (cpt ? nr == compat_sigreturn_nr || nr == compat_rt_sigreturn_nr : nr == sigreturn_nr)
		return 0;
	struct exe *e = exe_of(task);
	if (!e)
		return 0;
	struct key k = {};
	if (cpt) {
		fill_compat(&k, e->name, nr, regs); /* its exec too was counted at sys_enter */
	} else {
		if (is_exec(nr))
			count_call(e->name, e->slot, nr, regs); /* a failed exec: charged to the exe that tried */
		fill(&k, e->name, nr, regs);
	}

	struct errkey ek = {};
	__builtin_memcpy(&ek.key, &k, sizeof(k));
	ek.err = -ret;
	add(&errnos, &ek, &stats, STAT_LOST_ERRNOS);
	return 0;
}

/* The kernel changed an inode's ctime: for file recording (inode_ctime
 * in files.bpf.c). Every path of the kernel that sets a ctime passes
 * one of these three. */
SEC("tp_btf/inode_set_ctime_to_ts")
int inode_set_ctime_to_ts(__u64 *ctx)
{
	inode_ctime((struct inode *)ctx[0]);
	return 0;
}

SEC("tp_btf/ctime_xchg_skip")
int ctime_xchg_skip(__u64 *ctx)
{
	inode_ctime((struct inode *)ctx[0]);
	return 0;
}

SEC("tp_btf/ctime_ns_xchg")
int ctime_ns_xchg(__u64 *ctx)
{
	inode_ctime((struct inode *)ctx[0]);
	return 0;
}

/* A unix socket got data, or a signal was made: for file recording
 * (the Landlock scopes: unix_ready and signal_generated in files.bpf.c). */
SEC("tp_btf/sk_data_ready")
int sk_data_ready(__u64 *ctx)
{
	unix_ready((struct sock *)ctx[0]);
	return 0;
}

SEC("tp_btf/signal_generate")
int signal_generate(__u64 *ctx)
{
	signal_generated((struct task_struct *)ctx[2]);
	return 0;
}

/* A new task may have the kernel stack, and so the registers' address,
 * of one that exited: decisions kept for that address are stale. Every
 * new task of the host passes here (threads and io workers too). */
SEC("tp_btf/task_newtask")
int task_newtask(__u64 *ctx)
{
	bump();
	return 0;
}

/* A task moved to another cgroup may have entered or left the target.
 * The tracepoint fires after the move (the task is already in dst): a
 * process that was counted (it has an exe) and is now outside the
 * target is a loss, charged to its exe, once until it comes back.
 * Moves within the target (a container runtime placing its init) are
 * not. */
SEC("tp_btf/cgroup_attach_task")
int cgroup_attach_task(__u64 *ctx)
{
	bump();
	struct cgroup *dst = (struct cgroup *)ctx[0];
	struct task_struct *task = (struct task_struct *)ctx[2];
	if (KPTR(cgroup, dst)->root->hierarchy_id != 0)
		return 0; /* a cgroup v1 hierarchy: the v2 cgroup is unchanged */
	struct exe *e = bpf_task_storage_get(&exes, task->group_leader, 0, 0);
	if (!e)
		return 0; /* not counted */
	set_in_target(e, cgroup_in_target(dst));
	return 0;
}
