package cbpf

import (
	"encoding/binary"
	"fmt"
	"strings"

	"golang.org/x/net/bpf"
)

// Classic BPF opcodes the builder emits (linux/bpf_common.h).
const (
	codeLdAbsW     = 0x20 // BPF_LD | BPF_W | BPF_ABS
	codeAndK       = 0x54 // BPF_ALU | BPF_AND | BPF_K
	codeJa         = 0x05 // BPF_JMP | BPF_JA
	codeJeqK       = 0x15 // BPF_JMP | BPF_JEQ | BPF_K
	codeJgtK       = 0x25 // BPF_JMP | BPF_JGT | BPF_K
	codeJgeK       = 0x35 // BPF_JMP | BPF_JGE | BPF_K
	codeJsetK      = 0x45 // BPF_JMP | BPF_JSET | BPF_K
	codeRetK       = 0x06 // BPF_RET | BPF_K
	sockFilterSize = 8    // sizeof(struct sock_filter)
)

var jumpCodes = map[bpf.JumpTest]uint16{
	bpf.JumpEqual:          codeJeqK,
	bpf.JumpGreaterThan:    codeJgtK,
	bpf.JumpGreaterOrEqual: codeJgeK,
	bpf.JumpBitsSet:        codeJsetK,
}

var jumpNames = map[bpf.JumpTest]string{
	bpf.JumpEqual:          "jeq",
	bpf.JumpGreaterThan:    "jgt",
	bpf.JumpGreaterOrEqual: "jge",
	bpf.JumpBitsSet:        "jset",
}

// Program is an assembled filter: instructions with resolved jumps, each
// with the note the builder gave it. The zero value is an empty program.
type Program struct {
	insns []insn
}

// Len returns the number of instructions.
func (p Program) Len() int { return len(p.insns) }

// Instructions returns the program as x/net/bpf instructions.
func (p Program) Instructions() []bpf.Instruction {
	out := make([]bpf.Instruction, len(p.insns))
	for i, in := range p.insns {
		switch in.op {
		case opLoad:
			out[i] = bpf.LoadAbsolute{Off: in.k, Size: 4}
		case opAnd:
			out[i] = bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: in.k}
		case opJumpIf:
			out[i] = bpf.JumpIf{Cond: in.cond, Val: in.k, SkipTrue: uint8(in.skipT), SkipFalse: uint8(in.skipF)}
		case opJump:
			out[i] = bpf.Jump{Skip: uint32(in.skipT)}
		case opRet:
			out[i] = bpf.RetConstant{Val: in.k}
		}
	}
	return out
}

// Raw returns the program as struct sock_filter values.
func (p Program) Raw() []bpf.RawInstruction {
	out := make([]bpf.RawInstruction, len(p.insns))
	for i, in := range p.insns {
		switch in.op {
		case opLoad:
			out[i] = bpf.RawInstruction{Op: codeLdAbsW, K: in.k}
		case opAnd:
			out[i] = bpf.RawInstruction{Op: codeAndK, K: in.k}
		case opJumpIf:
			out[i] = bpf.RawInstruction{Op: jumpCodes[in.cond], Jt: uint8(in.skipT), Jf: uint8(in.skipF), K: in.k}
		case opJump:
			out[i] = bpf.RawInstruction{Op: codeJa, K: uint32(in.skipT)}
		case opRet:
			out[i] = bpf.RawInstruction{Op: codeRetK, K: in.k}
		}
	}
	return out
}

// Encode returns the program as the kernel takes it (struct sock_fprog's
// filter): an array of little-endian struct sock_filter {u16 code; u8
// jt; u8 jf; u32 k}. Every arch sysrec supports is little-endian.
func (p Program) Encode() []byte {
	return encode(p.Raw())
}

func encode(raw []bpf.RawInstruction) []byte {
	b := make([]byte, sockFilterSize*len(raw))
	for i, r := range raw {
		w := b[sockFilterSize*i:]
		binary.LittleEndian.PutUint16(w[0:], r.Op)
		w[2], w[3] = r.Jt, r.Jf
		binary.LittleEndian.PutUint32(w[4:], r.K)
	}
	return b
}

// Disassemble returns one line per instruction, "index: instruction",
// jumps with absolute targets, followed by "; note" where there is one.
func (p Program) Disassemble() string {
	var b strings.Builder
	for i, in := range p.insns {
		var s string
		switch in.op {
		case opLoad:
			s = fmt.Sprintf("ld  [%d]", in.k)
		case opAnd:
			s = fmt.Sprintf("and #%#x", in.k)
		case opJumpIf:
			s = fmt.Sprintf("%-4s #%#x -> %d, %d", jumpNames[in.cond], in.k, i+1+in.skipT, i+1+in.skipF)
		case opJump:
			s = fmt.Sprintf("ja  %d", i+1+in.skipT)
		case opRet:
			s = fmt.Sprintf("ret #%#x", in.k)
		}
		if in.note != "" {
			fmt.Fprintf(&b, "%4d: %-28s ; %s\n", i, s, in.note)
		} else {
			fmt.Fprintf(&b, "%4d: %s\n", i, s)
		}
	}
	return b.String()
}
