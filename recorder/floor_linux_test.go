package recorder

import (
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/internal/testtarget"
)

// floorPrograms counts the loaded BPF programs named sysrec_floor.
func floorPrograms(t *testing.T) int {
	t.Helper()
	n := 0
	var id ebpf.ProgramID
	for {
		next, err := ebpf.ProgramGetNextID(id)
		if errors.Is(err, os.ErrNotExist) {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		id = next
		p, err := ebpf.NewProgramFromID(id)
		if err != nil {
			continue // unloaded meanwhile
		}
		if info, err := p.Info(); err == nil && info.Name == "sysrec_floor" {
			n++
		}
		p.Close()
	}
}

// TestFloor attaches the empty programs, runs a target under them and
// detaches: two programs while attached, none after.
func TestFloor(t *testing.T) {
	testenv.RequireRoot(t)
	target := testtarget.Path(t)
	before := floorPrograms(t)
	detach, err := Floor()
	if err != nil {
		t.Fatal(err)
	}
	during := floorPrograms(t)
	out, err := exec.Command(target, "loop", "1000").CombinedOutput()
	detach()
	if err != nil {
		t.Fatalf("target under the floor programs: %v\n%s", err, out)
	}
	if during != before+2 {
		t.Errorf("%d floor programs while attached, want %d", during, before+2)
	}
	// The kernel frees a detached program after an RCU grace period:
	// wait for that, within a deadline.
	deadline := time.Now().Add(5 * time.Second)
	for floorPrograms(t) != before {
		if time.Now().After(deadline) {
			t.Fatalf("%d floor programs 5s after detach, want %d", floorPrograms(t), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
