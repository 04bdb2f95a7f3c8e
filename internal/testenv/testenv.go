// Package testenv decides whether a test that needs root, BPF or an
// external tool runs or skips. With SYSREC_TEST_PRIVILEGED=1 (CI) a
// missing requirement fails the test instead of skipping it, so nothing
// is silently left untested.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Privileged reports whether missing requirements must fail.
func Privileged() bool { return os.Getenv("SYSREC_TEST_PRIVILEGED") == "1" }

func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if Privileged() {
		t.Fatalf("SYSREC_TEST_PRIVILEGED=1 but "+format, args...)
	}
	t.Skipf(format, args...)
}

// RequireRoot skips (or fails) unless the test runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		missing(t, "test needs root")
	}
}

// RequireTool skips (or fails) unless name is on PATH, and returns its path.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		missing(t, "test needs %s (apt-get install it)", name)
	}
	return path
}
