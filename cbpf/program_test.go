package cbpf

import (
	"bytes"
	"slices"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/sysrec/sysrec/linuxabi"
)

// sample uses every instruction the builder emits.
func sample(t *testing.T) Program {
	t.Helper()
	var b Builder
	b.Load(linuxabi.OffArch, "arch")
	nr := b.NewLabel()
	b.JumpIf(bpf.JumpEqual, 0xc000003e, nr, b.Ret(0x80000000, "kill_process"), "x86_64")
	b.Mark(nr)
	b.Load(linuxabi.OffNr, "nr")
	args, low := b.NewLabel(), b.NewLabel()
	b.JumpIf(bpf.JumpGreaterThan, 0x10, b.Ret(0x50026, "errno:ENOSYS"), low, "")
	b.Mark(low)
	b.JumpIf(bpf.JumpGreaterOrEqual, 9, args, b.Ret(0x7fff0000, "allow"), "")
	b.Mark(args)
	b.Load(linuxabi.ArgLow(2), "mmap arg2")
	b.And(0xff, "")
	reload := b.NewLabel()
	b.JumpIf(bpf.JumpBitsSet, 4, b.Ret(0x50001, "errno:EPERM"), reload, "")
	b.Mark(reload)
	b.Load(linuxabi.OffNr, "reload nr")
	b.Jump(b.Ret(0x7fff0000, "allow"))
	prog, err := b.Assemble()
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

func TestProgramForms(t *testing.T) {
	prog := sample(t)
	wantText := `   0: ld  [4]                      ; arch
   1: jeq  #0xc000003e -> 2, 10    ; x86_64
   2: ld  [0]                      ; nr
   3: jgt  #0x10 -> 12, 4
   4: jge  #0x9 -> 5, 11
   5: ld  [32]                     ; mmap arg2
   6: and #0xff
   7: jset #0x4 -> 13, 8
   8: ld  [0]                      ; reload nr
   9: ja  11
  10: ret #0x80000000              ; kill_process
  11: ret #0x7fff0000              ; allow
  12: ret #0x50026                 ; errno:ENOSYS
  13: ret #0x50001                 ; errno:EPERM
`
	if got := prog.Disassemble(); got != wantText {
		t.Errorf("Disassemble:\n%s\nwant\n%s", got, wantText)
	}
	if prog.Len() != 14 {
		t.Errorf("Len %d, want 14", prog.Len())
	}
	// Raw is what x/net/bpf assembles from Instructions.
	viaXNet, err := bpf.Assemble(prog.Instructions())
	if err != nil {
		t.Fatal(err)
	}
	raw := prog.Raw()
	if !slices.Equal(raw, viaXNet) {
		t.Errorf("Raw\n%v\nx/net/bpf\n%v", raw, viaXNet)
	}
	// Encode is little-endian struct sock_filter, and Decode reads it back.
	enc := prog.Encode()
	if want := []byte{0x20, 0, 0, 0, 4, 0, 0, 0, 0x15, 0, 0, 8, 0x3e, 0, 0, 0xc0}; !bytes.HasPrefix(enc, want) {
		t.Errorf("Encode starts % x, want % x", enc[:len(want)], want)
	}
	dec, err := Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dec, raw) {
		t.Errorf("Decode(Encode) = %v, want %v", dec, raw)
	}
}

// TestProgramDecides runs the sample program: the forms above agree with
// what it was built to do.
func TestProgramDecides(t *testing.T) {
	raw := sample(t).Raw()
	for _, tc := range []struct {
		d         linuxabi.SeccompData
		want      uint32
		wantSteps int
	}{
		{linuxabi.SeccompData{Arch: 0x40000003}, 0x80000000, 3},
		{linuxabi.SeccompData{Arch: 0xc000003e, Nr: 17}, 0x50026, 5},
		{linuxabi.SeccompData{Arch: 0xc000003e, Nr: 8}, 0x7fff0000, 6},
		{linuxabi.SeccompData{Arch: 0xc000003e, Nr: 9, Args: [6]uint64{2: 3}}, 0x7fff0000, 11},
		{linuxabi.SeccompData{Arch: 0xc000003e, Nr: 9, Args: [6]uint64{2: 0x104}}, 0x50001, 9},
		{linuxabi.SeccompData{Arch: 0xc000003e, Nr: 9, Args: [6]uint64{2: 0x4_0000_0000}}, 0x7fff0000, 11},
	} {
		got, steps, err := Exec(raw, tc.d)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want || steps != tc.wantSteps {
			t.Errorf("%+v: %#x in %d steps, want %#x in %d", tc.d, got, steps, tc.want, tc.wantSteps)
		}
	}
}

func TestZeroProgram(t *testing.T) {
	var p Program
	if p.Len() != 0 || len(p.Raw()) != 0 || len(p.Encode()) != 0 || p.Disassemble() != "" || len(p.Instructions()) != 0 {
		t.Error("zero Program is not empty")
	}
}
