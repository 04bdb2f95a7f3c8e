package enforce

import (
	"slices"
	"syscall"
	"testing"
)

// TestExitNotes: a seccomp kill names its call, or says why it cannot;
// Landlock refusals follow.
func TestExitNotes(t *testing.T) {
	for _, tc := range []struct {
		name string
		exit Exit
		want []string
	}{
		{"exited", Exit{Status: 3}, nil},
		{"seccomp kill", Exit{Signal: syscall.SIGSYS, Seccomp: &Violation{Arch: 0xc000003e, Nr: 39}},
			[]string{"app killed by SIGSYS (seccomp): syscall getpid (nr 39, x86_64) is not allowed by the profile"}},
		{"no record", Exit{Signal: syscall.SIGSYS},
			[]string{"app killed by SIGSYS (seccomp): the kernel log has no seccomp record of it within 3s (rate-limited, read by auditd, or kill_process not in /proc/sys/kernel/seccomp/actions_logged)"}},
		{"killed", Exit{Signal: syscall.SIGKILL, Landlock: []LandlockDenial{{Blockers: "fs.read_file", Path: "/etc/shadow"}}},
			[]string{"app killed by SIGKILL", "landlock refused read_file on /etc/shadow"}},
	} {
		if got := tc.exit.Notes("app"); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
