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

// TestObjectCurrent rebuilds the program with the command in gen.go and
// checks the committed object and bindings are what it produces.
func TestObjectCurrent(t *testing.T) {
	testenv.RequireTool(t, "clang")
	src, err := os.ReadFile("gen.go")
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, line := range strings.Split(string(src), "\n") {
		if cmd, ok := strings.CutPrefix(line, "//go:generate go tool bpf2go "); ok {
			args = strings.Fields(strings.ReplaceAll(cmd, `"-O2 -g -Wall -Werror"`, "CFLAGS"))
		}
	}
	if args == nil {
		t.Fatal("no bpf2go line in gen.go")
	}
	for i, a := range args {
		if a == "CFLAGS" {
			args[i] = "-O2 -g -Wall -Werror"
		}
	}
	dir := t.TempDir()
	cmd := exec.Command("go", append([]string{"tool", "bpf2go", "-output-dir", dir, "-go-package", "bpfprog"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bpf2go: %v\n%s", err, out)
	}
	for _, f := range []string{"sysrec_bpfel.o", "sysrec_bpfel.go"} {
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
