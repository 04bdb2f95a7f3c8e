package cbpf

import (
	"strings"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/sysrec/sysrec/linuxabi"
)

func TestAssemble(t *testing.T) {
	for _, tc := range []struct {
		name    string
		build   func(b *Builder)
		want    string // disassembly
		wantErr string
	}{
		{
			name: "shared returns last, highest unsigned value first, once each",
			build: func(b *Builder) {
				b.Load(linuxabi.OffNr, "nr")
				b.JumpIf(bpf.JumpEqual, 1, b.Ret(0x80000000, "kill"), b.Ret(0x7fff0000, "allow"), "")
				b.Ret(0x7fff0000, "allow")
			},
			want: `   0: ld  [0]                      ; nr
   1: jeq  #0x1 -> 2, 3
   2: ret #0x80000000              ; kill
   3: ret #0x7fff0000              ; allow
`,
		},
		{
			name: "equal values with different notes stay apart, ordered by note",
			build: func(b *Builder) {
				b.Load(linuxabi.OffNr, "")
				b.JumpIf(bpf.JumpEqual, 1, b.Ret(5, "b"), b.Ret(5, "a"), "")
			},
			want: `   0: ld  [0]
   1: jeq  #0x1 -> 3, 2
   2: ret #0x5                     ; a
   3: ret #0x5                     ; b
`,
		},
		{
			name: "negated conditions become positive ones with swapped targets",
			build: func(b *Builder) {
				yes, no := b.Ret(1, "yes"), b.Ret(0, "no")
				b.Load(linuxabi.OffNr, "")
				for _, cond := range []bpf.JumpTest{bpf.JumpNotEqual, bpf.JumpLessThan, bpf.JumpLessOrEqual, bpf.JumpBitsNotSet} {
					next := b.NewLabel()
					b.JumpIf(cond, 7, next, no, "")
					b.Mark(next)
				}
				b.Jump(yes)
			},
			want: `   0: ld  [0]
   1: jeq  #0x7 -> 6, 2
   2: jge  #0x7 -> 6, 3
   3: jgt  #0x7 -> 6, 4
   4: jset #0x7 -> 6, 5
   5: ret #0x1                     ; yes
   6: ret #0x0                     ; no
`,
		},
		{
			name: "jumps through a JA are threaded and the JA dropped",
			build: func(b *Builder) {
				hop, out := b.NewLabel(), b.NewLabel()
				b.Load(linuxabi.ArgLow(0), "arg0")
				b.And(0xff, "low byte")
				b.JumpIf(bpf.JumpEqual, 3, hop, out, "")
				b.Mark(hop)
				b.Jump(b.Ret(1, "one"))
				b.Mark(out)
				b.Jump(b.Ret(2, "two"))
			},
			want: `   0: ld  [16]                     ; arg0
   1: and #0xff                    ; low byte
   2: jeq  #0x3 -> 4, 3
   3: ret #0x2                     ; two
   4: ret #0x1                     ; one
`,
		},
		{
			name: "a JA to the next instruction costs nothing",
			build: func(b *Builder) {
				next := b.NewLabel()
				b.Load(linuxabi.OffArch, "")
				b.Jump(next)
				b.Mark(next)
				b.Load(linuxabi.OffNr, "")
				b.Jump(b.Ret(3, ""))
			},
			want: `   0: ld  [4]
   1: ld  [0]
   2: ret #0x3
`,
		},
		{
			name: "far jumps get trampolines",
			build: func(b *Builder) {
				far := b.NewLabel()
				b.Load(linuxabi.OffNr, "")
				near := b.NewLabel()
				b.JumpIf(bpf.JumpEqual, 1, far, near, "")
				b.Mark(near)
				for range 300 {
					b.Load(linuxabi.OffNr, "")
				}
				b.Jump(b.Ret(0, ""))
				b.Mark(far)
				b.Jump(b.Ret(1, ""))
			},
			want: "   0: ld  [0]\n   1: jeq  #0x1 -> 2, 3\n   2: ja  304                      ; trampoline\n",
		},
		{
			name:    "empty",
			build:   func(b *Builder) {},
			wantErr: "assemble filter: empty program",
		},
		{
			name: "backward jump",
			build: func(b *Builder) {
				back := b.NewLabel()
				b.Mark(back)
				b.Load(linuxabi.OffNr, "")
				b.JumpIf(bpf.JumpEqual, 1, back, b.Ret(0, ""), "")
			},
			wantErr: "assemble filter: backward jump at 1",
		},
		{
			name: "label never placed",
			build: func(b *Builder) {
				b.Load(linuxabi.OffNr, "")
				b.JumpIf(bpf.JumpEqual, 1, b.NewLabel(), b.Ret(0, ""), "")
			},
			wantErr: "assemble filter: label 1 (jumped to by builder instruction 1) never placed",
		},
		{
			name: "label placed twice",
			build: func(b *Builder) {
				l := b.NewLabel()
				b.Mark(l)
				b.Load(linuxabi.OffNr, "")
				b.Mark(l)
				b.Jump(b.Ret(0, ""))
			},
			wantErr: "assemble filter: label 1 placed twice",
		},
		{
			name: "jump off the end",
			build: func(b *Builder) {
				end := b.NewLabel()
				b.Load(linuxabi.OffNr, "")
				b.JumpIf(bpf.JumpEqual, 1, end, end, "")
				b.Load(linuxabi.OffNr, "")
				b.Mark(end)
			},
			wantErr: "assemble filter: jump at 1 leaves the program",
		},
		{
			name: "no return at the end",
			build: func(b *Builder) {
				b.Load(linuxabi.OffNr, "")
			},
			wantErr: "assemble filter: instruction 0, the last, is not a return",
		},
		{
			name: "load outside seccomp_data",
			build: func(b *Builder) {
				b.Load(linuxabi.SeccompDataSize, "")
				b.Jump(b.Ret(0, ""))
			},
			wantErr: "assemble filter: load at offset 64: outside seccomp_data or unaligned",
		},
		{
			name: "unaligned load",
			build: func(b *Builder) {
				b.Load(2, "")
				b.Jump(b.Ret(0, ""))
			},
			wantErr: "assemble filter: load at offset 2: outside seccomp_data or unaligned",
		},
		{
			name: "unknown condition",
			build: func(b *Builder) {
				b.JumpIf(bpf.JumpTest(99), 0, b.Ret(0, ""), b.Ret(0, ""), "")
			},
			wantErr: "assemble filter: jump condition 99: unknown",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b Builder
			tc.build(&b)
			prog, err := b.Assemble()
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := prog.Disassemble(); !strings.HasPrefix(got, tc.want) {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestAssembleLongJumps: chains of far jumps resolve, every offset fits,
// and the program decides as laid out.
func TestAssembleLongJumps(t *testing.T) {
	for _, n := range []int{1, 200, 255, 256, 600, 2000} {
		var b Builder
		b.Load(linuxabi.OffNr, "")
		// One comparison per value, each failing into the next, all
		// matches going to one shared return after n more loads.
		match := b.NewLabel()
		for v := range n {
			next := b.NewLabel()
			b.JumpIf(bpf.JumpEqual, uint32(v), match, next, "")
			b.Mark(next)
		}
		for range n {
			b.Load(linuxabi.OffArch, "")
		}
		b.Jump(b.Ret(0, "none"))
		b.Mark(match)
		b.Jump(b.Ret(1, "match"))
		prog, err := b.Assemble()
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		raw := prog.Raw()
		for _, nr := range []int32{0, int32(n / 2), int32(n - 1), int32(n), -1} {
			got, _, err := Exec(raw, linuxabi.SeccompData{Nr: nr})
			if err != nil {
				t.Fatalf("n=%d nr=%d: %v", n, nr, err)
			}
			want := uint32(0)
			if nr >= 0 && int(nr) < n {
				want = 1
			}
			if got != want {
				t.Errorf("n=%d nr=%d: %d, want %d", n, nr, got, want)
			}
		}
	}
}

// TestAssembleTwice: Assemble leaves the builder as it was.
func TestAssembleTwice(t *testing.T) {
	var b Builder
	b.Load(linuxabi.OffNr, "")
	b.JumpIf(bpf.JumpEqual, 1, b.Ret(1, ""), b.Ret(0, ""), "")
	first, err := b.Assemble()
	if err != nil {
		t.Fatal(err)
	}
	second, err := b.Assemble()
	if err != nil {
		t.Fatal(err)
	}
	if first.Disassemble() != second.Disassemble() {
		t.Errorf("first\n%s\nsecond\n%s", first.Disassemble(), second.Disassemble())
	}
}
