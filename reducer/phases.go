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
// Options.Phases is PhasesAll, it is a door (policy.PhaseDoor). A door
// made in both phases gets init entries for the argument values only
// init made (split). Entries no recorded
// call brought (the baseline, the runtime's, what static analysis
// reaches) are for every phase, except the baseline's execve: it is
// there for the exec that starts the target, before it can serve.
type phaser struct {
	on     bool
	all    bool // PhasesAll: not only the doors (policy.PhaseDoor)
	groups map[string]*group
	rt     map[string]bool // the runtime's calls: made at any moment
	// What split reads again: the recordings, and of Options, Exe and
	// Args.
	recs []*profiles.Recording
	exe  string
	args ArgLevel
	// splits keeps what split made of each group: servingGroups and
	// entries both read it, and a split reads every sample again.
	splits map[*group][]phased
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
		if g := ph.groups[b]; g == nil || g.outsideInit || ph.runtimeAnyPhase(b) {
			return profiles.PhaseAny
		}
	}
	return profiles.PhaseInit
}

// ofGroup returns the phase of the entry of g's calls (of any arch).
func (ph phaser) ofGroup(g *group) profiles.Phase {
	if !ph.on || g.outsideInit || ph.runtimeAnyPhase(g.name) && g.arch == nil {
		return profiles.PhaseAny
	}
	if !ph.restricts(g.name) {
		return profiles.PhaseAny
	}
	return profiles.PhaseInit
}

// runtimeAnyPhase reports whether the target's runtime makes the calls
// of name on its own, at moments no phase decides, so that every entry
// of name is for every phase: the runtime set's calls (ph.rt), but not
// its doors. The runtime's own entry of a door is in the profile for
// every phase anyway (the Go runtime's clone, which starts a thread
// whenever a goroutine blocks); a recorded call of the door beyond it
// (a fork) keeps its phase. clone3 is the one door taken whole: when
// the runtime starts threads on its own (its set holds clone) and clone3
// was made, the runtime's threads start with it (a cgo Go program's
// pthread_create), and clone3's flags are behind a pointer, so a thread
// and a process cannot be told apart: refusing it in serving kills the
// server the first time a goroutine blocks (docs/phases.md). Where
// clone3 is answered ENOSYS instead, the threads start through clone,
// whose entry tells them from processes.
func (ph phaser) runtimeAnyPhase(name string) bool {
	if name == "clone3" {
		return ph.rt["clone"]
	}
	if door, _ := policy.PhaseDoor(name); door {
		return false
	}
	return ph.rt[name]
}

// phased is a group of calls and the phase of the entries made of them.
type phased struct {
	g     *group
	phase profiles.Phase
}

// split returns the groups g's entries are made of, each with their
// phase. An entry's phase holds for every value it allows, so a syscall
// phases restrict that was made both in init and outside it gets its
// entries for every phase from the argument tuples made outside init
// only, and init entries from the tuples made in init only: a value
// only init used (socket's AF_INET of the listener, clone's fork) is not
// allowed in serving because serving made the syscall with other ones.
func (ph phaser) split(g *group) []phased {
	if parts, ok := ph.splits[g]; ok {
		return parts
	}
	parts := ph.splitOnce(g)
	if ph.splits != nil {
		ph.splits[g] = parts
	}
	return parts
}

// splitOnce is split without its memory.
func (ph phaser) splitOnce(g *group) []phased {
	if !ph.on || !g.outsideInit || !ph.restricts(g.name) || g.arch == nil && ph.runtimeAnyPhase(g.name) {
		return []phased{{g, ph.ofGroup(g)}}
	}
	anyG, initG := newGroup(g.name, g.arch), newGroup(g.name, g.arch)
	for ri, r := range ph.recs {
		for _, s := range r.Samples {
			native := s.Arch == "" || s.Arch == r.Arch
			if s.Name != g.name || !keepExe(ph.exe, s.Exe) || native != (g.arch == nil) || !native && s.Arch != g.arch.Name {
				continue
			}
			if s.Phase == profiles.PhaseInit && !g.served[profiles.SeenKey(s.Name, s.Args)] {
				initG.add(s, ri, ph.args)
			} else {
				anyG.add(s, ri, ph.args)
			}
		}
	}
	if initG.lastRec == 0 { // no tuple of init only
		return []phased{{g, profiles.PhaseAny}}
	}
	anyG.outsideInit = true
	return []phased{{anyG, profiles.PhaseAny}, {initG, profiles.PhaseInit}}
}

// servingGroups returns, per syscall, the calls of groups that its
// entries for every phase are made of (split's part that is not init),
// for pooling a family's values into such entries.
func (ph phaser) servingGroups(groups map[string]*group) map[string]*group {
	out := map[string]*group{}
	for n, g := range groups {
		for _, part := range ph.split(g) {
			if part.phase != profiles.PhaseInit {
				out[n] = part.g
			}
		}
	}
	return out
}

// entries returns the entries build makes of each group of split(g),
// in its phase, without the init entries an entry for every phase
// allows already (profiles.Covers).
func (ph phaser) entries(g *group, build func(g *group, phase profiles.Phase) []profiles.Syscall) []profiles.Syscall {
	var out []profiles.Syscall
	for _, part := range ph.split(g) {
		for _, e := range build(part.g, part.phase) {
			if e.Phase == profiles.PhaseInit && slices.ContainsFunc(out, func(a profiles.Syscall) bool { return a.Phase != profiles.PhaseInit && profiles.Covers(a, e) }) {
				continue
			}
			out = append(out, e)
		}
	}
	return out
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
	keep       bool                           // Options.Phased: a section even when none served
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
	if !ps.served && !ps.keep || ps.transition == nil {
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
