// Package testtarget builds testdata/target once per test binary.
//
// A test binary that uses it runs its tests through Main (or Run, or
// WithCleanup for testscript), which removes the build at the end: tests
// leave nothing in the temp directory. It is the one TestMain of the
// packages whose tests run the target.
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

// M is what a TestMain runs: *testing.M, or testscript's wrapper of it.
type M interface{ Run() int }

// Run runs m's tests, then removes the build (Cleanup), and returns
// their status: 1 when the build cannot be removed.
func Run(m M) int {
	code := m.Run()
	if err := Cleanup(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	return code
}

// Main is the TestMain of a package whose tests use the target: it runs
// them, removes the build and exits with their status.
func Main(m M) { os.Exit(Run(m)) }

// WithCleanup is m, removing the build after its tests, for a runner
// that calls Run and exits itself (testscript.Main).
func WithCleanup(m M) M { return cleaning{m} }

type cleaning struct{ m M }

func (c cleaning) Run() int { return Run(c.m) }
