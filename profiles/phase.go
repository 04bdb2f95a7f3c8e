package profiles

import (
	"errors"
	"fmt"
	"slices"
)

// Phase is the part of a process's life a call is made in. A daemon
// initialises (reads its configuration, opens its sockets, forks its
// workers, drops privileges), then serves: from the moment it first
// waits for work it handles input an attacker may choose, and needs far
// fewer doors. The phase is per process (all threads of a process share
// its memory, so a thread cannot be trusted more than its process), a
// process forked by a serving process is serving from its first
// instruction, and a process never goes back to init.
type Phase string

const (
	// PhaseAny is an entry's phase when it applies whatever phase the
	// calling process is in (the only one before version 3).
	PhaseAny Phase = ""
	// PhaseInit: an entry allowed only while the calling process has not
	// started serving; a sample made before its process started serving.
	PhaseInit Phase = "init"
	// PhaseServing: a sample made once its process was serving.
	PhaseServing Phase = "serving"
)

// Transition says when a process starts serving. The recorder tags each
// call with the phase this rule gives its process, and run enforces the
// same rule, so what a profile learned and what it enforces agree.
type Transition struct {
	// After names the syscalls whose entry starts the serving phase of
	// the calling process (native names of the profile's first arch).
	After []string `json:"after"`
	// Blocking counts a wait in After only when it may block: poll,
	// epoll_wait and epoll_pwait with a zero timeout return at once and
	// do not wait for work.
	Blocking bool `json:"blocking,omitempty"`
	// Gate, when "listen", counts a call in After only once the process,
	// or a process it was forked from, has called listen: a server waits
	// for work once it has a door for it (memcached's worker threads wait
	// on their pipes before the main thread opens its sockets).
	Gate string `json:"gate,omitempty"`
}

// GateListen is Transition.Gate's one value.
const GateListen = "listen"

// DefaultTransition is the transition record uses unless told otherwise:
// the first wait that may block, once the process has a listening
// socket. Measured on nginx, redis, memcached, a Go net/http server and
// python3's http.server (docs/phases.md).
func DefaultTransition() Transition {
	return Transition{
		After:    []string{"accept", "accept4", "epoll_pwait", "epoll_pwait2", "epoll_wait", "poll", "ppoll", "pselect6", "select"},
		Blocking: true,
		Gate:     GateListen,
	}
}

// Equal reports whether t and u are the same rule.
func (t Transition) Equal(u Transition) bool {
	a, b := slices.Clone(t.After), slices.Clone(u.After)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b) && t.Blocking == u.Blocking && t.Gate == u.Gate
}

// Phases is a profile's phase section (version 3): the transition its
// recordings used, and per executable what its processes did in each
// phase (information for show and diff; the filter reads the entries'
// Phase).
type Phases struct {
	Transition  Transition  `json:"transition"`
	Executables []PhaseSets `json:"executables,omitempty"`
}

// PhaseSets is what the processes of one executable called in each
// phase: syscall names, sorted. An executable none of whose processes
// started serving has an empty Serving.
type PhaseSets struct {
	Exe     string   `json:"exe"`
	Init    []string `json:"init"`
	Serving []string `json:"serving"`
}

// HasPhases reports whether p restricts any entry to the init phase:
// enforcing it needs a supervisor that knows each process's phase.
func (p *Profile) HasPhases() bool {
	return slices.ContainsFunc(p.Syscalls, func(s Syscall) bool { return s.Phase == PhaseInit })
}

// validatePhases checks the phase section and the entries' phases.
func (p *Profile) validatePhases() error {
	for i, s := range p.Syscalls {
		switch s.Phase {
		case PhaseAny:
		case PhaseInit:
			if p.Version < 3 {
				return fmt.Errorf("field syscalls[%d].phase: phases need version 3, the profile says %d", i, p.Version)
			}
			if p.Phases == nil {
				return fmt.Errorf("field syscalls[%d].phase: an init entry needs the phases section (its transition)", i)
			}
			if a := s.EffectiveAction(); a.Kind != Allow {
				return fmt.Errorf("field syscalls[%d].phase: an init entry must allow (it has %s)", i, a)
			}
		default:
			return fmt.Errorf("field syscalls[%d].phase: unknown phase %q (want init, or none for every phase)", i, s.Phase)
		}
	}
	if p.Phases == nil {
		return nil
	}
	if p.Version < 3 {
		return fmt.Errorf("field phases: needs version 3, the profile says %d", p.Version)
	}
	t := p.Phases.Transition
	if len(t.After) == 0 {
		return errors.New("field phases.transition.after: no syscall listed")
	}
	if t.Gate != "" && t.Gate != GateListen {
		return fmt.Errorf("field phases.transition.gate: unknown gate %q (want listen, or none)", t.Gate)
	}
	return nil
}

// ServingOnly returns p as it applies to a serving process: the init
// entries removed. It is the filter a program that can be changed
// installs on itself once it serves (enforce.ServingPhase), and what
// `emit --phase serving` writes.
func (p *Profile) ServingOnly() *Profile {
	c := p.Clone()
	c.Syscalls = slices.DeleteFunc(c.Syscalls, func(s Syscall) bool { return s.Phase == PhaseInit })
	c.Phases = nil
	return c
}

// Union returns p with every entry allowed in every phase: what a filter
// that cannot know a process's phase (the oci, spo and systemd formats)
// can say.
func (p *Profile) Union() *Profile {
	c := p.Clone()
	for i := range c.Syscalls {
		c.Syscalls[i].Phase = PhaseAny
	}
	c.Phases = nil
	return c
}

// Supervised returns p for a filter whose init entries a supervisor
// decides on: each init entry's action becomes user_notif (the
// supervisor lets the call run while its process has not started serving
// and answers it with the default action after), and every entry for any
// phase comes first, so a call both allow is never sent to user space.
// The supervisor decides on the process's phase alone, never on memory
// the caller could change, so letting the call continue is safe. The
// filter knows no phase: its entries are for every phase, and it has no
// phases section (the supervisor keeps p's transition).
func (p *Profile) Supervised() *Profile {
	c := p.Clone()
	var any, init []Syscall
	for _, s := range c.Syscalls {
		if s.Phase == PhaseInit {
			s.Action = Action{Kind: UserNotif}
			s.Phase = PhaseAny
			init = append(init, s)
			continue
		}
		any = append(any, s)
	}
	c.Syscalls = append(any, init...)
	c.Phases = nil
	return c
}
