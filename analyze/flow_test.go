package analyze

import (
	"debug/elf"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
)

// The backward flow on x86_64 code: where the number in %rax at the last
// instruction (a syscall) comes from.
func TestFlowX86(t *testing.T) {
	tests := []struct {
		name    string
		code    string // hex, instructions separated by spaces
		consts  []int64
		params  []loc
		unknown bool
	}{
		{"mov imm", "b84b000000 0f05", []int64{75}, nil, false},
		{"xor", "31c0 0f05", []int64{0}, nil, false},
		{"push pop", "6a27 58 0f05", []int64{39}, nil, false},
		{"from parameter", "89f8 0f05", nil, []loc{regLoc(rDI)}, false},
		{"two paths", "85ff 7407 b801000000 eb05 b802000000 0f05", []int64{1, 2}, nil, false},
		{"clobbered by a call", "b801000000 e800000000 0f05", nil, nil, true},
		{"callee-saved across a call", "bb3c000000 e800000000 89d8 0f05", []int64{60}, nil, false},
		{"stack argument", "488b442408 0f05", nil, []loc{stackLoc(8)}, false},
		{"spilled across a call", "4883ec18 897c240c e800000000 8b44240c 0f05", nil, []loc{regLoc(rDI)}, false},
		{"loaded from memory", "8b0500000000 0f05", nil, nil, true},
		{"partial write", "b001 0f05", nil, nil, true},
		{"return address is not a parameter", "488b0424 0f05", nil, nil, true},
	}
	x, _ := newISA(elf.EM_X86_64, isaOptions{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, err := hex.DecodeString(strings.ReplaceAll(tt.code, " ", ""))
			if err != nil {
				t.Fatal(err)
			}
			c := newFnCode(x.decode(code, 0x1000, nil))
			last := len(c.insts) - 1
			if c.insts[last].kind != instSyscall {
				t.Fatalf("last instruction is %+v, not a syscall", c.insts[last])
			}
			out := c.flow(last, x.syscallNumber())
			slices.Sort(out.consts)
			if !slices.Equal(out.consts, tt.consts) || !slices.Equal(out.params, tt.params) || out.unknown != tt.unknown {
				t.Errorf("got consts %v params %v unknown %v; want %v %v %v", out.consts, out.params, out.unknown, tt.consts, tt.params, tt.unknown)
			}
		})
	}
}

func TestPLTSlot(t *testing.T) {
	x, _ := newISA(elf.EM_X86_64, isaOptions{})
	tests := []struct {
		code string
		pc   uint64
		want uint64
	}{
		{"f30f1efa f2ff25ad2f0000 0f1f440000", 0x1060, 0x1060 + 4 + 7 + 0x2fad}, // .plt.sec: endbr64; bnd jmp *slot(%rip)
		{"ff25e22f0000 6800000000 e9e0ffffff", 0x1030, 0x1030 + 6 + 0x2fe2},     // lazy .plt
		{"ff242522004000", 0x401030, 0x400022},                                  // jmp *abs
	}
	for _, tt := range tests {
		code, _ := hex.DecodeString(strings.ReplaceAll(tt.code, " ", ""))
		got, ok := x.pltSlot(code, tt.pc)
		if !ok || got != tt.want {
			t.Errorf("%s: got %#x %v, want %#x", tt.code, got, ok, tt.want)
		}
	}
}
