package isa

import (
	"debug/elf"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
)

// The backward flow: where the syscall number (%rax, x8) at the last
// instruction (syscall, svc #0) comes from.
func TestFlow(t *testing.T) {
	tests := []struct {
		name    string
		code    string // hex, instructions separated by spaces
		consts  []int64
		params  []Loc
		unknown bool
		machine elf.Machine // default x86_64
	}{
		{"mov imm", "b84b000000 0f05", []int64{75}, nil, false, 0},
		{"xor", "31c0 0f05", []int64{0}, nil, false, 0},
		{"push pop", "6a27 58 0f05", []int64{39}, nil, false, 0},
		{"from parameter", "89f8 0f05", nil, []Loc{RegLoc(RDI)}, false, 0},
		{"two paths", "85ff 7407 b801000000 eb05 b802000000 0f05", []int64{1, 2}, nil, false, 0},
		{"clobbered by a call", "b801000000 e800000000 0f05", nil, nil, true, 0},
		{"callee-saved across a call", "bb3c000000 e800000000 89d8 0f05", []int64{60}, nil, false, 0},
		{"stack argument", "488b442408 0f05", nil, []Loc{StackLoc(8)}, false, 0},
		{"spilled across a call", "4883ec18 897c240c e800000000 8b44240c 0f05", nil, []Loc{RegLoc(RDI)}, false, 0},
		{"loaded from memory", "8b0500000000 0f05", nil, nil, true, 0},
		{"partial write", "b001 0f05", nil, nil, true, 0},
		{"return address is not a parameter", "488b0424 0f05", nil, nil, true, 0},

		{"arm64 movz", "080880d2 010000d4", []int64{64}, nil, false, elf.EM_AARCH64},
		{"arm64 movz w", "a81c8052 010000d4", []int64{229}, nil, false, elf.EM_AARCH64},
		{"arm64 orr bitmask", "e8037ab2 010000d4", []int64{64}, nil, false, elf.EM_AARCH64},
		{"arm64 from parameter", "e80300aa 010000d4", nil, []Loc{RegLoc(0)}, false, elf.EM_AARCH64},
		{"arm64 callee-saved across a call", "b30080d2 01000094 e80313aa 010000d4", []int64{5}, nil, false, elf.EM_AARCH64},
		{"arm64 clobbered by a call", "080880d2 01000094 010000d4", nil, nil, true, elf.EM_AARCH64},
		{"arm64 stack argument", "e80b40f9 010000d4", nil, []Loc{StackLoc(16)}, false, elf.EM_AARCH64},
		{"arm64 spilled across a call", "fd7bbea9 e00b00f9 01000094 e80b40f9 010000d4", nil, []Loc{RegLoc(0)}, false, elf.EM_AARCH64},
		{"arm64 popped frame", "080880d2 fd7bc2a8 010000d4", []int64{64}, nil, false, elf.EM_AARCH64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.machine
			if m == 0 {
				m = elf.EM_X86_64
			}
			x, _ := New(m, Options{})
			code, err := hex.DecodeString(strings.ReplaceAll(tt.code, " ", ""))
			if err != nil {
				t.Fatal(err)
			}
			c := NewFnCode(x.Decode(code, 0x1000, nil), x.RetAddrSize())
			last := len(c.Insts) - 1
			if c.Insts[last].Kind != InstSyscall {
				t.Fatalf("last instruction is %+v, not a syscall", c.Insts[last])
			}
			budget := FlowBudget
			out := c.Flow(last, x.SyscallNumber(), &budget)
			slices.Sort(out.Consts)
			if !slices.Equal(out.Consts, tt.consts) || !slices.Equal(out.Params, tt.params) || out.Unknown != tt.unknown {
				t.Errorf("got consts %v params %v unknown %v; want %v %v %v", out.Consts, out.Params, out.Unknown, tt.consts, tt.params, tt.unknown)
			}
		})
	}
}

func TestPLTSlot(t *testing.T) {
	tests := []struct {
		code    string
		pc      uint64
		want    uint64
		machine elf.Machine
	}{
		{"f30f1efa f2ff25ad2f0000 0f1f440000", 0x1060, 0x1060 + 4 + 7 + 0x2fad, 0}, // .plt.sec: endbr64; bnd jmp *slot(%rip)
		{"ff25e22f0000 6800000000 e9e0ffffff", 0x1030, 0x1030 + 6 + 0x2fe2, 0},     // lazy .plt
		{"ff242522004000", 0x401030, 0x400022, 0},                                  // jmp *abs
		{"5f2403d5 900000b0 110e40f9 20021fd6", 0x10000, 0x21018, elf.EM_AARCH64},  // bti c; adrp x16; ldr x17, [x16, #24]; br x17
	}
	for _, tt := range tests {
		m := tt.machine
		if m == 0 {
			m = elf.EM_X86_64
		}
		x, _ := New(m, Options{})
		code, _ := hex.DecodeString(strings.ReplaceAll(tt.code, " ", ""))
		got, ok := x.PltSlot(code, tt.pc)
		if !ok || got != tt.want {
			t.Errorf("%s: got %#x %v, want %#x", tt.code, got, ok, tt.want)
		}
	}
}
