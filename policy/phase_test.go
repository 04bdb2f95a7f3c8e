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
