package waitfile

import (
	"errors"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// Wait waits until path exists, for at most timeout, woken by
// inotify events on its directory (a file created, or renamed into place
// as atomic writes do) rather than by polling.
func Wait(path string, timeout time.Duration) error {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if _, err := unix.InotifyAddWatch(fd, filepath.Dir(path), unix.IN_CREATE|unix.IN_MOVED_TO|unix.IN_CLOSE_WRITE); err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 4096)
	for {
		// Checked after the watch is in place: no event can be missed.
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return errors.New(path + " did not appear within " + timeout.String())
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, int(left.Milliseconds())+1); err != nil && !errors.Is(err, unix.EINTR) {
			return err
		}
		for {
			if _, err := unix.Read(fd, buf); err != nil {
				break // EAGAIN: events drained
			}
		}
	}
}
