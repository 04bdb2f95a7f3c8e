package linuxabi

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestTablesCurrent regenerates the syscall tables from the x/sys version
// in go.mod and checks the committed zsyscalls.go is the same: a bumped
// x/sys with new syscalls must come with `go generate ./linuxabi`.
func TestTablesCurrent(t *testing.T) {
	out := filepath.Join(t.TempDir(), "zsyscalls.go")
	if b, err := exec.Command("go", "run", "./internal/gentables", "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("gentables: %v\n%s", err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("zsyscalls.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("zsyscalls.go is stale: run go generate ./linuxabi")
	}
}
