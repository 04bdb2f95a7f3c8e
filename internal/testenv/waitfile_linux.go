package testenv

import (
	"time"

	"github.com/sysrec/sysrec/internal/waitfile"
)

// WaitFile waits until path exists, for at most timeout (waitfile.Wait:
// inotify, no polling).
func WaitFile(path string, timeout time.Duration) error {
	return waitfile.Wait(path, timeout)
}
