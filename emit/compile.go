package emit

import (
	"errors"
	"fmt"
	"math/bits"
	"sort"

	"golang.org/x/net/bpf"

	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// Options tune the compiler. The zero value is the default.
type Options struct {
	// MaxInstructions is the largest program BPF returns; 0 means the
	// kernel's BPF_MAXINSNS (4096).
	MaxInstructions int
}

// MaxInstructions is the kernel's limit on one filter (BPF_MAXINSNS).
const MaxInstructions = 4096

// ErrTooLarge is returned for profiles whose filter the kernel would refuse.
var ErrTooLarge = errors.New("filter too large")

// struct seccomp_data offsets.
const (
	offNr   = 0
	offArch = 4
	offArgs = 16
)

// Ret returns the SECCOMP_RET_* value of a.
func Ret(a profiles.Action) uint32 {
	switch a.Kind {
	case profiles.KillProcess:
		return 0x80000000
	case profiles.KillThread:
		return 0x00000000
	case profiles.Trap:
		return 0x00030000 | uint32(a.Data)
	case profiles.Errno:
		return 0x00050000 | uint32(a.Data)&0xfff
	case profiles.UserNotif:
		return 0x7fc00000
	case profiles.Trace:
		return 0x7ff00000 | uint32(a.Data)
	case profiles.Log:
		return 0x7ffc0000
	case profiles.Allow:
		return 0x7fff0000
	}
	panic(fmt.Sprintf("emit: action %q has no return value", a.Kind))
}

// BPF compiles p into a seccomp filter program.
func BPF(p *profiles.Profile, opts Options) ([]bpf.Instruction, error) {
	prog, err := compileLimited(p, opts)
	if err != nil {
		return nil, err
	}
	return prog.instructions(), nil
}

// compileLimited compiles p and refuses a program the kernel would.
func compileLimited(p *profiles.Profile, opts Options) (*program, error) {
	prog, err := compile(p)
	if err != nil {
		return nil, err
	}
	max := opts.MaxInstructions
	if max <= 0 {
		max = MaxInstructions
	}
	if len(prog.insns) > max {
		return nil, fmt.Errorf("%w: %d instructions for %d syscall entries on %d arch(es), the kernel takes at most %d", ErrTooLarge, len(prog.insns), len(p.Syscalls), len(p.Arch), max)
	}
	return prog, nil
}

// program is the compiled filter with the annotations Text prints.
type program struct {
	insns []insn
}

// compile lays out the whole filter.
func compile(p *profiles.Profile) (*program, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	a := newAsm()
	bad := a.ret(badArch(p))
	var arches []*linuxabi.Arch
	for _, name := range p.Arch {
		arch, err := linuxabi.LookupArch(name)
		if err != nil {
			return nil, err
		}
		arches = append(arches, arch)
	}
	// Arch first: a number means nothing until we know whose table it
	// indexes (and a foreign arch must never fall through).
	a.load(offArch, "arch")
	archLabels := make([]label, len(arches))
	for i, arch := range arches {
		archLabels[i] = a.newLabel()
		next := a.newLabel()
		if i == len(arches)-1 {
			next = bad
		}
		a.jump(bpf.JumpEqual, arch.Audit, archLabels[i], next, arch.Name)
		if i < len(arches)-1 {
			a.mark(next)
		}
	}
	for i, arch := range arches {
		a.mark(archLabels[i])
		dispatch(a, p, arch)
	}
	a.emitRets()
	insns, err := a.resolve()
	if err != nil {
		return nil, err
	}
	return &program{insns: insns}, nil
}

func badArch(p *profiles.Profile) profiles.Action {
	if p.BadArchAction.IsZero() {
		return profiles.ActKillProcess
	}
	return p.BadArchAction
}

// outcome is what the filter does for one syscall number: a constant
// action, or the argument checks of syscall name.
type outcome struct {
	action profiles.Action
	args   string // syscall name whose entries need argument checks
}

// rng is a run [lo, hi] of numbers with one outcome.
type rng struct {
	lo, hi uint32
	out    outcome
}

// ranges partitions the 32-bit number space of arch by outcome.
func ranges(p *profiles.Profile, arch *linuxabi.Arch) []rng {
	unknown := p.DefaultAction
	if !p.UnknownAction.IsZero() {
		unknown = p.UnknownAction
	}
	byName := map[string][]profiles.Syscall{}
	for _, s := range p.Syscalls {
		byName[s.Name] = append(byName[s.Name], s)
	}
	at := func(nr int) outcome {
		name := arch.SyscallName(nr)
		if name == "" {
			return outcome{action: unknown}
		}
		entries := byName[name]
		if len(entries) == 0 {
			return outcome{action: p.DefaultAction}
		}
		if len(entries[0].Args) == 0 {
			return outcome{action: entries[0].EffectiveAction()}
		}
		return outcome{args: name}
	}
	var rs []rng
	add := func(lo, hi uint32, o outcome) {
		if n := len(rs); n > 0 && rs[n-1].out == o && o.args == "" && rs[n-1].hi+1 == lo {
			rs[n-1].hi = hi
			return
		}
		rs = append(rs, rng{lo, hi, o})
	}
	for nr := 0; nr <= arch.MaxNumber(); nr++ {
		add(uint32(nr), uint32(nr), at(nr))
	}
	top := uint32(arch.MaxNumber() + 1)
	if arch.X32 == 0 {
		add(top, 0xffffffff, outcome{action: unknown})
	} else {
		// Numbers with the x32 bit belong to another ABI: bad arch, as
		// are their mirrors with bit 31 set (-1 among them).
		bad := outcome{action: badArch(p)}
		add(top, arch.X32-1, outcome{action: unknown})
		add(arch.X32, 0x7fffffff, bad)
		add(0x80000000, 0x80000000|(arch.X32-1), outcome{action: unknown})
		add(0x80000000|arch.X32, 0xffffffff, bad)
	}
	return rs
}

// dispatch emits the number search for arch and the argument blocks its
// leaves jump to.
func dispatch(a *asm, p *profiles.Profile, arch *linuxabi.Arch) {
	rs := ranges(p, arch)
	a.load(offNr, "nr")
	blocks := map[string]label{}
	var order []string
	leaf := func(o outcome) label {
		if o.args == "" {
			return a.ret(o.action)
		}
		l, ok := blocks[o.args]
		if !ok {
			l = a.newLabel()
			blocks[o.args] = l
			order = append(order, o.args)
		}
		return l
	}
	// target is where a jump to the subtree over rs must go: a leaf's
	// return or argument block directly, or a new label for an inner node.
	type pending struct {
		at     label
		rs     []rng
		budget int
	}
	var queue []pending
	target := func(rs []rng, budget int) label {
		if len(rs) == 1 {
			return leaf(rs[0].out)
		}
		l := a.newLabel()
		queue = append(queue, pending{l, rs, budget})
		return l
	}
	var tree func(rs []rng, budget int)
	tree = func(rs []rng, budget int) {
		if len(rs) == 1 {
			a.jumpTo(leaf(rs[0].out))
			return
		}
		mid := split(rs, budget, arch)
		right := target(rs[mid:], budget-1)
		left := target(rs[:mid], budget-1)
		a.jump(bpf.JumpGreaterOrEqual, rs[mid].lo, right, left, arch.Name+" "+describeNr(arch, rs[mid].lo))
	}
	tree(rs, bits.Len(uint(len(rs)-1)))
	// Inner nodes in pre-order after their parent: every jump is forward.
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		a.mark(n.at)
		tree(n.rs, n.budget)
	}
	sort.Strings(order) // deterministic layout
	for _, name := range order {
		a.mark(blocks[name])
		argBlock(a, p, name)
	}
}

// split picks where to divide rs: as close as possible to half of the
// syscall numbers they cover (so the mean path over the table is short),
// but with each side small enough to finish within budget-1 levels, so no
// path is longer than a perfectly balanced tree's.
func split(rs []rng, budget int, arch *linuxabi.Arch) int {
	n := len(rs)
	half := 1 << (budget - 1)
	lo, hi := max(1, n-half), min(n-1, half)
	weight := func(r rng) uint64 {
		top := uint64(arch.MaxNumber())
		if uint64(r.lo) > top {
			return 0 // numbers no table names are rare
		}
		return min(uint64(r.hi), top) - uint64(r.lo) + 1
	}
	var total uint64
	for _, r := range rs {
		total += weight(r)
	}
	best, bestDiff := lo, ^uint64(0)
	var left uint64
	for i := 0; i < hi; i++ {
		left += weight(rs[i])
		mid := i + 1
		if mid < lo {
			continue
		}
		diff := left*2 - total
		if left*2 < total {
			diff = total - left*2
		}
		if diff < bestDiff {
			best, bestDiff = mid, diff
		}
	}
	return best
}

func describeNr(arch *linuxabi.Arch, nr uint32) string {
	if name := arch.SyscallName(int(nr)); name != "" {
		return name
	}
	return fmt.Sprintf("%#x", nr)
}

// argBlock checks the entries of one syscall in order; the first whose
// rules all match gives its action.
func argBlock(a *asm, p *profiles.Profile, name string) {
	for _, s := range p.Syscalls {
		if s.Name != name {
			continue
		}
		pass := a.ret(s.EffectiveAction())
		if len(s.Args) == 0 {
			a.jumpTo(pass)
			return // later entries are unreachable
		}
		next := a.newLabel()
		for i, r := range s.Args {
			ok := pass
			if i < len(s.Args)-1 {
				ok = a.newLabel()
			}
			rule(a, r, profiles.WidthOf(name, r), ok, next, name)
			if ok != pass {
				a.mark(ok)
			}
		}
		a.mark(next)
	}
	a.jumpTo(a.ret(p.DefaultAction))
}

func lo32(v uint64) uint32 { return uint32(v) }
func hi32(v uint64) uint32 { return uint32(v >> 32) }

// rule emits one argument check: to pass if it holds, else to fail.
func rule(a *asm, r profiles.ArgRule, width int, pass, fail label, name string) {
	lo, hi := uint32(offArgs+8*r.Index), uint32(offArgs+8*r.Index+4)
	what := fmt.Sprintf("%s arg%d", name, r.Index)
	switch r.Op {
	case profiles.OpIn:
		mask := r.Mask
		if mask == 0 {
			mask = ^uint64(0)
		}
		if width == 32 {
			mask &= 0xffffffff
		}
		var vals []uint64
		for _, v := range r.Values {
			if v&^mask == 0 { // others can never equal arg&mask
				vals = append(vals, v)
			}
		}
		if width == 64 && hi32(mask) != 0 {
			// Group by high word: match it, then the low words of that group.
			groups := map[uint32][]uint32{}
			var his []uint32
			for _, v := range vals {
				if _, ok := groups[hi32(v)]; !ok {
					his = append(his, hi32(v))
				}
				groups[hi32(v)] = append(groups[hi32(v)], lo32(v))
			}
			a.load(hi, what+" high")
			a.and(hi32(mask))
			glabels := make([]label, len(his))
			for i, h := range his {
				glabels[i] = a.newLabel()
				next := fail
				if i < len(his)-1 {
					next = a.newLabel()
				}
				a.jump(bpf.JumpEqual, h, glabels[i], next, "")
				if next != fail {
					a.mark(next)
				}
			}
			if len(his) == 0 {
				a.jumpTo(fail)
			}
			for i, h := range his {
				a.mark(glabels[i])
				matchLow(a, lo, lo32(mask), groups[h], pass, fail, what)
			}
			return
		}
		// High word ignored (int argument, or a mask without high bits:
		// then every value's high word is 0 too).
		var lows []uint32
		for _, v := range vals {
			lows = append(lows, lo32(v))
		}
		matchLow(a, lo, lo32(mask), lows, pass, fail, what)
	case profiles.OpSubset:
		if width == 64 && ^hi32(r.Mask) != 0 {
			a.load(hi, what+" high")
			next := a.newLabel()
			a.jump(bpf.JumpBitsSet, ^hi32(r.Mask), fail, next, "")
			a.mark(next)
		}
		a.load(lo, what)
		if ^lo32(r.Mask) == 0 {
			a.jumpTo(pass)
			return
		}
		a.jump(bpf.JumpBitsSet, ^lo32(r.Mask), fail, pass, "")
	case profiles.OpRange:
		min, max := r.Min, r.Max
		if width == 32 {
			if min > 0xffffffff {
				a.jumpTo(fail)
				return
			}
			max = min64(max, 0xffffffff)
			a.load(lo, what)
			geMin := a.newLabel()
			a.jump(bpf.JumpGreaterOrEqual, lo32(min), geMin, fail, "")
			a.mark(geMin)
			a.jump(bpf.JumpGreaterThan, lo32(max), fail, pass, "")
			return
		}
		// min <= v: hi > min.hi, or hi == min.hi and lo >= min.lo.
		checkMax, eqMin, ltMin := a.newLabel(), a.newLabel(), a.newLabel()
		a.load(hi, what+" high")
		a.jump(bpf.JumpGreaterThan, hi32(min), checkMax, eqMin, "")
		a.mark(eqMin)
		a.jump(bpf.JumpEqual, hi32(min), ltMin, fail, "")
		a.mark(ltMin)
		a.load(lo, what)
		a.jump(bpf.JumpGreaterOrEqual, lo32(min), checkMax, fail, "")
		// v <= max: hi < max.hi, or hi == max.hi and lo <= max.lo.
		a.mark(checkMax)
		eqMax, loMax := a.newLabel(), a.newLabel()
		a.load(hi, what+" high")
		a.jump(bpf.JumpGreaterThan, hi32(max), fail, eqMax, "")
		a.mark(eqMax)
		a.jump(bpf.JumpEqual, hi32(max), loMax, pass, "")
		a.mark(loMax)
		a.load(lo, what)
		a.jump(bpf.JumpGreaterThan, lo32(max), fail, pass, "")
	}
}

func min64(a, b uint64) uint64 {
	if a < b {
		return a
	}
	return b
}

// matchLow loads the low word, masks it and compares it with each value.
func matchLow(a *asm, off, mask uint32, vals []uint32, pass, fail label, what string) {
	if len(vals) == 0 {
		a.jumpTo(fail)
		return
	}
	a.load(off, what)
	if mask != 0xffffffff {
		a.and(mask)
	}
	for i, v := range vals {
		next := fail
		if i < len(vals)-1 {
			next = a.newLabel()
		}
		a.jump(bpf.JumpEqual, v, pass, next, "")
		if next != fail {
			a.mark(next)
		}
	}
}
