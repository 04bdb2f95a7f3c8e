package testenv

import (
	"errors"
	"strings"
	"syscall"
	"testing"
)

// SeccompLog returns a function that gives the kernel's seccomp records
// (audit type=1326: which process, which syscall) logged since
// SeccompLog was called, so a test whose program was killed by a filter
// can say by what. It reads /dev/kmsg; where that cannot be opened the
// function says so instead.
func SeccompLog(t testing.TB) func() string {
	t.Helper()
	// Raw reads: an os.File would wait in the poller for the next
	// record instead of returning EAGAIN at the end.
	fd, err := syscall.Open("/dev/kmsg", syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return func() string { return "(no kernel log: " + err.Error() + ")" }
	}
	t.Cleanup(func() { syscall.Close(fd) })
	// Start after the records already there.
	if _, err := syscall.Seek(fd, 0, 2); err != nil {
		return func() string { return "(no kernel log: " + err.Error() + ")" }
	}
	return func() string {
		var out []string
		buf := make([]byte, 8192)
		for {
			n, err := syscall.Read(fd, buf)
			if errors.Is(err, syscall.EPIPE) {
				continue // records were overwritten; read on
			}
			if err != nil || n <= 0 {
				break // EAGAIN: nothing more
			}
			rec := string(buf[:n])
			if _, msg, ok := strings.Cut(rec, ";"); ok && strings.Contains(msg, "type=1326") {
				out = append(out, strings.TrimSpace(msg))
			}
		}
		if len(out) == 0 {
			return "(no seccomp record in the kernel log since the test began)"
		}
		return "seccomp records since the test began:\n" + strings.Join(out, "\n")
	}
}
