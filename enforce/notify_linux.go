package enforce

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// struct seccomp_notif and struct seccomp_notif_resp (linux/seccomp.h).
type seccompNotif struct {
	ID    uint64
	PID   uint32
	Flags uint32
	Nr    int32
	Arch  uint32
	IP    uint64
	Args  [6]uint64
}

type seccompNotifResp struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

// MaxViolations bounds the distinct violations a supervisor keeps, so a
// target that makes endless distinct calls cannot exhaust memory; the
// calls beyond it are counted in Violations' dropped result.
const MaxViolations = 1 << 16

// NotifyOptions say how NotifyCommand answers calls the filter sends to
// user space (its user_notif actions).
type NotifyOptions struct {
	// Deny fails those calls with EPERM; otherwise they run.
	Deny bool
	// OnNew is called once per distinct violation (syscall and recorded
	// argument values, masked as a recording masks them), with the pid
	// that made it first. It runs on the supervisor's goroutine.
	OnNew func(s profiles.Sample, pid int)
}

// NotifyCommand is like Command, but the filter's user_notif actions go
// to a supervisor in this process instead of failing: each call is
// answered as opts says and aggregated into Violations.
func NotifyCommand(filter []byte, argv []string, opts NotifyOptions) (*Cmd, error) {
	c, err := Command(filter, argv)
	if err != nil {
		return nil, err
	}
	arch, err := linuxabi.Native()
	if err != nil {
		return nil, err
	}
	c.notify = &supervisor{opts: opts, arch: arch, index: map[sampleKey]int{}}
	return c, nil
}

// Violations returns the distinct calls the supervisor saw, each with
// its count, and how many calls were not kept because MaxViolations
// distinct ones already were. Call it after Run.
func (c *Cmd) Violations() (samples []profiles.Sample, dropped uint64) {
	if c.notify == nil {
		return nil, 0
	}
	c.notify.mu.Lock()
	defer c.notify.mu.Unlock()
	return append([]profiles.Sample(nil), c.notify.samples...), c.notify.dropped
}

type sampleKey struct {
	arch string
	nr   int
	args [6]uint64
}

type supervisor struct {
	opts    NotifyOptions
	arch    *linuxabi.Arch
	mu      sync.Mutex
	index   map[sampleKey]int
	samples []profiles.Sample
	dropped uint64
}

// takeListener reads the listener's fd number from the helper and copies
// the listener with pidfd_getfd (Linux 5.6). EOF means the helper died
// before installing the filter.
func takeListener(pid int, ready io.Reader) (int, error) {
	// One short write (atomic on a pipe); the helper keeps its end open
	// until it execs, so this does not wait for EOF.
	b := make([]byte, 16)
	n, err := ready.Read(b)
	if err != nil && err != io.EOF {
		return -1, fmt.Errorf("read listener from helper: %w", err)
	}
	fd, err := strconv.Atoi(strings.TrimSpace(string(b[:n])))
	if err != nil {
		return -1, errors.New("helper exited before installing the filter")
	}
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return -1, fmt.Errorf("pidfd_open: %w", err)
	}
	defer unix.Close(pidfd)
	l, err := unix.PidfdGetfd(pidfd, fd, 0)
	if err != nil {
		return -1, fmt.Errorf("pidfd_getfd: %w", err)
	}
	return l, nil
}

// serve answers notifications until no task is left under the filter.
func (s *supervisor) serve(listener int) error {
	defer unix.Close(listener)
	answer := unix.Errno(0)
	if s.opts.Deny {
		answer = unix.EPERM
	}
	for {
		fds := []unix.PollFd{{Fd: int32(listener), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return fmt.Errorf("poll: %w", err)
		}
		if fds[0].Revents&unix.POLLIN == 0 {
			return nil // POLLHUP: every task under the filter is gone
		}
		var n seccompNotif
		if err := ioctl(listener, unix.SECCOMP_IOCTL_NOTIF_RECV, unsafe.Pointer(&n)); err != nil {
			if errors.Is(err, unix.EINTR) || errors.Is(err, unix.ENOENT) {
				continue // ENOENT: the task died before we read it
			}
			return fmt.Errorf("receive: %w", err)
		}
		s.record(int(n.PID), linuxabi.SeccompData{Nr: n.Nr, Arch: n.Arch, Args: n.Args})
		resp := seccompNotifResp{ID: n.ID}
		if answer == 0 {
			resp.Flags = unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE
		} else {
			resp.Error = -int32(answer)
		}
		if err := ioctl(listener, unix.SECCOMP_IOCTL_NOTIF_SEND, unsafe.Pointer(&resp)); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("respond: %w", err)
		}
	}
}

// record aggregates one call as a recording would: by syscall and its
// recorded argument values, masked by the argument table; a call of the
// compat ABI (i386 on x86_64) as a sample of its arch.
func (s *supervisor) record(pid int, d linuxabi.SeccompData) {
	sample := profiles.Sample{Nr: int(d.Nr)}
	if a, ok := linuxabi.ArchByAudit(d.Arch); ok && (a == s.arch || a.Name == s.arch.Compat) {
		if a != s.arch {
			sample.Arch = a.Name
		}
		sample.Name = a.SyscallName(int(d.Nr))
		sample.Args, sample.Recorded = a.MaskArgs(sample.Name, d.Args)
	}
	k := sampleKey{sample.Arch, sample.Nr, sample.Args}
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.index[k]; ok {
		s.samples[i].Count++
		return
	}
	if len(s.samples) >= MaxViolations {
		s.dropped++
		return
	}
	sample.Count = 1
	s.index[k] = len(s.samples)
	s.samples = append(s.samples, sample)
	if s.opts.OnNew != nil {
		s.opts.OnNew(sample, pid)
	}
}

func ioctl(fd int, req uint, arg unsafe.Pointer) error {
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(arg))
	if errno != 0 {
		return errno
	}
	return nil
}
