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
	mu    sync.Mutex
	dir   string               // the builds' temp directory, once made
	built = map[string]error{} // binary name -> its build's error, once tried
	err   error                // making dir, or Cleanup's
)

// build builds the target (once) as the binary name in dir, with cgo
// when cgo is set (the build tag sysrec_cgo: testdata/target/cgo.go).
func build(name string, cgo bool) (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if err != nil {
		return "", err
	}
	if dir == "" {
		d, e := os.MkdirTemp("", "sysrec-target")
		if e != nil {
			err = e
			return "", err
		}
		dir = d
	}
	path := filepath.Join(dir, name)
	if e, ok := built[name]; ok {
		return path, e
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	args := []string{"build", "-buildvcs=false", "-o", path}
	if cgo {
		args = append(args, "-tags", "sysrec_cgo")
	}
	cmd := exec.Command("go", append(args, "./testdata/target")...)
	cmd.Dir = root
	if cgo {
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	}
	if out, e := cmd.CombinedOutput(); e != nil {
		built[name] = fmt.Errorf("build target %s: %v\n%s", name, e, out)
		return "", built[name]
	}
	built[name] = nil
	return path, nil
}

// Build builds the target (once) and returns its path.
func Build() (string, error) { return build("target", false) }

// Path returns the path of the built target or fails t.
func Path(t testing.TB) string {
	t.Helper()
	path, err := build("target", false)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// PathCgo returns the path of the target built with cgo, or fails t:
// its Go runtime starts threads with glibc's pthread_create (clone3), as
// a cgo Go server's does.
func PathCgo(t testing.TB) string {
	t.Helper()
	path, err := build("target-cgo", true)
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
	built = map[string]error{}
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
