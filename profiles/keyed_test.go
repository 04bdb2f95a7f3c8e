package profiles

import (
	"slices"
	"testing"

	"github.com/sysrec/sysrec/linuxabi"
)

// Socket option levels and options (linux/in.h, linux/tcp.h,
// linux/in6.h).
const (
	solSocket, solTCP, solIPv6 = 1, 6, 41
	tcpNodelay, tcpCork        = 1, 3
	ipv6Addrform, ipv6V6only   = 1, 26
)

func sockopt(level, opt uint64) [6]uint64 { return [6]uint64{1: level, 2: opt} }

// opts is a setsockopt entry allowing options at levels.
func opts(levels []uint64, options ...uint64) Syscall {
	return Syscall{Name: "setsockopt", Args: []ArgRule{{Index: 1, Op: OpIn, Values: levels}, {Index: 2, Op: OpIn, Values: options}}}
}

func profileOf(entries ...Syscall) *Profile {
	return &Profile{Version: Version, Arch: []string{"x86_64"}, DefaultAction: ActKillProcess, Syscalls: entries}
}

// TestMergeKeyed: Merge joins entries of a syscall whose arguments are
// keyed (setsockopt's level gives its option its meaning) per key
// value, so it allows exactly what some input allowed at each level and
// never the product of levels and options; it joins what it can into
// few entries, and merging again changes nothing.
func TestMergeKeyed(t *testing.T) {
	x86, _ := linuxabi.LookupArch("x86_64")
	nr, _ := x86.Number("setsockopt")
	for _, tc := range []struct {
		name    string
		in      [][]Syscall // one profile each
		entries int
		allow   [][6]uint64
		refuse  [][6]uint64
	}{
		{"levels apart stay apart",
			[][]Syscall{{opts([]uint64{solTCP}, tcpNodelay)}, {opts([]uint64{solIPv6}, ipv6V6only)}}, 2,
			[][6]uint64{sockopt(solTCP, tcpNodelay), sockopt(solIPv6, ipv6V6only)},
			[][6]uint64{sockopt(solIPv6, ipv6Addrform), sockopt(solTCP, ipv6V6only)}},
		{"one level: options joined",
			[][]Syscall{{opts([]uint64{solTCP}, tcpNodelay)}, {opts([]uint64{solTCP}, tcpCork)}}, 1,
			[][6]uint64{sockopt(solTCP, tcpNodelay), sockopt(solTCP, tcpCork)},
			[][6]uint64{sockopt(solIPv6, tcpNodelay)}},
		{"a key set taken apart per level",
			[][]Syscall{{opts([]uint64{solSocket, solTCP}, 1)}, {opts([]uint64{solTCP}, tcpCork)}}, 2,
			[][6]uint64{sockopt(solSocket, 1), sockopt(solTCP, 1), sockopt(solTCP, tcpCork)},
			[][6]uint64{sockopt(solSocket, tcpCork)}},
		{"levels with the same options put together",
			[][]Syscall{{opts([]uint64{solTCP}, ipv6V6only)}, {opts([]uint64{solIPv6}, ipv6V6only)}}, 1,
			[][6]uint64{sockopt(solTCP, ipv6V6only), sockopt(solIPv6, ipv6V6only)},
			[][6]uint64{sockopt(solIPv6, ipv6Addrform)}},
		{"two entries of one profile",
			[][]Syscall{{opts([]uint64{solTCP}, tcpNodelay), opts([]uint64{solIPv6}, ipv6V6only)}, {opts([]uint64{solTCP}, tcpCork)}}, 2,
			[][6]uint64{sockopt(solTCP, tcpNodelay), sockopt(solTCP, tcpCork), sockopt(solIPv6, ipv6V6only)},
			[][6]uint64{sockopt(solIPv6, ipv6Addrform), sockopt(solIPv6, tcpCork)}},
		{"an open level stays its own entry",
			[][]Syscall{{{Name: "setsockopt", Args: []ArgRule{{Index: 2, Op: OpIn, Values: []uint64{ipv6V6only}}}}}, {opts([]uint64{solTCP}, tcpNodelay)}}, 2,
			[][6]uint64{sockopt(solTCP, tcpNodelay), sockopt(solIPv6, ipv6V6only), sockopt(solSocket, ipv6V6only)},
			[][6]uint64{sockopt(solIPv6, ipv6Addrform)}},
		{"an unconstrained entry allows every pair",
			[][]Syscall{{{Name: "setsockopt"}}, {opts([]uint64{solTCP}, tcpNodelay)}}, 1,
			[][6]uint64{sockopt(solIPv6, ipv6Addrform)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ps []*Profile
			for _, es := range tc.in {
				ps = append(ps, profileOf(es...))
			}
			m, err := Merge(ps...)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Syscalls) != tc.entries {
				t.Errorf("%d entries, want %d: %v", len(m.Syscalls), tc.entries, callTexts(m.Syscalls))
			}
			check := func(p *Profile, label string) {
				for _, a := range tc.allow {
					if got := p.Decide(linuxabi.SeccompData{Nr: int32(nr), Arch: x86.Audit, Args: a}, PhaseServing); !got.Allows() {
						t.Errorf("%s: setsockopt(%d, %d) refused", label, a[1], a[2])
					}
				}
				for _, a := range tc.refuse {
					if got := p.Decide(linuxabi.SeccompData{Nr: int32(nr), Arch: x86.Audit, Args: a}, PhaseServing); got.Allows() {
						t.Errorf("%s: setsockopt(%d, %d) allowed, which no input allowed", label, a[1], a[2])
					}
				}
			}
			check(m, "merge")
			again, err := Merge(m)
			if err != nil {
				t.Fatal(err)
			}
			if a, b := callTexts(again.Syscalls), callTexts(m.Syscalls); len(a) != len(b) || a[0] != b[0] {
				t.Errorf("merged again: %v, was %v", a, b)
			}
			check(again, "merged again")
		})
	}
}

// TestDiffKeyed: an option allowed at a level where OLD did not allow
// it is a widening, though OLD allowed the option at another level and
// the level with another option.
func TestDiffKeyed(t *testing.T) {
	old := profileOf(opts([]uint64{solTCP}, tcpNodelay), opts([]uint64{solIPv6}, ipv6V6only))
	for _, tc := range []struct {
		name    string
		new     []Syscall
		widens  bool
		widened string
	}{
		{"the same pairs", []Syscall{opts([]uint64{solIPv6}, ipv6V6only), opts([]uint64{solTCP}, tcpNodelay)}, false, ""},
		{"fewer pairs", []Syscall{opts([]uint64{solTCP}, tcpNodelay)}, false, ""},
		{"an option at another level", []Syscall{opts([]uint64{solTCP}, tcpNodelay), opts([]uint64{solIPv6}, ipv6V6only, ipv6Addrform)}, true, "at level SOL_IPV6: optname: +1"},
		{"the product", []Syscall{opts([]uint64{solTCP, solIPv6}, tcpNodelay, ipv6V6only)}, true, "at level SOL_TCP: optname: +26"},
		{"a new level", []Syscall{opts([]uint64{solTCP}, tcpNodelay), opts([]uint64{solIPv6}, ipv6V6only), opts([]uint64{solSocket}, 2)}, true, "level: +SOL_SOCKET"},
		{"the level open", []Syscall{{Name: "setsockopt", Args: []ArgRule{{Index: 2, Op: OpIn, Values: []uint64{tcpNodelay, ipv6V6only}}}}}, true, "level: no longer constrained (was level ∈ {SOL_TCP, SOL_IPV6})"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Diff(old, profileOf(tc.new...))
			if d.Widens != tc.widens {
				t.Fatalf("widens %v, want %v: %s", d.Widens, tc.widens, d.Text())
			}
			if tc.widened == "" {
				return
			}
			if len(d.Changed) != 1 || !slices.Contains(d.Changed[0].Widened, tc.widened) {
				t.Errorf("changed %+v, want widened %q", d.Changed, tc.widened)
			}
		})
	}
}
