/* regs.h: the registers and ABI of the current syscall, read with
 * direct loads from BTF-typed kernel structures (CO-RE). Shared by
 * sysrec.bpf.c and phase.bpf.c. */
#ifndef SYSREC_REGS_H
#define SYSREC_REGS_H

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

#endif
