//go:build ignore

// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * sysrec: count the syscalls (with masked scalar arguments) made by the
 * tasks of the cgroup v2 subtrees being recorded, aggregated in kernel,
 * each recording in its own maps. One loaded object serves every
 * recording of the host: a recording registers its cgroup (targets) and
 * its maps (the PER_RECORDING arrays), and a task counts for the
 * innermost registered cgroup that contains it.
 *
 * Attached as BTF tracepoints on sys_enter/sys_exit (raw_syscalls), which
 * need neither tracefs nor kprobes, and read the registers with direct
 * loads. For recordings of files, sys_exit and sched_process_exec also
 * record the files and ports the target touches (files.bpf.c, included
 * below): one program per tracepoint. Every task on the host runs these
 * on every syscall. On this kind of host an attached program costs
 * ~58 ns a call and a helper call 7-40 ns (measured), so the common path
 * makes none: sys_enter and sys_exit keep, per CPU, what they decided
 * for the last task (in which recording? counted? as which exe?), keyed
 * by the address of its registers, and a call of that task again costs a
 * few loads and compares, however many recordings run; a call whose arguments are not
 * recorded is then one add in an array indexed by (exe slot, syscall
 * number), no hash. sys_exit does nothing for a successful call that is
 * not a file operation.
 *
 * Each call is tagged with the phase of its process (phase.h) under its
 * recording's rule: the state is per thread group in the phases map,
 * stepped at sys_enter before the call is counted; sys_enter keeps it
 * with its decision, so a process's calls cost a compare once it serves
 * and a bit test before.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "sysrec.h"
#include "regs.h"
#include "phase.h"
#include "files.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the loader before the program is loaded. */
volatile const __u32 execve_nr = ~0u; /* to notice a successful exec */
volatile const __u32 execveat_nr = ~0u;
volatile const __u32 sigreturn_nr = ~0u; /* its "return value" is not an error */
volatile const __u32 compat_sigreturn_nr = ~0u; /* the same, in the compat table (i386 sigreturn, rt_sigreturn) */
volatile const __u32 compat_rt_sigreturn_nr = ~0u;
volatile const __u32 max_exes = 64;   /* exe slots in a recording's calls array */

/* Recordings with file recording on: while 0, sys_exit skips the file
 * code for every task of the host. Set by the owner (memory-mapped). */
__u32 nfiles;

#define SYSREC_MAX_DEPTH 32

/* The registered recordings: cgroup v2 id -> recording id. A task
 * counts for the innermost registered cgroup it is in (or below). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SYSREC_MAX_RECS);
	__type(key, __u64);
	__type(value, __u32);
} targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SYSREC_MAX_RECS);
	__type(key, __u32);
	__type(value, struct rec_state);
} recs SEC(".maps");

/* Each recording's own maps, made by its recorder at the size it asked
 * for and put at its id here: one recording's full map is its own loss,
 * its memory is charged to its recorder, and reading it reads nothing
 * of the others'. */
struct {
	PER_RECORDING(
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(map_flags, BPF_F_NO_PREALLOC); /* memory as used: a recording's keys, not its --max-keys */
		__uint(max_entries, 16384); /* sized by the recorder */
		__uint(key_size, sizeof(struct key));
		__uint(value_size, sizeof(__u64));
	);
} counts SEC(".maps");

struct {
	PER_RECORDING(
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(map_flags, BPF_F_NO_PREALLOC); /* memory as used: a recording's keys, not its --max-keys */
		__uint(max_entries, 4096); /* sized by the recorder */
		__uint(key_size, sizeof(struct errkey));
		__uint(value_size, sizeof(__u64));
	);
} errnos SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SYSREC_MAX_NR);
	__type(key, __u32);
	__type(value, struct argmask);
} masks SEC(".maps");

/* The executable a process is charged to: its comm at its last exec,
 * or its parent's at fork, and the recording it is counted in. Kept on
 * the thread group leader, so it lives exactly as long as the process:
 * no capacity to outgrow (an LRU map evicted idle processes under a
 * storm of forks, and their calls went to their parent's exe), no pid
 * reuse. */
struct exe {
	char name[SYSREC_COMM_LEN];
	__u64 seq;  /* the registration it is charged in (rec_state.seq) */
	__u32 rec;  /* its recording id */
	__u32 slot; /* in that recording's calls array; >= max_exes: none */
	__u32 left; /* moved out of the recording (counted in exes_left once) */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct exe);
} exes SEC(".maps");

/* Per recording: stats[rec * STAT_MAX + i]; the owner zeroes a
 * recording's counters when it hands out the id. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SYSREC_MAX_RECS * STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* exe name -> processes that left the recording while they were
 * counted: what they did outside it is not recorded. */
struct {
	PER_RECORDING(
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(map_flags, BPF_F_NO_PREALLOC); /* memory as used: a recording's keys, not its --max-keys */
		__uint(max_entries, 1024);
		__uint(key_size, sizeof(struct exe_name));
		__uint(value_size, sizeof(__u64));
	);
} exes_left SEC(".maps");

/* exe name -> slot in calls. */
struct {
	PER_RECORDING(
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(map_flags, BPF_F_NO_PREALLOC); /* memory as used: a recording's keys, not its --max-keys */
		__uint(max_entries, 64); /* max_exes */
		__uint(key_size, sizeof(struct exe_name));
		__uint(value_size, sizeof(__u32));
	);
} slots SEC(".maps");

/* Calls whose arguments are not recorded, by exe slot, phase (KEY_*)
 * and number: calls[(slot * KEY_PHASES + phase) * SYSREC_MAX_NR + nr].
 * Read by mapping it. */
struct {
	PER_RECORDING(
		__uint(type, BPF_MAP_TYPE_ARRAY);
		__uint(map_flags, BPF_F_MMAPABLE);
		__uint(max_entries, 64 * KEY_PHASES * SYSREC_MAX_NR); /* max_exes * KEY_PHASES * SYSREC_MAX_NR */
		__uint(key_size, sizeof(__u32));
		__uint(value_size, sizeof(__u64));
	);
} calls SEC(".maps");

/* Each recording's transition rule (profiles.Transition, lowered by
 * its recorder), at its id; read while its rec_state says phases. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SYSREC_MAX_RECS);
	__type(key, __u32);
	__type(value, struct phase_rule);
} phase_rules SEC(".maps");

/* The phase state (PHASE_* bits) of the processes of recordings that
 * track phases, by tgid: a process's threads share it, an exec keeps it
 * (task storage on the leader would not survive an exec by another
 * thread, which replaces the leader). Only processes whose state is not
 * 0 have an entry. A child process gets its parent's at fork, before it
 * runs (and a stale entry of its tgid is removed when the parent has
 * none); the entry goes when the thread group dies. A full map is a
 * loss (STAT_LOST_PHASES): the process stays in init. */
#define SYSREC_MAX_PHASES 65536
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SYSREC_MAX_PHASES);
	__type(key, __u32);
	__type(value, __u32);
} phases SEC(".maps");

/* The threads that have made a call counted in serving: a call's phase
 * is its process's at the call's entry, and sys_exit (its errno) and
 * sched_process_exec (the exec) know it from here, not from the
 * process's state at the exit, which another thread may have changed
 * meanwhile. A thread's counted calls go from init to serving once
 * (SERVING is never cleared), so the mark is exact. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u32);
} serving_threads SEC(".maps");

/* The types of the recordings' maps, for bpf2go: those maps give only
 * their key and value sizes (clang 14 leaves a struct key of a map in a
 * map a forward declaration, which cannot be sized), so the types are
 * named here. */
const struct key *unused_key __attribute__((unused));
const struct errkey *unused_errkey __attribute__((unused));
const struct exe_name *unused_exe_name __attribute__((unused));
const struct file_key *unused_file_key __attribute__((unused));
const struct pathbuf *unused_pathbuf __attribute__((unused));
const struct port_key *unused_port_key __attribute__((unused));
const struct changed *unused_changed __attribute__((unused));
const struct unix_key *unused_unix_key __attribute__((unused));
const enum files_stat *unused_files_stat __attribute__((unused));

static __always_inline struct rec_state *rec_state(__u32 rec)
{
	return bpf_map_lookup_elem(&recs, &rec);
}

/* of returns recording rec's map in outer (NULL: none, it is ending). */
static __always_inline void *of(void *outer, __u32 rec)
{
	return bpf_map_lookup_elem(outer, &rec);
}

/* What sys_enter (entry LAST_ENTER) and sys_exit (LAST_EXIT) last
 * decided on this CPU, and for which task. Each entry is read and
 * written by one program only, and a program never runs twice at once
 * on one CPU (the kernel skips and counts a nested run), so an entry is
 * never torn.
 *
 * The task is known by its registers' address, which the tracepoint
 * passes: the top of its kernel stack, so no two live tasks share it.
 * What could make a kept decision wrong bumps gen, and an entry of an
 * older gen is not used: a new task (it may have the stack of one that
 * exited), an exec (a new exe), a cgroup move, and a recording
 * registered or ended (the owner bumps it). */
struct last {
	__u64 regs; /* the task's pt_regs address */
	__u64 gen;  /* gen when it was decided */
	__u64 task; /* its task_struct, when in a recording: compat() reads it */
	__u32 state; /* LAST_* */
	__u32 slot;
	char name[SYSREC_COMM_LEN];
	__u32 rec;   /* its recording, when not LAST_OUTSIDE */
	__u32 files; /* that recording records files */
	__u32 track; /* that recording tracks phases */
	__u32 phase; /* LAST_ENTER, counted: its process's state (PHASE_*) */
	__u32 tgid;
	__u32 pad;
};

/* Bumped by every event that may change a decision kept in last; the
 * owner bumps it too (memory-mapped). */
__u64 gen;

static __always_inline void bump(void)
{
	__sync_fetch_and_add(&gen, 1);
}

enum {
	LAST_OUTSIDE = 0, /* in no recording */
	LAST_UNCOUNTED,   /* in one, not counted (yet): the launcher before exec */
	LAST_COUNTED,
};

enum { LAST_ENTER = 0, LAST_EXIT = 1 };

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
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


struct kernfs_node {
	__u64 id;
} __attribute__((preserve_access_index));

struct cgroup_root {
	int hierarchy_id;
} __attribute__((preserve_access_index));

struct cgroup_subsys_state {
	struct cgroup_subsys_state *parent;
} __attribute__((preserve_access_index));

struct cgroup {
	struct cgroup_subsys_state self;
	struct kernfs_node *kn;
	struct cgroup_root *root;
} __attribute__((preserve_access_index));

struct css_set {
	struct cgroup *dfl_cgrp;
} __attribute__((preserve_access_index));

struct task_struct___cg {
	struct css_set *cgroups;
} __attribute__((preserve_access_index));

struct signal_struct {
	struct {
		int counter;
	} live; /* atomic_t: threads of the group that have not reached do_exit */
} __attribute__((preserve_access_index));

struct task_struct {
	struct task_struct *group_leader;
	struct signal_struct *signal;
	int pid;
	int tgid;
	char comm[SYSREC_COMM_LEN];
	struct nsproxy *nsproxy;
	struct fs_struct *fs;
	struct files_struct *files;
	struct mm_struct *mm;
} __attribute__((preserve_access_index));


/* parent_cgroup is cg's parent, NULL at the root: a cgroup's self css
 * is its first member, and a css's parent is its cgroup's parent's. */
static __always_inline struct cgroup *parent_cgroup(struct cgroup *cg)
{
	struct cgroup_subsys_state *p = KPTR(cgroup, cg)->self.parent;
	if (!p)
		return 0;
	return (void *)p - bpf_core_field_offset(struct cgroup, self);
}

/* rec_of_cgroup returns the recording of cgroup v2 cg: the innermost
 * registered cgroup that is cg or contains it (SYSREC_NO_REC: none).
 * Plain loads and one hash look-up per level: it costs what the depth
 * of the tree costs, whatever the number of recordings. */
static __always_inline __u32 rec_of_cgroup(struct cgroup *cg)
{
	for (int i = 0; i < SYSREC_MAX_DEPTH && cg; i++) {
		__u64 id = KPTR(cgroup, cg)->kn->id;
		__u32 *r = bpf_map_lookup_elem(&targets, &id);
		if (r)
			return *r;
		cg = parent_cgroup(cg);
	}
	return SYSREC_NO_REC;
}

/* in_subtree reports whether cgroup v2 cg is the cgroup cgid or below it. */
static __always_inline int in_subtree(struct cgroup *cg, __u64 cgid)
{
	for (int i = 0; i < SYSREC_MAX_DEPTH && cg; i++) {
		if (KPTR(cgroup, cg)->kn->id == cgid)
			return 1;
		cg = parent_cgroup(cg);
	}
	return 0;
}

/* task_cgroup is task's cgroup v2. */
static __always_inline struct cgroup *task_cgroup(struct task_struct *task)
{
	struct css_set *cs = KPTR(task_struct___cg, task)->cgroups;
	return KPTR(css_set, cs)->dfl_cgrp;
}

static __always_inline __u32 rec_of_task(struct task_struct *task)
{
	return rec_of_cgroup(task_cgroup(task));
}

/* task_in_rec reports whether task is in recording rec's subtree
 * (nested recordings included: what a Landlock domain of the whole
 * subtree would contain). */
static __always_inline int task_in_rec(struct task_struct *task, __u32 rec)
{
	struct rec_state *st = rec_state(rec);
	return st && in_subtree(task_cgroup(task), st->cgid);
}

static __always_inline void inc(void *stats, __u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(stats, &idx);
	if (v)
		(*v)++;
}

static __always_inline __u32 stat_idx(__u32 rec, __u32 i)
{
	return rec * STAT_MAX + i;
}

static __always_inline void stat_inc(__u32 rec, __u32 idx)
{
	inc(&stats, stat_idx(rec, idx));
}


/* add adds one to the counter of key in a hash map, inserting it if
 * needed; a full map (or none: the recording is ending) is counted in
 * stats[lost], never silent. */
static __always_inline void add(void *map, void *key, void *stats, __u32 lost)
{
	if (!map) {
		inc(stats, lost);
		return;
	}
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

static __always_inline void count(__u32 rec, struct key *k)
{
	add(of(&counts, rec), k, &stats, stat_idx(rec, STAT_LOST_KEYS));
}

static __always_inline int is_exec(__u32 nr)
{
	return nr == execve_nr || nr == execveat_nr;
}

/* slot_of returns the calls array slot of an exe name in recording
 * rec, handing out the next one the first time; max_exes or more: no
 * slot (hash map). */
static __always_inline __u32 slot_of(__u32 rec, struct exe_name *name)
{
	void *slots_map = of(&slots, rec);
	struct rec_state *st = rec_state(rec);
	if (!slots_map || !st)
		return max_exes;
	__u32 *s = bpf_map_lookup_elem(slots_map, name);
	if (s)
		return *s;
	__u32 n = __sync_fetch_and_add(&st->next_slot, 1);
	if (n >= max_exes)
		return n;
	if (!bpf_map_update_elem(slots_map, name, &n, BPF_NOEXIST))
		return n;
	/* Another CPU gave this name a slot meanwhile; n stays unused. */
	s = bpf_map_lookup_elem(slots_map, name);
	return s ? *s : max_exes;
}

/* charge charges e to name in recording rec (registration seq) from
 * now on. */
static __always_inline void charge(struct exe *e, const char *name, __u32 rec, __u64 seq)
{
	__builtin_memcpy(e->name, name, SYSREC_COMM_LEN);
	e->rec = rec;
	e->seq = seq;
	e->left = 0;
	e->slot = slot_of(rec, (struct exe_name *)e->name);
}

/* exe_of returns the exe the current process (task is the current
 * task) is charged to in recording rec, or NULL if it is not counted
 * (yet): the launcher before its exec. A process charged in another
 * recording (it moved between nested ones, or that one ended) is
 * charged to its exe in rec from now on. */
static __always_inline struct exe *exe_of(struct task_struct *task, __u32 rec)
{
	struct rec_state *st = rec_state(rec);
	if (!st)
		return 0;
	struct task_struct *leader = task->group_leader;
	struct exe *e = bpf_task_storage_get(&exes, leader, 0, 0);
	if (e) {
		if (e->seq != st->seq) {
			char name[SYSREC_COMM_LEN];
			__builtin_memcpy(name, e->name, SYSREC_COMM_LEN);
			charge(e, name, rec, st->seq);
		}
		return e;
	}
	if (st->require_exec)
		return 0;
	/* A process that was running before the recording started (--pid,
	 * --cgroup), or the launcher: charged to its name. */
	e = bpf_task_storage_get(&exes, leader, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!e) {
		stat_inc(rec, STAT_LOST_EXES);
		return 0;
	}
	char comm[SYSREC_COMM_LEN] = {};
	bpf_probe_read_kernel_str(comm, sizeof(comm), leader->comm);
	charge(e, comm, rec, st->seq);
	return e;
}

/* mark_serving marks the current thread (task) as having made a call
 * counted in serving, when its process's state c->phase says it
 * serves. Returns 0 when the mark could not be made (counted as a
 * loss): the decision must not be kept, so the next call tries again. */
static __always_inline int mark_serving(struct last *c, struct task_struct *task)
{
	if (!(c->phase & PHASE_SERVING))
		return 1;
	if (bpf_task_storage_get(&serving_threads, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE))
		return 1;
	stat_inc(c->rec, STAT_LOST_PHASES);
	return 0;
}

/* phase_decide reads the phase state of the process of task (the
 * current task), counted in c->rec, into c. Returns 0 when the decision
 * must not be kept. */
static __always_inline int phase_decide(struct last *c, struct task_struct *task)
{
	c->tgid = task->tgid;
	c->phase = 0;
	if (!c->track)
		return 1;
	__u32 tgid = c->tgid;
	__u32 *v = bpf_map_lookup_elem(&phases, &tgid);
	if (v)
		c->phase = *v;
	return mark_serving(c, task);
}

/* key_phase is the phase a call is counted in, from its process's state. */
static __always_inline __u16 key_phase(__u32 state)
{
	return state & PHASE_SERVING ? KEY_SERVING : KEY_INIT;
}

/* call_phase is the phase the current call of the current thread
 * (task) was counted in at its entry, in a recording that tracks phases
 * (track): known at its exit from the thread's mark. */
static __always_inline __u16 call_phase(int track, struct task_struct *task)
{
	if (!track)
		return KEY_INIT;
	return bpf_task_storage_get(&serving_threads, task, 0, 0) ? KEY_SERVING : KEY_INIT;
}

/* phase_enter steps the state of the process of the current thread,
 * counted and not serving (c, LAST_ENTER), at its entry of native call
 * nr: before the call is counted, so the call that starts serving is
 * a serving call. A change is stored (bits OR'ed: another thread may
 * have added its own) and bumps gen: every other thread of the process
 * decided on the old state. */
static __always_inline void phase_enter(struct last *c, __u32 nr, void *regs)
{
	__u32 rec = c->rec;
	struct phase_rule *r = bpf_map_lookup_elem(&phase_rules, &rec);
	if (!r)
		return;
	__u32 s = phase_step(r, c->phase, nr, regs);
	if (s == c->phase)
		return;
	__u32 tgid = c->tgid;
	__u32 *v = bpf_map_lookup_elem(&phases, &tgid);
	if (!v) {
		bpf_map_update_elem(&phases, &tgid, &s, BPF_NOEXIST);
		/* Or another thread inserted it meanwhile. */
		v = bpf_map_lookup_elem(&phases, &tgid);
		if (!v) {
			stat_inc(rec, STAT_LOST_PHASES);
			return;
		}
	}
	__sync_fetch_and_or(v, s);
	c->phase = s;
	bump();
	if (!mark_serving(c, bpf_get_current_task_btf()))
		c->regs = 0;
}

/* phase_fork gives a new process (tgid child) the phase state of its
 * parent (tgid parent, the current process), before it runs; a parent
 * without one leaves the child none, removing what a dead process of
 * the same tgid may have left. Returns nonzero when the map is full. */
static __always_inline int phase_fork(__u32 parent, __u32 child)
{
	__u32 *v = bpf_map_lookup_elem(&phases, &parent);
	if (!v) {
		bpf_map_delete_elem(&phases, &child);
		return 0;
	}
	__u32 s = *v;
	return bpf_map_update_elem(&phases, &child, &s, BPF_ANY);
}

/* who returns what the program (which: LAST_ENTER, LAST_EXIT) knows of
 * the current task, whose registers are at regs: from the per-CPU entry
 * when it is the same task and nothing changed since (gen). */
static __always_inline struct last *who(void *regs, __u32 which)
{
	struct last *c = bpf_map_lookup_elem(&last, &which);
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
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 rec = rec_of_task(task);
	struct rec_state *st = rec_state(rec);
	if (!st)
		return c;
	struct exe *e = exe_of(task, rec);
	c->state = LAST_UNCOUNTED;
	c->rec = rec;
	c->files = st->files;
	c->track = st->phases;
	c->task = (__u64)task;
	if (e) {
		c->state = LAST_COUNTED;
		c->slot = e->slot;
		__builtin_memcpy(c->name, e->name, SYSREC_COMM_LEN);
		if (which == LAST_ENTER && !phase_decide(c, task))
			c->regs = 0;
	} else {
		/* Not kept: no exe may be transient (the task storage lock
		 * was busy on this CPU, or the launcher has not exec'd yet);
		 * ask again on the next call. */
		c->regs = 0;
	}
	return c;
}

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

/* count_compat counts one compat call nr of exe name in recording rec.
 * With file recording it is also counted in STAT_COMPAT: the file
 * recorder reads the native table only, so its files and ports are not
 * recorded. */
static __always_inline void count_compat(__u32 rec, int files, const char *name, __u16 phase, __u32 nr, void *regs)
{
	struct key k = {};
	k.phase = phase;
	fill_compat(&k, name, nr, regs);
	count(rec, &k);
	if (files)
		stat_inc(rec, STAT_COMPAT);
}

/* count_call counts one call nr of exe name (slot) in recording rec,
 * made in phase (KEY_*), with its arguments from regs where the table
 * records them. */
static __always_inline void count_call(__u32 rec, const char *name, __u32 slot, __u16 phase, __u32 nr, void *regs)
{
	struct key k = {};
	k.phase = phase;
	if (!fill(&k, name, nr, regs) && slot < max_exes && nr < SYSREC_MAX_NR) {
		void *calls_map = of(&calls, rec);
		__u32 i = (slot * KEY_PHASES + phase) * SYSREC_MAX_NR + nr;
		__u64 *v = calls_map ? bpf_map_lookup_elem(calls_map, &i) : 0;
		if (v) {
			__sync_fetch_and_add(v, 1);
			return;
		}
	}
	count(rec, &k);
}

#include "files.bpf.c"

SEC("tp_btf/sys_enter")
int sys_enter(__u64 *ctx)
{
	void *regs = (void *)ctx[0];
	struct last *c = who(regs, LAST_ENTER);
	if (!c || c->state != LAST_COUNTED)
		return 0;
	/* Per call, not per task: a 64-bit process may make i386 calls.
	 * Their exec is counted here, charged to the exe that made it. */
	__u32 rec = c->rec;
	if (compat(regs, (void *)c->task)) {
		/* Counted in its process's phase; never a step (phase.h). */
		count_compat(rec, c->files, c->name, key_phase(c->phase), (__u32)ctx[1], regs);
		return 0;
	}
	__u32 nr = (__u32)ctx[1];
	if (c->track && !(c->phase & PHASE_SERVING))
		phase_enter(c, nr, regs);
	if (c->files)
		files_enter(rec, regs, nr);
	if (is_exec(nr))
		return 0; /* counted at its exit, charged to the exe it made */
	count_call(rec, c->name, c->slot, key_phase(c->phase), nr, regs);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int sched_process_exec(__u64 *ctx)
{
	bump(); /* a new exe for this task, wherever it is */
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 rec = rec_of_task(task);
	struct rec_state *st = rec_state(rec);
	if (!st)
		return 0;
	/* The process is now its new executable (comm is already the new
	 * one, and an exec'ing thread is its group leader by now): charge it
	 * from here on, starting with the exec that made it. */
	char comm[SYSREC_COMM_LEN] = {};
	bpf_get_current_comm(comm, SYSREC_COMM_LEN);
	/* Counted before in this recording: its sys_enter counted a compat
	 * exec already. */
	struct exe *old = bpf_task_storage_get(&exes, task, 0, 0);
	int counted = old && old->seq == st->seq;
	struct exe *e = bpf_task_storage_get(&exes, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!e) {
		stat_inc(rec, STAT_LOST_EXES);
		return 0;
	}
	charge(e, comm, rec, st->seq);
	void *regs = (void *)bpf_task_pt_regs(task);
	__u16 phase = call_phase(st->phases, task);
	if (compat(regs, task)) {
		if (!counted)
			count_compat(rec, st->files, e->name, phase, exit_nr(regs), regs);
		return 0;
	}
	count_call(rec, e->name, e->slot, phase, exit_nr(regs), regs);
	if (st->files)
		files_exec(rec, (struct linux_binprm *)ctx[2]); /* charged to the new exe */
	return 0;
}

/* set_in_rec notes where counted process e now is: outside its
 * recording (in no recording, or counted in another one), it has left
 * (a loss charged to its exe, once until it comes back). */
static __always_inline void set_in_rec(struct exe *e, int in)
{
	if (in) {
		e->left = 0;
		return;
	}
	if (e->left)
		return;
	struct rec_state *st = rec_state(e->rec);
	if (!st || st->seq != e->seq)
		return; /* that recording has ended */
	e->left = 1;
	add(of(&exes_left, e->rec), e->name, &stats, stat_idx(e->rec, STAT_LOST_LEFT));
}

/* A new process inherits its parent's exe here, before it runs: looked
 * up at its first call instead, a child whose parent has already exited
 * (a daemon's double fork, any child under load) had no parent to
 * inherit from, and its calls were silently not counted. A child that
 * starts in another cgroup (clone3 with CLONE_INTO_CGROUP; no
 * cgroup_attach_task fires for it) outside its parent's recording has
 * left it: counted as cgroup_attach_task counts a move out. */
SEC("tp_btf/sched_process_fork")
int sched_process_fork(__u64 *ctx)
{
	struct task_struct *child = (struct task_struct *)ctx[1];
	if (child->pid != child->tgid)
		return 0; /* a thread shares its process's exe and phase */
	struct task_struct *parent = bpf_get_current_task_btf();
	int full = phase_fork(parent->tgid, child->tgid);
	struct exe *pe = bpf_task_storage_get(&exes, parent->group_leader, 0, 0);
	if (!pe)
		return 0; /* not counted: its child is not either (until exec) */
	struct rec_state *st = rec_state(pe->rec);
	if (!st || st->seq != pe->seq)
		return 0; /* charged in a recording that has ended */
	if (full)
		stat_inc(pe->rec, STAT_LOST_PHASES);
	struct exe *e = bpf_task_storage_get(&exes, child, pe, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!e) {
		stat_inc(pe->rec, STAT_LOST_EXES);
		return 0;
	}
	set_in_rec(e, rec_of_task(child) == e->rec);
	return 0;
}

SEC("tp_btf/sys_exit")
int sys_exit(__u64 *ctx)
{
	void *regs = (void *)ctx[0];
	long ret = ctx[1];
	if (*(volatile __u32 *)&nfiles)
		files_exit(regs, exit_nr(regs), ret);
	/* Only failed calls need work here. -512..-516 (ERESTARTSYS...)
	 * never reach user space: the call is restarted or becomes EINTR. */
	if (ret >= 0 || ret < -4095 || (ret <= -512 && ret >= -516))
		return 0;
	struct last *c = who(regs, LAST_EXIT);
	if (!c || c->state != LAST_COUNTED)
		return 0;
	__u32 rec = c->rec;
	struct task_struct *task = (void *)c->task;
	int cpt = compat(regs, task);
	__u32 nr = exit_nr(regs);
	if (cpt ? nr == compat_sigreturn_nr || nr == compat_rt_sigreturn_nr : nr == sigreturn_nr)
		return 0;
	struct key k = {};
	k.phase = call_phase(c->track, bpf_get_current_task_btf());
	if (cpt) {
		fill_compat(&k, c->name, nr, regs); /* its exec too was counted at sys_enter */
	} else {
		if (is_exec(nr))
			count_call(rec, c->name, c->slot, k.phase, nr, regs); /* a failed exec: charged to the exe that tried */
		fill(&k, c->name, nr, regs);
	}

	struct errkey ek = {};
	__builtin_memcpy(&ek.key, &k, sizeof(k));
	ek.err = -ret;
	add(of(&errnos, rec), &ek, &stats, stat_idx(rec, STAT_LOST_ERRNOS));
	return 0;
}

/* A thread group dies: its phase state goes with it (a new process of
 * the same tgid starts from its own parent's). The exiting thread has
 * left signal->live by now (do_exit decrements it before this
 * tracepoint, in 6.18 as in 6.2; 6.16 passes the result as group_dead,
 * which older kernels do not), so 0 means no thread of the group is
 * left to make a call. */
SEC("tp_btf/sched_process_exit")
int sched_process_exit(__u64 *ctx)
{
	struct task_struct *task = (struct task_struct *)ctx[0];
	if (KPTR(signal_struct, task->signal)->live.counter != 0)
		return 0;
	__u32 tgid = task->tgid;
	bpf_map_delete_elem(&phases, &tgid);
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

/* A task moved to another cgroup may have entered or left a recording.
 * The tracepoint fires after the move (the task is already in dst): a
 * process that was counted (it has an exe) and is now outside its
 * recording is a loss, charged to its exe, once until it comes back.
 * Moves within the recording (a container runtime placing its init)
 * are not. */
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
	set_in_rec(e, rec_of_cgroup(dst) == e->rec);
	return 0;
}
