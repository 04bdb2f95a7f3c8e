package profiles

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/policy"
)

// Delta is what changed from one profile to another.
type Delta struct {
	// Added lists syscalls NEW allows (in some form) and OLD never does.
	Added []string `json:"added"`
	// Removed lists syscalls OLD allows and NEW never does.
	Removed []string `json:"removed"`
	// Changed lists syscalls both allow, with different argument rules
	// or actions.
	Changed []Change `json:"changed"`
	// Arch lists architectures added (+name) or removed (-name).
	Arch []string `json:"arch,omitempty"`
	// DefaultAction is "old -> new" when it changed.
	DefaultAction string `json:"default_action,omitempty"`
	// Landlock lists files, rights and ports NEW grants that OLD does not
	// (filesystem and network sections), and scopes NEW drops.
	Landlock []string `json:"landlock,omitempty"`
	// Widens is true when NEW allows something OLD does not: what a CI
	// gate fails on.
	Widens bool `json:"widens"`
	// Tier is the highest risk tier of what NEW allows beyond OLD
	// (empty when it allows nothing more): diff --fail-on gates on it.
	Tier string `json:"tier,omitempty"`
	// Tiers gives the tier of each added syscall.
	Tiers map[string]string `json:"tiers,omitempty"`
	// Withheld lists added syscalls that OLD listed as reachable but not
	// allowed, with OLD's reason.
	Withheld map[string]string `json:"withheld,omitempty"`
	// Phases gives the phase of each added syscall NEW allows in one
	// phase only ("init"): a widening of that phase alone.
	Phases map[string]Phase `json:"phases,omitempty"`
	// Transition is "OLD -> NEW" when the rule that ends init changed (a
	// profile without phases has none).
	Transition string `json:"transition,omitempty"`
}

// Change describes one syscall whose rules changed.
type Change struct {
	Name    string   `json:"name"`
	Old     []string `json:"old"` // entries in symbolic form
	New     []string `json:"new"`
	Widened []string `json:"widened,omitempty"` // what NEW allows beyond OLD
	// Tier is the risk tier of the widening (empty when nothing widened).
	Tier string `json:"tier,omitempty"`
	// Phase is "init" when NEW allows the syscall in init only: what
	// widened, widened that phase alone.
	Phase Phase `json:"phase,omitempty"`
}

// raise records that NEW allows something beyond OLD at tier t.
func (d *Delta) raise(t policy.Tier) {
	d.Widens = true
	if cur, err := policy.ParseTier(d.Tier); err != nil || t > cur {
		d.Tier = t.String()
	}
}

// WidensAt reports whether NEW allows something beyond OLD at tier t or
// above: WidensAt(policy.Ordinary) is Widens.
func (d *Delta) WidensAt(t policy.Tier) bool {
	cur, err := policy.ParseTier(d.Tier)
	return d.Widens && err == nil && cur >= t
}

// Diff compares two profiles. Allowed values are compared per argument,
// as the reducer generalises them.
func Diff(old, new *Profile) *Delta {
	d := &Delta{Added: []string{}, Removed: []string{}, Changed: []Change{}}
	for _, a := range new.Arch {
		if !slices.Contains(old.Arch, a) {
			d.Arch = append(d.Arch, "+"+a)
			d.raise(policy.Sensitive) // every allowed syscall through another ABI
		}
	}
	for _, a := range old.Arch {
		if !slices.Contains(new.Arch, a) {
			d.Arch = append(d.Arch, "-"+a)
		}
	}
	if old.DefaultAction != new.DefaultAction {
		d.DefaultAction = old.DefaultAction.String() + " -> " + new.DefaultAction.String()
		if allows(new.DefaultAction) && !allows(old.DefaultAction) {
			d.raise(policy.Critical) // every syscall, ptrace and bpf included
		}
	}
	if d.Landlock = diffLandlock(old, new); len(d.Landlock) > 0 {
		d.raise(policy.Ordinary)
	}
	if dropped := droppedScopes(old, new); len(dropped) > 0 {
		// The program reaches other processes again: more than one
		// more file.
		d.Landlock = append(d.Landlock, dropped...)
		d.raise(policy.Sensitive)
	}
	diffTransition(d, old, new)
	withheld := map[string]string{}
	for _, w := range old.NotAllowed {
		withheld[w.Name] = w.Reason
	}
	perArch := len(unionArches(old, new)) > 1
	oldBy, newBy := diffEntries(old, perArch), diffEntries(new, perArch)
	names := map[string]bool{}
	for n := range oldBy {
		names[n] = true
	}
	for n := range newBy {
		names[n] = true
	}
	for _, n := range slices.Sorted(maps.Keys(names)) {
		o, nw := oldBy[n], newBy[n]
		switch {
		case len(o) == 0 && !allows(old.DefaultAction):
			d.Added = append(d.Added, n)
			t := policy.Ordinary
			for _, s := range nw {
				et, _ := EntryTier(s)
				t = max(t, et)
			}
			d.raise(t)
			if d.Tiers == nil {
				d.Tiers = map[string]string{}
			}
			d.Tiers[n] = t.String()
			if initOnly(nw) {
				if d.Phases == nil {
					d.Phases = map[string]Phase{}
				}
				d.Phases[n] = PhaseInit
			}
			if why, ok := withheld[nw[0].Name]; ok {
				if d.Withheld == nil {
					d.Withheld = map[string]string{}
				}
				d.Withheld[n] = why
			}
		case len(nw) == 0 && !allows(new.DefaultAction):
			d.Removed = append(d.Removed, n)
		default:
			oldText, newText := callTexts(o), callTexts(nw)
			if slices.Equal(oldText, newText) {
				continue
			}
			w, t := widening(o, nw)
			c := Change{Name: n, Old: oldText, New: newText, Widened: w}
			if initOnly(o) && !initOnly(nw) {
				// What init alone could make, serving can now: the
				// widening is the whole entry's.
				c.Widened = append(c.Widened, "phase: init only -> every phase")
				for _, s := range nw {
					et, _ := EntryTier(s)
					t = max(t, et)
				}
			} else if ow, nww := everyPhase(o), everyPhase(nw); len(ow) > 0 && len(nww) > 0 {
				// Serving sees the entries for every phase only: what
				// they allow beyond OLD's (an init value now for every
				// phase) is a widening there, though init allowed it.
				sw, st := widening(ow, nww)
				for _, x := range sw {
					if !slices.Contains(c.Widened, x) {
						c.Widened = append(c.Widened, "serving: "+x)
						t = max(t, st)
					}
				}
			}
			if initOnly(nw) {
				c.Phase = PhaseInit
			}
			if len(c.Widened) > 0 {
				c.Tier = t.String()
				d.raise(t)
			}
			d.Changed = append(d.Changed, c)
		}
	}
	return d
}

// unionArches lists the arches of a and b, resolved.
func unionArches(a, b *Profile) []*linuxabi.Arch {
	var out []*linuxabi.Arch
	for _, name := range slices.Concat(a.Arch, b.Arch) {
		if arch, err := linuxabi.LookupArch(name); err == nil && !slices.Contains(out, arch) {
			out = append(out, arch)
		}
	}
	return out
}

// diffEntries returns the allowing entries of p by the key Diff compares
// them under: the name when the two profiles list one arch between
// them; else "arch:name", an entry without arch counted under each of
// p's arches whose table has the name (an x86_64 profile's socket and
// the x86_64 entry of an x86_64+i386 profile are the same allowance).
func diffEntries(p *Profile, perArch bool) map[string][]Syscall {
	m := map[string][]Syscall{}
	for _, s := range p.Syscalls {
		if !allows(s.EffectiveAction()) {
			continue
		}
		if !perArch {
			m[s.Name] = append(m[s.Name], s)
			continue
		}
		for _, name := range p.Arch {
			a, err := linuxabi.LookupArch(name)
			if err != nil || !s.AppliesTo(a) {
				continue
			}
			if _, ok := a.Number(s.Name); !ok {
				continue
			}
			e := s
			e.Arch = a.Name
			m[e.Key()] = append(m[e.Key()], e)
		}
	}
	return m
}

// everyPhase returns the entries of ss for every phase: what a serving
// process is allowed.
func everyPhase(ss []Syscall) []Syscall {
	return slices.DeleteFunc(slices.Clone(ss), func(s Syscall) bool { return s.Phase == PhaseInit })
}

// initOnly reports whether the allowing entries ss of one syscall allow
// it in the init phase only.
func initOnly(ss []Syscall) bool {
	return len(ss) > 0 && !slices.ContainsFunc(ss, func(s Syscall) bool { return s.Phase != PhaseInit })
}

// diffTransition records a change of the rule that ends init: when NEW
// has init entries, each of them may now last longer, a widening at the
// highest of their tiers.
func diffTransition(d *Delta, old, new *Profile) {
	describe := func(p *Profile) string {
		if p.Phases == nil {
			return "none"
		}
		return p.Phases.Transition.String()
	}
	switch {
	case old.Phases == nil && new.Phases == nil:
		return
	case old.Phases != nil && new.Phases != nil && old.Phases.Transition.Equal(new.Phases.Transition):
		return
	}
	d.Transition = describe(old) + " -> " + describe(new)
	if old.Phases == nil {
		return // NEW takes init powers from serving processes, OLD never did
	}
	for _, s := range new.Syscalls {
		if s.Phase == PhaseInit {
			t, _ := EntryTier(s)
			d.raise(t)
		}
	}
}

func callTexts(ss []Syscall) []string {
	var out []string
	for _, s := range ss {
		text := FormatCall(s) + " " + s.EffectiveAction().String()
		if s.Phase == PhaseInit {
			text += " (init)"
		}
		out = append(out, text)
	}
	sort.Strings(out)
	return out
}

// widening lists what the allowing entries nw of one syscall allow that
// o does not, and its tier (changeTier). For a syscall whose arguments
// are keyed (policy.KeyOf) it compares per key value: at each value the
// key rule of some entry of nw lists, the entries of nw there against
// those of o there (and o's entries that leave the key open), so an
// option allowed at another level than before is a widening even when
// OLD allowed it at some level and the level with some option.
func widening(o, nw []Syscall) ([]string, policy.Tier) {
	if len(o) == 0 || len(nw) == 0 {
		// A side without allowing entries decides every call of the
		// syscall by its default, which allows (Diff's other cases):
		// OLD allowed all NEW does, or the default's change says it.
		return nil, policy.Ordinary
	}
	key, _, ok := policy.KeyOf(nw[0].Name)
	if !ok {
		return widened(o, nw), changeTier(o, nw)
	}
	name := nw[0].Name
	spec, _ := policy.LookupArg(name, key)
	oBy, oOpen := keyedParts(o, key)
	nBy, nOpen := keyedParts(nw, key)
	var out []string
	t, _ := policy.TierOf(name)
	if len(nOpen) > 0 {
		out = append(out, widened(o, nOpen)...)
		t = max(t, changeTier(o, nOpen))
	}
	for _, k := range slices.Sorted(maps.Keys(nBy)) {
		at := linuxabi.Symbolize(spec.Consts, k, false)
		olds := slices.Concat(oBy[k], oOpen)
		if len(olds) == 0 {
			// A new key value: its tier is that of the values it adds,
			// the key's and those OLD allowed at no key value.
			out = append(out, spec.Name+": +"+at)
			t = max(t, changeTier(o, nBy[k]))
			continue
		}
		for _, w := range widened(olds, nBy[k]) {
			out = append(out, "at "+spec.Name+" "+at+": "+w)
		}
		t = max(t, changeTier(olds, nBy[k]))
	}
	return out, t
}

// keyedParts takes entries apart per value of their "in" rule on
// argument key that looks at every bit (each part has that one value);
// open are the entries with no such rule, whose key values are not a
// list.
func keyedParts(ss []Syscall, key int) (byKey map[uint64][]Syscall, open []Syscall) {
	byKey = map[uint64][]Syscall{}
	for _, s := range ss {
		r, ok := ruleAt(s, key)
		if !ok || r.Op != OpIn || r.Mask != 0 {
			open = append(open, s)
			continue
		}
		for _, v := range r.Values {
			part := s
			part.Args = slices.Clone(s.Args)
			for i := range part.Args {
				if part.Args[i].Index == key {
					part.Args[i].Values = []uint64{v}
				}
			}
			byKey[v] = append(byKey[v], part)
		}
	}
	return byKey, open
}

// widened lists, per argument, what nw allows that o does not.
func widened(o, nw []Syscall) []string {
	oj, nj := joinAllowing(o), joinAllowing(nw)
	name := oj.Name
	var out []string
	for _, nr := range nj.Args {
		or, ok := ruleAt(oj, nr.Index)
		spec, _ := policy.LookupArg(name, nr.Index)
		label := spec.Name
		if label == "" {
			label = fmt.Sprintf("arg%d", nr.Index)
		}
		if !ok || or.Covers(nr, nj.Width(nr)) {
			continue // OLD allowed every value NEW does
		}
		switch {
		case nr.Op == OpIn && or.Op == OpIn && nr.Mask == or.Mask:
			var added []string
			for _, v := range nr.Values {
				if !slices.Contains(or.Values, v) {
					added = append(added, linuxabi.Symbolize(spec.Consts, v, spec.Kind == linuxabi.KindFlags))
				}
			}
			if len(added) > 0 {
				out = append(out, label+": +"+strings.Join(added, ", +"))
			}
		case nr.Op == OpSubset && or.Op == OpSubset:
			if extra := nr.Mask &^ or.Mask; extra != 0 {
				out = append(out, label+": +"+linuxabi.Symbolize(spec.Consts, extra, true))
			}
		case nr.Op == OpRange && or.Op == OpRange:
			if nr.Min < or.Min || nr.Max > or.Max {
				out = append(out, fmt.Sprintf("%s: %d..%d (was %d..%d)", label, nr.Min, nr.Max, or.Min, or.Max))
			}
		default:
			out = append(out, label+": "+FormatRule(name, nr)+" (was "+FormatRule(name, or)+")")
		}
	}
	for _, or := range oj.Args {
		if _, ok := ruleAt(nj, or.Index); !ok {
			spec, _ := policy.LookupArg(name, or.Index)
			out = append(out, fmt.Sprintf("%s: no longer constrained (was %s)", spec.Name, FormatRule(name, or)))
		}
	}
	return out
}

// changeTier is the risk tier of what nw allows beyond o: the syscall's
// own tier (more of a critical syscall is critical), raised by the tier
// of the argument values newly let through.
func changeTier(o, nw []Syscall) policy.Tier {
	oj, nj := joinAllowing(o), joinAllowing(nw)
	name := oj.Name
	t, _ := policy.TierOf(name)
	for _, spec := range policy.RecordedArgs(name) {
		or, ok := ruleAt(oj, spec.Index)
		if !ok {
			continue // OLD let every value through already
		}
		width := oj.Width(or)
		if nr, ok := ruleAt(nj, spec.Index); ok {
			wt, _ := widenedTier(spec, or, nr, width)
			t = max(t, wt)
			continue
		}
		// No longer constrained: every value, including the tiered ones.
		mt, _ := spec.MaxTier()
		if ot, _ := ruleTier(spec, or, width); mt > ot {
			t = max(t, mt)
		}
	}
	return t
}

// Text prints d for humans.
func (d *Delta) Text() string {
	var b strings.Builder
	for _, a := range d.Arch {
		fmt.Fprintf(&b, "arch %s\n", a)
	}
	if d.DefaultAction != "" {
		fmt.Fprintf(&b, "default action: %s\n", d.DefaultAction)
	}
	if d.Transition != "" {
		fmt.Fprintf(&b, "phases: serving starts %s\n", d.Transition)
	}
	for _, n := range d.Added {
		fmt.Fprintf(&b, "+ %s (%s", n, d.Tiers[n])
		if ph := d.Phases[n]; ph != "" {
			fmt.Fprintf(&b, ", %s phase only", ph)
		}
		b.WriteString(")")
		if why, ok := d.Withheld[n]; ok {
			fmt.Fprintf(&b, " — OLD withheld it: %s", why)
		}
		b.WriteString("\n")
	}
	for _, n := range d.Removed {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	for _, c := range d.Changed {
		if c.Tier != "" && c.Phase != "" {
			fmt.Fprintf(&b, "~ %s (%s, %s phase only)\n", c.Name, c.Tier, c.Phase)
		} else if c.Tier != "" {
			fmt.Fprintf(&b, "~ %s (%s)\n", c.Name, c.Tier)
		} else {
			fmt.Fprintf(&b, "~ %s\n", c.Name)
		}
		for _, o := range c.Old {
			fmt.Fprintf(&b, "    - %s\n", o)
		}
		for _, n := range c.New {
			fmt.Fprintf(&b, "    + %s\n", n)
		}
		for _, w := range c.Widened {
			fmt.Fprintf(&b, "    widened %s\n", w)
		}
	}
	for _, l := range d.Landlock {
		fmt.Fprintf(&b, "landlock %s\n", l)
	}
	if b.Len() == 0 {
		b.WriteString("no differences\n")
	}
	return b.String()
}
