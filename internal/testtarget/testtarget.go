// Package testtarget builds testdata/target once per test binary.
//
// A test binary that uses it calls Cleanup at the end of its TestMain,
// which removes the build: tests leave nothing in the temp directory.
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

var (
	mu  sync.Mutex
	dir string // the build's temp directory, once built
	err error
)

func build() (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if dir != "" || err != nil {
		return filepath.Join(dir, "target"), err
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	d, e := os.MkdirTemp("", "sysrec-target")
	if e != nil {
		err = e
		return "", err
	}
	path := filepath.Join(d, "target")
	cmd := exec.Command("go", "build", "-buildvcs=false", "-o", path, "./testdata/target")
	cmd.Dir = root
	if out, e := cmd.CombinedOutput(); e != nil {
		os.RemoveAll(d)
		err = fmt.Errorf("build target: %v\n%s", e, out)
		return "", err
	}
	dir = d
	return path, nil
}

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

// Cleanup removes the built target, if any. Call it once every test
// that used it has finished: at the end of TestMain.
func Cleanup() error {
	mu.Lock()
	defer mu.Unlock()
	if dir == "" {
		return nil
	}
	if e := os.RemoveAll(dir); e != nil {
		return fmt.Errorf("remove the test target: %w", e)
	}
	dir, err = "", fmt.Errorf("the test target was removed (testtarget.Cleanup)")
	return nil
}
