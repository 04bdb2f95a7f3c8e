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
