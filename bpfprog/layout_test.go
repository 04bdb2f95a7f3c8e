package bpfprog

import (
	"testing"
	"unsafe"
)

// TestPhaseRuleLayout: the PhaseRule the loaders write is the object's
// struct phase_rule, byte for byte.
func TestPhaseRuleLayout(t *testing.T) {
	var r PhaseRule
	var c sysrecPhaseRule
	if unsafe.Sizeof(r) != unsafe.Sizeof(c) || unsafe.Offsetof(r.Blocking) != unsafe.Offsetof(c.Blocking) ||
		unsafe.Offsetof(r.GateListen) != unsafe.Offsetof(c.GateListen) || len(r.After) != len(c.After) {
		t.Errorf("PhaseRule is %d bytes, struct phase_rule %d: they differ", unsafe.Sizeof(r), unsafe.Sizeof(c))
	}
}
