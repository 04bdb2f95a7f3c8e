package profiles

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestCubesMatch: the cubes of a rule are exactly the values Match
// accepts, for random rules and values at both widths.
func TestCubesMatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	small := func() uint64 { return rng.Uint64() & 0x1f }
	for range 2000 {
		width := []int{32, 64}[rng.IntN(2)]
		var r ArgRule
		switch rng.IntN(3) {
		case 0:
			r = ArgRule{Op: OpIn, Mask: []uint64{0, 0x1c, 0xffffffff}[rng.IntN(3)], Values: []uint64{small(), small() | 1<<40}}
		case 1:
			r = ArgRule{Op: OpSubset, Mask: small() | []uint64{0, 1 << 40}[rng.IntN(2)]}
		default:
			lo := small()
			r = ArgRule{Op: OpRange, Min: lo, Max: lo + small()}
		}
		cubes := r.Cubes(width)
		for range 20 {
			v := small() | []uint64{0, 1 << 40, 1 << 33}[rng.IntN(3)]
			in := slices.ContainsFunc(cubes, func(c Cube) bool { return v&c.Mask == c.Value })
			if in != r.Match(v, width) {
				t.Fatalf("%+v at %d bits, value %#x: in cubes %v, Match %v", r, width, v, in, !in)
			}
		}
	}
}

func TestRulesImply(t *testing.T) {
	in := func(i int, mask uint64, vals ...uint64) ArgRule {
		return ArgRule{Index: i, Op: OpIn, Mask: mask, Values: vals}
	}
	for _, tc := range []struct {
		name string
		a, b []ArgRule
		want bool
	}{
		{"both unconditional", nil, nil, true},
		{"unconditional under a rule", nil, []ArgRule{in(1, 0, 1)}, false},
		{"values within", []ArgRule{in(1, 0, 1)}, []ArgRule{in(1, 0, 1, 2)}, true},
		{"a value outside", []ArgRule{in(1, 0, 3)}, []ArgRule{in(1, 0, 1, 2)}, false},
		{"b looks at bits a leaves free", []ArgRule{in(1, 0xf, 1)}, []ArgRule{in(1, 0xff, 1)}, false},
		{"b's mask within a's", []ArgRule{in(1, 0xff, 0x11)}, []ArgRule{in(1, 0xf, 1)}, true},
		{"subset forbids none of a's bits", []ArgRule{in(0, 0, 0x100)}, []ArgRule{{Index: 0, Op: OpSubset, Mask: 0x1ff}}, true},
		{"subset forbids one", []ArgRule{in(0, 0, 0x300)}, []ArgRule{{Index: 0, Op: OpSubset, Mask: 0x1ff}}, false},
		{"another argument", []ArgRule{in(1, 0, 1)}, []ArgRule{in(2, 0, 1)}, false},
	} {
		if got := RulesImply("clone", tc.a, tc.b); got != tc.want {
			t.Errorf("%s: RulesImply = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestUnionRules(t *testing.T) {
	a := []ArgRule{{Index: 1, Op: OpIn, Values: []uint64{2, 1}}}
	b := []ArgRule{{Index: 1, Op: OpIn, Values: []uint64{3, 1}}}
	got, ok := UnionRules("fcntl", a, b)
	if !ok || len(got) != 1 || !slices.Equal(got[0].Values, []uint64{1, 2, 3}) {
		t.Errorf("UnionRules(in, in) = %+v, %v", got, ok)
	}
	if a[0].Values[0] != 2 {
		t.Error("UnionRules changed its argument")
	}
	if got, ok := UnionRules("fcntl", a, nil); !ok || got != nil {
		t.Errorf("UnionRules with an unconditional side = %+v, %v; want unconditional", got, ok)
	}
	c := []ArgRule{{Index: 1, Op: OpIn, Mask: 0xf, Values: []uint64{1}}}
	if _, ok := UnionRules("fcntl", a, c); ok {
		t.Error("UnionRules joined rules of different masks (that would widen)")
	}
}
