package emit

import (
	"testing"

	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// TestKeyedEntries: a syscall whose arguments are keyed comes as several
// entries of one name (one per set of key values, as the reducer and
// Merge write them), each ANDing its own rules, followed by a deny
// entry; the filter decides every pair of level and option as the
// model does.
func TestKeyedEntries(t *testing.T) {
	in := func(i int, vals ...uint64) profiles.ArgRule {
		return profiles.ArgRule{Index: i, Op: profiles.OpIn, Values: vals}
	}
	p := profile([]string{"x86_64"}, profiles.ActKillProcess,
		profiles.Syscall{Name: "setsockopt", Args: []profiles.ArgRule{in(1, 6), in(2, 1, 3)}},
		profiles.Syscall{Name: "setsockopt", Args: []profiles.ArgRule{in(1, 1, 41), in(2, 2, 26)}},
		profiles.Syscall{Name: "setsockopt", Args: []profiles.ArgRule{in(1, 17)}},
		profiles.Syscall{Name: "setsockopt", Action: profiles.ActEPERM, Args: []profiles.ArgRule{in(1, 0)}},
		profiles.Syscall{Name: "socket", Args: []profiles.ArgRule{in(0, 2, 10), in(1, 1, 2), in(2, 0, 6, 17)}},
		profiles.Syscall{Name: "socket", Args: []profiles.ArgRule{in(0, 16), in(1, 3), in(2, 0)}},
		profiles.Syscall{Name: "read"},
	)
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	var inputs []linuxabi.SeccompData
	vals := []uint64{0, 1, 2, 3, 6, 10, 16, 17, 26, 41, 0xffffffff00000006, 1 << 32}
	for _, a := range vals {
		for _, b := range vals {
			for _, c := range []uint64{0, 6, 17, 26} {
				inputs = append(inputs,
					linuxabi.SeccompData{Nr: nr(x86, "setsockopt"), Arch: x86.Audit, Args: [6]uint64{3, a, b}},
					linuxabi.SeccompData{Nr: nr(x86, "socket"), Arch: x86.Audit, Args: [6]uint64{a, b, c}})
			}
		}
	}
	check(t, p, inputs)
	for _, c := range []struct {
		d    linuxabi.SeccompData
		want profiles.Action
	}{
		{linuxabi.SeccompData{Nr: nr(x86, "setsockopt"), Arch: x86.Audit, Args: [6]uint64{3, 6, 1}}, profiles.ActAllow},
		{linuxabi.SeccompData{Nr: nr(x86, "setsockopt"), Arch: x86.Audit, Args: [6]uint64{3, 41, 26}}, profiles.ActAllow},
		{linuxabi.SeccompData{Nr: nr(x86, "setsockopt"), Arch: x86.Audit, Args: [6]uint64{3, 41, 1}}, profiles.ActKillProcess},
		{linuxabi.SeccompData{Nr: nr(x86, "setsockopt"), Arch: x86.Audit, Args: [6]uint64{3, 0, 1}}, profiles.ActEPERM},
		{linuxabi.SeccompData{Nr: nr(x86, "socket"), Arch: x86.Audit, Args: [6]uint64{16, 3, 6}}, profiles.ActKillProcess},
	} {
		if got := p.Decide(c.d, profiles.PhaseServing); got != c.want {
			t.Errorf("args %v: model %s, want %s", c.d.Args, got, c.want)
		}
	}
}
