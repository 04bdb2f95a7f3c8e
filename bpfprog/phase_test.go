package bpfprog

import (
	"encoding/binary"
	"testing"
)

// TestPhaseRuleLayout: the Go rule the loader writes is laid out as the
// C struct phase.bpf.c reads (bpf2go's phasePhaseRule).
func TestPhaseRuleLayout(t *testing.T) {
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
