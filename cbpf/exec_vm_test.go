package cbpf

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/sysrec/sysrec/linuxabi"
)

// randomProgram returns a valid seccomp program of the instructions
// x/net/bpf's VM implements alike (no NegateA, which it lacks, and no
// shift by X, whose count it does not reduce modulo 32). M[] is written
// first, so every read is defined.
func randomProgram(r *rand.Rand) []bpf.Instruction {
	var prog []bpf.Instruction
	for n := range uint32(16) {
		prog = append(prog, ldK(r.Uint32()), bpf.StoreScratch{Src: bpf.RegA, N: int(n)})
	}
	body := 1 + r.IntN(40)
	for i := range body {
		left := body - i // instructions after this one, the final return included
		switch r.IntN(12) {
		case 0:
			prog = append(prog, ldA(4*uint32(r.IntN(linuxabi.SeccompDataSize/4))))
		case 1:
			prog = append(prog, ldK(r.Uint32()))
		case 2:
			prog = append(prog, ldX(r.Uint32()>>uint(r.IntN(32))))
		case 3:
			ops := []bpf.ALUOp{bpf.ALUOpAdd, bpf.ALUOpSub, bpf.ALUOpMul, bpf.ALUOpDiv, bpf.ALUOpOr, bpf.ALUOpAnd, bpf.ALUOpShiftLeft, bpf.ALUOpShiftRight, bpf.ALUOpXor}
			op := ops[r.IntN(len(ops))]
			k := r.Uint32()
			switch op {
			case bpf.ALUOpDiv:
				k = max(k>>uint(r.IntN(32)), 1)
			case bpf.ALUOpShiftLeft, bpf.ALUOpShiftRight:
				k %= 32
			}
			prog = append(prog, aluK(op, k))
		case 4:
			ops := []bpf.ALUOp{bpf.ALUOpAdd, bpf.ALUOpSub, bpf.ALUOpMul, bpf.ALUOpDiv, bpf.ALUOpOr, bpf.ALUOpAnd, bpf.ALUOpXor}
			prog = append(prog, bpf.ALUOpX{Op: ops[r.IntN(len(ops))]})
		case 5:
			prog = append(prog, bpf.TAX{})
		case 6:
			prog = append(prog, bpf.TXA{})
		case 7:
			prog = append(prog, bpf.StoreScratch{Src: []bpf.Register{bpf.RegA, bpf.RegX}[r.IntN(2)], N: r.IntN(16)})
		case 8:
			prog = append(prog, bpf.LoadScratch{Dst: []bpf.Register{bpf.RegA, bpf.RegX}[r.IntN(2)], N: r.IntN(16)})
		case 9:
			conds := []bpf.JumpTest{bpf.JumpEqual, bpf.JumpGreaterThan, bpf.JumpGreaterOrEqual, bpf.JumpBitsSet}
			skipT, skipF := uint8(r.IntN(min(left, 256))), uint8(r.IntN(min(left, 256)))
			if r.IntN(2) == 0 {
				prog = append(prog, bpf.JumpIf{Cond: conds[r.IntN(len(conds))], Val: r.Uint32() >> uint(r.IntN(32)), SkipTrue: skipT, SkipFalse: skipF})
			} else {
				prog = append(prog, bpf.JumpIfX{Cond: conds[r.IntN(len(conds))], SkipTrue: skipT, SkipFalse: skipF})
			}
		case 10:
			prog = append(prog, bpf.Jump{Skip: uint32(r.IntN(left))})
		case 11:
			prog = append(prog, bpf.RetA{})
		}
	}
	return append(prog, bpf.RetA{})
}

// TestExecAgainstVM: on programs both can run, Exec and x/net/bpf's VM
// agree, the VM reading seccomp_data's words stored big-endian.
func TestExecAgainstVM(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 3000 {
		insns := randomProgram(r)
		raw, err := bpf.Assemble(insns)
		if err != nil {
			t.Fatal(err)
		}
		vm, err := bpf.NewVM(insns)
		if err != nil {
			t.Fatalf("%v\n%v", err, insns)
		}
		for range 5 {
			d := linuxabi.SeccompData{Nr: int32(r.Uint32()), Arch: r.Uint32()}
			for i := range d.Args {
				d.Args[i] = r.Uint64()
			}
			got, _, err := Exec(raw, d)
			if err != nil {
				t.Fatalf("%v\n%v", err, insns)
			}
			var packet [linuxabi.SeccompDataSize]byte
			binary.BigEndian.PutUint32(packet[linuxabi.OffNr:], uint32(d.Nr))
			binary.BigEndian.PutUint32(packet[linuxabi.OffArch:], d.Arch)
			for i, a := range d.Args {
				binary.BigEndian.PutUint32(packet[linuxabi.ArgLow(i):], uint32(a))
				binary.BigEndian.PutUint32(packet[linuxabi.ArgHigh(i):], uint32(a>>32))
			}
			want, err := vm.Run(packet[:])
			if err != nil {
				t.Fatal(err)
			}
			if got != uint32(want) {
				t.Fatalf("Exec %#x, VM %#x on %+v\n%v", got, uint32(want), d, insns)
			}
		}
	}
}
