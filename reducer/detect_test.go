package reducer

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/sysrec/sysrec/profiles"
)

// TestDetectRuntime: the executable a target names is read only when it
// is a regular file; a FIFO (which would block the read for good), a
// missing file and no file at all have no runtime.
func TestDetectRuntime(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		exe, want string
	}{
		{self, RuntimeGo},
		{fifo, RuntimeNone},
		{filepath.Join(t.TempDir(), "missing"), RuntimeNone},
		{"", RuntimeNone},
	} {
		if got := DetectRuntime(tc.exe); got != tc.want {
			t.Errorf("DetectRuntime(%q) = %q, want %q", tc.exe, got, tc.want)
		}
	}
}

func TestGoSignature(t *testing.T) {
	urg := profiles.Sample{Name: "rt_sigaction", Args: [6]uint64{23}, Recorded: [6]bool{true}, Exe: "app.test"}
	alt := profiles.Sample{Name: "sigaltstack", Exe: "app.test"}
	int80 := urg
	int80.Arch = "i386"
	for _, tc := range []struct {
		name    string
		samples []profiles.Sample
		exe     string
		want    bool
	}{
		{"SIGURG handler and signal stacks", []profiles.Sample{urg, alt}, "", true},
		{"kept executables only", []profiles.Sample{urg, alt}, "*.test", true},
		{"another executable's", []profiles.Sample{urg, alt}, "sh", false},
		{"no SIGURG handler", []profiles.Sample{alt}, "", false},
		{"an i386 call says nothing", []profiles.Sample{int80, alt}, "", false},
	} {
		rec := &profiles.Recording{Arch: "x86_64", Samples: tc.samples}
		if got := GoSignature(rec, tc.exe); got != tc.want {
			t.Errorf("%s: GoSignature = %v, want %v", tc.name, got, tc.want)
		}
	}
}
