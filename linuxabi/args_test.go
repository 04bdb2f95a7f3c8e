package linuxabi

import "testing"

func TestRiskSymbols(t *testing.T) {
	if got := Symbolize("ioctl", 0x5412, false); got != "TIOCSTI" {
		t.Errorf("TIOCSTI printed as %s", got)
	}
}

func TestParseSymbol(t *testing.T) {
	for _, tc := range []struct {
		set   string
		v     uint64
		flags bool
	}{
		{"af", 16, false}, {"af", 99, false}, {"open", 0x241, true}, {"open", 0, true},
		{"clone", 0x1200011, true}, {"prot", 1<<40 | 3, true}, {"ioctl", 0x5412, false}, {"", 7, false},
	} {
		s := Symbolize(tc.set, tc.v, tc.flags)
		if got, ok := ParseSymbol(tc.set, s, tc.flags); !ok || got != tc.v {
			t.Errorf("ParseSymbol(%s, %q) = %#x, %v; want %#x", tc.set, s, got, ok, tc.v)
		}
	}
	if _, ok := ParseSymbol("af", "AF_NOPE", false); ok {
		t.Error("unknown name parsed")
	}
}
