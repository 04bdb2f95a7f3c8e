package isa

import (
	"golang.org/x/arch/x86/x86asm"
)

// x86 decodes x86_64 with x86asm. Registers are numbered as the
// encoding does: rax=0 rcx=1 rdx=2 rbx=3 rsp=4 rbp=5 rsi=6 rdi=7 r8..r15.
type x86 struct {
	opts Options
}

const (
	rAX = iota
	rCX
	rDX
	rBX
	rSP
	rBP
	rSI
	RDI
	r8
	r9
	r10
	r11
)

// System V: what a call may leave with any value.
const x86CallerSaved = 1<<rAX | 1<<rCX | 1<<rDX | 1<<rSI | 1<<RDI | 1<<r8 | 1<<r9 | 1<<r10 | 1<<r11

// Go's ABIInternal: every register but the stack and frame pointers.
const x86GoClobber = 0xffff &^ (1<<rSP | 1<<rBP)

var x86IntArgs = [...]int{RDI, rSI, rDX, rCX, r8, r9}

func (x *x86) SyscallNumber() Loc { return RegLoc(rAX) }

func (x *x86) IntArg(i int) Loc {
	if i < len(x86IntArgs) {
		return RegLoc(x86IntArgs[i])
	}
	return StackLoc(int32(8 * (i - len(x86IntArgs))))
}

func (x *x86) RetAddrSize() int32 { return 8 }

func (x *x86) RelocKind(typ uint32) RelocKind {
	switch typ {
	case 1, 6, 7: // R_X86_64_64, GLOB_DAT, JUMP_SLOT
		return RelocSymbol
	case 8:
		return RelocRelative
	case 37:
		return RelocIRelative
	}
	return relocOther
}

// PltSlot follows endbr64 / bnd jmp *slot(%rip), the shape of every
// .plt, .plt.sec and .plt.got entry (jmp *abs for non-PIE).
func (x *x86) PltSlot(code []byte, pc uint64) (uint64, bool) {
	off := 0
	for range 3 {
		if off >= len(code) {
			break
		}
		if isEndbr64(code[off:]) {
			off += 4
			continue
		}
		xi, err := x86asm.Decode(code[off:], 64)
		if err != nil {
			return 0, false
		}
		next := pc + uint64(off+xi.Len)
		if xi.Op == x86asm.JMP {
			m, ok := xi.Args[0].(x86asm.Mem)
			if !ok || m.Index != 0 {
				return 0, false
			}
			switch m.Base {
			case x86asm.RIP:
				return next + uint64(int64(int32(m.Disp))), true
			case 0:
				return uint64(m.Disp), true
			}
			return 0, false
		}
		off += xi.Len
	}
	return 0, false
}

// gpr maps a general-purpose register of any width to its canonical
// number; full reports whether writing it defines the whole register (32-
// and 64-bit writes do; 8- and 16-bit ones merge).
func gpr(r x86asm.Reg) (n int, full, ok bool) {
	switch {
	case r >= x86asm.RAX && r <= x86asm.R15:
		return int(r - x86asm.RAX), true, true
	case r >= x86asm.EAX && r <= x86asm.R15L:
		return int(r - x86asm.EAX), true, true
	case r >= x86asm.AX && r <= x86asm.R15W:
		return int(r - x86asm.AX), false, true
	case r >= x86asm.AH && r <= x86asm.BH:
		return int(r - x86asm.AH), false, true
	case r >= x86asm.AL && r <= x86asm.R15B:
		return int(r - x86asm.AL), false, true
	}
	return 0, false, false
}

// stackSlot reports whether m addresses the stack at a constant offset
// from the stack pointer.
func stackSlot(m x86asm.Mem) (int32, bool) {
	if m.Segment != 0 || m.Index != 0 {
		return 0, false
	}
	if m.Base == x86asm.RSP || m.Base == x86asm.ESP {
		return int32(m.Disp), true
	}
	return 0, false
}

// operand is a source operand as the flow sees it.
func (x *x86) operand(a x86asm.Arg) (how DefHow, src Loc, val int64) {
	switch a := a.(type) {
	case x86asm.Imm:
		return defConst, noLoc, int64(a)
	case x86asm.Reg:
		if n, _, ok := gpr(a); ok {
			return defCopy, RegLoc(n), 0
		}
	case x86asm.Mem:
		if off, ok := stackSlot(a); ok {
			return defCopy, StackLoc(off), 0
		}
	}
	return defUnknown, noLoc, 0
}

// dest is the location an operand names as a destination.
func (x *x86) dest(a x86asm.Arg) (l Loc, full, ok bool) {
	switch a := a.(type) {
	case x86asm.Reg:
		if n, f, ok := gpr(a); ok {
			return RegLoc(n), f, true
		}
	case x86asm.Mem:
		if off, ok := stackSlot(a); ok {
			return StackLoc(off), true, true
		}
	}
	return noLoc, false, false
}

func (x *x86) Decode(code []byte, pc uint64, out []Inst) []Inst {
	for off := 0; off < len(code); {
		in := Inst{PC: pc + uint64(off)}
		if isEndbr64(code[off:]) { // x86asm does not know it
			in.n = 4
			out = append(out, in)
			off += 4
			continue
		}
		xi, err := x86asm.Decode(code[off:], 64)
		if err != nil || xi.Len == 0 {
			in.n, in.Kind = 1, InstBad
			out = append(out, in)
			off++
			continue
		}
		in.n = uint8(xi.Len)
		x.facts(&xi, &in)
		out = append(out, in)
		off += xi.Len
	}
	return out
}

// facts fills in what the analysis needs from one decoded instruction.
func (x *x86) facts(xi *x86asm.Inst, in *Inst) {
	next := in.PC + uint64(in.n)
	var memAddr uint64 // constant address of a memory operand
	var memOK bool
	var rel int64
	var hasRel bool
	for _, a := range xi.Args {
		switch a := a.(type) {
		case nil:
		case x86asm.Mem:
			if a.Segment != 0 {
				continue
			}
			switch {
			case a.Base == x86asm.RIP:
				// x86asm leaves a disp32 unextended.
				a.Disp = int64(int32(a.Disp))
				memAddr, memOK = next+uint64(a.Disp), a.Index == 0
				in.addRef(next + uint64(a.Disp))
			case x.opts.Absolute && a.Base == 0 && a.Disp > 0:
				memAddr, memOK = uint64(a.Disp), a.Index == 0
				in.addRef(uint64(a.Disp))
			}
		case x86asm.Imm:
			if x.opts.Absolute && a > 0 {
				in.addRef(uint64(a))
			}
		case x86asm.Rel:
			rel, hasRel = int64(a), true
		}
	}
	clobberCall := uint64(x86CallerSaved)
	if x.opts.GoABI {
		clobberCall = x86GoClobber
	}

	switch xi.Op {
	case x86asm.CALL:
		in.clobber = clobberCall
		switch {
		case hasRel:
			in.Kind, in.Target = InstCall, next+uint64(rel)
		case memOK:
			in.Kind, in.Target = InstCallMem, memAddr
		default:
			in.Kind = InstCallInd
		}
		return
	case x86asm.JMP:
		switch {
		case hasRel:
			in.Kind, in.Target = InstJump, next+uint64(rel)
		case memOK:
			in.Kind, in.Target = InstJumpMem, memAddr
		default:
			in.Kind = instJumpInd
		}
		return
	case x86asm.JA, x86asm.JAE, x86asm.JB, x86asm.JBE, x86asm.JE, x86asm.JG, x86asm.JGE,
		x86asm.JL, x86asm.JLE, x86asm.JNE, x86asm.JNO, x86asm.JNP, x86asm.JNS, x86asm.JO,
		x86asm.JP, x86asm.JS, x86asm.JCXZ, x86asm.JECXZ, x86asm.JRCXZ:
		if hasRel {
			in.Kind, in.Target = InstCondJump, next+uint64(rel)
		}
		return
	case x86asm.LOOP, x86asm.LOOPE, x86asm.LOOPNE:
		in.clobber = 1 << rCX
		if hasRel {
			in.Kind, in.Target = InstCondJump, next+uint64(rel)
		}
		return
	case x86asm.RET, x86asm.LRET, x86asm.IRET, x86asm.IRETD, x86asm.IRETQ:
		in.Kind = instRet
		return
	case x86asm.UD0, x86asm.UD1, x86asm.UD2, x86asm.HLT, x86asm.INT:
		// int3 pads after calls that do not return; int $0x80 is the
		// 32-bit syscall gate, which x86_64 code does not use.
		in.Kind = instHalt
		return
	case x86asm.SYSCALL:
		in.Kind = InstSyscall
		in.clobber = 1<<rAX | 1<<rCX | 1<<r11
		return
	case x86asm.NOP, x86asm.CMP, x86asm.TEST, x86asm.BT, x86asm.PREFETCHNTA, x86asm.PREFETCHT0,
		x86asm.PREFETCHT1, x86asm.PREFETCHT2, x86asm.PREFETCHW, x86asm.CLFLUSH:
		return
	case x86asm.PUSH:
		in.spDelta = -8
		how, src, val := x.operand(xi.Args[0]) // push off(%rsp) reads before the decrement: src is in before-coordinates already
		in.addDef(Def{how: how, Dst: StackLoc(0), src: src, val: val})
		return
	case x86asm.POP:
		in.spDelta = 8
		if d, full, ok := x.dest(xi.Args[0]); ok && !d.IsStack() {
			if full {
				in.addDef(Def{how: defCopy, Dst: d, src: StackLoc(0)})
			} else {
				in.addDef(Def{how: defUnknown, Dst: d})
			}
		}
		return
	case x86asm.LEAVE:
		in.spLost = true
		in.addDef(Def{how: defUnknown, Dst: RegLoc(rBP)})
		return
	case x86asm.CPUID:
		in.clobber = 1<<rAX | 1<<rBX | 1<<rCX | 1<<rDX
		return
	case x86asm.RDTSC, x86asm.XGETBV, x86asm.CWD, x86asm.CDQ, x86asm.CQO, x86asm.CMPXCHG8B, x86asm.CMPXCHG16B:
		in.clobber = 1<<rAX | 1<<rDX
		return
	case x86asm.RDTSCP:
		in.clobber = 1<<rAX | 1<<rDX | 1<<rCX
		return
	case x86asm.CBW, x86asm.CWDE, x86asm.CDQE:
		in.clobber = 1 << rAX
		return
	case x86asm.MUL, x86asm.DIV, x86asm.IDIV:
		in.clobber = 1<<rAX | 1<<rDX
		return
	case x86asm.IMUL:
		if xi.Args[1] == nil {
			in.clobber = 1<<rAX | 1<<rDX
			return
		}
	case x86asm.MOVSB, x86asm.MOVSW, x86asm.MOVSD, x86asm.MOVSQ, x86asm.STOSB, x86asm.STOSW,
		x86asm.STOSD, x86asm.STOSQ, x86asm.LODSB, x86asm.LODSW, x86asm.LODSD, x86asm.LODSQ,
		x86asm.SCASB, x86asm.SCASW, x86asm.SCASD, x86asm.SCASQ, x86asm.CMPSB, x86asm.CMPSW,
		x86asm.CMPSD, x86asm.CMPSQ:
		if xi.Args[0] == nil || isMemArg(xi.Args[0]) { // string form, not the SSE movsd/cmpsd
			in.clobber = 1<<rAX | 1<<rCX | 1<<rSI | 1<<RDI
			return
		}
	case x86asm.CMPXCHG, x86asm.XADD:
		in.clobber = 1 << rAX
		if d, _, ok := x.dest(xi.Args[1]); ok && !d.IsStack() {
			in.clobber |= 1 << uint(d.reg)
		}
	case x86asm.XCHG:
		a, fa, oka := x.dest(xi.Args[0])
		b, fb, okb := x.dest(xi.Args[1])
		if oka {
			in.addDef(xchgDef(a, b, fa && okb))
		}
		if okb {
			in.addDef(xchgDef(b, a, fb && oka))
		}
		return
	case x86asm.MOV, x86asm.MOVZX, x86asm.MOVSX, x86asm.MOVSXD:
		d, full, ok := x.dest(xi.Args[0])
		if !ok {
			return
		}
		if !full {
			in.addDef(Def{how: defUnknown, Dst: d})
			return
		}
		how, src, val := x.operand(xi.Args[1])
		in.addDef(Def{how: how, Dst: d, src: src, val: val})
		return
	case x86asm.XOR, x86asm.SUB:
		if r, ok := xi.Args[0].(x86asm.Reg); ok && xi.Args[1] == x86asm.Arg(r) {
			if d, full, ok := x.dest(r); ok && full {
				in.addDef(Def{how: defConst, Dst: d})
				return
			}
		}
		if xi.Op == x86asm.SUB && isRSP(xi.Args[0]) {
			if imm, ok := xi.Args[1].(x86asm.Imm); ok {
				in.spDelta = -int32(imm)
				return
			}
			in.spLost = true
			return
		}
	case x86asm.ADD:
		if isRSP(xi.Args[0]) {
			if imm, ok := xi.Args[1].(x86asm.Imm); ok {
				in.spDelta = int32(imm)
				return
			}
			in.spLost = true
			return
		}
	case x86asm.LEA:
		if isRSP(xi.Args[0]) {
			if off, ok := stackSlotMem(xi.Args[1]); ok {
				in.spDelta = off
				return
			}
			in.spLost = true
			return
		}
	}
	// Anything else writes its first operand, if that is a register or
	// a stack slot, with a value the flow does not follow.
	if isRSP(xi.Args[0]) {
		in.spLost = true
		return
	}
	if d, _, ok := x.dest(xi.Args[0]); ok {
		in.addDef(Def{how: defUnknown, Dst: d})
	}
}

func xchgDef(dst, src Loc, ok bool) Def {
	if !ok {
		return Def{how: defUnknown, Dst: dst}
	}
	return Def{how: defCopy, Dst: dst, src: src}
}

func isMemArg(a x86asm.Arg) bool {
	_, ok := a.(x86asm.Mem)
	return ok
}

func isRSP(a x86asm.Arg) bool {
	r, ok := a.(x86asm.Reg)
	return ok && (r == x86asm.RSP || r == x86asm.ESP)
}

func stackSlotMem(a x86asm.Arg) (int32, bool) {
	m, ok := a.(x86asm.Mem)
	if !ok {
		return 0, false
	}
	return stackSlot(m)
}

func isEndbr64(b []byte) bool {
	return len(b) >= 4 && b[0] == 0xf3 && b[1] == 0x0f && b[2] == 0x1e && b[3] == 0xfa
}
