package exitstatus

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"syscall"
)

// The statuses sysrec exits with that scripts can rely on. Commands that
// run a target (record, run, check) exit with the target's status
// instead (Shell), unless sysrec itself fails.
const (
	OK       = 0
	Finding  = 1   // diff: NEW allows more; check: violations seen
	Error    = 2   // bad input, bad usage, or sysrec could not do its job
	NoExec   = 126 // the target was found but cannot be executed
	NotFound = 127 // the target was not found
)

// Shell is the status a shell reports for a finished process: its exit
// code, or 128+N when signal N killed it (159 is SIGSYS, a seccomp
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

// OfError is the status of a command that failed with err: a target
// that could not be started answers as a shell would (NoExec, NotFound),
// one that ran and failed with its Shell status; anything else is Error.
func OfError(err error) int {
	var lookErr *exec.Error
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		return Shell(exitErr.ProcessState)
	case errors.As(err, &lookErr) && errors.Is(err, fs.ErrPermission):
		return NoExec
	case errors.As(err, &lookErr):
		return NotFound
	}
	return Error
}
