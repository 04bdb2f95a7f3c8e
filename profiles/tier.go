package profiles

import (
	"math/bits"
	"slices"

	"github.com/sysrec/sysrec/policy"
)

// EntryTier is the highest risk tier of the calls entry s allows: the
// syscall's own tier, raised by any argument value it lets through that
// the argument table tiers (socket(AF_PACKET), clone(CLONE_NEWUSER),
// ioctl(TIOCSTI)). An argument without a rule lets every value through.
// The reason names what decided it ("" for ordinary).
func EntryTier(s Syscall) (policy.Tier, string) {
	best, why := policy.TierOf(s.Name)
	for _, spec := range policy.RecordedArgs(s.Name) {
		var t policy.Tier
		var w string
		if r, ok := ruleAt(s, spec.Index); ok {
			t, w = ruleTier(spec, r, s.Width(r))
		} else if hasRuleAt(s, spec.Index) {
			continue // several rules ANDed: at most what the first allows
		} else {
			t, w = spec.MaxTier()
		}
		if t > best {
			best, why = t, spec.Name+": "+w
		}
	}
	return best, why
}

func hasRuleAt(s Syscall, index int) bool {
	return slices.ContainsFunc(s.Args, func(r ArgRule) bool { return r.Index == index })
}

// ruleTier is the highest value tier among the values r lets through.
func ruleTier(spec policy.Arg, r ArgRule, width int) (policy.Tier, string) {
	best, why := policy.Ordinary, ""
	for _, vt := range spec.Tiers {
		if vt.Tier > best && ruleReaches(r, vt, width) {
			best, why = vt.Tier, vt.Why
		}
	}
	return best, why
}

// ruleReaches reports whether some value r allows matches vt. It errs
// towards yes where the answer would need an enumeration too large to
// make: a tier shown too high is reviewed, one shown too low is missed.
func ruleReaches(r ArgRule, vt policy.ValueTier, width int) bool {
	all := ^uint64(0)
	if width == 32 {
		all = 0xffffffff
	}
	vm := vt.Mask
	if vm == 0 {
		vm = all
	}
	vm &= all
	switch r.Op {
	case OpIn:
		rm := r.ValueMask(width)
		free := all &^ rm // bits the rule does not look at
		for _, v := range r.Values {
			if vt.Not {
				if free&vm != 0 || (!slices.Contains(vt.Values, v&vm) && !slices.Contains(vt.Except, v)) {
					return true
				}
				continue
			}
			for _, tv := range vt.Values {
				if tv&vm&rm == v&vm&rm {
					return true
				}
			}
		}
		return false
	case OpSubset:
		allowed := r.Mask & all
		if !vt.Not {
			for _, tv := range vt.Values {
				if tv&vm&^allowed == 0 {
					return true
				}
			}
			return false
		}
		sub := allowed & vm
		if bits.OnesCount64(sub) > 12 {
			return true
		}
		// Every value of the allowed bits under vm, 0 included.
		for x := sub; ; x = (x - 1) & sub {
			if !slices.Contains(vt.Values, x) {
				return true
			}
			if x == 0 {
				return false
			}
		}
	}
	return true // range rules: not produced by the reducer; assume the worst
}

// widenedTier is the tier of what NEW's rule nr allows beyond OLD's rule
// or (nil when OLD had none, which no widening can pass).
func widenedTier(spec policy.Arg, or, nr ArgRule, width int) (policy.Tier, string) {
	switch {
	case nr.Op == OpIn && or.Op == OpIn && nr.Mask == or.Mask:
		added := nr
		added.Values = nil
		for _, v := range nr.Values {
			if !slices.Contains(or.Values, v) {
				added.Values = append(added.Values, v)
			}
		}
		if len(added.Values) == 0 {
			return policy.Ordinary, ""
		}
		return ruleTier(spec, added, width)
	case nr.Op == OpSubset && or.Op == OpSubset:
		extra := nr.Mask &^ or.Mask
		if extra == 0 {
			return policy.Ordinary, ""
		}
		// A new value sets at least one extra bit: its tier is at most
		// that of the new rule, and a tier the old rule could not
		// reach is certainly new.
		nt, nw := ruleTier(spec, nr, width)
		ot, _ := ruleTier(spec, or, width)
		et, ew := ruleTier(spec, ArgRule{Op: OpSubset, Mask: extra}, width)
		if et > policy.Ordinary {
			return et, ew
		}
		if nt > ot {
			return nt, nw
		}
		return policy.Ordinary, ""
	}
	nt, nw := ruleTier(spec, nr, width)
	if ot, _ := ruleTier(spec, or, width); nt > ot {
		return nt, nw
	}
	return policy.Ordinary, ""
}
