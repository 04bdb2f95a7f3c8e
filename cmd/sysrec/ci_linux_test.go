package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/profiles"
)

// copyDir copies the files of src into a new temporary directory.
func copyDir(t *testing.T, src string) string {
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestCIWorkflow is docs/ci.md on a small module: record its `go test`
// run keeping only the test binary, then add a syscall to the module and
// check `diff --fail-on-new` exits 1 naming it.
func TestCIWorkflow(t *testing.T) {
	testenv.RequireRoot(t)
	gobin := testenv.RequireTool(t, "go")
	mod := copyDir(t, "../../testdata/cimod")
	record := func(out string) *profiles.Profile {
		t.Helper()
		code, log := sysrec("record", "--progress", "never", "--exe", "*.test", "-o", out, "--",
			"/bin/sh", "-c", "cd "+mod+" && exec "+gobin+" test -count=1 ./...")
		if code != 0 {
			t.Fatalf("record go test: exit %d\n%s", code, log)
		}
		p, err := profiles.Load(out)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	dir := t.TempDir()
	base := record(filepath.Join(dir, "base.json"))
	// Only the test binary's calls: the compiler's and go command's
	// (wait4 for its children, among others) are left out.
	names := map[string]bool{}
	for _, s := range base.Syscalls {
		names[s.Name] = true
	}
	if !names["openat"] || !names["execve"] {
		t.Errorf("test binary profile lacks openat/execve: %v", names)
	}
	if names["wait4"] || names["getpriority"] {
		t.Errorf("profile has calls the test binary does not make: %v", names)
	}

	extra := "package cimod\n\nimport (\n\t\"syscall\"\n\t\"testing\"\n)\n\nfunc TestPriority(t *testing.T) {\n\tsyscall.Syscall(syscall.SYS_GETPRIORITY, 0, 0, 0)\n}\n"
	if err := os.WriteFile(filepath.Join(mod, "priority_test.go"), []byte(extra), 0o644); err != nil {
		t.Fatal(err)
	}
	record(filepath.Join(dir, "new.json"))
	code, out := sysrec("diff", "--fail-on-new", filepath.Join(dir, "base.json"), filepath.Join(dir, "new.json"))
	if code != 1 || !strings.Contains(out, "+ getpriority") {
		t.Errorf("diff after adding getpriority: exit %d\n%s", code, out)
	}
}
