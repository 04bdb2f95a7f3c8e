package testenv

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/internal/auditnl"
)

// Audit turns the kernel's audit on or off (the kernel writes Landlock's
// denial records only while it is on) and restores the previous state
// when the test ends. Audit is one switch for the whole host and go test
// runs packages at once, so the test holds AuditLock until then: another
// test's restore cannot turn it off under this one.
func Audit(t testing.TB, on bool) {
	t.Helper()
	unlock, err := AuditLock()
	if err != nil {
		t.Fatal(err)
	}
	prev, err := auditnl.SetEnabled(on)
	if err != nil {
		unlock()
		t.Fatalf("set audit: %v", err)
	}
	t.Cleanup(func() {
		if _, err := auditnl.SetEnabled(prev); err != nil {
			t.Errorf("restore audit: %v", err)
		}
		unlock()
	})
}

// auditLockPath is the lock every test that switches audit holds: a
// file lock, so that test processes of different packages wait for each
// other. The file stays (as lock files in /run/lock do); the lock goes
// with the process.
const auditLockPath = "/run/lock/sysrec-test-audit"

var auditMu sync.Mutex

// AuditLock waits until no other test (in this process or another)
// switches audit, and returns what lets the next one in.
func AuditLock() (unlock func(), err error) {
	auditMu.Lock()
	f, err := os.OpenFile(auditLockPath, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		auditMu.Unlock()
		return nil, fmt.Errorf("lock audit: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		auditMu.Unlock()
		return nil, fmt.Errorf("lock audit: %w", err)
	}
	return func() {
		f.Close() // releases the flock
		auditMu.Unlock()
	}, nil
}
