package cbpf

import (
	"strings"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/sysrec/sysrec/linuxabi"
)

// execData is the seccomp_data every Exec case runs on.
var execData = linuxabi.SeccompData{
	Nr:   59,
	Arch: 0xc000003e,
	Args: [6]uint64{0x1_0000_0002, 7, 0, 0, 0, 0xffffffff_fffffff0},
}

func ldA(off uint32) bpf.Instruction { return bpf.LoadAbsolute{Off: off, Size: 4} }
func ldK(k uint32) bpf.Instruction   { return bpf.LoadConstant{Dst: bpf.RegA, Val: k} }
func ldX(k uint32) bpf.Instruction   { return bpf.LoadConstant{Dst: bpf.RegX, Val: k} }
func aluK(op bpf.ALUOp, k uint32) bpf.Instruction {
	return bpf.ALUOpConstant{Op: op, Val: k}
}

var retA = bpf.RetA{}

func TestExec(t *testing.T) {
	for _, tc := range []struct {
		name      string
		insns     []bpf.Instruction    // assembled by x/net/bpf
		raw       []bpf.RawInstruction // or given raw, for what x/net/bpf refuses
		want      uint32
		wantSteps int
		wantErr   string
	}{
		// Returns.
		{name: "ret k", insns: []bpf.Instruction{bpf.RetConstant{Val: 0x7fff0000}}, want: 0x7fff0000, wantSteps: 1},
		{name: "ret a", insns: []bpf.Instruction{ldK(5), retA}, want: 5, wantSteps: 2},
		{name: "ret x not allowed", raw: []bpf.RawInstruction{{Op: 0x0e}}, wantErr: "instruction 0: opcode 0xe not allowed in seccomp", wantSteps: 1},

		// Loads: native-endian words of seccomp_data.
		{name: "ld nr", insns: []bpf.Instruction{ldA(linuxabi.OffNr), retA}, want: 59, wantSteps: 2},
		{name: "ld arch", insns: []bpf.Instruction{ldA(linuxabi.OffArch), retA}, want: 0xc000003e, wantSteps: 2},
		{name: "ld instruction pointer", insns: []bpf.Instruction{ldA(linuxabi.OffIP), retA}, want: 0, wantSteps: 2},
		{name: "ld arg0 low", insns: []bpf.Instruction{ldA(linuxabi.ArgLow(0)), retA}, want: 2, wantSteps: 2},
		{name: "ld arg0 high", insns: []bpf.Instruction{ldA(linuxabi.ArgHigh(0)), retA}, want: 1, wantSteps: 2},
		{name: "ld arg5 high, the last word", insns: []bpf.Instruction{ldA(linuxabi.ArgHigh(5)), retA}, want: 0xffffffff, wantSteps: 2},
		{name: "ld past seccomp_data", insns: []bpf.Instruction{ldA(64), retA}, wantErr: "instruction 0: load at offset 64 outside seccomp_data or unaligned", wantSteps: 1},
		{name: "ld far past seccomp_data", insns: []bpf.Instruction{ldA(0xfffffffc), retA}, wantErr: "load at offset 4294967292 outside", wantSteps: 1},
		{name: "ld unaligned", insns: []bpf.Instruction{ldA(2), retA}, wantErr: "load at offset 2 outside seccomp_data or unaligned", wantSteps: 1},
		{name: "ld half word not allowed", insns: []bpf.Instruction{bpf.LoadAbsolute{Off: 0, Size: 2}, retA}, wantErr: "opcode 0x28 not allowed", wantSteps: 1},
		{name: "ld indirect not allowed", insns: []bpf.Instruction{bpf.LoadIndirect{Off: 0, Size: 4}, retA}, wantErr: "opcode 0x40 not allowed", wantSteps: 1},
		{name: "ldx abs not allowed", raw: []bpf.RawInstruction{{Op: 0x21}, {Op: 0x16}}, wantErr: "opcode 0x21 not allowed", wantSteps: 1},
		{name: "ld len", insns: []bpf.Instruction{bpf.LoadExtension{Num: bpf.ExtLen}, retA}, want: 64, wantSteps: 2},
		{name: "ldx len", raw: []bpf.RawInstruction{{Op: 0x81}, {Op: 0x87}, {Op: 0x16}}, want: 64, wantSteps: 3},
		{name: "ld imm", insns: []bpf.Instruction{ldK(0xdeadbeef), retA}, want: 0xdeadbeef, wantSteps: 2},
		{name: "ldx imm and txa", insns: []bpf.Instruction{ldX(42), bpf.TXA{}, retA}, want: 42, wantSteps: 3},
		{name: "tax", insns: []bpf.Instruction{ldK(9), bpf.TAX{}, ldK(0), bpf.TXA{}, retA}, want: 9, wantSteps: 5},
		{name: "misc op not allowed", raw: []bpf.RawInstruction{{Op: 0x0f}, {Op: 0x16}}, wantErr: "opcode 0xf not allowed", wantSteps: 1},

		// M[] scratch.
		{name: "st and ld M[]", insns: []bpf.Instruction{ldK(11), bpf.StoreScratch{Src: bpf.RegA, N: 3}, ldK(0), bpf.LoadScratch{Dst: bpf.RegA, N: 3}, retA}, want: 11, wantSteps: 5},
		{name: "stx and ldx M[15]", insns: []bpf.Instruction{ldX(12), bpf.StoreScratch{Src: bpf.RegX, N: 15}, ldX(0), bpf.LoadScratch{Dst: bpf.RegX, N: 15}, bpf.TXA{}, retA}, want: 12, wantSteps: 6},
		{name: "M[] words are separate", insns: []bpf.Instruction{ldK(1), bpf.StoreScratch{Src: bpf.RegA, N: 0}, ldK(2), bpf.StoreScratch{Src: bpf.RegA, N: 1}, bpf.LoadScratch{Dst: bpf.RegA, N: 0}, retA}, want: 1, wantSteps: 6},
		{name: "ld M[] before it was written", insns: []bpf.Instruction{bpf.LoadScratch{Dst: bpf.RegA, N: 3}, retA}, wantErr: "instruction 0: M[3] read before it was written", wantSteps: 1},
		{name: "ldx M[] before it was written", insns: []bpf.Instruction{ldK(1), bpf.StoreScratch{Src: bpf.RegA, N: 2}, bpf.LoadScratch{Dst: bpf.RegX, N: 3}, retA}, wantErr: "instruction 2: M[3] read before it was written", wantSteps: 3},
		{name: "ld M[16]", raw: []bpf.RawInstruction{{Op: 0x60, K: 16}, {Op: 0x16}}, wantErr: "M[16] out of range", wantSteps: 1},
		{name: "st M[16]", raw: []bpf.RawInstruction{{Op: 0x02, K: 16}, {Op: 0x16}}, wantErr: "M[16] out of range", wantSteps: 1},
		{name: "stx M[99]", raw: []bpf.RawInstruction{{Op: 0x03, K: 99}, {Op: 0x16}}, wantErr: "M[99] out of range", wantSteps: 1},

		// ALU, constant and X operands, 32-bit wraparound.
		{name: "add", insns: []bpf.Instruction{ldK(0xffffffff), aluK(bpf.ALUOpAdd, 2), retA}, want: 1, wantSteps: 3},
		{name: "sub", insns: []bpf.Instruction{ldK(1), aluK(bpf.ALUOpSub, 2), retA}, want: 0xffffffff, wantSteps: 3},
		{name: "mul", insns: []bpf.Instruction{ldK(0x10000), aluK(bpf.ALUOpMul, 0x10001), retA}, want: 0x10000, wantSteps: 3},
		{name: "div", insns: []bpf.Instruction{ldK(100), aluK(bpf.ALUOpDiv, 7), retA}, want: 14, wantSteps: 3},
		{name: "or", insns: []bpf.Instruction{ldK(0x0f), aluK(bpf.ALUOpOr, 0xf0), retA}, want: 0xff, wantSteps: 3},
		{name: "and", insns: []bpf.Instruction{ldK(0x3c), aluK(bpf.ALUOpAnd, 0x0f), retA}, want: 0x0c, wantSteps: 3},
		{name: "xor", insns: []bpf.Instruction{ldK(0xff), aluK(bpf.ALUOpXor, 0x0f), retA}, want: 0xf0, wantSteps: 3},
		{name: "lsh", insns: []bpf.Instruction{ldK(0x80000001), aluK(bpf.ALUOpShiftLeft, 1), retA}, want: 2, wantSteps: 3},
		{name: "rsh", insns: []bpf.Instruction{ldK(0x80000000), aluK(bpf.ALUOpShiftRight, 31), retA}, want: 1, wantSteps: 3},
		{name: "neg", insns: []bpf.Instruction{ldK(1), bpf.NegateA{}, retA}, want: 0xffffffff, wantSteps: 3},
		{name: "add x", insns: []bpf.Instruction{ldX(3), ldK(4), bpf.ALUOpX{Op: bpf.ALUOpAdd}, retA}, want: 7, wantSteps: 4},
		{name: "sub x", insns: []bpf.Instruction{ldX(3), ldK(4), bpf.ALUOpX{Op: bpf.ALUOpSub}, retA}, want: 1, wantSteps: 4},
		{name: "mul x", insns: []bpf.Instruction{ldX(3), ldK(4), bpf.ALUOpX{Op: bpf.ALUOpMul}, retA}, want: 12, wantSteps: 4},
		{name: "div x", insns: []bpf.Instruction{ldX(3), ldK(10), bpf.ALUOpX{Op: bpf.ALUOpDiv}, retA}, want: 3, wantSteps: 4},
		{name: "or x", insns: []bpf.Instruction{ldX(3), ldK(4), bpf.ALUOpX{Op: bpf.ALUOpOr}, retA}, want: 7, wantSteps: 4},
		{name: "and x", insns: []bpf.Instruction{ldX(3), ldK(6), bpf.ALUOpX{Op: bpf.ALUOpAnd}, retA}, want: 2, wantSteps: 4},
		{name: "xor x", insns: []bpf.Instruction{ldX(3), ldK(6), bpf.ALUOpX{Op: bpf.ALUOpXor}, retA}, want: 5, wantSteps: 4},
		{name: "lsh x", insns: []bpf.Instruction{ldX(3), ldK(1), bpf.ALUOpX{Op: bpf.ALUOpShiftLeft}, retA}, want: 8, wantSteps: 4},
		{name: "rsh x", insns: []bpf.Instruction{ldX(3), ldK(16), bpf.ALUOpX{Op: bpf.ALUOpShiftRight}, retA}, want: 2, wantSteps: 4},
		{name: "lsh by x of 33 counts modulo 32", insns: []bpf.Instruction{ldX(33), ldK(1), bpf.ALUOpX{Op: bpf.ALUOpShiftLeft}, retA}, want: 2, wantSteps: 4},
		{name: "division by x of zero returns 0", insns: []bpf.Instruction{ldX(0), ldK(10), bpf.ALUOpX{Op: bpf.ALUOpDiv}, bpf.RetConstant{Val: 0x7fff0000}}, want: 0, wantSteps: 3},
		{name: "division by constant zero", raw: []bpf.RawInstruction{{Op: 0x00, K: 10}, {Op: 0x34, K: 0}, {Op: 0x16}}, wantErr: "instruction 1: division by constant zero", wantSteps: 2},
		{name: "shift by constant 32", raw: []bpf.RawInstruction{{Op: 0x00, K: 10}, {Op: 0x64, K: 32}, {Op: 0x16}}, wantErr: "instruction 1: shift by constant 32", wantSteps: 2},
		{name: "mod not allowed", insns: []bpf.Instruction{ldK(10), aluK(bpf.ALUOpMod, 3), retA}, wantErr: "opcode 0x94 not allowed", wantSteps: 2},
		{name: "neg x not allowed", raw: []bpf.RawInstruction{{Op: 0x8c}, {Op: 0x16}}, wantErr: "opcode 0x8c not allowed", wantSteps: 1},

		// Jumps.
		{name: "jeq taken", insns: []bpf.Instruction{ldA(0), bpf.JumpIf{Cond: bpf.JumpEqual, Val: 59, SkipFalse: 1}, bpf.RetConstant{Val: 1}, bpf.RetConstant{Val: 2}}, want: 1, wantSteps: 3},
		{name: "jeq not taken", insns: []bpf.Instruction{ldA(0), bpf.JumpIf{Cond: bpf.JumpEqual, Val: 58, SkipFalse: 1}, bpf.RetConstant{Val: 1}, bpf.RetConstant{Val: 2}}, want: 2, wantSteps: 3},
		{name: "jgt", insns: []bpf.Instruction{ldA(0), bpf.JumpIf{Cond: bpf.JumpGreaterThan, Val: 59, SkipFalse: 1}, bpf.RetConstant{Val: 1}, bpf.RetConstant{Val: 2}}, want: 2, wantSteps: 3},
		{name: "jge", insns: []bpf.Instruction{ldA(0), bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: 59, SkipFalse: 1}, bpf.RetConstant{Val: 1}, bpf.RetConstant{Val: 2}}, want: 1, wantSteps: 3},
		{name: "jset", insns: []bpf.Instruction{ldA(0), bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 4, SkipFalse: 1}, bpf.RetConstant{Val: 1}, bpf.RetConstant{Val: 2}}, want: 2, wantSteps: 3},
		{name: "jgt is unsigned", insns: []bpf.Instruction{ldA(linuxabi.ArgLow(5)), bpf.JumpIf{Cond: bpf.JumpGreaterThan, Val: 1, SkipFalse: 1}, bpf.RetConstant{Val: 1}, bpf.RetConstant{Val: 2}}, want: 1, wantSteps: 3},
		{name: "jeq x", insns: []bpf.Instruction{ldX(59), ldA(0), bpf.JumpIfX{Cond: bpf.JumpEqual, SkipFalse: 1}, bpf.RetConstant{Val: 1}, bpf.RetConstant{Val: 2}}, want: 1, wantSteps: 4},
		{name: "jgt x", insns: []bpf.Instruction{ldX(60), ldA(0), bpf.JumpIfX{Cond: bpf.JumpGreaterThan, SkipFalse: 1}, bpf.RetConstant{Val: 1}, bpf.RetConstant{Val: 2}}, want: 2, wantSteps: 4},
		{name: "jge x", insns: []bpf.Instruction{ldX(59), ldA(0), bpf.JumpIfX{Cond: bpf.JumpGreaterOrEqual, SkipFalse: 1}, bpf.RetConstant{Val: 1}, bpf.RetConstant{Val: 2}}, want: 1, wantSteps: 4},
		{name: "jset x", insns: []bpf.Instruction{ldX(2), ldA(0), bpf.JumpIfX{Cond: bpf.JumpBitsSet, SkipFalse: 1}, bpf.RetConstant{Val: 1}, bpf.RetConstant{Val: 2}}, want: 1, wantSteps: 4},
		{name: "ja", insns: []bpf.Instruction{bpf.Jump{Skip: 1}, bpf.RetConstant{Val: 1}, bpf.RetConstant{Val: 2}}, want: 2, wantSteps: 2},
		{name: "ja to the last instruction", insns: []bpf.Instruction{bpf.Jump{Skip: 2}, bpf.RetConstant{Val: 1}, bpf.RetConstant{Val: 2}, bpf.RetConstant{Val: 3}}, want: 3, wantSteps: 2},
		{name: "ja past the end", insns: []bpf.Instruction{bpf.Jump{Skip: 1}, bpf.RetConstant{Val: 1}}, wantErr: "instruction 0: jump to 2 past the end", wantSteps: 1},
		{name: "ja with a huge offset", insns: []bpf.Instruction{bpf.Jump{Skip: 0xffffffff}, bpf.RetConstant{Val: 1}}, wantErr: "past the end", wantSteps: 1},
		{name: "conditional jump past the end, on the path not taken", insns: []bpf.Instruction{ldA(0), bpf.JumpIf{Cond: bpf.JumpEqual, Val: 59, SkipFalse: 5}, bpf.RetConstant{Val: 1}}, wantErr: "instruction 1: jump to 7 past the end", wantSteps: 2},
		{name: "jump op not allowed", raw: []bpf.RawInstruction{{Op: 0x55}, {Op: 0x16}}, wantErr: "opcode 0x55 not allowed", wantSteps: 1},
		{name: "ja x not allowed", raw: []bpf.RawInstruction{{Op: 0x0d}, {Op: 0x16}}, wantErr: "opcode 0xd not allowed", wantSteps: 1},

		// Falling off the end.
		{name: "fall off the end", insns: []bpf.Instruction{ldA(0)}, wantErr: "instruction 0: the last instruction is not a return", wantSteps: 1},
		{name: "fall off the end after a jump", insns: []bpf.Instruction{ldA(0), bpf.JumpIf{Cond: bpf.JumpEqual, Val: 59, SkipTrue: 1}, bpf.RetConstant{Val: 1}, ldA(4)}, wantErr: "instruction 3: the last instruction is not a return", wantSteps: 3},
		{name: "empty program", raw: []bpf.RawInstruction{}, wantErr: "execute filter: no instructions", wantSteps: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prog := tc.raw
			if tc.insns != nil {
				var err error
				if prog, err = bpf.Assemble(tc.insns); err != nil {
					t.Fatal(err)
				}
			}
			got, steps, err := Exec(prog, execData)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				if !strings.HasPrefix(err.Error(), "execute filter: ") {
					t.Errorf("error %q lacks its context", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || steps != tc.wantSteps {
				t.Errorf("%#x in %d steps, want %#x in %d", got, steps, tc.want, tc.wantSteps)
			}
		})
	}
}

// TestExecScratchPerRun: M[] starts unwritten on every run.
func TestExecScratchPerRun(t *testing.T) {
	store, err := bpf.Assemble([]bpf.Instruction{ldK(1), bpf.StoreScratch{Src: bpf.RegA, N: 0}, retA})
	if err != nil {
		t.Fatal(err)
	}
	load, err := bpf.Assemble([]bpf.Instruction{bpf.LoadScratch{Dst: bpf.RegA, N: 0}, retA})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Exec(store, execData); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Exec(load, execData); err == nil {
		t.Error("M[0] written by an earlier run was readable")
	}
}

// FuzzExec: Exec never panics or loops, whatever the instructions, and
// says where it stopped.
func FuzzExec(f *testing.F) {
	f.Add([]byte{0x20, 0, 0, 0, 0, 0, 0, 0, 0x16, 0, 0, 0, 0, 0, 0, 0}, int32(59), uint64(1))
	f.Add([]byte{0x60, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x05, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}, int32(-1), uint64(0))
	f.Fuzz(func(t *testing.T, b []byte, nr int32, arg uint64) {
		prog, err := Decode(b)
		if err != nil {
			return
		}
		_, steps, err := Exec(prog, linuxabi.SeccompData{Nr: nr, Args: [6]uint64{arg, arg}})
		if steps > len(prog) {
			t.Fatalf("%d steps in a %d-instruction program (jumps go forward only)", steps, len(prog))
		}
		// Any program may be refused, but with context; a panic fails.
		if err != nil && !strings.HasPrefix(err.Error(), "execute filter: instruction ") {
			t.Fatalf("error without context: %v", err)
		}
	})
}
