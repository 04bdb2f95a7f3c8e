package cbpf

// The passes work on builder instructions, marks included, and assume
// every jump goes forward. Each returns a new slice.

// threadJumps retargets jumps whose target is an unconditional jump to
// that jump's own target, so no path runs a JA that only forwards (a
// failed argument check going to a shared default return, for one).
func threadJumps(prog []insn) []insn {
	// forward[l] is the target of the JA that label l points at.
	forward := map[Label]Label{}
	var marks []Label
	for _, in := range prog {
		switch in.op {
		case opMark:
			marks = append(marks, in.jt)
			continue
		case opJump:
			for _, l := range marks {
				forward[l] = in.jt
			}
		}
		marks = marks[:0]
	}
	final := func(l Label) Label {
		for range len(forward) { // bounded: forward jumps cannot form a loop
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
		switch in.op {
		case opJumpIf:
			in.jt, in.jf = final(in.jt), final(in.jf)
		case opJump:
			in.jt = final(in.jt)
		}
		out[i] = in
	}
	return out
}

// dropUnreachable removes instructions no path reaches (a JA left behind
// by threadJumps, code after a return). Jumps only go forward, so one
// pass decides: an instruction is live if the one before falls through
// to it or a live jump targets a label in front of it. Marks stay.
func dropUnreachable(prog []insn) []insn {
	targeted := map[Label]bool{}
	live := true // the first instruction
	out := make([]insn, 0, len(prog))
	for _, in := range prog {
		if in.op == opMark {
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
		switch in.op {
		case opJumpIf:
			targeted[in.jt], targeted[in.jf] = true, true
			live = false
		case opJump:
			targeted[in.jt] = true
			live = false
		case opRet:
			live = false
		}
	}
	return out
}

// dropFallthrough removes unconditional jumps to the very next
// instruction (a label among the marks right after the jump).
func dropFallthrough(prog []insn) []insn {
	out := make([]insn, 0, len(prog))
	for i, in := range prog {
		if in.op == opJump && fallsTo(prog[i+1:], in.jt) {
			continue
		}
		out = append(out, in)
	}
	return out
}

// fallsTo reports whether l is among the marks at the start of rest.
func fallsTo(rest []insn, l Label) bool {
	for _, next := range rest {
		if next.op != opMark {
			return false
		}
		if next.jt == l {
			return true
		}
	}
	return false
}

// layout returns the position of every label and the instructions
// without marks.
func layout(prog []insn) (map[Label]int, []insn) {
	pos := map[Label]int{}
	out := make([]insn, 0, len(prog))
	for _, in := range prog {
		if in.op == opMark {
			pos[in.jt] = len(out)
			continue
		}
		out = append(out, in)
	}
	return pos, out
}

// trampolines rewrites each far conditional jump (far holds indexes
// among the instructions without marks, pos the label positions of the
// same layout) to jump to unconditional jumps placed right after it,
// which reach any distance.
func trampolines(prog []insn, far map[int]bool, pos map[Label]int, newLabel func() Label) []insn {
	out := make([]insn, 0, len(prog)+4*len(far))
	real := -1
	for _, in := range prog {
		if in.op != opMark {
			real++
		}
		if in.op == opMark || !far[real] {
			out = append(out, in)
			continue
		}
		var tail []insn
		if pos[in.jt]-real-1 > 255 {
			near := newLabel()
			tail = append(tail, insn{op: opMark, jt: near}, insn{op: opJump, jt: in.jt, note: "trampoline"})
			in.jt = near
		}
		if pos[in.jf]-real-1 > 255 {
			near := newLabel()
			tail = append(tail, insn{op: opMark, jt: near}, insn{op: opJump, jt: in.jf, note: "trampoline"})
			in.jf = near
		}
		// A conditional jump never falls through, so nothing else can
		// reach the trampolines placed right after it.
		out = append(out, in)
		out = append(out, tail...)
	}
	return out
}
