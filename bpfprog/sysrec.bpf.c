//go:build ignore

// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * sysrec: count the syscalls (with masked scalar arguments) made by the
 * tasks of one cgroup v2 subtree, aggregated in kernel.
 *
 * Attached as raw tracepoints on sys_enter/sys_exit (raw_syscalls), which
 * need neither tracefs nor kprobes. Every task on the host runs this on
 * every syscall, so the path for foreign tasks is one helper call and a
 * compare.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "sysrec.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the loader before the program is loaded. */
volatile const __u64 target_cgid;     /* cgroup v2 id (inode) of the target */
volatile const __u32 target_level;    /* its depth below the cgroup2 root, as the loader sees it */
volatile const __u32 require_exec;    /* only count processes that exec'd after the start */
volatile const __u32 execve_nr = ~0u; /* to notice a successful exec */
volatile const __u32 execveat_nr = ~0u;
volatile const __u32 sigreturn_nr = ~0u; /* its "return value" is not an error */

/* The target's depth in the whole cgroup tree. The loader's guess is
 * relative to its cgroup namespace (inside a container it is too small);
 * the first call from a task in the target cgroup itself fixes it. */
__u32 level;
__u32 calibrated;

#define SYSREC_MAX_DEPTH 32

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

/* Kernel register layouts, relocated by CO-RE; only the running arch's
 * flavour exists in the kernel BTF, the other branch is dead code. */
struct pt_regs___x86 {
	unsigned long di, si, dx, r10, r8, r9, orig_ax;
} __attribute__((preserve_access_index));

struct pt_regs___arm64 {
	unsigned long regs[31];
	unsigned long orig_x0;
	int syscallno;
} __attribute__((preserve_access_index));

struct task_struct {
	struct task_struct *group_leader;
	int pid;
	int tgid;
	char comm[SYSREC_COMM_LEN];
} __attribute__((preserve_access_index));

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
			return 1;
		}
	}
	return 0;
}

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);
	if (v)
		(*v)++;
}

static __always_inline __u64 arg(void *regs, int i)
{
	if (bpf_core_field_exists(((struct pt_regs___x86 *)0)->di)) {
		struct pt_regs___x86 *r = regs;
		switch (i) {
		case 0: return BPF_CORE_READ(r, di);
		case 1: return BPF_CORE_READ(r, si);
		case 2: return BPF_CORE_READ(r, dx);
		case 3: return BPF_CORE_READ(r, r10);
		case 4: return BPF_CORE_READ(r, r8);
		default: return BPF_CORE_READ(r, r9);
		}
	}
	struct pt_regs___arm64 *r = regs;
	if (i == 0)
		return BPF_CORE_READ(r, orig_x0);
	return BPF_CORE_READ(r, regs[i]);
}

/* add adds one to the counter of key in a hash map, inserting it if
 * needed; a full map is counted in stats[lost], never silent. */
static __always_inline void add(void *map, void *key, __u32 lost)
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
		stat_inc(lost);
}

static __always_inline void count(struct key *k)
{
	add(&counts, k, STAT_LOST_KEYS);
}

static __always_inline int is_exec(__u32 nr)
{
	return nr == execve_nr || nr == execveat_nr;
}

/* exe_of returns the exe the current process is charged to, or NULL if
 * it is not counted (yet): the launcher before its exec. */
static __always_inline char *exe_of(void)
{
	struct task_struct *leader = bpf_get_current_task_btf()->group_leader;
	struct exe *e = bpf_task_storage_get(&exes, leader, 0, 0);
	if (e)
		return e->name;
	if (require_exec)
		return 0;
	/* A process that was running before the recording started (--pid,
	 * --cgroup), or the launcher: charged to its name. */
	e = bpf_task_storage_get(&exes, leader, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!e) {
		stat_inc(STAT_LOST_EXES);
		return 0;
	}
	bpf_probe_read_kernel_str(e->name, sizeof(e->name), leader->comm);
	return e->name;
}

/* fill builds the key of the current call from the registers: at
 * sys_exit the argument registers still hold what the call was given
 * (x86_64 returns in ax, arm64 in x0 but keeps orig_x0), so the key
 * need not be carried from sys_enter to sys_exit. Returns 0 if the
 * process is not counted (yet). */
static __always_inline int fill(struct key *k, __u32 nr, void *regs)
{
	char *exe = exe_of();
	if (!exe)
		return 0;
	__builtin_memcpy(k->exe, exe, SYSREC_COMM_LEN);
	k->nr = nr;
	if (nr < SYSREC_MAX_NR) {
		struct argmask *m = bpf_map_lookup_elem(&masks, &nr);
		if (m) {
#pragma unroll
			for (int i = 0; i < 6; i++)
				if (m->mask[i])
					k->args[i] = arg(regs, i) & m->mask[i];
		}
	}
	return 1;
}

SEC("raw_tracepoint/sys_enter")
int sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	if (!in_target())
		return 0;
	__u32 nr = (__u32)ctx->args[1];
	if (is_exec(nr))
		return 0; /* counted at its exit, charged to the exe it made */
	struct key k = {};
	if (fill(&k, nr, (void *)ctx->args[0]))
		count(&k);
	return 0;
}

static __always_inline __u32 exit_nr(void *regs)
{
	if (bpf_core_field_exists(((struct pt_regs___x86 *)0)->orig_ax)) {
		struct pt_regs___x86 *r = regs;
		return BPF_CORE_READ(r, orig_ax);
	}
	struct pt_regs___arm64 *r = regs;
	return BPF_CORE_READ(r, syscallno);
}

SEC("raw_tracepoint/sched_process_exec")
int sched_process_exec(struct bpf_raw_tracepoint_args *ctx)
{
	if (!in_target())
		return 0;
	/* The process is now its new executable (comm is already the new
	 * one, and an exec'ing thread is its group leader by now): charge it
	 * from here on, starting with the exec that made it. */
	struct task_struct *task = bpf_get_current_task_btf();
	struct key k = {};
	bpf_get_current_comm(k.exe, SYSREC_COMM_LEN);
	struct exe *e = bpf_task_storage_get(&exes, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (e)
		__builtin_memcpy(e->name, k.exe, SYSREC_COMM_LEN);
	else
		stat_inc(STAT_LOST_EXES);
	k.nr = exit_nr((void *)bpf_task_pt_regs(task));
	count(&k);
	return 0;
}

/* A new process inherits its parent's exe here, before it runs: looked
 * up at its first call instead, a child whose parent has already exited
 * (a daemon's double fork, any child under load) had no parent to
 * inherit from, and its calls were silently not counted. */
SEC("tp_btf/sched_process_fork")
int sched_process_fork(__u64 *ctx)
{
	struct task_struct *child = (struct task_struct *)ctx[1];
	if (child->pid != child->tgid || !in_target())
		return 0; /* a thread shares its process's exe */
	struct exe *pe = bpf_task_storage_get(&exes, bpf_get_current_task_btf()->group_leader, 0, 0);
	if (!pe)
		return 0; /* not counted: its child is not either (until exec) */
	if (!bpf_task_storage_get(&exes, child, pe, BPF_LOCAL_STORAGE_GET_F_CREATE))
		stat_inc(STAT_LOST_EXES);
	return 0;
}

SEC("raw_tracepoint/sys_exit")
int sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	long ret = ctx->args[1];
	/* Only failed calls need work here. -512..-516 (ERESTARTSYS...)
	 * never reach user space: the call is restarted or becomes EINTR. */
	if (ret >= 0 || ret < -4095 || (ret <= -512 && ret >= -516))
		return 0;
	if (!in_target())
		return 0;
	void *regs = (void *)ctx->args[0];
	__u32 nr = exit_nr(regs);
	struct key k = {};
	if (nr == sigreturn_nr || !fill(&k, nr, regs))
		return 0;
	if (is_exec(nr))
		count(&k); /* a failed exec: charged to the exe that tried */

	struct errkey ek = {};
	__builtin_memcpy(&ek.key, &k, sizeof(k));
	ek.err = -ret;
	add(&errnos, &ek, STAT_LOST_ERRNOS);
	return 0;
}
