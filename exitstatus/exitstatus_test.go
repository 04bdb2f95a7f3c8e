package exitstatus

import (
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"testing"
)

func TestOfError(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for _, tc := range []struct {
		name string
		err  func() error
		want int
	}{
		{"exit code", func() error { return exec.Command(sh, "-c", "exit 7").Run() }, 7},
		{"killed by a signal", func() error { return exec.Command(sh, "-c", "kill -9 $$").Run() }, 128 + 9},
		{"not found on $PATH", func() error {
			_, err := exec.LookPath("sysrec-no-such-command")
			return &exec.Error{Name: "x", Err: err}
		}, NotFound},
		{"not executable", func() error {
			return fmt.Errorf("run: %w", &exec.Error{Name: "x", Err: fmt.Errorf("permission denied: %w", errPermission())})
		}, NoExec},
		{"anything else", func() error { return errors.New("load profile: bad") }, Error},
	} {
		if got := OfError(tc.err()); got != tc.want {
			t.Errorf("%s: OfError = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func errPermission() error { return fs.ErrPermission }
