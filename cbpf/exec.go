package cbpf

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/net/bpf"

	"github.com/sysrec/sysrec/linuxabi"
)

// Instruction classes and fields (linux/bpf_common.h, linux/filter.h).
const (
	classLd   = 0x00
	classLdx  = 0x01
	classSt   = 0x02
	classStx  = 0x03
	classAlu  = 0x04
	classJmp  = 0x05
	classRet  = 0x06
	classMisc = 0x07

	srcX = 0x08 // BPF_X: the operand is X, not k

	memWords = 16 // BPF_MEMWORDS
)

// Exec runs prog on d the way the kernel runs a seccomp filter: loads
// read native-endian (little-endian) 32-bit words of struct
// seccomp_data, M[] has 16 words, and division by an X of zero returns
// 0. It returns the filter's return value and the number of
// instructions executed, the return included.
//
// It fails on what the kernel would refuse to load, when the run gets
// there: an instruction seccomp does not allow (packet loads, MOD, RET
// X, ...), a load outside seccomp_data or not word-aligned, an M[] index
// out of range or read before it was written, a constant division by
// zero or shift by 32 or more, a jump past the end, and a last
// instruction that is not a return.
func Exec(prog []bpf.RawInstruction, d linuxabi.SeccompData) (ret uint32, steps int, err error) {
	var data [linuxabi.SeccompDataSize]byte
	binary.LittleEndian.PutUint32(data[linuxabi.OffNr:], uint32(d.Nr))
	binary.LittleEndian.PutUint32(data[linuxabi.OffArch:], d.Arch)
	for i, a := range d.Args {
		binary.LittleEndian.PutUint64(data[linuxabi.OffArgs+8*i:], a)
	}
	var (
		a, x    uint32
		mem     [memWords]uint32
		written uint16 // bit i: M[i] has been stored
	)
	fail := func(pc int, format string, args ...any) (uint32, int, error) {
		return 0, steps, fmt.Errorf("execute filter: instruction %d: %s", pc, fmt.Sprintf(format, args...))
	}
	for pc := 0; pc < len(prog); pc++ {
		steps++
		in := prog[pc]
		switch in.Op & 0x07 {
		case classLd, classLdx:
			var v uint32
			switch in.Op &^ 0x07 {
			case 0x20: // BPF_W | BPF_ABS
				if in.Op != 0x20 {
					return fail(pc, "opcode %#x not allowed in seccomp", in.Op)
				}
				if in.K%4 != 0 || in.K >= linuxabi.SeccompDataSize {
					return fail(pc, "load at offset %d outside seccomp_data or unaligned", in.K)
				}
				v = binary.LittleEndian.Uint32(data[in.K:])
			case 0x80: // BPF_W | BPF_LEN
				v = linuxabi.SeccompDataSize
			case 0x00: // BPF_IMM
				v = in.K
			case 0x60: // BPF_MEM
				if in.K >= memWords {
					return fail(pc, "M[%d] out of range", in.K)
				}
				if written&(1<<in.K) == 0 {
					return fail(pc, "M[%d] read before it was written", in.K)
				}
				v = mem[in.K]
			default:
				return fail(pc, "opcode %#x not allowed in seccomp", in.Op)
			}
			if in.Op&0x07 == classLd {
				a = v
			} else {
				x = v
			}
		case classSt, classStx:
			if in.Op&^0x07 != 0 {
				return fail(pc, "opcode %#x not allowed in seccomp", in.Op)
			}
			if in.K >= memWords {
				return fail(pc, "M[%d] out of range", in.K)
			}
			if in.Op == classSt {
				mem[in.K] = a
			} else {
				mem[in.K] = x
			}
			written |= 1 << in.K
		case classAlu:
			v := in.K
			if in.Op&srcX != 0 {
				v = x
			}
			switch in.Op &^ srcX {
			case 0x04: // ADD
				a += v
			case 0x14: // SUB
				a -= v
			case 0x24: // MUL
				a *= v
			case 0x34: // DIV
				if v == 0 {
					if in.Op&srcX == 0 {
						return fail(pc, "division by constant zero")
					}
					return 0, steps, nil // what the kernel does for X == 0
				}
				a /= v
			case 0x44: // OR
				a |= v
			case 0x54: // AND
				a &= v
			case 0x64, 0x74: // LSH, RSH
				if in.Op&srcX == 0 && v >= 32 {
					return fail(pc, "shift by constant %d", v)
				}
				// The kernel leaves a shift by X >= 32 to the CPU; every
				// arch sysrec supports takes the count modulo 32.
				v &= 31
				if in.Op&^srcX == 0x64 {
					a <<= v
				} else {
					a >>= v
				}
			case 0x84: // NEG
				if in.Op&srcX != 0 {
					return fail(pc, "opcode %#x not allowed in seccomp", in.Op)
				}
				a = -a
			case 0xa4: // XOR
				a ^= v
			default:
				return fail(pc, "opcode %#x not allowed in seccomp", in.Op)
			}
		case classJmp:
			if in.Op == 0x05 { // JA
				to := pc + 1 + int(in.K)
				if to >= len(prog) {
					return fail(pc, "jump to %d past the end", to)
				}
				pc = to - 1
				continue
			}
			v := in.K
			if in.Op&srcX != 0 {
				v = x
			}
			var cond bool
			switch in.Op &^ srcX {
			case 0x15: // JEQ
				cond = a == v
			case 0x25: // JGT
				cond = a > v
			case 0x35: // JGE
				cond = a >= v
			case 0x45: // JSET
				cond = a&v != 0
			default:
				return fail(pc, "opcode %#x not allowed in seccomp", in.Op)
			}
			// The kernel checks both targets at load time.
			if t, f := pc+1+int(in.Jt), pc+1+int(in.Jf); max(t, f) >= len(prog) {
				return fail(pc, "jump to %d past the end", max(t, f))
			}
			if cond {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case classRet:
			switch in.Op {
			case 0x06: // RET K
				return in.K, steps, nil
			case 0x16: // RET A
				return a, steps, nil
			}
			return fail(pc, "opcode %#x not allowed in seccomp", in.Op)
		case classMisc:
			switch in.Op {
			case 0x07: // TAX
				x = a
			case 0x87: // TXA
				a = x
			default:
				return fail(pc, "opcode %#x not allowed in seccomp", in.Op)
			}
		}
		if pc == len(prog)-1 {
			return fail(pc, "the last instruction is not a return")
		}
	}
	return 0, steps, errors.New("execute filter: no instructions")
}
