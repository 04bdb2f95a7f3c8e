package cbpf

import (
	"slices"
	"testing"

	"golang.org/x/net/bpf"
)

// Builder instructions written compactly for the pass tables.
func mark(l Label) insn { return insn{op: opMark, jt: l} }
func ld(k uint32) insn  { return insn{op: opLoad, k: k} }
func ja(l Label) insn   { return insn{op: opJump, jt: l} }
func ret(k uint32) insn { return insn{op: opRet, k: k} }
func jeq(k uint32, t, f Label) insn {
	return insn{op: opJumpIf, cond: bpf.JumpEqual, k: k, jt: t, jf: f}
}

// loads returns n loads, to push labels apart.
func loads(n int) []insn {
	out := make([]insn, n)
	for i := range out {
		out[i] = ld(0)
	}
	return out
}

func cat(parts ...[]insn) []insn { return slices.Concat(parts...) }

func TestThreadJumps(t *testing.T) {
	for _, tc := range []struct {
		name string
		prog []insn
		want []insn
	}{
		{
			name: "jump to a forwarding JA goes to its target",
			prog: []insn{jeq(1, 1, 2), mark(1), ja(3), mark(2), ret(0), mark(3), ret(1)},
			want: []insn{jeq(1, 3, 2), mark(1), ja(3), mark(2), ret(0), mark(3), ret(1)},
		},
		{
			name: "chains of JAs collapse",
			prog: []insn{jeq(1, 1, 4), mark(1), ja(2), mark(2), ja(3), mark(4), ret(0), mark(3), ret(1)},
			want: []insn{jeq(1, 3, 4), mark(1), ja(3), mark(2), ja(3), mark(4), ret(0), mark(3), ret(1)},
		},
		{
			name: "every label in front of a JA forwards",
			prog: []insn{jeq(1, 1, 2), mark(1), mark(2), ja(3), mark(3), ret(0)},
			want: []insn{jeq(1, 3, 3), mark(1), mark(2), ja(3), mark(3), ret(0)},
		},
		{
			name: "a label in front of another instruction stays",
			prog: []insn{jeq(1, 1, 2), mark(1), ld(4), ja(2), mark(2), ret(0)},
			want: []insn{jeq(1, 1, 2), mark(1), ld(4), ja(2), mark(2), ret(0)},
		},
		{
			name: "a JA to a JA is threaded too",
			prog: []insn{ja(1), mark(1), ja(2), mark(2), ret(0)},
			want: []insn{ja(2), mark(1), ja(2), mark(2), ret(0)},
		},
		{
			name: "nothing to thread",
			prog: []insn{ld(4), jeq(1, 1, 2), mark(1), ret(1), mark(2), ret(0)},
			want: []insn{ld(4), jeq(1, 1, 2), mark(1), ret(1), mark(2), ret(0)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.prog)
			got := threadJumps(tc.prog)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got  %v\nwant %v", got, tc.want)
			}
			if !slices.Equal(tc.prog, in) {
				t.Error("input modified")
			}
		})
	}
}

func TestDropUnreachable(t *testing.T) {
	for _, tc := range []struct {
		name string
		prog []insn
		want []insn
	}{
		{
			name: "JA no jump targets any more",
			prog: []insn{jeq(1, 3, 2), mark(1), ja(3), mark(2), ret(0), mark(3), ret(1)},
			want: []insn{jeq(1, 3, 2), mark(1), mark(2), ret(0), mark(3), ret(1)},
		},
		{
			name: "code after a return until a targeted label",
			prog: []insn{jeq(1, 2, 3), mark(2), ret(0), ld(4), ret(5), mark(3), ret(1)},
			want: []insn{jeq(1, 2, 3), mark(2), ret(0), mark(3), ret(1)},
		},
		{
			name: "an untargeted label does not revive code",
			prog: []insn{ret(0), mark(7), ld(4), ret(1)},
			want: []insn{ret(0), mark(7)},
		},
		{
			name: "a label targeted only by dead code stays dead",
			prog: []insn{ret(0), ja(1), mark(1), ret(1)},
			want: []insn{ret(0), mark(1)},
		},
		{
			name: "straight-line code is live",
			prog: []insn{ld(0), ld(4), ret(1)},
			want: []insn{ld(0), ld(4), ret(1)},
		},
		{
			name: "code after a JA is dead",
			prog: []insn{ja(1), ld(4), mark(1), ret(1)},
			want: []insn{ja(1), mark(1), ret(1)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := dropUnreachable(tc.prog); !slices.Equal(got, tc.want) {
				t.Errorf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestDropFallthrough(t *testing.T) {
	for _, tc := range []struct {
		name string
		prog []insn
		want []insn
	}{
		{
			name: "JA to the next instruction",
			prog: []insn{ld(0), ja(1), mark(1), ret(0)},
			want: []insn{ld(0), mark(1), ret(0)},
		},
		{
			name: "JA to one of several labels in front of the next instruction",
			prog: []insn{ld(0), ja(2), mark(1), mark(2), mark(3), ret(0)},
			want: []insn{ld(0), mark(1), mark(2), mark(3), ret(0)},
		},
		{
			name: "JA over an instruction stays",
			prog: []insn{ja(2), mark(1), ret(1), mark(2), ret(0)},
			want: []insn{ja(2), mark(1), ret(1), mark(2), ret(0)},
		},
		{
			name: "conditional jumps stay",
			prog: []insn{jeq(1, 1, 1), mark(1), ret(0)},
			want: []insn{jeq(1, 1, 1), mark(1), ret(0)},
		},
		{
			name: "JA at the end stays",
			prog: []insn{ret(0), ja(1)},
			want: []insn{ret(0), ja(1)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := dropFallthrough(tc.prog); !slices.Equal(got, tc.want) {
				t.Errorf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestLayout(t *testing.T) {
	pos, out := layout([]insn{mark(1), ld(0), jeq(1, 2, 3), mark(2), mark(4), ret(0), mark(3), ret(1), mark(5)})
	if want := []insn{ld(0), jeq(1, 2, 3), ret(0), ret(1)}; !slices.Equal(out, want) {
		t.Errorf("instructions %v, want %v", out, want)
	}
	for l, want := range map[Label]int{1: 0, 2: 2, 4: 2, 3: 3, 5: 4} {
		if pos[l] != want {
			t.Errorf("label %d at %d, want %d", l, pos[l], want)
		}
	}
}

func TestTrampolines(t *testing.T) {
	trampoline := func(l Label) insn { return insn{op: opJump, jt: l, note: "trampoline"} }
	for _, tc := range []struct {
		name string
		prog []insn
		far  []int // indexes among the real instructions
		want []insn
	}{
		{
			name: "far true target",
			prog: cat([]insn{jeq(1, 1, 2), mark(2), ret(0)}, loads(300), []insn{mark(1), ret(1)}),
			far:  []int{0},
			want: cat([]insn{jeq(1, 100, 2), mark(100), trampoline(1), mark(2), ret(0)}, loads(300), []insn{mark(1), ret(1)}),
		},
		{
			name: "far false target",
			prog: cat([]insn{jeq(1, 2, 1), mark(2), ret(0)}, loads(300), []insn{mark(1), ret(1)}),
			far:  []int{0},
			want: cat([]insn{jeq(1, 2, 100), mark(100), trampoline(1), mark(2), ret(0)}, loads(300), []insn{mark(1), ret(1)}),
		},
		{
			name: "both targets far",
			prog: cat([]insn{jeq(1, 1, 2)}, loads(300), []insn{mark(1), ret(1), mark(2), ret(0)}),
			far:  []int{0},
			want: cat([]insn{jeq(1, 100, 101), mark(100), trampoline(1), mark(101), trampoline(2)}, loads(300), []insn{mark(1), ret(1), mark(2), ret(0)}),
		},
		{
			name: "only the jumps named far",
			prog: cat([]insn{ld(0), jeq(1, 1, 3), mark(3), jeq(2, 1, 2), mark(2), ret(0)}, loads(300), []insn{mark(1), ret(1)}),
			far:  []int{2},
			want: cat([]insn{ld(0), jeq(1, 1, 3), mark(3), jeq(2, 100, 2), mark(100), trampoline(1), mark(2), ret(0)}, loads(300), []insn{mark(1), ret(1)}),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pos, _ := layout(tc.prog)
			far := map[int]bool{}
			for _, i := range tc.far {
				far[i] = true
			}
			next := Label(99)
			got := trampolines(tc.prog, far, pos, func() Label { next++; return next })
			if !slices.Equal(got, tc.want) {
				t.Errorf("got  %v\nwant %v", got[:min(len(got), 8)], tc.want[:min(len(tc.want), 8)])
			}
		})
	}
}
