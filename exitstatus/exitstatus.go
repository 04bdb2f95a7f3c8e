package exitstatus

import (
	"os"
	"syscall"
)

// Shell is the status a shell reports for a finished process: its
// exit code, or 128+N when signal N killed it (159 is SIGSYS, a seccomp
// kill). It is -1 when ps is nil (the process never ran).
func Shell(ps *os.ProcessState) int {
	if ps == nil {
		return -1
	}
	if ws, ok := ps.Sys().(interface {
		Signaled() bool
		Signal() syscall.Signal
	}); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}
