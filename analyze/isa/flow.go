package isa

import "sort"

// FnCode is the decoded code of one function, with the predecessors of
// each instruction that control can reach it from by a jump.
type FnCode struct {
	Insts []Inst
	preds map[int][]int
	// retAddr is the size of the return address a call leaves on the
	// stack: stack slots below it at entry are not parameters.
	retAddr int32
}

func NewFnCode(insts []Inst, retAddr int32) *FnCode {
	c := &FnCode{Insts: insts, preds: map[int][]int{}, retAddr: retAddr}
	for j := range insts {
		in := &insts[j]
		if in.Kind != InstJump && in.Kind != InstCondJump {
			continue
		}
		if i, ok := c.index(in.Target); ok {
			c.preds[i] = append(c.preds[i], j)
		}
	}
	return c
}

// index returns the instruction that starts at pc.
func (c *FnCode) index(pc uint64) (int, bool) {
	if len(c.Insts) == 0 || pc < c.Insts[0].PC {
		return 0, false
	}
	i := sort.Search(len(c.Insts), func(i int) bool { return c.Insts[i].PC >= pc })
	return i, i < len(c.Insts) && c.Insts[i].PC == pc
}

// FlowOut is what the backward flow learnt about a value: the constants
// it can be, whether some path gave up, and the function parameters it
// comes from unchanged (in the function's entry coordinates).
type FlowOut struct {
	Consts  []int64
	Unknown bool
	Params  []Loc
}

func (o *FlowOut) addConst(v int64) {
	for _, c := range o.Consts {
		if c == v {
			return
		}
	}
	o.Consts = append(o.Consts, v)
}

func (o *FlowOut) addParam(l Loc) {
	for _, p := range o.Params {
		if p == l {
			return
		}
	}
	o.Params = append(o.Params, l)
}

// flowBudget bounds the states one query visits; a value set further
// away than this is reported as unknown.
const FlowBudget = 400

type flowState struct {
	i int
	l Loc
}

// Flow finds where the value of l just before instruction at comes from,
// following every path backwards through the function: fall-through from
// the previous instruction and jumps from elsewhere in the function. It
// stops at definitions (constants, copies are followed), at clobbers
// (unknown) and at the function entry (a parameter). Every state visited
// is taken from *budget, the file's: when it is spent, the value is
// unknown.
func (c *FnCode) Flow(at int, l Loc, budget *int) FlowOut {
	var out FlowOut
	seen := map[flowState]bool{}
	work := []flowState{{at, l}}
	for len(work) > 0 {
		s := work[len(work)-1]
		work = work[:len(work)-1]
		if seen[s] {
			continue
		}
		seen[s] = true
		if *budget--; len(seen) > FlowBudget || *budget < 0 {
			out.Unknown = true
			break
		}
		if s.i == 0 {
			if !s.l.IsStack() || s.l.Off >= c.retAddr {
				out.addParam(s.l)
			} else {
				out.Unknown = true
			}
		}
		var preds []int
		if s.i > 0 && !c.Insts[s.i-1].Kind.terminal() {
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
func (c *FnCode) transfer(p int, l Loc, out *FlowOut) (Loc, bool) {
	in := &c.Insts[p]
	for _, d := range in.Defs {
		if d.how == defNone || d.Dst != l {
			continue
		}
		switch d.how {
		case defConst:
			out.addConst(d.val)
			return l, true
		case defCopy:
			return d.src, false
		default:
			out.Unknown = true
			return l, true
		}
	}
	if in.Kind == InstBad {
		out.Unknown = true
		return l, true
	}
	if l.IsStack() {
		if in.spLost {
			out.Unknown = true
			return l, true
		}
		l.Off += in.spDelta
		return l, false
	}
	if in.clobber&(1<<uint(l.reg)) != 0 {
		out.Unknown = true
		return l, true
	}
	return l, false
}
