package recorder

import (
	"os/exec"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/internal/testtarget"
)

// floorLinks counts the BPF links whose program is named sysrec_floor.
// A link's ID goes when its last descriptor is closed, synchronously
// (the program itself is freed later, after an RCU grace period).
func floorLinks(t *testing.T) int {
	t.Helper()
	n := 0
	var it link.Iterator
	defer it.Close()
	for it.Next() {
		info, err := it.Link.Info()
		if err != nil {
			continue // detached meanwhile
		}
		p, err := ebpf.NewProgramFromID(info.Program)
		if err != nil {
			continue
		}
		if pi, err := p.Info(); err == nil && pi.Name == "sysrec_floor" {
			n++
		}
		p.Close()
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestFloor attaches the empty programs, runs a target under them and
// detaches: two attached programs while attached, none after.
func TestFloor(t *testing.T) {
	testenv.RequireRoot(t)
	target := testtarget.Path(t)
	before := floorLinks(t)
	detach, err := Floor()
	if err != nil {
		t.Fatal(err)
	}
	during := floorLinks(t)
	out, err := exec.Command(target, "loop", "1000").CombinedOutput()
	detach()
	if err != nil {
		t.Fatalf("target under the floor programs: %v\n%s", err, out)
	}
	if during != before+2 {
		t.Errorf("%d floor links while attached, want %d", during, before+2)
	}
	if after := floorLinks(t); after != before {
		t.Errorf("%d floor links after detach, want %d", after, before)
	}
}
