package emit

import (
	"errors"
	"fmt"
	"maps"
	"math/bits"
	"slices"
	"sort"

	"golang.org/x/net/bpf"

	"github.com/sysrec/sysrec/cbpf"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// Options tune the compiler. The zero value is the default.
type Options struct {
	// MaxInstructions is the largest program BPF returns; 0 means the
	// kernel's BPF_MAXINSNS (4096).
	MaxInstructions int
	// ContainerSetup says whose setup calls the oci and spo formats add
	// (see WithContainerSetup): "" or "all" for every runtime in
	// ContainerRuntimes, "none", or runtimes by name ("runc,crun:nnp").
	// The other formats are for filters installed right before exec and
	// ignore it.
	ContainerSetup string
	// Invocation is the command line (and environment) the landrun
	// format instantiates a profile's templates from, and appends after
	// "--"; nil for a profile without templates.
	Invocation *profiles.Invocation
	// Phase is which filter a profile with phases becomes (a filter
	// cannot know a process's phase): "" or PhaseUnion, every entry in
	// every phase (p.Union()); PhaseServing, the filter a program that
	// can be changed installs on itself once it serves
	// (p.ServingOnly()), which only the formats with Format.Phase write.
	Phase string
}

// MaxInstructions is the kernel's limit on one filter (BPF_MAXINSNS).
const MaxInstructions = linuxabi.MaxFilterInstructions

// ErrTooLarge is returned for profiles whose filter the kernel would refuse.
var ErrTooLarge = errors.New("filter too large")

// BPF compiles p into a seccomp filter program.
func BPF(p *profiles.Profile, opts Options) ([]bpf.Instruction, error) {
	prog, err := compileLimited(p, opts)
	if err != nil {
		return nil, err
	}
	return prog.Instructions(), nil
}

// compileLimited compiles the filter of opts.Phase of p and refuses a
// program the kernel would.
func compileLimited(p *profiles.Profile, opts Options) (cbpf.Program, error) {
	p, err := phaseView(p, opts.Phase)
	if err != nil {
		return cbpf.Program{}, err
	}
	prog, err := compile(p)
	if err != nil {
		return cbpf.Program{}, err
	}
	max := opts.MaxInstructions
	if max <= 0 {
		max = MaxInstructions
	}
	if prog.Len() > max {
		return cbpf.Program{}, fmt.Errorf("%w: %d instructions for %d syscall entries on %d arch(es), the kernel takes at most %d", ErrTooLarge, prog.Len(), len(p.Syscalls), len(p.Arch), max)
	}
	return prog, nil
}

// ret is the label of the shared return of action.
func ret(b *cbpf.Builder, action profiles.Action) cbpf.Label {
	return b.Ret(action.Ret(), action.String())
}

// compile lays out the whole filter of p, a profile without phases
// (phaseView).
func compile(p *profiles.Profile) (cbpf.Program, error) {
	if err := p.Validate(); err != nil {
		return cbpf.Program{}, err
	}
	if p.HasPhases() {
		return cbpf.Program{}, errors.New("compile a profile with phases: a filter cannot know a process's phase (compile its Union, ServingOnly or Supervised view)")
	}
	var b cbpf.Builder
	bad := ret(&b, p.BadArch())
	var arches []*linuxabi.Arch
	for _, name := range p.Arch {
		arch, err := linuxabi.LookupArch(name)
		if err != nil {
			return cbpf.Program{}, err
		}
		arches = append(arches, arch)
	}
	// Arch first: a number means nothing until we know whose table it
	// indexes (and a foreign arch must never fall through).
	b.Load(linuxabi.OffArch, "arch")
	archLabels := make([]cbpf.Label, len(arches))
	for i, arch := range arches {
		archLabels[i] = b.NewLabel()
		next := b.NewLabel()
		if i == len(arches)-1 {
			next = bad
		}
		b.JumpIf(bpf.JumpEqual, arch.Audit, archLabels[i], next, arch.Name)
		if i < len(arches)-1 {
			b.Mark(next)
		}
	}
	for i, arch := range arches {
		b.Mark(archLabels[i])
		dispatch(&b, p, arch)
	}
	return b.Assemble()
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
	unknown := p.Unknown()
	byName := map[string][]profiles.Syscall{}
	for _, s := range p.Syscalls {
		if s.AppliesTo(arch) {
			byName[s.Name] = append(byName[s.Name], s)
		}
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
		bad := outcome{action: p.BadArch()}
		add(top, arch.X32-1, outcome{action: unknown})
		add(arch.X32, 0x7fffffff, bad)
		add(0x80000000, 0x80000000|(arch.X32-1), outcome{action: unknown})
		add(0x80000000|arch.X32, 0xffffffff, bad)
	}
	return rs
}

// dispatch emits the number search for arch and the argument blocks its
// leaves jump to.
func dispatch(b *cbpf.Builder, p *profiles.Profile, arch *linuxabi.Arch) {
	rs := ranges(p, arch)
	w := weigher(p, arch)
	b.Load(linuxabi.OffNr, "nr")
	blocks := map[string]cbpf.Label{}
	var order []string
	leaf := func(o outcome) cbpf.Label {
		if o.args == "" {
			return ret(b, o.action)
		}
		l, ok := blocks[o.args]
		if !ok {
			l = b.NewLabel()
			blocks[o.args] = l
			order = append(order, o.args)
		}
		return l
	}
	// target is where a jump to the subtree over rs must go: a leaf's
	// return or argument block directly, or a new label for an inner node.
	type pending struct {
		at     cbpf.Label
		rs     []rng
		budget int
	}
	var queue []pending
	target := func(rs []rng, budget int) cbpf.Label {
		if len(rs) == 1 {
			return leaf(rs[0].out)
		}
		l := b.NewLabel()
		queue = append(queue, pending{l, rs, budget})
		return l
	}
	var tree func(rs []rng, budget int)
	tree = func(rs []rng, budget int) {
		if len(rs) == 1 {
			b.Jump(leaf(rs[0].out))
			return
		}
		mid := split(rs, budget, w)
		right := target(rs[mid:], budget-1)
		left := target(rs[:mid], budget-1)
		b.JumpIf(bpf.JumpGreaterOrEqual, rs[mid].lo, right, left, arch.Name+" "+describeNr(arch, rs[mid].lo))
	}
	if w.first != "" {
		// Most filter runs are for one syscall: test for it before the
		// search (one comparison for it, one more for the rest).
		nr, _ := arch.Number(w.first)
		rest := b.NewLabel()
		b.JumpIf(bpf.JumpEqual, uint32(nr), leaf(outcome{args: w.first}), rest, arch.Name+" "+w.first+" (hottest)")
		b.Mark(rest)
	}
	tree(rs, bits.Len(uint(len(rs)-1))+w.slack)
	// Inner nodes in pre-order after their parent: every jump is forward.
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		b.Mark(n.at)
		tree(n.rs, n.budget)
	}
	sort.Strings(order) // deterministic layout
	for _, name := range order {
		b.Mark(blocks[name])
		argBlock(b, p, arch, name)
	}
}

// weights say how much it matters that the search reaches a range
// quickly.
type weights struct {
	of func(rng) uint64
	// slack is how many levels deeper than a balanced tree a path may go
	// so that hot ranges sit higher.
	slack int
	// first is the syscall tested before the search, when it makes at
	// least half of the calls that run the filter.
	first string
}

// profileGuidedSlack bounds how much longer the coldest path of a
// profile-guided tree may be than a balanced tree's.
const profileGuidedSlack = 2

// weigher weighs each range by how many syscall numbers it covers (the
// mean path over the table is short), unless the profile carries
// recorded counts: then the calls that actually run the filter dominate.
// The kernel's seccomp action cache answers argument-free allowed calls
// without running the filter at all, so only calls with argument rules
// (and denied calls, rare by construction) pay for the search; each
// range that leads to an argument block weighs as many calls as the
// recording saw, and the tree puts them near the root.
func weigher(p *profiles.Profile, arch *linuxabi.Arch) weights {
	top := uint64(arch.MaxNumber())
	span := func(r rng) uint64 {
		if uint64(r.lo) > top {
			return 0 // numbers no table names are rare
		}
		return min(uint64(r.hi), top) - uint64(r.lo) + 1
	}
	hot := map[string]uint64{}
	var total uint64
	for _, s := range p.Syscalls {
		if _, ok := arch.Number(s.Name); !ok || !s.AppliesTo(arch) {
			continue // not on this arch
		}
		if len(s.Args) > 0 && s.Count > 0 {
			hot[s.Name] += s.Count
			total += s.Count
		}
	}
	if total == 0 {
		return weights{of: span}
	}
	first := ""
	for _, name := range slices.Sorted(maps.Keys(hot)) {
		if 2*hot[name] >= total && (first == "" || hot[name] > hot[first]) {
			first = name
		}
	}
	// Any recorded call outweighs every span (together at most the
	// table's size): spans only break ties.
	scale := top + 2
	return weights{
		of: func(r rng) uint64 {
			if r.out.args == "" {
				return span(r)
			}
			return span(r) + (hot[r.out.args]+1)*scale
		},
		slack: profileGuidedSlack,
		first: first,
	}
}

// split picks where to divide rs: as close as possible to half of the
// weight they carry, but with each side small enough to finish within
// budget-1 levels, so no path is longer than the budget allows.
func split(rs []rng, budget int, w weights) int {
	n := len(rs)
	half := 1 << (budget - 1)
	lo, hi := max(1, n-half), min(n-1, half)
	var total uint64
	for _, r := range rs {
		total += w.of(r)
	}
	best, bestDiff := lo, ^uint64(0)
	var left uint64
	for i := 0; i < hi; i++ {
		left += w.of(rs[i])
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

// argBlock checks the entries of one syscall of arch in order; the first
// whose rules all match gives its action. Entries of another arch are
// not there: the same name is another call there.
func argBlock(b *cbpf.Builder, p *profiles.Profile, arch *linuxabi.Arch, name string) {
	for _, s := range p.Syscalls {
		if s.Name != name || !s.AppliesTo(arch) {
			continue
		}
		pass := ret(b, s.EffectiveAction())
		if len(s.Args) == 0 {
			b.Jump(pass)
			return // later entries are unreachable
		}
		next := b.NewLabel()
		for i, r := range s.Args {
			ok := pass
			if i < len(s.Args)-1 {
				ok = b.NewLabel()
			}
			rule(b, r, profiles.ArchWidth(arch, name, r), ok, next, name)
			if ok != pass {
				b.Mark(ok)
			}
		}
		b.Mark(next)
	}
	b.Jump(ret(b, p.DefaultAction))
}

func lo32(v uint64) uint32 { return uint32(v) }
func hi32(v uint64) uint32 { return uint32(v >> 32) }

// rule emits one argument check: to pass if it holds, else to fail.
func rule(b *cbpf.Builder, r profiles.ArgRule, width int, pass, fail cbpf.Label, name string) {
	lo, hi := linuxabi.ArgLow(r.Index), linuxabi.ArgHigh(r.Index)
	what := fmt.Sprintf("%s arg%d", name, r.Index)
	switch r.Op {
	case profiles.OpIn:
		mask := r.ValueMask(width)
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
			b.Load(hi, what+" high")
			b.And(hi32(mask), "")
			glabels := make([]cbpf.Label, len(his))
			for i, h := range his {
				glabels[i] = b.NewLabel()
				next := fail
				if i < len(his)-1 {
					next = b.NewLabel()
				}
				b.JumpIf(bpf.JumpEqual, h, glabels[i], next, "")
				if next != fail {
					b.Mark(next)
				}
			}
			if len(his) == 0 {
				b.Jump(fail)
			}
			for i, h := range his {
				b.Mark(glabels[i])
				matchLow(b, lo, lo32(mask), groups[h], pass, fail, what)
			}
			return
		}
		// High word ignored (int argument, or a mask without high bits:
		// then every value's high word is 0 too).
		var lows []uint32
		for _, v := range vals {
			lows = append(lows, lo32(v))
		}
		matchLow(b, lo, lo32(mask), lows, pass, fail, what)
	case profiles.OpSubset:
		forbidden := r.Forbidden(width) // no high bits at width 32
		if hi32(forbidden) != 0 {
			b.Load(hi, what+" high")
			next := b.NewLabel()
			b.JumpIf(bpf.JumpBitsSet, hi32(forbidden), fail, next, "")
			b.Mark(next)
		}
		b.Load(lo, what)
		if lo32(forbidden) == 0 {
			b.Jump(pass)
			return
		}
		b.JumpIf(bpf.JumpBitsSet, lo32(forbidden), fail, pass, "")
	case profiles.OpRange:
		min, max := r.Min, r.Max
		if width == 32 {
			if min > linuxabi.WidthMask(width) {
				b.Jump(fail)
				return
			}
			max = min64(max, linuxabi.WidthMask(width))
			b.Load(lo, what)
			geMin := b.NewLabel()
			b.JumpIf(bpf.JumpGreaterOrEqual, lo32(min), geMin, fail, "")
			b.Mark(geMin)
			b.JumpIf(bpf.JumpGreaterThan, lo32(max), fail, pass, "")
			return
		}
		// min <= v: hi > min.hi, or hi == min.hi and lo >= min.lo.
		checkMax, eqMin, ltMin := b.NewLabel(), b.NewLabel(), b.NewLabel()
		b.Load(hi, what+" high")
		b.JumpIf(bpf.JumpGreaterThan, hi32(min), checkMax, eqMin, "")
		b.Mark(eqMin)
		b.JumpIf(bpf.JumpEqual, hi32(min), ltMin, fail, "")
		b.Mark(ltMin)
		b.Load(lo, what)
		b.JumpIf(bpf.JumpGreaterOrEqual, lo32(min), checkMax, fail, "")
		// v <= max: hi < max.hi, or hi == max.hi and lo <= max.lo.
		b.Mark(checkMax)
		eqMax, loMax := b.NewLabel(), b.NewLabel()
		b.Load(hi, what+" high")
		b.JumpIf(bpf.JumpGreaterThan, hi32(max), fail, eqMax, "")
		b.Mark(eqMax)
		b.JumpIf(bpf.JumpEqual, hi32(max), loMax, pass, "")
		b.Mark(loMax)
		b.Load(lo, what)
		b.JumpIf(bpf.JumpGreaterThan, lo32(max), fail, pass, "")
	}
}

func min64(a, b uint64) uint64 {
	if a < b {
		return a
	}
	return b
}

// matchLow loads the low word, masks it and compares it with each value.
func matchLow(b *cbpf.Builder, off, mask uint32, vals []uint32, pass, fail cbpf.Label, what string) {
	if len(vals) == 0 {
		b.Jump(fail)
		return
	}
	b.Load(off, what)
	if mask != 0xffffffff {
		b.And(mask, "")
	}
	for i, v := range vals {
		next := fail
		if i < len(vals)-1 {
			next = b.NewLabel()
		}
		b.JumpIf(bpf.JumpEqual, v, pass, next, "")
		if next != fail {
			b.Mark(next)
		}
	}
}
