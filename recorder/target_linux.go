package recorder

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/exitstatus"
)

// runTarget starts the command in cg and waits until it and everything
// it started have exited, or the recording is stopped.
func runTarget(ctx context.Context, cg *cgroup, opts Options) (int, error) {
	path, err := exec.LookPath(opts.Command[0])
	if err != nil {
		return -1, fmt.Errorf("start %s: %w", opts.Command[0], err)
	}
	fd, err := unix.Open(cg.path, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open cgroup: %w", err)
	}
	defer unix.Close(fd)
	cmd := &exec.Cmd{
		Path:   path,
		Args:   opts.Command,
		Dir:    opts.Dir,
		Env:    opts.Env,
		Stdin:  opts.Stdin,
		Stdout: opts.Stdout,
		Stderr: opts.Stderr,
		// Born inside the cgroup (clone3 CLONE_INTO_CGROUP): no window in
		// which the target runs unrecorded.
		SysProcAttr: &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd},
	}
	if err := cmd.Start(); err != nil {
		return -1, fmt.Errorf("start %s: %w", opts.Command[0], err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	stop := stopChan(ctx, opts.Duration)
	var waitErr error
	select {
	case waitErr = <-done:
		// Daemons fork and exit: keep recording what they left behind.
		if pop, err := cg.populated(); err == nil && pop && opts.Lingering != nil {
			opts.Lingering(exitstatus.Shell(cmd.ProcessState))
		}
		if err := cg.waitEmpty(stop); err != nil {
			return -1, err
		}
	case <-stop:
		cmd.Process.Signal(unix.SIGTERM)
		timeout := opts.StopTimeout
		if timeout == 0 {
			timeout = 5 * time.Second
		}
		select {
		case waitErr = <-done:
		case <-time.After(timeout):
			cg.kill()
			waitErr = <-done
		}
	}
	return exitStatus(cmd.ProcessState, waitErr)
}

// exitStatus maps a process end to a shell-style status: the exit code,
// or 128+signal.
func exitStatus(ps *os.ProcessState, err error) (int, error) {
	if ps == nil {
		return -1, err
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ps.ExitCode(), nil
}

func stopChan(ctx context.Context, d time.Duration) <-chan struct{} {
	if d <= 0 {
		return ctx.Done()
	}
	c := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
		close(c)
	}()
	return c
}

// follow records a cgroup sysrec did not start until it empties or the
// recording is stopped.
func follow(ctx context.Context, cg *cgroup, d time.Duration) error {
	return cg.waitEmpty(stopChan(ctx, d))
}
