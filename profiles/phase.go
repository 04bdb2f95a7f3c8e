package profiles

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/sysrec/sysrec/linuxabi"
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

// String describes t for messages: "after accept, poll (blocking,
// gate listen)".
func (t Transition) String() string {
	var how []string
	if t.Blocking {
		how = append(how, "blocking")
	}
	if t.Gate != "" {
		how = append(how, "gate "+t.Gate)
	}
	s := "after " + strings.Join(t.After, ", ")
	if len(how) > 0 {
		s += " (" + strings.Join(how, ", ") + ")"
	}
	return s
}

// Numbers lowers t.After to arch's numbers, as the kernel's phase
// programs take it: a name arch does not have (arm64 has no poll,
// epoll_wait or select) is left out, but one of them at least must be
// there.
func (t Transition) Numbers(arch *linuxabi.Arch) ([]int, error) {
	var after []int
	for _, name := range t.After {
		if nr, ok := arch.Number(name); ok {
			after = append(after, nr)
		}
	}
	if len(after) == 0 {
		return nil, fmt.Errorf("transition: none of %s is a syscall of %s", strings.Join(t.After, ", "), arch.Name)
	}
	return after, nil
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

// normalizePhases sorts the phase sets, without duplicates, by
// executable; an empty set is [] (a process that never served).
func (p *Profile) normalizePhases() {
	if p.Phases == nil {
		return
	}
	set := func(names []string) []string {
		out := slices.Compact(slices.Sorted(slices.Values(names)))
		if out == nil {
			out = []string{}
		}
		return out
	}
	for i, e := range p.Phases.Executables {
		p.Phases.Executables[i].Init = set(e.Init)
		p.Phases.Executables[i].Serving = set(e.Serving)
	}
	sort.SliceStable(p.Phases.Executables, func(a, b int) bool { return p.Phases.Executables[a].Exe < p.Phases.Executables[b].Exe })
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
		if s.Action.Kind == UserNotif && p.Phases != nil {
			// p.Supervised() hands its init entries to a supervisor
			// that answers by phase: it could not tell this entry's
			// notifications from theirs.
			return fmt.Errorf("field syscalls[%d].action: user_notif in a profile with phases (their supervisor answers every notification by the caller's phase)", i)
		}
	}
	if p.Phases == nil {
		return nil
	}
	for _, f := range []struct {
		field string
		a     Action
	}{{"default_action", p.DefaultAction}, {"unknown_action", p.UnknownAction}, {"bad_arch_action", p.BadArchAction}} {
		if f.a.Kind == UserNotif {
			return fmt.Errorf("field %s: user_notif in a profile with phases (their supervisor answers every notification by the caller's phase)", f.field)
		}
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

// Notified is what the supervisor of p.Supervised() answers a
// notification from a process in phase: an init entry matched, so the
// call runs while the process has not started serving, and gets the
// default action once it has; a process whose phase is not known (any
// other value) gets no init powers.
func (p *Profile) Notified(phase Phase) Action {
	if phase == PhaseInit {
		return ActAllow
	}
	return p.DefaultAction
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
// can say. The entries for any phase come first, as Decide reads them,
// so Union decides every call as p does for a process in init.
func (p *Profile) Union() *Profile {
	c := p.Clone()
	c.Syscalls = anyPhaseFirst(c.Syscalls)
	for i := range c.Syscalls {
		c.Syscalls[i].Phase = PhaseAny
	}
	c.Phases = nil
	return c
}

// anyPhaseFirst orders ss as Decide reads them: the entries for any
// phase, in order, then the init entries, in order.
func anyPhaseFirst(ss []Syscall) []Syscall {
	var any, init []Syscall
	for _, s := range ss {
		if s.Phase == PhaseInit {
			init = append(init, s)
			continue
		}
		any = append(any, s)
	}
	return append(any, init...)
}

// Supervised returns p for a filter whose init entries a supervisor
// decides on: each init entry becomes an entry for any phase whose
// action is user_notif (the supervisor answers p.Notified(phase): the
// call runs while its process has not started serving, and gets the
// default action after), after every entry for any phase, as Decide
// reads them, so a call one of those decides is never sent to user
// space. The supervisor decides on the process's phase alone, never on
// memory the caller could change, so letting the call continue is safe.
// Like the other views it has no phases left: it is a filter to compile.
func (p *Profile) Supervised() *Profile {
	c := p.Clone()
	c.Syscalls = anyPhaseFirst(c.Syscalls)
	for i := range c.Syscalls {
		if c.Syscalls[i].Phase == PhaseInit {
			c.Syscalls[i].Action = Action{Kind: UserNotif}
			c.Syscalls[i].Phase = PhaseAny
		}
	}
	c.Phases = nil
	return c
}
