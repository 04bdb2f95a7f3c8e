package testenv

import (
	"testing"

	"github.com/sysrec/sysrec/internal/auditnl"
)

// Audit turns the kernel's audit on or off (the kernel writes Landlock's
// denial records only while it is on) and restores the previous state
// when the test ends.
func Audit(t testing.TB, on bool) {
	t.Helper()
	prev, err := auditnl.SetEnabled(on)
	if err != nil {
		t.Fatalf("set audit: %v", err)
	}
	t.Cleanup(func() {
		if _, err := auditnl.SetEnabled(prev); err != nil {
			t.Errorf("restore audit: %v", err)
		}
	})
}
