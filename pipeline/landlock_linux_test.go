package pipeline

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/enforce"
	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/profiles"
)

// TestLandlockExplained: with audit on, a file the profile's Landlock
// rules do not grant is refused (EACCES, the same syscalls pass seccomp)
// and Run names the path and the right.
func TestLandlockExplained(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.Audit(t, true)
	p := &profiles.Profile{Version: 2, Arch: []string{"x86_64"}, DefaultAction: profiles.ActAllow,
		Filesystem: &profiles.Filesystem{Rules: []profiles.PathRule{
			{Path: "/usr", Access: []string{"execute", "read_file", "read_dir"}},
			{Path: "/etc/ld.so.cache", Access: []string{"read_file"}},
			{Path: "/etc/hostname", Access: []string{"read_file"}},
		}}}
	var out bytes.Buffer
	ex, err := Run(context.Background(), p, []string{"cat", "/etc/hostname", "/etc/passwd"}, RunOptions{Stdio: Stdio{Out: &out, Err: &out}, Landlock: enforce.LandlockRequired})
	if err != nil {
		t.Fatal(err)
	}
	if ex.Status == 0 || !strings.Contains(out.String(), "/etc/passwd: Permission denied") {
		t.Fatalf("cat /etc/passwd under the rules: status %d\n%s", ex.Status, out.Bytes())
	}
	found := false
	for _, d := range ex.Landlock {
		if d.Path == "/etc/passwd" && strings.Contains(d.Blockers, "read_file") {
			found = true
		}
	}
	if !found {
		t.Errorf("no denial of read_file on /etc/passwd reported: %+v", ex.Landlock)
	}
}
