//go:build ignore

// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * phase: the phase of each process run's supervisor enforces phases for
 * (enforce.PhaseTracker), as a hash map tgid -> state (phase.h) that the
 * supervisor reads when an init-only call reaches it. A separate object
 * from the recorder's: it is loaded by each `sysrec run` or `check` of a
 * profile with phases, with that profile's transition as its rule.
 *
 * Only processes the supervisor enrolled (its helper, before it can exec
 * or fork) and their descendants have a key; a process without one is
 * refused what a serving process is (fail closed). Every task of the
 * host runs sys_enter, so it returns after two loads for every call that
 * can neither open a door (listen) nor start serving.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "sysrec.h"
#include "regs.h"
#include "phase.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The profile's transition, set by the loader (bpfprog.NewPhaseRule). */
volatile const struct phase_rule rule = {};

/* Processes whose fork found the map full: not tracked, so refused
 * every init call (the supervisor reports the count). */
__u64 lost_forks;

/* tgid (in the initial pid namespace) -> phase state. Preallocated, so
 * an insert at fork never fails for want of memory: at most
 * PHASE_MAX_PROCS processes of one supervised run alive at once, 64
 * bytes each (4 MiB). */
#define PHASE_MAX_PROCS 65536

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PHASE_MAX_PROCS);
	__type(key, __u32);
	__type(value, __u32);
} phases SEC(".maps");

struct signal_struct___phase {
	struct {
		int counter;
	} live; /* atomic_t */
} __attribute__((preserve_access_index));

struct task_struct___phase {
	int pid;
	int tgid;
	struct signal_struct___phase *signal;
} __attribute__((preserve_access_index));

SEC("tp_btf/sys_enter")
int phase_sys_enter(__u64 *ctx)
{
	__u32 nr = (__u32)ctx[1];
	/* One 32-bit register the bound check applies to (clang would index
	 * the array from the unchecked 64-bit argument). */
	asm volatile("" : "+r"(nr));
	if (nr != phase_listen_nr && (nr >= SYSREC_MAX_NR || !(rule.after[nr / 64] & (1ull << (nr % 64)))))
		return 0;
	void *regs = (void *)ctx[0];
	/* Another ABI's number means another call: it never steps. */
	if (compat(regs, bpf_get_current_task_btf()))
		return 0;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 *st = bpf_map_lookup_elem(&phases, &tgid);
	if (!st)
		return 0;
	/* Through a pointer the compiler cannot see the origin of: cast from
	 * the volatile const, clang would fold the fields phase_step reads
	 * to their initial zeros (no gate, no blocking test). */
	const struct phase_rule *r = (const struct phase_rule *)&rule;
	asm volatile("" : "+r"(r));
	__u32 old = *st;
	__u32 next = phase_step(r, old, nr, regs);
	/* Bits are only ever added: an atomic or, so a thread that read the
	 * state before another one set SERVING cannot store it back. */
	if (next != old)
		__sync_fetch_and_or(st, next);
	return 0;
}

/* A child process inherits its parent's state before it runs: the
 * tracepoint fires in kernel_clone before wake_up_new_task, with the
 * caller as current (CLONE_PARENT changes the child's parent, not who
 * forked it). A child of an untracked process loses any key its pid
 * carried, so a reused pid never inherits a dead process's state. */
SEC("tp_btf/sched_process_fork")
int phase_fork(__u64 *ctx)
{
	struct task_struct___phase *child = (void *)ctx[1];
	if (child->pid != child->tgid)
		return 0; /* a thread: its process's state is its own */
	__u32 key = child->tgid;
	__u32 parent = bpf_get_current_pid_tgid() >> 32;
	__u32 *st = bpf_map_lookup_elem(&phases, &parent);
	if (!st) {
		bpf_map_delete_elem(&phases, &key);
		return 0;
	}
	__u32 v = *st;
	if (bpf_map_update_elem(&phases, &key, &v, BPF_ANY))
		__sync_fetch_and_add(&lost_forks, 1);
	return 0;
}

/* The key goes with the last thread of its group: do_exit counts the
 * group's live threads down (atomic_dec_and_test(&signal->live), the
 * group_dead 6.18 passes this tracepoint) before it fires. Read from
 * the counter, which every kernel has; two threads exiting at once may
 * both read 0, and both delete the key of a group that is dead. An
 * exec by a thread other than the leader ends the other threads but not
 * the group: its state stays with its tgid. */
SEC("tp_btf/sched_process_exit")
int phase_exit(__u64 *ctx)
{
	struct task_struct___phase *p = (void *)ctx[0];
	if (p->signal->live.counter)
		return 0;
	__u32 key = p->tgid;
	bpf_map_delete_elem(&phases, &key);
	return 0;
}
