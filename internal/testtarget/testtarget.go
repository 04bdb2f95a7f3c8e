// Package testtarget builds testdata/target once per test binary.
package testtarget

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	once sync.Once
	path string
	err  error
	out  []byte
)

// Path returns the path of a freshly built testdata/target binary.
func Path(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		dir, derr := os.MkdirTemp("", "sysrec-target")
		if derr != nil {
			err = derr
			return
		}
		path = filepath.Join(dir, "target")
		cmd := exec.Command("go", "build", "-o", path, "./testdata/target")
		cmd.Dir = root
		out, err = cmd.CombinedOutput()
	})
	if err != nil {
		t.Fatalf("build target: %v\n%s", err, out)
	}
	return path
}
