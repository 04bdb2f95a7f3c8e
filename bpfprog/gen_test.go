package bpfprog

import (
	"testing"

	"github.com/sysrec/sysrec/internal/testenv"
)

// TestObjectCurrent rebuilds the program with the command in gen.go and
// checks the committed object and bindings are what it produces.
func TestObjectCurrent(t *testing.T) {
	testenv.RequireTool(t, "clang")
	checkGenerated(t, "gen.go", "sysrec_bpfel.o", "sysrec_bpfel.go")
}
