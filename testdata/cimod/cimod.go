// Package cimod is a small module whose `go test` run sysrec records in
// its CI-workflow test (cmd/sysrec/ci_linux_test.go).
package cimod

import (
	"os"
	"strings"
)

// Hostname reads the kernel's host name.
func Hostname() (string, error) {
	b, err := os.ReadFile("/proc/sys/kernel/hostname")
	return strings.TrimSpace(string(b)), err
}
