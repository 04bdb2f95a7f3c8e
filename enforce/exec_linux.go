package enforce

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"syscall"
)

// helperArg0 marks the re-exec'd helper: argv[0] rather than an
// environment variable, so nothing leaks into the target's environment.
const helperArg0 = "sysrec-enforce-helper"

// filterFD is where the helper finds the filter (the first ExtraFile).
const filterFD = 3

// Command returns a command that runs argv under the raw filter: sysrec
// re-executes itself as a small helper that installs the filter and then
// execs argv at once (see RunHelper). The target's stdio, environment
// and working directory are the command's.
func Command(raw []byte, argv []string) (*exec.Cmd, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("run: no command")
	}
	if _, err := decode(raw); err != nil {
		return nil, err
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", argv[0], err)
	}
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find sysrec executable: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("pass filter: %w", err)
	}
	// The filter is at most 32 KiB, inside the pipe buffer: the write
	// never blocks, so no goroutine has to outlive this call.
	if _, err := w.Write(raw); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("pass filter: %w", err)
	}
	w.Close()
	cmd := &exec.Cmd{
		Path:       self,
		Args:       append([]string{helperArg0, path}, argv...),
		ExtraFiles: []*os.File{r},
	}
	return cmd, nil
}

// IsHelper reports whether this process was started by Command. The
// program's main must call RunHelper first thing when it is.
func IsHelper() bool { return len(os.Args) > 2 && os.Args[0] == helperArg0 }

// RunHelper installs the filter passed by Command and execs the target.
// It returns only on failure.
//
// The filter goes on the calling thread only, not with TSYNC: execve
// keeps the calling thread's filter and ends every other thread, so the
// target runs fully filtered, while the Go runtime's other threads (which
// may call futex or nanosleep, absent from the target's profile) never
// run under a filter learned from a different program. Between install
// and execve this thread makes no syscall but execve (and rt_sigreturn
// should a signal arrive), so the profile must allow execve.
func RunHelper() error {
	if !IsHelper() {
		return ErrNotHelper
	}
	f := os.NewFile(filterFD, "filter")
	raw, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("read filter: %w", err)
	}
	path, argv := os.Args[1], os.Args[2:]
	runtime.LockOSThread()
	if err := Install(raw, 0); err != nil {
		return err
	}
	err = syscall.Exec(path, argv, os.Environ())
	return fmt.Errorf("exec %s: %w", path, err)
}
