package emit

import (
	"fmt"
	"sort"

	"golang.org/x/net/bpf"

	"github.com/sysrec/sysrec/profiles"
)

// label names a position in the program; jumps to labels are resolved
// to offsets once the layout is known.
type label int

type insnKind int

const (
	kLoad insnKind = iota // A = seccomp_data word at k
	kAnd                  // A &= k
	kJump                 // if A cond k goto jt else jf
	kJA                   // goto jt
	kRet                  // return k
	kMark                 // label position, not an instruction
)

type insn struct {
	kind   insnKind
	cond   bpf.JumpTest
	k      uint32
	jt, jf label
	note   string
	// After resolve: offsets.
	skipT, skipF int
}

// asm collects instructions with symbolic jumps. Every jump goes
// forward: the layout (arch checks, number tree in pre-order, argument
// blocks, shared returns last) guarantees it.
type asm struct {
	insns  []insn
	labels int
	rets   map[profiles.Action]label
}

func newAsm() *asm { return &asm{rets: map[profiles.Action]label{}} }

func (a *asm) newLabel() label { a.labels++; return label(a.labels) }

func (a *asm) mark(l label) { a.insns = append(a.insns, insn{kind: kMark, jt: l}) }

func (a *asm) load(off uint32, note string) {
	a.insns = append(a.insns, insn{kind: kLoad, k: off, note: note})
}

func (a *asm) and(k uint32) { a.insns = append(a.insns, insn{kind: kAnd, k: k}) }

func (a *asm) jump(cond bpf.JumpTest, k uint32, t, f label, note string) {
	a.insns = append(a.insns, insn{kind: kJump, cond: cond, k: k, jt: t, jf: f, note: note})
}

func (a *asm) jumpTo(l label) { a.insns = append(a.insns, insn{kind: kJA, jt: l}) }

// ret returns the label of the shared RET instruction for action.
func (a *asm) ret(action profiles.Action) label {
	if l, ok := a.rets[action]; ok {
		return l
	}
	l := a.newLabel()
	a.rets[action] = l
	return l
}

// emitRets places the shared returns at the end, in a fixed order.
func (a *asm) emitRets() {
	acts := make([]profiles.Action, 0, len(a.rets))
	for act := range a.rets {
		acts = append(acts, act)
	}
	sort.Slice(acts, func(i, j int) bool { return Ret(acts[i]) > Ret(acts[j]) }) // allow first
	for _, act := range acts {
		a.mark(a.rets[act])
		a.insns = append(a.insns, insn{kind: kRet, k: Ret(act), note: act.String()})
	}
}

// resolve turns labels into offsets. A JA to the very next instruction
// is dropped (fall through); conditional jumps longer than 255 get JA
// trampolines, and the layout is recomputed until every offset fits.
func (a *asm) resolve() ([]insn, error) {
	prog := dropUnreachable(threadJumps(a.insns))
	for {
		prog = dropFallthrough(prog)
		pos, out := layout(prog)
		far := map[int]bool{}
		for i, in := range out {
			if in.kind == kJump && (pos[in.jt]-i-1 > 255 || pos[in.jf]-i-1 > 255) {
				far[i] = true
			}
		}
		if len(far) == 0 {
			for i := range out {
				in := &out[i]
				switch in.kind {
				case kJump:
					in.skipT, in.skipF = pos[in.jt]-i-1, pos[in.jf]-i-1
				case kJA:
					in.skipT = pos[in.jt] - i - 1
				}
				if in.skipT < 0 || in.skipF < 0 {
					return nil, fmt.Errorf("emit: backward jump at %d (compiler bug)", i)
				}
			}
			return out, nil
		}
		// All far jumps of this layout at once; inserting trampolines can
		// push others out of reach, so lay out again.
		prog = trampolines(prog, far, pos, a)
	}
}

// threadJumps retargets jumps whose target is an unconditional JA to
// that JA's own target, so no path runs a JA that only forwards (argument
// checks failing into the shared default return, for one).
func threadJumps(prog []insn) []insn {
	// forward[l] is the target of the JA that label l points at.
	forward := map[label]label{}
	var marks []label
	for _, in := range prog {
		switch in.kind {
		case kMark:
			marks = append(marks, in.jt)
			continue
		case kJA:
			for _, l := range marks {
				forward[l] = in.jt
			}
		}
		marks = marks[:0]
	}
	final := func(l label) label {
		for range len(forward) { // bounded: chains cannot loop (jumps go forward)
			next, ok := forward[l]
			if !ok {
				break
			}
			l = next
		}
		return l
	}
	out := make([]insn, len(prog))
	for i, in := range prog {
		if in.kind == kJump || in.kind == kJA {
			in.jt = final(in.jt)
			if in.kind == kJump {
				in.jf = final(in.jf)
			}
		}
		out[i] = in
	}
	return out
}

// dropUnreachable removes instructions no path reaches (a JA left behind
// by threadJumps). Jumps only go forward, so one pass decides: an
// instruction is live if the one before falls through to it or a live
// jump targets a label in front of it.
func dropUnreachable(prog []insn) []insn {
	targeted := map[label]bool{}
	live := true // the first instruction
	out := prog[:0:0]
	for _, in := range prog {
		if in.kind == kMark {
			if targeted[in.jt] {
				live = true
			}
			out = append(out, in)
			continue
		}
		if !live {
			continue
		}
		out = append(out, in)
		switch in.kind {
		case kJump:
			targeted[in.jt], targeted[in.jf] = true, true
			live = false
		case kJA:
			targeted[in.jt] = true
			live = false
		case kRet:
			live = false
		}
	}
	return out
}

// layout computes label positions and returns the real instructions.
func layout(prog []insn) (map[label]int, []insn) {
	pos := map[label]int{}
	var out []insn
	for _, in := range prog {
		if in.kind == kMark {
			pos[in.jt] = len(out)
			continue
		}
		out = append(out, in)
	}
	return pos, out
}

func dropFallthrough(prog []insn) []insn {
	out := prog[:0:0]
	for i, in := range prog {
		if in.kind == kJA {
			fall := false
			for _, next := range prog[i+1:] {
				if next.kind != kMark {
					break
				}
				if next.jt == in.jt {
					fall = true
				}
			}
			if fall {
				continue
			}
		}
		out = append(out, in)
	}
	return out
}

// trampolines rewrites each far conditional jump (by index among the
// real instructions) to jump to JAs placed right after it.
func trampolines(prog []insn, far map[int]bool, pos map[label]int, a *asm) []insn {
	out := make([]insn, 0, len(prog)+2*len(far))
	real := -1
	for _, in := range prog {
		if in.kind != kMark {
			real++
		}
		if in.kind == kMark || !far[real] {
			out = append(out, in)
			continue
		}
		var tail []insn
		if pos[in.jt]-real-1 > 255 {
			near := a.newLabel()
			tail = append(tail, insn{kind: kMark, jt: near}, insn{kind: kJA, jt: in.jt, note: "trampoline"})
			in.jt = near
		}
		if pos[in.jf]-real-1 > 255 {
			near := a.newLabel()
			tail = append(tail, insn{kind: kMark, jt: near}, insn{kind: kJA, jt: in.jf, note: "trampoline"})
			in.jf = near
		}
		// A conditional jump never falls through, so nothing else can
		// reach the trampolines placed right after it.
		out = append(out, in)
		out = append(out, tail...)
	}
	return out
}

// instructions converts resolved instructions to x/net/bpf form.
func (p *program) instructions() []bpf.Instruction {
	out := make([]bpf.Instruction, len(p.insns))
	for i, in := range p.insns {
		switch in.kind {
		case kLoad:
			out[i] = bpf.LoadAbsolute{Off: in.k, Size: 4}
		case kAnd:
			out[i] = bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: in.k}
		case kJump:
			out[i] = bpf.JumpIf{Cond: in.cond, Val: in.k, SkipTrue: uint8(in.skipT), SkipFalse: uint8(in.skipF)}
		case kJA:
			out[i] = bpf.Jump{Skip: uint32(in.skipT)}
		case kRet:
			out[i] = bpf.RetConstant{Val: in.k}
		}
	}
	return out
}
