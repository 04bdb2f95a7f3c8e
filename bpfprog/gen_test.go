package bpfprog

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/internal/testenv"
)

// TestObjectCurrent rebuilds the programs with the commands in gen.go and
// checks the committed objects and bindings are what they produce.
func TestObjectCurrent(t *testing.T) {
	testenv.RequireTool(t, "clang")
	checkGenerated(t, "gen.go", "sysrec.bpf.c", "sysrec_bpfel.o", "sysrec_bpfel.go")
	checkGenerated(t, "gen.go", "phase.bpf.c", "phase_bpfel.o", "phase_bpfel.go")
}

// checkGenerated runs the bpf2go line of genFile that compiles source
// into a temporary directory and compares the outputs with the
// committed files.
func checkGenerated(t *testing.T, genFile, source string, outputs ...string) {
	t.Helper()
	src, err := os.ReadFile(genFile)
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, line := range strings.Split(string(src), "\n") {
		if cmd, ok := strings.CutPrefix(line, "//go:generate go tool bpf2go "); ok && strings.Contains(cmd, " "+source+" ") {
			// One quoted argument (the C flags); the rest split on spaces.
			before, rest, _ := strings.Cut(cmd, `"`)
			quoted, after, _ := strings.Cut(rest, `"`)
			args = append(append(strings.Fields(before), quoted), strings.Fields(after)...)
		}
	}
	if args == nil {
		t.Fatalf("no bpf2go line for %s in %s", source, genFile)
	}
	dir := t.TempDir()
	cmd := exec.Command("go", append([]string{"tool", "bpf2go", "-output-dir", dir, "-go-package", "bpfprog"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bpf2go: %v\n%s", err, out)
	}
	for _, f := range outputs {
		want, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run `make generate` and commit the result", f)
		}
	}
}
