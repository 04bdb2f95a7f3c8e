package profiles_test

import (
	"testing"

	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// TestMergeKeepsInitArguments: merging a profile whose socket entry is
// init-only for AF_INET with one whose socket is any-phase for AF_UNIX
// must not allow AF_INET in serving: neither profile does (the merge
// side of pipeline's TestPhasesArgumentsOfInit).
func TestMergeKeepsInitArguments(t *testing.T) {
	arch, err := linuxabi.LookupArch("x86_64")
	if err != nil {
		t.Fatal(err)
	}
	const afUnix, afInet = 1, 2
	socket := func(phase profiles.Phase, domain uint64) *profiles.Profile {
		return &profiles.Profile{Version: 3, Name: "server", Arch: []string{arch.Name}, DefaultAction: profiles.ActKillProcess,
			Phases: &profiles.Phases{Transition: profiles.DefaultTransition()},
			Syscalls: []profiles.Syscall{{Name: "execve"},
				{Name: "socket", Phase: phase, Args: []profiles.ArgRule{{Index: 0, Op: profiles.OpIn, Values: []uint64{domain}}}}}}
	}
	m, err := profiles.Merge(socket(profiles.PhaseInit, afInet), socket(profiles.PhaseAny, afUnix))
	if err != nil {
		t.Fatal(err)
	}
	nr, _ := arch.Number("socket")
	for _, tc := range []struct {
		domain uint64
		phase  profiles.Phase
		allow  bool
	}{
		{afInet, profiles.PhaseInit, true},
		{afUnix, profiles.PhaseInit, true},
		{afUnix, profiles.PhaseServing, true},
		{afInet, profiles.PhaseServing, false},
	} {
		a := m.Decide(linuxabi.SeccompData{Nr: int32(nr), Arch: arch.Audit, Args: [6]uint64{tc.domain}}, tc.phase)
		if (a.Kind == profiles.Allow) != tc.allow {
			t.Errorf("socket(%d) in %s: %s, want allowed %v\n%s", tc.domain, tc.phase, a, tc.allow, profiles.Format(m))
		}
	}
}

// TestMergePerPhase: Merge joins init entries with init entries and
// entries for every phase with each other, so no value an input allows
// in init only is allowed in serving, and drops an init entry an entry
// for every phase allows as a whole.
func TestMergePerPhase(t *testing.T) {
	arch, err := linuxabi.LookupArch("x86_64")
	if err != nil {
		t.Fatal(err)
	}
	const fork, thread = 17, 0x3d0f00
	clone := func(phase profiles.Phase, flags ...uint64) profiles.Syscall {
		s := profiles.Syscall{Name: "clone", Phase: phase}
		if flags != nil {
			s.Args = []profiles.ArgRule{{Index: 0, Op: profiles.OpIn, Values: flags}}
		}
		return s
	}
	nr, _ := arch.Number("clone")
	for _, tc := range []struct {
		name    string
		a, b    profiles.Syscall
		entries int // clone entries in the merge
		allow   map[profiles.Phase][]uint64
		refuse  map[profiles.Phase][]uint64
	}{
		{"init values stay init", clone(profiles.PhaseInit, fork), clone(profiles.PhaseAny, thread), 2,
			map[profiles.Phase][]uint64{profiles.PhaseInit: {fork, thread}, profiles.PhaseServing: {thread}},
			map[profiles.Phase][]uint64{profiles.PhaseServing: {fork}}},
		{"init entries join", clone(profiles.PhaseInit, fork), clone(profiles.PhaseInit, thread), 1,
			map[profiles.Phase][]uint64{profiles.PhaseInit: {fork, thread}},
			map[profiles.Phase][]uint64{profiles.PhaseServing: {fork, thread}}},
		{"covered init entry dropped", clone(profiles.PhaseInit, fork), clone(profiles.PhaseAny), 1,
			map[profiles.Phase][]uint64{profiles.PhaseInit: {fork}, profiles.PhaseServing: {fork, thread}}, nil},
		{"same rules: one entry", clone(profiles.PhaseInit, fork), clone(profiles.PhaseAny, fork), 1,
			map[profiles.Phase][]uint64{profiles.PhaseServing: {fork}},
			map[profiles.Phase][]uint64{profiles.PhaseInit: {thread}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mk := func(s profiles.Syscall) *profiles.Profile {
				return &profiles.Profile{Version: 3, Name: "server", Arch: []string{arch.Name}, DefaultAction: profiles.ActKillProcess,
					Phases:   &profiles.Phases{Transition: profiles.DefaultTransition()},
					Syscalls: []profiles.Syscall{{Name: "execve"}, s}}
			}
			m, err := profiles.Merge(mk(tc.a), mk(tc.b))
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, s := range m.Syscalls {
				if s.Name == "clone" {
					n++
				}
			}
			if n != tc.entries {
				t.Errorf("%d clone entries, want %d\n%s", n, tc.entries, profiles.Format(m))
			}
			for want, cases := range map[bool]map[profiles.Phase][]uint64{true: tc.allow, false: tc.refuse} {
				for phase, flags := range cases {
					for _, f := range flags {
						a := m.Decide(linuxabi.SeccompData{Nr: int32(nr), Arch: arch.Audit, Args: [6]uint64{f}}, phase)
						if (a.Kind == profiles.Allow) != want {
							t.Errorf("clone(%#x) in %s: %s, want allowed %v\n%s", f, phase, a, want, profiles.Format(m))
						}
					}
				}
			}
		})
	}
}
