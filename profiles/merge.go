package profiles

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/sysrec/sysrec/policy"
)

// Merge returns a profile that allows everything any of ps allows: for
// every input d, if some p.Decide(d) allows, Merge(ps).Decide(d) allows.
//
// Per syscall, the allowing entries of all inputs become one entry whose
// rules are the union of theirs, per argument: value sets and flag masks
// are joined, and an argument that not every entry constrains the same
// way is left unconstrained. That may allow combinations no input
// allowed (the cross-product widening the reducer makes too), never
// fewer, except where one argument gives another its meaning
// (policy.KeyOf: setsockopt's level its option, socket's family its
// protocol): there entries are joined per key value, and key values
// whose joined entries differ stay apart (joinKeyed), so no option is
// allowed at a level no input allowed it at. The first entry of a
// syscall carries its counts. Entries that deny (errno, kill, ...) follow the allowing one, so
// calls no input allowed keep the answer an input gave them. The default
// action is the first profile's, unless another's default allows; such a
// profile allows every syscall it does not deny, and so does the merge.
//
// Phases: the inputs' transitions must be equal (a profile without phases
// says nothing about them); entries are joined per phase (joinPhases):
// init entries with init entries, entries for every phase with each
// other, so argument values some input allows in init only stay init
// only, and the executables' phase sets are unioned. The promise holds per phase: anything some p.Decide
// allows in a phase, the merge allows in it.
func Merge(ps ...*Profile) (*Profile, error) {
	if len(ps) == 0 {
		return nil, errors.New("merge: no profiles")
	}
	out := &Profile{Version: Version, Name: ps[0].Name, DefaultAction: ps[0].DefaultAction,
		BadArchAction: ps[0].BadArchAction, UnknownAction: ps[0].UnknownAction}
	phases, err := mergePhases(ps)
	if err != nil {
		return nil, err
	}
	out.Phases = phases
	type acc struct {
		allow  []Syscall
		deny   []Syscall
		count  uint64
		runs   int
		errors map[string]uint64
		seen   map[string]uint64
	}
	byName := map[string]*acc{}
	var rec *Recorded
	for _, p := range ps {
		for _, a := range p.Arch {
			if !slices.Contains(out.Arch, a) {
				out.Arch = append(out.Arch, a)
			}
		}
	}
	for _, p := range ps {
		if allows(p.DefaultAction) && !allows(out.DefaultAction) {
			out.DefaultAction = p.DefaultAction
		}
		if out.UnknownAction.IsZero() {
			out.UnknownAction = p.UnknownAction
		}
		// Runs add up across inputs (each is a different set of
		// recordings), once per name within one input.
		runs := map[string]int{}
		for _, s := range p.Syscalls {
			runs[s.Key()] = max(runs[s.Key()], EntryRuns(s))
		}
		for _, s := range p.Syscalls {
			k := s.Key()
			if s.Arch == "" && len(p.Arch) == 1 && len(out.Arch) > 1 {
				// Its input's only arch: in the merge it must not
				// apply to the others' arches, where the name is
				// another call.
				s.Arch = p.Arch[0]
			}
			a := byName[s.Key()]
			if a == nil {
				a = &acc{errors: map[string]uint64{}, seen: map[string]uint64{}}
				byName[s.Key()] = a
			}
			a.runs += runs[k]
			runs[k] = 0
			a.count += s.Count
			for e, n := range s.Errors {
				a.errors[e] += n
			}
			for k, n := range s.Seen {
				a.seen[k] += n
			}
			if allows(s.EffectiveAction()) {
				a.allow = append(a.allow, s)
			} else if !containsEntry(a.deny, s) {
				a.deny = append(a.deny, s)
			}
		}
		if p.Recorded != nil {
			if rec == nil {
				r := *p.Recorded
				r.Recordings = max(r.Recordings, 1)
				rec = &r
			} else {
				rec.Lost += p.Recorded.Lost
				rec.Unknown += p.Recorded.Unknown
				rec.Compat += p.Recorded.Compat
				rec.Left = AddExeCounts(rec.Left, p.Recorded.Left)
				rec.DurationMS += p.Recorded.DurationMS
				rec.Recordings += max(p.Recorded.Recordings, 1)
			}
		}
	}
	sort.Strings(out.Arch)
	out.Recorded = rec
	// A profile whose default allows, allows every call of a syscall it
	// has no deny entry for: such a syscall is allowed outright. A deny
	// entry survives only if every allowing-default profile has it.
	var open []*Profile
	for _, p := range ps {
		if allows(p.DefaultAction) {
			open = append(open, p)
		}
	}
	for key, a := range byName {
		first := slices.Concat(a.allow, a.deny)[0]
		for _, p := range open {
			var denies []Syscall
			for _, s := range p.Syscalls {
				if s.Key() == key && !allows(s.EffectiveAction()) {
					denies = append(denies, s)
				}
			}
			if len(denies) == 0 {
				a.allow = []Syscall{{Name: first.Name, Arch: first.Arch, Action: p.DefaultAction}}
				a.deny = nil
				break
			}
			a.deny = slices.DeleteFunc(a.deny, func(d Syscall) bool { return !containsEntry(denies, d) })
		}
	}
	for _, n := range slices.Sorted(maps.Keys(byName)) {
		a := byName[n]
		first := true
		var joined []Syscall
		if len(a.allow) > 0 {
			joined = joinPhases(a.allow)
			s := &joined[0]
			s.Count = a.count
			s.Runs = a.runs
			if len(a.errors) > 0 {
				s.Errors = a.errors
			}
			if len(a.seen) > 0 {
				s.Seen = a.seen
			}
			out.Syscalls = append(out.Syscalls, joined...)
			first = false
		}
		for _, d := range a.deny {
			if first {
				d.Count, d.Runs = a.count, a.runs
				first = false
			} else {
				d.Count, d.Runs = 0, 0
			}
			if slices.ContainsFunc(joined, func(s Syscall) bool { return len(s.Args) == 0 && s.Phase != PhaseInit }) {
				break // unreachable behind an argument-free allow
			}
			if slices.ContainsFunc(joined, func(s Syscall) bool { return s.Phase == PhaseInit }) {
				// Entries for any phase decide before init entries
				// (Decide): a deny here would take back in init what
				// the init entry allows. Without it, the calls it
				// matched get the default action in serving.
				break
			}
			out.Syscalls = append(out.Syscalls, d)
		}
	}
	mergeLandlock(out, ps)
	out.NotAllowed = mergeNotAllowed(out, ps)
	if len(ps) > 1 || ps[0].Confidence != nil {
		out.Confidence = ComputeConfidence(out)
	}
	out.Normalize()
	if err := out.Validate(); err != nil {
		return nil, err
	}
	return out, nil
}

// mergePhases returns the phase section of the merge of ps: their one
// transition, and per executable the union of their phase sets.
func mergePhases(ps []*Profile) (*Phases, error) {
	var out *Phases
	from := 0
	sets := map[string]*[2]map[string]bool{}
	for i, p := range ps {
		if p.Phases == nil {
			continue
		}
		if out == nil {
			out, from = &Phases{Transition: p.Phases.Transition}, i
			out.Transition.After = slices.Clone(out.Transition.After)
		} else if !out.Transition.Equal(p.Phases.Transition) {
			return nil, fmt.Errorf("merge: %s learned its phases with another transition (%s) than %s (%s): record them again with the same one",
				profileLabel(ps, i), p.Phases.Transition, profileLabel(ps, from), out.Transition)
		}
		for _, e := range p.Phases.Executables {
			s := sets[e.Exe]
			if s == nil {
				s = &[2]map[string]bool{{}, {}}
				sets[e.Exe] = s
			}
			for _, n := range e.Init {
				s[0][n] = true
			}
			for _, n := range e.Serving {
				s[1][n] = true
			}
		}
	}
	for _, exe := range slices.Sorted(maps.Keys(sets)) {
		s := sets[exe]
		out.Executables = append(out.Executables, PhaseSets{Exe: exe, Init: slices.Sorted(maps.Keys(s[0])), Serving: slices.Sorted(maps.Keys(s[1]))})
	}
	return out, nil
}

// profileLabel names the i-th of ps in an error: its position, and its
// name when it has one.
func profileLabel(ps []*Profile, i int) string {
	if ps[i].Name != "" {
		return fmt.Sprintf("profile %d (%s)", i+1, ps[i].Name)
	}
	return fmt.Sprintf("profile %d", i+1)
}

func containsEntry(list []Syscall, s Syscall) bool {
	for _, e := range list {
		if e.Action == s.Action && slices.EqualFunc(e.Args, s.Args, ArgRule.Equal) {
			return true
		}
	}
	return false
}

// joinPhases unions allowing entries of one syscall (one Key) per
// phase: the entries for every phase with each other, the init entries
// with each other (joinKeyed), never an init entry's values into an
// entry for every phase, which would allow them in serving. An init
// entry an entry for every phase already allows as a whole (no
// arguments, or the same rules) is dropped.
func joinPhases(entries []Syscall) []Syscall {
	var anyPhase, initOnly []Syscall
	for _, e := range entries {
		if e.Phase == PhaseInit {
			initOnly = append(initOnly, e)
		} else {
			anyPhase = append(anyPhase, e)
		}
	}
	var out []Syscall
	if len(anyPhase) > 0 {
		out = joinKeyed(anyPhase)
	}
	if len(initOnly) == 0 {
		return out
	}
	for _, e := range joinKeyed(initOnly) {
		if !slices.ContainsFunc(out, func(a Syscall) bool { return Covers(a, e) }) {
			out = append(out, e)
		}
	}
	return out
}

// Covers reports whether entry a, for every phase, allows every call
// init entry e of the same syscall does: it constrains no argument, or
// the same ones the same way, with an action that allows as much.
func Covers(a, e Syscall) bool {
	if act := a.EffectiveAction(); act != e.EffectiveAction() && act.Kind != Allow {
		return false
	}
	return len(a.Args) == 0 || slices.EqualFunc(a.Args, e.Args, ArgRule.Equal)
}

// joinKeyed unions allowing entries of one syscall (one Key) into the
// entries Merge writes. For a syscall whose arguments are keyed
// (policy.KeyOf: the level gives an option number its meaning), an
// entry whose key rule lists values is taken apart per key value, the
// parts at each key value are joined (joinAllowing), and key values
// whose joined entries agree are put back together; entries with any
// other key rule are joined with those of the same key rule only. So a
// keyed value is only ever allowed at the key values some input allowed
// it at: entries whose key sets differ are never joined into their
// product. Other syscalls get joinAllowing's one entry.
func joinKeyed(entries []Syscall) []Syscall {
	key, _, ok := policy.KeyOf(entries[0].Name)
	if !ok || slices.ContainsFunc(entries, func(e Syscall) bool { return len(e.Args) == 0 }) {
		return []Syscall{joinAllowing(entries)}
	}
	byKey, open := keyedParts(entries, key)
	other := map[string][]Syscall{} // by the text of their key rules
	var others []string
	for _, e := range open {
		text := ""
		for _, r := range e.Args {
			if r.Index == key {
				text += fmt.Sprintf("%+v;", r)
			}
		}
		if other[text] == nil {
			others = append(others, text)
		}
		other[text] = append(other[text], e)
	}
	var out []Syscall
	for _, k := range slices.Sorted(maps.Keys(byKey)) {
		j := joinAllowing(byKey[k])
		sort.SliceStable(j.Args, func(x, y int) bool { return j.Args[x].Index < j.Args[y].Index })
		i := slices.IndexFunc(out, func(o Syscall) bool { return sameButKey(o, j, key) })
		if i < 0 {
			out = append(out, j)
			continue
		}
		for a := range out[i].Args {
			if out[i].Args[a].Index == key {
				out[i].Args[a].Values = append(slices.Clip(out[i].Args[a].Values), k)
			}
		}
	}
	for _, text := range others {
		out = append(out, joinAllowing(other[text]))
	}
	return out
}

// sameButKey reports whether a and b are the same entry but for the
// values of their one "in" rule on argument key (of equal mask and
// width): together they are one entry listing both's key values.
func sameButKey(a, b Syscall, key int) bool {
	if a.Action != b.Action || a.Phase != b.Phase || len(a.Args) != len(b.Args) {
		return false
	}
	for i, r := range a.Args {
		o := b.Args[i]
		if r.Index == key && o.Index == key && r.Op == OpIn && o.Op == OpIn && r.Mask == 0 && o.Mask == 0 && r.Width == o.Width {
			continue
		}
		if !r.Equal(o) {
			return false
		}
	}
	return true
}

// joinAllowing unions allowing entries of one syscall (one Key) into one
// entry, argument by argument: for keyed arguments that is their
// product (Merge uses joinKeyed).
func joinAllowing(entries []Syscall) Syscall {
	name := entries[0].Name
	out := Syscall{Name: name, Arch: entries[0].Arch, Action: entries[0].Action, Phase: PhaseInit}
	for _, e := range entries {
		if e.Phase != PhaseInit {
			out.Phase = PhaseAny // some input allows it in serving
		}
		if e.Action.Kind == Allow {
			out.Action = e.Action // allow over log
		}
		if out.Reason == "" {
			out.Reason = e.Reason
		}
		if out.Note == "" {
			out.Note = e.Note
		}
	}
	for _, e := range entries {
		if len(e.Args) == 0 {
			return out
		}
	}
	// Indexes every entry constrains with one rule each.
	var rules []ArgRule
	for _, r := range entries[0].Args {
		joined, ok := r, true
		joined.Values = slices.Clone(r.Values)
		for _, e := range entries[1:] {
			other, found := ruleAt(e, r.Index)
			if !found || !joinRule(&joined, other, out.Width(r), out.Width(other)) {
				ok = false
				break
			}
		}
		if ok {
			rules = append(rules, joined)
		}
	}
	out.Args = rules
	return out
}

func ruleAt(s Syscall, index int) (ArgRule, bool) {
	var found []ArgRule
	for _, r := range s.Args {
		if r.Index == index {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		return ArgRule{}, false // none, or an AND of several: not joinable
	}
	return found[0], true
}

// mergeNotAllowed keeps each withheld syscall once (the first input's
// reason), unless the merged profile allows it after all.
func mergeNotAllowed(out *Profile, ps []*Profile) []Withheld {
	allowed := allowing(out)
	var ws []Withheld
	seen := map[string]bool{}
	for _, p := range ps {
		for _, w := range p.NotAllowed {
			if seen[w.Name] || len(allowed[w.Name]) > 0 {
				continue
			}
			seen[w.Name] = true
			ws = append(ws, w)
		}
	}
	return ws
}

// allowing returns the allowing entries of p by syscall name, of any
// arch.
func allowing(p *Profile) map[string][]Syscall {
	m := map[string][]Syscall{}
	for _, s := range p.Syscalls {
		if allows(s.EffectiveAction()) {
			m[s.Name] = append(m[s.Name], s)
		}
	}
	return m
}
