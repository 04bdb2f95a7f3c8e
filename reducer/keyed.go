package reducer

import (
	"maps"
	"slices"

	"github.com/sysrec/sysrec/policy"
	"github.com/sysrec/sysrec/profiles"
)

// ruleBuilder makes the rules of a group's entry from the values the
// group holds; ok is false when a risky argument would be left open
// for want of values or a class.
type ruleBuilder func(g *group) (rules []profiles.ArgRule, note string, ok bool)

// exactRules is the ruleBuilder of the exact level.
func exactRules(maxValues int) ruleBuilder {
	return func(g *group) ([]profiles.ArgRule, string, bool) {
		rules, note := rules(g, maxValues)
		return rules, note, true
	}
}

// relaxedRules is the ruleBuilder of the levels above exact, for a
// syscall outside any family.
func relaxedRules(maxValues int) ruleBuilder {
	return func(g *group) ([]profiles.ArgRule, string, bool) {
		return riskRules(g.name, ownValues(g), maxValues)
	}
}

// keyedEntries returns the entries of g's syscall that allow what s
// (g's entry before any rule) stands for: one entry with the rules
// build gives, or, for a syscall with keyed arguments (policy.KeyOf),
// one entry per set of key values whose keyed arguments get the same
// rules. Rules on the keyed arguments come from the values seen at
// those key values only, so no entry allows a keyed value at a key
// value no run paired it with (SOL_IPV6 with TCP_NODELAY's number is
// IPV6_ADDRFORM). Above the exact level (relaxed), the key's safe values
// get entries of their own from the keyed arguments' safe classes, and
// each key value adds its safe values (policy.Arg.SafeAt). The first
// entry carries s's counts. There are at most as many entries as the
// key rule has values, which build bounds.
func keyedEntries(g *group, s profiles.Syscall, build ruleBuilder, relaxed bool) []profiles.Syscall {
	s.Args, s.Note, _ = build(g)
	key, keyed, ok := policy.KeyOf(g.name)
	kr, found := ruleOn(s.Args, key)
	if !ok || !found || kr.Op != profiles.OpIn {
		return []profiles.Syscall{s} // no keys, or the key is open: every value anyway
	}
	keys := slices.Collect(maps.Keys(g.byKey))
	if relaxed {
		spec, _ := policy.LookupArg(g.name, key)
		for _, k := range spec.SafeValues {
			if g.byKey[k] == nil {
				keys = append(keys, k)
			}
		}
	}
	if len(keys) == 0 {
		return []profiles.Syscall{s}
	}
	slices.Sort(keys)
	type part struct {
		keys []uint64
		args []profiles.ArgRule // without the key's rule
		note string
	}
	var parts []*part
	for _, k := range keys {
		v := keyView(g, g.byKey[k], key, keyed)
		if relaxed {
			addSafeAt(v, k, keyed)
		}
		args, note, ok := build(v)
		if !ok {
			continue // a safe key value whose keyed arguments have no class
		}
		args = slices.DeleteFunc(args, func(r profiles.ArgRule) bool { return r.Index == key })
		i := slices.IndexFunc(parts, func(p *part) bool { return slices.EqualFunc(p.args, args, profiles.ArgRule.Equal) })
		if i < 0 {
			parts = append(parts, &part{args: args, note: note})
			i = len(parts) - 1
		}
		parts[i].keys = append(parts[i].keys, k)
	}
	var out []profiles.Syscall
	for i, p := range parts {
		e := s
		if i > 0 {
			e.Count, e.Seen, e.Errors, e.Runs = 0, nil, nil, 0
		}
		r := kr
		r.Values = p.keys
		e.Args = append([]profiles.ArgRule{r}, p.args...)
		e.Note = p.note
		out = append(out, e)
	}
	return out
}

// keyView is g with the values of the key and the keyed arguments
// those of sub (the calls at some key values; nil: none).
func keyView(g, sub *group, key int, keyed []int) *group {
	v := &group{name: g.name, arch: g.arch, values: maps.Clone(g.values), flagSet: maps.Clone(g.flagSet)}
	for _, i := range append([]int{key}, keyed...) {
		delete(v.values, i)
		delete(v.flagSet, i)
		if sub != nil {
			if vals, ok := sub.values[i]; ok {
				v.values[i], v.flagSet[i] = vals, sub.flagSet[i]
			}
		}
	}
	return v
}

// addSafeAt adds to view v of the calls at key value k the safe values
// of the keyed arguments there, as if seen.
func addSafeAt(v *group, k uint64, keyed []int) {
	for _, i := range keyed {
		spec, _ := policy.LookupArg(v.name, i)
		if len(spec.SafeAt[k]) == 0 {
			continue
		}
		vals := maps.Clone(v.values[i])
		if vals == nil {
			vals = map[uint64]bool{}
		}
		for _, x := range spec.SafeAt[k] {
			vals[x] = true
			v.flagSet[i] |= x
		}
		v.values[i] = vals
	}
}

// ruleOn returns the one rule on argument index of rules.
func ruleOn(rules []profiles.ArgRule, index int) (profiles.ArgRule, bool) {
	var found []profiles.ArgRule
	for _, r := range rules {
		if r.Index == index {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		return profiles.ArgRule{}, false
	}
	return found[0], true
}

// withHarmlessNote adds to the first of es, g's entries above the exact
// level, what its harmless arguments did, when it lists no tuples.
func withHarmlessNote(es []profiles.Syscall, g *group) []profiles.Syscall {
	if es[0].Seen == nil {
		es[0].Note = joinNotes(es[0].Note, harmlessNote(g))
	}
	return es
}
