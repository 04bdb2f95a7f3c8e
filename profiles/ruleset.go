package profiles

import (
	"math/bits"
	"slices"

	"github.com/sysrec/sysrec/linuxabi"
)

// The set algebra of argument rules: a rule is the set of values it
// accepts, written exactly as a union of cubes (masked equalities), and
// the rules of an entry as a union of terms (one cube per argument).
// OCI lowering (whose entries are unordered and OR two comparisons of
// one argument), the runtime setup calls emit adds (RulesImply,
// UnionRules) and the tiers of the values a rule lets through
// (EntryTier) all answer their questions here, so a rule means one set
// everywhere.

// Cube is one masked equality on an argument: (arg & Mask) == Value,
// Value within Mask. A zero Mask matches every value.
type Cube struct{ Mask, Value uint64 }

// And is the intersection of a and b; false when it is empty.
func (a Cube) And(b Cube) (Cube, bool) {
	if (a.Value^b.Value)&a.Mask&b.Mask != 0 {
		return Cube{}, false
	}
	return Cube{a.Mask | b.Mask, a.Value | b.Value}, true
}

// Contains reports whether every value of b is in a.
func (a Cube) Contains(b Cube) bool { return a.Mask&^b.Mask == 0 && b.Value&a.Mask == a.Value }

// Term is a conjunction of one cube per argument.
type Term [6]Cube

// And is the intersection of t and u; false when it is empty.
func (t Term) And(u Term) (Term, bool) {
	for i := range t {
		c, ok := t[i].And(u[i])
		if !ok {
			return Term{}, false
		}
		t[i] = c
	}
	return t, true
}

// Contains reports whether every call u matches t matches.
func (t Term) Contains(u Term) bool {
	for k := range t {
		if !t[k].Contains(u[k]) {
			return false
		}
	}
	return true
}

// Cubes is the set of values r accepts at width bits, as a union of
// cubes.
func (r ArgRule) Cubes(width int) []Cube {
	wm := linuxabi.WidthMask(width)
	switch r.Op {
	case OpIn:
		m := r.ValueMask(width)
		var out []Cube
		for _, v := range r.Values {
			if v&^m == 0 { // a value with bits outside the mask never matches
				out = append(out, Cube{m, v})
			}
		}
		return MergeCubes(out)
	case OpSubset:
		return []Cube{{r.Forbidden(width), 0}}
	case OpRange:
		return rangeCubes(r.Min, min(r.Max, wm), wm)
	}
	return nil
}

// rangeCubes splits lo..hi (both within wm) into aligned power-of-two
// blocks, at most two per bit.
func rangeCubes(lo, hi, wm uint64) []Cube {
	if lo > hi {
		return nil
	}
	if lo == 0 && hi == wm {
		return []Cube{{}}
	}
	var out []Cube
	for {
		k := 0 // the largest block that starts at lo and ends by hi
		for k < 63 {
			size := uint64(1) << (k + 1)
			if lo&(size-1) != 0 || lo+size-1 > hi || lo+size-1 < lo {
				break
			}
			k++
		}
		size := uint64(1) << k
		out = append(out, Cube{wm &^ (size - 1), lo})
		end := lo + size - 1
		if end >= hi {
			return out
		}
		lo = end + 1
	}
}

// MergeCubes joins cubes that differ in one bit of equal masks, and
// drops cubes another contains, until none do: the same set, in fewer
// comparisons (rt_sigaction's 62 signals are 10 blocks).
func MergeCubes(cs []Cube) []Cube {
	for {
		merged := false
		for i := 0; i < len(cs) && !merged; i++ {
			for j := i + 1; j < len(cs); j++ {
				d := cs[i].Value ^ cs[j].Value
				if cs[i].Mask == cs[j].Mask && d&(d-1) == 0 && d != 0 {
					cs[i] = Cube{cs[i].Mask &^ d, cs[i].Value &^ d}
					cs = append(cs[:j], cs[j+1:]...)
					merged = true
					break
				}
				if cs[i].Contains(cs[j]) {
					cs = append(cs[:j], cs[j+1:]...)
					merged = true
					break
				}
				if cs[j].Contains(cs[i]) {
					cs = append(cs[:i], cs[i+1:]...)
					merged = true
					break
				}
			}
		}
		if !merged {
			return cs
		}
	}
}

// ComplementCubes is the set of values in none of cs, as disjoint
// cubes that test only bits cs test (so an int argument's complement
// leaves its upper half alone): split on those bits, highest first (a
// range's blocks are prefixes), until each piece is inside a cube or
// outside all. False when that takes more than maxSplits pieces.
func ComplementCubes(cs []Cube) ([]Cube, bool) {
	var tested uint64
	for _, c := range cs {
		tested |= c.Mask
	}
	var out []Cube
	budget := maxSplits
	var split func(piece Cube) bool
	split = func(piece Cube) bool {
		if budget--; budget < 0 {
			return false
		}
		inter := false
		for _, c := range cs {
			if c.Contains(piece) {
				return true
			}
			if _, ok := c.And(piece); ok {
				inter = true
			}
		}
		if !inter {
			out = append(out, piece)
			return true
		}
		free := tested &^ piece.Mask
		b := uint64(1) << (63 - bits.LeadingZeros64(free))
		return split(Cube{piece.Mask | b, piece.Value}) && split(Cube{piece.Mask | b, piece.Value | b})
	}
	if !split(Cube{}) {
		return nil, false
	}
	return MergeCubes(out), true
}

// maxSplits bounds the work of one complement.
const maxSplits = 1 << 14

// RulesTerms is the set of calls of syscall name that rules (ANDed, as
// an entry's) accept, as a union of terms (none: it accepts nothing);
// false when there would be more than max.
func RulesTerms(name string, rules []ArgRule, max int) ([]Term, bool) {
	terms := []Term{{}}
	for _, r := range rules {
		var next []Term
		for _, t := range terms {
			for _, c := range r.Cubes(WidthOf(name, r)) {
				var u Term
				u[r.Index] = c
				if v, ok := t.And(u); ok {
					next = append(next, v)
				}
			}
			if len(next) > max {
				return nil, false
			}
		}
		terms = next
	}
	return terms, true
}

// NegTerms is the complement of what rules accept, as a union of terms
// each constraining one argument; false when it is too large to compute.
func NegTerms(name string, rules []ArgRule) ([]Term, bool) {
	// Rules on one argument intersect first: the complement of their
	// intersection, per argument, ORed over the arguments.
	perArg := map[int][]Cube{}
	var order []int
	for _, r := range rules {
		cs := r.Cubes(WidthOf(name, r))
		if prev, ok := perArg[r.Index]; ok {
			var both []Cube
			for _, a := range prev {
				for _, b := range cs {
					if c, ok := a.And(b); ok {
						both = append(both, c)
					}
				}
			}
			cs = both
		} else {
			order = append(order, r.Index)
		}
		perArg[r.Index] = cs
	}
	var out []Term
	for _, i := range order {
		cs, ok := ComplementCubes(perArg[i])
		if !ok {
			return nil, false
		}
		for _, c := range cs {
			var t Term
			t[i] = c
			out = append(out, t)
		}
	}
	return out, true
}

// MergeTerms joins terms equal but for one argument whose cubes merge,
// and drops terms another contains.
func MergeTerms(ts []Term) []Term {
	for {
		merged := false
	scan:
		for i := range ts {
			for j := range ts {
				if i == j {
					continue
				}
				if ts[i].Contains(ts[j]) {
					ts = append(ts[:j], ts[j+1:]...)
					merged = true
					break scan
				}
				diff := -1
				for k := range ts[i] {
					if ts[i][k] != ts[j][k] {
						if diff >= 0 {
							diff = -2
							break
						}
						diff = k
					}
				}
				if diff < 0 {
					continue
				}
				a, b := ts[i][diff], ts[j][diff]
				d := a.Value ^ b.Value
				if a.Mask == b.Mask && d != 0 && d&(d-1) == 0 {
					ts[i][diff] = Cube{a.Mask &^ d, a.Value &^ d}
					ts = append(ts[:j], ts[j+1:]...)
					merged = true
					break scan
				}
			}
		}
		if !merged {
			return ts
		}
	}
}

// maxImplyTerms bounds the terms RulesImply computes; beyond it the
// answer is no, which costs its callers an entry that was not needed.
const maxImplyTerms = 256

// RulesImply reports whether every call of syscall name that rules a
// accept is accepted by rules b: none of a's calls is in b's complement.
func RulesImply(name string, a, b []ArgRule) bool {
	ta, ok := RulesTerms(name, a, maxImplyTerms)
	if !ok {
		return false
	}
	nb, ok := NegTerms(name, b)
	if !ok {
		return false
	}
	for _, t := range ta {
		for _, n := range nb {
			if _, ok := t.And(n); ok {
				return false
			}
		}
	}
	return true
}

// UnionRules is the rules of one entry that accepts every call a or b
// accepts and nothing more, when there is such an entry: one of them
// unconditional, or one "in" rule each on the same argument and mask.
func UnionRules(name string, a, b []ArgRule) ([]ArgRule, bool) {
	switch {
	case len(a) == 0 || len(b) == 0:
		return nil, true
	case len(a) == 1 && len(b) == 1 && a[0].Op == OpIn && b[0].Op == OpIn && a[0].Index == b[0].Index && a[0].Mask == b[0].Mask:
		r := a[0]
		r.Values = slices.Clone(r.Values)
		joined := joinRule(&r, b[0], WidthOf(name, r), WidthOf(name, b[0]))
		return []ArgRule{r}, joined
	}
	return nil, false
}
