package pipeline

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestKernelFeatures: every feature is reported, present or with why
// not, and the kernel release is uname's.
func TestKernelFeatures(t *testing.T) {
	f := KernelFeatures()
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	if want := unix.ByteSliceToString(u.Release[:]); f["kernel"] != want {
		t.Errorf("kernel %q, want %q", f["kernel"], want)
	}
	for _, k := range []string{"btf", "cgroup2", "landlock", "seccomp_actions"} {
		if f[k] == "" {
			t.Errorf("%s not reported: %v", k, f)
		}
	}
	if !strings.Contains(f["seccomp_actions"], "kill_process") {
		t.Errorf("seccomp_actions %q lacks kill_process", f["seccomp_actions"])
	}
}
