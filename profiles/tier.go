package profiles

import (
	"math/bits"
	"slices"

	"github.com/sysrec/sysrec/linuxabi"
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
		if unread(s, spec) {
			continue
		}
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

// unread reports whether entry s allows no call in which the kernel
// reads argument spec (spec.Read: open's mode, when s's flags rule
// allows neither O_CREAT nor O_TMPFILE): whatever it lets through there
// is never looked at.
func unread(s Syscall, spec policy.Arg) bool {
	if spec.Read == nil {
		return false
	}
	r, ok := ruleAt(s, spec.Read.Index)
	if !ok {
		return false
	}
	for _, c := range r.Cubes(s.Width(r)) {
		if spec.Read.Bits&^c.Mask != 0 || c.Value&spec.Read.Bits != 0 {
			return false
		}
	}
	return true
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

// ruleReaches reports whether some value r allows (at width bits)
// matches vt, in the set algebra of rules: r's cubes meet vt's in a
// value vt does not except. It errs towards yes where the complement of
// vt's values would be too large to compute: a tier shown too high is
// reviewed, one shown too low is missed.
func ruleReaches(r ArgRule, vt policy.ValueTier, width int) bool {
	wm := linuxabi.WidthMask(width)
	vm := vt.Mask
	if vm == 0 {
		vm = wm
	}
	vm &= wm
	var tier []Cube
	for _, v := range vt.Values {
		if v&^vm == 0 {
			tier = append(tier, Cube{vm, v})
		}
	}
	if vt.Not {
		var ok bool
		if tier, ok = ComplementCubes(tier); !ok {
			return true
		}
	}
	for _, c := range r.Cubes(width) {
		for _, t := range tier {
			if x, ok := c.And(t); ok && !excepted(x, vt.Except, wm) {
				return true
			}
		}
	}
	return false
}

// excepted reports whether every value of c (at the width wm masks) is
// one of except.
func excepted(c Cube, except []uint64, wm uint64) bool {
	free := bits.OnesCount64(wm &^ c.Mask)
	if free >= 63 {
		return false
	}
	in := map[uint64]bool{}
	for _, e := range except {
		if e&^wm == 0 && e&c.Mask == c.Value {
			in[e] = true
		}
	}
	return len(in) >= 1<<free
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
