package analyze

import "debug/elf"

// An isa decodes one instruction set into arch-neutral facts: what an
// instruction branches to, which addresses it mentions, and how it moves
// values between registers and stack slots (enough for the backward data
// flow that finds syscall numbers). Adding an architecture means writing
// one of these.
type isa interface {
	// decode decodes the instructions of code, which starts at pc. It
	// never fails: bytes it cannot decode become one-byte instructions
	// of kind instBad so that the sweep can resynchronise.
	decode(code []byte, pc uint64, out []inst) []inst
	// syscallNumber is where the syscall instruction takes its number.
	syscallNumber() loc
	// intArg is where a callee finds integer argument i at a call site.
	intArg(i int) loc
	// pltSlot decodes the PLT stub at code (starting at pc) and returns
	// the address of the GOT slot it jumps through.
	pltSlot(code []byte, pc uint64) (uint64, bool)
	// retAddrSize is how many bytes a call pushes (the return address on
	// x86_64; nothing on arm64, which keeps it in a register).
	retAddrSize() int32
	// relocKind classifies an ELF relocation type.
	relocKind(typ uint32) relocKind
}

// isaOptions are facts about the module that change how its code reads.
type isaOptions struct {
	// goABI: calls clobber every register (Go's ABIInternal has no
	// callee-saved registers), not only the C caller-saved ones.
	goABI bool
	// absolute: the module is not position independent (ET_EXEC), so
	// immediates and absolute memory operands may be addresses.
	absolute bool
}

type relocKind uint8

const (
	relocOther     relocKind = iota
	relocSymbol              // JUMP_SLOT, GLOB_DAT, 64: the slot holds a symbol's address
	relocRelative            // RELATIVE: the slot holds base+addend
	relocIRelative           // IRELATIVE: the slot holds what the resolver at addend returns
)

func newISA(m elf.Machine, opts isaOptions) (isa, bool) {
	switch m {
	case elf.EM_X86_64:
		return &x86{opts: opts}, true
	case elf.EM_AARCH64:
		return &arm64{opts: opts}, true
	}
	return nil, false
}

// instKind says how control leaves an instruction.
type instKind uint8

const (
	instPlain    instKind = iota // falls through
	instBad                      // undecodable byte
	instSyscall                  // syscall / svc #0
	instCall                     // direct call to target
	instCallMem                  // call through the memory slot at target (GOT, or a variable)
	instCallInd                  // call through a register or computed address
	instJump                     // unconditional direct jump to target
	instJumpMem                  // jump through the memory slot at target
	instJumpInd                  // jump through a register or computed address
	instCondJump                 // conditional jump to target, or fall through
	instRet                      // return
	instHalt                     // ud2, hlt, int3: does not continue
)

// terminal reports whether control never falls through to the next
// instruction.
func (k instKind) terminal() bool {
	switch k {
	case instJump, instJumpMem, instJumpInd, instRet, instHalt:
		return true
	}
	return false
}

// loc is a place a value lives: a register (reg >= 0, canonical full-width
// number of the isa) or a stack slot at off bytes above the current stack
// pointer (reg == locStack).
type loc struct {
	reg int8
	off int32
}

const locStack = -1

func regLoc(r int) loc       { return loc{reg: int8(r)} }
func stackLoc(off int32) loc { return loc{reg: locStack, off: off} }
func (l loc) isStack() bool  { return l.reg == locStack }

var noLoc = loc{reg: -2}

// defHow says how an instruction sets a location.
type defHow uint8

const (
	defNone    defHow = iota
	defConst          // dst = val
	defCopy           // dst = src (src in the coordinates before the instruction)
	defUnknown        // dst = something the flow does not follow
)

// def is one location an instruction writes. dst is in the coordinates
// after the instruction (its stack pointer change applied), src in those
// before it.
type def struct {
	how defHow
	dst loc
	src loc
	val int64
}

// inst is what the analysis needs to know about one instruction.
type inst struct {
	pc     uint64
	target uint64 // direct branch target, or the memory slot of *Mem kinds
	refs   [2]uint64
	defs   [2]def
	// clobber is a mask of registers whose value becomes unknown.
	clobber uint64
	spDelta int32 // stack pointer after = before + spDelta
	n       uint8 // length in bytes
	kind    instKind
	// spLost: the stack pointer changes by an amount the flow cannot know
	// (leave, and $-16, %rsp; mov %rbp, %rsp).
	spLost bool
}

func (in *inst) addRef(a uint64) {
	if a == 0 {
		return
	}
	for i := range in.refs {
		if in.refs[i] == a {
			return
		}
		if in.refs[i] == 0 {
			in.refs[i] = a
			return
		}
	}
}

func (in *inst) addDef(d def) {
	for i := range in.defs {
		if in.defs[i].how == defNone {
			in.defs[i] = d
			return
		}
	}
	// No room: be conservative about the destination.
	if !d.dst.isStack() && d.dst.reg >= 0 {
		in.clobber |= 1 << uint(d.dst.reg)
	} else {
		in.spLost = true
	}
}
