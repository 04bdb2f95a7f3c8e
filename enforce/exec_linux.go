package enforce

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// helperArg0 marks the re-exec'd helper: argv[0] rather than an
// environment variable, so nothing leaks into the target's environment.
const helperArg0 = "sysrec-enforce-helper"

// Helper modes (argv[1]).
const (
	modeExec   = "exec"   // install, exec
	modeNotify = "notify" // install with a listener, wait for the supervisor, exec
)

// The helper's extra files.
const (
	filterFD = 3 // the raw filter
	syncFD   = 4 // notify: a byte arrives once the supervisor holds the listener
)

// ErrNotHelper is returned by RunHelper when the process was not started
// as the enforcement helper.
var ErrNotHelper = errors.New("not the enforcement helper")

// Cmd is a target command that will run under a filter.
type Cmd struct {
	*exec.Cmd
	extra []*os.File // closed in the parent after Start
	sync  *os.File   // notify: the write end of syncFD
}

// Command returns a command that runs argv under the raw filter: sysrec
// re-executes itself as a small helper that installs the filter and then
// execs argv at once (see RunHelper). Set its stdio, then Start and Wait.
func Command(raw []byte, argv []string) (*Cmd, error) {
	return command(modeExec, raw, argv)
}

func command(mode string, raw []byte, argv []string) (*Cmd, error) {
	if len(argv) == 0 {
		return nil, errors.New("no command")
	}
	if _, err := decode(raw); err != nil {
		return nil, err
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find sysrec executable: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("pass filter: %w", err)
	}
	// At most 32 KiB, inside the pipe buffer: the write never blocks.
	_, err = w.Write(raw)
	w.Close()
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("pass filter: %w", err)
	}
	c := &Cmd{
		Cmd:   &exec.Cmd{Path: self, Args: append([]string{helperArg0, mode, path}, argv...)},
		extra: []*os.File{r},
	}
	if mode == modeNotify {
		sr, sw, err := os.Pipe()
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("sync with helper: %w", err)
		}
		c.extra = append(c.extra, sr)
		c.sync = sw
	}
	c.ExtraFiles = c.extra
	return c, nil
}

// Start starts the helper and releases the parent's copies of its files.
func (c *Cmd) Start() error {
	err := c.Cmd.Start()
	for _, f := range c.extra {
		f.Close()
	}
	if err != nil && c.sync != nil {
		c.sync.Close()
	}
	return err
}

// IsHelper reports whether this process was started by Command. The
// program's main must call RunHelper first thing when it is.
func IsHelper() bool { return len(os.Args) > 3 && os.Args[0] == helperArg0 }

// RunHelper installs the filter passed by Command and execs the target.
// It returns only on failure.
//
// The filter goes on the calling thread only, not with TSYNC: execve
// keeps the calling thread's filter and ends every other thread, so the
// target runs fully filtered, while the Go runtime's other threads (which
// may call futex or nanosleep, absent from the target's profile) never
// run under a filter learned from a different program. Between install
// and execve this thread makes no syscall but execve (and rt_sigreturn
// should a signal arrive; in notify mode also a read and a close, which
// the supervisor answers), so the profile must allow execve.
func RunHelper() error {
	if !IsHelper() {
		return ErrNotHelper
	}
	mode, path, argv := os.Args[1], os.Args[2], os.Args[3:]
	f := os.NewFile(filterFD, "filter")
	raw, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("read filter: %w", err)
	}
	runtime.LockOSThread()
	switch mode {
	case modeExec:
		if err := Install(raw, 0); err != nil {
			return err
		}
	case modeNotify:
		// The listener is close-on-exec; the supervisor takes its own copy
		// with pidfd_getfd and then wakes us.
		if _, err := install(raw, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER); err != nil {
			return err
		}
		var b [1]byte
		if _, err := unix.Read(syncFD, b[:]); err != nil {
			return fmt.Errorf("wait for supervisor: %w", err)
		}
		unix.Close(syncFD)
	default:
		return fmt.Errorf("unknown helper mode %q", mode)
	}
	err = syscall.Exec(path, argv, os.Environ())
	return fmt.Errorf("exec %s: %w", path, err)
}
