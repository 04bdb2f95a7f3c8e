package enforce

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/linuxabi"
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

// Notification is a syscall the filter sent to the supervisor.
type Notification struct {
	PID  int
	Data linuxabi.SeccompData
}

// NotifyCommand is like Command, but the filter's user_notif actions are
// answered by Supervise.
func NotifyCommand(raw []byte, argv []string) (*Cmd, error) {
	return command(modeNotify, raw, argv)
}

// Supervise takes the started helper's listener, lets it exec the target
// and answers every notification with handle's errno (0: let the call
// run). It returns when no filtered task is left.
func (c *Cmd) Supervise(handle func(Notification) (errno unix.Errno)) error {
	if c.sync == nil {
		return errors.New("supervise: command was not made by NotifyCommand")
	}
	defer c.sync.Close()
	listener, err := grabListener(c.Process.Pid)
	if err != nil {
		return err
	}
	defer unix.Close(listener)
	if _, err := c.sync.Write([]byte{1}); err != nil {
		return fmt.Errorf("supervise: wake helper: %w", err)
	}
	// The helper's own calls between install and exec (read, close,
	// execve) are not the target's: let them through unreported.
	helper := c.Process.Pid
	self, _ := os.Executable()
	inHelper := func(pid int) bool {
		if pid != helper {
			return false
		}
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if err != nil || exe != self {
			helper = 0 // exec'd: from now on every call is the target's
			return false
		}
		return true
	}
	for {
		fds := []unix.PollFd{{Fd: int32(listener), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return fmt.Errorf("supervise: poll: %w", err)
		}
		if fds[0].Revents&unix.POLLIN == 0 {
			return nil // POLLHUP: every task under the filter is gone
		}
		var n seccompNotif
		if err := ioctl(listener, unix.SECCOMP_IOCTL_NOTIF_RECV, unsafe.Pointer(&n)); err != nil {
			if errors.Is(err, unix.EINTR) || errors.Is(err, unix.ENOENT) {
				continue // ENOENT: the task died before we read it
			}
			return fmt.Errorf("supervise: receive: %w", err)
		}
		var errno unix.Errno
		if !inHelper(int(n.PID)) {
			errno = handle(Notification{PID: int(n.PID), Data: linuxabi.SeccompData{Nr: n.Nr, Arch: n.Arch, Args: n.Args}})
		}
		resp := seccompNotifResp{ID: n.ID}
		if errno == 0 {
			resp.Flags = unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE
		} else {
			resp.Error = -int32(errno)
		}
		if err := ioctl(listener, unix.SECCOMP_IOCTL_NOTIF_SEND, unsafe.Pointer(&resp)); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("supervise: respond: %w", err)
		}
	}
}

func ioctl(fd int, req uint, arg unsafe.Pointer) error {
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(arg))
	if errno != 0 {
		return errno
	}
	return nil
}

// grabListener finds the helper's seccomp listener among its fds and
// copies it with pidfd_getfd (Linux 5.6).
func grabListener(pid int) (int, error) {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return -1, fmt.Errorf("supervise: pidfd_open: %w", err)
	}
	defer unix.Close(pidfd)
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			link, err := os.Readlink(filepath.Join(dir, e.Name()))
			if err != nil || link != "anon_inode:seccomp notify" {
				continue
			}
			var fd int
			if _, err := fmt.Sscan(e.Name(), &fd); err != nil {
				continue
			}
			l, err := unix.PidfdGetfd(pidfd, fd, 0)
			if err != nil {
				return -1, fmt.Errorf("supervise: pidfd_getfd: %w", err)
			}
			return l, nil
		}
		if err := unix.PidfdSendSignal(pidfd, 0, nil, 0); err != nil {
			return -1, fmt.Errorf("supervise: helper exited before installing the filter")
		}
		time.Sleep(time.Millisecond)
	}
	return -1, errors.New("supervise: no seccomp listener appeared in the helper")
}
