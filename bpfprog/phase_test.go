package bpfprog

import (
	"encoding/binary"
	"testing"
)

// TestPhaseObjectLayout: the rule the enforcer writes into phase.bpf.c's
// variable is laid out as its struct phase_rule, and its map has the
// size PhaseMaxProcesses says.
func TestPhaseObjectLayout(t *testing.T) {
	if got, want := binary.Size(PhaseRule{}), binary.Size(phasePhaseRule{}); got != want {
		t.Fatalf("PhaseRule is %d bytes, struct phase_rule %d", got, want)
	}
	spec, err := PhaseSpec()
	if err != nil {
		t.Fatal(err)
	}
	if got := spec.Variables["rule"].Size(); int(got) != binary.Size(PhaseRule{}) {
		t.Fatalf("the rule variable is %d bytes, PhaseRule %d", got, binary.Size(PhaseRule{}))
	}
	if got := spec.Maps["phases"].MaxEntries; got != PhaseMaxProcesses {
		t.Fatalf("phases map has %d entries, PhaseMaxProcesses says %d", got, PhaseMaxProcesses)
	}
}
