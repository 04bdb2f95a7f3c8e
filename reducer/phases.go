package reducer

import (
	"fmt"
	"maps"
	"slices"

	"github.com/sysrec/sysrec/policy"
	"github.com/sysrec/sysrec/profiles"
)

// phaser decides the phase of each entry Reduce makes. A profile gets
// phases only when some recorded process reached serving (a recording
// whose transition tagged a sample PhaseServing); then an entry is for
// init only when every call that brought it was made in init (a process
// that never served made all its calls there) and policy does not say it
// may be needed at any moment (policy.AnyPhase), and, unless
// Options.Phases is PhasesAll, it is a door (policy.PhaseDoor). Entries no recorded
// call brought (the baseline, the runtime's, what static analysis
// reaches) are for every phase, except the baseline's execve: it is
// there for the exec that starts the target, before it can serve.
type phaser struct {
	on     bool
	all    bool // PhasesAll: not only the doors (policy.PhaseDoor)
	groups map[string]*group
	rt     map[string]bool // the runtime's calls: made at any moment
}

// of returns the phase of an entry for syscall name brought by the
// recorded calls by (of the recordings' arch).
func (ph phaser) of(name string, by ...string) profiles.Phase {
	if !ph.on || len(by) == 0 {
		return profiles.PhaseAny
	}
	if !ph.restricts(name) {
		return profiles.PhaseAny
	}
	for _, b := range by {
		if g := ph.groups[b]; g == nil || g.outsideInit || ph.rt[b] {
			return profiles.PhaseAny
		}
	}
	return profiles.PhaseInit
}

// ofGroup returns the phase of the entry of g's calls (of any arch).
func (ph phaser) ofGroup(g *group) profiles.Phase {
	if !ph.on || g.outsideInit || ph.rt[g.name] && g.arch == nil {
		return profiles.PhaseAny
	}
	if !ph.restricts(g.name) {
		return profiles.PhaseAny
	}
	return profiles.PhaseInit
}

// restricts reports whether an entry for name made only in init is
// refused once its process serves: a door (policy.PhaseDoor), or under
// PhasesAll anything policy.AnyPhase does not keep.
func (ph phaser) restricts(name string) bool {
	if ok, _ := policy.AnyPhase(name); ok {
		return false
	}
	if ph.all {
		return true
	}
	ok, _ := policy.PhaseDoor(name)
	return ok
}

// phaseSets collects, while Reduce reads the samples, the transition of
// the recordings and what each executable called in each phase.
type phaseSets struct {
	transition *profiles.Transition
	served     bool
	sets       map[string]*[2]map[string]bool // exe -> init, serving names
}

// recording checks that r was tagged with the same transition as the
// recordings before it.
func (ps *phaseSets) recording(r *profiles.Recording) error {
	if r.Transition == nil {
		return nil
	}
	if ps.transition == nil {
		t := *r.Transition
		t.After = slices.Clone(t.After)
		ps.transition = &t
		return nil
	}
	if !ps.transition.Equal(*r.Transition) {
		return fmt.Errorf("recordings tagged with different transitions (%s, %s): a profile has one", ps.transition, r.Transition)
	}
	return nil
}

// sample notes what s, a kept sample of a recording with a transition,
// says of its executable's phases; key is its entry's key ("i386:dup"
// for a compat call).
func (ps *phaseSets) sample(s profiles.Sample, key string) {
	var i int
	switch s.Phase {
	case profiles.PhaseInit:
		i = 0
	case profiles.PhaseServing:
		i = 1
		ps.served = true
	default:
		return
	}
	if ps.sets == nil {
		ps.sets = map[string]*[2]map[string]bool{}
	}
	e := ps.sets[s.Exe]
	if e == nil {
		e = &[2]map[string]bool{{}, {}}
		ps.sets[s.Exe] = e
	}
	e[i][key] = true
}

// section returns the profile's phases section: nil when no recorded
// process served.
func (ps *phaseSets) section() *profiles.Phases {
	if !ps.served || ps.transition == nil {
		return nil
	}
	out := &profiles.Phases{Transition: *ps.transition}
	for _, exe := range slices.Sorted(maps.Keys(ps.sets)) {
		e := ps.sets[exe]
		out.Executables = append(out.Executables, profiles.PhaseSets{Exe: exe,
			Init: slices.Sorted(maps.Keys(e[0])), Serving: slices.Sorted(maps.Keys(e[1]))})
	}
	return out
}
