package profiles

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"

	"github.com/sysrec/sysrec/linuxabi"
)

// Op is an argument comparison.
type Op string

const (
	// In: (arg & Mask) is one of Values. Mask 0 means every bit of the
	// argument's width.
	OpIn Op = "in"
	// Subset: arg has no bit set outside Mask (flags ⊆ Mask).
	OpSubset Op = "subset"
	// Range: Min <= arg <= Max, unsigned.
	OpRange Op = "range"
)

// ArgRule constrains one argument. Comparisons use the argument's width:
// 32-bit (C int) arguments compare their low 32 bits only, because the
// kernel does not promise how the upper half of a register holding an int
// is filled (AT_FDCWD arrives both sign-extended and not).
type ArgRule struct {
	Index  int      `json:"index"`
	Op     Op       `json:"op"`
	Mask   uint64   `json:"mask,omitempty"`
	Values []uint64 `json:"values,omitempty"`
	Min    uint64   `json:"min,omitempty"`
	Max    uint64   `json:"max,omitempty"`
	// Width is 32 or 64; 0 means take it from the argument table (64
	// for arguments the table does not know).
	Width int `json:"width,omitempty"`
}

// WidthOf returns the width in bits that rule r on syscall uses.
func WidthOf(syscall string, r ArgRule) int {
	if r.Width != 0 {
		return r.Width
	}
	if spec, ok := linuxabi.LookupArg(syscall, r.Index); ok {
		return spec.Width
	}
	return 64
}

// ArchWidth is WidthOf for a call of arch: a 32-bit ABI's arguments are
// 32 bits wide whatever the table says, since the kernel reads only the
// low half of the registers, whatever the high half of seccomp_data
// holds (an x86_64 process making int $0x80 calls sets the whole
// registers).
func ArchWidth(arch *linuxabi.Arch, syscall string, r ArgRule) int {
	return min(WidthOf(syscall, r), arch.Bits())
}

// Width is the width of rule r of s: ArchWidth on s's arch, when it
// names one, else WidthOf.
func (s Syscall) Width(r ArgRule) int {
	if a, err := linuxabi.LookupArch(s.Arch); s.Arch != "" && err == nil {
		return ArchWidth(a, s.Name, r)
	}
	return WidthOf(s.Name, r)
}

// ValueMask is the mask an "in" rule applies at width bits: Mask, or
// every bit of the argument when Mask is 0.
func (r ArgRule) ValueMask(width int) uint64 {
	m := r.Mask
	if m == 0 {
		m = ^uint64(0)
	}
	return m & linuxabi.WidthMask(width)
}

// Forbidden is the set of bits a "subset" rule forbids at width bits (a
// 32-bit argument's high word is never looked at).
func (r ArgRule) Forbidden(width int) uint64 {
	return ^r.Mask & linuxabi.WidthMask(width)
}

// Match reports whether the argument value v satisfies r at width bits.
func (r ArgRule) Match(v uint64, width int) bool {
	v &= linuxabi.WidthMask(width)
	switch r.Op {
	case OpIn:
		return slices.Contains(r.Values, v&r.ValueMask(width))
	case OpSubset:
		return v&r.Forbidden(width) == 0
	case OpRange:
		return r.Min <= v && v <= r.Max
	}
	return false
}

// Equal reports whether r and o are the same rule, field by field.
func (r ArgRule) Equal(o ArgRule) bool {
	return r.Index == o.Index && r.Op == o.Op && r.Mask == o.Mask && r.Min == o.Min && r.Max == o.Max && r.Width == o.Width && slices.Equal(r.Values, o.Values)
}

func (r ArgRule) validate() error {
	if r.Index < 0 || r.Index > 5 {
		return fmt.Errorf("index %d out of range 0..5", r.Index)
	}
	if r.Width != 0 && r.Width != 32 && r.Width != 64 {
		return fmt.Errorf("width %d is not 32 or 64", r.Width)
	}
	switch r.Op {
	case OpIn:
		if len(r.Values) == 0 {
			return errors.New(`op "in" needs at least one value`)
		}
	case OpSubset:
		if len(r.Values) != 0 {
			return errors.New(`op "subset" takes a mask, not values`)
		}
	case OpRange:
		if r.Min > r.Max {
			return fmt.Errorf("range min %d > max %d", r.Min, r.Max)
		}
	default:
		return fmt.Errorf("unknown op %q (want in, subset, range)", r.Op)
	}
	return nil
}

// joinRule widens a to also accept what b accepts; false if it cannot
// say so in one rule. Two "in" rules with different masks (or an "in"
// and a "subset") join on the bits both look at: a value either allows
// agrees there with one of the joined values, so the join keeps every
// constraint they share (clone's namespace bits) and allows no fewer.
func joinRule(a *ArgRule, b ArgRule, wa, wb int) bool {
	if wa != wb {
		return false
	}
	if a.Op != b.Op || (a.Op == OpIn && a.Mask != b.Mask) {
		x, okA := a.asIn(wa)
		y, okB := b.asIn(wb)
		if !okA || !okB {
			return false
		}
		m := x.ValueMask(wa) & y.ValueMask(wb)
		if m == 0 {
			return false // no bit in common: every value
		}
		joined := ArgRule{Index: a.Index, Op: OpIn, Mask: m, Width: a.Width}
		for _, v := range append(slices.Clone(x.Values), y.Values...) {
			if !slices.Contains(joined.Values, v&m) {
				joined.Values = append(joined.Values, v&m)
			}
		}
		slices.Sort(joined.Values)
		*a = joined
		return true
	}
	switch a.Op {
	case OpIn:
		for _, v := range b.Values {
			if !slices.Contains(a.Values, v) {
				a.Values = append(a.Values, v)
			}
		}
		slices.Sort(a.Values)
	case OpSubset:
		a.Mask |= b.Mask
	case OpRange:
		a.Min, a.Max = min(a.Min, b.Min), max(a.Max, b.Max)
	}
	return true
}

// asIn writes r as an "in" rule: a subset rule is "the forbidden bits
// are 0". False for a range, or a subset rule that forbids nothing.
func (r ArgRule) asIn(width int) (ArgRule, bool) {
	switch r.Op {
	case OpIn:
		return r, true
	case OpSubset:
		if f := r.Forbidden(width); f != 0 {
			return ArgRule{Index: r.Index, Op: OpIn, Mask: f, Values: []uint64{0}, Width: r.Width}, true
		}
	}
	return ArgRule{}, false
}

// Covers reports whether r allows every value o allows (both at width
// bits), as far as it can tell without enumerating: false means "not
// shown", so a caller that lists widenings lists this one.
func (r ArgRule) Covers(o ArgRule, width int) bool {
	all := linuxabi.WidthMask(width)
	switch {
	case r.Op == OpSubset && o.Op == OpSubset:
		return o.Mask&all&^r.Mask == 0
	case r.Op == OpRange && o.Op == OpRange:
		return r.Min <= o.Min && o.Max <= r.Max
	case o.Op == OpIn:
		ri, ok := r.asIn(width)
		if !ok {
			return r.Op == OpSubset // forbids nothing
		}
		rm, om := ri.ValueMask(width), o.ValueMask(width)
		if rm&^om != 0 {
			return false // r looks at bits o leaves free
		}
		for _, v := range o.Values {
			if !slices.Contains(ri.Values, v&rm) {
				return false
			}
		}
		return true
	}
	return false
}

// FormatRule prints a rule of syscall in symbolic form, e.g.
// "domain ∈ {AF_INET, AF_UNIX}" or "prot ⊆ PROT_READ|PROT_WRITE".
func FormatRule(syscall string, r ArgRule) string {
	spec, ok := linuxabi.LookupArg(syscall, r.Index)
	if !ok {
		spec = linuxabi.ArgSpec{Index: r.Index, Name: fmt.Sprintf("arg%d", r.Index), Width: WidthOf(syscall, r)}
	}
	flags := spec.Kind == linuxabi.KindFlags
	switch r.Op {
	case OpIn:
		if req, ok := requiredBits(spec, r); ok {
			// A flags rule with one value: these bits set, the other
			// bits of the mask clear (clone: threads only).
			text := spec.Name + " ⊇ " + bitsOf(spec.Consts, req)
			if rest := r.ValueMask(spec.Width) &^ req; rest != 0 {
				text += ", " + subsetText(spec, ^rest)
			}
			return text
		}
		var vals []string
		for _, v := range r.Values {
			vals = append(vals, linuxabi.Symbolize(spec.Consts, v, flags))
		}
		lhs := spec.Name
		if r.Mask != 0 && (spec.RecordMask == 0 || r.Mask != spec.Mask()) {
			lhs = fmt.Sprintf("%s & %#x", spec.Name, r.Mask)
		}
		if len(vals) == 1 {
			return lhs + " == " + vals[0]
		}
		return lhs + " ∈ {" + strings.Join(vals, ", ") + "}"
	case OpSubset:
		return subsetText(spec, r.Mask)
	case OpRange:
		return fmt.Sprintf("%d ≤ %s ≤ %d", r.Min, spec.Name, r.Max)
	}
	return string(r.Op)
}

// requiredBits returns the bits an "in" rule on a flags argument
// requires, when it lists one nonzero value within its mask.
func requiredBits(spec linuxabi.ArgSpec, r ArgRule) (uint64, bool) {
	if spec.Kind != linuxabi.KindFlags || spec.RecordMask != 0 || len(r.Values) != 1 {
		return 0, false
	}
	v := r.Values[0]
	return v, v != 0 && v&^r.ValueMask(spec.Width) == 0
}

// subsetText prints "flags ⊆ allowed bits" for a mask of allowed bits.
func subsetText(spec linuxabi.ArgSpec, m uint64) string {
	extra := ""
	if spec.RecordMask != 0 {
		// Bits outside the record mask (O_CLOEXEC...) are always free.
		m &= spec.Mask()
		extra = " (+ unrecorded bits)"
	}
	// A rule that forbids a few bits (clone: the namespace ones;
	// mode: S_ISUID|S_ISGID) reads better as what it forbids; bits
	// outside the record mask are free either way.
	all := spec.Mask()
	if spec.Width == 0 {
		all = ^uint64(0)
	}
	m &= all
	forbidden, nf, na := all&^m, bits.OnesCount64(all&^m), bits.OnesCount64(m)
	if nf > 0 && (nf < na || (na == 0 && nf <= 2)) {
		return spec.Name + " ⊆ ~(" + bitsOf(spec.Consts, forbidden) + ")"
	}
	return spec.Name + " ⊆ " + bitsOf(spec.Consts, m) + extra
}

// bitsOf prints a mask of allowed bits. open's access mode is an enum in
// a value (O_RDONLY is 0) but two bits in a mask: O_WRONLY and O_RDWR.
func bitsOf(consts string, m uint64) string {
	if consts != "open" || m == 0 {
		return linuxabi.Symbolize(consts, m, true)
	}
	parts := []string{}
	if m&1 != 0 {
		parts = append(parts, "O_WRONLY")
	}
	if m&2 != 0 {
		parts = append(parts, "O_RDWR")
	}
	if rest := m &^ 3; rest != 0 {
		parts = append(parts, strings.Split(linuxabi.Symbolize(consts, rest, true), "|")...)
	}
	parts = slices.DeleteFunc(parts, func(p string) bool { return p == "O_RDONLY" })
	slices.Sort(parts)
	return strings.Join(parts, "|")
}
