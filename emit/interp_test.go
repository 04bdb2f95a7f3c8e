package emit

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/net/bpf"

	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// seccompData lays d out as the kernel's struct seccomp_data, native
// (little-endian) byte order: nr, arch, instruction_pointer, args[6].
func seccompData(d linuxabi.SeccompData) []byte {
	b := make([]byte, 64)
	binary.LittleEndian.PutUint32(b[0:], uint32(d.Nr))
	binary.LittleEndian.PutUint32(b[4:], d.Arch)
	for i, a := range d.Args {
		binary.LittleEndian.PutUint64(b[16+8*i:], a)
	}
	return b
}

// run interprets a classic BPF program the way the kernel runs a seccomp
// filter (loads are native-endian 32-bit words of seccomp_data; x/net's
// VM loads big-endian packets and cannot be used). It returns the return
// value and the number of instructions executed.
func run(prog []bpf.RawInstruction, d linuxabi.SeccompData) (uint32, int, error) {
	data := seccompData(d)
	var a, x uint32
	var mem [16]uint32
	steps := 0
	for pc := 0; pc < len(prog); pc++ {
		steps++
		in := prog[pc]
		switch in.Op & 0x07 {
		case 0x00: // LD
			switch in.Op {
			case 0x20: // ld [k]
				if in.K%4 != 0 || in.K+4 > 64 {
					return 0, steps, fmt.Errorf("pc %d: load at %d", pc, in.K)
				}
				a = binary.LittleEndian.Uint32(data[in.K:])
			case 0x00: // ld #k
				a = in.K
			case 0x60: // ld M[k]
				a = mem[in.K]
			default:
				return 0, steps, fmt.Errorf("pc %d: load op %#x", pc, in.Op)
			}
		case 0x01: // LDX
			switch in.Op {
			case 0x01:
				x = in.K
			case 0x61:
				x = mem[in.K]
			default:
				return 0, steps, fmt.Errorf("pc %d: ldx op %#x", pc, in.Op)
			}
		case 0x02: // ST
			mem[in.K] = a
		case 0x03: // STX
			mem[in.K] = x
		case 0x04: // ALU
			v := in.K
			if in.Op&0x08 != 0 {
				v = x
			}
			switch in.Op & 0xf0 {
			case 0x00:
				a += v
			case 0x10:
				a -= v
			case 0x20:
				a *= v
			case 0x50:
				a &= v
			case 0x40:
				a |= v
			case 0x60:
				a <<= v
			case 0x70:
				a >>= v
			case 0xa0:
				a ^= v
			default:
				return 0, steps, fmt.Errorf("pc %d: alu op %#x", pc, in.Op)
			}
		case 0x05: // JMP
			if in.Op == 0x05 { // ja
				pc += int(in.K)
				continue
			}
			v := in.K
			if in.Op&0x08 != 0 {
				v = x
			}
			var cond bool
			switch in.Op & 0xf0 {
			case 0x10:
				cond = a == v
			case 0x20:
				cond = a > v
			case 0x30:
				cond = a >= v
			case 0x40:
				cond = a&v != 0
			default:
				return 0, steps, fmt.Errorf("pc %d: jump op %#x", pc, in.Op)
			}
			if cond {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case 0x06: // RET
			if in.Op == 0x06 {
				return in.K, steps, nil
			}
			return a, steps, nil
		case 0x07: // MISC
			if in.Op == 0x07 {
				x = a
			} else {
				a = x
			}
		}
	}
	return 0, steps, fmt.Errorf("fell off the end")
}

// compileRaw compiles p and assembles it.
func compileRaw(p *profiles.Profile, opts Options) ([]bpf.RawInstruction, error) {
	insns, err := BPF(p, opts)
	if err != nil {
		return nil, err
	}
	return bpf.Assemble(insns)
}
