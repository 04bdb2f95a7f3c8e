package analyze

import "sort"

// fnCode is the decoded code of one function, with the predecessors of
// each instruction that control can reach it from by a jump.
type fnCode struct {
	insts []inst
	preds map[int][]int
	// retAddr is the size of the return address a call leaves on the
	// stack: stack slots below it at entry are not parameters.
	retAddr int32
}

func newFnCode(insts []inst, retAddr int32) *fnCode {
	c := &fnCode{insts: insts, preds: map[int][]int{}, retAddr: retAddr}
	for j := range insts {
		in := &insts[j]
		if in.kind != instJump && in.kind != instCondJump {
			continue
		}
		if i, ok := c.index(in.target); ok {
			c.preds[i] = append(c.preds[i], j)
		}
	}
	return c
}

// index returns the instruction that starts at pc.
func (c *fnCode) index(pc uint64) (int, bool) {
	if len(c.insts) == 0 || pc < c.insts[0].pc {
		return 0, false
	}
	i := sort.Search(len(c.insts), func(i int) bool { return c.insts[i].pc >= pc })
	return i, i < len(c.insts) && c.insts[i].pc == pc
}

// flowOut is what the backward flow learnt about a value: the constants
// it can be, whether some path gave up, and the function parameters it
// comes from unchanged (in the function's entry coordinates).
type flowOut struct {
	consts  []int64
	unknown bool
	params  []loc
}

func (o *flowOut) addConst(v int64) {
	for _, c := range o.consts {
		if c == v {
			return
		}
	}
	o.consts = append(o.consts, v)
}

func (o *flowOut) addParam(l loc) {
	for _, p := range o.params {
		if p == l {
			return
		}
	}
	o.params = append(o.params, l)
}

// flowBudget bounds the states one query visits; a value set further
// away than this is reported as unknown.
const flowBudget = 400

type flowState struct {
	i int
	l loc
}

// flow finds where the value of l just before instruction at comes from,
// following every path backwards through the function: fall-through from
// the previous instruction and jumps from elsewhere in the function. It
// stops at definitions (constants, copies are followed), at clobbers
// (unknown) and at the function entry (a parameter). Every state visited
// is taken from *budget, the file's: when it is spent, the value is
// unknown.
func (c *fnCode) flow(at int, l loc, budget *int) flowOut {
	var out flowOut
	seen := map[flowState]bool{}
	work := []flowState{{at, l}}
	for len(work) > 0 {
		s := work[len(work)-1]
		work = work[:len(work)-1]
		if seen[s] {
			continue
		}
		seen[s] = true
		if *budget--; len(seen) > flowBudget || *budget < 0 {
			out.unknown = true
			break
		}
		if s.i == 0 {
			if !s.l.isStack() || s.l.off >= c.retAddr {
				out.addParam(s.l)
			} else {
				out.unknown = true
			}
		}
		var preds []int
		if s.i > 0 && !c.insts[s.i-1].kind.terminal() {
			preds = append(preds, s.i-1)
		}
		preds = append(preds, c.preds[s.i]...)
		for _, p := range preds {
			nl, done := c.transfer(p, s.l, &out)
			if !done {
				work = append(work, flowState{p, nl})
			}
		}
	}
	return out
}

// transfer moves l (a location after instruction p) to before p. done
// means the value was settled (a constant, or unknown).
func (c *fnCode) transfer(p int, l loc, out *flowOut) (loc, bool) {
	in := &c.insts[p]
	for _, d := range in.defs {
		if d.how == defNone || d.dst != l {
			continue
		}
		switch d.how {
		case defConst:
			out.addConst(d.val)
			return l, true
		case defCopy:
			return d.src, false
		default:
			out.unknown = true
			return l, true
		}
	}
	if in.kind == instBad {
		out.unknown = true
		return l, true
	}
	if l.isStack() {
		if in.spLost {
			out.unknown = true
			return l, true
		}
		l.off += in.spDelta
		return l, false
	}
	if in.clobber&(1<<uint(l.reg)) != 0 {
		out.unknown = true
		return l, true
	}
	return l, false
}
