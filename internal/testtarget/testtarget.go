// Package testtarget builds testdata/target once per test binary.
package testtarget

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var build = sync.OnceValues(func() (string, error) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	dir, err := os.MkdirTemp("", "sysrec-target")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "target")
	cmd := exec.Command("go", "build", "-buildvcs=false", "-o", path, "./testdata/target")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build target: %v\n%s", err, out)
	}
	return path, nil
})

// Build builds the target (once) and returns its path.
func Build() (string, error) { return build() }

// Path returns the path of the built target or fails t.
func Path(t testing.TB) string {
	t.Helper()
	path, err := build()
	if err != nil {
		t.Fatal(err)
	}
	return path
}
