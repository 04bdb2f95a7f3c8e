package isa

import (
	"encoding/binary"

	"golang.org/x/arch/arm64/arm64asm"
)

// arm64 decodes AArch64 with arm64asm; immediates arm64asm keeps
// unexported (load/store offsets, add immediates, wide moves) are read
// from the encoding. Registers are x0..x30 = 0..30; the stack pointer is
// tracked as stack slots, never as a register. A syscall is svc #0 with
// its number in x8.
type arm64 struct {
	opts Options
}

const (
	a64X8  = 8
	a64X30 = 30
)

// AAPCS64: x0-x18 and the link register may change across a call.
const a64CallerSaved = 1<<19 - 1 | 1<<a64X30

// Go's ABIInternal: everything but the goroutine (x28) and frame (x29)
// registers.
const a64GoClobber = (1<<31 - 1) &^ (1<<28 | 1<<29)

func (a *arm64) SyscallNumber() Loc { return RegLoc(a64X8) }

func (a *arm64) IntArg(i int) Loc {
	if i < 8 {
		return RegLoc(i)
	}
	return StackLoc(int32(8 * (i - 8)))
}

func (a *arm64) RetAddrSize() int32 { return 0 }

func (a *arm64) RelocKind(typ uint32) RelocKind {
	switch typ {
	case 257, 1025, 1026: // R_AARCH64_ABS64, GLOB_DAT, JUMP_SLOT
		return RelocSymbol
	case 1027:
		return RelocRelative
	case 1032:
		return RelocIRelative
	}
	return relocOther
}

// PltSlot reads adrp x16, page; ldr x17, [x16, #off]: the shape of every
// AArch64 PLT entry (after an optional bti c).
func (a *arm64) PltSlot(code []byte, pc uint64) (uint64, bool) {
	var page uint64
	havePage := false
	for off := 0; off+4 <= len(code) && off < 16; off += 4 {
		enc := binary.LittleEndian.Uint32(code[off:])
		at := pc + uint64(off)
		switch {
		case enc&0x9f000000 == 0x90000000: // adrp
			page, havePage = adrpTarget(enc, at), true
		case enc&0xffc00000 == 0xf9400000 && havePage: // ldr xt, [xn, #imm]
			return page + uint64((enc>>10)&0xfff)<<3, true
		}
	}
	return 0, false
}

func adrpTarget(enc uint32, pc uint64) uint64 {
	imm := int64(((enc>>5)&0x7ffff)<<2|(enc>>29)&3) << 43 >> 31 // sign-extend 21 bits, <<12
	return pc&^0xfff + uint64(imm)
}

func adrTarget(enc uint32, pc uint64) uint64 {
	imm := int64(((enc>>5)&0x7ffff)<<2|(enc>>29)&3) << 43 >> 43
	return pc + uint64(imm)
}

func signExtend(v uint32, bits uint) int64 {
	return int64(v) << (64 - bits) >> (64 - bits)
}

// a64Reg maps a W or X register to its number; the zero register is not
// a location.
func a64Reg(r arm64asm.Reg) (int, bool) {
	switch {
	case r >= arm64asm.W0 && r <= arm64asm.W30:
		return int(r - arm64asm.W0), true
	case r >= arm64asm.X0 && r <= arm64asm.X30:
		return int(r - arm64asm.X0), true
	}
	return 0, false
}

func (a *arm64) Decode(code []byte, pc uint64, out []Inst) []Inst {
	// Addresses materialised by adrp (and adrp+add), per register, for
	// the references of the instructions that use them; and the slot a
	// register was loaded from, for blr/br through the GOT.
	var page [32]uint64
	var slot [32]uint64
	clear := func(r int) {
		if r >= 0 && r < 32 {
			page[r], slot[r] = 0, 0
		}
	}
	for off := 0; off+4 <= len(code); off += 4 {
		enc := binary.LittleEndian.Uint32(code[off:])
		in := a64Inst{Inst: Inst{PC: pc + uint64(off), n: 4}}
		a.facts(enc, &in, &page, &slot)
		if in.Kind == InstBad {
			// A64 keeps the destination in bits 4:0 of nearly every
			// encoding arm64asm does not know (LSE atomics, pointer
			// authentication): treat it as written, nothing else.
			in.Kind = instPlain
			in.addDef(Def{how: defUnknown, Dst: RegLoc(int(enc & 31))})
		}
		if !in.keepPage {
			for _, d := range in.Defs {
				if d.how != defNone && !d.Dst.IsStack() {
					clear(int(d.Dst.reg))
				}
			}
		}
		for r := range 31 {
			if in.clobber&(1<<r) != 0 {
				clear(r)
			}
		}
		out = append(out, in.Inst)
	}
	return out
}

// a64Inst is inst plus what decode needs to keep its adrp tracking.
type a64Inst struct {
	Inst
	keepPage bool
}

func (a *arm64) facts(enc uint32, in *a64Inst, page, slot *[32]uint64) {
	pc := in.PC
	clobberCall := uint64(a64CallerSaved)
	if a.opts.GoABI {
		clobberCall = a64GoClobber
	}
	rd, rn := int(enc&31), int((enc>>5)&31)
	switch {
	case enc&0xfc000000 == 0x14000000: // b
		in.Kind, in.Target = InstJump, pc+uint64(signExtend(enc&0x3ffffff, 26)<<2)
		return
	case enc&0xfc000000 == 0x94000000: // bl
		in.Kind, in.Target = InstCall, pc+uint64(signExtend(enc&0x3ffffff, 26)<<2)
		in.clobber = clobberCall
		return
	case enc&0xff000010 == 0x54000000, enc&0x7e000000 == 0x34000000: // b.cond, cbz/cbnz
		in.Kind, in.Target = InstCondJump, pc+uint64(signExtend((enc>>5)&0x7ffff, 19)<<2)
		return
	case enc&0x7e000000 == 0x36000000: // tbz/tbnz
		in.Kind, in.Target = InstCondJump, pc+uint64(signExtend((enc>>5)&0x3fff, 14)<<2)
		return
	case enc&0xfffffc1f == 0xd61f0000: // br
		in.Kind = instJumpInd
		if s := slot[rn]; s != 0 {
			in.Kind, in.Target = InstJumpMem, s
		}
		return
	case enc&0xfffffc1f == 0xd63f0000: // blr
		in.Kind = InstCallInd
		if s := slot[rn]; s != 0 {
			in.Kind, in.Target = InstCallMem, s
		}
		in.clobber = clobberCall
		return
	case enc&0xfffffc1f == 0xd65f0000, enc&0xfffffbff == 0xd65f0bff: // ret, retaa/retab
		in.Kind = instRet
		return
	case enc&0xfefff800 == 0xd61f0800: // braa/brab (and the blr forms, bit 21)
		in.Kind = instJumpInd
		if enc&(1<<21) != 0 {
			in.Kind, in.clobber = InstCallInd, clobberCall
		}
		return
	case enc == 0xd4000001: // svc #0
		in.Kind = InstSyscall
		in.clobber = 1 << 0
		return
	case enc&0xffe0001f == 0xd4200000, enc&0xffe0001f == 0xd4400000, enc>>16 == 0: // brk, hlt, udf
		in.Kind = instHalt
		return
	case enc&0x9f000000 == 0x90000000: // adrp
		t := adrpTarget(enc, pc)
		in.addDef(Def{how: defUnknown, Dst: RegLoc(rd)})
		in.keepPage = true
		page[rd], slot[rd] = t, 0
		return
	case enc&0x9f000000 == 0x10000000: // adr
		t := adrTarget(enc, pc)
		in.addRef(t)
		in.addDef(Def{how: defUnknown, Dst: RegLoc(rd)})
		in.keepPage = true
		page[rd], slot[rd] = t, 0
		return
	case enc&0xbf000000 == 0x18000000: // ldr literal (w/x)
		t := pc + uint64(signExtend((enc>>5)&0x7ffff, 19)<<2)
		in.addRef(t)
		in.addDef(Def{how: defUnknown, Dst: RegLoc(rd)})
		in.keepPage = true
		page[rd], slot[rd] = 0, t
		return
	case enc&0x1f000000 == 0x11000000: // add/sub immediate
		imm := int64((enc >> 10) & 0xfff)
		if enc&(1<<22) != 0 {
			imm <<= 12
		}
		sub, setFlags := enc&(1<<30) != 0, enc&(1<<29) != 0
		if sub {
			imm = -imm
		}
		switch {
		case rd == 31 && !setFlags && rn == 31: // add/sub sp, sp, #imm
			in.spDelta = int32(imm)
		case rd == 31 && !setFlags:
			in.spLost = true
		case rn == 31 && !setFlags: // add xd, sp, #imm: an address on the stack
			in.addDef(Def{how: defUnknown, Dst: RegLoc(rd)})
		case rd == 31: // cmp/cmn
		default:
			in.addDef(Def{how: defUnknown, Dst: RegLoc(rd)})
			if p := page[rn]; p != 0 && !sub {
				t := p + uint64(imm)
				in.addRef(t)
				in.keepPage = true
				page[rd], slot[rd] = t, 0
			}
		}
		return
	case enc&0x7f800000 == 0x52800000: // movz
		v := uint64((enc>>5)&0xffff) << (16 * ((enc >> 21) & 3))
		in.addDef(Def{how: defConst, Dst: RegLoc(rd), val: int64(v)})
		return
	case enc&0x7f800000 == 0x12800000: // movn
		v := ^(uint64((enc>>5)&0xffff) << (16 * ((enc >> 21) & 3)))
		if enc&(1<<31) == 0 {
			v = uint64(uint32(v))
		}
		in.addDef(Def{how: defConst, Dst: RegLoc(rd), val: int64(v)})
		return
	case enc&0xbfc00000 == 0xb9400000: // ldr (unsigned offset)
		scale := uint((enc >> 30) & 3)
		off := uint64((enc>>10)&0xfff) << scale
		a.load(in, rd, rn, int64(off), page, slot)
		return
	case enc&0xbfc00000 == 0xb9000000: // str (unsigned offset)
		scale := uint((enc >> 30) & 3)
		off := int64((enc>>10)&0xfff) << scale
		if rn == 31 {
			in.addDef(storeDef(rd, int32(off), enc&(1<<30) != 0))
		} else if p := page[rn]; p != 0 {
			in.addRef(p + uint64(off))
		}
		return
	case enc&0xbfe00400 == 0xb8000400: // str pre/post index
		imm := int32(signExtend((enc>>12)&0x1ff, 9))
		pre := enc&(1<<11) != 0
		if rn == 31 {
			in.spDelta = imm
			at := int32(0) // after-coordinates of the stored slot
			if !pre {
				at = -imm
			}
			in.addDef(storeDef(rd, at, enc&(1<<30) != 0))
		} else {
			in.addDef(Def{how: defUnknown, Dst: RegLoc(rn)})
		}
		return
	case enc&0xbfe00400 == 0xb8400400: // ldr pre/post index
		imm := int32(signExtend((enc>>12)&0x1ff, 9))
		pre := enc&(1<<11) != 0
		if rn == 31 {
			in.spDelta = imm
			at := int32(0) // before-coordinates of the loaded slot
			if pre {
				at = imm
			}
			in.addDef(Def{how: defCopy, Dst: RegLoc(rd), src: StackLoc(at)})
		} else {
			in.addDef(Def{how: defUnknown, Dst: RegLoc(rd)})
			if rn != rd {
				in.addDef(Def{how: defUnknown, Dst: RegLoc(rn)})
			}
		}
		return
	case enc&0xfe000000 == 0xa8000000 || enc&0xfe000000 == 0xa9000000: // stp/ldp (64-bit)
		a.pair(in, enc)
		return
	}

	xi, err := arm64asm.Decode(binary.LittleEndian.AppendUint32(nil, enc))
	if err != nil {
		in.Kind = InstBad
		return
	}
	switch xi.Op {
	case arm64asm.MOV:
		d, ok1 := a64Arg(xi.Args[0])
		if !ok1 {
			if r, ok := xi.Args[0].(arm64asm.RegSP); ok && arm64asm.Reg(r) == arm64asm.SP {
				in.spLost = true
			}
			return
		}
		switch s := xi.Args[1].(type) {
		case arm64asm.Reg:
			if n, ok := a64Reg(s); ok {
				in.addDef(Def{how: defCopy, Dst: RegLoc(d), src: RegLoc(n)})
			} else if s == arm64asm.XZR || s == arm64asm.WZR {
				in.addDef(Def{how: defConst, Dst: RegLoc(d)})
			} else {
				in.addDef(Def{how: defUnknown, Dst: RegLoc(d)})
			}
		case arm64asm.Imm64:
			in.addDef(Def{how: defConst, Dst: RegLoc(d), val: int64(s.Imm)})
		case arm64asm.Imm:
			in.addDef(Def{how: defConst, Dst: RegLoc(d), val: int64(s.Imm)})
		default:
			in.addDef(Def{how: defUnknown, Dst: RegLoc(d)})
		}
		return
	case arm64asm.ORR: // orr xd, xzr, #bitmask is how Go's assembler moves many constants
		if d, ok := a64Arg(xi.Args[0]); ok {
			if z, ok := xi.Args[1].(arm64asm.Reg); ok && (z == arm64asm.XZR || z == arm64asm.WZR) {
				if imm, ok := xi.Args[2].(arm64asm.Imm64); ok {
					in.addDef(Def{how: defConst, Dst: RegLoc(d), val: int64(imm.Imm)})
					return
				}
			}
			in.addDef(Def{how: defUnknown, Dst: RegLoc(d)})
		}
		return
	case arm64asm.CMP, arm64asm.CMN, arm64asm.TST, arm64asm.CCMP, arm64asm.CCMN, arm64asm.NOP, arm64asm.HINT,
		arm64asm.PRFM, arm64asm.PRFUM, arm64asm.DMB, arm64asm.DSB, arm64asm.ISB, arm64asm.MSR, arm64asm.SYS,
		arm64asm.CLREX, arm64asm.YIELD, arm64asm.WFE, arm64asm.WFI, arm64asm.SEV, arm64asm.SEVL,
		arm64asm.STLR, arm64asm.STLRB, arm64asm.STLRH, arm64asm.STNP, arm64asm.STP, arm64asm.STR, arm64asm.STRB,
		arm64asm.STRH, arm64asm.STTR, arm64asm.STTRB, arm64asm.STTRH, arm64asm.STUR, arm64asm.STURB, arm64asm.STURH,
		arm64asm.ST1, arm64asm.ST2, arm64asm.ST3, arm64asm.ST4, arm64asm.DC, arm64asm.IC, arm64asm.TLBI, arm64asm.AT:
		a.writeback(in, xi)
		return
	case arm64asm.LDP, arm64asm.LDPSW, arm64asm.LDNP, arm64asm.LDXP, arm64asm.LDAXP:
		for _, arg := range xi.Args[:2] {
			if d, ok := a64Arg(arg); ok {
				in.addDef(Def{how: defUnknown, Dst: RegLoc(d)})
			}
		}
		a.writeback(in, xi)
		return
	}
	if d, ok := a64Arg(xi.Args[0]); ok {
		in.addDef(Def{how: defUnknown, Dst: RegLoc(d)})
	} else if r, ok := xi.Args[0].(arm64asm.RegSP); ok && arm64asm.Reg(r) == arm64asm.SP {
		in.spLost = true
	}
	a.writeback(in, xi)
}

// load is ldr xt, [xn, #off]: from the stack, or from an adrp page
// (a GOT slot or a variable: remembered for blr/br).
func (a *arm64) load(in *a64Inst, rt, rn int, off int64, page, slot *[32]uint64) {
	if rn == 31 {
		in.addDef(Def{how: defCopy, Dst: RegLoc(rt), src: StackLoc(int32(off))})
		return
	}
	in.addDef(Def{how: defUnknown, Dst: RegLoc(rt)})
	if p := page[rn]; p != 0 {
		t := p + uint64(off)
		in.addRef(t)
		in.keepPage = true
		page[rt], slot[rt] = 0, t
	}
}

// storeDef is a store of register rt (64-bit: wide) to the stack slot at
// off.
func storeDef(rt int, off int32, wide bool) Def {
	if rt == 31 {
		return Def{how: defConst, Dst: StackLoc(off)} // xzr
	}
	_ = wide // a 32-bit store of a syscall number is still the number
	return Def{how: defCopy, Dst: StackLoc(off), src: RegLoc(rt)}
}

// pair is stp/ldp of 64-bit registers, the prologue and epilogue of
// nearly every function.
func (a *arm64) pair(in *a64Inst, enc uint32) {
	mode := (enc >> 23) & 3 // 1 post-index, 2 offset, 3 pre-index
	load := enc&(1<<22) != 0
	imm := int32(signExtend((enc>>15)&0x7f, 7) * 8)
	rt, rt2, rn := int(enc&31), int((enc>>10)&31), int((enc>>5)&31)
	if rn != 31 {
		if load {
			in.addDef(Def{how: defUnknown, Dst: RegLoc(rt)})
			in.addDef(Def{how: defUnknown, Dst: RegLoc(rt2)})
		}
		if mode == 1 || mode == 3 {
			in.clobber |= 1 << uint(rn)
		}
		return
	}
	at := imm // address relative to sp before the instruction
	if mode == 1 {
		at = 0 // post-index: the old sp
	}
	if mode == 1 || mode == 3 {
		in.spDelta = imm
	}
	if load {
		if rt != 31 {
			in.addDef(Def{how: defCopy, Dst: RegLoc(rt), src: StackLoc(at)})
		}
		if rt2 != 31 {
			in.addDef(Def{how: defCopy, Dst: RegLoc(rt2), src: StackLoc(at + 8)})
		}
		return
	}
	after := at - in.spDelta
	in.addDef(storeDef(rt, after, true))
	in.addDef(storeDef(rt2, after+8, true))
}

// writeback notes a base register changed by pre- or post-indexing.
func (a *arm64) writeback(in *a64Inst, xi arm64asm.Inst) {
	for _, arg := range xi.Args {
		m, ok := arg.(arm64asm.MemImmediate)
		if !ok || (m.Mode != arm64asm.AddrPreIndex && m.Mode != arm64asm.AddrPostIndex && m.Mode != arm64asm.AddrPostReg) {
			continue
		}
		if arm64asm.Reg(m.Base) == arm64asm.SP || arm64asm.Reg(m.Base) == arm64asm.WSP {
			in.spLost = true // a form the encodings above did not cover
			continue
		}
		if n, ok := a64Reg(arm64asm.Reg(m.Base)); ok {
			in.clobber |= 1 << uint(n)
		}
	}
}

func a64Arg(a arm64asm.Arg) (int, bool) {
	switch r := a.(type) {
	case arm64asm.Reg:
		return a64Reg(r)
	case arm64asm.RegSP:
		if arm64asm.Reg(r) == arm64asm.SP || arm64asm.Reg(r) == arm64asm.WSP {
			return 0, false
		}
		return a64Reg(arm64asm.Reg(r))
	}
	return 0, false
}
