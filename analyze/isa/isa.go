package isa

import "debug/elf"

// An ISA decodes one instruction set into arch-neutral facts: what an
// instruction branches to, which addresses it mentions, and how it moves
// values between registers and stack slots (enough for the backward data
// flow that finds syscall numbers). Adding an architecture means writing
// one of these.
type ISA interface {
	// Decode decodes the instructions of code, which starts at pc. It
	// never fails: bytes it cannot decode become one-byte instructions
	// of kind instBad so that the sweep can resynchronise.
	Decode(code []byte, pc uint64, out []Inst) []Inst
	// SyscallNumber is where the syscall instruction takes its number.
	SyscallNumber() Loc
	// IntArg is where a callee finds integer argument i at a call site.
	IntArg(i int) Loc
	// PltSlot decodes the PLT stub at code (starting at pc) and returns
	// the address of the GOT slot it jumps through.
	PltSlot(code []byte, pc uint64) (uint64, bool)
	// RetAddrSize is how many bytes a call pushes (the return address on
	// x86_64; nothing on arm64, which keeps it in a register).
	RetAddrSize() int32
	// RelocKind classifies an ELF relocation type.
	RelocKind(typ uint32) RelocKind
}

// Options are facts about the module that change how its code reads.
type Options struct {
	// goABI: calls clobber every register (Go's ABIInternal has no
	// callee-saved registers), not only the C caller-saved ones.
	GoABI bool
	// absolute: the module is not position independent (ET_EXEC), so
	// immediates and absolute memory operands may be addresses.
	Absolute bool
}

type RelocKind uint8

const (
	relocOther     RelocKind = iota
	RelocSymbol              // JUMP_SLOT, GLOB_DAT, 64: the slot holds a symbol's address
	RelocRelative            // RELATIVE: the slot holds base+addend
	RelocIRelative           // IRELATIVE: the slot holds what the resolver at addend returns
)

func New(m elf.Machine, opts Options) (ISA, bool) {
	switch m {
	case elf.EM_X86_64:
		return &x86{opts: opts}, true
	case elf.EM_AARCH64:
		return &arm64{opts: opts}, true
	}
	return nil, false
}

// InstKind says how control leaves an instruction.
type InstKind uint8

const (
	instPlain    InstKind = iota // falls through
	InstBad                      // undecodable byte
	InstSyscall                  // syscall / svc #0
	InstCall                     // direct call to target
	InstCallMem                  // call through the memory slot at target (GOT, or a variable)
	InstCallInd                  // call through a register or computed address
	InstJump                     // unconditional direct jump to target
	InstJumpMem                  // jump through the memory slot at target
	instJumpInd                  // jump through a register or computed address
	InstCondJump                 // conditional jump to target, or fall through
	instRet                      // return
	instHalt                     // ud2, hlt, int3: does not continue
)

// terminal reports whether control never falls through to the next
// instruction.
func (k InstKind) terminal() bool {
	switch k {
	case InstJump, InstJumpMem, instJumpInd, instRet, instHalt:
		return true
	}
	return false
}

// Loc is a place a value lives: a register (reg >= 0, canonical full-width
// number of the isa) or a stack slot at off bytes above the current stack
// pointer (reg == locStack).
type Loc struct {
	reg int8
	Off int32
}

const locStack = -1

func RegLoc(r int) Loc       { return Loc{reg: int8(r)} }
func StackLoc(off int32) Loc { return Loc{reg: locStack, Off: off} }
func (l Loc) IsStack() bool  { return l.reg == locStack }

var noLoc = Loc{reg: -2}

// DefHow says how an instruction sets a location.
type DefHow uint8

const (
	defNone    DefHow = iota
	defConst          // dst = val
	defCopy           // dst = src (src in the coordinates before the instruction)
	defUnknown        // dst = something the flow does not follow
)

// Def is one location an instruction writes. dst is in the coordinates
// after the instruction (its stack pointer change applied), src in those
// before it.
type Def struct {
	how DefHow
	Dst Loc
	src Loc
	val int64
}

// Inst is what the analysis needs to know about one instruction.
type Inst struct {
	PC     uint64
	Target uint64 // direct branch target, or the memory slot of *Mem kinds
	Refs   [2]uint64
	Defs   [2]Def
	// clobber is a mask of registers whose value becomes unknown.
	clobber uint64
	spDelta int32 // stack pointer after = before + spDelta
	n       uint8 // length in bytes
	Kind    InstKind
	// spLost: the stack pointer changes by an amount the flow cannot know
	// (leave, and $-16, %rsp; mov %rbp, %rsp).
	spLost bool
}

func (in *Inst) addRef(a uint64) {
	if a == 0 {
		return
	}
	for i := range in.Refs {
		if in.Refs[i] == a {
			return
		}
		if in.Refs[i] == 0 {
			in.Refs[i] = a
			return
		}
	}
}

func (in *Inst) addDef(d Def) {
	for i := range in.Defs {
		if in.Defs[i].how == defNone {
			in.Defs[i] = d
			return
		}
	}
	// No room: be conservative about the destination.
	if !d.Dst.IsStack() && d.Dst.reg >= 0 {
		in.clobber |= 1 << uint(d.Dst.reg)
	} else {
		in.spLost = true
	}
}
