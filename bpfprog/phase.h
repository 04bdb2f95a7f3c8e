/* phase.h: when a process starts serving (profiles.Transition), the
 * one definition the recorder (sysrec.bpf.c tags each call with the
 * phase of its process) and the enforcer (phase.bpf.c, whose state run's
 * supervisor reads) share, so what a profile learned and what run
 * enforces agree. Include after regs.h.
 *
 * A process's phase is per thread group (threads share memory, so none
 * is trusted more than its process): it starts serving at the entry of
 * a call in the rule's set (before the call runs, so before any work it
 * waits for arrives), a child process inherits its parent's phase (and
 * whether it has listened) at fork, before it runs, and no call ever
 * takes a process back to init. */
#ifndef SYSREC_PHASE_H
#define SYSREC_PHASE_H

#define PHASE_AFTER_WORDS (SYSREC_MAX_NR / 64)

/* profiles.Transition, as the loader lowers it. */
struct phase_rule {
	__u64 after[PHASE_AFTER_WORDS]; /* bit nr set: entering native call nr starts serving */
	__u32 blocking;    /* a wait with a zero timeout (poll, epoll_wait, epoll_pwait) does not count */
	__u32 gate_listen; /* a call counts only once the process, or one it was forked from, called listen */
};

/* A process's phase state: bits. */
enum {
	PHASE_LISTENED = 1,
	PHASE_SERVING = 2,
};

/* Set by the loader: the native numbers of the calls the rule looks
 * into (~0: the arch has no such call, arm64 has no poll or
 * epoll_wait). */
volatile const __u32 phase_listen_nr = ~0u;
volatile const __u32 phase_poll_nr = ~0u;       /* timeout: argument 2, int milliseconds */
volatile const __u32 phase_epoll_wait_nr = ~0u; /* timeout: argument 3 */
volatile const __u32 phase_epoll_pwait_nr = ~0u; /* timeout: argument 3 */

/* phase_returns_at_once reports whether native call nr, with the
 * registers at regs, is a wait that cannot block: a zero timeout. */
static __always_inline int phase_returns_at_once(__u32 nr, void *regs)
{
	if (nr == phase_poll_nr)
		return (int)arg(regs, 2) == 0;
	if (nr == phase_epoll_wait_nr || nr == phase_epoll_pwait_nr)
		return (int)arg(regs, 3) == 0;
	return 0;
}

/* phase_step returns the state of a process in state after its thread
 * enters native call nr with the registers at regs, under rule r. */
static __always_inline __u32 phase_step(const struct phase_rule *r, __u32 state, __u32 nr, void *regs)
{
	if (state & PHASE_SERVING)
		return state;
	if (nr == phase_listen_nr)
		return state | PHASE_LISTENED;
	if (nr >= SYSREC_MAX_NR || !(r->after[nr / 64] & (1ull << (nr % 64))))
		return state;
	if (r->gate_listen && !(state & PHASE_LISTENED))
		return state;
	if (r->blocking && phase_returns_at_once(nr, regs))
		return state;
	return state | PHASE_SERVING;
}

#endif
