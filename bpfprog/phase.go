package bpfprog

import (
	"fmt"

	"github.com/cilium/ebpf"
)

// PhaseRule is struct phase_rule (phase.h): a profiles.Transition
// lowered to syscall numbers, as the recorder and the enforcer load it.
type PhaseRule struct {
	After      [MaxNr / 64]uint64
	Blocking   uint32
	GateListen uint32
}

// NewPhaseRule lowers a transition: the native numbers of the calls
// whose entry starts serving, whether a wait with a zero timeout does
// not count, and whether a call counts only after listen.
func NewPhaseRule(after []int, blocking, gateListen bool) (PhaseRule, error) {
	var r PhaseRule
	for _, nr := range after {
		if nr < 0 || nr >= MaxNr {
			return PhaseRule{}, fmt.Errorf("lower transition: syscall number %d out of range", nr)
		}
		r.After[nr/64] |= 1 << (nr % 64)
	}
	if blocking {
		r.Blocking = 1
	}
	if gateListen {
		r.GateListen = 1
	}
	return r, nil
}

// Phase state bits (phase.h).
const (
	PhaseListened = 1
	PhaseServing  = 2
)

// PhaseNumbers are the variables phase.h needs set, per variable the
// syscall name whose native number it holds; a name the arch does not
// have leaves its variable at ~0.
var PhaseNumbers = map[string]string{
	"phase_listen_nr":      "listen",
	"phase_poll_nr":        "poll",
	"phase_epoll_wait_nr":  "epoll_wait",
	"phase_epoll_pwait_nr": "epoll_pwait",
}

// PhaseObjects are phase.bpf.c's programs, maps and variables: the
// enforcer's per-process phase (enforce.PhaseTracker).
type PhaseObjects = phaseObjects

// PhaseMaxProcesses is how many processes one loaded phase object tracks
// at once (PHASE_MAX_PROCS): a fork beyond it is counted in lost_forks,
// and its process is refused its init calls.
const PhaseMaxProcesses = 65536

// PhaseSpec returns a fresh copy of phase.bpf.c's collection spec; the
// caller sets its rule and numbers before loading it.
func PhaseSpec() (*ebpf.CollectionSpec, error) { return loadPhase() }
