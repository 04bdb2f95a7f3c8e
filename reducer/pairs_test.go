package reducer

import (
	"testing"

	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// Socket option levels and options (linux/in.h, linux/tcp.h,
// linux/in6.h) and families the pair tests use.
const (
	solTCP, solIPv6, solSocket          = 6, 41, 1
	tcpNodelay, tcpCork, tcpUlp         = 1, 3, 31
	ipv6Addrform, ipv6V6only            = 1, 26
	soReuseaddr                         = 2
	afInet, afNetlink                   = 2, 16
	ipprotoTCP, netlinkRoute, netlinkXF = 6, 0, 6
)

// call is one call and whether a profile must allow it.
type call struct {
	name  string
	args  map[int]uint64
	allow bool
}

func decides(t *testing.T, p *profiles.Profile, calls []call) {
	t.Helper()
	for _, c := range calls {
		nr, _ := x86.Number(c.name)
		d := linuxabi.SeccompData{Nr: int32(nr), Arch: x86.Audit}
		for i, v := range c.args {
			d.Args[i] = v
		}
		if got := p.Decide(d, profiles.PhaseServing).Allows(); got != c.allow {
			t.Errorf("%s%v: allowed %v, want %v", c.name, c.args, got, c.allow)
		}
	}
}

// TestDependentArgs: where one argument gives another its meaning (the
// level an option number, the family a protocol number), the profile
// allows the recorded pairs, never their product: 1 is TCP_NODELAY at
// SOL_TCP and IPV6_ADDRFORM at SOL_IPV6.
func TestDependentArgs(t *testing.T) {
	nodelay := sample("setsockopt", 1, map[int]uint64{1: solTCP, 2: tcpNodelay})
	v6only := sample("setsockopt", 1, map[int]uint64{1: solIPv6, 2: ipv6V6only})
	tcp := sample("socket", 1, map[int]uint64{0: afInet, 1: 1, 2: ipprotoTCP})
	route := sample("socket", 1, map[int]uint64{0: afNetlink, 1: 3, 2: netlinkRoute})
	pairs := []call{
		{"setsockopt", map[int]uint64{1: solTCP, 2: tcpNodelay}, true},
		{"setsockopt", map[int]uint64{1: solIPv6, 2: ipv6V6only}, true},
		{"setsockopt", map[int]uint64{1: solIPv6, 2: ipv6Addrform}, false},
		{"setsockopt", map[int]uint64{1: solTCP, 2: ipv6V6only}, false},
		{"socket", map[int]uint64{0: afInet, 1: 1, 2: ipprotoTCP}, true},
		{"socket", map[int]uint64{0: afNetlink, 1: 3, 2: netlinkRoute}, true},
		{"socket", map[int]uint64{0: afNetlink, 1: 3, 2: netlinkXF}, false},
	}
	for _, level := range []Level{LevelExact, LevelFamilies} {
		t.Run(string(level), func(t *testing.T) {
			p, err := Reduce([]*profiles.Recording{rec(nodelay, v6only, tcp, route)}, Options{Level: level})
			if err != nil {
				t.Fatal(err)
			}
			decides(t, p, pairs)
		})
		t.Run(string(level)+"/merged", func(t *testing.T) {
			// Each pair from its own run, merged: Merge keeps them apart.
			var ps []*profiles.Profile
			for _, r := range []*profiles.Recording{rec(nodelay, tcp), rec(v6only, route)} {
				p, err := Reduce([]*profiles.Recording{r}, Options{Level: level})
				if err != nil {
					t.Fatal(err)
				}
				ps = append(ps, p)
			}
			p, err := profiles.Merge(ps...)
			if err != nil {
				t.Fatal(err)
			}
			decides(t, p, pairs)
		})
	}
}

// TestSafeOptionsPerLevel: above the exact level, a run that set a TCP
// option may set the other options of the TCP sending class (TCP_CORK
// after TCP_NODELAY, as a server sending a large file does), at SOL_TCP
// only: the same numbers at another level are other options, and a run
// that set none at SOL_TCP gets none there.
func TestSafeOptionsPerLevel(t *testing.T) {
	nodelay := sample("setsockopt", 1, map[int]uint64{1: solTCP, 2: tcpNodelay})
	v6only := sample("setsockopt", 1, map[int]uint64{1: solIPv6, 2: ipv6V6only})
	reuse := sample("setsockopt", 1, map[int]uint64{1: solSocket, 2: soReuseaddr})
	for _, tc := range []struct {
		name    string
		samples []profiles.Sample
		level   Level
		calls   []call
	}{
		{"class at SOL_TCP", []profiles.Sample{nodelay, v6only}, LevelFamilies, []call{
			{"setsockopt", map[int]uint64{1: solTCP, 2: tcpCork}, true},
			{"setsockopt", map[int]uint64{1: solTCP, 2: 12}, true},
			{"setsockopt", map[int]uint64{1: solTCP, 2: tcpUlp}, false},
			{"setsockopt", map[int]uint64{1: solIPv6, 2: tcpCork}, false},
			{"setsockopt", map[int]uint64{1: solIPv6, 2: ipv6Addrform}, false},
		}},
		{"one level seen", []profiles.Sample{nodelay}, LevelFamilies, []call{
			{"setsockopt", map[int]uint64{1: solTCP, 2: tcpCork}, true},
			{"setsockopt", map[int]uint64{1: solTCP, 2: tcpNodelay}, true},
		}},
		{"no TCP option seen", []profiles.Sample{v6only, reuse}, LevelFamilies, []call{
			{"setsockopt", map[int]uint64{1: solTCP, 2: tcpCork}, false},
			{"setsockopt", map[int]uint64{1: solSocket, 2: ipv6V6only}, false},
			{"setsockopt", map[int]uint64{1: solIPv6, 2: soReuseaddr}, false},
		}},
		{"no class at exact", []profiles.Sample{nodelay}, LevelExact, []call{
			{"setsockopt", map[int]uint64{1: solTCP, 2: tcpCork}, false},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Reduce([]*profiles.Recording{rec(tc.samples...)}, Options{Level: tc.level})
			if err != nil {
				t.Fatal(err)
			}
			decides(t, p, tc.calls)
		})
	}
}
