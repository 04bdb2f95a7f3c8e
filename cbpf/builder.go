package cbpf

import (
	"errors"
	"fmt"
	"slices"

	"golang.org/x/net/bpf"

	"github.com/sysrec/sysrec/linuxabi"
)

// Label names a position in the program. Jumps to labels become offsets
// when Assemble knows the layout.
type Label int

// op is the kind of a builder instruction.
type op int

const (
	opLoad   op = iota // A = 32-bit word of seccomp_data at k
	opAnd              // A &= k
	opJumpIf           // if A cond k goto jt else goto jf
	opJump             // goto jt
	opRet              // return k
	opMark             // jt's position; not an instruction
)

// insn is one builder instruction. Passes work on slices of them, marks
// included; skipT and skipF are set by Assemble once labels are resolved.
type insn struct {
	op           op
	cond         bpf.JumpTest // opJumpIf: one of JumpEqual, JumpGreaterOrEqual, JumpGreaterThan, JumpBitsSet
	k            uint32
	jt, jf       Label
	note         string
	skipT, skipF int
}

type retKey struct {
	k    uint32
	note string
}

// Builder collects instructions with symbolic forward jumps. Every jump
// must go forward (the kernel allows no other); Assemble says so if one
// does not. The zero value is ready to use.
type Builder struct {
	insns  []insn
	labels Label
	rets   map[retKey]Label
	err    error
}

// NewLabel returns a label not yet placed.
func (b *Builder) NewLabel() Label { b.labels++; return b.labels }

// Mark places l before the next instruction.
func (b *Builder) Mark(l Label) { b.insns = append(b.insns, insn{op: opMark, jt: l}) }

// Load loads the 32-bit word of struct seccomp_data at offset off into A.
func (b *Builder) Load(off uint32, note string) {
	if off%4 != 0 || off >= linuxabi.SeccompDataSize {
		b.fail(fmt.Errorf("load at offset %d: outside seccomp_data or unaligned", off))
	}
	b.insns = append(b.insns, insn{op: opLoad, k: off, note: note})
}

// And sets A to A & k.
func (b *Builder) And(k uint32, note string) {
	b.insns = append(b.insns, insn{op: opAnd, k: k, note: note})
}

// JumpIf jumps to t if A cond k holds, else to f. Negated conditions
// (JumpNotEqual, JumpLessThan, ...) become their positive form with the
// targets swapped, as the kernel has only the positive ones.
func (b *Builder) JumpIf(cond bpf.JumpTest, k uint32, t, f Label, note string) {
	switch cond {
	case bpf.JumpEqual, bpf.JumpGreaterOrEqual, bpf.JumpGreaterThan, bpf.JumpBitsSet:
	case bpf.JumpNotEqual:
		cond, t, f = bpf.JumpEqual, f, t
	case bpf.JumpLessThan:
		cond, t, f = bpf.JumpGreaterOrEqual, f, t
	case bpf.JumpLessOrEqual:
		cond, t, f = bpf.JumpGreaterThan, f, t
	case bpf.JumpBitsNotSet:
		cond, t, f = bpf.JumpBitsSet, f, t
	default:
		b.fail(fmt.Errorf("jump condition %d: unknown", cond))
	}
	b.insns = append(b.insns, insn{op: opJumpIf, cond: cond, k: k, jt: t, jf: f, note: note})
}

// Jump jumps to l unconditionally. A jump to the very next instruction
// costs nothing: Assemble drops it.
func (b *Builder) Jump(l Label) { b.insns = append(b.insns, insn{op: opJump, jt: l}) }

// Ret returns the label of the shared instruction "return k", annotated
// with note. Each distinct (k, note) gets one RET, placed after
// everything else in order of descending k, then note: for seccomp,
// KILL_PROCESS (0x80000000), then ALLOW, LOG, ..., ERRNO, TRAP and
// KILL_THREAD (0).
func (b *Builder) Ret(k uint32, note string) Label {
	key := retKey{k, note}
	if l, ok := b.rets[key]; ok {
		return l
	}
	if b.rets == nil {
		b.rets = map[retKey]Label{}
	}
	l := b.NewLabel()
	b.rets[key] = l
	return l
}

func (b *Builder) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

// Assemble lays out the program: shared returns last, then the passes
// threadJumps and dropUnreachable once, and dropFallthrough and
// trampolines until every jump fits in its 8-bit offset. It reports
// programs the kernel would refuse for their shape (a backward jump, a
// label used but never placed or placed twice, a jump off the end, no
// return at the end); the caller checks the length.
func (b *Builder) Assemble() (Program, error) {
	if b.err != nil {
		return Program{}, fmt.Errorf("assemble filter: %w", b.err)
	}
	prog := slices.Clone(b.insns)
	keys := make([]retKey, 0, len(b.rets))
	for k := range b.rets {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y retKey) int {
		if x.k != y.k {
			if x.k > y.k {
				return -1
			}
			return 1
		}
		if x.note < y.note {
			return -1
		}
		if x.note > y.note {
			return 1
		}
		return 0
	})
	for _, k := range keys {
		prog = append(prog, insn{op: opMark, jt: b.rets[k]}, insn{op: opRet, k: k.k, note: k.note})
	}
	if err := checkLabels(prog); err != nil {
		return Program{}, fmt.Errorf("assemble filter: %w", err)
	}
	next := b.labels
	newLabel := func() Label { next++; return next }
	out, err := resolve(prog, newLabel)
	if err != nil {
		return Program{}, fmt.Errorf("assemble filter: %w", err)
	}
	return Program{insns: out}, nil
}

// checkLabels reports a label placed twice or jumped to but never placed.
func checkLabels(prog []insn) error {
	placed := map[Label]bool{}
	for _, in := range prog {
		if in.op == opMark {
			if placed[in.jt] {
				return fmt.Errorf("label %d placed twice", in.jt)
			}
			placed[in.jt] = true
		}
	}
	for i, in := range prog {
		var targets []Label
		switch in.op {
		case opJumpIf:
			targets = []Label{in.jt, in.jf}
		case opJump:
			targets = []Label{in.jt}
		}
		for _, l := range targets {
			if !placed[l] {
				return fmt.Errorf("label %d (jumped to by builder instruction %d) never placed", l, i)
			}
		}
	}
	return nil
}

// resolve runs the passes and turns labels into offsets.
func resolve(prog []insn, newLabel func() Label) ([]insn, error) {
	prog = dropUnreachable(threadJumps(prog))
	for {
		prog = dropFallthrough(prog)
		pos, out := layout(prog)
		if len(out) == 0 {
			return nil, errors.New("empty program")
		}
		far := map[int]bool{}
		for i, in := range out {
			if in.op == opJumpIf && (pos[in.jt]-i-1 > 255 || pos[in.jf]-i-1 > 255) {
				far[i] = true
			}
		}
		if len(far) > 0 {
			// All far jumps of this layout at once; the trampolines can
			// push others out of reach, so lay out again.
			prog = trampolines(prog, far, pos, newLabel)
			continue
		}
		for i := range out {
			in := &out[i]
			switch in.op {
			case opJumpIf:
				in.skipT, in.skipF = pos[in.jt]-i-1, pos[in.jf]-i-1
			case opJump:
				in.skipT = pos[in.jt] - i - 1
			default:
				continue
			}
			if in.skipT < 0 || in.skipF < 0 {
				return nil, fmt.Errorf("backward jump at %d", i)
			}
			if i+1+max(in.skipT, in.skipF) >= len(out) {
				return nil, fmt.Errorf("jump at %d leaves the program", i)
			}
		}
		if last := out[len(out)-1]; last.op != opRet {
			return nil, fmt.Errorf("instruction %d, the last, is not a return", len(out)-1)
		}
		return out, nil
	}
}
