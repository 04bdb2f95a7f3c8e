package policy

import "testing"

// TestAnyPhaseOrdinary: every call a profile keeps for every phase is an
// ordinary one some syscall table names, with its reason; the calls that
// give a process new powers stay restricted to init when only init made
// them.
func TestAnyPhaseOrdinary(t *testing.T) {
	for _, group := range AnyPhaseSyscalls() {
		for _, n := range group {
			t.Run(n, func(t *testing.T) {
				if !knownAnywhere(n) {
					t.Errorf("no syscall table has %q", n)
				}
				if tier, _ := TierOf(n); tier != Ordinary {
					t.Errorf("%s is %s", n, tier)
				}
				if ok, why := AnyPhase(n); !ok || why == "" {
					t.Errorf("AnyPhase(%s) = %v, %q", n, ok, why)
				}
			})
		}
	}
	for _, n := range []string{"execve", "socket", "bind", "listen", "clone", "fork", "setuid", "openat", "accept4", "rt_sigaction"} {
		if ok, _ := AnyPhase(n); ok {
			t.Errorf("AnyPhase(%s) is true: an init-only %s is the point of phases", n, n)
		}
	}
}

func TestPhaseDoor(t *testing.T) {
	for _, tc := range []struct {
		name string
		door bool
	}{
		{"execve", true}, {"execveat", true}, {"socket", true}, {"connect", true}, {"bind", true}, {"listen", true},
		{"clone", true}, {"fork", true}, {"setuid", true}, {"ptrace", true}, {"chmod", true}, {"unshare", true},
		{"read", false}, {"openat", false}, {"getdents64", false}, {"accept4", false}, {"sendto", false}, {"pipe2", false},
	} {
		if got, why := PhaseDoor(tc.name); got != tc.door || got && why == "" {
			t.Errorf("PhaseDoor(%s) = %v %q, want %v with a reason", tc.name, got, why, tc.door)
		}
	}
	for n := range phaseDoors {
		if ok, _ := AnyPhase(n); ok {
			t.Errorf("%s is a door and kept in every phase", n)
		}
		if !knownAnywhere(n) {
			t.Errorf("door %s is in no syscall table", n)
		}
	}
}
